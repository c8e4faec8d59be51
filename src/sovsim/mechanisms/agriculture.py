"""Mechanism 3, agriculture: sowing, harvest, livestock.

Sowing (winter crops in September, spring crops in April) is limited by land, labour and
draught power (horses; for kolkhozy also MTS tractors), and moved by incentives: individual
farmers sow less when the terms of trade are poor. Seed must be at hand. The harvest (set in
July, brought in July-September) is area x regional yield x weather x effort; kolkhoz effort
falls when what was left to members after deliveries was small. Livestock breed and eat feed;
they are slaughtered when collectivization threatens or feed runs short; collectivized herds die
faster (neglect of socialized animals).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sovsim.compiled import kernel, total
from sovsim.mechanisms.measures import goods_response
from sovsim.mechanisms.prices import incentive
from sovsim.regions import TENURES
from sovsim.state.table import CATTLE, CROP, GRAIN, HERD_ROWS, HORSES, PERSONS, PIGS, RETAINED, SOWN

IND, KOL, DEP = (TENURES.index(t) for t in ("individual", "kolkhoz", "deported"))
HERDS = ("horses", "cattle", "pigs", "sheep_goats")
N_TENURES = len(TENURES)

# What the mechanisms return, by name (rows by unit; herds: (herds, units) in HERDS order).
Harvest = namedtuple("Harvest", "harvest_t losses_t")
Herds = namedtuple("Herds", "births deaths slaughter procured")


@kernel
def sowing(hv, lab, tractors_hp, tot, p, pol, cm):
    """Area sown this month (ha); the seed it takes is area x the seed norm."""
    if cm == 9:
        season = p.agriculture_winter_crop_share
    elif cm == 4:
        season = 1 - p.agriculture_winter_crop_share
    else:
        return np.zeros(hv.shape[1])
    workers = hv[PERSONS] * p.agriculture_workers_per_person
    # Tractors (MTS, sovkhozy, cooperatives) work kolkhoz land first; individual farms get
    # them only through hire, at a lower weight.
    access = np.where(lab.kolkhoz, 1.0, np.where(
        lab.individual, p.agriculture_tractor_access_individual, 0.0)) * workers
    tractor_ha = (tractors_hp * p.agriculture_ha_per_tractor_hp
                  * access / max(total(access), 1e-300))
    resp = incentive(tot, p.agriculture_sowing_price_elasticity,
                     p.agriculture_sowing_response_min, 1.0)
    # issue 15 (measures): blacklisted villages see no goods (by unit)
    resp = goods_response(resp, lab, p, pol) if pol.blacklist_share.max() > 0.0 else (
        np.full(hv.shape[1], resp))
    # (issue 15, kazakh: pastoral households eat less grain, ``food.grain_norm_share``)
    own_need_t = (hv[PERSONS] * p.procurement_food_norm_kg_per_person_year / 1000.0
                  * p.food_grain_norm_share[lab.region] + feed_need(hv, p, cm, 12))
    return _sown_area(
        workers, tractor_ha, own_need_t, hv[HORSES], hv[GRAIN], lab.region, lab.tenure,
        N_TENURES, lab.farming > 0, lab.individual, p.agriculture_ha_per_horse,
        p.agriculture_manual_ha_per_worker, p.agriculture_ha_per_worker, resp,
        p.agriculture_base_yield_t_per_ha, p.agriculture_seed_norm_t_per_ha,
        p.agriculture_arable_land_ha * season, season)


@kernel
def _sown_area(workers, tractor_ha, own_need_t, horses, grain_t, region, tenure, n_tenures,
               farming, individual, ha_per_horse, manual_ha_per_worker, ha_per_worker, response,
               base_yield, seed_norm, land, season):
    n_regions = land.size
    # Draught power is shared within a region and tenure by hire: horseless households rent
    # horses (or work for those who own them), so it reaches units in proportion to labour.
    key = region * n_tenures + tenure
    pool = np.zeros(n_regions * n_tenures)
    labour = np.zeros(n_regions * n_tenures)
    for unit in range(key.size):  # in unit order, as np.bincount sums
        pool[key[unit]] += horses[unit] * ha_per_horse
        labour[key[unit]] += workers[unit]
    draught = (pool[key] * workers / np.maximum(labour[key], 1e-300) + tractor_ha
               + workers * manual_ha_per_worker)
    capacity = np.minimum(workers * ha_per_worker, draught) * season * farming
    # Land: a region cannot sow more than its arable land, so each unit's capacity is first
    # cut to its share of the region's land (issue 17: the terms of trade then act below the
    # cap, not on a labour capacity the land cap would cut away anyway).
    cap_r = np.zeros(n_regions)
    for unit in range(capacity.size):  # in unit order, as np.bincount sums
        cap_r[region[unit]] += capacity[unit]
    scale = np.where(cap_r > land, land / np.maximum(cap_r, 1e-300), 1.0)
    capacity = capacity * scale[region]
    # Individual farmers sow at least for their own food, seed and feed (Chayanov), and sow
    # for the market as far as the terms of trade reward it; kolkhozy sow to the area plan.
    net_yield = np.maximum(base_yield[region] - seed_norm, 0.05)  # guard: no division by ~0
    subsistence = np.minimum(own_need_t / net_yield * season * farming, capacity)
    market = np.maximum(capacity * response, subsistence)
    want = np.where(individual, market, capacity)
    return np.minimum(want, grain_t / seed_norm)


@kernel
def kolkhoz_effort(hv, lab, p, pol):
    """Effort of kolkhoz members: low when little grain was left to them after deliveries."""
    lo = p.agriculture_kolkhoz_effort_min
    if pol.kolkhoz_private_plots:
        lo = lo + p.agriculture_private_plot_effort_gain * (1 - lo)
    half = p.agriculture_kolkhoz_effort_halfsat_kg
    kept = np.maximum(hv[RETAINED], 0.0)
    eff = lo + (1 - lo) * kept / (kept + half)
    return np.where(lab.kolkhoz, eff, 1.0)


@kernel
def individual_effort(lab, p, tot):
    """Effort of individual farmers on the crop (weeding, manuring, care at harvest): it
    follows the terms of trade, bounded; kolkhozy and others 1 (their effort is
    ``kolkhoz_effort``). Issue 17: area, effort and marketings all respond to prices."""
    eff = incentive(tot, p.agriculture_individual_effort_price_elasticity,
                    p.agriculture_individual_effort_min, p.agriculture_individual_effort_max)
    return np.where(lab.individual, eff, 1.0)


@kernel
def crop(hv, lab, p, pol, weather, year):
    """In July: the standing crop of the year (t), from the sown area; ``weather``: the
    year's weather class by region."""
    yld = p.agriculture_base_yield_t_per_ha * (1 + p.agriculture_yield_per_weather_class
                                               * weather)
    trend = (1 + p.agriculture_yield_trend_per_year) ** (year - p.agriculture_yield_base_year)
    return hv[SOWN] * yld[lab.region] * trend * kolkhoz_effort(hv, lab, p, pol)


