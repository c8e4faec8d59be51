"""The compiled passes of the household engine over the household table.

A month is one or two passes over the households (``engine.py`` says when): ``keys`` sums the
quantities by which a cell's changes are shared (persons times the hunger key, grain area
times the yield shock) and, when transitions are made exact, what the movers hold; ``advance``
applies the month to every household and sums the new table by cell for the alignment. Both
call ``_household``, the one definition of what a month does to one household, so the
panel (``trace``) sees the same numbers as the table.

Households are processed in fixed blocks of ``BLOCK`` rows; every sum is first taken within a
block, in row order, and the blocks' sums are added in block order by the caller. Threads take
whole blocks, so the sums (and everything derived from them) are the same bits whatever the
thread count. Every draw is addressed by (seed, stream, month or year, household id)
(``rng.unit_uniform``), never drawn in sequence.

The household columns are float32 (``X[k, i]``, k in ``W, P, G, H, C, A``); arithmetic is in
float64. ``W`` is the row's weight (the real households it stands for) and ``P`` the persons of
one of them; ``G, H, C, A`` (grain t, horses, cattle, grain area ha) are the *row's* totals, so
that a row whose households shrink in number (deaths and flight shrink the weight, as the cell
model shrinks its households) keeps what it holds without a division per stock.

Per-cell inputs (``cp[c, CP.name]``) are declared in ``CELL_INPUTS`` below; ``engine.py`` fills them from the
cell model's month.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from sovsim.population._jit import (
    fast_jit,
    inline_jit,
    jit,
    parallel_fast_jit,
    parallel_jit,
    prange,
)
from sovsim.population.rng import unit_uniform

BLOCK = 1 << 16
# ROW_INDEX: the loops over a block's rows index the table with an *unsigned* row number.
# numba lets a signed index count from the end (``a[-1]``), so every access with one that it
# cannot prove non-negative (a loop from ``lo`` to ``hi``) carries a test and a select, which
# keeps LLVM from vectorising the loop: the monthly pass ran 3.5 times slower so (measured on
# one block of 65,536 rows, 12 ns a row against 3.5).
W, P, G, H, C, A = range(6)
N_STOCKS = 6


@dataclass(frozen=True)
class CellInput:
    name: str
    width: int  # columns (N_STOCKS: one per stock, in W, P, G, H, C, A order)
    doc: str
    reads: tuple[str, ...] = ()  # the cell model's flows it is made from (engine.flows)


# The per-cell inputs (``cp[c, CP.name]``), declared once: name, columns, what it is, and
# the month's flows of the cell model it is made from (``engine.flows``; ``month_inputs``
# reads them by these names; tests/test_flows.py checks that each is declared).
CELL_INPUTS: tuple[CellInput, ...] = (
    CellInput("ref", 1, "persons per t of grain of the cell at the start of the month"),
    CellInput("hrate", 1, "net harvest per unit of key (area x yield shock)", ("harvest_t", "losses_t")),
    CellInput("relief", 1, "relief and the state's loans received, per person",
              ("relief_t", "seed_loan_t", "food_loan_t")),
    CellInput("orate", 1, "outflows other than procurement (loans repaid too), over the grain after inflows",
              ("seed_t", "food_t", "feed_t", "private_sales_t", "harvest_t", "losses_t", "relief_t",
               "seed_loan_t", "food_loan_t", "loan_repaid_t")),
    CellInput("quota", 1, "procurement per ha of grain area (the quota, from the planned harvest)",
              ("procured_t",)),
    CellInput("prate", 1, "procurement over the grain after inflows (shared by stock)", ("procured_t",)),
    CellInput("fh", 1, "horses: the cell's factor this month (after procurement too)",
              ("herds_before", "herds_after", "livestock_procured")),
    CellInput("fc", 1, "cattle: the cell's factor this month (after procurement too)",
              ("herds_before", "herds_after", "livestock_procured")),
    CellInput("fa", 1, "grain area: the cell's factor this month", ("area_harvested_ha", "area_before")),
    CellInput("births", 1, "births per person", ("births",)),
    CellInput("deaths", 1, "deaths per unit of key (persons x hunger key)", ("deaths",)),
    CellInput("dst", 1, "the cell its movers go to (-1: none)"),
    CellInput("frac", 1, "the share that moves"),
    CellInput("kind", 1, "1 deported, 2 joins a kolkhoz, 3 leaves one"),
    CellInput("mig", 1, "out-migrants (to the towns, and those fleeing: issue 15) per unit of "
              "key, in the cell after the moves",
              ("migrants", "fled_within_ussr", "fled_abroad", "persons_before_migration")),
    CellInput("ret", 1, "returning migrants per person, in the cell after the moves",
              ("returners", "persons_before_migration")),
    CellInput("hetero", 1, "1: the households' own shocks and keys; 0: shared by stock"),
    CellInput("mover", N_STOCKS, "movers' scale per stock (exact transitions)"),
    CellInput("stayer", N_STOCKS, "stayers' scale per stock"),
    CellInput("thr", 1, "a household moves if its draw is below this (CP.frac, or the nearest "
              "draw where CP.frac picks none or all: month_inputs.represent_moves)"),
    CellInput("mover_set", N_STOCKS, "movers' value per household (exact transitions; NaN: scale)"),
    CellInput("stayer_set", N_STOCKS, "the stayers'"),
    # Slaughter (heterogeneity on, households farming alone): a household slaughters if its
    # draw is below CP.sq, and its horses and cattle are then multiplied by CP.fhs and CP.fcs
    # instead of the keepers' CP.fhk and CP.fck (month_inputs.slaughter_inputs).
    CellInput("sq", 1, "the chance a household slaughters", ("slaughter", "herds_before")),
    CellInput("fhk", 1, "keepers' horse factor", ("slaughter", "herds_before", "herds_after")),
    CellInput("fck", 1, "keepers' cattle factor", ("slaughter", "herds_before", "herds_after")),
    CellInput("fhs", 1, "slaughterers' horse factor", ("slaughter", "herds_before", "herds_after")),
    CellInput("fcs", 1, "slaughterers' cattle factor", ("slaughter", "herds_before", "herds_after")),
    CellInput("sh", 1, "the cell's share of horses slaughtered", ("slaughter", "herds_before")),
)


def _columns(inputs):
    first, at = {}, 0
    for c in inputs:
        first[c.name] = at
        at += c.width
    return namedtuple("CellColumns", list(first))(**first), at


CP, N_CP = _columns(CELL_INPUTS)

# flows summed by cell of origin
F_BIRTHS, F_DEATHS, F_MIGRANTS, F_RETURNERS = 0, 1, 2, 3
F_HARVEST, F_RELIEF, F_PROCURED, F_QUOTA, F_SHORTFALL = 4, 5, 6, 7, 8
F_DEP_HH, F_DEP_PERSONS, F_CONFISCATED, F_JOINED_HH, F_LEFT_HH = 9, 10, 11, 12, 13
F_HORSES_LOST = 14
F_CONF_H, F_CONF_C, F_CONF_A = 15, 16, 17  # deportees' horses, cattle, area (to the kolkhoz)
F_SLAUGHTER_HH, F_HORSES_SLAUGHTERED = 18, 19  # households that slaughtered; horses slaughtered
# households (drawn deaths and flight) all of whose members died; all of whose members left
F_DIED_OUT_HH, F_ALL_LEFT_HH = 20, 21
N_FLOWS = 22

KIND_DEPORT, KIND_JOIN, KIND_EXIT = 1, 2, 3


def shock_table(sd: float, points: int = 4096) -> np.ndarray:
    """The quantile function of the yield shock (log-normal, log s.d. ``sd``) at ``points + 1``
    evenly spaced probabilities (the two ends at half a step from 0 and 1), scaled so that the
    piecewise-linear interpolant (``yield_shock``) has mean exactly 1: a draw costs a table
    lookup instead of a logarithm, a cosine and an exponential."""
    from scipy.special import ndtri

    q = np.linspace(0.0, 1.0, points + 1)
    q[0], q[-1] = 0.5 / points, 1.0 - 0.5 / points
    t = np.exp(sd * ndtri(q))
    mean = (0.5 * t[0] + t[1:-1].sum() + 0.5 * t[-1]) / points
    return t / mean


@inline_jit
def yield_shock(key, hid, table):
    """A household's yield over its cell's in one year: the table's quantile function at the
    household's addressed uniform, interpolated linearly (mean 1)."""
    x = unit_uniform(key, hid) * (table.size - 1)
    k = int(x)
    return table[k] + (table[k + 1] - table[k]) * (x - k)


