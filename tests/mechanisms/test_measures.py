"""Regional measures (issue 15): delivery norms, regional floor and enforcement, blacklists,
the ban on leaving a region. Each on the small fixture of the coarse state, by region."""

import numpy as np

from sovsim.engine.packed import CHOICE_CODES
from sovsim.mechanisms.agriculture import sowing
from sovsim.mechanisms.demography import migration
from sovsim.mechanisms.measures import blacklist_fines, goods_response, potato_fine_kcal
from sovsim.mechanisms.procurement import procure, set_obligations
from sovsim.regions import REGIONS
from sovsim.state.table import AREA_LAST, CATTLE, FOOD_RATIO, GRAIN, HORSES, PIGS, SHEEP_GOATS

MODE = {name: code for code, name in enumerate(CHOICE_CODES["procurement_mode"])}
UKR, VOLGA = REGIONS.index("ukraine"), REGIONS.index("volga")


def _one(region: int, value: float) -> np.ndarray:
    out = np.zeros(len(REGIONS))
    out[region] = value
    return out


def _by_region(world, per_unit: np.ndarray) -> np.ndarray:
    return np.bincount(world.lab.region, weights=per_unit, minlength=len(REGIONS))


def _quota(world, **changes):
    return world.pol("1933-09", **{"procurement_mode": MODE["quota"], "procurement_plan_t": 0.0,
                                   "regional_procurement_plan_t": 0.0, "quota_share": 0.0,
                                   "planned_yield_t_per_ha": 0.0, "delivery_norm_t_per_ha": 0.0,
                                   **changes})


def test_a_zonal_norm_sets_the_obligation_by_region(world):
    """A per-hectare norm sets each unit's obligation to norm x its sown area (individual
    farms asked more), in the regions that have one; other regions keep their rule."""
    hv = world.hv()
    norm = _one(UKR, 0.2)
    pol = _quota(world, delivery_norm_t_per_ha=norm, quota_share=0.1)
    ob = set_obligations(hv, world.lab, world.p, pol)
    ukr = world.lab.region == UKR
    factor = np.where(world.lab.individual, world.p.procurement_individual_quota_factor, 1.0)
    expect = np.where(world.lab.deported, 0.0, hv[AREA_LAST] * 0.2 * factor)
    assert hv[AREA_LAST][ukr].sum() > 0
    np.testing.assert_allclose(ob[ukr], expect[ukr])
    # the other regions: quota share x planned harvest, untouched by Ukraine's norm
    without = set_obligations(hv, world.lab, world.p, _quota(world, quota_share=0.1))
    np.testing.assert_allclose(ob[~ukr], without[~ukr])
    # a higher norm in the Volga raises the Volga's obligations only
    higher = set_obligations(hv, world.lab, world.p, _quota(
        world, delivery_norm_t_per_ha=norm + _one(VOLGA, 0.3), quota_share=0.1))
    volga = world.lab.region == VOLGA
    assert higher[volga].sum() > ob[volga].sum() > 0
    np.testing.assert_allclose(higher[~volga], ob[~volga])


def test_a_regional_plan_in_tonnes_wins_over_the_norm(world):
    hv = world.hv()
    pol = _quota(world, delivery_norm_t_per_ha=_one(UKR, 0.2),
                 regional_procurement_plan_t=_one(UKR, 1e6))
    ob = set_obligations(hv, world.lab, world.p, pol)
    assert np.isclose(_by_region(world, ob)[UKR], 1e6)


def _procured_by_region(world, pol, grain_factor=3.0):
    hv = world.hv()
    hv[GRAIN] *= grain_factor
    # the campaign's monthly capacity (issue 15, calendar) must not bind, or floors and
    # enforcement would not show: what the collectors can reach is what these tests vary
    rec = np.empty(1, world.p.dtype)
    rec[0] = world.p
    rec = rec.view(np.recarray)
    rec["procurement_collection_capacity_share_per_month"][0] = 1.0
    pr = procure(hv, world.lab, 1.0, 1.0, rec[0], pol, 10, 9, np.zeros(hv.shape[1]))
    return _by_region(world, pr.procured_t)


