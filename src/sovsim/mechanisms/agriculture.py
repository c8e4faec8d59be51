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

import numpy as np

from sovsim.compiled import kernel
from sovsim.mechanisms.context import Step
from sovsim.mechanisms.prices import incentive, terms_of_trade
from sovsim.regions import TENURES
from sovsim.state import HouseholdTable, MacroState

IND, KOL, DEP = (TENURES.index(t) for t in ("individual", "kolkhoz", "deported"))
HERDS = ("horses", "cattle", "pigs", "sheep_goats")
HARVEST_SHARE = {7: "agriculture.harvest_share_july", 8: "agriculture.harvest_share_august"}


def sowing(h: HouseholdTable, macro: MacroState, s: Step) -> dict[str, np.ndarray]:
    """Area sown this month and the seed it takes (flows ``sown_ha``, ``seed_t``)."""
    p = s.p
    if s.cm == 9:
        season = p["agriculture.winter_crop_share"]
    elif s.cm == 4:
        season = 1 - p["agriculture.winter_crop_share"]
    else:
        return {"sown_ha": np.zeros(len(h)), "seed_t": np.zeros(len(h))}
    workers = h["persons"] * p["agriculture.workers_per_person"]
    # Tractors (MTS, sovkhozy, cooperatives) work kolkhoz land first; individual farms get
    # them only through hire, at a lower weight.
    access = np.where(h.is_tenure(KOL), 1.0, np.where(
        h.is_tenure(IND), p["agriculture.tractor_access_individual"], 0.0)) * workers
    tractor_ha = (macro["tractors_hp"] * p["agriculture.ha_per_tractor_hp"]
                  * access / max(access.sum(), 1e-300))
    tot = terms_of_trade(macro, s)
    resp = incentive(tot, p["agriculture.sowing_price_elasticity"],
                     p["agriculture.sowing_response_min"], 1.0)
    own_need_t = (h["persons"] * p["procurement.food_norm_kg_per_person_year"] / 1000.0
                  + feed_need(h, s, 12))
    area = _sown_area(
        workers, tractor_ha, own_need_t, h["horses"], h["grain_t"], h["region"], h["tenure"],
        len(TENURES), ~h.is_tenure(DEP), h.is_tenure(IND), p["agriculture.ha_per_horse"],
        p["agriculture.manual_ha_per_worker"], p["agriculture.ha_per_worker"], resp,
        p["agriculture.base_yield_t_per_ha"], p["agriculture.seed_norm_t_per_ha"],
        p["agriculture.arable_land_ha"] * season, season)
    return {"sown_ha": area, "seed_t": area * p["agriculture.seed_norm_t_per_ha"]}


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
    capacity = np.minimum(workers * ha_per_worker, draught)
    # Individual farmers sow at least for their own food, seed and feed (Chayanov), and sow
    # for the market as far as the terms of trade reward it; kolkhozy sow to the area plan.
    net_yield = np.maximum(base_yield[region] - seed_norm, 0.05)  # guard: no division by ~0
    subsistence = np.minimum(own_need_t / net_yield, capacity)
    market = np.maximum(capacity * response, subsistence)
    want = np.where(individual, market, capacity) * season * farming
    # Land: a region cannot sow more than its arable land.
    want_r = np.zeros(n_regions)
    for unit in range(want.size):
        want_r[region[unit]] += want[unit]
    scale = np.where(want_r > land, land / np.maximum(want_r, 1e-300), 1.0)
    want = want * scale[region]
    return np.minimum(want, grain_t / seed_norm)


def kolkhoz_effort(h: HouseholdTable, s: Step) -> np.ndarray:
    """Effort of kolkhoz members: low when little grain was left to them after deliveries."""
    p = s.p
    lo = p["agriculture.kolkhoz_effort_min"]
    if s.pol["kolkhoz_private_plots"]:
        lo = lo + p["agriculture.private_plot_effort_gain"] * (1 - lo)
    half = p["agriculture.kolkhoz_effort_halfsat_kg"]
    kept = np.maximum(h["retained_kg"], 0.0)
    eff = lo + (1 - lo) * kept / (kept + half)
    return np.where(h.is_tenure(KOL), eff, 1.0)


