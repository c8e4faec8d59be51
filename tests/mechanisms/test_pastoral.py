"""Kazakhstan's pastoral economy (issue 15, kazakh): herds bounded by pasture, not arable land;
the state's meat and livestock procurement; sedentarization; the pastoral diet; flight."""

import numpy as np
import pytest

from sovsim.engine import invariants
from sovsim.engine.packed import instrument_records, memory, param_record
from sovsim.engine.schedule import step
from sovsim.inputs import load_inputs
from sovsim.mechanisms.agriculture import (
    HERDS,
    herd_parameters,
    live_weight_kg,
    livestock,
    settled_share_step,
)
from sovsim.mechanisms.context import Step
from sovsim.mechanisms.demography import flight, food_energy, kolkhoz_share
from sovsim.params import load_parameters
from sovsim.regions import REGIONS
from sovsim.scenario import load_scenario
from sovsim.state import initial_state
from sovsim.state.table import FOOD_RATIO, GRAIN, HERD_ROWS, HORSES, PERSONS

KZ = REGIONS.index("kazakhstan")
SHEEP = HERDS.index("sheep_goats")


def _kz(world):
    return world.lab.region == KZ


def _no_settled():
    return np.zeros(len(REGIONS))


def _herds(world, hv, pol, p=None, cm=7, settled=None):
    """The livestock flows of a pasture month (July: no stall feed needed) by default."""
    feed = np.full(hv.shape[1], 1e12)
    return livestock(hv, world.lab, world.p if p is None else p, pol, cm, feed,
                     kolkhoz_share(hv, world.lab),
                     _no_settled() if settled is None else settled)


def _without_pasture(world):
    rec = param_record(load_parameters().values()).copy()
    for herd in HERDS:
        rec[f"livestock_pasture_{herd}_capacity_head"][0][:] = 0.0
    return rec[0]


def test_kazakh_herds_are_bounded_by_pasture_not_arable_land(world):
    """Kazakhstan's capacity is its own pasture (the 1928/29 herds); the other regions keep
    the national 1916 herd spread by arable land."""
    _, cap = herd_parameters(world.p)
    _, by_land = herd_parameters(_without_pasture(world))
    assert cap[SHEEP, KZ] == world.p.livestock_pasture_sheep_goats_capacity_head[KZ] > 0
    assert cap[SHEEP, KZ] > 3 * by_land[SHEEP, KZ]
    others = np.arange(len(REGIONS)) != KZ
    np.testing.assert_array_equal(cap[:, others], by_land[:, others])


def test_herds_grow_to_pasture_capacity(world):
    """A Kazakh flock far above the arable-land share of the national herd, below the
    steppe's pasture, still breeds; bounded by arable land it would not."""
    hv, pol = world.hv(), world.pol("1925-07")
    _, by_land = herd_parameters(_without_pasture(world))
    kz = _kz(world)
    flock = 2.0 * by_land[SHEEP, KZ]  # above the land-bound capacity, well below the pasture
    hv[HERD_ROWS + SHEEP, kz] = flock * hv[PERSONS, kz] / hv[PERSONS, kz].sum()
    on_pasture = _herds(world, hv, pol).births[SHEEP, kz].sum()
    land_bound = _herds(world, hv, pol, p=_without_pasture(world)).births[SHEEP, kz].sum()
    assert on_pasture > 0.01 * flock / 12
    assert land_bound == 0.0
    # at the pasture's capacity, births stop
    hv[HERD_ROWS + SHEEP, kz] *= world.p.livestock_pasture_sheep_goats_capacity_head[KZ] / flock
    assert _herds(world, hv, pol).births[SHEEP, kz].sum() == pytest.approx(0.0, abs=1e-6)


