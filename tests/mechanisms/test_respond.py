"""Issue 17: peasants and industry that respond (sowing, effort and marketing follow the terms
of trade; TFP by scenario; credit adds to capital; Allen's migration lines)."""

import numpy as np
import pytest

from sovsim.engine.packed import CHOICE_CODES
from sovsim.mechanisms import industry as ind
from sovsim.mechanisms.agriculture import individual_effort, sowing
from sovsim.mechanisms.allen_migration import RULES, allen_migration
from sovsim.mechanisms.procurement import procure
from sovsim.state.table import FOOD_RATIO, GRAIN, HORSES, PERSONS

MODE = {name: code for code, name in enumerate(CHOICE_CODES["procurement_mode"])}
RULE = {name: code for code, name in enumerate(RULES)}


def _spring_sowing(world, tot):
    hv = world.hv()
    hv[GRAIN] *= 100.0  # seed is not what binds here
    hv[HORSES] *= 5.0  # nor draught power: the land does
    return sowing(hv, world.lab, 0.0, tot, world.p, world.pol("1926-04"), 4)


def test_sowing_falls_below_the_land_cap_when_terms_of_trade_worsen(world):
    """With labour to spare the land binds at 1926/27 terms of trade; poor terms make the
    individual farmers sow less than the cap, so the scissors cost output."""
    cap = world.p.agriculture_arable_land_ha * (1 - world.p.agriculture_winter_crop_share)
    good, poor = _spring_sowing(world, 1.0), _spring_sowing(world, 0.7)
    region = world.lab.region
    good_r = np.bincount(region, good, minlength=cap.size)
    poor_r = np.bincount(region, poor, minlength=cap.size)
    assert good_r == pytest.approx(cap, rel=1e-9)  # at the cap
    assert (poor_r <= cap * (1 + 1e-12)).all()
    assert (poor_r < 0.99 * cap).sum() >= 4  # below it in the regions (not where subsistence
    assert poor.sum() < 0.97 * good.sum()  # sowing alone fills the land, as in Kazakhstan)


def test_the_land_cap_is_interwar_territory(world):
    """104.4 Mha, the largest grain area sown on interwar territory (1931, stalin_1934), not
    the Russian Empire's 1913 area."""
    assert world.p.agriculture_arable_land_ha.sum() == pytest.approx(104.4e6, rel=1e-3)


def test_individual_effort_follows_the_terms_of_trade(world):
    low = individual_effort(world.lab, world.p, 0.5)
    high = individual_effort(world.lab, world.p, 1.5)
    ind_ = world.lab.individual
    assert (low[ind_] < 1.0).all() and (high[ind_] > 1.0).all()
    assert (low[~ind_] == 1.0).all()


def test_marketing_rises_seven_percent_for_a_ten_percent_price_rise(world):
    """Allen's elasticity 0.7: a 10% better price sells 7% more of the same surplus in a month
    of the NEP market (the month's sales are far from their bound)."""
    pol = world.pol("1926-10", procurement_mode=MODE["market"], private_trade=False)

    def sold(tot):
        hv = world.hv()
        hv[GRAIN] *= 20.0
        pr = procure(hv, world.lab, 1.0, tot, world.p, pol, 10, 9, np.zeros(hv.shape[1]))
        return (pr.procured_t + pr.private_sales_t).sum()

    assert world.p.procurement_marketing_price_elasticity == 0.7
    assert sold(1.1) / sold(1.0) == pytest.approx(1.1**0.7, rel=1e-6)


def _produce(world, pol, gdp=1e9):
    """Industry's month with 10 M rubles of machinery bought by exports, and the credit's."""
    imports = 1e7 + pol.foreign_credit_rub_per_year / 12
    return ind.produce(world.macro.values[0], world.p, pol, 1931, 1, imports, gdp, 1.0)


def test_foreign_credit_adds_to_capital(world):
    """Credit buys machinery on top of the plan: a credit of 1.2 bn rubles a year adds 100 M
    rubles a month to the capital stocks."""
    added = ind.CAPITAL_A_ADDED, ind.CAPITAL_B_ADDED, ind.TRACTORS_ADDED
    none = _produce(world, world.pol("1931-01", foreign_credit_rub_per_year=0.0))
    credit = _produce(world, world.pol("1931-01", foreign_credit_rub_per_year=1.2e9))
    planned = world.pol("1931-01").investment_share * 1e9
    assert none[ind.INVESTMENT] == pytest.approx(planned)  # the plan binds without credit
    assert credit[ind.INVESTMENT] - none[ind.INVESTMENT] == pytest.approx(1e8, rel=1e-9)
    assert sum(credit[k] for k in added[:2]) > sum(none[k] for k in added[:2])


def test_tfp_depends_on_the_scenario(world):
    macro = world.macro.values[0]
    nep = world.pol("1931-01", soft_budget=False, collectivization_pace_per_month=0.0)
    drive = world.pol("1931-01", soft_budget=False, collectivization_pace_per_month=0.05)
    soft = world.pol("1931-01", soft_budget=True, collectivization_pace_per_month=0.0)
    base = ind.tfp_factor(macro, world.p, nep)
    assert ind.tfp_factor(macro, world.p, drive) < base
    assert ind.tfp_factor(macro, world.p, soft) < base
    bigger = macro.copy()
    bigger.capital_a_rub *= 2
    assert ind.tfp_factor(bigger, world.p, nep) > base  # learning from investment


@pytest.mark.parametrize("rule, slope, intercept", [
    ("allen_nep", 0.005, -0.001), ("allen_collectivization", 0.01875, -0.018375)])
def test_migration_follows_allens_line(world, rule, slope, intercept):
    """Fed town and village and 1928's goods: relsol is Allen's late-1920s 1.6, and the
    month's migrants are his yearly rate over 12 (eqs 50, 50A, 51); worse village food raises
    relsol and migration along the line."""
    pol = world.pol("1929-01", migration_rule=RULE[rule], passports=False)
    hv = world.hv()
    hv[FOOD_RATIO] = 1.0
    rural = hv[PERSONS] * world.lab.farming
    own = np.zeros(hv.shape[1])
    mig = allen_migration(own, hv, world.lab, world.p, pol, 1.0, 1.0)
    assert mig == pytest.approx(rural * (slope * 1.6 + intercept) / 12, rel=1e-9)
    hv[FOOD_RATIO] = 0.8  # farm consumption 0.75*0.8 + 0.25 = 0.85 of 1928's
    hungry = allen_migration(own, hv, world.lab, world.p, pol, 1.0, 1.0)
    assert hungry == pytest.approx(rural * (slope * 1.6 / 0.85 + intercept) / 12, rel=1e-9)


def test_the_default_rule_is_sovsims_own(world):
    pol = world.pol("1929-01")
    assert pol.migration_rule == RULE["sovsim"]
    own = np.arange(world.hv().shape[1], dtype=float)
    assert (allen_migration(own, world.hv(), world.lab, world.p, pol, 1.0, 1.0) == own).all()
