"""Demography (mechanisms.demography): famine deaths, migration, deportation."""

import numpy as np

from sovsim.mechanisms.demography import deport, migration, vital
from sovsim.state.table import FOOD_RATIO


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