def test_a_meat_plan_takes_animals_from_the_region(world):
    """A yearly plan in t live weight takes a twelfth a month from the region's herds, by
    live weight, and nothing elsewhere."""
    hv = world.hv()
    plan = np.zeros(len(REGIONS))
    plan[KZ] = 120000.0
    none = _herds(world, hv, world.pol("1925-07")).procured
    taken = _herds(world, hv, world.pol("1925-07", livestock_procurement_plan_t=plan)).procured
    assert none.sum() == 0.0
    kz = _kz(world)
    weight_t = (taken[:, kz] * live_weight_kg(world.p)).sum() / 1000.0
    assert weight_t == pytest.approx(plan[KZ] / 12, rel=1e-9)
    assert taken[:, ~kz].sum() == 0.0
    # each herd gives the same share of its head
    share = taken[:, kz].sum(axis=1) / hv[HERD_ROWS:HERD_ROWS + 4][:, kz].sum(axis=1)
    held = hv[HERD_ROWS:HERD_ROWS + 4][:, kz].sum(axis=1) > 0
    np.testing.assert_allclose(share[held], share[held][0])


def test_a_plan_cannot_take_more_than_the_herd(world):
    hv = world.hv()
    plan = np.zeros(len(REGIONS))
    plan[KZ] = 5e6
    lv = _herds(world, hv, world.pol("1925-07", livestock_procurement_plan_t=plan))
    after = hv[HERD_ROWS:HERD_ROWS + 4] + lv.births - lv.deaths - lv.slaughter - lv.procured
    assert after.min() >= 0.0


def test_sedentarization_cuts_capacity_and_raises_winter_losses(world):
    """Settling the nomads takes pasture (fewer births near capacity) and the winter routes
    (more deaths in the stall months); the plan's share accumulates month by month."""
    rate = np.zeros(len(REGIONS))
    rate[KZ] = 0.6
    pol = world.pol("1930-07", sedentarization_share_per_year=rate)
    settled = settled_share_step(_no_settled(), pol)
    assert settled[KZ] == pytest.approx(0.05) and settled[np.arange(5) != KZ].sum() == 0
    all_settled = np.zeros(len(REGIONS))
    all_settled[KZ] = 1.0
    hv, kz = world.hv(), _kz(world)
    hv[HERD_ROWS + SHEEP, kz] *= 0.5 * world.p.livestock_pasture_sheep_goats_capacity_head[KZ] / (
        hv[HERD_ROWS + SHEEP, kz].sum())
    free = _herds(world, hv, pol)
    settled_herds = _herds(world, hv, pol, settled=all_settled)
    assert settled_herds.births[SHEEP, kz].sum() < free.births[SHEEP, kz].sum()
    winter_free = _herds(world, hv, pol, cm=1)
    winter_settled = _herds(world, hv, pol, cm=1, settled=all_settled)
    assert winter_settled.deaths[:, kz].sum() > winter_free.deaths[:, kz].sum()
    # the other regions are untouched
    np.testing.assert_array_equal(winter_settled.deaths[:, ~kz], winter_free.deaths[:, ~kz])


def test_kazakh_households_eat_from_their_herds(world):
    """Milk of cows, ewes and (in Kazakhstan) mares: with no grain, a Kazakh unit's herds
    still feed it; take the herds and its food energy falls."""
    hv, kz = world.hv(), _kz(world)
    n = hv.shape[1]
    no_grain, no_meat = np.zeros(n), np.zeros((4, n))
    with_herds = food_energy(hv, world.lab, world.p, no_grain, no_meat)
    hv[HERD_ROWS:HERD_ROWS + 4] = 0.0
    without = food_energy(hv, world.lab, world.p, no_grain, no_meat)
    farming = world.lab.individual  # (in January 1921 the kolkhozy are empty)
    assert (with_herds[kz & farming] > without[kz & farming] + 300).all()
    # mares' milk counts in Kazakhstan only
    hv2 = world.hv()
    hv2[HORSES] *= 2
    more_mares = food_energy(hv2, world.lab, world.p, no_grain, no_meat)
    assert (more_mares[kz & farming] > with_herds[kz & farming]).all()
    np.testing.assert_array_equal(more_mares[~kz], with_herds[~kz])


