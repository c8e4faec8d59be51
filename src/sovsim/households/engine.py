"""The household engine: the monthly model with every peasant household a row.

How it works (docs/households.md, docs/design/0009-households.md):

1. The cell model's month runs first, on the cells' totals, with the same mechanisms and
   scenario (``engine.schedule.step``): it decides each cell's harvest, procurement, food,
   births and deaths, moves and migration.
2. One or two compiled passes over the households (``engine_kernels``) then share each
   cell's changes among its households: the harvest by grain area (times the household's own
   yield shock), procurement as a quota on the planned harvest (area) paid while the
   household's grain lasts; who dies and who leaves for the towns (Poisson counts of the
   household's members, at its cell's rates times a hunger key: its grain per head against
   its cell's), who slaughters, who is deported and who joins or leaves a kolkhoz by
   addressed draws. Kolkhoz and special-settlement households hold their weight's share of
   their cell (the animals, land and grain were collective).
3. The households are then *aligned* to the cell totals: each cell's sums are scaled to the
   cell model's (the alignment of dynamic microsimulation). The gap before alignment is
   recorded month by month (``alignment`` table): it is how far the households' own
   arithmetic, with its caps and shocks, would move the cells' totals.

With heterogeneity off (no yield shocks, no hunger key, no draws of who slaughters, dies or
leaves, procurement shared by stock, and movers and stayers scaled to the cell model's
fractions) the households' own arithmetic *is*
the cell model's, so the gap is rounding: a test holds it below 1e-6 and the aggregated
flows equal the cell run's.

A run keeps only the table (39 bytes a household), monthly sums by cell, the observations
asked for and the panel; never a household's history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.engine import accounts, schedule
from sovsim.engine.packed import instrument_records, memory
from sovsim.errors import InputError
from sovsim.households import engine_kernels as K
from sovsim.households import month_inputs as MI
from sovsim.households import tables as T
from sovsim.households.tables import STOCK_NAMES
from sovsim.inputs import load_inputs
from sovsim.mechanisms.context import Inputs, Step
from sovsim.params import ParameterSet
from sovsim.population._jit import threads
from sovsim.population.build import build_population, full_size
from sovsim.population.cells import N_CELLS, cell_of
from sovsim.population.rng import stream_key
from sovsim.regions import REGIONS, TENURES
from sovsim.scenario import Scenario
from sovsim.state import initial_state

WHERE = "sovsim.run(households=...)"
IND, KOL, DEP = (TENURES.index(t) for t in ("individual", "kolkhoz", "deported"))
STREAM_YIELD, STREAM_MOVE, STREAM_SLAUGHTER, STREAM_VITAL = 101, 102, 103, 104
# The flows of a pooled cell that its rows draw themselves (heterogeneity on): ``_add_pooled``
# leaves them out of the unit's.
DRAWN_FLOWS = [K.F_DEATHS, K.F_MIGRANTS, K.F_RETURNERS]
MAX_PANEL = 1_000_000


@dataclass
class HouseholdOutputs:
    """What only households give, as tidy tables (``tables``), and the run's facts."""

    tables: dict[str, pd.DataFrame]
    facts: dict = field(default_factory=dict)


@dataclass
class _Table:
    """The household table, one row a household, sorted by cell at the start (so that a block
    of rows is mostly of one cell, its ``home``); the draws are addressed by ``hid``."""

    cell: np.ndarray       # int8
    X: np.ndarray          # float32 (6, N): W, P, G, H, C, A
    entry: np.ndarray      # int16: month of entering a kolkhoz (-1: never)
    horses_ref: np.ndarray  # float32: horses at the reference month (NaN: not farming alone)
    hid: np.ndarray        # int32: the household's id in the population
    eps: np.ndarray        # float32: this year's yield shock (1 where not farming alone)
    bounds: np.ndarray     # int64: the monthly pass's blocks, bounds[k] .. bounds[k + 1]
    home: np.ndarray       # int64 per block: the cell of its rows at the start (-1: added)
    present: np.ndarray    # bool (blocks, cells): cells with rows in the block (kept by the
                           # moves; a cell once present stays marked)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.cell, self.X, self.entry, self.horses_ref, self.hid,
                                      self.eps))


