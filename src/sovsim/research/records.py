"""Records: figures of the state's apparatus that the model does not produce (the army, the
police troops, the camps, the administration), read from ``data/doctrine/records.csv`` for
the doctrine lens's state axis.

They are data, not model output: a record is what happened, so the lens gives a record's value
only for the run named ``historical`` (NaN in every other scenario, where the army or the camps
of another course of policy are unknown). Every row carries its source key (a key of
``data/doctrine/records_sources.toml``), where it was read, and its grade (archival, scholarly,
official, popular); what was looked for and not found is in ``records_gaps.csv``.

A series is turned into one value a year by the record's list of variants, in order of
preference: for each year, the first variant with a figure dated that year, and of its figures
the one dated nearest to 1 July. Years without a figure stay NaN: nothing is interpolated.

Examples
--------
>>> rows = load()
>>> sorted(set(rows["series"]))[:2]
['camp_prisoners_persons', 'central_state_apparatus_persons']
"""

from __future__ import annotations

import csv
import re
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.errors import DataError
from sovsim.history.series import (
    GRADES,  # noqa: F401  (the same scale as the history files)
    check_row,
    format_citation,
    read_bibliography,
)

COLUMNS = ["series", "period", "value", "unit", "variant", "source", "location", "note", "grade"]
PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
#: The scenario whose runs the records describe.
RECORDED_SCENARIO = "historical"


def _path(name: str) -> Path:
    return Path(str(resources.files("sovsim") / "data" / "doctrine" / name))


@cache
def sources() -> dict[str, dict]:
    """The records' bibliography: key -> {author, title, year, ...}."""
    return read_bibliography(_path("records_sources.toml"))


def cite(key: str) -> str:
    e = sources().get(key)
    if e is None:
        raise DataError("records bibliography", key, "unknown source key")
    return format_citation(e)


@cache
def load() -> pd.DataFrame:
    """Every record row, checked (source key known, grade known, period a date)."""
    path = _path("records.csv")
    known = sources()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != COLUMNS:
            raise DataError(str(path), "header", f"columns {reader.fieldnames}", ", ".join(COLUMNS))
        rows = list(reader)
    for i, row in enumerate(rows, start=2):
        check_row(row, path, f"row {i}", known, "a key of records_sources.toml")
        m = PERIOD.match(row["period"])  # the same dates, with the year, month, day as groups
        y, mo, d = m.group(1), m.group(2) or "07", m.group(3) or "01"
        row["year"] = int(y)
        row["date"] = date(int(y), int(mo), int(d))
    return pd.DataFrame(rows)


def gaps() -> pd.DataFrame:
    return pd.read_csv(_path("records_gaps.csv"), dtype=str).fillna("")


def series_names() -> set[str]:
    return set(load()["series"])


def annual(series: str, variants: tuple[str, ...]) -> tuple[np.ndarray, list[dict | None]]:
    """One value a year (1921..1940) of a record series, by the variants' order of preference
    and the date nearest to 1 July; NaN where no figure is dated that year. Returns the values
    and, per year, the row used (None where none)."""
    df = load()
    df = df[(df["series"] == series) & df["variant"].isin(variants)]
    years = range(calendar.START_YEAR, calendar.END_YEAR + 1)
    out = np.full(len(years), np.nan)
    used: list[dict | None] = []
    rank = {v: i for i, v in enumerate(variants)}
    for k, year in enumerate(years):
        rows = df[df["year"] == year]
        if rows.empty:
            used.append(None)
            continue
        mid = date(year, 7, 1)
        best = min(rows.to_dict(orient="records"),
                   key=lambda r: (rank[r["variant"]], abs((r["date"] - mid).days)))
        out[k] = best["value"]
        used.append(best)
    return out, used
