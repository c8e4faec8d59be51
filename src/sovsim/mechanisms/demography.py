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

from sovsim.compiled import kernel
from sovsim.mechanisms.agriculture import DEP, HERDS, IND, KOL
from sovsim.mechanisms.context import Step
from sovsim.regions import CLASSES, REGIONS
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
    return _food_energy(
        h["persons"], h["cattle"], h["sheep_goats"], food_t, slaughter_head, h.is_tenure(DEP),
        p["food.grain_kcal_per_kg"], p["food.cattle_kcal_per_head_day"],
        p["food.sheep_goats_kcal_per_head_day"], s.per_run(meat_kcal_per_head),
        p["food.other_kcal_per_person_day"], p["food.special_settlement_kcal_per_person_day"])


@kernel
def _food_energy(persons, cattle, sheep_goats, food_t, slaughter_head, deported, grain_kcal_per_kg,
                 cattle_kcal_per_head_day, sheep_goats_kcal_per_head_day, meat_kcal_per_head,
                 other_kcal_per_person_day, special_settlement_kcal_per_person_day):
    days = 365.0 / 12.0
    kcal = np.empty_like(persons)
    for unit in range(persons.size):  # (a loop: no temporary arrays)
        if deported[unit]:  # deported households live on special-settlement rations
            kcal[unit] = special_settlement_kcal_per_person_day
            continue
        grain = food_t[unit] * 1000.0 * grain_kcal_per_kg / days
        dairy = (cattle[unit] * cattle_kcal_per_head_day
                 + sheep_goats[unit] * sheep_goats_kcal_per_head_day)
        meat = 0.0
        for herd in range(slaughter_head.shape[0]):
            meat = meat + slaughter_head[herd, unit] * meat_kcal_per_head[herd, 0]
        meat = meat / days
        # a unit emptied (all deported, or all dead) eats nothing; its animals feed no one
        per_head = (grain + dairy + meat) / persons[unit] if persons[unit] > 0 else 0.0
        kcal[unit] = per_head + other_kcal_per_person_day
    return kcal


def vital(h: HouseholdTable, s: Step, kcal: np.ndarray) -> dict[str, np.ndarray]:
    """Births and deaths (persons) this month, and the famine deaths among them."""
    p = s.p
    births, deaths, excess, ratio = _vital(
        h["persons"], kcal, h.is_tenure(DEP), p["food.kcal_need_per_person_day"],
        p["demography.famine_threshold_ratio"], p["demography.famine_mortality_per_month"],
        p["demography.famine_exponent"], p["demography.rural_death_rate_per_year"],
        p["demography.rural_birth_rate_per_year"],
        p["demography.special_settlement_excess_death_rate_per_year"])
    return {"births": births, "deaths": deaths, "excess_deaths": excess, "food_ratio": ratio}


@kernel
def _vital(persons, kcal, deported, kcal_need, famine_threshold_ratio, famine_mortality_per_month,
           famine_exponent, death_rate_per_year, birth_rate_per_year,
           settlement_excess_death_rate_per_year):
    base = death_rate_per_year / 12.0
    out = np.empty((4, persons.size))  # one array back to Python (each array costs to box)
    births, deaths, excess, ratio = out[0], out[1], out[2], out[3]
    for unit in range(persons.size):  # (a loop: no temporary arrays)
        ratio[unit] = kcal[unit] / kcal_need
        short = np.maximum(famine_threshold_ratio - ratio[unit], 0.0) / famine_threshold_ratio
        famine_rate = famine_mortality_per_month * short ** famine_exponent
        settle = settlement_excess_death_rate_per_year / 12.0 if deported[unit] else 0.0
        # (numerical guard: at most half a unit dies in a month; the calibrated scale stays
        # below)
        excess[unit] = persons[unit] * np.minimum(famine_rate + settle, 0.5)
        deaths[unit] = persons[unit] * base + excess[unit]
        births[unit] = persons[unit] * birth_rate_per_year / 12.0 * np.minimum(ratio[unit], 1.0)
    return out


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
    return _kolkhoz_share(h["households"], h.is_tenure(KOL), h.is_tenure(IND), h["region"],
                          len(REGIONS))


@kernel
def _kolkhoz_share(households, kolkhoz, individual, region, n_regions):
    kol = np.zeros(n_regions)
    ind = np.zeros(n_regions)
    for unit in range(households.size):  # in unit order, as np.bincount sums
        kol[region[unit]] += households[unit] if kolkhoz[unit] else 0.0
        ind[region[unit]] += households[unit] if individual[unit] else 0.0
    return kol / np.maximum(kol + ind, 1e-300)


def farming_units(h: HouseholdTable) -> np.ndarray:
    """Mask of the units that farm (all but the deported)."""
    return ~h.is_tenure(DEP)


