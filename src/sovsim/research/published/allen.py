"""R. C. Allen's simulation model of the Soviet economy, 1928-1939 (*Farm to Factory*, 2003,
chapters 8-9 and appendix B): what of it could be reached, equation by equation.

Allen's model has three variants. The *collectivization* model (appendix B, part II, sections
1-12, equations 1-51) is meant to reproduce the historical path; the *NEP* model replaces
sections 5 and 7 by a section 7A, sections 8 and 10 by 8A, and equation 50 by 50A; the
*capitalist labour relations* (hard budget) model lets firms hire only up to where the
marginal product of labour equals the wage, leaving urban unemployment. ``e``, the share of
investment given to the investment-goods sector, is swept from 0.07 to 0.23 in chapter 8.

What is here
------------
Only the equations that were read in the online copies of the Russian translation are
implemented (``data/published/allen_2003.toml``, ``[[equation]]``): consumption per head and
rural-urban migration (eqs 46-51 and 50A) and part of the NEP farm-market block (8A-1, 8A-3,
8A-4/8A-5, 8A-7). Equations 1-45 (demography, agriculture, procurement, industry, the
investment split by ``e``, soft-budget employment, prices), section 7A, 8A-6, the hard-budget
employment rule, the 1928 initial values and the parameter values were *not* reached, so the
model cannot be run and its 1939 figures are not reproduced: ``reproduce()`` lists them with
the published value, no reproduction, and a note saying what is missing. The figures the book
states about the equations that were reached (the migration rates of eq. 50 and 50A) are
reproduced.

Examples
--------
>>> round(migration_rate_nep(1.6), 6)
0.007
>>> round(migration_rate_collectivization(2.3) / migration_rate_collectivization(1.6) - 1, 2)
1.13
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sovsim.research.published.table import Row, cite, load_toml

DATA = "allen_2003.toml"
SCENARIOS = ("collectivization", "nep", "hard_budget")
MISSING = (
    "appendix B equations 1-45 (demography and employment, agriculture, procurement, industry, "
    "the investment split by e, soft-budget employment, prices and consumption) were not "
    "reached through the search tool; nor were section 7A, eq. 8A-6, the hard-budget "
    "employment rule, the 1928 initial values or the parameter values"
)


# ---- section 11: consumption per head (eqs 46-48) ---------------------------------------------

def consumption_per_head(privsol: float, farmsol: float, farmpop: float,
                         nonfarmpop: float) -> tuple[float, float, float]:
    """Urban consumption and consumption per head in and outside farming.

    Returns ``(urbansol, solfmpc, solnfpc)``.
    """
    urbansol = privsol - farmsol               # (46)
    solfmpc = farmsol / farmpop                # (47)
    solnfpc = urbansol / nonfarmpop            # (48)
    return urbansol, solfmpc, solnfpc


# ---- section 12: rural-urban migration (eqs 49-51, 50A) --------------------------------------

def relative_consumption(solnfpc: float, solfmpc: float) -> float:
    """Non-farm over farm consumption per head, the driver of migration."""
    return solnfpc / solfmpc                   # (49)


def migration_rate_collectivization(relsol: float | np.ndarray) -> float | np.ndarray:
    """Share of the rural population leaving for the towns in a year, collectivization model."""
    return 0.01875 * relsol - 0.018375         # (50)


def migration_rate_nep(relsol: float | np.ndarray) -> float | np.ndarray:
    """The NEP model's migration rate: a weaker response, fitted to the late 1920s."""
    return 0.005 * relsol - 0.001              # (50A)


def migrants(migrate: float, rurpop: float) -> float:
    """Persons moving from village to town in the year."""
    return migrate * rurpop                    # (51)


# ---- NEP section 8A: peasant income and the farm market (part) ---------------------------------

def peasant_cash_income(cashrate: float, kolkexp: float, shpfdexp: float, shpmnexp: float,
                        vacon: float) -> float:
    """Farm income spent in cash, the demand side of the NEP farm market."""
    return (1.0 - cashrate) * (kolkexp + shpfdexp + shpmnexp - vacon)  # (8A-1)


def split(priceag: float, priceman: float) -> float:
    """Ratio of farm output kept for the household to farm output marketed, falling as the
    farm price rises against manufactures (Allen's regression)."""
    return 1.5043 * (priceag / priceman) ** (-0.9298)                    # (8A-3)


def marketed_and_kept(agnet: float, split_ratio: float) -> tuple[float, float]:
    """Solve (8A-4) ``fiiksim = agmarksm * split`` with (8A-5)
    ``agmarksm = agnet / 1000 - fiiksim`` for ``(agmarksm, fiiksim)``, in Allen's units
    (agnet in millions, the market in billions)."""
    agmarksm = agnet / 1000.0 / (1.0 + split_ratio)
    return agmarksm, agmarksm * split_ratio


def kolkhoz_market_sales(agmarksm: float, kolksim: float) -> float:
    """Farm sales outside the state channel, in millions."""
    return 1000.0 * (agmarksm - kolksim)                                 # (8A-7)


# ---- the reproduce table -------------------------------------------------------------------

def _reproduce_figure(fig: dict[str, Any]) -> tuple[float | None, str]:
    q, sc = fig["quantity"], fig["scenario"]
    rate = migration_rate_nep if sc == "nep" else migration_rate_collectivization
    eq = "50A" if sc == "nep" else "50"
    if q == "migration_rate":
        return float(rate(fig["relsol"])), f"eq. {eq} at relsol = {fig['relsol']}"
    if q == "migration_rate_rise_1.6_to_2.3":
        lo, hi = fig["relsol"]
        return float(rate(hi) / rate(lo) - 1.0), f"eq. {eq} at relsol = {lo} and {hi}"
    return None, f"not reproduced: {MISSING}"


def reproduce() -> list[Row]:
    """Every figure the book publishes for these simulations that was reached, with the
    reproduction where the equations behind it were reached."""
    data = load_toml(DATA)
    src = data["source"]
    rows = []
    for fig in data["figure"]:
        value, note = _reproduce_figure(fig)
        rows.append(Row(fig["quantity"], fig["scenario"], fig["year"], float(fig["value"]),
                        value, fig["unit"], cite(fig, src["author"], src["title"], src["year"]),
                        note))
    return rows


def published_points() -> list[dict[str, Any]]:
    """The published scenario figures as tidy points, for ``sovsim compare`` (``allen:nep``)."""
    data = load_toml(DATA)
    return [{"model": "allen", "scenario": f["scenario"], "variable": f["quantity"],
             "year": f["year"], "value": float(f["value"]), "unit": f["unit"],
             "location": f["location"]}
            for f in data["figure"] if isinstance(f["year"], int)]


def equations() -> list[dict[str, str]]:
    """The equations reached, as published (number, text, where read, status)."""
    return list(load_toml(DATA)["equation"])


def gaps() -> list[dict[str, str]]:
    """What was looked for and not found."""
    return list(load_toml(DATA)["gap"])