@inline_jit
def hunger_key(g, persons, inv_ref, b):
    """(1 + b) / (1 + b q), q = the row's grain per head over its cell's (``inv_ref``: the
    cell's persons per t): 1 + b at no grain, 1 at the cell's grain per head, falling towards
    0 above it."""
    if b <= 0.0 or persons <= 0.0 or inv_ref <= 0.0:
        return 1.0
    return (1.0 + b) / (1.0 + b * g * inv_ref / persons)


# Drawn deaths and out-migration (heterogeneity on). A household's deaths D and out-migrants M
# in a month are independent Poisson counts (means lam_d, lam_m: its persons times its rates),
# drawn in two stages so that the households with neither (most of them, most months) cost one
# cheap hash: a *screen* uniform s gives neither when s < exp(-lam_d - lam_m); otherwise the
# rest of the joint distribution is drawn from s rescaled and two more uniforms
# (``vital_counts``). Since exp(-x) >= 1 - x, a loop may pass every household with
# s < 1 - lam_d - lam_m without working out the exponential (``_home_stayers``).
_M32 = np.uint64(0xFFFFFFFF)
_TO_UNIT32 = 1.0 / 4294967296.0
POISSON_MAX = 8  # the largest count drawn: P(more) is below 1e-5 for a mean up to 1.2
# A household with fewer persons than this left (persons are not whole numbers: births are
# expected values) has died out, or all its members have left: it is empty, its weight 0.
EMPTY = 0.5


@inline_jit
def screen_uniform(key, hid):
    """The screen uniform of household ``hid`` in stream ``key``: ``screen_bits`` over 2**32."""
    return np.float64(screen_bits(key, hid)) * _TO_UNIT32


@inline_jit
def screen_bits(key, hid):
    """A 32-bit hash of household ``hid`` in stream ``key`` (Wellons' "lowbias32" finaliser,
    on the id and the key's two halves), cheap enough for a vectorised loop over every
    household."""
    # (each step cast to 32 bits: numba widens unsigned arithmetic to 64, and the casts let
    # LLVM use the vector 32-bit multiply)
    k32 = np.uint32((key ^ (key >> np.uint64(32))) & _M32)
    x = np.uint32(np.uint32(np.uint32(hid) * np.uint32(0x9E3779B9)) + k32)
    x = np.uint32(x ^ (x >> np.uint32(16)))
    x = np.uint32(x * np.uint32(0x7FEB352D))
    x = np.uint32(x ^ (x >> np.uint32(15)))
    x = np.uint32(x * np.uint32(0x846CA68B))
    return np.uint32(x ^ (x >> np.uint32(16)))


@fast_jit
def _screens(lo, hi, hid, key, out):
    """The screen bits of the rows ``lo .. hi`` (once a block and month: the loops over the
    block's cells read them)."""
    for off in range(hi - lo):
        out[off] = screen_bits(key, hid[np.uint64(lo + off)])


@inline_jit
def vital_uniforms(key, hid):
    """Two more uniforms on [0, 1) of household ``hid`` in stream ``key`` (uint64): the high
    and the low 32 bits of one splitmix64 hash (``rng``)."""
    z = key + (np.uint64(hid) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(32)) * _TO_UNIT32, np.float64(z & _M32) * _TO_UNIT32


@inline_jit
def exp_neg(lam):
    """exp(-lam) as (exp(-lam/16))^16, the inner term a Taylor polynomial of degree 7 (relative
    error below 1e-9 for lam <= 2; no call, so that the loops using it vectorise)."""
    y = lam * 0.0625
    e = 1.0 - y * (1.0 - y * (0.5 - y * (1.0 / 6.0 - y * (1.0 / 24.0 - y * (
        1.0 / 120.0 - y * (1.0 / 720.0 - y * (1.0 / 5040.0)))))))
    e = e * e
    e = e * e
    e = e * e
    return e * e


@inline_jit
def poisson_count(lam, e, u, cap):
    """A Poisson(``lam``) count at the uniform ``u`` (its inverse distribution function;
    ``e`` = ``exp_neg(lam)``), at most ``POISSON_MAX`` and at most ``cap``."""
    pmf = e
    cdf = e
    k = 0.0
    for j in range(1, POISSON_MAX + 1):  # (called only for the few households screened in)
        if u < cdf:
            break
        k += 1.0
        pmf = pmf * lam / j
        cdf += pmf
    return min(k, cap)


@inline_jit
def vital_counts(key, hid, s, lam_d, lam_m, n0):
    """A household's deaths and out-migrants (independent Poisson counts, means ``lam_d``,
    ``lam_m``; the deaths at most its ``n0`` persons, rounded, and the migrants at most those
    left) from its screen uniform ``s``: none if ``s < exp(-lam_d - lam_m)``; otherwise at
    least one of them, by ``s`` rescaled, and the counts by two more uniforms, each count's
    zero-truncated law where it is the one that must be positive."""
    if s < 1.0 - (lam_d + lam_m) * (1.0 + 1e-9):  # neither, surely (exp(-x) >= 1 - x)
        return 0.0, 0.0
    cap_d = math.floor(n0 + 0.5)
    e_d = exp_neg(lam_d)
    e_m = exp_neg(lam_m)
    q0 = e_d * e_m
    if s < q0:
        return 0.0, 0.0
    u_d, u_m = vital_uniforms(key, hid)
    v = (s - q0) / (1.0 - q0)
    if v * (1.0 - q0) < 1.0 - e_d:  # at least one death: P(D > 0) over P(not both 0)
        dead = poisson_count(lam_d, e_d, e_d + u_d * (1.0 - e_d), cap_d)
        gone = poisson_count(lam_m, e_m, u_m, math.floor(n0 - dead + 0.5))
    else:  # no death, so at least one out-migrant
        dead = 0.0
        gone = poisson_count(lam_m, e_m, e_m + u_m * (1.0 - e_m), cap_d)
    return dead, gone


