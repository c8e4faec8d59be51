"""Procurement (mechanisms.procurement): what the state takes, by mode and quota."""

import numpy as np

from sovsim.engine.packed import CHOICE_CODES
from sovsim.mechanisms.procurement import household_food, procure
from sovsim.state.table import AREA_LAST, GRAIN

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
                          1.0, world.p, pol, 9, 10)
    rich = household_food(hv, 1.0, world.p, pol, 9, 10)
    assert rich.food_t.sum() > poor.food_t.sum() > 0
