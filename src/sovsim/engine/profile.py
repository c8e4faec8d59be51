"""Where a run's time goes, step by step (``sovsim run SCENARIO --profile``).

The month is one compiled call (``schedule.month_step``), and the profile times that very
call, not a copy of it: the month reads the processor's cycle counter (``compiled.cycles``,
LLVM's ``readcyclecounter``, rdtsc on x86) between its steps and adds each step's cycles to
``Scratch.ticks`` when the run is profiled; an ordinary run's ``ticks`` is empty and the month
pays one test a step. The ledger's booking after each month is counted the same way. A
profiled run is therefore the fused run (``simulation.run_months``), its numbers the same
(tests/test_profile.py). The shares are of the counted cycles; the milliseconds are the shares
of the run's wall time (the best of ``repeat`` runs; the rest, outside the months, is the
set-up and the records, shown on its own line). The step order and names are
``schedule.STEPS`` (the pattern of starsim's ``Loop``: the plan is data that can be printed
and timed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sovsim import calendar
from sovsim.engine import accounts, invariants, schedule
from sovsim.engine.packed import instrument_records, memory, param_record
from sovsim.engine.simulation import Exogenous, Januaries, Ledger, run_months
from sovsim.inputs import load_inputs
from sovsim.mechanisms.context import Inputs
from sovsim.mechanisms.demography import unit_labels
from sovsim.params import ParameterSet
from sovsim.scenario import Scenario
from sovsim.state import initial_state


@dataclass
class Row:
    step: str
    mechanism: str
    calls: int
    cycles: int
    share: float  # of the counted cycles
    seconds: float  # the share of the months' wall time


@dataclass
class Profile:
    rows: list[Row]
    months_seconds: float  # the months' wall time (the best of ``repeat`` runs)
    run_seconds: float  # the whole run: set-up, months, records
    records: dict[str, np.ndarray]  # the profiled run's records (equal to simulate's)


def profile(scenario: Scenario, p: ParameterSet, inputs: Inputs | None = None,
            repeat: int = 3) -> Profile:
    """Run ``scenario`` ``repeat`` times with the month's steps counted (see the module's
    doc); the counts of the fastest run."""
    inputs = inputs or load_inputs()
    best = None
    for _ in range(max(repeat, 1)):
        got = _profiled_run(scenario, p, inputs)
        if best is None or got[1] < best[1]:
            best = got
    ticks, months_s, run_s, records = best
    total = max(int(ticks.sum()), 1)
    names = [(ph.name, ph.mechanism) for ph in schedule.STEPS] + [("ledger", "engine.accounts")]
    rows = [Row(n, m, calendar.N_MONTHS, int(c), c / total, months_s * c / total)
            for (n, m), c in zip(names, ticks)]
    return Profile(rows, months_s, run_s, records)


def _profiled_run(scenario, p, inputs):
    clock = time.perf_counter
    t0 = clock()
    POL = scenario.cached("instrument_records", lambda: instrument_records(scenario.timeline()))
    pv = p.values()
    h, macro = initial_state(pv)
    mem = memory()
    lab = h.labelled(unit_labels)
    sc = schedule.scratch(len(h), lab, profiled=True)
    ledger = accounts.Ledger(calendar.N_MONTHS)
    n_years = calendar.N_MONTHS // 12
    jan = Januaries(np.empty((n_years, *h.values.shape)),
                    np.empty((n_years, len(macro.values.dtype.names))),
                    np.empty((n_years, mem.dtype.itemsize // 8)),
                    macro.values.view(np.float64), mem.view(np.float64))
    t1 = clock()
    month, code = run_months(
        schedule.State(h.values, macro.values, mem), lab, param_record(pv), POL,
        Exogenous(inputs.weather_class, inputs.world_grain_price, inputs.first_year), sc,
        Ledger(ledger.regional, ledger.scalars), jan, 0, calendar.N_MONTHS)
    t2 = clock()
    invariants.raise_for(code, sc.err, month, h, macro)
    records = ledger.records(pv)
    return sc.ticks.copy(), t2 - t1, clock() - t0, records


def report(prof: Profile) -> str:
    """The profile as a table of text."""
    lines = [f"{'step':<18} {'mechanism':<38} {'months':>6} {'ms':>8} {'share':>7}"]
    for r in prof.rows:
        lines.append(f"{r.step:<18} {r.mechanism:<38} {r.calls:>6} {r.seconds * 1e3:>8.2f} "
                     f"{r.share:>7.1%}")
    lines.append(f"{'(outside months)':<18} {'set-up, records':<38} {'':>6} "
                 f"{(prof.run_seconds - prof.months_seconds) * 1e3:>8.2f}")
    lines.append(f"the months {prof.months_seconds * 1e3:.2f} ms, the run "
                 f"{prof.run_seconds * 1e3:.2f} ms (the fastest of several; shares by the "
                 "processor's cycle counter)")
    return "\n".join(lines)