def crop(h: HouseholdTable, s: Step) -> np.ndarray:
    """In July: the standing crop of the year (t), from the sown area."""
    p = s.p
    weather = 1 + p["agriculture.yield_per_weather_class"] * s.inputs.weather(s.year)
    yld = p["agriculture.base_yield_t_per_ha"] * weather
    trend = (1 + p["agriculture.yield_trend_per_year"]) ** (s.year - p["agriculture.yield_base_year"])
    return h["sown_area_ha"] * yld[h["region"]] * trend * kolkhoz_effort(h, s)


def harvest(h: HouseholdTable, s: Step) -> dict[str, np.ndarray]:
    """Grain brought in this month from the standing crop, and its losses."""
    n = len(h)
    if s.cm not in (7, 8, 9):
        return {"harvest_t": np.zeros(n), "losses_t": np.zeros(n)}
    # In September the rest of the crop comes in; in July and August a set share of the year's.
    if s.cm == 9:
        got = h["crop_t"].copy()
    else:
        share = s.p[HARVEST_SHARE[s.cm]]
        remaining = 1.0 if s.cm == 7 else 1.0 - s.p[HARVEST_SHARE[7]]
        got = h["crop_t"] * share / remaining
    return {"harvest_t": got, "losses_t": got * s.p["agriculture.harvest_loss_share"]}


STALL_MONTHS = (11, 12, 1, 2, 3, 4)  # animals graze from May to October
# Stall months among calendar month ``cm`` and the ``months - 1`` after it: STALL[cm, months].
STALL = {(cm, months): sum(1 for k in range(months) if (cm - 1 + k) % 12 + 1 in STALL_MONTHS)
         for cm in range(1, 13) for months in range(1, 13)}
HORSES, CATTLE, PIGS = (HERDS.index(k) for k in ("horses", "cattle", "pigs"))


def feed_need(h: HouseholdTable, s: Step, months: int = 1) -> np.ndarray:
    """Grain feed needed in this month and the ``months - 1`` after it (stall months only)."""
    stall = STALL[s.cm, months]
    if stall == 0:  # on pasture
        return np.zeros(len(h))
    p = s.p
    return feed_in_stall(h["horses"], h["cattle"], h["pigs"], p["livestock.horse_feed_t_per_year"],
                         p["livestock.cattle_feed_t_per_year"], p["livestock.pig_feed_t_per_year"],
                         stall)


@kernel
def feed_in_stall(horses, cattle, pigs, horse_feed, cattle_feed, pig_feed, stall_months):
    """Grain feed (t) of the herds over ``stall_months`` months in the stall."""
    if stall_months == 0:  # on pasture
        return np.zeros_like(horses)
    per_year = horses * horse_feed + cattle * cattle_feed + pigs * pig_feed
    return per_year * stall_months / len(STALL_MONTHS)


def collectivization_pressure(h: HouseholdTable, s: Step, share_r: np.ndarray) -> np.ndarray:
    """Per unit: the monthly push into kolkhozy that individual households face."""
    return _pressure(h.is_tenure(IND), h["region"], s.pol["collectivization_target_share"],
                     share_r, s.pol["collectivization_pace_per_month"],
                     s.pol["dekulakization_rate_per_month"])


@kernel
def _pressure(individual, region, target_share, share_r, pace, dekulakization_rate):
    gap = np.maximum(target_share - share_r, 0.0)
    push = pace * gap + dekulakization_rate
    return np.where(individual, push[region], 0.0)


