"""Mechanism 5, state grain: procured grain feeds the army, the towns, exports and relief.

The order is set by policy: the army first, then town supply (the ration norm under rationing,
the full norm through state trade otherwise, less what towns bought privately), then exports
toward the year's target, then famine relief. What is left is the reserve. Short supply cuts
urban food.
"""

from __future__ import annotations

import numpy as np

from sovsim.mechanisms.agriculture import DEP
from sovsim.mechanisms.context import Step
from sovsim.state import HouseholdTable, MacroState


# Months left in the agricultural year (July-June), counting this one.
def _months_left_in_year(cm: int) -> int:
    return (6 - cm) % 12 + 1


def allocate(h: HouseholdTable, macro: MacroState, s: Step, private_t: float,
             exported_so_far_t: float, relief_so_far_t: float) -> dict[str, float | np.ndarray]:
    p, pol = s.p, s.pol
    stock = macro["state_grain_t"]
    army = min(p["state_grain.army_t_per_year"] / 12.0, stock)
    stock -= army
    urban = macro["urban_persons"]
    full_need = urban * p["state_grain.urban_grain_kg_per_person_year"] / 1000.0 / 12.0
    norm = p["state_grain.ration_share_of_need"] if pol["rationing"] else 1.0
    # Before the new grain comes in (procurement resumes in August) the state spreads what it
    # holds over the months left, cutting rations rather than running out.
    spread = (8 - s.cm) if s.cm <= 7 else 1
    to_towns = min(max(full_need * norm - private_t, 0.0), stock / spread)
    stock -= to_towns
    reserve = p["state_grain.reserve_floor_t"]
    left = _months_left_in_year(s.cm)
    export_goal = max(pol["grain_export_target_t"] - exported_so_far_t, 0.0) / left
    exports = min(export_goal, max(stock - reserve, 0.0))
    stock -= exports
    relief_rows = np.zeros(len(h))
    if s.cm in (2, 3, 4, 5, 6):  # the hungry months before the harvest
        goal = max(pol["famine_relief_t"] - relief_so_far_t, 0.0) / ((6 - s.cm) + 1)
        relief = min(goal, stock)
        if relief > 0:
            deficit = h["persons"] * np.maximum(1.0 - h["food_ratio"], 0.0) * ~h.is_tenure(DEP)
            if deficit.sum() > 0:
                relief_rows = relief * deficit / deficit.sum()
                stock -= relief
    # Stocks above the reserve (months of town supply) are sold: first in the towns beyond the
    # ration (the commercial bread shops of 1931-35, free sale after), then back to
    # grain-deficit villages as the seed and food loans of February-May.
    target = full_need * p["state_grain.reserve_months_of_town_supply"]
    surplus = max(stock - target, 0.0) * p["state_grain.release_share_per_month"]
    extra_towns = min(surplus, max(full_need - private_t - to_towns, 0.0))
    to_towns += extra_towns
    stock -= extra_towns
    surplus -= extra_towns
    release_rows = np.zeros(len(h))
    if surplus > 0 and s.cm in (2, 3, 4, 5):
        # Loans go to every village by its people, up to three times as much per head where
        # food ran out.
        weight = h["persons"] * (1.5 - np.minimum(h["food_ratio"], 1.0)) * ~h.is_tenure(DEP)
        if weight.sum() > 0:
            release_rows = surplus * weight / weight.sum()
    urban_food = (to_towns + private_t) / max(full_need, 1e-300)
    return {
        "army_t": army,
        "to_towns_t": to_towns,
        "exports_t": exports,
        "relief_t": relief_rows,
        "released_t": release_rows,
        "urban_grain_ratio": urban_food,
        "urban_need_t": full_need,
    }
