"""Demography (mechanisms.demography): famine deaths, migration, deportation."""

import numpy as np

from sovsim.mechanisms.demography import deport, migration, vital
from sovsim.state.table import DEPLETION, FOOD_RATIO, PERSONS


def test_hunger_kills(world):
    """Below the famine threshold of food energy deaths rise above the baseline."""
    hv = world.hv()
    need = world.p.food_kcal_need_per_person_day
    fed = vital(hv, world.lab, world.p, np.full(hv.shape[1], need))
    starving = vital(hv, world.lab, world.p, np.full(hv.shape[1], 0.5 * need))
    assert starving.deaths.sum() > fed.deaths.sum()
    assert starving.excess_deaths.sum() > 0
    assert starving.births.sum() < fed.births.sum()


def _migrants(world, pol):
    hv = world.hv()
    hv[FOOD_RATIO] = 0.6  # hungry villages: a push to the towns
    return migration(hv, world.lab, world.p, pol, 1e6, 1.0, 1.0).sum()


def test_a_passport_ban_keeps_people_in_place(world):
    """Internal passports (December 1932) cut the flight to the towns."""
    free = world.pol("1932-06", passports=False)
    banned = world.pol("1932-06", passports=True)
    assert 0 <= _migrants(world, banned) < _migrants(world, free)


def test_no_dekulakization_no_deportation(world):
    quiet = world.pol("1925-01", dekulakization_rate_per_month=0.0)
    assert not (deport(world.lab, quiet) > 0).any()
    purge = world.pol("1930-02", dekulakization_rate_per_month=0.05)
    assert (deport(world.lab, purge) > 0).all()


# issue 15 (calendar): deaths follow the months of hunger.
def _hungry_months(world, ratios):
    hv = world.hv()
    need = world.p.food_kcal_need_per_person_day
    excess = []
    for r in ratios:
        vt = vital(hv, world.lab, world.p, np.full(hv.shape[1], r * need))
        hv[DEPLETION] = vt.depletion
        excess.append(vt.excess_deaths.sum())
    return np.array(excess), hv[DEPLETION]


def test_famine_deaths_lag_the_hunger(world):
    """The same hunger kills more in its fourth month than in its first (the body's reserves
    run down); fed again, deaths go on for a while and fall month by month as the reserves
    come back."""
    excess, _ = _hungry_months(world, [0.4] * 4 + [1.0] * 12)
    assert excess[0] > 0
    assert excess[3] > 3 * excess[0]
    assert np.all(np.diff(excess[3:]) < 0) and excess[-1] < 0.01 * excess[3]
    _, depletion = _hungry_months(world, [0.4] * 4 + [1.0] * 24)
    assert depletion.max() < 0.01


def test_one_hungry_month_kills_less_than_a_hungry_spring(world):
    """A month without food uses 1 / ``famine_reserve_months`` of the reserves; months more
    use up more, and deaths rise with them. A steady shortfall settles at a level set by the
    shortfall (the body adapts): shortfall / reserve months / recovery, at most all."""
    months = world.p.demography_famine_reserve_months
    recovery = world.p.demography_famine_recovery_per_month
    people = world.hv()[PERSONS] > 0
    excess_one, one = _hungry_months(world, [0.0])
    assert np.allclose(one[people], 1.0 / months)
    excess_many, many = _hungry_months(world, [0.0] * 60)
    assert np.allclose(many[people], min(1.0 / months / recovery, 1.0))
    assert excess_many[3] > 2 * excess_one[0]
    threshold = world.p.demography_famine_threshold_ratio
    _, part = _hungry_months(world, [0.8 * threshold] * 60)
    assert np.allclose(part[people], min(0.2 / months / recovery, 1.0))
    assert part.max() < many.max()
