"""Mechanism 6, industry: Group A (producer goods) and Group B (consumer goods).

Each group produces ``Y = A (u K)^a L^(1-a)``; ``u`` is the share of capacity in use, which
recovers from the civil-war collapse of 1921 (restoration). Labour demand follows capital at
the 1928 capital-labour ratio under NEP (wages rise with productivity) and is raised by a soft
budget constraint under the plan, but bounded by the grain the towns can get; employment is
bounded by the town labour force. Investment is what the plan asks (a share of output) but no more
than producer goods and machinery imports allow; it is split by the Feldman share, after the
tractors that go to agriculture. Capital depreciates.
"""

from __future__ import annotations

import numpy as np

from sovsim.compiled import kernel
from sovsim.mechanisms.trade import credit_per_month

GROUPS = ("a", "b")
# The columns of ``base_1928``'s rows: capital, output, labour, productivity.
K_, Y_, L_, A_ = range(4)


@kernel
def base_1928(p):
    """Capital, output, labour and productivity of each group in 1928 (annual rates): rows
    a and b, columns K_, Y_, L_, A_."""
    alpha = p.industry_capital_share_alpha
    shares = np.empty((2, 3))  # capital, output, labour shares of group a, then b
    shares[0, 0] = p.industry_group_a_capital_share_1928
    shares[0, 1] = p.industry_group_a_output_share_1928
    shares[0, 2] = p.industry_group_a_labour_share_1928
    shares[1] = 1 - shares[0]
    labour = (p.industry_nonagricultural_employment_1928_persons
              * p.industry_industrial_share_of_nonagricultural_employment)
    out = np.empty((2, 4))
    for g in range(2):
        k = p.industry_capital_1928_rub * shares[g, 0]
        y = p.industry_output_1928_rub * shares[g, 1]
        lab = labour * shares[g, 2]
        out[g, K_], out[g, Y_], out[g, L_] = k, y, lab
        out[g, A_] = y / (k**alpha * lab ** (1 - alpha))
    return out


# What ``produce`` returns, by place.
(UTILISATION, LABOUR_DEMAND, LABOUR_A, LABOUR_B, OUTPUT_A, OUTPUT_B, EMPLOYMENT, INVESTMENT,
 TRACTORS_ADDED, TRACTORS_RETIRED, CAPITAL_A_ADDED, CAPITAL_B_ADDED, CAPITAL_A_RETIRED,
 CAPITAL_B_RETIRED) = range(14)
RESULTS = ("utilisation", "labour_demand_persons", "labour_a_persons", "labour_b_persons",
           "output_a_rub", "output_b_rub", "nonagricultural_employment_persons",
           "investment_rub", "tractors_hp_added", "tractors_hp_retired", "capital_a_added",
           "capital_b_added", "capital_a_retired", "capital_b_retired")
N_RESULTS = len(RESULTS)


@kernel
def produce(macro, p, pol, year, cm, imports_rub, gdp_rub_month, food_supply_ratio):
    """Output, employment and investment of the month, and the flows to the capital stocks:
    an array indexed by UTILISATION .. CAPITAL_B_RETIRED (persons, rub a month)."""
    alpha = p.industry_capital_share_alpha
    base = base_1928(p)
    years = year + (cm - 1) / 12.0 - 1928.0
    u = macro.utilisation + p.industry_restoration_rate_per_month * (1 - macro.utilisation)
    tfp_growth = (1 + p.industry_tfp_growth_per_year) ** years * tfp_factor(macro, p, pol)
    # Hiring is bounded by the bread the towns can get: when marketings and procurement fall
    # short of the towns' need, enterprises stop taking on workers.
    bread = min(max(food_supply_ratio, 0.0), 1.0)
    capital = (macro.capital_a_rub, macro.capital_b_rub)
    demand = np.empty(2)
    k_used = np.empty(2)
    for g in range(2):
        k_used[g] = u * capital[g]
        # NEP: hire at the 1928 capital-labour ratio (wages follow productivity, so
        # productivity raises output rather than employment).
        lab = base[g, L_] * (k_used[g] / base[g, K_])
        if pol.soft_budget:
            lab *= p.industry_soft_budget_labour_factor
        demand[g] = lab * bread
    ind_share = p.industry_industrial_share_of_nonagricultural_employment
    supply = macro.urban_persons * p.industry_urban_labour_participation * ind_share
    total = demand[0] + demand[1]
    hired = min(1.0, supply / total) if total > 0 else 0.0
    res = np.empty(N_RESULTS)
    res[UTILISATION] = u
    res[LABOUR_DEMAND] = total / ind_share
    for g in range(2):
        lab = demand[g] * hired
        res[LABOUR_A + g] = lab
        res[OUTPUT_A + g] = (base[g, A_] * tfp_growth) * k_used[g]**alpha * lab ** (1 - alpha) / 12.0
    res[EMPLOYMENT] = (res[LABOUR_A] + res[LABOUR_B]) / ind_share
    planned = pol.investment_share * gdp_rub_month
    # Foreign credit buys machinery on top of what the plan finances at home (foreign savings
    # add to accumulation, issue 17); export earnings only widen what the plan can buy.
    credit = credit_per_month(pol)
    invest = min(planned, res[OUTPUT_A] + imports_rub - credit) + credit
    tractors_rub = invest * p.industry_tractor_share_of_investment
    rest = invest - tractors_rub
    f = pol.feldman_share
    delta = p.industry_depreciation_per_year / 12.0
    res[INVESTMENT] = invest
    res[TRACTORS_ADDED] = tractors_rub / p.industry_tractor_cost_rub_per_hp
    res[TRACTORS_RETIRED] = macro.tractors_hp * p.industry_tractor_retirement_per_year / 12.0
    res[CAPITAL_A_ADDED] = f * rest
    res[CAPITAL_B_ADDED] = (1 - f) * rest
    res[CAPITAL_A_RETIRED] = macro.capital_a_rub * delta
    res[CAPITAL_B_RETIRED] = macro.capital_b_rub * delta
    return res


@kernel
def tfp_factor(macro, p, pol):
    """Productivity against its trend (issue 17): learning from investment raises it with the
    capital stock over 1928's; the collectivization drive (CGGT's disruption and wedges) and
    the soft budget constraint (Kornai) lower it. 1 under NEP at 1928 capital."""
    capital = macro.capital_a_rub + macro.capital_b_rub
    learning = (max(capital, 1.0) / p.industry_capital_1928_rub) ** p.industry_learning_elasticity
    drive = 1.0 if np.max(pol.collectivization_pace_per_month) > 0 else 0.0  # (by region)
    soft = 1.0 if pol.soft_budget else 0.0
    return (learning * (1 - p.industry_collectivization_tfp_cut * drive)
            * (1 - p.industry_soft_budget_tfp_cut * soft))


@kernel
def goods_availability(p, output_b_rub_month, rural_persons):
    """Consumer goods reaching each rural person, against 1928 (index 1928 = 1)."""
    base = base_1928(p)[1, Y_] / p.industry_rural_population_1928_persons
    return output_b_rub_month * 12.0 / max(rural_persons, 1.0) / base
