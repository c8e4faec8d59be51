"""What the household passes need from the cell model's month (``engine.py``): the per-cell
inputs of ``engine_kernels`` (rates, factors, moves), the keys' normalisation, the moves made
exact or kept represented, and the cell model's own flows to set beside the households'."""

from __future__ import annotations

import numpy as np

from sovsim.engine.schedule import Month
from sovsim.households import engine_kernels as K
from sovsim.households.tables import STOCK_NAMES
from sovsim.mechanisms.context import Step
from sovsim.population.cells import N_CELLS
from sovsim.regions import CLASSES, TENURES
from sovsim.state.table import ROW

IND, KOL, DEP = (TENURES.index(t) for t in ("individual", "kolkhoz", "deported"))


def safe_div(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b > 0)
    return out


def cell_inputs(h, S0: np.ndarray, out: Month, s: Step, hetero_cells: np.ndarray
                ) -> np.ndarray:
    """The per-cell inputs (``K.CELL_INPUTS``) from the cell model's month ``out`` (its
    flows by name, ``engine.flows``), ``S0`` the cells' stocks at its start."""
    u = out.flows
    cp = np.zeros((N_CELLS, K.N_CP))
    P0, G0 = S0[:, K.P], S0[:, K.G]
    cp[:, K.CP.ref] = safe_div(P0, G0)
    relief = u["relief_t"] + u["seed_loan_t"] + u["food_loan_t"]  # the state's grain received
    harvest_net = u["harvest_t"] - u["losses_t"]
    g_in = G0 + harvest_net + relief
    other = (u["seed_t"] + u["food_t"] + u["feed_t"] + u["private_sales_t"]
             + u["loan_repaid_t"])
    cp[:, K.CP.relief] = safe_div(relief, P0)
    cp[:, K.CP.orate] = safe_div(other, g_in)
    cp[:, K.CP.prate] = safe_div(u["procured_t"], g_in)
    cp[:, K.CP.hrate] = harvest_net  # per unit of key: divided in _normalise*
    hb, ha = u["herds_before"], u["herds_after"]
    cp[:, K.CP.fh] = safe_div(ha[0], hb[0])
    cp[:, K.CP.fc] = safe_div(ha[1], hb[1])
    slaughter_inputs(cp, hb, u["slaughter"], hetero_cells,
                     float(s.p["households.slaughter_share_of_herd"]))
    if out.july:
        cp[:, K.CP.fa] = safe_div(u["area_harvested_ha"], u["area_before"])
    else:
        cp[:, K.CP.fa] = 1.0
    cp[:, K.CP.births] = safe_div(u["births"], P0)
    cp[:, K.CP.deaths] = u["deaths"]  # per unit of key: divided in _normalise*
    cp[:, K.CP.dst] = -1.0
    for kind, (src, dst, frac) in zip((K.KIND_DEPORT, None), out.moves):
        for a, d, f in zip(np.asarray(src), np.asarray(dst), np.asarray(frac, dtype=float)):
            if f <= 0:
                continue
            k = kind or (K.KIND_JOIN if h["tenure"][a] == IND else K.KIND_EXIT)
            cp[a, K.CP.dst], cp[a, K.CP.frac], cp[a, K.CP.kind] = d, min(f, 1.0), k
            cp[a, K.CP.thr] = min(f, 1.0)
    premig = u["persons_before_migration"]
    cp[:, K.CP.mig] = leavers(u)  # per unit of key: divided in _normalise*
    cp[:, K.CP.ret] = safe_div(u["returners"], premig)
    cp[:, K.CP.hetero] = hetero_cells
    cp[:, K.CP.mover:K.CP.mover + K.N_STOCKS] = 1.0
    cp[:, K.CP.stayer:K.CP.stayer + K.N_STOCKS] = 1.0
    cp[:, K.CP.mover_set:K.CP.mover_set + K.N_STOCKS] = np.nan
    cp[:, K.CP.stayer_set:K.CP.stayer_set + K.N_STOCKS] = np.nan
    return cp


