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
  planned one, the shortfall lands on peasant food. Collectors can thresh, haul and take in a
  month only a share of the year's obligation (``procurement.collection_capacity_share_per_month``),
  so the campaign runs from August into the winter.

In the compulsory modes households hide a share of their grain from the collectors (pits,
grain gleaned or taken from the kolkhoz fields before threshing); the law of 7 August 1932
(instrument ``socialist_property_law``) cuts that share. Households do not ration their food
perfectly to the next harvest: when their grain will not last, they eat more than an even
share of it (``procurement.ration_cover_exponent``), so that short stocks run out in the spring.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sovsim.compiled import kernel
from sovsim.mechanisms.agriculture import feed_need
from sovsim.mechanisms.prices import incentive
from sovsim.regions import CLASSES
from sovsim.state.table import AREA_LAST, CROP, DELIVERED, GRAIN, PERSONS

KULAK, MIDDLE = CLASSES.index("kulak"), CLASSES.index("middle")
# The procurement modes, coded for the kernel by their place in this tuple: the order of the
# instrument's choices in instruments.toml, so that the timeline's codes are the kernel's
# (engine.packed checks that the two agree).
MODES = ("requisition", "tax_in_kind", "market", "extraordinary", "quota")
REQUISITION, TAX_IN_KIND, MARKET, EXTRAORDINARY, QUOTA = range(len(MODES))

# What the mechanisms return, by name (units, or rows by unit).
Procured = namedtuple("Procured", "procured_t private_sales_t delivered_t")
Food = namedtuple("Food", "food_t feed_t")


@kernel
def selling(mode):
    """Whether households sell on the market in this mode (as under NEP)."""
    return mode == MARKET or mode == TAX_IN_KIND or mode == EXTRAORDINARY


@kernel
def kept_to_harvest(persons, food_kg_year, months, seed_t, feed_share, feed_t):
    """Food for ``months`` at ``food_kg_year``, seed, and ``feed_share`` of the feed (t)."""
    food = persons * food_kg_year / 1000.0 * months / 12.0
    return food + seed_t + feed_share * feed_t


@kernel
def food_norm_kg(free_price_ratio, p, mode):
    """Grain a peasant eats in a year: the pre-war norm, less when bread is dear in the
    market modes (more potatoes, more sold)."""
    norm = p.procurement_food_norm_kg_per_person_year
    if not selling(mode):
        return norm
    return norm * max(free_price_ratio, 1.0) ** -p.procurement_food_price_elasticity


@kernel
def sowing_ahead_share(p, cm):
    """Share of a year's sowing still ahead before the next harvest."""
    # Sowing comes first in its month, so in April and September that seed is already sown.
    share = 0.0
    if cm >= 7 or cm < 4:  # spring sowing (April) still ahead
        share += 1 - p.agriculture_winter_crop_share
    if 7 <= cm < 9:  # winter sowing (September) still ahead
        share += p.agriculture_winter_crop_share
    return share


@kernel
def set_obligations(hv, lab, p, pol):
    """In August under quotas: each unit's delivery obligation for the agricultural year (t)."""
    return _obligations(hv[AREA_LAST], lab.region, pol.planned_yield_t_per_ha,
                        p.agriculture_base_yield_t_per_ha, lab.individual, lab.deported,
                        p.procurement_individual_quota_factor, pol.procurement_plan_t,
                        pol.regional_procurement_plan_t, pol.quota_share,
                        pol.delivery_norm_t_per_ha)


@kernel
def _obligations(area_last_ha, region, planned_yield, base_yield, individual, deported,
                 individual_quota_factor, plan_t, regional_plan_t, quota_share, norm_t_per_ha):
    # The harvest the plan expects of each unit; individual farms are asked more.
    if planned_yield > 0:
        planned = area_last_ha * planned_yield
    else:
        planned = area_last_ha * base_yield[region]
    planned = planned * np.where(individual, individual_quota_factor, 1.0)
    planned = np.where(deported, 0.0, planned)
    # issue 15 (measures): a region's per-hectare delivery norm (the zonal norms of 19 Jan
    # 1933) sets its units' obligations where the region has no plan in tonnes.
    factor = np.where(individual, individual_quota_factor, 1.0)
    by_norm = np.where(deported, 0.0, area_last_ha * norm_t_per_ha[region] * factor)
    normed = (norm_t_per_ha > 0) & (regional_plan_t <= 0)
    if np.any(normed):
        rest = _plan_obligations(planned, region, plan_t, regional_plan_t, quota_share,
                                 normed)
        return np.where(normed[region], by_norm, rest)
    return _plan_obligations(planned, region, plan_t, regional_plan_t, quota_share, normed)


