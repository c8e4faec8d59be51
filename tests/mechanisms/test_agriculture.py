"""Agriculture (mechanisms.agriculture): the crop, the harvest, livestock."""

import numpy as np

from sovsim.mechanisms.agriculture import crop, harvest, livestock
from sovsim.mechanisms.demography import kolkhoz_share
from sovsim.state.table import AREA_LAST, CROP, SOWN


def _sown(world):
    hv = world.hv()
    hv[SOWN] = hv[AREA_LAST]
    return hv


def test_drought_gives_a_smaller_crop(world):
    """The crop is area x regional yield x weather: a drought year (class -2 in every region)
    gives less from the same fields than a normal one."""
    hv, pol = _sown(world), world.pol("1921-07")
    n_regions = world.lab.region.max() + 1
    normal = crop(hv, world.lab, world.p, pol, np.zeros(n_regions), 1921).sum()
    drought = crop(hv, world.lab, world.p, pol, np.full(n_regions, -2.0), 1921).sum()
    assert 0 < drought < normal


def test_the_harvest_comes_in_july_to_september(world):
    hv = world.hv()
    hv[CROP] = 100.0
    for cm in (1, 6, 10, 12):
        assert harvest(hv, world.p, cm).harvest_t.sum() == 0
    for cm in (7, 8, 9):
        got = harvest(hv, world.p, cm)
        assert got.harvest_t.sum() > 0 and 0 < got.losses_t.sum() < got.harvest_t.sum()


def _herds(world, pol, feed_factor=1.0, cm=1):
    hv = world.hv()
    feed = np.full(hv.shape[1], 1e12) * feed_factor  # (ample unless cut)
    return livestock(hv, world.lab, world.p, pol, cm, feed, kolkhoz_share(hv, world.lab),
                     np.zeros(world.lab.region.max() + 1))


def test_animals_die_when_fodder_falls(world):
    """In the stall months a herd short of feed loses animals to hunger."""
    pol = world.pol("1925-01")
    fed, hungry = _herds(world, pol), _herds(world, pol, feed_factor=0.0)
    assert hungry.deaths.sum() > fed.deaths.sum()
    assert hungry.births.sum() < fed.births.sum()


def test_slaughter_rises_when_collectivization_presses(world):
    """Peasants slaughter their animals rather than give them up: a collectivization target
    far above the kolkhoz share (and a push to reach it) raises the slaughter."""
    calm = world.pol("1925-01", collectivization_target_share=0.0)
    pressed = world.pol("1925-01", collectivization_target_share=0.8,
                        collectivization_pace_per_month=0.1)
    assert _herds(world, pressed).slaughter.sum() > _herds(world, calm).slaughter.sum()
