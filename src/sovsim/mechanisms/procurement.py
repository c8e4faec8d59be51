"""Mechanism 4, grain disposal and procurement.

Households keep grain for seed, food and feed to the next harvest, then market the rest.
Procurement modes (the instrument ``procurement_mode``):

- ``market`` (NEP): households sell a share of their surplus each month, more when the terms
  of trade are good and goods can be bought, holding back when not (the 1927-28 crisis);
  a share goes to private traders at the free price when private trade is allowed.
- ``tax_in_kind``: a share of the harvest is taken as it comes in; the rest is marketed.
- ``requisition``: collectors take what lies above a food floor and seed (War Communism).
- ``extraordinary``: market sales, and forced collection from kulak and middle households of
  what lies above the floor (Article 107, the Urals-Siberian method).
- ``quota``: deliveries set in August from the *planned* harvest (plan in tonnes, or quota
  share x planned yield x area), collected month by month with an enforcement efficiency down
  to the consumption floor; seed is not protected. When the real harvest falls short of the
  planned one, the shortfall lands on peasant food.
"""

from __future__ import annotations

import numpy as np

from sovsim.compiled import kernel
from sovsim.mechanisms.agriculture import DEP, IND, feed_need
from sovsim.mechanisms.context import Step
from sovsim.mechanisms.prices import incentive, terms_of_trade
from sovsim.regions import CLASSES
from sovsim.state import HouseholdTable, MacroState

KULAK, MIDDLE = CLASSES.index("kulak"), CLASSES.index("middle")
# The procurement modes, coded for the kernel by their place in this tuple.
MODES = ("market", "tax_in_kind", "requisition", "extraordinary", "quota")
MARKET, TAX_IN_KIND, REQUISITION, EXTRAORDINARY, QUOTA = range(len(MODES))


def reserves(h: HouseholdTable, s: Step, food_kg_year: float, feed_share: float = 1.0, *,
             seed_t: np.ndarray | None = None, feed_t: np.ndarray | None = None) -> np.ndarray:
    """Grain (t) a unit keeps to the next harvest: food at ``food_kg_year``, seed, and
    ``feed_share`` of the animals' feed. ``seed_t`` (``seed_reserve``) and ``feed_t`` (the
    feed to the harvest) may be given when already worked out this month."""
    months = s.months_to_harvest
    if seed_t is None:
        seed_t = seed_reserve(h, s)
    if feed_t is None:
        feed_t = feed_need(h, s, months)
    return kept_to_harvest(h["persons"], food_kg_year, months, seed_t, feed_share, feed_t)


@kernel
def kept_to_harvest(persons, food_kg_year, months, seed_t, feed_share, feed_t):
    """Food for ``months`` at ``food_kg_year``, seed, and ``feed_share`` of the feed (t)."""
    food = persons * food_kg_year / 1000.0 * months / 12.0
    return food + seed_t + feed_share * feed_t


def food_norm_kg(macro: MacroState, s: Step) -> float:
    """Grain a peasant eats in a year: the pre-war norm, less when bread is dear in the
    market modes (more potatoes, more sold)."""
    norm = s.p["procurement.food_norm_kg_per_person_year"]
    if s.pol["procurement_mode"] not in ("market", "tax_in_kind", "extraordinary"):
        return norm
    return norm * max(macro["free_price_ratio"], 1.0) ** -s.p["procurement.food_price_elasticity"]


def seed_reserve(h: HouseholdTable, s: Step) -> np.ndarray:
    """Seed still to be sown before the next harvest (the autumn and spring sowings ahead)."""
    return h["area_last_ha"] * s.p["agriculture.seed_norm_t_per_ha"] * sowing_ahead_share(s)


def sowing_ahead_share(s: Step) -> float:
    """Share of a year's sowing still ahead before the next harvest."""
    p, cm = s.p, s.cm
    # Sowing comes first in its month, so in April and September that seed is already sown.
    share = 0.0
    if cm >= 7 or cm < 4:  # spring sowing (April) still ahead
        share += 1 - p["agriculture.winter_crop_share"]
    if 7 <= cm < 9:  # winter sowing (September) still ahead
        share += p["agriculture.winter_crop_share"]
    return share


