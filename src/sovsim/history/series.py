"""Observed history, for comparison only: the model never reads it (model.md, "Inputs").

Every figure is one row of a CSV in ``data/history`` with columns
``series, region, period, value, unit, variant, source, location, note``; every ``source`` is
a key of the bibliography (``data/sources/*.toml``). Where sources disagree each estimate is its
own ``variant``. What could not be found is listed in the ``*_gaps.csv`` files.

Examples
--------
>>> df = load()
>>> sorted(df.columns)[:3]
['file', 'location', 'note']
"""

from __future__ import annotations

import csv
import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from sovsim.errors import DataError

COLUMNS = ["series", "region", "period", "value", "unit", "variant", "source", "location", "note"]
GAP_COLUMNS = ["series", "region", "periods", "source", "note"]
PERIOD = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
CITATION_FIELDS = ("author", "title", "year")


def _data_dir(name: str) -> Path:
    return Path(str(resources.files("sovsim") / "data" / name))


@cache
def sources() -> dict[str, dict]:
    """The bibliography: key -> {author, title, year, ...}. Keys may recur across topic files
    only for the same work (the first file, alphabetically, gives the citation)."""
    out: dict[str, dict] = {}
    for path in sorted(_data_dir("sources").glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(str(path), "(file)", f"not valid TOML: {exc}") from None
        for key, entry in raw.items():
            missing = [f for f in CITATION_FIELDS if f not in entry]
            if missing:
                raise DataError(str(path), key, f"citation lacks {', '.join(missing)}")
            out.setdefault(key, {**entry, "file": path.name})
    return out


def cite(key: str) -> str:
    """A one-line citation for a bibliography key."""
    e = sources().get(key)
    if e is None:
        raise DataError("bibliography", key, "unknown source key")
    year = e["year"] if e["year"] not in (0, "0") else "n.d."
    where = e.get("journal") or e.get("publisher") or ""
    return f"{e['author']} ({year}). {e['title']}." + (f" {where}." if where else "")


@cache
def _load_all() -> pd.DataFrame:
    frames = []
    known = sources()
    for path in sorted(_data_dir("history").glob("*.csv")):
        if path.name.endswith("_gaps.csv"):
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != COLUMNS:
                raise DataError(str(path), "header", f"columns {reader.fieldnames}", ", ".join(COLUMNS))
            rows = list(reader)
        for i, row in enumerate(rows, start=2):
            where = f"row {i}"
            if not PERIOD.match(row["period"]):
                raise DataError(str(path), f"{where}.period", f"bad period {row['period']!r}",
                                "YYYY, YYYY-MM or YYYY-MM-DD")
            try:
                row["value"] = float(row["value"])
            except ValueError:
                raise DataError(str(path), f"{where}.value", f"not a number: {row['value']!r}") from None
            if row["source"] not in known:
                raise DataError(str(path), f"{where}.source", f"unknown source key {row['source']!r}",
                                "a key of data/sources/*.toml")
            row["file"] = path.name
        frames.append(pd.DataFrame(rows, columns=[*COLUMNS, "file"]))
    return pd.concat(frames, ignore_index=True)


def load(series: str | None = None) -> pd.DataFrame:
    """All historical figures (or one series) as a tidy DataFrame."""
    df = _load_all()
    if series is not None:
        if series not in set(df["series"]):
            raise DataError("history", series, "no such series", ", ".join(sorted(set(df["series"]))))
        df = df[df["series"] == series]
    return df.copy()


def gaps() -> pd.DataFrame:
    """What the data hunt looked for and did not find, with what was tried."""
    frames = []
    for path in sorted(_data_dir("history").glob("*_gaps.csv")):
        df = pd.read_csv(path, dtype=str).fillna("")
        if list(df.columns) != GAP_COLUMNS:
            raise DataError(str(path), "header", f"columns {list(df.columns)}", ", ".join(GAP_COLUMNS))
        df["file"] = path.name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
