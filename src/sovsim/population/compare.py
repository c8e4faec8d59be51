"""The population beside the sourced figures of ``distributions.csv``.

``compare_with_figures`` gives, for every sourced figure (targets and checks), the same
statistic computed from a population, where the population has one; the report in
docs/population.md is made with it. Figures the population is drawn to (status ``sourced``)
should agree within sampling error; figures of status ``check`` are compared, not drawn to,
and may disagree (the disagreements are reported, not hidden).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sovsim.population.build import Population
from sovsim.population.data import DESYATIN_HA, figures
from sovsim.regions import CLASSES, REGIONS

# Figures of areas that are not model regions are set beside the model regions that hold
# them (the RSFSR of 1926 included the Volga, the North Caucasus and the Kazakh ASSR).
_PROXY = {"RSFSR": ("rest", "volga", "north_caucasus", "kazakhstan"), "siberia": ("rest",)}


def _mask(pop: Population, region: str, category: str) -> np.ndarray:
    m = np.ones(len(pop), dtype=bool)
    if region in REGIONS:
        m &= pop["region"] == REGIONS.index(region)
    elif region in _PROXY:
        m &= np.isin(pop["region"], [REGIONS.index(r) for r in _PROXY[region]])
    elif region != "USSR":
        return np.zeros(len(pop), dtype=bool)
    if category in CLASSES:
        m &= pop["klass"] == CLASSES.index(category)
    return m


def _share(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.average(x, weights=w)) if w.sum() > 0 else float("nan")


_STATS: dict[str, Callable[[Population, np.ndarray], float]] = {
    "horseless_share": lambda p, m: _share(p["horses"][m] == 0, p["weight"][m]),
    "no_working_livestock_share": lambda p, m: _share(p["horses"][m] == 0, p["weight"][m]),
    "draught_animals_mean": lambda p, m: _share(p["horses"][m], p["weight"][m]),
    "household_size_mean": lambda p, m: _share(p["persons"][m], p["weight"][m]),
    "landless_share": lambda p, m: _share(p["sown_area_ha"][m] == 0, p["weight"][m]),
    "kulak_share": lambda p, m: _share(p["klass"][m] == CLASSES.index("kulak"), p["weight"][m]),
    "sown_up_to_4_5_desyatin_share": lambda p, m: _share(
        p["sown_area_ha"][m] <= 4.5 * DESYATIN_HA, p["weight"][m]),
    "kulak_household_size_over_7_share": lambda p, m: _share(p["persons"][m] > 7,
                                                             p["weight"][m]),
    "kulak_household_size_4_to_7_share": lambda p, m: _share(
        (p["persons"][m] >= 4) & (p["persons"][m] <= 7), p["weight"][m]),
    "kulak_sown_area_ha": lambda p, m: float((p["sown_area_ha"][m] * p["weight"][m]).sum()),
    "households_total": lambda p, m: float(p["weight"][m].sum()),
}


def _kulak_sown_share(pop: Population, m: np.ndarray) -> float:
    w = pop["weight"] * pop["sown_area_ha"]
    return float(w[m].sum() / w[_mask(pop, "USSR", "all")].sum())


_STATS["kulak_sown_share"] = _kulak_sown_share
# what the statistic is measured on: the class mask applies only where the figure is of a class
_ON_ALL = {"kulak_share"}


def compare_with_figures(pop: Population) -> pd.DataFrame:
    """One row per sourced figure: the figure, the population's value (NaN where the
    population has no counterpart) and their ratio."""
    rows = []
    for f in figures():
        if f["status"] == "assumption" or f["quantity"] not in _STATS:
            continue
        category = "all" if f["quantity"] in _ON_ALL else f["category"]
        m = _mask(pop, f["region"], category)
        value = _STATS[f["quantity"]](pop, m) if m.any() else float("nan")
        rows.append((f["quantity"], f["region"], f["category"], f["period"], f["status"],
                     float(f["value"]), value, f["source"], f["location"]))
    df = pd.DataFrame(rows, columns=["quantity", "region", "category", "period", "status",
                                     "figure", "population", "source", "location"])
    df["ratio"] = df["population"] / df["figure"]
    return df