def set_obligations(h: HouseholdTable, s: Step) -> np.ndarray:
    """In August under quotas: each unit's delivery obligation for the agricultural year (t)."""
    p, pol = s.p, s.pol
    return _obligations(h["area_last_ha"], h["region"], pol["planned_yield_t_per_ha"],
                        p["agriculture.base_yield_t_per_ha"], h.is_tenure(IND), h.is_tenure(DEP),
                        p["procurement.individual_quota_factor"], pol["procurement_plan_t"],
                        pol["regional_procurement_plan_t"], pol["quota_share"])


@kernel
def _obligations(area_last_ha, region, planned_yield, base_yield, individual, deported,
                 individual_quota_factor, plan_t, regional_plan_t, quota_share):
    # The harvest the plan expects of each unit; individual farms are asked more.
    if planned_yield > 0:
        planned = area_last_ha * planned_yield
    else:
        planned = area_last_ha * base_yield[region]
    planned = planned * np.where(individual, individual_quota_factor, 1.0)
    planned = np.where(deported, 0.0, planned)
    if plan_t <= 0 and not np.any(regional_plan_t > 0):
        return quota_share * planned
    planned_r = np.zeros(regional_plan_t.size)
    for unit in range(planned.size):  # in unit order, as np.bincount sums
        planned_r[region[unit]] += planned[unit]
    # Regions with their own plan get it; the rest of the national plan is spread over the
    # other regions by planned harvest. (Sums over a handful of regions, in order, as numpy.)
    rest = max(plan_t - np.sum(regional_plan_t), 0.0)
    others = planned_r * (regional_plan_t <= 0)
    spread = rest * others / np.sum(others) if np.sum(others) > 0 else np.zeros_like(others)
    plan_r = np.where(regional_plan_t > 0, regional_plan_t, spread)
    return plan_r[region] * planned / np.maximum(planned_r[region], 1e-300)


def procure(h: HouseholdTable, macro: MacroState, s: Step, harvest_t: np.ndarray
            ) -> dict[str, np.ndarray]:
    """This month's grain taken by the state (``procured_t``) and sold privately."""
    p, pol, mode = s.p, s.pol, s.pol["procurement_mode"]
    sales_rate = keep_kg = 0.0
    if mode in ("market", "tax_in_kind", "extraordinary"):
        # Sellers market a share of their surplus, more when the terms of trade are good.
        tot = terms_of_trade(macro, s)
        rate = p["procurement.marketing_rate_per_month"] * incentive(
            tot, p["procurement.marketing_price_elasticity"], 0.0, p["procurement.marketing_response_max"])
        sales_rate = min(rate, 1.0)
        keep_kg = food_norm_kg(macro, s)
    # The obligation follows the plan in force (plans were cut, and raised, mid-campaign).
    quota_month = mode == "quota" and s.cm != 7
    obligation = set_obligations(h, s) if quota_month else NO_OBLIGATION
    procured, private, taken = _procure(
        MODES.index(mode), quota_month, h["grain_t"], h["persons"], h["area_last_ha"],
        p["agriculture.seed_norm_t_per_ha"], sowing_ahead_share(s),
        feed_need(h, s, s.months_to_harvest), harvest_t, obligation, h["delivered_t"],
        h.is_tenure(DEP), h.is_class(KULAK), h.is_class(MIDDLE), s.months_to_harvest,
        pol["procurement_floor_kg_per_person_year"], keep_kg,
        p["procurement.feed_reserve_share"], sales_rate, pol["enforcement_efficiency"],
        pol["tax_in_kind_share"], p["procurement.extraordinary_middle_weight"],
        p["procurement.private_share_of_sales"] if pol["private_trade"] else 0.0)
    return {"procured_t": procured, "private_sales_t": private, "delivered_t": taken}


NO_OBLIGATION = np.zeros(0)  # outside quota months


