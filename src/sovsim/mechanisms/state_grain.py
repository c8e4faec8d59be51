"""Mechanism 5, state grain: procured grain feeds the army, the towns, the camps and special
settlements, the cotton zones, seasonal workers, state farms, exports, the reserve, and the
dated seed and food loans to the villages (docs/state-grain.md).

Every use is a flow of its own (``engine.flows``, the scalar and unit flows marked ``state``)
with a size from a source, or derived from sourced factors, or an assumption that says so.
The order of claims is policy's: the army first; then the town rations (workers and
dependants at the Narkomsnab norms; without rationing the state's trade instead); the camps
and the special settlements; the cotton zones, timber and construction, state seed and feed;
the loans and relief that decisions lent (instruments, by region); exports toward the year's
target above a floor; the untouchable reserve toward its decided size; last, bread sold in the
towns beyond the ration from what lies above the working stock. Short supply cuts the later
claims. Nothing is handed to the villages but what a decision lent: loans are repaid from the
next harvest (August-October) as an obligation beside procurement.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sovsim.compiled import kernel, total
from sovsim.regions import REGIONS
from sovsim.state.table import FOOD_RATIO, GRAIN, PERSONS

N_REGIONS = len(REGIONS)
DAYS_PER_MONTH = 365.0 / 12.0

# ``allocate``'s result: the month's uses (t), the loans and relief and the repayments by unit
# (t), the reserve's change (t), the ratio of what the towns get to their need, their need.
Allocation = namedtuple("Allocation", (
    "army_t rations_workers_t rations_dependants_t commercial_sales_t gulag_t settlements_t "
    "cotton_zones_t timber_construction_t state_seed_feed_t exports_t to_reserve_t "
    "relief_t seed_loan_t food_loan_t loan_repaid_t urban_grain_ratio urban_need_t"))


@kernel
def _take(want, free):
    """What a claim of ``want`` t gets from ``free`` t (never more than there is)."""
    return min(max(want, 0.0), max(free, 0.0))


@kernel
def repayments(hv, lab, p, pol, cm, to_harvest, owed):
    """The seed and food loans collected this month by unit (t): in August-October each
    region pays ``pol.loan_repayment_share`` of what it still owes, spread over the months
    left of the window, from the grain its villages hold above the procurement floor (shared
    by that grain). What cannot be collected stays owed."""
    rows = np.zeros(hv.shape[1])
    if cm < 8 or cm > 10:
        return rows
    # (the floor is regional since issue 15's regional measures)
    floor_t = pol.procurement_floor_kg_per_person_year[lab.region] / 1000.0 * to_harvest / 12.0
    spare = np.maximum(hv[GRAIN] - hv[PERSONS] * floor_t, 0.0) * lab.farming
    for r in range(N_REGIONS):
        due = owed[r] * min(pol.loan_repayment_share[r], 1.0) / (11 - cm)
        if due <= 0:
            continue
        held = 0.0
        for u in range(hv.shape[1]):
            if lab.region[u] == r:
                held += spare[u]
        if held <= 0:
            continue
        paid = min(due, held)
        for u in range(hv.shape[1]):
            if lab.region[u] == r:
                rows[u] = paid * spare[u] / held
    return rows


@kernel
def _lend(hv, lab, amount_r, free):
    """A month's loans by region (t, ``amount_r``) shared among each region's villages by
    persons, up to three times as much a head where food ran out; bounded by ``free``. Returns
    the rows by unit and what was lent by region."""
    rows = np.zeros(hv.shape[1])
    lent = np.zeros(N_REGIONS)
    weight = hv[PERSONS] * (1.5 - np.minimum(hv[FOOD_RATIO], 1.0)) * lab.farming
    for r in range(N_REGIONS):
        got = _take(amount_r[r], free)
        if got <= 0:
            continue
        w = 0.0
        for u in range(hv.shape[1]):
            if lab.region[u] == r:
                w += weight[u]
        if w <= 0:
            continue
        for u in range(hv.shape[1]):
            if lab.region[u] == r:
                rows[u] = got * weight[u] / w
        lent[r] = got
        free -= got
    return rows, lent


@kernel
def allocate(hv, lab, state_grain_t, urban_persons, p, pol, cm, to_harvest, private_t, mem):
    """The month's uses of the state's grain (``Allocation``). ``state_grain_t`` is the stock
    at the step's start; ``mem`` (``packed.MEMORY_DTYPE``) carries the year's exports and
    relief, the reserve and the loans owed by region, and is updated here: the loans lent are
    added to what each region owes, the repayments taken from it, the reserve moved."""
    repaid = repayments(hv, lab, p, pol, cm, to_harvest, mem.loans_outstanding_t)
    repaid_r = np.zeros(N_REGIONS)
    for u in range(hv.shape[1]):
        repaid_r[lab.region[u]] += repaid[u]
    for r in range(N_REGIONS):
        mem.loans_outstanding_t[r] = max(mem.loans_outstanding_t[r] - repaid_r[r], 0.0)
    free = state_grain_t + total(repaid) - mem.reserve_t  # the reserve is not drawn on
    army = _take(p.state_grain_army_t_per_year / 12.0, free)
    free -= army
    # The state's own consumers: the towns (the ration norms by list under rationing, workers
    # and dependants, less what the towns bought privately; without rationing the state's
    # trade sells them what they did not buy privately), the camps, the special settlements
    # (deported units: their food energy, as grain), the cotton zones, seasonal timber and
    # construction workers, state seed and feed. Before the new grain comes in (procurement
    # resumes in August) the state spreads what it holds over the months left, cutting every
    # ration by the same share rather than running out.
    full_need = urban_persons * p.state_grain_urban_grain_kg_per_person_year / 1000.0 / 12.0
    spread = (8 - cm) if cm <= 7 else 1
    bread_to_grain = p.state_grain_grain_kg_per_kg_bread * DAYS_PER_MONTH / 1000.0
    need_w = need_d = need_trade = 0.0
    if pol.rationing:
        share_w = p.industry_urban_labour_participation
        need_w = urban_persons * share_w * p.state_grain_ration_bread_kg_per_worker_day \
            * bread_to_grain
        need_d = urban_persons * (1.0 - share_w) \
            * p.state_grain_ration_bread_kg_per_dependant_day * bread_to_grain
        ration = need_w + need_d
        cut = max(ration - private_t, 0.0) / ration if ration > 0 else 0.0
        need_w *= cut
        need_d *= cut
    else:
        need_trade = max(full_need - private_t, 0.0)
    need_gulag = pol.gulag_persons * p.state_grain_gulag_ration_kg_per_day \
        * DAYS_PER_MONTH / 1000.0
    settlers = total(hv[PERSONS] * lab.deported)
    need_settle = settlers * p.food_special_settlement_kcal_per_person_day \
        / p.food_grain_kcal_per_kg * DAYS_PER_MONTH / 1000.0
    need_cotton = pol.cotton_zones_grain_t_per_year / 12.0
    need_timber = pol.timber_construction_grain_t_per_year / 12.0
    need_seed = pol.state_seed_feed_t_per_year / 12.0
    claims = need_w + need_d + need_trade + need_gulag + need_settle + need_cotton \
        + need_timber + need_seed
    scale = min(max(free, 0.0) / spread / claims, 1.0) if claims > 0 else 0.0
    workers, dependants, commercial = need_w * scale, need_d * scale, need_trade * scale
    gulag, settlements = need_gulag * scale, need_settle * scale
    cotton, timber, seed_feed = need_cotton * scale, need_timber * scale, need_seed * scale
    free -= claims * scale
    # The loans decisions lent this month, by region; owed until repaid.
    seed_rows, seed_r = _lend(hv, lab, pol.seed_loan_t_per_month, free)
    free -= total(seed_rows)
    food_rows, food_r = _lend(hv, lab, pol.food_loan_t_per_month, free)
    free -= total(food_rows)
    for r in range(N_REGIONS):
        mem.loans_outstanding_t[r] += seed_r[r] + food_r[r]
    # Non-repayable famine relief, national, to the villages by their food deficit (Feb-Jun).
    relief_rows = np.zeros(hv.shape[1])
    if 2 <= cm <= 6:
        goal = max(pol.famine_relief_t - mem.relief_in_year, 0.0) / ((6 - cm) + 1)
        deficit = hv[PERSONS] * np.maximum(1.0 - hv[FOOD_RATIO], 0.0) * lab.farming
        relief = _take(goal, free)
        if relief > 0 and total(deficit) > 0:
            relief_rows = relief * deficit / total(deficit)
            free -= relief
    mem.relief_in_year += total(relief_rows)
    left = (6 - cm) % 12 + 1  # months left in the agricultural year (July-June), this one too
    export_goal = max(pol.grain_export_target_t - mem.exported_in_year, 0.0) / left
    exports = _take(export_goal, free - p.state_grain_reserve_floor_t)
    free -= exports
    mem.exported_in_year += exports
    # The untouchable reserve: filled toward its decided size from what is left above the
    # export floor; a lower decided size returns the excess to the working stock.
    gap = pol.state_reserve_target_t - mem.reserve_t
    to_reserve = _take(gap, free - p.state_grain_reserve_floor_t) if gap >= 0 else gap
    free -= to_reserve
    mem.reserve_t += to_reserve
    # Under rationing, bread sold in the towns beyond the ration (the commercial shops of
    # 1931-35), up to the towns' need, from what lies above the working stock.
    if pol.rationing:
        working = full_need * p.state_grain_reserve_months_of_town_supply
        commercial = _take(full_need - private_t - workers - dependants, free - working)
        free -= commercial
    urban_food = (workers + dependants + commercial + private_t) / max(full_need, 1e-300)
    return Allocation(army, workers, dependants, commercial, gulag, settlements, cotton, timber,
                      seed_feed, exports, to_reserve, relief_rows, seed_rows, food_rows, repaid,
                      urban_food, full_need)