@kernel
def harvest(hv, p, cm):
    """Grain brought in this month from the standing crop, and its losses (t)."""
    if cm != 7 and cm != 8 and cm != 9:
        return Harvest(np.zeros(hv.shape[1]), np.zeros(hv.shape[1]))
    # In September the rest of the crop comes in; in July and August a set share of the year's.
    if cm == 9:
        got = hv[CROP].copy()
    else:
        share = p.agriculture_harvest_share_july if cm == 7 else p.agriculture_harvest_share_august
        remaining = 1.0 if cm == 7 else 1.0 - p.agriculture_harvest_share_july
        got = hv[CROP] * share / remaining
    return Harvest(got, got * p.agriculture_harvest_loss_share)


STALL_MONTHS = (11, 12, 1, 2, 3, 4)  # animals graze from May to October
# Stall months among calendar month ``cm`` and the ``months - 1`` after it: STALL[cm, months].
STALL = np.array([[sum(1 for k in range(months) if (cm - 1 + k) % 12 + 1 in STALL_MONTHS)
                   for months in range(13)] for cm in range(13)], dtype=np.int64)
STALL.setflags(write=False)
HORSE, COW, PIG = (HERDS.index(k) for k in ("horses", "cattle", "pigs"))


@kernel
def feed_need(hv, p, cm, months):
    """Grain feed needed in this month and the ``months - 1`` after it (stall months only)."""
    return feed_in_stall(hv[HORSES], hv[CATTLE], hv[PIGS], p.livestock_horse_feed_t_per_year,
                         p.livestock_cattle_feed_t_per_year, p.livestock_pig_feed_t_per_year,
                         STALL[cm, months])


@kernel
def feed_in_stall(horses, cattle, pigs, horse_feed, cattle_feed, pig_feed, stall_months):
    """Grain feed (t) of the herds over ``stall_months`` months in the stall."""
    if stall_months == 0:  # on pasture
        return np.zeros_like(horses)
    per_year = horses * horse_feed + cattle * cattle_feed + pigs * pig_feed
    return per_year * stall_months / 6  # (six stall months in STALL_MONTHS)