@kernel
def _procure(mode, quota_month, grain, persons, area_last_ha, seed_norm, sowing_ahead, feed_t,
             harvest_t, obligation, delivered, deported, kulak, middle, months, floor_kg, keep_kg,
             feed_reserve_share, sales_rate, eff, tax_in_kind_share, middle_weight, private_share):
    flows = np.empty((3, grain.size))  # one array back to Python (each array costs to box)
    procured, private, delivered_now = flows[0], flows[1], flows[2]
    for unit in range(grain.size):  # (a loop: no temporary arrays)
        seed_t = area_last_ha[unit] * seed_norm * sowing_ahead  # seed still to sow
        farming = 0.0 if deported[unit] else 1.0
        floor = kept_to_harvest(persons[unit], floor_kg, months, seed_t, 1.0, feed_t[unit])
        taken = sales = 0.0
        if mode == MARKET or mode == TAX_IN_KIND or mode == EXTRAORDINARY:
            # Sellers guard food and seed but only part of the feed: good prices are paid for
            # by leaner animals; and when bread is dear in town they eat less of it themselves.
            keep = kept_to_harvest(persons[unit], keep_kg, months, seed_t, feed_reserve_share,
                                   feed_t[unit])
            surplus = np.maximum(grain[unit] - keep, 0.0)
            sales = surplus * sales_rate * farming
        if mode == TAX_IN_KIND:
            taken = np.minimum(tax_in_kind_share * harvest_t[unit], grain[unit] - sales)
        elif mode == REQUISITION:
            taken = eff * (np.maximum(grain[unit] - floor, 0.0) * farming)
        elif mode == EXTRAORDINARY:
            above_floor = np.maximum(grain[unit] - floor, 0.0) * farming
            weight = 1.0 if kulak[unit] else (middle_weight if middle[unit] else 0.0)
            taken = np.minimum(eff * weight * np.maximum(above_floor - sales, 0.0),
                               grain[unit] - sales)
        elif mode == QUOTA and quota_month:
            # What a unit has delivered this agricultural year counts against its obligation.
            due = np.maximum(obligation[unit] - delivered[unit], 0.0)
            # Quotas reach below seed: only the food floor is protected.
            floor_food_only = floor - seed_t - feed_t[unit]
            collectable = np.maximum(grain[unit] - floor_food_only, 0.0) * farming
            taken = np.minimum(due, eff * collectable)
        private[unit] = sales * private_share
        procured[unit] = taken + sales - private[unit]
        delivered_now[unit] = taken
    return flows


def household_food(h: HouseholdTable, macro: MacroState, s: Step) -> dict[str, np.ndarray]:
    """Grain eaten (``food_t``) and fed to animals (``feed_t``) this month.

    Households spread what they can eat (their grain less the seed they guard) over the months
    to the harvest, in proportion to what each month needs (animals eat grain only in the stall
    months). When short, the month's budget is shared between people and animals, the animals
    getting ``livestock.feed_priority`` of their proportional share.
    """
    p = s.p
    food, feed = _household_food(
        h["persons"], h["grain_t"], h["crop_t"], feed_need(h, s),
        feed_need(h, s, s.months_to_harvest), h["area_last_ha"],
        p["agriculture.seed_norm_t_per_ha"], sowing_ahead_share(s),
        p["procurement.seed_protected_share"], food_norm_kg(macro, s),
        s.months_to_harvest, p["livestock.feed_priority"])
    return {"food_t": food, "feed_t": feed}


@kernel
def _household_food(persons, grain, crop, need, need_to_harvest, area_last_ha, seed_norm,
                    sowing_ahead, seed_protected_share, norm_kg, months, feed_priority):
    flows = np.empty((2, grain.size))
    food, feed = flows[0], flows[1]
    for unit in range(grain.size):  # (a loop: no temporary arrays)
        seed_guarded = area_last_ha[unit] * seed_norm * sowing_ahead * seed_protected_share
        norm = persons[unit] * norm_kg / 1000.0 / 12.0
        total = norm * months + need_to_harvest[unit]
        # During the harvest months households count the crop still standing in the fields.
        edible = np.maximum(grain[unit] + crop[unit] - seed_guarded, 0.0)
        month_need = norm + need[unit]
        budget = (month_need if edible >= total
                  else edible * month_need / np.maximum(total, 1e-300))
        budget = np.minimum(budget, grain[unit])
        scale = budget / np.maximum(month_need, 1e-300)
        feed[unit] = need[unit] if scale >= 1.0 else need[unit] * scale * feed_priority
        food[unit] = np.minimum(norm, budget - feed[unit])
    return flows
