"""From households to the coarse model's 45 cells (5 regions x 3 classes x 3 tenures).

``to_cells`` sums a population's weighted columns into the cells in the order of
``sovsim.state.table.cell_index``, under the names of ``HOUSEHOLD_COLUMNS``:

* ``households`` = sum of weights; ``persons``, ``horses``, ``cattle`` = weighted sums;
* ``area_last_ha`` = weighted grain area (the year's area, harvested at the last harvest);
* ``sown_area_ha`` = the same times ``agriculture.winter_crop_share``: in January only the
  winter crops sown the autumn before stand in the fields (as in ``initial_state``).

Pigs, sheep and goats, grain stocks and the flows are not household attributes of the
population (the coarse initial state spreads them by rules, not data), so they are not summed.
``compare_with_initial`` sets the sums beside the coarse initial state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sovsim.population.build import Population, _params
from sovsim.regions import CLASSES, REGIONS, TENURES

N_CELLS = len(REGIONS) * len(CLASSES) * len(TENURES)
COMPARED = ("households", "persons", "horses", "cattle", "area_last_ha", "sown_area_ha")


def cell_of(pop: Population) -> np.ndarray:
    """Each household's cell (``sovsim.state.table.cell_index``)."""
    region = pop["region"].astype(np.int64)
    klass = pop["klass"].astype(np.int64)
    return (region * len(CLASSES) + klass) * len(TENURES) + pop["tenure"].astype(np.int64)


def to_cells(pop: Population, params=None) -> dict[str, np.ndarray]:
    """Weighted sums of the population in the 45 cells (see the module's docstring)."""
    p = _params(params)
    cell = cell_of(pop)
    w = pop["weight"]

    def total(x: np.ndarray | None) -> np.ndarray:
        return np.bincount(cell, weights=w if x is None else w * x, minlength=N_CELLS)

    area = total(pop["sown_area_ha"])
    return {"households": total(None), "persons": total(pop["persons"]),
            "horses": total(pop["horses"]), "cattle": total(pop["cattle"]),
            "area_last_ha": area, "sown_area_ha": area * p["agriculture.winter_crop_share"]}


def _standard_errors(pop: Population, winter_share: float) -> dict[str, np.ndarray]:
    """Sampling standard errors of the cell sums: weight x sqrt(n) x s.d. within the cell."""
    cell = cell_of(pop)
    n = np.bincount(cell, minlength=N_CELLS)
    w = np.bincount(cell, weights=pop["weight"], minlength=N_CELLS) / np.maximum(n, 1)
    out = {"households": np.zeros(N_CELLS)}
    for name, col in (("persons", "persons"), ("horses", "horses"), ("cattle", "cattle"),
                      ("area_last_ha", "sown_area_ha")):
        x = pop[col]
        s1 = np.bincount(cell, weights=x, minlength=N_CELLS)
        s2 = np.bincount(cell, weights=x * x, minlength=N_CELLS)
        var = np.maximum(s2 / np.maximum(n, 1) - (s1 / np.maximum(n, 1)) ** 2, 0.0)
        out[name] = w * np.sqrt(n * var)
    out["sown_area_ha"] = out["area_last_ha"] * winter_share
    return out


def compare_with_initial(pop: Population, params=None) -> pd.DataFrame:
    """The population's cell sums beside ``initial_state``'s, one row per (cell, quantity).

    For a 1928 population the coarse cells are scaled by the ratio of the 1928 to the 1921
    households (the 1928 population has the 1921 structure; see docs/population.md).
    Columns: region, klass, tenure, quantity, population, coarse, se (the population's
    sampling standard error); only the regions the population covers.
    """
    from sovsim.state import initial_state

    p = _params(params)
    table, _ = initial_state(p)
    ours = to_cells(pop, p)
    se = _standard_errors(pop, p["agriculture.winter_crop_share"])
    scale = pop.design.households.sum() / table["households"].sum()
    rows = []
    covered = {REGIONS.index(r) for r in pop.regions}
    for c in range(N_CELLS):
        r, k, t = c // (len(CLASSES) * len(TENURES)), (c // len(TENURES)) % len(CLASSES), \
            c % len(TENURES)
        if r not in covered:
            continue
        for q in COMPARED:
            rows.append((REGIONS[r], CLASSES[k], TENURES[t], q, ours[q][c],
                         table[q][c] * scale, se[q][c]))
    return pd.DataFrame(rows, columns=["region", "klass", "tenure", "quantity", "population",
                                       "coarse", "se"])