def _targets(h) -> np.ndarray:
    return np.stack([h[name] for name in STOCK_NAMES], axis=1).astype(float)  # (cells, 6)


def _check(households: int, panel: int, months: int | None) -> None:
    if isinstance(households, bool) or not isinstance(households, (int, np.integer)):
        raise InputError(WHERE, "households", f"{households!r} is not a whole number")
    if households < len(REGIONS):
        raise InputError(WHERE, "households", f"{households} is too few",
                         f"at least {len(REGIONS)}, one a region")
    real = full_size(1921)
    if households > real:
        raise InputError(WHERE, "households", f"{households:,} is more than the households "
                         "of 1921, where the run starts", f"{len(REGIONS)} to {real:,}")
    if isinstance(panel, bool) or not isinstance(panel, (int, np.integer)) or not (
            0 <= panel <= min(households, MAX_PANEL)):
        raise InputError(WHERE, "panel", f"{panel!r} is out of range",
                         f"0 to {min(households, MAX_PANEL):,}: the households, at most "
                         f"{MAX_PANEL:,}")
    if months is not None and not 1 <= months <= calendar.N_MONTHS:
        raise InputError(WHERE, "months", f"{months!r} is out of range",
                         f"1 to {calendar.N_MONTHS}")


def _month(text: str, key: str) -> int:
    try:
        return calendar.parse_month(text)
    except (ValueError, TypeError) as exc:
        raise InputError(WHERE, key, str(exc), "YYYY-MM from 1921-01 to 1940-12") from None


