"""The figures the synthetic population is drawn to, and the design built from them.

Two sources feed the population (docs/population.md):

* the coarse model's initial cells (``sovsim.state.initial_state``, from
  ``data/parameters/initial.toml``): households by region and class, and the mean household
  size, horses, cattle and grain area of each (region, class) cell. The population's means are
  these, so that its aggregate over the 45 cells is the coarse initial state up to sampling
  error;
* ``data/population/distributions.csv``: the *shape* within a cell (zero shares, dispersion,
  how attributes go together) and the 1928 household total, one figure per row with its source
  or marked as an assumption; rows of status ``check`` are sourced figures the population is
  compared with, not drawn to. What was searched for and not found is in ``gaps.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from sovsim.errors import DataError
from sovsim.regions import CLASSES, REGIONS, TENURES

COLUMNS = ["quantity", "region", "category", "period", "value", "unit", "status", "source",
           "location", "note"]
GAP_COLUMNS = ["quantity", "region", "searched", "note"]
STATUSES = ("sourced", "assumption", "check")
YEARS = (1921, 1928)
DESYATIN_HA = 1.0925  # 1 desyatina = 2,400 square sazhens = 1.0925 ha (metrological fact)
ATTRIBUTES = ("household_size", "horses", "cattle", "sown_area")


def _path(name: str) -> Path:
    return Path(str(resources.files("sovsim") / "data" / "population" / name))


def _read(name: str, header: list[str]) -> list[dict[str, str]]:
    path = _path(name)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != header:
            raise DataError(str(path), "header", f"columns {reader.fieldnames}", ", ".join(header))
        return list(reader)


@cache
def figures() -> tuple[dict[str, str], ...]:
    """The rows of ``distributions.csv``, validated (``value`` stays a string; see ``figure``)."""
    rows = _read("distributions.csv", COLUMNS)
    for i, row in enumerate(rows, start=2):
        where = f"row {i} ({row['quantity']})"
        if row["status"] not in STATUSES:
            raise DataError("distributions.csv", where, f"status {row['status']!r}",
                            ", ".join(STATUSES))
        try:
            float(row["value"])
        except ValueError:
            raise DataError("distributions.csv", where, f"value {row['value']!r} is not a number"
                            ) from None
        if row["status"] in ("sourced", "check") and not (row["source"] and row["location"]):
            raise DataError("distributions.csv", where, "a sourced figure needs source and location")
        if row["status"] == "assumption" and not row["note"]:
            raise DataError("distributions.csv", where, "an assumption must say why in its note")
    return tuple(rows)


@cache
def gaps() -> tuple[dict[str, str], ...]:
    """The rows of ``gaps.csv``: what was searched for and not found."""
    return tuple(_read("gaps.csv", GAP_COLUMNS))


def figure(quantity: str, region: str = "USSR", category: str = "all") -> float:
    """The value of one figure of ``distributions.csv`` (checks excluded)."""
    for row in figures():
        if (row["quantity"], row["region"], row["category"]) == (quantity, region, category) \
                and row["status"] != "check":
            return float(row["value"])
    raise DataError("distributions.csv", f"{quantity}/{region}/{category}", "no such figure")


def _regional(quantity: str) -> dict[str, float]:
    """Figures of ``quantity`` given for single model regions (category 'all')."""
    return {row["region"]: float(row["value"]) for row in figures()
            if row["quantity"] == quantity and row["region"] in REGIONS
            and row["category"] == "all" and row["status"] != "check"}


@dataclass(frozen=True)
class Design:
    """Everything the generator needs, per (region, class) cell: arrays of shape (5, 3).

    ``households`` are the real households of the cell at the chosen year; the means are
    per household; ``*_zero`` are the shares of households with none of the thing.
    """

    year: int
    households: np.ndarray
    size_mean: np.ndarray
    horses_mean: np.ndarray
    horses_zero: np.ndarray
    cattle_mean: np.ndarray
    cattle_zero: np.ndarray
    sown_mean_ha: np.ndarray
    sown_zero: np.ndarray
    sown_log_sd: float
    loadings: np.ndarray  # (4,), ATTRIBUTES order
    group_upper_ha: np.ndarray  # (5,), upper bounds of sown-area groups 1..5

    @property
    def region_households(self) -> np.ndarray:
        return self.households.sum(axis=1)

    @property
    def class_share(self) -> np.ndarray:
        return self.households / self.region_households[:, None]


def cell_means(p) -> dict[str, np.ndarray]:
    """Households and per-household means of the individual (region, class) cells of
    ``initial_state(p)``: the coarse model's January 1921."""
    from sovsim.state import initial_state  # here, so that importing sovsim.population is light

    table, _ = initial_state(p)
    ind = table["tenure"] == TENURES.index("individual")
    shape = (len(REGIONS), len(CLASSES))
    order = np.lexsort((table["klass"][ind], table["region"][ind]))

    def cell(name: str) -> np.ndarray:
        return np.asarray(table[name][ind][order], dtype=float).reshape(shape)

    hh = cell("households")
    return {"households": hh, "size": cell("persons") / hh, "horses": cell("horses") / hh,
            "cattle": cell("cattle") / hh, "sown_ha": cell("area_last_ha") / hh}


