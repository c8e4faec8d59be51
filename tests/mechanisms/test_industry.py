"""Industry (mechanisms.industry): investment and the bread that bounds hiring."""

from sovsim.mechanisms import industry as ind


def _produce(world, pol, bread=1.0, gdp=1e9):
    return ind.produce(world.macro.values[0], world.p, pol, 1930, 1, 1e7, gdp, bread)


def test_a_higher_investment_share_adds_more_capital(world):
    low = _produce(world, world.pol("1930-01", investment_share=0.1))
    high = _produce(world, world.pol("1930-01", investment_share=0.3))
    added = ind.CAPITAL_A_ADDED, ind.CAPITAL_B_ADDED
    assert sum(high[k] for k in added) > sum(low[k] for k in added)


def test_no_bread_no_hiring(world):
    """When the towns cannot be fed, enterprises stop taking on workers."""
    pol = world.pol("1930-01")
    fed, hungry = _produce(world, pol), _produce(world, pol, bread=0.3)
    assert hungry[ind.LABOUR_DEMAND] < fed[ind.LABOUR_DEMAND]