@inline_jit
def start_values(i, cell, X, corr, pooled, S0):
    """Row ``i`` at the start of the month: its stored values times the alignment of its cell,
    or (a pooled cell: kolkhoz, settlement) its weight's share of its cell's totals."""
    c = cell[i]
    w = X[W, i] * corr[c, W]
    if pooled[c]:
        share = w / S0[c, W] if S0[c, W] > 0.0 else 0.0
        size = S0[c, P] / S0[c, W] if S0[c, W] > 0.0 else 0.0
        return c, w, size, S0[c, G] * share, S0[c, H] * share, S0[c, C] * share, \
            S0[c, A] * share
    return c, w, X[P, i] * corr[c, P], X[G, i] * corr[c, G], X[H, i] * corr[c, H], \
        X[C, i] * corr[c, C], X[A, i] * corr[c, A]


@inline_jit
def _household(i, c, w, p, g, ho, ca, a, cp, pooled, b, eps, move_u, slaughter_u, vital_key,
               hid, scale_moves, flows, confiscate=True):
    """One month of row ``i`` (in cell ``c``, values at the start of the month: weight ``w``,
    persons of a household ``p``, the row's grain, horses, cattle and area).

    The order is the cell model's (engine/schedule.py): grain flows, livestock, births and
    deaths, deportation, entries into and exits from kolkhozy, migration. Adds the flows to
    ``flows[c]`` (by cell of origin) and returns the new cell and values, and the hunger key.
    """
    own = cp[c, CP.hetero] > 0.0 and not pooled[c]
    persons = w * p
    r = hunger_key(g, persons, cp[c, CP.ref], b) if own else 1.0
    e = eps if own else 1.0
    # grain: the harvest by area (and the household's yield), relief by persons
    a = a * cp[c, CP.fa]
    harvest = cp[c, CP.hrate] * a * e
    relief = cp[c, CP.relief] * persons
    g_in = g + harvest + relief
    if own:  # the quota is set on the planned harvest (area), paid while grain lasts
        g_mid = g_in * (1.0 - cp[c, CP.orate])
        quota = cp[c, CP.quota] * a
        paid = min(g_mid, quota)
        g = g_mid - paid
    else:
        quota = g_in * cp[c, CP.prate]
        paid = quota
        g = g_in * (1.0 - cp[c, CP.orate] - cp[c, CP.prate])
    g = max(g, 0.0)
    ho_before = ho
    if own:  # the household's own draw: it slaughters, or it keeps its animals
        if slaughter_u < cp[c, CP.sq]:
            ho = ho * cp[c, CP.fhs]
            ca = ca * cp[c, CP.fcs]
            flows[c, F_SLAUGHTER_HH] += w
            flows[c, F_HORSES_SLAUGHTERED] += ho_before * (cp[c, CP.fhk] - cp[c, CP.fhs])
        else:
            ho = ho * cp[c, CP.fhk]
            ca = ca * cp[c, CP.fck]
    else:  # the cell's factors
        ho = ho * cp[c, CP.fh]
        ca = ca * cp[c, CP.fc]
        flows[c, F_HORSES_SLAUGHTERED] += ho_before * cp[c, CP.sh]
    flows[c, F_HARVEST] += harvest
    flows[c, F_RELIEF] += relief
    flows[c, F_PROCURED] += paid
    flows[c, F_QUOTA] += quota
    flows[c, F_SHORTFALL] += quota - paid
    flows[c, F_HORSES_LOST] += ho_before - ho
    # births and deaths: as in the cell model a household keeps its size and the number of
    # real households the row stands for (its weight) follows its persons; the row's stocks
    # stay with it
    brate = cp[c, CP.births]
    drate = min(r * cp[c, CP.deaths], 1.0 + brate)  # no more deaths than persons
    flows[c, F_BIRTHS] += persons * brate
    gone = -1.0  # (expected, not drawn)
    w_hh = w  # the households the row stands for at the start of the month
    if vital_key != 0 and p > 0.0:  # drawn: the deaths of this household (the row: w of them)
        # and its out-migrants (in the cell it is in after its move, ``_migrate``)
        dst = cp[c, CP.dst]
        c_next = int(dst) if dst >= 0.0 and move_u < cp[c, CP.thr] else c
        out_rate = min(r * cp[c_next, CP.mig], 1.0)
        n0 = p * (1.0 + brate)
        dead, gone = vital_counts(vital_key, hid, screen_uniform(vital_key, hid), p * drate,
                                  p * out_rate, n0)
        flows[c, F_DEATHS] += w * dead
        out = n0 - dead < EMPTY  # died out
        flows[c, F_DIED_OUT_HH] += w if out else 0.0
        w = 0.0 if out else w * (n0 - dead) / p
    else:  # the expected deaths
        flows[c, F_DEATHS] += persons * drate
        w = w * (1.0 + brate - drate)
    # moves
    c2 = c
    dst = cp[c, CP.dst]
    if dst >= 0.0:
        moves = move_u < cp[c, CP.thr]
        if scale_moves:
            base = CP.mover if moves else CP.stayer
            put = CP.mover_set if moves else CP.stayer_set
            w *= cp[c, base + W]
            p = p * cp[c, base + P] if math.isnan(cp[c, put + P]) else cp[c, put + P]
            g = _scaled(g, cp[c, base + G], cp[c, put + G], w)
            ho = _scaled(ho, cp[c, base + H], cp[c, put + H], w)
            ca = _scaled(ca, cp[c, base + C], cp[c, put + C], w)
            a = _scaled(a, cp[c, base + A], cp[c, put + A], w)
        if moves:
            c2 = np.int8(int(dst))
            if confiscate:
                g, ho, ca, a = _move_out(flows, c, cp[c, CP.kind], w, p, g, ho, ca, a)
    return c2, w, p, g, ho, ca, a, r, gone, w_hh


@inline_jit
def _move_out(flows, c, kind, w, p, g, ho, ca, a):
    """A household leaving cell ``c``: counted; a deported one's grain goes to the state and
    its animals and land to the kolkhoz (the caller's sums); returns what it keeps."""
    if kind == KIND_DEPORT:
        flows[c, F_DEP_HH] += w
        flows[c, F_DEP_PERSONS] += w * p
        flows[c, F_CONFISCATED] += g
        flows[c, F_CONF_H] += ho
        flows[c, F_CONF_C] += ca
        flows[c, F_CONF_A] += a
        return 0.0, 0.0, 0.0, 0.0
    flows[c, F_JOINED_HH if kind == KIND_JOIN else F_LEFT_HH] += w
    return g, ho, ca, a


@inline_jit
def _scaled(x, factor, per_household, w):
    """A row's stock times ``factor``, or ``per_household`` times the weight if that is set."""
    return x * factor if math.isnan(per_household) else per_household * w


@inline_jit
def _migrate(c2, w, p, r, cp, flows, gone, w_hh):
    """Out-migration and return of row ``w, p`` now in cell ``c2``: ``gone`` members of each of
    its ``w_hh`` households (its weight at the start of the month) leave (drawn by
    ``_household``), or (``gone`` < 0) the expected share."""
    persons = w * p
    out_rate = min(r * cp[c2, CP.mig], 1.0)
    back_rate = cp[c2, CP.ret]
    if gone >= 0.0 and p > 0.0:
        if w <= 0.0:  # died out
            return 0.0
        n1 = persons / w_hh  # a household's persons now
        flows[c2, F_MIGRANTS] += w_hh * gone
        if n1 - gone < EMPTY:  # all left: it takes none back
            flows[c2, F_ALL_LEFT_HH] += w_hh
            return 0.0
        flows[c2, F_RETURNERS] += persons * back_rate
        return w_hh * (n1 - gone + n1 * back_rate) / p
    flows[c2, F_RETURNERS] += persons * back_rate
    flows[c2, F_MIGRANTS] += persons * out_rate
    return w * (1.0 - out_rate + back_rate)


