"""Mechanism 2, demography: births, deaths, famine, deportation, collectivization, migration.

Baseline births and deaths at the rates of the late 1920s; births fall with hunger a
gestation later (the food factor of conception is carried through pregnancy). Famine
mortality rises with the body reserves that hunger has used up, by unit (region x class x
tenure): each month below a threshold of food energy against need depletes them, in
proportion to the shortfall, and each month a share of what is used up comes back (recovery
when fed, adaptation when half-fed); deaths follow months of hunger, not the hungry month
itself.
Households labelled kulak are deported to special settlements (their grain confiscated, their
animals and land given to the kolkhoz), where mortality is higher. Households enter kolkhozy at
the pace policy drives them toward its target, and leave when exit is allowed. Rural people
move to town when town jobs call and town food is better; passports cut the flow.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sovsim.compiled import kernel, total
from sovsim.mechanisms.agriculture import DEP, IND, KOL
from sovsim.regions import CLASSES, REGIONS
from sovsim.state import HouseholdTable
from sovsim.state.table import (
    CATTLE,
    DEPLETION,
    FECUNDITY,
    FOOD_RATIO,
    HORSES,
    HOUSEHOLDS,
    PERSONS,
    SHEEP_GOATS,
    Labels,
    cell_index,
)

KULAK, MIDDLE, POOR = (CLASSES.index(k) for k in ("kulak", "middle", "poor"))
N_REGIONS = len(REGIONS)

# What the mechanisms return, by name (persons; by unit for ``vital``).
Vital = namedtuple("Vital", "births deaths excess_deaths food_ratio depletion")
UrbanVital = namedtuple("UrbanVital", "births deaths excess_deaths kcal food_ratio")


@kernel
def meat_kcal_per_head(p):
    """Food energy of one slaughtered animal, per herd (HERDS order), as a column."""
    out = np.empty((4, 1))
    out[:, 0] = np.array([p.food_horses_meat_kcal_per_head, p.food_cattle_meat_kcal_per_head,
                          p.food_pigs_meat_kcal_per_head, p.food_sheep_goats_meat_kcal_per_head])
    return out


@kernel
def food_energy(hv, lab, p, food_t, slaughter_head):
    """kcal per person per day of each unit: grain, animal products (milk of cows, ewes and
    goats everywhere; of mares where herders milked them, ``food.mare_milk_kcal_per_head_day``
    by region: the pastoral diet), slaughter (head, by herd in HERDS order), other food."""
    return _food_energy(
        hv[PERSONS], hv[CATTLE], hv[SHEEP_GOATS], food_t, slaughter_head, lab.deported,
        p.food_grain_kcal_per_kg, p.food_cattle_kcal_per_head_day,
        p.food_sheep_goats_kcal_per_head_day, meat_kcal_per_head(p),
        p.food_other_kcal_per_person_day, p.food_special_settlement_kcal_per_person_day,
        hv[HORSES], p.food_mare_milk_kcal_per_head_day[lab.region])


@kernel
def _food_energy(persons, cattle, sheep_goats, food_t, slaughter_head, deported, grain_kcal_per_kg,
                 cattle_kcal_per_head_day, sheep_goats_kcal_per_head_day, meat_kcal_per_head,
                 other_kcal_per_person_day, special_settlement_kcal_per_person_day,
                 horses, mare_milk_kcal_per_head_day):
    days = 365.0 / 12.0
    kcal = np.empty_like(persons)
    for unit in range(persons.size):  # (a loop: no temporary arrays)
        if deported[unit]:  # deported households live on special-settlement rations
            kcal[unit] = special_settlement_kcal_per_person_day
            continue
        grain = food_t[unit] * 1000.0 * grain_kcal_per_kg / days
        dairy = (cattle[unit] * cattle_kcal_per_head_day
                 + sheep_goats[unit] * sheep_goats_kcal_per_head_day
                 + horses[unit] * mare_milk_kcal_per_head_day[unit])
        meat = 0.0
        for herd in range(slaughter_head.shape[0]):
            meat = meat + slaughter_head[herd, unit] * meat_kcal_per_head[herd, 0]
        meat = meat / days
        # a unit emptied (all deported, or all dead) eats nothing; its animals feed no one
        per_head = (grain + dairy + meat) / persons[unit] if persons[unit] > 0 else 0.0
        kcal[unit] = per_head + other_kcal_per_person_day
    return kcal


@kernel
def vital(hv, lab, p, kcal):
    """Births, deaths, the famine deaths among them (persons) and food energy against need,
    this month, and the body reserves used up at its end (``famine_depletion``): (5, units)."""
    out = _vital(
        hv[PERSONS], kcal, lab.deported, p.food_kcal_need_per_person_day,
        p.demography_famine_threshold_ratio, p.demography_famine_mortality_per_month,
        p.demography_famine_exponent, p.demography_rural_death_rate_per_year,
        p.demography_rural_birth_rate_per_year,
        p.demography_special_settlement_excess_death_rate_per_year,
        hv[DEPLETION], p.demography_famine_reserve_months,
        p.demography_famine_recovery_per_month, hv[FECUNDITY + 2])
    return Vital(out[0], out[1], out[2], out[3], out[4])


@kernel
def _vital(persons, kcal, deported, kcal_need, famine_threshold_ratio, famine_mortality_per_month,
           famine_exponent, death_rate_per_year, birth_rate_per_year,
           settlement_excess_death_rate_per_year, depletion_before, reserve_months,
           recovery_per_month, fecundity):
    base = death_rate_per_year / 12.0
    out = np.empty((5, persons.size))  # one array back to Python (each array costs to box)
    births, deaths, excess, ratio, depletion = out[0], out[1], out[2], out[3], out[4]
    for unit in range(persons.size):  # (a loop: no temporary arrays)
        ratio[unit] = kcal[unit] / kcal_need
        short = np.maximum(famine_threshold_ratio - ratio[unit], 0.0) / famine_threshold_ratio
        # issue 15 (calendar): hunger uses up body reserves (``reserve_months`` of going without
        # any food exhaust them), and a share of what is used up comes back each month: fed,
        # the body recovers; half-fed, it adapts (metabolism falls) and the loss settles at a
        # level set by the shortfall (short / reserve_months / recovery_per_month). Mortality
        # follows what is used up, so deaths lag the months of hunger.
        if persons[unit] <= 0.0:  # no one there: no reserves to use up
            used = 0.0
        else:
            used = depletion_before[unit] * (1.0 - recovery_per_month) + short / reserve_months
        depletion[unit] = min(used, 1.0)
        famine_rate = famine_mortality_per_month * depletion[unit] ** famine_exponent
        settle = settlement_excess_death_rate_per_year / 12.0 if deported[unit] else 0.0
        # (numerical guard: at most half a unit dies in a month; the calibrated scale stays
        # below)
        excess[unit] = persons[unit] * np.minimum(famine_rate + settle, 0.5)
        deaths[unit] = persons[unit] * base + excess[unit]
        # issue 15 (births): at the food factor of the conceptions now due (``conceive``)
        births[unit] = persons[unit] * birth_rate_per_year / 12.0 * fecundity[unit]
    return out


@kernel
def urban_vital(urban_persons, p, grain_ratio, fecundity):
    """Births, deaths, famine deaths, kcal per person a day and food energy against need in
    the towns this month; famine deaths when bread runs short. ``fecundity``: the food factor
    of the conceptions now due (``conceive``)."""
    kcal = (grain_ratio * p.state_grain_urban_grain_kg_per_person_year * p.food_grain_kcal_per_kg
            / 365.0 + p.food_urban_other_kcal_per_person_day)
    ratio = kcal / p.food_kcal_need_per_person_day
    thr = p.demography_famine_threshold_ratio
    short = max(thr - ratio, 0.0) / thr
    famine = p.demography_famine_mortality_per_month * short ** p.demography_famine_exponent
    excess = urban_persons * min(famine, 0.5)
    births = urban_persons * p.demography_urban_birth_rate_per_year / 12.0 * fecundity
    deaths = urban_persons * p.demography_urban_death_rate_per_year / 12.0 + excess
    return UrbanVital(births, deaths, excess, kcal, ratio)


# issue 15 (births) ------------------------------------------------------------------------
@kernel
def fecundity_of(food_ratio, p):
    """The food factor of conception at food energy ``food_ratio`` of need: 1 when fed,
    falling as ``min(ratio, 1) ** demography.fertility_food_exponent`` (hunger stops
    ovulation and conception; the deaths of the hungry are ``vital``'s)."""
    return np.minimum(np.maximum(food_ratio, 0.0), 1.0) ** p.demography_fertility_food_exponent


@kernel
def conceive(stages, factor, gestation_months, persons):
    """Carry the food factor of conception through pregnancy, one month: ``stages`` (3,
    units), the trimesters, each holding the mean factor of the conceptions in it; this month's
    conceptions enter the first at ``factor`` (units) and each trimester passes its content on
    at the rate of 3 / ``gestation_months`` a month (a chain of three: the births of a month
    come from conceptions a gestation earlier on average, spread over some months). In place;
    births read the third trimester before this month is added.

    A unit with no ``persons`` (a kolkhoz before anyone joined, a special settlement before
    the deportations) has no food of its own to conceive by: it holds full fecundity, so that
    the first households to arrive are not taken for hungry."""
    rate = min(3.0 / gestation_months, 1.0)
    for unit in range(persons.size):  # (a loop: no temporary arrays)
        if persons[unit] <= 0.0:
            stages[0, unit] = stages[1, unit] = stages[2, unit] = 1.0
            continue
        stages[2, unit] += rate * (stages[1, unit] - stages[2, unit])
        stages[1, unit] += rate * (stages[0, unit] - stages[1, unit])
        stages[0, unit] += rate * (factor[unit] - stages[0, unit])


@kernel
def conceive_urban(mem, p, urban_food_ratio):
    """The towns' trimesters (``mem.urban_fecundity_1..3``), one month, as ``conceive``."""
    rate = min(3.0 / p.demography_gestation_months, 1.0)
    factor = min(max(urban_food_ratio, 0.0), 1.0) ** p.demography_fertility_food_exponent
    mem.urban_fecundity_3 += rate * (mem.urban_fecundity_2 - mem.urban_fecundity_3)
    mem.urban_fecundity_2 += rate * (mem.urban_fecundity_1 - mem.urban_fecundity_2)
    mem.urban_fecundity_1 += rate * (factor - mem.urban_fecundity_1)


@kernel
def kolkhoz_share(hv, lab):
    """Share of (non-deported) peasant households in kolkhozy, by region."""
    return _kolkhoz_share(hv[HOUSEHOLDS], lab.kolkhoz, lab.individual, lab.region, N_REGIONS)


@kernel
def _kolkhoz_share(households, kolkhoz, individual, region, n_regions):
    kol = np.zeros(n_regions)
    ind = np.zeros(n_regions)
    for unit in range(households.size):  # in unit order, as np.bincount sums
        kol[region[unit]] += households[unit] if kolkhoz[unit] else 0.0
        ind[region[unit]] += households[unit] if individual[unit] else 0.0
    return kol / np.maximum(kol + ind, 1e-300)


def unit_labels(h: HouseholdTable) -> Labels:
    """The masks and moving units of ``h``'s labels (``h.labelled(unit_labels)``).

    Dekulakization deports individual kulak units to the deported unit of their region and
    class, and gives their land and animals to the poor kolkhoz unit of their region.
    Collectivization moves individual non-kulak units (kulaks were barred) to the kolkhoz unit
    of their region and class, and, when exit is allowed, kolkhoz units back.
    """
    ind, kol, dep = h.is_tenure(IND), h.is_tenure(KOL), h.is_tenure(DEP)
    kulak_units = np.flatnonzero(ind & h.is_class(KULAK))
    settlement = kulak_units + (DEP - IND)
    entering = np.flatnonzero(ind & ~h.is_class(KULAK))
    kolkhoz = np.flatnonzero(kol)
    return Labels(
        region=h["region"], tenure=h["tenure"], individual=ind, kolkhoz=kol, deported=dep,
        kulak=h.is_class(KULAK), middle=h.is_class(MIDDLE), farming=(~dep).astype(float),
        kulak_units=kulak_units, settlement_units=settlement,
        settlement_kolkhoz=np.array([cell_index(r, POOR, KOL) for r in h["region"][settlement]],
                                    dtype=np.int64),
        move_src=np.concatenate((entering, kolkhoz)),
        move_dst=np.concatenate((entering + (KOL - IND), kolkhoz - (KOL - IND))),
        n_entering=int(entering.size))


@kernel
def collectivize(lab, p, pol, share_r):
    """The fraction of each unit of ``lab.move_src`` that moves to ``lab.move_dst`` this
    month: entries into kolkhozy, and exits when allowed (0 otherwise)."""
    frac = np.zeros(lab.move_src.size)
    moving = lab.move_src.size if pol.voluntary_exit else lab.n_entering
    frac[:moving] = (
        _collectivize(lab.region, lab.move_src[:lab.n_entering],
                      lab.move_src[lab.n_entering:], pol.collectivization_target_share,
                      share_r, pol.collectivization_pace_per_month, p.collectivization_zeal,
                      pol.voluntary_exit, p.collectivization_voluntary_share,
                      p.collectivization_exit_rate_per_month))
    return frac


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


@kernel
def deport(lab, pol):
    """The fraction of each kulak unit (``lab.kulak_units``) deported this month."""
    return np.minimum(pol.dekulakization_rate_per_month[lab.region[lab.kulak_units]], 1.0)


@kernel
def migration(hv, lab, p, pol, labour_gap_persons, urban_food_ratio, urban_grain_ratio):
    """Persons leaving each rural unit for the towns this month."""
    rural = hv[PERSONS] * lab.farming
    rural_total = total(rural)
    # No jobs without bread: the pull of town jobs weakens when towns go hungry.
    fed = min(urban_grain_ratio, 1.0) ** 2
    pull = (p.demography_migration_labour_response_per_month * max(labour_gap_persons, 0.0)
            / max(rural_total, 1.0) * fed)
    passports = 1.0 - p.demography_passport_migration_cut * (1.0 if pol.passports else 0.0)
    return _migration(rural, hv[FOOD_RATIO], pull,
                      p.demography_migration_food_gap_response_per_month, urban_food_ratio,
                      p.demography_migration_max_per_month, passports,
                      pol.mobility_ban[lab.region])


@kernel
def _migration(rural, food_ratio, pull, food_gap_response, urban_food_ratio, max_rate, passports,
               ban):
    # Hunger pushes: the food gap between village and town. A ban on leaving the region
    # (issue 15, measures: the directive of 22 Jan 1933) stops that share of the flight from
    # hunger, by unit; the pull of town jobs (recruitment under permit) is left.
    push = food_gap_response * np.maximum(min(urban_food_ratio, 1.0) - food_ratio, 0.0)
    rate = np.minimum(pull + push * (1.0 - ban), max_rate)
    return rural * rate * passports


@kernel
def return_migration(urban_persons, p, urban_food_ratio):
    """Town dwellers going back to the village when towns go hungry (as in 1918-21): the
    same food-energy threshold as famine mortality."""
    thr = p.demography_famine_threshold_ratio
    gap = max(thr - urban_food_ratio, 0.0) / thr
    return urban_persons * min(p.demography_return_migration_per_month * gap, 0.3)


# issue 15 (kazakh): flight.
Flight = namedtuple("Flight", "within_ussr abroad")


@kernel
def flight(hv, lab, p, pol):
    """Persons fleeing each unit this month, hunger's push (an outcome): within the USSR and
    abroad. The push is the shortfall of food energy below the famine threshold (the same
    measure as famine mortality) times ``demography.flight_response_per_month`` of the region
    (herders with their animals could leave; elsewhere hunger moves people through
    ``migration``); ``demography.flight_abroad_share`` of those who flee cross the border.
    A region's ``mobility_ban`` stops that share of its flight, as it stops its hunger-driven
    migration."""
    return _flight(hv[PERSONS] * lab.farming, hv[FOOD_RATIO], lab.region,
                   p.demography_famine_threshold_ratio, p.demography_flight_response_per_month,
                   p.demography_flight_abroad_share, pol.mobility_ban)


@kernel
def _flight(rural, food_ratio, region, threshold, response, abroad_share, ban):
    out = np.empty((2, rural.size))
    for unit in range(rural.size):  # (a loop: no temporary arrays)
        short = max(threshold - food_ratio[unit], 0.0) / threshold
        # (numerical guard: at most a fifth of a unit flees in one month)
        leaving = (rural[unit] * min(response[region[unit]] * short, 0.2)
                   * (1.0 - min(max(ban[region[unit]], 0.0), 1.0)))
        out[1, unit] = leaving * abroad_share[region[unit]]
        out[0, unit] = leaving - out[1, unit]
    return Flight(out[0], out[1])
