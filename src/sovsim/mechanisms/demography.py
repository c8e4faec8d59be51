"""Mechanism 2, demography: births, deaths, famine, deportation, collectivization, migration.

Baseline births and deaths at the rates of the late 1920s. Famine mortality rises with the
shortfall of food energy against need, below a threshold, by unit (region x class x tenure).
Households labelled kulak are deported to special settlements (their grain confiscated, their
animals and land given to the kolkhoz), where mortality is higher. Households enter kolkhozy at
the pace policy drives them toward its target, and leave when exit is allowed. Rural people
move to town when town jobs call and town food is better; passports cut the flow.
"""

from __future__ import annotations

import numpy as np

from sovsim.mechanisms.agriculture import DEP, HERDS, IND, KOL
from sovsim.mechanisms.context import Step
from sovsim.regions import CLASSES
from sovsim.state import HouseholdTable

KULAK, POOR = CLASSES.index("kulak"), CLASSES.index("poor")


def meat_kcal_per_head(p) -> np.ndarray:
    """Food energy of one slaughtered animal, per herd (HERDS order), as a column."""
    return np.array([[p[f"food.{k}_meat_kcal_per_head"]] for k in HERDS])


def food_energy(h: HouseholdTable, s: Step, food_t: np.ndarray, slaughter_head: np.ndarray
                ) -> np.ndarray:
    """kcal per person per day of each unit: grain, animal products, slaughter (head, by herd
    in HERDS order), other food."""
    p = s.p
    persons = np.maximum(h["persons"], 1e-300)
    days = 365.0 / 12.0
    grain = food_t * 1000.0 * p["food.grain_kcal_per_kg"] / days
    dairy = (h["cattle"] * p["food.cattle_kcal_per_head_day"]
             + h["sheep_goats"] * p["food.sheep_goats_kcal_per_head_day"])
    meat = (slaughter_head * s.per_run(meat_kcal_per_head)).sum(axis=0) / days
    kcal = (grain + dairy + meat) / persons + p["food.other_kcal_per_person_day"]
    # Deported households live on special-settlement rations.
    return np.where(h.is_tenure(DEP), p["food.special_settlement_kcal_per_person_day"], kcal)


def vital(h: HouseholdTable, s: Step, kcal: np.ndarray) -> dict[str, np.ndarray]:
    """Births and deaths (persons) this month, and the famine deaths among them."""
    p = s.p
    ratio = kcal / p["food.kcal_need_per_person_day"]
    short = np.maximum(p["demography.famine_threshold_ratio"] - ratio, 0.0) / p["demography.famine_threshold_ratio"]
    famine_rate = p["demography.famine_mortality_per_month"] * short ** p["demography.famine_exponent"]
    base = p["demography.rural_death_rate_per_year"] / 12.0
    settle = np.where(h.is_tenure(DEP), p["demography.special_settlement_excess_death_rate_per_year"] / 12.0, 0.0)
    # (numerical guard: at most half a unit dies in a month; the calibrated scale stays below)
    excess = h["persons"] * np.minimum(famine_rate + settle, 0.5)
    deaths = h["persons"] * base + excess
    births = h["persons"] * p["demography.rural_birth_rate_per_year"] / 12.0 * np.minimum(ratio, 1.0)
    return {"births": births, "deaths": deaths, "excess_deaths": excess, "food_ratio": ratio}


def urban_vital(urban_persons: float, s: Step, grain_ratio: float) -> dict[str, float]:
    """Births and deaths in the towns this month; famine deaths when bread runs short."""
    p = s.p
    kcal = (grain_ratio * p["state_grain.urban_grain_kg_per_person_year"] * p["food.grain_kcal_per_kg"] / 365.0
            + p["food.urban_other_kcal_per_person_day"])
    ratio = kcal / p["food.kcal_need_per_person_day"]
    thr = p["demography.famine_threshold_ratio"]
    short = max(thr - ratio, 0.0) / thr
    famine = p["demography.famine_mortality_per_month"] * short ** p["demography.famine_exponent"]
    excess = urban_persons * min(famine, 0.5)
    births = urban_persons * p["demography.urban_birth_rate_per_year"] / 12.0
    deaths = urban_persons * p["demography.urban_death_rate_per_year"] / 12.0 + excess
    return {"births": births, "deaths": deaths, "excess_deaths": excess, "kcal": kcal,
            "food_ratio": ratio}


