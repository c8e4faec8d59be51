"""Trade (mechanisms.trade): grain for machines."""

from sovsim.mechanisms.trade import machinery_imports


def test_a_world_price_collapse_buys_fewer_machines(world):
    """The same grain exports earn less at the prices of 1931 than at those of 1928."""
    pol = world.pol("1931-01")
    good = machinery_imports(world.p, pol, 1.0, 1e5)
    bad = machinery_imports(world.p, pol, 0.5, 1e5)
    assert bad.export_earnings_rub < good.export_earnings_rub
    assert bad.machinery_imports_rub < good.machinery_imports_rub


def test_foreign_credit_buys_machines(world):
    none = machinery_imports(world.p, world.pol("1931-01", foreign_credit_rub_per_year=0.0),
                             1.0, 1e5)
    credit = machinery_imports(world.p, world.pol("1931-01", foreign_credit_rub_per_year=1e8),
                               1.0, 1e5)
    assert credit.machinery_imports_rub > none.machinery_imports_rub and credit.credit_rub > 0