def simulate_households(
    scenario: Scenario, p: ParameterSet, inputs: Inputs | None = None, *, households: int,
    seed: int = 0, heterogeneity: bool = True, panel: int = 0, months: int | None = None,
    observe: tuple[str, ...] | None = None, horses_reference: str = "1929-07",
    progress: Callable[[int, int], None] | None = None, chunk_size: int | None = None,
) -> tuple[dict[str, np.ndarray], HouseholdOutputs]:
    """Run ``scenario`` with ``households`` household rows; return the cell records (the
    standard outputs) and the household tables.

    ``observe``: the months (``YYYY-MM``) at whose end the distribution of grain per head is
    taken (default: every June, the last month before the harvest). ``horses_reference``: the
    month at whose start the horses of the households farming alone are noted, for the horse
    losses of those who entered kolkhozy against those who stayed out. ``progress(done,
    total)`` is called after every month. ``chunk_size``: the population is built in chunks of
    this many households (it changes no number).
    """
    _check(households, panel, months)
    n_months = months or calendar.N_MONTHS
    inputs = inputs or load_inputs()
    # the instruments as the cell run reads them: one record a month, choices by their code
    POL = scenario.cached("instrument_records", lambda: instrument_records(scenario.timeline()))
    pv = p.values()
    months_asked = observe if observe is not None else [
        f"{y}-06" for y in range(calendar.START_YEAR, calendar.END_YEAR + 1)]
    observe_at = {_month(m, "observe") for m in months_asked}
    ref_month = _month(horses_reference, "horses_reference")
    b = float(p["households.hunger_concentration"]) if heterogeneity else 0.0
    sd = float(p["households.yield_shock_sd"]) if heterogeneity else 0.0
    exact = not heterogeneity

    h, macro = initial_state(pv)
    mem = memory()
    ledger = accounts.Ledger(calendar.N_MONTHS)
    t0 = time.perf_counter()
    table = _initial_table(households, seed, p, chunk_size)
    build_s = time.perf_counter() - t0
    n = table.cell.size
    nblocks = (n + K.BLOCK - 1) // K.BLOCK
    pooled = np.array([t != IND for t in h["tenure"]], dtype=np.bool_)
    individual = ~pooled
    S = _targets(h)
    raw, rows_in = _sums(table, nblocks)
    lagged_key = lagged_area_key = None
    passes = {"sums": 1, "keys": 0, "advance": 0, "observe": 0, "moves": 0}
    corr, gaps0 = _alignment(S, raw)
    hetero_cells = (h["tenure"] == IND).astype(float) * (1.0 if heterogeneity else 0.0)
    own = (hetero_cells > 0) & ~pooled
    shocks = K.shock_table(sd)
    if heterogeneity:
        K.draw_shocks(table.cell, table.hid, own, stream_key(seed, STREAM_YIELD, 0), shocks,
                      table.eps)

    rows = _panel_rows(table, panel, seed)
    start = np.zeros((rows.size, 7))  # the panel's households as the run starts
    K.gather(rows, table.cell, table.X, corr, pooled, S, start)
    panel_parts: list[dict] = []
    flows_year = np.zeros((calendar.N_MONTHS // 12, N_CELLS, K.N_FLOWS))
    cell_flows_year = np.zeros((calendar.N_MONTHS // 12, N_CELLS, K.N_FLOWS))
    totals = np.zeros((n_months, N_CELLS, 2, K.N_STOCKS))  # households' own sums, cells
    alignment = [T.gap_rows(-1, gaps0, raw, S)]
    grain_obs, horse_obs = [], []
    unmatched = 0
    per_run: dict = {}  # what the mechanisms derive from the parameters alone, once a run
    t_run = time.perf_counter()
    for month in range(n_months):
        s = Step(month, POL, pv, inputs, per_run)
        S0 = S
        out = schedule.step(h, macro, s, mem, micro=True)
        ledger.book(month, h, macro, out.scratch, pv)
        S = _targets(h)
        cp = MI.cell_inputs(h, S0, out, s, hetero_cells)
        year = calendar.START_YEAR + month // 12
        # At the end of June the households farming alone draw next year's yield shock.
        new_eps_key = (stream_key(seed, STREAM_YIELD, year + 1 - calendar.START_YEAR)
                       if heterogeneity and s.cm == 6 and year < calendar.END_YEAR
                       else np.uint64(0))
        move_key = stream_key(seed, STREAM_MOVE, month)
        slaughter_key = stream_key(seed, STREAM_SLAUGHTER, month)
        # who dies and who leaves: each household's own draws (0: the expected numbers)
        vital_key = stream_key(seed, STREAM_VITAL, month) if heterogeneity else np.uint64(0)
        moving = bool((cp[:, K.CP.dst] >= 0).any())
        absorbed: set[int] = set()  # cells whose movers and stayers already hold the deportees'
        if moving:
            if exact:
                table = _split_single_rows(table, cp, rows_in)
                n = table.cell.size
                nblocks = (n + K.BLOCK - 1) // K.BLOCK
            passes["moves"] += MI.represent_moves(table, cp, move_key, nblocks, exact, rows_in)
        harvest = bool((cp[:, K.CP.hrate] != 0).any())
        if not heterogeneity:
            MI.normalise_shared(cp, out, S0)
        # The keys pass: in the first month and for exact moves; otherwise the keys' sums
        # (persons x hunger key, area x yield shock) come from the last month's pass, taken
        # before its alignment and scaled by the alignment's factors.
        if (heterogeneity and lagged_key is None) or (exact and moving):
            keys = np.zeros((nblocks, N_CELLS, 14))
            K.keys(table.cell, table.hid, table.eps, table.X, corr, pooled, S0, cp, b,
                   move_key, exact and moving, keys)
            ksum = keys.sum(axis=0)
            passes["keys"] += 1
        else:
            ksum = np.zeros((N_CELLS, 14))
            ksum[:, 0] = lagged_key
            if lagged_area_key is not None:
                ksum[:, 1] = lagged_area_key * cp[:, K.CP.fa]
        if heterogeneity:
            MI.normalise(cp, out, S0, ksum, harvest)
        elif moving:
            unmatched += MI.exact_moves(cp, ksum, out, absorbed)
        if rows.size:
            flows_now = np.zeros((rows.size, 8))
            K.trace(rows, table.cell, table.hid, table.eps, table.X, corr, pooled, S0, cp, b,
                    move_key, slaughter_key, vital_key, exact and moving, flows_now)
        sums = np.zeros((table.home.size, N_CELLS, K.N_SUMS))
        flows = np.zeros((table.home.size, N_CELLS, K.N_FLOWS))
        unit = np.zeros((N_CELLS, K.N_STOCKS))
        unit_flows = np.zeros((N_CELLS, K.N_FLOWS))
        unit_done = K.pooled_units(cp, pooled, S0, b, unit, unit_flows)
        K.advance(table.cell, table.hid, table.eps, table.X, table.entry, table.bounds,
                  K.thread_groups(table.bounds, threads()), table.home, table.present, corr,
                  pooled, S0, cp, b, shocks, move_key, slaughter_key, vital_key,
                  exact and moving, np.int16(month), new_eps_key, unit_done, unit, sums, flows)
        passes["advance"] += 1
        pooled_weight = sums[:, :, K.S_POOLED].sum(axis=0)
        raw, rows_in, lagged_key, lagged_area_key = _split_sums(sums)
        _add_pooled(raw, lagged_key, flows, unit, unit_flows, pooled_weight, heterogeneity)
        MI.land_and_animals_to_kolkhoz(raw, flows.sum(axis=0), cp, absorbed)
        flows_year[month // 12] += flows.sum(axis=0)
        cell_flows_year[month // 12] += MI.cell_flows(out, cp, S0)
        totals[month, :, 0], totals[month, :, 1] = raw, S
        corr, gaps = _alignment(S, raw)
        lagged_key = lagged_key * gaps["ratio"][:, K.P]
        lagged_area_key = lagged_area_key * gaps["ratio"][:, K.A]
        alignment.append(T.gap_rows(month, gaps, raw, S))
        # observations of the state at the end of the month
        if rows.size:
            now = np.zeros((rows.size, 7))
            K.gather(rows, table.cell, table.X, corr, pooled, S, now)
            panel_parts.append({"month": month, "now": now, "flows": flows_now,
                                "entry": table.entry[rows].copy()})
        if month + 1 == ref_month:
            K.snapshot_horses(table.cell, table.X, corr, pooled, S, individual, table.horses_ref)
        if month + 1 >= ref_month and ((month + 1) % 12 == 6 or month + 1 == n_months):
            horse_obs.append((month, T.horses_observed(table, corr, pooled, S, nblocks)))
            passes["observe"] += 1
        if month in observe_at:
            grain_obs.append((month, T.grain_observed(table, corr, pooled, S, nblocks)))
            passes["observe"] += 1
        if progress is not None:
            progress(month + 1, n_months)
    run_s = time.perf_counter() - t_run
    for month in range(n_months, calendar.N_MONTHS):  # a shortened run (the benchmark)
        ledger.regional[month] = ledger.regional[n_months - 1]
        ledger.scalars[month] = ledger.scalars[n_months - 1]
    records = ledger.records(pv)
    tables = {
        "household_flows": T.flows_table(flows_year, cell_flows_year, n_months),
        "household_totals": T.totals_table(totals),
        "household_grain_per_head": T.grain_table(grain_obs),
        "household_horses": T.horses_table(horse_obs, ref_month),
        "household_alignment": pd.DataFrame(
            [r for part in alignment for r in part],
            columns=["period", "stock", "total_gap", "max_cell_gap", "unrepresented_share"]),
    }
    if rows.size:
        tables["household_panel"] = T.panel_table(table.hid[rows].astype(np.int64), panel_parts,
                                                  start[:, 1])
    facts = {
        "households": int(n), "months": n_months, "seed": seed, "heterogeneity": heterogeneity,
        "hunger_concentration": b, "yield_shock_sd": sd, "panel": int(rows.size),
        "table_bytes": int(table.nbytes), "build_s": build_s, "run_s": run_s,
        "unmatched_moves": int(unmatched), "block": K.BLOCK, "passes": passes,
        "bytes_per_household_month": _bytes_touched(passes, n_months),
    }
    return records, HouseholdOutputs(tables, facts)


# -- the table --------------------------------------------------------------------------------
def _initial_table(households: int, seed: int, p: ParameterSet, chunk_size: int | None) -> _Table:
    kw = {"chunk_size": chunk_size} if chunk_size else {}
    pop = build_population(households, year=1921, seed=seed, params=p, **kw)
    n = len(pop)
    X = np.empty((K.N_STOCKS, n), dtype=np.float32)
    w = pop["weight"]
    X[K.W] = w
    X[K.P] = pop["persons"]
    # The row's totals. The cell model's rule for the 1921 grain stock: kilograms per person
    # (initial.toml).
    X[K.G] = w * pop["persons"] * (p["initial.grain_stock_kg_per_person"] / 1000.0)
    X[K.H] = w * pop["horses"]
    X[K.C] = w * pop["cattle"]
    X[K.A] = w * pop["sown_area_ha"]
    cell = cell_of(pop).astype(np.int8)
    hid = pop["household_id"].astype(np.int32)
    del pop
    order = np.argsort(cell, kind="stable")  # by cell, then by id
    # (``X[:, order]`` alone comes back in Fortran order: the kernels, compiled for the C
    # order of every other call, would run on a strided copy three times slower)
    X = np.ascontiguousarray(X[:, order])
    cell, hid = cell[order], hid[order]
    bounds = _cell_blocks(cell)
    return _Table(cell, X, np.full(n, -1, dtype=np.int16), np.full(n, np.nan, dtype=np.float32),
                  hid, np.ones(n, dtype=np.float32), bounds,
                  cell[bounds[:-1]].astype(np.int64), _presence(cell, bounds))


def _presence(cell: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """(blocks, cells): whether a cell has rows in a block."""
    out = np.zeros((bounds.size - 1, N_CELLS), dtype=np.bool_)
    out[np.repeat(np.arange(bounds.size - 1), np.diff(bounds)), cell] = True
    return out


def _cell_blocks(cell: np.ndarray) -> np.ndarray:
    """Block bounds of a table sorted by cell: each cell's rows cut into blocks of at most
    ``BLOCK`` rows, so that every block starts with one cell only (a function of the table
    alone, never of the thread count)."""
    edges = np.flatnonzero(np.diff(cell.astype(np.int64))) + 1
    starts = []
    for a, b in zip(np.r_[0, edges], np.r_[edges, cell.size]):
        starts.extend(range(int(a), int(b), K.BLOCK))
    return np.array([*starts, cell.size], dtype=np.int64)


def _sums(table: _Table, nblocks: int) -> tuple[np.ndarray, np.ndarray]:
    """The table's weighted sums by cell, in the blocks' order (as ``advance`` takes them),
    and its rows by cell."""
    sums = np.zeros((nblocks, N_CELLS, K.N_SUMS))
    corr = np.ones((N_CELLS, K.N_STOCKS))
    none = np.zeros(N_CELLS, dtype=np.bool_)
    K.block_sums(table.cell, table.X, corr, none, np.zeros((N_CELLS, K.N_STOCKS)), sums)
    return _split_sums(sums)[:2]


def _add_pooled(raw, key, flows, unit, unit_flows, weight, drawn: bool) -> None:
    """The pooled cells done by ``pooled_units``: their sums and flows, the month of a unit of
    weight times their rows' weight at the start of the month. With ``drawn`` (heterogeneity
    on) the rows drew their deaths and migrants, and ``advance`` has summed their weights,
    persons and key and booked those flows: the unit gives the rest."""
    if drawn:
        unit_flows = unit_flows.copy()
        unit_flows[:, DRAWN_FLOWS] = 0.0
    else:
        raw[:, K.W] += unit[:, K.W] * weight
        raw[:, K.P] += unit[:, K.W] * unit[:, K.P] * weight
        key += unit[:, K.W] * unit[:, K.P] * weight
    raw[:, K.G:] += unit[:, K.G:] * weight[:, None]
    flows[0] += unit_flows * weight[:, None]


def _split_sums(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    total = sums.sum(axis=0)
    return (total[:, :K.N_STOCKS], total[:, K.S_ROWS], total[:, K.S_KEY],
            total[:, K.S_AREA_KEY])


def _split_single_rows(table: _Table, cp: np.ndarray, rows_in: np.ndarray) -> _Table:
    """Heterogeneity off: a cell with a single row from which the cell model moves a share
    0 < f < 1 gets a second row, a copy of the first, so that one can move and one stay (the
    exact moves then set their weights); each holds half the row's weight. Returns the (possibly longer) table."""
    need = [c for c in np.flatnonzero(cp[:, K.CP.dst] >= 0)
            if rows_in[c] == 1 and 0 < cp[c, K.CP.frac] < 1]
    if not need:
        return table
    idx = np.array([int(np.flatnonzero(table.cell == c)[0]) for c in need])
    halves = [K.W, K.G, K.H, K.C, K.A]  # the weight and the row's totals; not the size
    table.X[np.ix_(halves, idx)] *= np.float32(0.5)  # two halves of the one row
    new_ids = np.arange(len(idx), dtype=np.int32) + np.int32(table.hid.max() + 1)
    return _Table(np.concatenate([table.cell, table.cell[idx]]),
                  np.concatenate([table.X, table.X[:, idx]], axis=1),
                  np.concatenate([table.entry, table.entry[idx]]),
                  np.concatenate([table.horses_ref, table.horses_ref[idx]]),
                  np.concatenate([table.hid, new_ids]),
                  np.concatenate([table.eps, table.eps[idx]]),
                  np.r_[table.bounds, table.bounds[-1] + len(idx)], np.r_[table.home, -1],
                  np.concatenate([table.present, _presence(table.cell[idx], np.r_[0, len(idx)])]))


def _alignment(target: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, dict]:
    """Per cell, the factors that take the households' sums to the cell model's: the weight's,
    and each per-household stock's given the weight's (0 where the households hold none);
    and the gaps they close (``ratio``: target over the households' sum)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(raw > 0, target / np.where(raw > 0, raw, 1.0), 0.0)
    corr = ratio.copy()  # the rows' totals (grain, horses, cattle, area) by the ratio itself
    cw = ratio[:, K.W]
    corr[:, K.P] = np.where(cw > 0, ratio[:, K.P] / np.where(cw > 0, cw, 1.0), 0.0)
    return corr, {"ratio": ratio}


# Bytes of the table each pass reads and writes per household: the label (1), the six float32
# columns (24, read and written by ``advance``), the yield shock (4), the id (4: read by
# ``advance`` for the draws of who dies and leaves, and where households move, counted in
# ``moves``, whose pass reads label and id); the observation of horses also reads the entry
# month and the horses of the reference (6). The labels of movers and the yearly shocks
# written are left out (a byte per mover, 4 bytes a year).
PASS_BYTES = {"sums": 25, "keys": 29, "advance": 1 + 24 + 4 + 4 + 24, "observe": 31, "moves": 5}


def _bytes_touched(passes: dict, months: int) -> float:
    """Bytes of the household table read and written per household-month, by the passes."""
    return sum(PASS_BYTES[k] * v for k, v in passes.items() if k != "sums") / months


# -- observations ------------------------------------------------------------------------------
def _panel_rows(table: _Table, k: int, seed: int) -> np.ndarray:
    """The rows of ``k`` households drawn by id (without replacement) with the seed."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    n = table.hid.size
    ids = np.random.default_rng([seed, 0x9A4E1]).choice(n, size=k, replace=False)
    row_of = np.empty(n, dtype=np.int64)
    row_of[table.hid] = np.arange(n)
    return np.sort(row_of[ids])


