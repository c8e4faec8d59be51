"""State grain (mechanisms.state_grain): the army, the towns, exports, relief."""

from sovsim.mechanisms.state_grain import allocate
from sovsim.state.table import FOOD_RATIO


def _allocate(world, pol, stock=5e6, cm=3, hungry=False):
    hv = world.hv()
    if hungry:
        hv[FOOD_RATIO, : hv.shape[1] // 2] = 0.5
    return allocate(hv, world.lab, stock, world.macro.values[0].urban_persons, world.p, pol, cm,
                    0.0, 0.0, 0.0)


def test_a_higher_export_target_exports_more(world):
    low = _allocate(world, world.pol("1930-09", grain_export_target_t=1e6), cm=9)
    high = _allocate(world, world.pol("1930-09", grain_export_target_t=5e6), cm=9)
    assert high.exports_t > low.exports_t


def test_relief_goes_to_the_hungry(world):
    """Famine relief is shared by the food deficit: units that eat enough get none."""
    pol = world.pol("1933-03", famine_relief_t=1e6)
    al = _allocate(world, pol, hungry=True)
    n = al.relief_t.size
    assert al.relief_t[: n // 2].sum() > 0
    assert al.relief_t[n // 2:].sum() == 0


def test_the_army_is_fed_first(world):
    """With little grain the army's ration comes before the towns'."""
    pol = world.pol("1925-03")
    scarce = _allocate(world, pol, stock=world.p.state_grain_army_t_per_year / 24)
    assert scarce.army_t > 0 and scarce.to_towns_t == 0
