"""Migration by relative living standards: R. C. Allen's equations 46-51 (issue 17).

Allen (*Farm to Factory*, 2003, appendix B, section 12) moves a share of the rural population
to town each year by a straight line in ``relsol``, non-farm over farm consumption per head:

- collectivized economy, eq. 50:  ``migrate = 0.01875 relsol - 0.018375``
- NEP economy, eq. 50A:            ``migrate = 0.005 relsol - 0.001``

and ``mig = migrate * rurpop`` (eq. 51). The instrument ``migration_rule`` chooses sovsim's own
rule (labour pull and hunger push, ``demography.migration``; the default, so ``historical`` is
unchanged) or one of Allen's lines.

sovsim does not carry consumption in rubles, so ``relsol`` is Allen's late-1920s level (1.6)
moved by what the model does carry: food energy per head in town and village against need, and
the manufactured goods that reach the village (index 1928 = 1) for the share of peasant
consumption they make up. The passports cut the flow as they cut sovsim's own rule.
"""

from __future__ import annotations

import numpy as np

from sovsim.compiled import kernel
from sovsim.state.table import FOOD_RATIO, PERSONS

RULES = ("sovsim", "allen_nep", "allen_collectivization")  # instrument migration_rule's choices
SOVSIM, ALLEN_NEP, ALLEN_COLLECTIVIZATION = range(len(RULES))


@kernel
def relsol(p, urban_food_ratio, rural_food_ratio, goods_availability):
    """Non-farm over farm consumption per head (Allen's eq. 49), from food energy and goods."""
    m = p.migration_manufactured_share_of_farm_consumption
    goods = min(max(goods_availability, 0.0), p.prices_goods_availability_cap)
    farm = (1 - m) * max(rural_food_ratio, 1e-3) + m * max(goods, 1e-3)
    return p.migration_relsol_1928 * max(urban_food_ratio, 0.0) / farm


@kernel
def allen_rate(p, rule, rs):
    """The yearly share of the rural population moving to town (eq. 50 or 50A), not below 0."""
    if rule == ALLEN_NEP:
        rate = p.migration_allen_nep_slope * rs + p.migration_allen_nep_intercept
    else:
        rate = (p.migration_allen_collectivization_slope * rs
                + p.migration_allen_collectivization_intercept)
    return max(rate, 0.0)


@kernel
def allen_migration(mig, hv, lab, p, pol, urban_food_ratio, goods_availability):
    """Persons leaving each rural unit this month: ``mig`` (sovsim's rule) unless the
    instrument ``migration_rule`` chooses one of Allen's lines."""
    rule = pol.migration_rule
    if rule == SOVSIM:
        return mig
    rural = hv[PERSONS] * lab.farming
    persons = max(np.sum(rural), 1.0)
    rural_food = np.sum(rural * hv[FOOD_RATIO]) / persons
    rs = relsol(p, urban_food_ratio, rural_food, goods_availability)
    passports = 1.0 - p.demography_passport_migration_cut * (1.0 if pol.passports else 0.0)
    return rural * (allen_rate(p, rule, rs) / 12.0) * passports