def test_a_regional_floor_protects_that_region_only(world):
    """A higher food floor in the Volga leaves more grain there; the other regions lose as
    much as before."""
    base = _quota(world, quota_share=0.3, procurement_floor_kg_per_person_year=120.0,
                  enforcement_efficiency=0.7)
    floor = np.full(len(REGIONS), 120.0)
    floor[VOLGA] = 400.0
    guarded = _quota(world, quota_share=0.3, procurement_floor_kg_per_person_year=floor,
                     enforcement_efficiency=0.7)
    a, b = _procured_by_region(world, base), _procured_by_region(world, guarded)
    assert b[VOLGA] < a[VOLGA]
    others = np.arange(len(REGIONS)) != VOLGA
    np.testing.assert_allclose(b[others], a[others])


def test_regional_enforcement_acts_in_that_region_only(world):
    eff = np.full(len(REGIONS), 0.3)
    eff[UKR] = 0.9
    soft = _quota(world, quota_share=0.3, enforcement_efficiency=0.3)
    hard = _quota(world, quota_share=0.3, enforcement_efficiency=eff)
    a, b = _procured_by_region(world, soft), _procured_by_region(world, hard)
    assert b[UKR] > a[UKR]
    others = np.arange(len(REGIONS)) != UKR
    np.testing.assert_allclose(b[others], a[others])


def _migrants_by_region(world, pol):
    hv = world.hv()
    hv[FOOD_RATIO] = 0.6  # hungry villages: a push to the towns
    # no town jobs: only hunger drives the flight
    return _by_region(world, migration(hv, world.lab, world.p, pol, 0.0, 1.0, 1.0))


def test_a_mobility_ban_keeps_the_hungry_in_place(world):
    """The directive of 22 Jan 1933: no hunger-driven departures from the banned region;
    flight from the other regions goes on as before."""
    open_ = world.pol("1932-06", passports=False, mobility_ban=0.0)
    banned = world.pol("1932-06", passports=False, mobility_ban=_one(UKR, 1.0))
    a, b = _migrants_by_region(world, open_), _migrants_by_region(world, banned)
    assert a[UKR] > 0
    assert b[UKR] == 0.0
    others = np.arange(len(REGIONS)) != UKR
    np.testing.assert_allclose(b[others], a[others])
    assert (b[others] > 0).all()


def test_a_blacklist_takes_fines_in_kind_in_its_region(world):
    """Blacklisted villages are fined meat (live animals other than horses) and potatoes
    (non-grain food), in proportion to the share blacklisted, in their region only."""
    hv = world.hv()
    none = world.pol("1932-12", blacklist_share=0.0)
    some = world.pol("1932-12", blacklist_share=_one(UKR, 0.5))
    assert not blacklist_fines(hv, world.lab, world.p, none).any()
    fined = blacklist_fines(hv, world.lab, world.p, some)
    ukr_farming = (world.lab.region == UKR) & (world.lab.farming > 0)
    rate = world.p.measures_blacklist_meat_fine_share_per_month
    for row in (CATTLE, PIGS, SHEEP_GOATS):
        herd = fined[row - HORSES]
        np.testing.assert_allclose(herd[ukr_farming], hv[row][ukr_farming] * 0.5 * rate)
        assert not herd[~ukr_farming].any()
        assert (herd <= hv[row]).all()
    assert herd[ukr_farming].sum() > 0
    assert not fined[0].any()  # horses: draught power, not a meat fine
    kcal = potato_fine_kcal(world.lab, world.p, some)
    assert (kcal[ukr_farming] > 0).all() and not kcal[~ukr_farming].any()
    assert (kcal <= world.p.food_other_kcal_per_person_day).all()


def test_a_blacklist_cuts_goods_and_so_market_sowing(world):
    """No goods for the blacklisted: their sowing response falls to the response to nil terms
    of trade, so individual farms in the region sow less for the market (April)."""
    hv = world.hv()
    hv[GRAIN] *= 5.0  # seed is not the limit
    none = world.pol("1932-04", blacklist_share=0.0)
    all_ukr = world.pol("1932-04", blacklist_share=_one(UKR, 1.0))
    resp = goods_response(np.ones(hv.shape[1]), world.lab, world.p, all_ukr)
    ukr = world.lab.region == UKR
    assert (resp[ukr] < 1.0).all() and (resp[~ukr] == 1.0).all()
    # good terms of trade, so the market sowing is above subsistence where goods reach
    a = sowing(hv, world.lab, 0.0, 2.0, world.p, none, 4)
    b = sowing(hv, world.lab, 0.0, 2.0, world.p, all_ukr, 4)
    ind_ukr = ukr & world.lab.individual
    assert b[ind_ukr].sum() < a[ind_ukr].sum()
    np.testing.assert_allclose(b[~ukr], a[~ukr])
