"""Exogenous inputs: weather by region-year and the world grain price (``data/inputs``).

These are the only data the model reads besides parameters and scenarios; they are never
outcomes. Each row carries its source; years or regions without a source are normal weather
(class 0) and the file says so.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import numpy as np

from sovsim import calendar
from sovsim.errors import DataError
from sovsim.mechanisms.context import Inputs
from sovsim.regions import REGIONS


def _rows(name: str) -> tuple[str, list[dict]]:
    path = resources.files("sovsim") / "data" / "inputs" / name
    with path.open(encoding="utf-8") as fh:
        return str(path), list(csv.DictReader(fh))


@cache
def load_inputs(weather_variant: str = "main") -> Inputs:
    """Weather and world prices; ``weather_variant`` picks alternative rows over ``main``."""
    years = calendar.END_YEAR - calendar.START_YEAR + 1
    weather = np.zeros((years, len(REGIONS)))
    file, rows = _rows("weather.csv")
    # main rows first, then the chosen variant's rows override them
    rows = sorted(enumerate(rows), key=lambda ir: ir[1].get("variant", "main") != "main")
    for i, row in rows:
        if row.get("variant", "main") not in ("main", weather_variant):
            continue
        try:
            y, cls = int(row["year"]), float(row["weather_class"])
        except (KeyError, ValueError) as exc:
            raise DataError(file, f"row {i + 2}", f"bad year or weather_class: {exc}") from None
        if row["region"] not in REGIONS:
            raise DataError(file, f"row {i + 2}.region", f"unknown region {row['region']!r}", ", ".join(REGIONS))
        if not -2 <= cls <= 1:
            raise DataError(file, f"row {i + 2}.weather_class", "out of range", "-2 to 1")
        if not row.get("source"):
            raise DataError(file, f"row {i + 2}.source", "missing source")
        if calendar.START_YEAR <= y <= calendar.END_YEAR:
            weather[y - calendar.START_YEAR, REGIONS.index(row["region"])] = cls
    price = np.full(years, np.nan)
    file, rows = _rows("world_grain_price.csv")
    for i, row in enumerate(rows):
        try:
            y, val = int(row["year"]), float(row["index"])
        except (KeyError, ValueError) as exc:
            raise DataError(file, f"row {i + 2}", f"bad year or index: {exc}") from None
        if calendar.START_YEAR <= y <= calendar.END_YEAR:
            price[y - calendar.START_YEAR] = val
    if np.isnan(price).any():
        missing = [calendar.START_YEAR + i for i in np.flatnonzero(np.isnan(price))]
        raise DataError(file, "year", f"no world price for {missing}")
    weather.setflags(write=False)
    price.setflags(write=False)
    return Inputs(weather, price, calendar.START_YEAR)
