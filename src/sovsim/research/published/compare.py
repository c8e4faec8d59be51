"""A published model's scenarios beside sovsim's own, on the variables they share.

``sovsim compare historical nep allen:nep allen:collectivization`` runs the sovsim scenarios
and sets Allen's published figures beside them for the same years. A published scenario is
named ``MODEL:SCENARIO``. The common variables, and what each model calls them:

=========================  ===================================  ============================
common variable            sovsim variable                      Allen (2003)
=========================  ===================================  ============================
urban population           ``urban_population_persons``         ``urban_population_persons``
non-farm workforce         ``nonagricultural_employment_persons`` ``nonfarm_workforce_persons``
non-agricultural output    ``industrial_output_index`` (index)  ``nonagricultural_value_added_rub_bn``
consumption per head       ``food_kcal_per_person_day`` (kcal)  not reached
fixed capital              ``industrial_capital_rub`` (1926/27) ``fixed_capital_rub_bn`` (1937)
=========================  ===================================  ============================

Allen's figures at two values of e (non-agricultural value added and fixed capital in 1939)
are the published scenarios ``allen:collectivization-e0.07`` and ``allen:collectivization-e0.23``.

Output and consumption are in different units in the two models (sovsim's 1928 = 100 index
and food energy; Allen's billions of rubles, whose 1928 base was not reached), so those rows
show each model in its own unit: read them for direction, not level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sovsim.errors import InputError

# (label, sovsim variable, sovsim unit, published quantity or None)
COMMON = (
    ("urban population", "urban_population_persons", "persons", "urban_population_persons"),
    ("non-farm workforce", "nonagricultural_employment_persons", "persons",
     "nonfarm_workforce_persons"),
    ("non-agricultural output", "industrial_output_index", "index 1928=100",
     "nonagricultural_value_added_rub_bn"),
    ("consumption per head", "food_kcal_per_person_day", "kcal/person/day", None),
    # issue 17 (respond): sovsim's industrial capital (1926/27 rubles; Allen's: 1937 prices).
    ("fixed capital", "industrial_capital_rub", "rub (1926/27)", "fixed_capital_rub_bn"),
)
PUBLISHED_SCENARIOS = {"allen": ("collectivization", "nep", "hard_budget",
                                 "collectivization-e0.07", "collectivization-e0.23")}
# Allen's sweep over e, the share of investment to the investment-goods sector: on the command
# line without the space and '=' of the published labels.
ALIASES = {"collectivization-e0.07": "collectivization e=0.07",
           "collectivization-e0.23": "collectivization e=0.23"}


def split_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split compare arguments into sovsim scenarios and ``MODEL:SCENARIO`` names."""
    own = [n for n in names if ":" not in n]
    return own, [n for n in names if ":" in n]


def points(name: str) -> list[dict[str, Any]]:
    """The published figures of one ``MODEL:SCENARIO``, as tidy points."""
    model, _, scenario = name.partition(":")
    allowed = ", ".join(f"{m}:{s}" for m, ss in PUBLISHED_SCENARIOS.items() for s in ss)
    if model not in PUBLISHED_SCENARIOS or scenario not in PUBLISHED_SCENARIOS[model]:
        raise InputError("sovsim compare", name, "unknown published scenario", allowed)
    from sovsim.research.published import allen

    # Allen's sweep over e ("collectivization e=0.07") belongs to the collectivization model
    # at e values named apart (allen:collectivization-e0.07), so only exact matches are placed.
    label = ALIASES.get(scenario, scenario)
    return [p for p in allen.published_points() if p["scenario"] == label]


def side_by_side(results: Sequence[Any], published: Sequence[str]) -> pd.DataFrame:
    """One row per common variable and year that a published scenario reports (or, for
    variables it lacks, the years it reports anything): sovsim's runs and the published
    figures in columns, each with its unit."""
    pts = {name: points(name) for name in published}
    years = sorted({p["year"] for ps in pts.values() for p in ps})
    rows = []
    for label, var, unit, quantity in COMMON:
        for year in years:
            row: dict[str, Any] = {"variable": label, "year": year, "sovsim unit": unit}
            for res in results:
                row[res.scenario] = float(res.series(var)[str(year)]) if var else None
            for name, ps in pts.items():
                hit = [p for p in ps if p["variable"] == quantity and p["year"] == year]
                row[name] = hit[0]["value"] if hit else None
                row[f"{name} unit"] = hit[0]["unit"] if hit else (
                    "not published" if quantity else "not reached")
            rows.append(row)
    return pd.DataFrame(rows)
