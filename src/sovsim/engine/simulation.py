"""The run loop: initial state, 240 months of the schedule, monthly records.

The loop is compiled with the month (``run_months``): a coarse run of 240 months is one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sovsim import calendar
from sovsim.compiled import kernel, lap, parallel_kernel, prange, tick
from sovsim.engine import accounts, invariants, schedule
from sovsim.engine.flows import N_SCALAR_OUT, N_UNIT_OUT
from sovsim.engine.packed import MEMORY_DTYPE, instrument_records, memory, param_record
from sovsim.inputs import load_inputs
from sovsim.mechanisms.context import Inputs
from sovsim.mechanisms.demography import unit_labels
from sovsim.params import ParameterSet
from sovsim.scenario import Scenario
from sovsim.state import HouseholdTable, MacroState, initial_state
from sovsim.state.table import MACRO_DTYPE

N_YEARS = calendar.N_MONTHS // 12


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
    h0: HouseholdTable  # the units (labels) of the run
    januaries: tuple[np.ndarray, np.ndarray, np.ndarray]  # state block, macro, memory by year
    started: int = 0  # the month this run began from (a January; 0 unless resumed)

    def shared_months(self, timeline: np.ndarray) -> int:
        """How many months from January 1921 the instruments of ``timeline`` (a scenario's
        ``stacked_timeline``) equal this run's."""
        differs = np.flatnonzero((timeline != self.timeline).any(axis=1))
        return int(differs[0]) if differs.size else calendar.N_MONTHS

    @property
    def checkpoints(self) -> tuple[int, ...]:
        """The months whose starting state is kept (every January)."""
        return tuple(range(0, calendar.N_MONTHS, 12))


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
    POL = scenario.cached("instrument_records", lambda: instrument_records(scenario.timeline()))
    stacked = stacked_timeline(scenario)
    pv = p.values()
    key = trace_key(p, inputs)
    start = 0
    if resume is not None and resume.key == key:
        start = min(resume.shared_months(stacked) // 12, N_YEARS - 1) * 12
    if start > 0:  # the January state of the trace, and its ledger before it
        year = start // 12
        hs, ms, es = (a.copy() for a in resume.januaries)
        h = resume.h0.with_values(hs[year].copy())
        macro = MacroState(ms[year].copy().view(MACRO_DTYPE).view(np.recarray))
        mem = es[year].copy().view(MEMORY_DTYPE).view(np.recarray)
        ledger = accounts.Ledger(calendar.N_MONTHS)
        ledger.regional[:start] = resume.ledger.regional[:start]
        ledger.scalars[:start] = resume.ledger.scalars[:start]
    else:
        h, macro = initial_state(pv)
        mem = memory()
        ledger = accounts.Ledger(calendar.N_MONTHS)
        hs = np.empty((N_YEARS, *h.values.shape))
        ms = np.empty((N_YEARS, len(macro.values.dtype.names)))
        es = np.empty((N_YEARS, mem.dtype.itemsize // 8))
    lab = h.labelled(unit_labels)
    sc = schedule.scratch(len(h), lab)
    month, code = run_months(
        schedule.State(h.values, macro.values, mem), lab, param_record(pv), POL,
        Exogenous(inputs.weather_class, inputs.world_grain_price, inputs.first_year), sc,
        Ledger(ledger.regional, ledger.scalars),
        Januaries(hs, ms, es, macro.values.view(np.float64), mem.view(np.float64)), start,
        calendar.N_MONTHS)
    invariants.raise_for(code, sc.err, month, h, macro)
    return ledger.records(pv), Trace(key, stacked, ledger, h, (hs, ms, es), start)


def simulate_batch(scenario: Scenario, ps: list[ParameterSet],
                   weathers: list[np.ndarray | None] | None = None,
                   inputs: Inputs | None = None, threads: bool = True
                   ) -> list[dict[str, np.ndarray]]:
    """Runs of ``scenario`` with each parameter set of ``ps`` (and, where given, its weather
    classes (years, regions) instead of ``inputs``'): the members of an ensemble, run as one
    compiled call and booked as one set of arrays, on numba's threads (or, without
    ``threads``, on the calling thread). Each run's records are exactly those :func:`simulate`
    gives it (tests/test_ensemble.py)."""
    rec = simulate_stacked(scenario, ps, weathers, inputs, threads)
    return [{name: arr[m] for name, arr in rec.items()} for m in range(len(ps))]


def simulate_stacked(scenario: Scenario, ps: list[ParameterSet],
                     weathers: list[np.ndarray | None] | None = None,
                     inputs: Inputs | None = None, threads: bool = True
                     ) -> dict[str, np.ndarray]:
    """:func:`simulate_batch`'s records stacked: each variable as (runs, months, 1 +
    regions)."""
    inputs = inputs or load_inputs()
    weathers = weathers or [None] * len(ps)
    POL = scenario.cached("instrument_records", lambda: instrument_records(scenario.timeline()))
    pvs = [p.values() for p in ps]
    states = [initial_state(pv) for pv in pvs]
    h = states[0][0]
    n = len(ps)
    hv = np.stack([st[0].values for st in states])
    MA = np.concatenate([st[1].values for st in states]).view(np.recarray)
    ME = np.concatenate([memory() for _ in range(n)]).view(np.recarray)
    P = np.concatenate([param_record(pv) for pv in pvs]).view(np.recarray)
    W = np.stack([inputs.weather_class if w is None else np.asarray(w, dtype=float)
                  for w in weathers])
    lab = h.labelled(unit_labels)
    regional = np.empty((n, calendar.N_MONTHS, len(accounts.REGIONAL_SERIES),
                         len(inputs.weather_class[0])))
    scalars = np.empty((n, calendar.N_MONTHS, len(accounts.SCALAR_SERIES)))
    codes = np.zeros((n, 2), dtype=np.int64)
    errs = np.zeros((n, 4))
    (run_batch if threads else run_batch_serial)(
              hv, lab, MA, MA.view(np.float64).reshape(n, -1), ME,
              ME.view(np.float64).reshape(n, -1), P, POL, W, inputs.world_grain_price,
              inputs.first_year, errs, regional, scalars, codes)
    for m in range(n):
        if codes[m, 1]:
            invariants.raise_for(codes[m, 1], errs[m], codes[m, 0], h.with_values(hv[m]),
                                 MacroState(MA[m:m + 1]))
    return accounts.batch_records(regional, scalars, pvs)


@parallel_kernel
def run_batch(hv, lab, MA, MAf, ME, MEf, P, POL, W, world_price, first_year, errs, regional,
              scalars, codes):
    """``run_months`` for each run of a batch (its state ``hv[m]``, ``MA[m]``, ``ME[m]``, its
    parameters ``P[m]`` and weather ``W[m]``), the runs shared among numba's threads; a failed
    run's month and code in ``codes[m]``."""
    for m in prange(hv.shape[0]):
        _run_member(m, hv, lab, MA, MAf, ME, MEf, P, POL, W, world_price, first_year, errs,
                    regional, scalars, codes)


@kernel
def run_batch_serial(hv, lab, MA, MAf, ME, MEf, P, POL, W, world_price, first_year, errs,
                     regional, scalars, codes):
    """``run_batch`` on the calling thread alone (in worker processes and Dask tasks, which
    share the cores among themselves; and no threading layer is started there)."""
    for m in range(hv.shape[0]):
        _run_member(m, hv, lab, MA, MAf, ME, MEf, P, POL, W, world_price, first_year, errs,
                    regional, scalars, codes)


@kernel
def _run_member(m, hv, lab, MA, MAf, ME, MEf, P, POL, W, world_price, first_year, errs,
                regional, scalars, codes):
    n_years = regional.shape[1] // 12
    n_units = hv.shape[2]
    sc = schedule.Scratch(  # the run's own scratch
        np.empty((N_UNIT_OUT, n_units)), np.empty(N_SCALAR_OUT),
        np.empty(lab.kulak_units.size), np.empty(lab.move_src.size), np.zeros((0, 0)),
        errs[m], np.empty(schedule.N_REGIONS), np.empty(len(schedule.C)),
        np.zeros(0, dtype=np.int64))
    jan = Januaries(np.empty((n_years, hv.shape[1], n_units)),  # (not kept)
                    np.empty((n_years, MAf.shape[1])), np.empty((n_years, MEf.shape[1])),
                    MAf[m], MEf[m])
    month, code = run_months(
        schedule.State(hv[m], MA[m:m + 1], ME[m:m + 1]), lab, P[m:m + 1], POL,
        Exogenous(W[m], world_price, first_year), sc, Ledger(regional[m], scalars[m]), jan, 0,
        regional.shape[1])
    codes[m, 0] = month
    codes[m, 1] = code


class Exogenous(NamedTuple):
    """The inputs that are not decisions: weather class by year and region, the world grain
    price by year, and the year of their first row."""

    weather_class: np.ndarray
    world_price: np.ndarray
    first_year: int


class Ledger(NamedTuple):
    """Where the months are booked (``accounts.Ledger``'s arrays)."""

    regional: np.ndarray
    scalars: np.ndarray


class Januaries(NamedTuple):
    """The state at the start of each January, by year: block, macro, memory (as floats);
    and the run's macro and memory records seen as floats, to copy from."""

    hv: np.ndarray
    MA: np.ndarray
    ME: np.ndarray
    MAf: np.ndarray
    MEf: np.ndarray


@kernel
def run_months(st, lab, P, POL, ex, sc, led, jan, start, end):
    """Months ``start`` .. ``end`` - 1 of a run: each January's state kept in ``jan`` (by
    year), each month booked in the ledger ``led``. Returns the month reached and 0, or the
    month whose invariant failed and the check's code."""
    for month in range(start, end):
        if month % 12 == 0:
            year = month // 12
            jan.hv[year] = st.hv
            jan.MA[year] = jan.MAf
            jan.ME[year] = jan.MEf
        t = schedule.clock(month, month, ex.weather_class, ex.world_price, ex.first_year, False)
        code = schedule.month_step(st, lab, P, POL, sc, t)
        if code != 0:
            return month, code
        c = tick(sc.ticks)
        accounts.book_month(led.regional[month], led.scalars[month], st.hv, lab, st.MA, P,
                            sc.uo, sc.so)
        lap(sc.ticks, schedule.N_STEPS, c)
    return end, 0