@parallel_jit
def move_draws(cell, hid, cp, need, move_key, out):
    """Per block and cell that moves and is ``need``-ed: [rows drawn to move, rows, least
    draw, greatest draw]."""
    n = cell.size
    nblocks = out.shape[0]
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        acc = out[blk]
        for c in range(acc.shape[0]):
            acc[c, 2] = 2.0
            acc[c, 3] = -1.0
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            c = cell[i]
            if not need[c]:
                continue
            u = unit_uniform(move_key, hid[i])
            if u < cp[c, CP.thr]:
                acc[c, 0] += 1.0
            acc[c, 1] += 1.0
            acc[c, 2] = min(acc[c, 2], u)
            acc[c, 3] = max(acc[c, 3], u)


@parallel_jit
def draw_shocks(cell, hid, own, eps_key, shocks, eps):
    """Each row's yield shock of a year (``own[c]``: its cell farms alone; else 1)."""
    n = cell.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            eps[i] = yield_shock(eps_key, hid[i], shocks) if own[cell[i]] else 1.0


@parallel_jit
def keys(cell, hid, eps, X, corr, pooled, S0, cp, b, move_key, scale_moves, out):
    """Per block and cell: [0] persons x hunger key, [1] area x yield shock (after this month's
    area factor), [2 + k] movers' stock k after the month's flows (only if ``scale_moves``),
    [8 + k] the stayers'."""
    n = cell.size
    nblocks = out.shape[0]
    scratch = np.zeros((nblocks, cp.shape[0], N_FLOWS))
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        acc = out[blk]
        fl = scratch[blk]
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            c, w, p, g, ho, ca, a = start_values(i, cell, X, corr, pooled, S0)
            own = cp[c, CP.hetero] > 0.0 and not pooled[c]
            r = hunger_key(g, w * p, cp[c, CP.ref], b) if own else 1.0
            e = eps[i] if own else 1.0
            acc[c, 0] += w * p * r
            acc[c, 1] += a * cp[c, CP.fa] * e
            if scale_moves and cp[c, CP.dst] >= 0.0:
                u = unit_uniform(move_key, hid[i])
                c2, w2, p2, g2, ho2, ca2, a2, _, _, _ = _household(
                    i, c, w, p, g, ho, ca, a, cp, pooled, b, e, u, 1.0, np.uint64(0), 0, False,
                    fl, False)
                base = 2 if c2 != c else 8
                acc[c, base + W] += w2
                acc[c, base + P] += w2 * p2
                acc[c, base + G] += g2
                acc[c, base + H] += ho2
                acc[c, base + C] += ca2
                acc[c, base + A] += a2


# sums[..., k]: the six stocks, then these
S_ROWS, S_KEY, S_AREA_KEY, S_POOLED = N_STOCKS, N_STOCKS + 1, N_STOCKS + 2, N_STOCKS + 3
N_SUMS = N_STOCKS + 4


@inline_jit
def _add_stocks(acc, c, w, persons, g, ho, ca, a, key):
    """Add a loop's sums (kept in registers) of weight, persons, the four stocks and the key
    to cell ``c``'s."""
    acc[c, W] += w
    acc[c, P] += persons
    acc[c, G] += g
    acc[c, H] += ho
    acc[c, C] += ca
    acc[c, A] += a
    acc[c, S_KEY] += key


@inline_jit
def _accumulate(acc, c2, w, p, g, ho, ca, a, key, area_key):
    _add_stocks(acc, c2, w, w * p, g, ho, ca, a, key)
    acc[c2, S_ROWS] += 1.0
    acc[c2, S_AREA_KEY] += area_key


@parallel_jit
def block_sums(cell, X, corr, pooled, S0, sums):
    """The table's weighted stocks by block and cell (and its rows, ``[..., N_STOCKS]``)."""
    n = cell.size
    nblocks = sums.shape[0]
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        acc = sums[blk]
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            c, w, p, g, ho, ca, a = start_values(i, cell, X, corr, pooled, S0)
            _accumulate(acc, c, w, p, g, ho, ca, a, 0.0, 0.0)


@jit
def pooled_units(cp, pooled, S0, b, unit, unit_flows):
    """The month of one unit of weight of each pooled cell (kolkhoz, settlement) whose
    households do not move this month, by ``_household`` itself: its rows all hold the same
    share per unit of weight, and a pooled row's month is linear in its weight, so ``advance``
    only scales their weights and sums them (``S_POOLED``); the cell's sums and flows are these
    times that sum. ``unit[c]``: [weight, persons of a household, grain, horses, cattle,
    area]; returns whether each cell is done this way."""
    n = cp.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    for c in range(n):
        if not pooled[c] or cp[c, CP.dst] >= 0.0 or S0[c, W] <= 0.0:
            continue
        inv = 1.0 / S0[c, W]
        # (the size as start_values gives it, so that a traced household draws as here)
        c2, w, p, g, ho, ca, a, r, gone, w_hh = _household(
            0, np.int8(c), 1.0, S0[c, P] / S0[c, W], S0[c, G] * inv, S0[c, H] * inv,
            S0[c, C] * inv,
            S0[c, A] * inv, cp, pooled, b, 1.0, 1.0, 1.0, np.uint64(0), 0, False, unit_flows)
        w = _migrate(c2, w, p, r, cp, unit_flows, gone, w_hh)
        unit[c, W] = w
        unit[c, P] = p
        unit[c, G] = g
        unit[c, H] = ho
        unit[c, C] = ca
        unit[c, A] = a
        done[c] = True
    return done


@inline_jit
def _store(i, X, w, p, g, ho, ca, a):
    X[W, i] = w
    X[P, i] = p
    X[G, i] = g
    X[H, i] = ho
    X[C, i] = ca
    X[A, i] = a


def thread_groups(bounds: np.ndarray, n: int) -> np.ndarray:
    """The blocks ``bounds`` cut into ``n`` runs of about equal rows, as block indices (a run
    for each thread of ``advance``: the blocks are as unequal as the cells, and numba's
    ``prange`` would give each thread an equal number of them; at 1 million households one
    thread got 37 % of the rows and waited for the other)."""
    target = np.arange(1, n) * (bounds[-1] / n)
    cuts = np.clip(np.searchsorted(bounds, target), 1, bounds.size - 1)
    nearer = np.abs(bounds[cuts - 1] - target) < np.abs(bounds[cuts] - target)
    return np.r_[0, cuts - nearer, bounds.size - 1].astype(np.int64)


