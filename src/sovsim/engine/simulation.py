"""The run loop: initial state, 240 months of the schedule, monthly records."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from sovsim import calendar
from sovsim.engine import accounts, schedule
from sovsim.inputs import load_inputs
from sovsim.mechanisms.context import Inputs, Step
from sovsim.mechanisms.policy import instruments_by_month
from sovsim.mechanisms.prices import terms_of_trade
from sovsim.params import ParameterSet
from sovsim.scenario import Scenario
from sovsim.state import HouseholdTable, MacroState, initial_state


def simulate(scenario: Scenario, p: ParameterSet, inputs: Inputs | None = None
             ) -> dict[str, np.ndarray]:
    """Run ``scenario`` 1921-01..1940-12; return each variable as (months, 1 + regions)."""
    return simulate_traced(scenario, p, inputs)[0]


@dataclass
class Trace:
    """A finished run, kept so that a later run with the same parameters and inputs can start
    where the two scenarios' instruments first differ instead of in January 1921: the state
    at the start of each January, and the month-by-month ledger. A run resumed from a trace
    gives the same numbers, bit for bit, as a run from the start (tests/test_model.py)."""

    key: tuple
    timeline: np.ndarray  # every instrument side by side, (months, columns): stacked_timeline
    ledger: accounts.Ledger
    checkpoints: dict[int, tuple[HouseholdTable, MacroState, schedule.Memory]]

    def shared_months(self, timeline: np.ndarray) -> int:
        """How many months from January 1921 the instruments of ``timeline`` (a scenario's
        ``stacked_timeline``) equal this run's."""
        differs = np.flatnonzero((timeline != self.timeline).any(axis=1))
        return int(differs[0]) if differs.size else calendar.N_MONTHS


def stacked_timeline(scenario: Scenario) -> np.ndarray:
    """The scenario's instruments side by side in one (months, columns) array, in the order of
    the catalogue: one comparison tells the first month two scenarios part (made once per
    scenario)."""
    def make() -> np.ndarray:
        tl = scenario.timeline()
        out = np.concatenate([tl[name] for name in sorted(tl)], axis=1)
        out.setflags(write=False)
        return out
    return scenario.cached("stacked_timeline", make)


def trace_key(p: ParameterSet, inputs: Inputs) -> tuple:
    return (p.digest(), id(inputs))


def simulate_traced(scenario: Scenario, p: ParameterSet, inputs: Inputs | None = None,
                    resume: Trace | None = None) -> tuple[dict[str, np.ndarray], Trace]:
    """:func:`simulate`, also returning the run's :class:`Trace`; given ``resume`` (a trace
    of a run with the same parameters and inputs), start from its last January checkpoint
    before the first month where the scenarios' instruments differ."""
    inputs = inputs or load_inputs()
    timeline = scenario.timeline()
    instruments = scenario.cached("instruments_by_month", lambda: instruments_by_month(timeline))
    stacked = stacked_timeline(scenario)
    pv = p.values()
    key = trace_key(p, inputs)
    start = 0
    if resume is not None and resume.key == key:
        shared = resume.shared_months(stacked)
        start = max((m for m in resume.checkpoints if m <= shared), default=0)
    if start > 0:
        h0, macro0, mem0 = resume.checkpoints[start]
        h, macro, mem = h0.copy(), macro0.copy(), copy.copy(mem0)
        ledger = accounts.Ledger(calendar.N_MONTHS, len(h))
        ledger.units[:start] = resume.ledger.units[:start]
        ledger.scalars[:start] = resume.ledger.scalars[:start]
        checkpoints = {m: c for m, c in resume.checkpoints.items() if m <= start}
    else:
        h, macro = initial_state(pv)
        mem = schedule.Memory()
        ledger = accounts.Ledger(calendar.N_MONTHS, len(h))
        checkpoints = {}
    per_run: dict = {}  # what the mechanisms derive from the parameters alone, once
    for month in range(start, calendar.N_MONTHS):
        if month % 12 == 0 and month not in checkpoints:
            checkpoints[month] = (h.copy(), macro.copy(), copy.copy(mem))
        s = Step(month, instruments[month], pv, inputs, per_run)
        out = schedule.step(h, macro, s, mem)
        ledger.book(month, h, macro, out, terms_of_trade(macro, s))
    return ledger.records(h, pv), Trace(key, stacked, ledger, checkpoints)
