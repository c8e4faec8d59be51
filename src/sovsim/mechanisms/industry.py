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

from sovsim.mechanisms.context import Step
from sovsim.state import MacroState

GROUPS = ("a", "b")


def base_1928(p) -> dict[str, dict[str, float]]:
    """Capital, labour, output and productivity of each group in 1928 (annual rates)."""
    alpha = p["industry.capital_share_alpha"]
    out = {}
    shares = {"a": (p["industry.group_a_capital_share_1928"], p["industry.group_a_output_share_1928"],
                    p["industry.group_a_labour_share_1928"])}
    shares["b"] = tuple(1 - x for x in shares["a"])
    labour = p["industry.nonagricultural_employment_1928_persons"] * p["industry.industrial_share_of_nonagricultural_employment"]
    for g in GROUPS:
        ks, ys, ls = shares[g]
        k = p["industry.capital_1928_rub"] * ks
        y = p["industry.output_1928_rub"] * ys
        lab = labour * ls
        out[g] = {"K": k, "Y": y, "L": lab, "A": y / (k**alpha * lab ** (1 - alpha))}
    return out


def produce(macro: MacroState, s: Step, imports_rub: float, gdp_rub_month: float,
            food_supply_ratio: float = 1.0) -> dict[str, float]:
    """Output, employment and investment of the month; flows to the capital stocks."""
    p, pol = s.p, s.pol
    alpha = p["industry.capital_share_alpha"]
    base = s.per_run(base_1928)
    years = s.year + (s.cm - 1) / 12.0 - 1928.0
    u = macro["utilisation"] + p["industry.restoration_rate_per_month"] * (1 - macro["utilisation"])
    tfp_growth = (1 + p["industry.tfp_growth_per_year"]) ** years
    # Hiring is bounded by the bread the towns can get: when marketings and procurement fall
    # short of the towns' need, enterprises stop taking on workers.
    bread = min(max(food_supply_ratio, 0.0), 1.0)
    demand = {}
    for g in GROUPS:
        b = base[g]
        k_used = u * macro[f"capital_{g}_rub"]
        # NEP: hire at the 1928 capital-labour ratio (wages follow productivity, so
        # productivity raises output rather than employment).
        lab = b["L"] * (k_used / b["K"])
        if pol["soft_budget"]:
            lab *= p["industry.soft_budget_labour_factor"]
        demand[g] = (lab * bread, b["A"] * tfp_growth, k_used)
    ind_share = p["industry.industrial_share_of_nonagricultural_employment"]
    supply = macro["urban_persons"] * p["industry.urban_labour_participation"] * ind_share
    total = demand["a"][0] + demand["b"][0]
    hired = min(1.0, supply / total) if total > 0 else 0.0
    res: dict[str, float] = {"utilisation": u, "labour_demand_persons": total / ind_share}
    for g in GROUPS:
        lab, tfp, k_used = demand[g]
        lab *= hired
        res[f"labour_{g}_persons"] = lab
        res[f"output_{g}_rub"] = tfp * k_used**alpha * lab ** (1 - alpha) / 12.0
    res["nonagricultural_employment_persons"] = (res["labour_a_persons"] + res["labour_b_persons"]) / ind_share
    planned = pol["investment_share"] * gdp_rub_month
    invest = min(planned, res["output_a_rub"] + imports_rub)
    tractors_rub = invest * p["industry.tractor_share_of_investment"]
    rest = invest - tractors_rub
    f = pol["feldman_share"]
    delta = p["industry.depreciation_per_year"] / 12.0
    res.update({
        "investment_rub": invest,
        "tractors_hp_added": tractors_rub / p["industry.tractor_cost_rub_per_hp"],
        "tractors_hp_retired": macro["tractors_hp"] * p["industry.tractor_retirement_per_year"] / 12.0,
        "capital_a_added": f * rest,
        "capital_b_added": (1 - f) * rest,
        "capital_a_retired": macro["capital_a_rub"] * delta,
        "capital_b_retired": macro["capital_b_rub"] * delta,
    })
    return res


def goods_availability(s: Step, output_b_rub_month: float, rural_persons: float) -> float:
    """Consumer goods reaching each rural person, against 1928 (index 1928 = 1)."""
    p = s.p
    base = s.per_run(base_1928)["b"]["Y"] / p["industry.rural_population_1928_persons"]
    return output_b_rub_month * 12.0 / max(rural_persons, 1.0) / base