@parallel_fast_jit
def advance(cell, hid, eps, X, entry, bounds, groups, home, present, corr, pooled, S0, cp, b,
            shocks, move_key, slaughter_key, vital_key, scale_moves, month, new_eps_key,
            unit_done, unit, sums, flows):
    """Apply one month to every household, in place; per block, the new stocks by (new) cell
    (``sums``: the six stocks, weighted; the rows; persons at the end of the month times the
    hunger key of its start, and area times the yield shock: the estimates of next month's
    keys, before the alignment) and the month's flows by cell of origin (``flows``). If
    ``new_eps_key`` is not 0 the rows that farm alone then draw next year's yield shock (end
    of June).

    Its blocks are ``bounds[k] .. bounds[k + 1]``: runs of at most ``BLOCK`` rows of one cell
    when the table was sorted at the start, that cell the block's ``home`` (-1: rows added
    since). Each block is a few loops, each compiled on its own so that LLVM can vectorise
    the simple ones: ``_pooled_rows`` (rows of pooled cells done by ``pooled_units``,
    ``unit_done``: only their weight is scaled and summed), ``_other_rows`` (the other rows
    not of the home, through ``_household``, the one definition of a household's month) and,
    where the home farms alone and the moves are not exact, ``_home_movers`` (its households drawn to move,
    through ``_household`` too), ``_home_stayers`` (the rest of them: the same arithmetic
    written out) and in June ``_home_shocks``. tests/test_households.py checks that the two
    routes give the same numbers.

    The threads take the runs of blocks ``groups[k] .. groups[k + 1]`` (``thread_groups``:
    about equal rows each; numba would give each thread an equal number of blocks, and the
    blocks are of very unequal size). A block's sums do not depend on which thread ran it."""
    for grp in prange(groups.size - 1):
        for blk in range(groups[grp], groups[grp + 1]):
            _block(blk, cell, hid, eps, X, entry, bounds, home, present[blk], corr, pooled, S0,
                   cp, b, shocks, move_key, slaughter_key, vital_key, scale_moves, month,
                   new_eps_key, unit_done, unit, sums, flows)


@fast_jit
def _block(blk, cell, hid, eps, X, entry, bounds, home, present, corr, pooled, S0, cp, b,
           shocks, move_key, slaughter_key, vital_key, scale_moves, month, new_eps_key,
           unit_done, unit, sums, flows):
    """One block of ``advance``."""
    lo = bounds[blk]
    hi = bounds[blk + 1]
    h = home[blk]
    fast = h >= 0 and not scale_moves and cp[h, CP.hetero] > 0.0 and not pooled[h]
    skip = h if fast else -1
    # Rows that move into the home this month (kolkhoz exits) are done by ``_other_rows``
    # and marked in ``seen`` so that the home's loops pass them; the home's movers leave it
    # after ``_other_rows`` has run, so they are done once too. (``seen`` has a byte for
    # every row even when nothing moves in: a test on a flag in the home's loops would keep
    # LLVM from vectorising them.)
    seen = np.zeros(hi - lo, dtype=np.uint8)
    screens = np.zeros(hi - lo, dtype=np.uint32)  # who may die or leave (vital_counts)
    if vital_key != 0:
        _screens(lo, hi, hid, vital_key, screens)
    _pooled_rows(lo, hi, cell, hid, X, corr, cp, vital_key, screens, unit_done, unit, present,
                 sums[blk], flows[blk])
    _other_rows(lo, hi, skip, cell, hid, eps, X, entry, corr, pooled, S0, cp, b, shocks,
                move_key, slaughter_key, vital_key, scale_moves, month, new_eps_key,
                unit_done, seen, present, sums[blk], flows[blk])
    if fast:
        if cp[h, CP.dst] >= 0.0:
            _home_movers(lo, hi, h, cell, hid, eps, X, entry, corr, pooled, S0, cp, b,
                         move_key, slaughter_key, vital_key, month, seen, present, sums[blk],
                         flows[blk])
        home_rows = 0
        for off in range(hi - lo):
            home_rows += cell[np.uint64(lo + off)] == h
        maybe = np.zeros(hi - lo, dtype=np.uint8)
        if 2 * home_rows > hi - lo:
            _home_stayers_dense(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key,
                                screens, vital_key, new_eps_key == 0, seen, maybe, sums[blk],
                                flows[blk])
        else:
            _home_stayers_sparse(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key,
                                 screens, vital_key, new_eps_key == 0, seen, maybe, sums[blk],
                                 flows[blk])
        if vital_key != 0:
            _home_vital(lo, hi, h, cell, hid, eps, X, corr, pooled, S0, cp, b, move_key,
                        slaughter_key, vital_key, new_eps_key == 0, maybe, sums[blk],
                        flows[blk])
        if new_eps_key != 0:
            _home_shocks(lo, hi, h, cell, hid, eps, X, new_eps_key, shocks, seen, sums[blk])


@fast_jit
def _other_rows(lo, hi, skip, cell, hid, eps, X, entry, corr, pooled, S0, cp, b, shocks,
                move_key, slaughter_key, vital_key, scale_moves, month, new_eps_key,
                unit_done, seen, present, acc, fl):
    """Every row of ``lo .. hi`` not in cell ``skip`` and not of a pooled cell done by
    ``pooled_units`` (``_pooled_rows`` has done those), through ``_household``. A row it
    moves into ``skip`` is marked in ``seen``."""
    for off in range(hi - lo):
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        c = cell[i]
        if c == skip or unit_done[c]:
            continue
        _row(i, off, skip, cell, hid, eps, X, entry, corr, pooled, S0, cp, b, shocks, move_key,
             slaughter_key, vital_key, scale_moves, month, new_eps_key, seen, present, acc, fl)


@inline_jit
def _row(i, off, skip, cell, hid, eps, X, entry, corr, pooled, S0, cp, b, shocks, move_key,
         slaughter_key, vital_key, scale_moves, month, new_eps_key, seen, present, acc, fl):
    """The month of row ``i`` (``off`` in its block) through ``_household``: its draws, its
    move, its new yield shock in June, its sums."""
    c, w, p, g, ho, ca, a = start_values(i, cell, X, corr, pooled, S0)
    own = cp[c, CP.hetero] > 0.0 and not pooled[c]
    e = eps[i] if own else 1.0
    u = unit_uniform(move_key, hid[i]) if cp[c, CP.dst] >= 0.0 else 1.0
    su = unit_uniform(slaughter_key, hid[i]) if cp[c, CP.sq] > 0.0 else 1.0
    c2, w, p, g, ho, ca, a, r, gone, w_hh = _household(
        i, c, w, p, g, ho, ca, a, cp, pooled, b, e, u, su, vital_key, hid[i], scale_moves, fl)
    w = _migrate(c2, w, p, r, cp, fl, gone, w_hh)
    if vital_key != 0 and w <= 0.0:  # nobody left: the cell's others get its stocks
        g = ho = ca = a = 0.0
    if c2 != c:
        cell[i] = c2
        present[c2] = True
        if cp[c, CP.kind] == KIND_JOIN and entry[i] < 0:
            entry[i] = month
        if c2 == skip:
            seen[off] = 1
    _store(i, X, w, p, g, ho, ca, a)
    own2 = cp[c2, CP.hetero] > 0.0 and not pooled[c2]
    if own2 and new_eps_key != 0:
        eps[i] = yield_shock(new_eps_key, hid[i], shocks)
    _accumulate(acc, c2, w, p, g, ho, ca, a, w * p * (r if own2 else 1.0),
                a * eps[i] if own2 else 0.0)


