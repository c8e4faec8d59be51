"""Procurement (mechanisms.procurement): what the state takes, by mode and quota."""

import numpy as np
import pytest

from sovsim.engine.packed import CHOICE_CODES
from sovsim.mechanisms.procurement import household_food, procure
from sovsim.state.table import (
    AREA_LAST,
    CATTLE,
    CROP,
    DELIVERED,
    GRAIN,
    HORSES,
    PERSONS,
    PIGS,
    SHEEP_GOATS,
)

MODE = {name: code for code, name in enumerate(CHOICE_CODES["procurement_mode"])}


def _procured(world, pol, cm=9, to_harvest=10, grain_factor=1.0):
    hv = world.hv()
    hv[GRAIN] *= grain_factor
    pr = procure(hv, world.lab, 1.0, 1.0, world.p, pol, cm, to_harvest, np.zeros(hv.shape[1]))
    return pr.procured_t.sum()


def _quota(world, **changes):
    return world.pol("1932-09", **{"procurement_mode": MODE["quota"], "procurement_plan_t": 0.0,
                                   "regional_procurement_plan_t": 0.0, **changes})


def test_a_higher_quota_takes_more_grain(world):
    """Under compulsory deliveries the obligation is quota x planned yield x area (with no
    plan in tonnes): a higher quota share takes more grain from the same households."""
    assert world.hv()[AREA_LAST].sum() > 0
    low, high = _quota(world, quota_share=0.05), _quota(world, quota_share=0.1)
    assert _procured(world, high) > _procured(world, low) > 0


def test_a_higher_plan_takes_more_grain(world):
    """A plan in tonnes, shared by the planned harvest, is collected the same way."""
    low, high = _quota(world, procurement_plan_t=1e6), _quota(world, procurement_plan_t=2e6)
    assert _procured(world, high) > _procured(world, low) > 0


def test_requisition_takes_more_than_the_market(world):
    """War-Communism requisition takes all above a food floor and seed; the market takes
    what households choose to sell."""
    market = world.pol("1925-09", procurement_mode=MODE["market"])
    requisition = world.pol("1925-09", procurement_mode=MODE["requisition"])
    # (grain well above the floor: the January stocks of 1921 are not)
    assert _procured(world, requisition, grain_factor=4) > _procured(
        world, market, grain_factor=4) > 0


def test_more_grain_in_hand_more_is_sold(world):
    """On the market, households with more grain above their needs sell more."""
    pol = world.pol("1925-09", procurement_mode=MODE["market"])
    assert _procured(world, pol, grain_factor=4.0) > _procured(world, pol, grain_factor=2.0) > 0


def test_households_eat_more_when_they_hold_more(world):
    """Food is spread over the months to the harvest: more grain, more eaten (to the norm)."""
    pol = world.pol("1925-09")
    hv = world.hv()
    poor = household_food(hv * np.where(np.arange(hv.shape[0]) == GRAIN, 0.3, 1.0)[:, None],
                          world.lab, 1.0, world.p, pol, 9, 10)
    rich = household_food(hv, world.lab, 1.0, world.p, pol, 9, 10)
    assert rich.food_t.sum() > poor.food_t.sum() > 0


# issue 15 (calendar): the campaign's calendar and the household's year.
def _params(world, **changes):
    """The parameters as the kernels read them, with ``changes`` (fields by name)."""
    rec = np.empty(1, world.p.dtype)
    rec[0] = world.p
    rec = rec.view(np.recarray)
    for name, value in changes.items():
        rec[name][0] = value
    return rec[0]


def _campaign(world, capacity, months=("1932-08", "1932-09", "1932-10", "1932-11", "1932-12")):
    """Collections month by month from August, the grain going where procure sends it."""
    p = _params(world, procurement_collection_capacity_share_per_month=capacity)
    hv = world.hv()
    hv[GRAIN] *= 6.0  # a harvest in the barns: far more than the plan asks
    out = []
    for k, month in enumerate(months):
        pol = world.pol(month, procurement_mode=MODE["quota"], procurement_plan_t=10e6,
                        regional_procurement_plan_t=0.0, enforcement_efficiency=1.0)
        pr = procure(hv, world.lab, 1.0, 1.0, p, pol, 8 + k if 8 + k <= 12 else k - 4,
                     12 - k - 1, np.zeros(hv.shape[1]))
        hv[GRAIN] -= pr.procured_t
        hv[DELIVERED] += pr.delivered_t
        out.append(pr.procured_t.sum())
    return np.array(out)