def herd_parameters(p) -> dict[str, np.ndarray]:
    """Per herd (rows in HERDS order): net growth per month, and the regional capacity of
    pasture and hay, the pre-war (1916) herd spread by arable land."""
    land_share = p["agriculture.arable_land_ha"] / p["agriculture.arable_land_ha"].sum()
    return {
        "growth": np.array([[p[f"livestock.{herd}_net_growth_per_year"] / 12.0] for herd in HERDS]),
        "capacity": np.array([p[f"livestock.{herd}_capacity_head"] * land_share for herd in HERDS]),
    }


def livestock(h: HouseholdTable, s: Step, feed_t: np.ndarray, share_r: np.ndarray
              ) -> dict[str, np.ndarray]:
    """Births, deaths and slaughter this month (head): (herds, units), rows in HERDS order."""
    p, pol = s.p, s.pol
    herd = s.per_run(herd_parameters)
    births, deaths, slaughter = _livestock(
        h.rows(HERDS), h["region"], feed_t, STALL[s.cm, 1], p["livestock.horse_feed_t_per_year"],
        p["livestock.cattle_feed_t_per_year"], p["livestock.pig_feed_t_per_year"],
        h.is_tenure(IND), pol["collectivization_target_share"], share_r,
        pol["collectivization_pace_per_month"], pol["dekulakization_rate_per_month"],
        h.is_tenure(KOL), herd["growth"], herd["capacity"],
        p["livestock.starvation_mortality_per_month"],
        p["livestock.kolkhoz_horse_mortality_per_year"], p["livestock.slaughter_per_pressure"])
    return {"births": births, "deaths": deaths, "slaughter": slaughter}


@kernel
def _livestock(stock, region, feed_t, stall_months, horse_feed, cattle_feed, pig_feed, individual,
               target_share, share_r, pace, dekulakization_rate, kolkhoz, growth, capacity,
               starvation_mortality, kolkhoz_horse_mortality_per_year, slaughter_per_pressure):
    need = feed_in_stall(stock[HORSES], stock[CATTLE], stock[PIGS], horse_feed, cattle_feed,
                         pig_feed, stall_months)
    pressure = _pressure(individual, region, target_share, share_r, pace, dekulakization_rate)
    # Pasture and hay bound the herds: growth slows as a region's herd nears its capacity.
    crowding = np.minimum(np.maximum(region_sums(stock, region, capacity.shape[1]) / capacity,
                                     0.0), 1.0)
    flows = np.empty((3, stock.shape[0], stock.shape[1]))  # births, deaths, slaughter
    for unit in range(stock.shape[1]):  # (a loop: no temporary arrays)
        fed = feed_t[unit] / np.maximum(need[unit], 1e-300) if need[unit] > 0 else 1.0  # pasture
        hunger = 1.0 - np.minimum(np.maximum(fed, 0.0), 1.0)
        # (numerical guard: at most half a herd in one month, so stocks stay non-negative)
        culled = np.minimum(slaughter_per_pressure * pressure[unit], 0.5)
        for herd in range(stock.shape[0]):
            head = stock[herd, unit]
            births = head * growth[herd, 0] * (1.0 - hunger) * (1.0 - crowding[herd, region[unit]])
            deaths = head * starvation_mortality * hunger
            if herd == HORSES:  # collectivized horses died of neglect
                deaths = deaths + (head * kolkhoz_horse_mortality_per_year / 12.0
                                   if kolkhoz[unit] else 0.0)
            slaughter = head * culled
            flows[0, herd, unit] = births
            flows[1, herd, unit] = np.minimum(deaths, head - slaughter)
            flows[2, herd, unit] = slaughter
    return flows


@kernel
def region_sums(values, region, n_regions):
    """(k, units) -> (k, regions): each row summed by region, unit by unit in order (as
    ``np.bincount`` does)."""
    out = np.zeros((values.shape[0], n_regions))
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            out[i, region[j]] += values[i, j]
    return out
