"""Mechanism 5, state grain: procured grain feeds the army, the towns, exports and relief.

The order is set by policy: the army first, then town supply (the ration norm under rationing,
the full norm through state trade otherwise, less what towns bought privately), then exports
toward the year's target, then famine relief. What is left is the reserve. Short supply cuts
urban food.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sovsim.compiled import kernel, total
from sovsim.state.table import FOOD_RATIO, PERSONS

# ``allocate``'s result (t; relief and released by unit; the ratio of what the towns get to
# their need).
Allocation = namedtuple("Allocation", "army_t to_towns_t exports_t relief_t released_t "
                                      "urban_grain_ratio urban_need_t")


@kernel
def allocate(hv, lab, state_grain_t, urban_persons, p, pol, cm, private_t, exported_so_far_t,
             relief_so_far_t):
    """The month's use of the state's grain: the army, the towns, exports, and by unit the
    famine relief and the grain released to the villages. Returns (army, to_towns, exports,
    relief by unit, released by unit, urban grain ratio, the towns' full need), in t."""
    stock = state_grain_t
    army = min(p.state_grain_army_t_per_year / 12.0, stock)
    stock -= army
    full_need = urban_persons * p.state_grain_urban_grain_kg_per_person_year / 1000.0 / 12.0
    norm = p.state_grain_ration_share_of_need if pol.rationing else 1.0
    # Before the new grain comes in (procurement resumes in August) the state spreads what it
    # holds over the months left, cutting rations rather than running out.
    spread = (8 - cm) if cm <= 7 else 1
    to_towns = min(max(full_need * norm - private_t, 0.0), stock / spread)
    stock -= to_towns
    reserve = p.state_grain_reserve_floor_t
    left = (6 - cm) % 12 + 1  # months left in the agricultural year (July-June), this one too
    export_goal = max(pol.grain_export_target_t - exported_so_far_t, 0.0) / left
    exports = min(export_goal, max(stock - reserve, 0.0))
    stock -= exports
    relief_rows = np.zeros(hv.shape[1])
    if 2 <= cm <= 6:  # the hungry months before the harvest
        goal = max(pol.famine_relief_t - relief_so_far_t, 0.0) / ((6 - cm) + 1)
        relief = min(goal, stock)
        if relief > 0:
            deficit = hv[PERSONS] * np.maximum(1.0 - hv[FOOD_RATIO], 0.0) * lab.farming
            if total(deficit) > 0:
                relief_rows = relief * deficit / total(deficit)
                stock -= relief
    # Stocks above the reserve (months of town supply) are sold: first in the towns beyond the
    # ration (the commercial bread shops of 1931-35, free sale after), then back to
    # grain-deficit villages as the seed and food loans of February-May.
    target = full_need * p.state_grain_reserve_months_of_town_supply
    surplus = max(stock - target, 0.0) * p.state_grain_release_share_per_month
    extra_towns = min(surplus, max(full_need - private_t - to_towns, 0.0))
    to_towns += extra_towns
    stock -= extra_towns
    surplus -= extra_towns
    release_rows = np.zeros(hv.shape[1])
    if surplus > 0 and 2 <= cm <= 5:
        # Loans go to every village by its people, up to three times as much per head where
        # food ran out.
        weight = hv[PERSONS] * (1.5 - np.minimum(hv[FOOD_RATIO], 1.0)) * lab.farming
        if total(weight) > 0:
            release_rows = surplus * weight / total(weight)
    urban_food = (to_towns + private_t) / max(full_need, 1e-300)
    return Allocation(army, to_towns, exports, relief_rows, release_rows, urban_food, full_need)