def entering_units(h: HouseholdTable) -> np.ndarray:
    """Units that may join a kolkhoz: individual households; kulaks were barred."""
    return _read_only(np.flatnonzero(h.is_tenure(IND) & ~h.is_class(KULAK)))


def kolkhoz_units(h: HouseholdTable) -> np.ndarray:
    return _read_only(np.flatnonzero(h.is_tenure(KOL)))


def kulak_units(h: HouseholdTable) -> np.ndarray:
    """Kulak individual units (those dekulakization deports)."""
    return np.flatnonzero(h.is_tenure(IND) & h.is_class(KULAK))


def collectivize(h: HouseholdTable, s: Step, share_r: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows to move (src, dst, fraction): entries into, and exits from, kolkhozy."""
    p, pol = s.p, s.pol
    src, dst = h.labelled(joining_and_leaving if pol["voluntary_exit"] else joining)
    frac = _collectivize(
        h["region"], h.labelled(entering_units), h.labelled(kolkhoz_units),
        pol["collectivization_target_share"], share_r, pol["collectivization_pace_per_month"],
        p["collectivization.zeal"], pol["voluntary_exit"], p["collectivization.voluntary_share"],
        p["collectivization.exit_rate_per_month"])
    return src, dst, frac


def joining(h: HouseholdTable) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst): each entering unit and the kolkhoz unit of its region and class."""
    entering = entering_units(h)
    return entering, _read_only(entering + (KOL - IND))


def joining_and_leaving(h: HouseholdTable) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) of ``joining``, then each kolkhoz unit and the individual unit it leaves to."""
    (src, dst), kolkhoz = joining(h), kolkhoz_units(h)
    return (_read_only(np.concatenate((src, kolkhoz))),
            _read_only(np.concatenate((dst, kolkhoz - (KOL - IND)))))


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@kernel
def _collectivize(region, entering, kolkhoz, target_share, share_r, pace_per_month, zeal,
                  voluntary_exit, voluntary_share, exit_rate_per_month):
    """The fraction of each moving unit that moves (in the order of ``collectivize``'s rows)."""
    gap = np.maximum(target_share - share_r, 0.0)
    # Local officials drove faster than the decrees (the 'dizziness' of 1930): one constant.
    pace = np.minimum(pace_per_month * zeal, 1.0)
    join = pace * gap / np.maximum(1 - share_r, 1e-12)
    frac = np.minimum(join[region[entering]], 1.0)
    if voluntary_exit:
        excess = np.maximum(share_r - voluntary_share, 0.0) / np.maximum(share_r, 1e-12)
        frac = np.concatenate((frac, exit_rate_per_month * excess[region[kolkhoz]]))
    return frac


def settlement_units(h: HouseholdTable) -> np.ndarray:
    """The deported units of each kulak unit (same region and class), in its order."""
    return kulak_units(h) + (DEP - IND)


def kulak_regions(h: HouseholdTable) -> np.ndarray:
    return h["region"][kulak_units(h)]


def deport(h: HouseholdTable, s: Step) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kulak individual rows: (src rows, deported rows, fraction deported this month)."""
    rate = s.pol["dekulakization_rate_per_month"][h.labelled(kulak_regions)]
    return h.labelled(kulak_units), h.labelled(settlement_units), np.minimum(rate, 1.0)


def migration(h: HouseholdTable, s: Step, labour_gap_persons: float, urban_food_ratio: float,
              urban_grain_ratio: float) -> np.ndarray:
    """Persons leaving each rural unit for the towns this month."""
    p = s.p
    rural = h["persons"] * h.labelled(farming_units)
    total = rural.sum()
    # No jobs without bread: the pull of town jobs weakens when towns go hungry.
    fed = min(urban_grain_ratio, 1.0) ** 2
    pull = (p["demography.migration_labour_response_per_month"] * max(labour_gap_persons, 0.0)
            / max(total, 1.0) * fed)
    passports = 1.0 - p["demography.passport_migration_cut"] * s.pol["passports"]
    return _migration(rural, h["food_ratio"], pull,
                      p["demography.migration_food_gap_response_per_month"], urban_food_ratio,
                      p["demography.migration_max_per_month"], passports)


@kernel
def _migration(rural, food_ratio, pull, food_gap_response, urban_food_ratio, max_rate, passports):
    # Hunger pushes: the food gap between village and town.
    push = food_gap_response * np.maximum(min(urban_food_ratio, 1.0) - food_ratio, 0.0)
    rate = np.minimum(pull + push, max_rate)
    return rural * rate * passports


def return_migration(urban_persons: float, s: Step, urban_food_ratio: float) -> float:
    """Town dwellers going back to the village when towns go hungry (as in 1918-21): the
    same food-energy threshold as famine mortality."""
    thr = s.p["demography.famine_threshold_ratio"]
    gap = max(thr - urban_food_ratio, 0.0) / thr
    return urban_persons * min(s.p["demography.return_migration_per_month"] * gap, 0.3)