def test_the_campaign_is_spread_over_the_months(world):
    """Collectors take at most a share of the year's obligation a month: with grain enough,
    a plan is collected in equal parts from August, not all at once; by November a large part
    is still to come. Without the limit (capacity 1) it all comes in August."""
    spread = _campaign(world, 0.2)
    assert np.allclose(spread, 2e6, rtol=1e-6)  # 0.2 x 10 Mt a month, five months
    at_once = _campaign(world, 1.0)
    assert at_once[0] == pytest.approx(10e6, rel=1e-6) and at_once[1:].sum() < 1.0
    assert spread[:3].sum() / 10e6 == pytest.approx(0.6)


def test_the_law_of_7_august_leaves_households_less(world):
    """Hidden grain is out of the collectors' reach; the law of 7 August 1932 cuts what
    households can hide, so short households keep less of their grain."""
    hv = world.hv()  # (January stocks: the obligation is larger than what can be collected)
    kw = dict(procurement_mode=MODE["quota"], procurement_plan_t=4e9,
              regional_procurement_plan_t=0.0, enforcement_efficiency=1.0,
              procurement_floor_kg_per_person_year=0.0)
    p = _params(world, procurement_collection_capacity_share_per_month=1.0)
    without = procure(hv, world.lab, 1.0, 1.0, p, world.pol("1932-09", socialist_property_law=False, **kw),
                      9, 10, np.zeros(hv.shape[1])).procured_t.sum()
    with_law = procure(hv, world.lab, 1.0, 1.0, p, world.pol("1932-09", socialist_property_law=True, **kw),
                       9, 10, np.zeros(hv.shape[1])).procured_t.sum()
    grain = hv[GRAIN].sum()
    hidden = world.p.procurement_hidden_share
    cut = world.p.procurement_property_law_hiding_cut
    assert without == pytest.approx(grain * (1 - hidden), rel=1e-9)
    assert with_law == pytest.approx(grain * (1 - hidden * (1 - cut)), rel=1e-9)
    assert with_law > without


def _months_to_empty(world, exponent, cover=0.6, months=10):
    """Months a household lasts on ``cover`` of what the months to the harvest need."""
    p = _params(world, procurement_ration_cover_exponent=exponent,
                procurement_seed_protected_share=0.0)
    pol = world.pol("1932-09")
    hv = world.hv()
    hv[CROP] = 0.0
    hv[CATTLE:CATTLE + 1] = 0.0
    hv[HORSES] = hv[PIGS] = hv[SHEEP_GOATS] = 0.0
    # (each region's grain norm: herders eat less grain, food.grain_norm_share)
    norm = (hv[PERSONS] * world.p.procurement_food_norm_kg_per_person_year / 1000 / 12
            * world.p.food_grain_norm_share[world.lab.region])
    hv[GRAIN] = cover * norm * months
    eaten = []
    for k in range(months):
        fd = household_food(hv, world.lab, 1.0, p, pol, 9 + k if 9 + k <= 12 else k - 3,
                            months - k)
        hv[GRAIN] -= fd.food_t + fd.feed_t
        eaten.append(fd.food_t.sum() / norm.sum())
    return np.array(eaten)


def test_a_short_household_eats_out_its_stock_before_the_harvest(world):
    """With the exponent at 1 (perfect smoothing) a household with 60% of what it needs eats
    60% of the norm each month to the harvest. With the exponent below 1 it eats more at
    first and runs out before the harvest: the last months find it with nothing."""
    smooth = _months_to_empty(world, 1.0)
    assert np.allclose(smooth, 0.6, rtol=1e-6)
    biased = _months_to_empty(world, 0.5)
    assert biased[0] > 0.6 and biased[0] == pytest.approx(0.6 ** 0.5, rel=1e-6)
    assert biased[-1] < 0.05 < 0.6
    assert biased.sum() == pytest.approx(smooth.sum(), rel=1e-6)  # the same grain, eaten sooner