@fast_jit
def _home_vital(lo, hi, h, cell, hid, eps, X, corr, pooled, S0, cp, b, move_key, slaughter_key,
                vital_key, area_key, maybe, acc, fl):
    """Drawn deaths and flight: the households of cell ``h`` that ``_home_stayers`` marked in
    ``maybe`` (their draws may give a death or an out-migrant, a few in a hundred), through
    ``_household`` and ``_migrate``. ``_home_stayers`` has booked what their deaths and
    migrants do not change; this books the rest: their weight, persons and key, their
    deaths, migrants and returners, and takes back the stocks of a household left empty
    (which go to its cell's others through the alignment). ``_home_shocks`` draws their new
    yield shocks in June (``area_key`` false: the area times the shock is summed there)."""
    scratch = np.zeros((fl.shape[0], N_FLOWS))
    sw = sp = skey = sg = sh = sc = sa = sakey = 0.0
    for off in range(hi - lo):
        if maybe[off] == 0:
            continue
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        c, w, p, g, ho, ca, a = start_values(i, cell, X, corr, pooled, S0)
        e = eps[i]
        u = unit_uniform(move_key, hid[i]) if cp[c, CP.dst] >= 0.0 else 1.0
        su = unit_uniform(slaughter_key, hid[i]) if cp[c, CP.sq] > 0.0 else 1.0
        _, w, p, g, ho, ca, a, r, gone, w_hh = _household(
            i, c, w, p, g, ho, ca, a, cp, pooled, b, e, u, su, vital_key, hid[i], False,
            scratch)
        w = _migrate(c, w, p, r, cp, scratch, gone, w_hh)
        if w <= 0.0:  # empty: what _home_stayers summed of its stocks is taken back
            sg -= g
            sh -= ho
            sc -= ca
            sa -= a
            sakey -= a * e if area_key else 0.0
            g = ho = ca = a = 0.0
        _store(i, X, w, p, g, ho, ca, a)
        sw += w
        sp += w * p
        skey += w * p * r
    _add_stocks(acc, h, sw, sp, sg, sh, sc, sa, skey)
    acc[h, S_AREA_KEY] += sakey
    for k in (F_DEATHS, F_MIGRANTS, F_RETURNERS, F_DIED_OUT_HH, F_ALL_LEFT_HH):
        fl[h, k] += scratch[h, k]


@fast_jit
def _pooled_rows(lo, hi, cell, hid, X, corr, cp, vital_key, screens, unit_done, unit, present,
                 acc, fl):
    """The rows of ``lo .. hi`` in pooled cells done by ``pooled_units``: each such cell's
    rows have their weight scaled by the month of a unit of weight, and their weights at the
    start of the month and their number summed (``S_POOLED``, ``S_ROWS``). One loop a cell
    ``present`` in the block (a block holds few: its home's kolkhoz and settlement cells),
    each simple enough to vectorise, rather than one loop with a branch a row.

    With ``vital_key`` (heterogeneity on) the deaths and out-migrants of each household are
    its own draws at the cell's rates (``_household``, ``_migrate``; a pooled household's
    hunger key is 1): its new weight, persons and key are summed here, and its deaths and
    migrants and returners booked, in place of the unit's (``engine._add_pooled``)."""
    for c in range(unit_done.size):
        if not (present[c] and unit_done[c]):
            continue
        if vital_key != 0:
            _pooled_drawn(lo, hi, c, cell, hid, X, corr, cp, vital_key, screens, unit, acc, fl)
            continue
        f = corr[c, W] * unit[c, W]
        total = rows = 0.0
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            if cell[i] != c:
                continue
            x = X[W, i]
            total += x
            rows += 1.0
            X[W, i] = x * f
        acc[c, S_POOLED] += total * corr[c, W]
        acc[c, S_ROWS] += rows


@inline_jit
def _pooled_drawn(lo, hi, c, cell, hid, X, corr, cp, vital_key, screens, unit, acc, fl):
    """``_pooled_rows`` for cell ``c`` with drawn deaths and out-migrants (as ``_household``
    and ``_migrate`` draw them). As in ``_home_vital``, a first loop (vectorised) does the
    households whose draws give neither, certainly (``u < 1 - lam``), and marks the others;
    a second does those few."""
    cw, p = corr[c, W], unit[c, P]
    brate = cp[c, CP.births]
    most = 1.0 + brate
    dr = cp[c, CP.deaths]
    dr = dr if dr < most else most
    out_rate = cp[c, CP.mig]
    out_rate = out_rate if out_rate < 1.0 else 1.0
    rrate = cp[c, CP.ret]
    inv = 1.0 / p if p > 0.0 else 0.0
    lam_d, lam_m = p * dr, p * out_rate
    cut = 1.0 - (lam_d + lam_m) * (1.0 + 1e-9)  # below it, neither (see vital_counts)
    calm = cw * most * (1.0 + rrate)  # a household without a death or a migrant
    maybe = np.zeros(hi - lo, dtype=np.uint8)
    total = rows = sw = f_ret = 0.0
    for off in range(hi - lo):
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        if cell[i] != c:
            continue
        hit = np.float64(screens[off]) * _TO_UNIT32 >= cut
        x = X[W, i]
        w = x * calm
        maybe[off] = 1 if hit else 0
        X[W, i] = x if hit else w
        total += x * cw
        rows += 1.0
        sw += 0.0 if hit else w
        f_ret += 0.0 if hit else x * cw * most * p * rrate
    f_d = f_m = f_out = f_left = 0.0
    for off in range(hi - lo):
        if maybe[off] == 0:
            continue
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        w0 = X[W, i] * cw
        n0 = p * most
        dead, gone = vital_counts(vital_key, hid[i], np.float64(screens[off]) * _TO_UNIT32,
                                  lam_d, lam_m, n0)
        n1 = n0 - dead
        out = n1 < EMPTY  # (as _household and _migrate)
        left = not out and n1 - gone < EMPTY
        f_d += w0 * dead
        f_out += w0 if out else 0.0
        f_m += 0.0 if out else w0 * gone
        f_left += w0 if left else 0.0
        f_ret += 0.0 if out or left else w0 * n1 * rrate
        w = 0.0 if out or left else w0 * (n1 - gone + n1 * rrate) * inv
        X[W, i] = w
        sw += w
    acc[c, S_POOLED] += total
    acc[c, S_ROWS] += rows
    acc[c, W] += sw
    acc[c, P] += sw * p
    acc[c, S_KEY] += sw * p
    fl[c, F_DEATHS] += f_d
    fl[c, F_MIGRANTS] += f_m
    fl[c, F_RETURNERS] += f_ret
    fl[c, F_DIED_OUT_HH] += f_out
    fl[c, F_ALL_LEFT_HH] += f_left


@fast_jit
def _home_movers(lo, hi, h, cell, hid, eps, X, entry, corr, pooled, S0, cp, b, move_key,
                 slaughter_key, vital_key, month, seen, present, acc, fl):
    """The households of cell ``h`` (farming alone) in ``lo .. hi`` whose draw moves them
    this month, through ``_household``; they leave ``h``, so ``_home_stayers`` passes them."""
    thr = cp[h, CP.thr]
    for off in range(hi - lo):
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        if (cell[i] != h) | (seen[off] != 0):
            continue
        u = unit_uniform(move_key, hid[i])
        if u >= thr:
            continue
        c, w, p, g, ho, ca, a = start_values(i, cell, X, corr, pooled, S0)
        su = unit_uniform(slaughter_key, hid[i]) if cp[c, CP.sq] > 0.0 else 1.0
        c2, w, p, g, ho, ca, a, r, gone, w_hh = _household(
            i, c, w, p, g, ho, ca, a, cp, pooled, b, eps[i], u, su, vital_key, hid[i], False, fl)
        w = _migrate(c2, w, p, r, cp, fl, gone, w_hh)
        if vital_key != 0 and w <= 0.0:  # nobody left: the cell's others get its stocks
            g = ho = ca = a = 0.0
        cell[i] = c2
        present[c2] = True
        if cp[c, CP.kind] == KIND_JOIN and entry[i] < 0:
            entry[i] = month
        _store(i, X, w, p, g, ho, ca, a)
        own2 = cp[c2, CP.hetero] > 0.0 and not pooled[c2]
        _accumulate(acc, c2, w, p, g, ho, ca, a, w * p * (r if own2 else 1.0),
                    a * eps[i] if own2 else 0.0)