@kernel
def _pressure(individual, region, target_share, share_r, pace, dekulakization_rate):
    gap = np.maximum(target_share - share_r, 0.0)
    push = pace * gap + dekulakization_rate
    return np.where(individual, push[region], 0.0)


@kernel
def herd_parameters(p):
    """Per herd (rows in HERDS order): net growth per month, and the regional capacity of
    pasture and hay: the pre-war (1916) herd spread by arable land, except where a region's
    own pasture capacity is given (``livestock.pasture_*_capacity_head`` > 0: the steppe of
    Kazakhstan, whose herds grazed land that was never arable)."""
    land = p.agriculture_arable_land_ha
    land_share = land / total(land)
    growth = np.empty((4, 1))
    growth[:, 0] = np.array([p.livestock_horses_net_growth_per_year,
                             p.livestock_cattle_net_growth_per_year,
                             p.livestock_pigs_net_growth_per_year,
                             p.livestock_sheep_goats_net_growth_per_year]) / 12.0
    capacity = np.empty((4, land.size))
    capacity[0] = _pasture_or_land(p.livestock_pasture_horses_capacity_head,
                                   p.livestock_horses_capacity_head * land_share)
    capacity[1] = _pasture_or_land(p.livestock_pasture_cattle_capacity_head,
                                   p.livestock_cattle_capacity_head * land_share)
    capacity[2] = _pasture_or_land(p.livestock_pasture_pigs_capacity_head,
                                   p.livestock_pigs_capacity_head * land_share)
    capacity[3] = _pasture_or_land(p.livestock_pasture_sheep_goats_capacity_head,
                                   p.livestock_sheep_goats_capacity_head * land_share)
    return growth, capacity


@kernel
def _pasture_or_land(pasture, by_land):
    return np.where(pasture > 0, pasture, by_land)


# issue 15 (kazakh): sedentarization and the state's meat and livestock procurement.
@kernel
def settled_share_step(settled_r, pol):
    """The share of each region's nomadic households settled, after this month of the
    sedentarization plan (``pol.sedentarization_share_per_year``, a share of the nomadic
    households at the start settled each year; at most all of them)."""
    return np.minimum(settled_r + pol.sedentarization_share_per_year / 12.0, 1.0)


@kernel
def sedentarized(p, settled_r):
    """By region: the share of households settled off the steppe's routes (the nomadic share
    times the share of it settled), and the capacity factor of pasture it leaves: a settled
    herd keeps ``livestock.settled_capacity_ratio`` of the pasture it had when it moved."""
    share = p.livestock_nomadic_household_share * settled_r
    return share, 1.0 - share * (1.0 - p.livestock_settled_capacity_ratio)


@kernel
def live_weight_kg(p):
    """Live weight per head, per herd (HERDS order), as a column."""
    out = np.empty((4, 1))
    out[:, 0] = np.array([p.livestock_horses_live_weight_kg, p.livestock_cattle_live_weight_kg,
                          p.livestock_pigs_live_weight_kg,
                          p.livestock_sheep_goats_live_weight_kg])
    return out


@kernel
def livestock_procurement(stock, region, p, pol, n_regions):
    """Head taken this month by the state's meat and livestock procurement: each region's
    yearly plan (t live weight, ``pol.livestock_procurement_plan_t``) taken a twelfth a
    month, from every herd of the region in proportion to its live weight; (herds, units)."""
    if not (pol.livestock_procurement_plan_t > 0).any():
        return np.zeros_like(stock)
    weight = live_weight_kg(p)
    held_t = np.zeros(n_regions)
    for herd in range(stock.shape[0]):
        for unit in range(stock.shape[1]):
            held_t[region[unit]] += stock[herd, unit] * weight[herd, 0] / 1000.0
    want_t = pol.livestock_procurement_plan_t / 12.0
    # (numerical guard: at most half a region's herds in one month)
    share = np.minimum(want_t / np.maximum(held_t, 1e-300), 0.5)
    out = np.empty_like(stock)
    for herd in range(stock.shape[0]):
        for unit in range(stock.shape[1]):
            out[herd, unit] = stock[herd, unit] * share[region[unit]]
    return out