def _zero_shares_horses(share: np.ndarray, weight_r: np.ndarray) -> np.ndarray:
    """Horseless shares by (region, class): the class split assumed for poor and kulak, the
    middle peasants' solved from the USSR figure; regions with a figure of their own hit it,
    the others share one multiplier so that the USSR figure holds."""
    poor, middle, kulak = (CLASSES.index(k) for k in ("poor", "middle", "kulak"))
    usa = figure("horseless_share")
    usa_share = (share * weight_r[:, None]).sum(axis=0) / weight_r.sum()
    p0 = np.zeros(len(CLASSES))
    p0[poor] = figure("horseless_share", category="poor")
    p0[kulak] = figure("horseless_share", category="kulak")
    p0[middle] = (usa - usa_share[poor] * p0[poor] - usa_share[kulak] * p0[kulak]) \
        / usa_share[middle]
    target = np.full(len(REGIONS), np.nan)
    for name, value in _regional("horseless_share").items():
        target[REGIONS.index(name)] = value
    known = ~np.isnan(target)
    if not known.all():
        rest = usa * weight_r.sum() - (target[known] * weight_r[known]).sum()
        target[~known] = rest / weight_r[~known].sum()
    base = (share * p0).sum(axis=1)  # each region's horseless share at the USSR class split
    return p0[None, :] * (target / base)[:, None]


def _check_reachable(name: str, mean: np.ndarray, zero: np.ndarray) -> None:
    """A count with share ``zero`` of zeros and owners holding >= 1 has mean >= 1 - zero."""
    bad = (zero < 0) | (zero > 1) | (mean < (1 - zero) - 1e-12)
    if bad.any():
        r, k = np.argwhere(bad)[0]
        raise DataError("distributions.csv", f"{name} in {REGIONS[r]}/{CLASSES[k]}",
                        f"share without {name} {zero[r, k]:.3f} cannot give a mean of "
                        f"{mean[r, k]:.3f} head (owners hold at least one)",
                        f"a share of at least {max(0.0, 1 - mean[r, k]):.3f}")


def design(p, year: int) -> Design:
    """The generator's design at ``year`` (1921: the coarse initial state's households;
    1928: the 1928 total split as in 1921) from parameters ``p`` and the population data."""
    if year not in YEARS:
        raise DataError("sovsim.population", "year", f"{year} is not a base year",
                        ", ".join(map(str, YEARS)))
    m = cell_means(p)
    hh = m["households"]
    if year == 1928:
        hh = hh / hh.sum() * figure("households_total")
    weight_r = hh.sum(axis=1)
    share = hh / weight_r[:, None]
    horses_zero = _zero_shares_horses(share, weight_r)
    cattle_zero = np.broadcast_to(
        np.array([figure("cattleless_share", category=k) for k in CLASSES]), hh.shape).copy()
    usa_share = hh.sum(axis=0) / hh.sum()
    sown_zero_k = np.array([figure("landless_share") / usa_share[0],
                            figure("no_sown_share", category="middle"),
                            figure("no_sown_share", category="kulak")])
    sown_zero = np.broadcast_to(sown_zero_k, hh.shape).copy()
    _check_reachable("horses", m["horses"], horses_zero)
    _check_reachable("cattle", m["cattle"], cattle_zero)
    if (sown_zero >= 1).any() or (sown_zero < 0).any():
        raise DataError("distributions.csv", "landless_share", "gives a share without sown area "
                        "outside [0, 1) for the poor", "landless share below the poor's share")
    upper = np.array([figure("sown_group_upper_desyatin", category=str(g)) for g in range(1, 6)])
    return Design(
        year=year, households=hh, size_mean=m["size"],
        horses_mean=m["horses"], horses_zero=horses_zero,
        cattle_mean=m["cattle"], cattle_zero=cattle_zero,
        sown_mean_ha=m["sown_ha"], sown_zero=sown_zero,
        sown_log_sd=figure("sown_area_log_sd"),
        loadings=np.array([figure("wealth_loading", category=a) for a in ATTRIBUTES]),
        group_upper_ha=upper * DESYATIN_HA,
    )