@fast_jit
def _home_stayers_dense(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key, screens,
                        vital_key, area_key, seen, maybe, acc, fl):
    """``_home_stayers`` where most rows of the block are the home's: every row's arithmetic
    done and the others masked (vectorised)."""
    _home_stayers(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key, screens, vital_key,
                  area_key,
                  seen, maybe, acc, fl, True)


@fast_jit
def _home_stayers_sparse(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key, screens,
                         vital_key, area_key, seen, maybe, acc, fl):
    """``_home_stayers`` where few rows of the block are still the home's (most have joined
    kolkhozy): the others skipped by a branch (scalar)."""
    _home_stayers(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key, screens, vital_key,
                  area_key,
                  seen, maybe, acc, fl, False)


@inline_jit
def _home_stayers(lo, hi, h, cell, hid, eps, X, corr, cp, b, slaughter_key, screens, vital_key,
                  area_key, seen, maybe, acc, fl, dense):
    """The month of the households of cell ``h`` (farming alone) in ``lo .. hi`` that stay in
    it: ``_household`` and ``_migrate`` written out for that case (no move, the cell's inputs
    and factors taken once), with no call and no branch the vectoriser cannot turn into a
    select, the block's sums and flows kept in registers. Without ``area_key`` (new yield
    shocks this month) the sum of area times shock is left to ``_home_shocks``. ``dense`` (a
    constant where it is inlined) chooses how the other rows are passed.

    With ``vital_key`` (drawn deaths and flight; the rates here are then 0) a household whose
    draws give neither a death nor a migrant is done here. One whose draws may give one
    (``s >= 1 - lam``, about lam of them: ``vital_counts``) is marked in ``maybe`` for
    ``_home_vital`` and left as it was in the table; its grain, livestock and births are
    booked here (a death or a migrant changes none of them), but not its weight, persons,
    key and returners."""
    cw, cpp, cg = corr[h, W], corr[h, P], corr[h, G]
    chh, cc, ca_ = corr[h, H], corr[h, C], corr[h, A]
    fa, hrate, rel = cp[h, CP.fa], cp[h, CP.hrate], cp[h, CP.relief]
    orate, qrate = cp[h, CP.orate], cp[h, CP.quota]
    brate, drate = cp[h, CP.births], cp[h, CP.deaths]
    mrate, rrate = cp[h, CP.mig], cp[h, CP.ret]
    drawn = vital_key != 0
    # (1e-9: a margin for the rounding of the hunger key, which _household works out in
    # another order; a household in it is passed to _household, which draws as it would)
    margin = 1.0 + 1e-9
    # the keepers' and the slaughterers' factors of horses and cattle, and who slaughters
    fhk, fck, fhs, fcs, sq = cp[h, CP.fhk], cp[h, CP.fck], cp[h, CP.fhs], cp[h, CP.fcs], cp[h, CP.sq]
    # (the draws first, in a loop of their own: a call in the main loop keeps it scalar)
    cuts = np.zeros(hi - lo, dtype=np.uint8)
    if sq > 0.0:
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            if cell[i] == h and seen[off] == 0 and unit_uniform(slaughter_key, hid[i]) < sq:
                cuts[off] = 1
    # hunger_key: (1 + b) / (1 + b q), or 1 without concentration (b, or the cell's persons
    # per t, not positive) and for a row without persons
    keyed = b > 0.0 and cp[h, CP.ref] > 0.0
    top = 1.0 + b if keyed else 1.0
    bq = b * cp[h, CP.ref] if keyed else 0.0
    most = 1.0 + brate
    sw = sp = sg = sh = sc = sa = srows = skey = sakey = 0.0
    f_h = f_r = f_paid = f_q = f_hl = f_b = f_d = f_m = f_ret = f_sl = f_hs = 0.0
    for off in range(hi - lo):
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        if dense:
            if (cell[i] != h) | (seen[off] != 0):  # both tested: a select
                continue
        elif cell[i] != h or seen[off] != 0:  # a branch
            continue
        xw, xg, xh, xc, xa = X[W, i], X[G, i], X[H, i], X[C, i], X[A, i]
        w = xw * cw
        p = X[P, i] * cpp
        g = xg * cg
        ho = xh * chh
        ca = xc * cc
        a = xa * ca_ * fa
        e = eps[i]
        persons = w * p
        r = top / (1.0 + bq * g / persons) if persons > 0.0 else 1.0
        dr = r * drate
        dr = dr if dr < most else most
        out_rate = r * mrate
        out_rate = out_rate if out_rate < 1.0 else 1.0
        hit = drawn & (np.float64(screens[off]) * _TO_UNIT32 >= 1.0 - p * (dr + out_rate) * margin)
        maybe[off] = 1 if hit else 0
        k = 0.0 if hit else 1.0
        dr = 0.0 if drawn else dr
        out_rate = 0.0 if drawn else out_rate
        harvest = hrate * a * e
        relief = rel * persons
        g_mid = (g + harvest + relief) * (1.0 - orate)
        quota = qrate * a
        paid = quota if quota < g_mid else g_mid
        g = g_mid - paid
        g = g if g > 0.0 else 0.0
        ho_before = ho
        cut = cuts[off] != 0
        ho = ho * (fhs if cut else fhk)
        ca = ca * (fcs if cut else fck)
        f_sl += w if cut else 0.0
        f_hs += ho_before * (fhk - fhs) if cut else 0.0
        f_h += harvest
        f_r += relief
        f_paid += paid
        f_q += quota
        f_hl += ho_before - ho
        f_b += persons * brate
        f_d += persons * dr
        w = w * (1.0 + brate - dr)
        persons = w * p  # (_migrate)
        f_m += persons * out_rate
        f_ret += persons * rrate * k
        w = w * (1.0 - out_rate + rrate)
        # (``_store`` written out: through the helper this loop ran a quarter slower; a
        # household left to _home_vital keeps its values)
        X[W, i] = xw if hit else w
        X[P, i] = X[P, i] if hit else p
        X[G, i] = xg if hit else g
        X[H, i] = xh if hit else ho
        X[C, i] = xc if hit else ca
        X[A, i] = xa if hit else a
        sw += w * k
        sp += w * p * k
        sg += g
        sh += ho
        sc += ca
        sa += a
        srows += 1.0
        skey += w * p * r * k
        sakey += a * e
    _add_stocks(acc, h, sw, sp, sg, sh, sc, sa, skey)
    acc[h, S_ROWS] += srows
    if area_key:
        acc[h, S_AREA_KEY] += sakey
    fl[h, F_HARVEST] += f_h
    fl[h, F_RELIEF] += f_r
    fl[h, F_PROCURED] += f_paid
    fl[h, F_QUOTA] += f_q
    fl[h, F_SHORTFALL] += f_q - f_paid
    fl[h, F_HORSES_LOST] += f_hl
    fl[h, F_BIRTHS] += f_b
    fl[h, F_DEATHS] += f_d
    fl[h, F_MIGRANTS] += f_m
    fl[h, F_RETURNERS] += f_ret
    fl[h, F_SLAUGHTER_HH] += f_sl
    fl[h, F_HORSES_SLAUGHTERED] += f_hs