def kolkhoz_share(h: HouseholdTable) -> np.ndarray:
    """Share of (non-deported) peasant households in kolkhozy, by region."""
    kol = h.by_region(np.where(h.is_tenure(KOL), h["households"], 0.0))
    ind = h.by_region(np.where(h.is_tenure(IND), h["households"], 0.0))
    return kol / np.maximum(kol + ind, 1e-300)


def collectivize(h: HouseholdTable, s: Step, share_r: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows to move (src, dst, fraction): entries into, and exits from, kolkhozy."""
    p = s.p
    reg = h["region"]
    gap = np.maximum(s.pol["collectivization_target_share"] - share_r, 0.0)
    # Local officials drove faster than the decrees (the 'dizziness' of 1930): one constant.
    pace = np.minimum(s.pol["collectivization_pace_per_month"] * p["collectivization.zeal"], 1.0)
    join = (pace * gap / np.maximum(1 - share_r, 1e-12))[reg]
    # Kulaks were barred from the kolkhoz.
    entering = h.is_tenure(IND) & ~h.is_class(KULAK)
    src = np.flatnonzero(entering)
    dst = src + (KOL - IND)
    frac = np.minimum(join[src], 1.0)
    if s.pol["voluntary_exit"]:
        stay = p["collectivization.voluntary_share"]
        excess = np.maximum(share_r - stay, 0.0) / np.maximum(share_r, 1e-12)
        leaving = np.flatnonzero(h.is_tenure(KOL))
        src = np.concatenate([src, leaving])
        dst = np.concatenate([dst, leaving - (KOL - IND)])
        frac = np.concatenate([frac, p["collectivization.exit_rate_per_month"] * excess[reg[leaving]]])
    return src, dst, frac


def deport(h: HouseholdTable, s: Step) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kulak individual rows: (src rows, deported rows, fraction deported this month)."""
    src = np.flatnonzero(h.is_tenure(IND) & h.is_class(KULAK))
    rate = s.pol["dekulakization_rate_per_month"][h["region"][src]]
    return src, src + (DEP - IND), np.minimum(rate, 1.0)


def migration(h: HouseholdTable, s: Step, labour_gap_persons: float, urban_food_ratio: float,
              urban_grain_ratio: float) -> np.ndarray:
    """Persons leaving each rural unit for the towns this month."""
    p = s.p
    rural = h["persons"] * ~h.is_tenure(DEP)
    total = rural.sum()
    # No jobs without bread: the pull of town jobs weakens when towns go hungry.
    fed = min(urban_grain_ratio, 1.0) ** 2
    pull = (p["demography.migration_labour_response_per_month"] * max(labour_gap_persons, 0.0)
            / max(total, 1.0) * fed)
    push = p["demography.migration_food_gap_response_per_month"] * np.maximum(
        np.minimum(urban_food_ratio, 1.0) - h["food_ratio"], 0.0)
    rate = np.minimum(pull + push, p["demography.migration_max_per_month"])
    return rural * rate * (1.0 - p["demography.passport_migration_cut"] * s.pol["passports"])


def return_migration(urban_persons: float, s: Step, urban_food_ratio: float) -> float:
    """Town dwellers going back to the village when towns go hungry (as in 1918-21): the
    same food-energy threshold as famine mortality."""
    thr = s.p["demography.famine_threshold_ratio"]
    gap = max(thr - urban_food_ratio, 0.0) / thr
    return urban_persons * min(s.p["demography.return_migration_per_month"] * gap, 0.3)