def slaughter_inputs(cp: np.ndarray, before: np.ndarray, slaughter: np.ndarray,
                     hetero_cells: np.ndarray, sigma: float) -> None:
    """Who slaughters (heterogeneity on, households farming alone). The cell model slaughters
    a share s of each herd of a unit (the same share of horses and of cattle: the
    collectivization pressure's). With heterogeneity a household instead slaughters
    ``sigma`` of its animals, with probability q = s / sigma (capped at 1, and then the
    share slaughtered is s), by its own draw; the others keep theirs. The expected herd is
    the cell's: (1 - q)(f + s) + q (f + s - s / q) = f, f the cell's factor. Writes CP.sq,
    the keepers' factors CP.fhk, CP.fck, the slaughterers' CP.fhs, CP.fcs (never below 0), and
    the cell's share of horses slaughtered CP.sh."""
    sh = safe_div(slaughter[0], before[0])
    sc = safe_div(slaughter[1], before[1])
    cp[:, K.CP.sh] = sh
    share = np.maximum(sh, sc)
    q = np.minimum(share / sigma, 1.0) if sigma > 0 else np.zeros_like(share)
    q = np.where(hetero_cells > 0, q, 0.0)
    cp[:, K.CP.sq] = q
    cp[:, K.CP.fhk] = cp[:, K.CP.fh] + np.where(q > 0, sh, 0.0)
    cp[:, K.CP.fck] = cp[:, K.CP.fc] + np.where(q > 0, sc, 0.0)
    cp[:, K.CP.fhs] = np.maximum(cp[:, K.CP.fhk] - safe_div(sh, q), 0.0)
    cp[:, K.CP.fcs] = np.maximum(cp[:, K.CP.fck] - safe_div(sc, q), 0.0)


def normalise_shared(cp: np.ndarray, out: Month, S0: np.ndarray) -> None:
    """Heterogeneity off: every key is the stock itself, whose sums are the cell's."""
    area_new = S0[:, K.A] * cp[:, K.CP.fa]
    cp[:, K.CP.hrate] = safe_div(cp[:, K.CP.hrate], area_new)
    cp[:, K.CP.quota] = 0.0
    cp[:, K.CP.deaths] = safe_div(cp[:, K.CP.deaths], S0[:, K.P])
    cp[:, K.CP.mig] = safe_div(cp[:, K.CP.mig], out.flows["persons_before_migration"])


def normalise(cp: np.ndarray, out: Month, S0: np.ndarray, ksum: np.ndarray, harvest: bool
               ) -> None:
    """Heterogeneity on: the keys' sums come from the ``keys`` pass."""
    key_deaths = ksum[:, 0]
    area_new = S0[:, K.A] * cp[:, K.CP.fa]
    # The harvest's key is area times the yield shock where households farm alone; in the
    # pooled cells (kolkhoz, settlement) it is the area itself, the cell's, which their rows
    # share (the pass sums the key only for rows farming alone).
    key_area = np.where(cp[:, K.CP.hetero] > 0, ksum[:, 1], area_new)
    cp[:, K.CP.hrate] = safe_div(cp[:, K.CP.hrate], key_area) if harvest else 0.0
    # procurement as a quota on the planned harvest: the cell's procurement per ha
    cp[:, K.CP.quota] = safe_div(out.flows["procured_t"], area_new)
    cp[:, K.CP.deaths] = safe_div(cp[:, K.CP.deaths], key_deaths)
    # Migrants: by persons times the hunger key in the cell after the moves; the key's mean
    # is taken as the cell's at the start of the month (the alignment closes the rest).
    mean_key = np.where(S0[:, K.P] > 0, safe_div(key_deaths, S0[:, K.P]), 1.0)
    cp[:, K.CP.mig] = safe_div(cp[:, K.CP.mig],
                               out.flows["persons_before_migration"] * mean_key)


def represent_moves(table, cp: np.ndarray, move_key, nblocks: int, exact: bool,
                    rows_in: np.ndarray) -> bool:
    """A cell from which the cell model moves a share 0 < f < 1 keeps at least one of its rows
    (if it has two), and sends at least one where the moves must be exact (heterogeneity
    off) or where the cell it sends to has no row yet: where the draws ``u < f`` pick all
    (or none), the threshold is moved to the greatest draw (or just above the least). At 25
    million households this hardly ever happens; at a few thousand it keeps small moves
    represented. Returns whether the draws were counted (a pass). A cell that expects at least
    30 movers and 30 stayers (the chance of none is below 1e-13) is not looked at, unless the
    moves must be exact."""
    moving = cp[:, K.CP.dst] >= 0
    f = np.minimum(cp[:, K.CP.frac], 1.0 - cp[:, K.CP.frac])
    need = moving & (exact | (rows_in * f < 30))
    if not need.any():
        return False
    draws = np.zeros((nblocks, N_CELLS, 4))
    K.move_draws(table.cell, table.hid, cp, need, move_key, draws)
    picked, rows = draws[:, :, 0].sum(axis=0), draws[:, :, 1].sum(axis=0)
    least, greatest = draws[:, :, 2].min(axis=0), draws[:, :, 3].max(axis=0)
    for c in np.flatnonzero(need):
        if rows[c] == 0 or cp[c, K.CP.frac] >= 1.0:
            continue
        dst = int(cp[c, K.CP.dst])
        if picked[c] == 0 and (exact or rows_in[dst] == 0):
            cp[c, K.CP.thr] = np.nextafter(least[c], 2.0)
        elif picked[c] == rows[c] and rows[c] >= 2:
            cp[c, K.CP.thr] = greatest[c]
    return True