@fast_jit
def _home_shocks(lo, hi, h, cell, hid, eps, X, new_eps_key, shocks, seen, acc):
    """End of June: the households of cell ``h`` still farming alone draw next year's yield
    shock, and their area times it is summed (after ``_home_stayers``)."""
    sakey = 0.0
    for off in range(hi - lo):
        i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
        if (cell[i] != h) | (seen[off] != 0):
            continue
        eps[i] = yield_shock(new_eps_key, hid[i], shocks)
        sakey += np.float64(X[A, i]) * eps[i]
    acc[h, S_AREA_KEY] += sakey


@jit
def trace(rows, cell, hid, eps, X, corr, pooled, S0, cp, b, move_key, slaughter_key,
          vital_key, scale_moves, out):
    """The month of the panel's rows, computed as ``advance`` will (before it runs): per row,
    per household of it, [procured, quota, deaths, births, migrants, net harvest], and
    whether it died out this month, and whether all its members left."""
    fl = np.zeros((cp.shape[0], N_FLOWS))
    for j in range(rows.size):
        i = rows[j]
        c, w, p, g, ho, ca, a = start_values(i, cell, X, corr, pooled, S0)
        own = cp[c, CP.hetero] > 0.0 and not pooled[c]
        e = eps[i] if own else 1.0
        u = unit_uniform(move_key, hid[i]) if cp[c, CP.dst] >= 0.0 else 1.0
        fl[:, :] = 0.0
        su = unit_uniform(slaughter_key, hid[i]) if cp[c, CP.sq] > 0.0 else 1.0
        c2, w2, p2, _, _, _, _, r, gone, w_hh = _household(
            i, c, w, p, g, ho, ca, a, cp, pooled, b, e, u, su, vital_key, hid[i], scale_moves, fl)
        _migrate(c2, w2, p2, r, cp, fl, gone, w_hh)
        inv = 1.0 / w if w > 0.0 else 0.0
        out[j, 0] = fl[c, F_PROCURED] * inv
        out[j, 1] = fl[c, F_QUOTA] * inv
        out[j, 2] = fl[c, F_DEATHS] * inv
        out[j, 3] = fl[c, F_BIRTHS] * inv
        out[j, 4] = fl[c2, F_MIGRANTS] * inv
        out[j, 5] = fl[c, F_HARVEST] * inv
        out[j, 6] = 1.0 if fl[c, F_DIED_OUT_HH] > 0.0 else 0.0
        out[j, 7] = 1.0 if fl[c2, F_ALL_LEFT_HH] > 0.0 else 0.0


@jit
def gather(rows, cell, X, corr, pooled, S0, out):
    """The panel's rows now, per household of the row: [cell, weight, persons, grain, horses,
    cattle, area]."""
    for j in range(rows.size):
        c, w, p, g, ho, ca, a = start_values(rows[j], cell, X, corr, pooled, S0)
        inv = 1.0 / w if w > 0.0 else 0.0
        out[j, 0] = c
        out[j, 1] = w
        out[j, 2] = p
        out[j, 3] = g * inv
        out[j, 4] = ho * inv
        out[j, 5] = ca * inv
        out[j, 6] = a * inv


_LOG2_POLY = (0.58496268, 0.96179617, -0.32062478, 0.14251884, -0.07068612, 0.03753267,
              -0.02482598, 0.01459875)  # log2(x) on [1, 2] in powers of (x - 1.5): a degree-7
# least-squares fit (numpy.polynomial.polyfit on 20,001 points), largest error 8.1e-7
_LOG10_2 = math.log10(2.0)


@inline_jit
def fast_log10(x):
    """log10 of a positive number from its exponent and a polynomial in its mantissa (error
    below 1e-6): the histogram's bin of a household without a call to the C library."""
    m, e = math.frexp(x)  # x = m 2**e, m in [0.5, 1)
    t = 2.0 * m - 1.5
    c = _LOG2_POLY
    y = c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * (c[5] + t * (c[6] + t * c[7]))))))
    return (e - 1 + y) * _LOG10_2


@parallel_jit
def grain_histogram(cell, X, corr, pooled, S0, log_lo, log_step, hist, totals):
    """Persons by their household's grain per head (kg), per block and cell: ``hist`` bin 0
    holds households without grain (under 10**log_lo kg a head: a bound, not 0, so that a
    rounding residue of 1e-15 t does not decide), bin k >= 1 grain per head in
    [10**(log_lo + (k-1) log_step), 10**(log_lo + k log_step)) kg (the last bin also takes
    what falls above); ``totals`` [persons, grain t, households]. The rows
    of a pooled cell all have its grain per head: they are left out of ``hist`` (the caller
    puts the cell's persons in its bin)."""
    n = cell.size
    nblocks = hist.shape[0]
    nb = hist.shape[2]
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            c, w, p, g, _, _, _ = start_values(i, cell, X, corr, pooled, S0)
            if p <= 0.0 or w <= 0.0:
                continue
            totals[blk, c, 0] += w * p
            totals[blk, c, 1] += g
            totals[blk, c, 2] += w
            if pooled[c]:
                continue
            kg = 1000.0 * g / (w * p)
            if kg < 10.0**log_lo:
                k = 0
            else:
                k = 1 + math.floor((fast_log10(kg) - log_lo) / log_step)
                k = max(k, 1)
                k = min(k, nb - 1)
            hist[blk, c, k] += w * p


@parallel_jit
def horses_by_entry(cell, X, entry, horses_ref, corr, pooled, S0, n_cohorts, out):
    """Households that farmed alone at the reference month, by cell and cohort (the year index
    of entering a kolkhoz, ``n_cohorts - 1``: never): [households, horses now, horses then]."""
    n = cell.size
    nblocks = out.shape[0]
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            ref = horses_ref[i]
            if not ref >= 0.0:  # NaN: not farming alone at the reference month
                continue
            c, w, _, _, ho, _, _ = start_values(i, cell, X, corr, pooled, S0)
            k = n_cohorts - 1 if entry[i] < 0 else min(entry[i] // 12, n_cohorts - 2)
            out[blk, c, k, 0] += w
            out[blk, c, k, 1] += ho
            out[blk, c, k, 2] += w * ref


@parallel_jit
def snapshot_horses(cell, X, corr, pooled, S0, individual, horses_ref):
    """Each household's horses now if it farms alone (``individual[c]``), else NaN."""
    n = cell.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, n)
        for off in range(hi - lo):
            i = np.uint64(lo + off)  # unsigned: see ROW_INDEX
            c, w, _, _, ho, _, _ = start_values(i, cell, X, corr, pooled, S0)
            horses_ref[i] = ho / w if individual[c] and w > 0.0 else np.nan
