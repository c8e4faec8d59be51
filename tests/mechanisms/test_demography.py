"""Demography (mechanisms.demography): famine deaths, migration, deportation."""

import numpy as np

from sovsim.mechanisms.demography import (
    conceive,
    conceive_urban,
    deport,
    fecundity_of,
    migration,
    urban_vital,
    vital,
)
from sovsim.state.table import DEPLETION, FECUNDITY, FOOD_RATIO, PERSONS


def test_hunger_kills(world):
    """Below the famine threshold of food energy deaths rise above the baseline."""
    hv = world.hv()
    need = world.p.food_kcal_need_per_person_day
    fed = vital(hv, world.lab, world.p, np.full(hv.shape[1], need))
    starving = vital(hv, world.lab, world.p, np.full(hv.shape[1], 0.5 * need))
    assert starving.deaths.sum() > fed.deaths.sum()
    assert starving.excess_deaths.sum() > 0


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


# issue 15 (births) ------------------------------------------------------------------------
def _births_by_month(world, hungry_months, months=24, hunger=0.5):
    """Rural births month by month, the people held fixed, food energy at ``hunger`` of need
    in ``hungry_months`` and at need otherwise (vital, then conceive, as the schedule)."""
    hv, p = world.hv(), world.p
    need = p.food_kcal_need_per_person_day
    out = []
    for month in range(months):
        kcal = np.full(hv.shape[1], (hunger if month in hungry_months else 1.0) * need)
        vt = vital(hv, world.lab, p, kcal)
        out.append(vt.births.sum())
        conceive(hv[FECUNDITY:FECUNDITY + 3], fecundity_of(vt.food_ratio, p),
                 p.demography_gestation_months, hv[PERSONS])
    return np.array(out)


def test_famine_cuts_births_a_gestation_later(world):
    """A famine of six months (food at half of need) leaves the births of its first month
    alone and cuts those of the months after it: the deepest cut comes between six months and
    a year after the famine began, and the births return once the conceptions of the fed
    months come due."""
    fed = _births_by_month(world, hungry_months=())
    famine = _births_by_month(world, hungry_months=range(6))
    ratio = famine / fed
    assert np.allclose(fed, fed[0])  # fed, the people fixed: the same births every month
    assert ratio[0] == 1.0  # the conceptions of the famine's month are not yet due
    assert ratio[1] > 0.95
    assert 6 <= int(np.argmin(ratio)) <= 12
    assert ratio.min() < 0.8
    assert ratio[-1] > ratio.min() and ratio[-1] > 0.9
    # the births lost fall mostly in the year after the famine began
    lost = fed - famine
    assert lost[6:18].sum() > 2 * lost[:6].sum()


def test_the_towns_conceive_with_the_same_lag(world):
    """The towns' trimesters (the schedule's memory) carry their food the same way."""
    from sovsim.engine.packed import memory

    mem, p = memory()[0], world.p
    full = urban_vital(1e6, p, 1.0, mem.urban_fecundity_3).births
    conceive_urban(mem, p, 0.4)
    assert urban_vital(1e6, p, 1.0, mem.urban_fecundity_3).births > 0.99 * full
    for _ in range(8):
        conceive_urban(mem, p, 0.4)
    assert urban_vital(1e6, p, 1.0, mem.urban_fecundity_3).births < 0.8 * full


def test_towns_lower_the_crude_birth_rate(world):
    """The same people, more of them in town: fewer births per head (the urban rate of the
    1920s is below the rural one), so urbanization lowers the national rate."""
    p = world.p
    assert p.demography_urban_birth_rate_per_year < p.demography_rural_birth_rate_per_year
    need = p.food_kcal_need_per_person_day
    base = world.hv()
    people = base[PERSONS].sum() / 0.82  # 18 % in town

    def crude_birth_rate(urban_share):
        hv = base.copy()
        hv[PERSONS] *= (1 - urban_share) * people / base[PERSONS].sum()
        rural = vital(hv, world.lab, p, np.full(hv.shape[1], need)).births.sum()
        urban = urban_vital(urban_share * people, p, 1.0, 1.0).births
        return 12 * 1000 * (rural + urban) / people

    rates = [crude_birth_rate(s) for s in (0.18, 0.25, 0.33)]
    assert rates[0] > rates[1] > rates[2]
    # each point of urban share moves the rate by the gap between the two rates
    gap = 1000 * (p.demography_rural_birth_rate_per_year - p.demography_urban_birth_rate_per_year)
    assert abs((rates[0] - rates[2]) - 0.15 * gap) < 0.05 * gap


def test_an_empty_unit_holds_full_fecundity(world):
    """A unit nobody lives in (a kolkhoz before collectivization) eats nothing, but its first
    members are not taken for hungry: its trimesters stay at 1."""
    hv, p = world.hv(), world.p
    empty = np.flatnonzero(hv[PERSONS] == 0)
    assert empty.size  # the kolkhoz and special-settlement units of 1921
    for _ in range(12):
        conceive(hv[FECUNDITY:FECUNDITY + 3], np.full(hv.shape[1], 0.2),
                 p.demography_gestation_months, hv[PERSONS])
    assert (hv[FECUNDITY:FECUNDITY + 3, empty] == 1.0).all()
    lived_in = np.flatnonzero(hv[PERSONS] > 0)
    assert (hv[FECUNDITY + 2, lived_in] < 0.6).all()