@kernel
def hunger_slaughter(persons, herds, region, kcal, p, meat_kcal):
    """Head slaughtered to eat this month where herders go hungry (``kcal``: each unit's food
    energy a person a day before it): herders cover ``livestock.hunger_slaughter_share`` of
    their region of the gap to their need by eating their animals, taken from every herd in
    proportion to the meat it holds; (herds, units). ``herds``: what is left of the month's
    herds; ``meat_kcal``: kcal of a slaughtered head, by herd (a column)."""
    days = 365.0 / 12.0
    out = np.zeros_like(herds)
    need = p.food_kcal_need_per_person_day
    for unit in range(persons.size):  # (a loop: no temporary arrays)
        share = p.livestock_hunger_slaughter_share[region[unit]]
        gap = max(need - kcal[unit], 0.0) * persons[unit] * days * share
        if gap <= 0.0:
            continue
        held = 0.0
        for herd in range(herds.shape[0]):
            held += herds[herd, unit] * meat_kcal[herd, 0]
        if held <= 0.0:
            continue
        # (numerical guard: at most half the herds in one month)
        frac = min(gap / held, 0.5)
        for herd in range(herds.shape[0]):
            out[herd, unit] = herds[herd, unit] * frac
    return out


@kernel
def livestock(hv, lab, p, pol, cm, feed_t, share_r, settled_r):
    """Births, deaths, slaughter and the state's procurement this month (head): (4, herds,
    units), herds in HERDS order. ``settled_r``: the share of each region's nomadic households
    settled (``settled_share_step``)."""
    growth, capacity = herd_parameters(p)
    settled, pasture_left = sedentarized(p, settled_r)
    capacity = capacity * pasture_left
    # What the rules below read, by short names.
    stock, region = hv[HERD_ROWS:HERD_ROWS + 4], lab.region
    kolkhoz, individual, stall_months = lab.kolkhoz, lab.individual, STALL[cm, 1]
    horse_feed = p.livestock_horse_feed_t_per_year
    cattle_feed, pig_feed = p.livestock_cattle_feed_t_per_year, p.livestock_pig_feed_t_per_year
    target_share, pace = pol.collectivization_target_share, pol.collectivization_pace_per_month
    dekulakization_rate = pol.dekulakization_rate_per_month
    starvation_mortality = p.livestock_starvation_mortality_per_month
    kolkhoz_horse_mortality_per_year = p.livestock_kolkhoz_horse_mortality_per_year
    slaughter_per_pressure = p.livestock_slaughter_per_pressure
    need = feed_in_stall(stock[HORSE], stock[COW], stock[PIG], horse_feed, cattle_feed,
                         pig_feed, stall_months)
    pressure = _pressure(individual, region, target_share, share_r, pace, dekulakization_rate)
    # Pasture and hay bound the herds: growth slows as a region's herd nears its capacity.
    crowding = np.minimum(np.maximum(region_sums(stock, region, capacity.shape[1]) / capacity,
                                     0.0), 1.0)
    # Settled herds lost the winter pastures (and had no yards or hay): they die in the stall
    # months at ``livestock.settled_winter_mortality_per_month``.
    winter = (p.livestock_settled_winter_mortality_per_month * settled if stall_months > 0
              else np.zeros_like(settled))
    procured = livestock_procurement(stock, region, p, pol, capacity.shape[1])
    flows = np.empty((3, stock.shape[0], stock.shape[1]))  # births, deaths, slaughter
    for unit in range(stock.shape[1]):  # (a loop: no temporary arrays)
        fed = feed_t[unit] / np.maximum(need[unit], 1e-300) if need[unit] > 0 else 1.0  # pasture
        hunger = 1.0 - np.minimum(np.maximum(fed, 0.0), 1.0)
        # (numerical guard: at most half a herd in one month, so stocks stay non-negative)
        culled = np.minimum(slaughter_per_pressure * pressure[unit], 0.5)
        for herd in range(stock.shape[0]):
            head = stock[herd, unit]
            births = head * growth[herd, 0] * (1.0 - hunger) * (1.0 - crowding[herd, region[unit]])
            deaths = head * (starvation_mortality * hunger + winter[region[unit]])
            if herd == HORSE:  # collectivized horses died of neglect
                deaths = deaths + (head * kolkhoz_horse_mortality_per_year / 12.0
                                   if kolkhoz[unit] else 0.0)
            slaughter = head * culled
            taken = np.minimum(procured[herd, unit], head - slaughter)
            procured[herd, unit] = taken
            flows[0, herd, unit] = births
            flows[1, herd, unit] = np.minimum(deaths, head - slaughter - taken)
            flows[2, herd, unit] = slaughter
    return Herds(flows[0], flows[1], flows[2], procured)


@kernel
def region_sums(values, region, n_regions):
    """(k, units) -> (k, regions): each row summed by region, unit by unit in order (as
    ``np.bincount`` does)."""
    out = np.zeros((values.shape[0], n_regions))
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            out[i, region[j]] += values[i, j]
    return out