@kernel
def _plan_obligations(planned, region, plan_t, regional_plan_t, quota_share, normed):
    """Obligations from the plans in tonnes, or from ``quota_share`` of the planned harvest;
    regions under a norm (``normed``) take no share of the national plan."""
    if plan_t <= 0 and not np.any(regional_plan_t > 0):
        return quota_share * planned
    planned_r = np.zeros(regional_plan_t.size)
    for unit in range(planned.size):  # in unit order, as np.bincount sums
        planned_r[region[unit]] += planned[unit]
    # Regions with their own plan get it; the rest of the national plan is spread over the
    # other regions by planned harvest. (Sums over a handful of regions, in order, as numpy.)
    rest = max(plan_t - np.sum(regional_plan_t), 0.0)
    others = planned_r * (regional_plan_t <= 0) * ~normed
    spread = rest * others / np.sum(others) if np.sum(others) > 0 else np.zeros_like(others)
    plan_r = np.where(regional_plan_t > 0, regional_plan_t, spread)
    return plan_r[region] * planned / np.maximum(planned_r[region], 1e-300)


@kernel
def procure(hv, lab, free_price_ratio, tot, p, pol, cm, months_to_harvest, harvest_t):
    """This month's grain taken by the state, sold privately, and delivered against
    obligations: (3, units)."""
    mode = pol.procurement_mode
    sales_rate = keep_kg = 0.0
    if selling(mode):
        # Sellers market a share of their surplus, more when the terms of trade are good.
        rate = p.procurement_marketing_rate_per_month * incentive(
            tot, p.procurement_marketing_price_elasticity, 0.0,
            p.procurement_marketing_response_max)
        sales_rate = min(rate, 1.0)
        keep_kg = food_norm_kg(free_price_ratio, p, mode)
    # The obligation follows the plan in force (plans were cut, and raised, mid-campaign).
    quota_month = mode == QUOTA and cm != 7
    obligation = set_obligations(hv, lab, p, pol) if quota_month else np.zeros(0)
    # issue 15 (calendar): what collectors can reach of a unit's grain (the rest is hidden),
    # and how much of the year's obligation they can take in a month.
    visible = visible_share(p, pol)
    capacity = p.procurement_collection_capacity_share_per_month
    # What the rules below read, by short names.
    grain, persons, area_last_ha = hv[GRAIN], hv[PERSONS], hv[AREA_LAST]
    delivered, deported, kulak, middle = hv[DELIVERED], lab.deported, lab.kulak, lab.middle
    months, floor_kg = months_to_harvest, pol.procurement_floor_kg_per_person_year
    eff, tax_in_kind_share = pol.enforcement_efficiency, pol.tax_in_kind_share
    region = lab.region  # issue 15 (measures): the floor and enforcement are by region
    seed_norm, sowing_ahead = p.agriculture_seed_norm_t_per_ha, sowing_ahead_share(p, cm)
    feed_t = feed_need(hv, p, cm, months_to_harvest)
    feed_reserve_share = p.procurement_feed_reserve_share
    middle_weight = p.procurement_extraordinary_middle_weight
    private_share = p.procurement_private_share_of_sales if pol.private_trade else 0.0
    flows = np.empty((3, grain.size))  # one array back to Python (each array costs to box)
    procured, private, delivered_now = flows[0], flows[1], flows[2]
    for unit in range(grain.size):  # (a loop: no temporary arrays)
        seed_t = area_last_ha[unit] * seed_norm * sowing_ahead  # seed still to sow
        farming = 0.0 if deported[unit] else 1.0
        floor = kept_to_harvest(persons[unit], floor_kg[region[unit]], months, seed_t, 1.0,
                                feed_t[unit])
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
            taken = eff[region[unit]] * (np.maximum(visible * grain[unit] - floor, 0.0) * farming)
        elif mode == EXTRAORDINARY:
            above_floor = np.maximum(visible * grain[unit] - floor, 0.0) * farming
            weight = 1.0 if kulak[unit] else (middle_weight if middle[unit] else 0.0)
            taken = np.minimum(eff[region[unit]] * weight * np.maximum(above_floor - sales, 0.0),
                               grain[unit] - sales)
        elif mode == QUOTA and quota_month:
            # What a unit has delivered this agricultural year counts against its obligation.
            due = np.maximum(obligation[unit] - delivered[unit], 0.0)
            # Quotas reach below seed: only the food floor is protected.
            floor_food_only = floor - seed_t - feed_t[unit]
            collectable = np.maximum(visible * grain[unit] - floor_food_only, 0.0) * farming
            taken = min(due, capacity * obligation[unit], eff[region[unit]] * collectable)
        private[unit] = sales * private_share
        procured[unit] = taken + sales - private[unit]
        delivered_now[unit] = taken
    return Procured(flows[0], flows[1], flows[2])