def test_hunger_pushes_flight(world):
    """Below the famine threshold Kazakh households flee, some abroad; fed, none do; other
    regions' hunger moves people through migration instead."""
    hv = world.hv()
    hv[FOOD_RATIO] = 1.0
    fed = flight(hv, world.lab, world.p, world.pol("1931-01"))
    assert fed.within_ussr.sum() == 0 and fed.abroad.sum() == 0
    hv[FOOD_RATIO] = 0.3
    hungry = flight(hv, world.lab, world.p, world.pol("1931-01"))
    kz = _kz(world) & (world.lab.farming > 0)
    assert hungry.within_ussr[kz].sum() > 0 and hungry.abroad[kz].sum() > 0
    assert hungry.within_ussr[~_kz(world)].sum() == 0
    share = hungry.abroad[kz].sum() / (hungry.abroad[kz].sum() + hungry.within_ussr[kz].sum())
    assert share == pytest.approx(world.p.demography_flight_abroad_share[KZ])
    hv[FOOD_RATIO] = 0.1
    hungrier = flight(hv, world.lab, world.p, world.pol("1931-01"))
    assert hungrier.abroad.sum() > hungry.abroad.sum()
    assert ((hungrier.within_ussr + hungrier.abroad) <= 0.2 * hv[PERSONS] + 1e-9).all()
    # a mobility ban on Kazakhstan stops that share of its flight (issue 15, measures)
    ban = np.zeros(len(REGIONS))
    ban[KZ] = 0.75
    banned = flight(hv, world.lab, world.p, world.pol("1931-01", mobility_ban=ban))
    assert banned.abroad.sum() == pytest.approx(0.25 * hungrier.abroad.sum())


def test_the_people_balance_closes_with_flight():
    """A month of the whole model with Kazakhstan starving: people flee, and the people
    invariant (checked inside the month) closes only with flight abroad as an outflow."""
    pset = load_parameters()
    pv = pset.values()
    h, macro = initial_state(pv)
    kz = h["region"] == KZ
    h.values[GRAIN][kz] = 0.0  # no grain, no animals: hunger
    h.values[HERD_ROWS:HERD_ROWS + 4][:, kz] = 0.0
    POL = instrument_records(load_scenario("historical").timeline())
    before = h.values[PERSONS].sum() + macro["urban_persons"]
    out = step(h, macro, Step(2, POL, pv, load_inputs()), memory())
    abroad, within = out.flows["fled_abroad"].sum(), out.flows["fled_within_ussr"].sum()
    assert abroad > 0 and within > 0
    after = h.values[PERSONS].sum() + macro["urban_persons"]
    births, deaths = out.scalars["births"], out.scalars["deaths"]
    assert after == pytest.approx(before + births - deaths - abroad, rel=1e-12)
    # without the declared outflow the balance would be off by the emigrants
    _, rel = invariants.people_residual(before, after, births, deaths, 0.0)
    assert rel > invariants.TOL


def test_hungry_herders_eat_their_animals(world):
    """Below their need, Kazakh herders slaughter animals to eat, in proportion to the gap
    (``livestock.hunger_slaughter_share`` of it), never more than half a herd in a month; fed
    herders and other regions' peasants (share 0) do not."""
    from sovsim.mechanisms.agriculture import hunger_slaughter
    from sovsim.mechanisms.demography import meat_kcal_per_head

    hv = world.hv()
    herds = hv[HERD_ROWS:HERD_ROWS + 4].copy()
    meat = meat_kcal_per_head(world.p)
    need = world.p.food_kcal_need_per_person_day
    n = hv.shape[1]
    fed = hunger_slaughter(hv[PERSONS], herds, world.lab.region, np.full(n, need), world.p, meat)
    assert fed.sum() == 0.0
    short = need - 300.0
    eaten = hunger_slaughter(hv[PERSONS], herds, world.lab.region, np.full(n, short), world.p,
                             meat)
    kz = _kz(world) & (hv[PERSONS] > 0) & (herds.sum(axis=0) > 0)
    assert eaten[:, ~_kz(world)].sum() == 0.0
    got_kcal = (eaten[:, kz] * meat).sum(axis=0)
    want = 300.0 * hv[PERSONS, kz] * 365.0 / 12.0 * world.p.livestock_hunger_slaughter_share[KZ]
    held = (herds[:, kz] * meat).sum(axis=0)
    np.testing.assert_allclose(got_kcal, np.minimum(want, 0.5 * held), rtol=1e-9)
    starving = hunger_slaughter(hv[PERSONS], herds, world.lab.region, np.zeros(n), world.p, meat)
    assert (starving <= 0.5 * herds + 1e-9).all() and starving.sum() > eaten.sum()