def land_and_animals_to_kolkhoz(raw: np.ndarray, flows: np.ndarray, cp: np.ndarray,
                                 absorbed: set[int]) -> None:
    """The deportees' horses, cattle and land go to the kolkhoz (poor) of their region, as in
    the cell model (``schedule._deport``): added to that cell's sums, unless the exact moves
    out of that kolkhoz have already shared them among its movers and stayers."""
    nk, nt = len(CLASSES), len(TENURES)
    for c in np.flatnonzero(cp[:, K.CP.kind] == K.KIND_DEPORT):
        kolkhoz = (c // (nk * nt)) * nk * nt + KOL
        if kolkhoz in absorbed:
            continue
        for k, f in ((K.H, K.F_CONF_H), (K.C, K.F_CONF_C), (K.A, K.F_CONF_A)):
            raw[kolkhoz, k] += flows[c, f]


def exact_moves(cp: np.ndarray, ksum: np.ndarray, out: Month, absorbed: set[int]) -> int:
    """Heterogeneity off: scale movers and stayers so that each cell moves exactly the cell
    model's share of each stock, of the totals the cell model moved it from (after the
    deportations, for the kolkhoz moves: the kolkhoz of the poor has the deportees' animals
    and land by then). A stock the movers (or stayers) hold none of is set to the mean per
    household of what they should hold. Returns how many moving cells had no mover, or no
    stayer where some should stay (the alignment then closes the gap)."""
    unmatched = 0
    src, _, frac = out.moves[1]
    before = out.before_collectivize
    at_move: dict[int, np.ndarray] = {}
    if before is not None:
        rows = [ROW[name] for name in STOCK_NAMES]
        for j, c in enumerate(np.asarray(src)):
            if frac[j] > 0:
                at_move[int(c)] = before[rows, j]
    for c in np.flatnonzero(cp[:, K.CP.dst] >= 0):
        f = cp[c, K.CP.frac]
        mv, st = ksum[c, 2:8], ksum[c, 8:14]
        tot = at_move.get(int(c), mv + st)
        if tot[K.W] <= 0:
            continue
        if mv[K.W] <= 0 or (st[K.W] <= 0 and f < 1):
            unmatched += 1
            continue
        if int(c) in at_move:
            absorbed.add(int(c))
        for base, put, held, share in ((K.CP.mover, K.CP.mover_set, mv, f),
                                       (K.CP.stayer, K.CP.stayer_set, st, 1 - f)):
            if held[K.W] <= 0:
                continue
            sw = share * tot[K.W] / held[K.W]
            cp[c, base + K.W] = sw
            for k in range(1, K.N_STOCKS):
                want = share * tot[k]
                if held[k] > 0:  # persons per household by its factor over the weight's;
                    # the rows' totals by their own
                    cp[c, base + k] = want / held[k] / (sw if k == K.P else 1.0)
                elif want > 0:  # none held: the mean per household of what should be
                    cp[c, put + k] = want / (share * tot[K.W])
    return unmatched


def cell_flows(out: Month, cp: np.ndarray, S0: np.ndarray) -> np.ndarray:
    """The cell model's own flows of the month, by cell, where it has them (else NaN): the
    figures the households' flows are shared from."""
    u = out.flows
    f = np.full((N_CELLS, K.N_FLOWS), np.nan)
    f[:, K.F_BIRTHS], f[:, K.F_DEATHS] = u["births"], u["deaths"]
    f[:, K.F_MIGRANTS], f[:, K.F_RETURNERS] = leavers(u), u["returners"]
    f[:, K.F_HARVEST] = u["harvest_t"] - u["losses_t"]
    f[:, K.F_RELIEF] = u["relief_t"] + u["seed_loan_t"] + u["food_loan_t"]
    f[:, K.F_PROCURED] = u["procured_t"]
    f[:, K.F_DEP_PERSONS] = u["deported_persons"]
    f[:, K.F_HORSES_LOST] = u["herds_before"][0] - u["herds_after"][0]
    f[:, K.F_HORSES_SLAUGHTERED] = u["slaughter"][0]
    conf = np.zeros(N_CELLS)
    src, dst, _ = out.moves[0]
    conf[np.asarray(src)] = np.asarray(u["confiscated_t"])[np.asarray(dst)]
    f[:, K.F_CONFISCATED] = conf
    return f




def leavers(u: dict) -> np.ndarray:
    """Persons leaving each cell this month: migrants to the towns and, issue 15 (kazakh),
    those fleeing hunger within the USSR and abroad (the households draw them alike; the
    cell model says where they go)."""
    return u["migrants"] + u["fled_within_ussr"] + u["fled_abroad"]