@kernel
def visible_share(p, pol):
    """Share of a household's grain that collectors can reach: all but what it hides, less
    hidden under the law of 7 August 1932 (theft of kolkhoz grain punished by death or ten
    years)."""
    hidden = p.procurement_hidden_share
    if pol.socialist_property_law:
        hidden = hidden * (1.0 - p.procurement_property_law_hiding_cut)
    return 1.0 - hidden


@kernel
def household_food(hv, lab, free_price_ratio, p, pol, cm, months_to_harvest):
    """Grain eaten and fed to animals this month: (2, units), food then feed.

    Households measure what they can eat (their grain less the seed they guard) against what
    the months to the harvest need (animals eat grain only in the stall months). With enough
    they eat the norm. When short they cut the month's eating, but by less than the shortfall:
    the month gets its need times ``cover ** procurement.ration_cover_exponent`` (cover: what
    they hold over what the months ahead need), so short stocks run out before the harvest (an
    exponent of 1 is perfect smoothing, 0 eating the norm until the grain is gone). The month's
    budget is shared between people and animals, the animals getting
    ``livestock.feed_priority`` of their proportional share. The grain norm is the region's
    share of it (``food.grain_norm_share``: herders live on their animals' milk and meat).
    """
    flows = _household_food(
        hv[PERSONS], hv[GRAIN], hv[CROP], feed_need(hv, p, cm, 1),
        feed_need(hv, p, cm, months_to_harvest), hv[AREA_LAST],
        p.agriculture_seed_norm_t_per_ha, sowing_ahead_share(p, cm),
        p.procurement_seed_protected_share,
        food_norm_kg(free_price_ratio, p, pol.procurement_mode) * p.food_grain_norm_share,
        lab.region, months_to_harvest, p.livestock_feed_priority,
        p.procurement_ration_cover_exponent)
    return Food(flows[0], flows[1])


@kernel
def _household_food(persons, grain, crop, need, need_to_harvest, area_last_ha, seed_norm,
                    sowing_ahead, seed_protected_share, norm_kg, region, months, feed_priority,
                    cover_exponent):
    flows = np.empty((2, grain.size))
    food, feed = flows[0], flows[1]
    for unit in range(grain.size):  # (a loop: no temporary arrays)
        seed_guarded = area_last_ha[unit] * seed_norm * sowing_ahead * seed_protected_share
        norm = persons[unit] * norm_kg[region[unit]] / 1000.0 / 12.0
        total = norm * months + need_to_harvest[unit]
        # During the harvest months households count the crop still standing in the fields.
        edible = np.maximum(grain[unit] + crop[unit] - seed_guarded, 0.0)
        month_need = norm + need[unit]
        cover = edible / np.maximum(total, 1e-300)
        budget = month_need if cover >= 1.0 else month_need * cover ** cover_exponent
        budget = np.minimum(budget, grain[unit])
        scale = budget / np.maximum(month_need, 1e-300)
        feed[unit] = need[unit] if scale >= 1.0 else need[unit] * scale * feed_priority
        food[unit] = np.minimum(norm, budget - feed[unit])
    return flows
