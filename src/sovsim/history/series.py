"""Observed history, for comparison only: the model never reads it (model.md, "Inputs").

Every figure is one row of a CSV in ``data/history`` with columns
``series, region, period, value, unit, variant, source, location, note, grade``; every
``source`` is a key of the bibliography (``data/sources/*.toml``). Where sources disagree each
estimate is its own ``variant``, and every row carries the grade of its source (``GRADES``,
best first; why each source has its grade: ``data/grades.toml``, docs/sources-grades.md).
What could not be found is listed in the ``*_gaps.csv`` files.

``load`` adds two columns: ``excluded`` (why a row is never fitted nor scored: an official
claim known to be inflated, other borders, another quantity; empty otherwise) and ``usable``
(graded above ``popular`` and not excluded). Fitting and validation use only usable rows, and
of those the best-graded at each period (``best``): weak rows are shown, never scored.

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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from sovsim.errors import DataError
from sovsim.tomlfile import read_toml

COLUMNS = ["series", "region", "period", "value", "unit", "variant", "source", "location", "note",
           "grade"]
#: The grades of sources, best first (data/grades.toml says what each means).
GRADES = ("archival", "scholarly", "official", "popular")
RANK = {g: i for i, g in enumerate(GRADES)}
EXCLUDED_WHY = ("inflated", "borders", "concept")
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
        for key, entry in read_bibliography(path).items():
            out.setdefault(key, {**entry, "file": path.name})
    return out


def read_bibliography(path: Path) -> dict[str, dict]:
    """One bibliography file (TOML, a table a source key), each entry checked for
    ``CITATION_FIELDS``: the sources of the history files, of the doctrine lens's records and
    of the essay's timeline are all read by it."""
    raw = read_toml(path)
    for key, entry in raw.items():
        missing = [f for f in CITATION_FIELDS if f not in entry]
        if missing:
            raise DataError(str(path), key, f"citation lacks {', '.join(missing)}")
    return raw


def check_row(row: dict, path: Path, where: str, known: dict, keys: str) -> None:
    """A sourced, graded figure's row checked, its value made a number: the period, the value,
    the source key (among ``known``; ``keys`` says where they are) and the grade. The history
    files and the doctrine lens's records share it."""
    if not PERIOD.match(row["period"]):
        raise DataError(str(path), f"{where}.period", f"bad period {row['period']!r}",
                        "YYYY, YYYY-MM or YYYY-MM-DD")
    try:
        row["value"] = float(row["value"])
    except ValueError:
        raise DataError(str(path), f"{where}.value", f"not a number: {row['value']!r}") from None
    if row["source"] not in known:
        raise DataError(str(path), f"{where}.source", f"unknown source key {row['source']!r}", keys)
    if row["grade"] not in RANK:
        raise DataError(str(path), f"{where}.grade", f"unknown grade {row['grade']!r}",
                        ", ".join(GRADES))


def format_citation(entry: dict) -> str:
    """``Author (year). Title. Journal or publisher.``"""
    year = entry["year"] if entry["year"] not in (0, "0") else "n.d."
    where = entry.get("journal") or entry.get("publisher") or ""
    return f"{entry['author']} ({year}). {entry['title']}." + (f" {where}." if where else "")


def cite(key: str) -> str:
    """A one-line citation for a bibliography key."""
    e = sources().get(key)
    if e is None:
        raise DataError("bibliography", key, "unknown source key")
    return format_citation(e)


@cache
def _load_all() -> pd.DataFrame:
    frames = []
    known = sources()
    for path in sorted(_data_dir("history").glob("*.csv")):
        if path.name.endswith("_gaps.csv"):
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            if "grade" not in header and set(header) == set(COLUMNS) - {"grade"}:
                raise DataError(str(path), "header", "no `grade` column: every history file "
                                "grades its rows", ", ".join(GRADES))
            if sorted(header) != sorted(COLUMNS) or len(header) != len(COLUMNS):
                raise DataError(str(path), "header", f"columns {header}", ", ".join(COLUMNS))
            rows = list(reader)
        for i, row in enumerate(rows, start=2):
            check_row(row, path, f"row {i}", known, "a key of data/sources/*.toml")
            row["file"] = path.name
        frames.append(pd.DataFrame(rows, columns=[*COLUMNS, "file"]))
    df = pd.concat(frames, ignore_index=True)
    df["excluded"] = [excluded_why(r) for r in df.itertuples(index=False)]
    df["usable"] = (df["grade"] != "popular") & (df["excluded"] == "")
    return df


# -- grades -----------------------------------------------------------------------------------

FILTERS = ("series", "variants", "regions", "periods")
_FILTER_COLUMN = {"series": "series", "variants": "variant", "regions": "region", "periods": "period"}


@cache
def grading() -> dict:
    """``data/grades.toml``: ``source`` entries (the grade of a source's rows, and why) and
    ``excluded`` entries (rows never fitted nor scored, and why), checked."""
    path = Path(str(resources.files("sovsim") / "data" / "grades.toml"))
    raw = read_toml(path)
    out = {"source": [], "excluded": [], "meaning": raw.get("meaning", {})}
    if set(out["meaning"]) != set(GRADES):
        raise DataError(str(path), "meaning", f"grades {sorted(out['meaning'])}", ", ".join(GRADES))
    for i, e in enumerate(raw.get("source", [])):
        where = f"source[{i}] ({e.get('key', '?')})"
        for k in ("key", "grade", "reason"):
            if not e.get(k):
                raise DataError(str(path), where, f"lacks {k}")
        if e["grade"] not in RANK:
            raise DataError(str(path), f"{where}.grade", f"unknown grade {e['grade']!r}", ", ".join(GRADES))
        unknown = set(e) - {"key", "grade", "reason", *FILTERS}
        if unknown:
            raise DataError(str(path), where, f"unknown keys {sorted(unknown)}")
        out["source"].append(e)
    for i, e in enumerate(raw.get("excluded", [])):
        where = f"excluded[{i}] ({e.get('series', '?')})"
        for k in ("series", "why", "reason"):
            if not e.get(k):
                raise DataError(str(path), where, f"lacks {k}")
        if e["why"] not in EXCLUDED_WHY:
            raise DataError(str(path), f"{where}.why", f"unknown {e['why']!r}", ", ".join(EXCLUDED_WHY))
        unknown = set(e) - {"series", "source", "why", "reason", "variants", "regions", "periods"}
        if unknown:
            raise DataError(str(path), where, f"unknown keys {sorted(unknown)}")
        out["excluded"].append(e)
    return out


def _matches(entry: dict, row) -> bool:
    for key, col in _FILTER_COLUMN.items():
        if key in entry:
            want = entry[key] if isinstance(entry[key], list) else [entry[key]]
            if getattr(row, col) not in want:
                return False
    return True


def grade_entry(row) -> dict | None:
    """The ``[[source]]`` entry of data/grades.toml that grades ``row`` (a history row): the
    most specific one naming its source; None when none does."""
    hits = [e for e in grading()["source"] if e["key"] == row.source and _matches(e, row)]
    if not hits:
        return None
    return max(hits, key=lambda e: sum(k in e for k in FILTERS))


def excluded_why(row) -> str:
    """Why ``row`` is never fitted nor scored ("inflated", "borders", "concept"), or ""."""
    for e in grading()["excluded"]:
        if e["series"] == row.series and e.get("source", row.source) == row.source and _matches(
                {k: v for k, v in e.items() if k in FILTERS and k != "series"}, row):
            return e["why"]
    return ""


def excluded_reason(row) -> str:
    for e in grading()["excluded"]:
        if e["series"] == row.series and e.get("source", row.source) == row.source and _matches(
                {k: v for k, v in e.items() if k in FILTERS and k != "series"}, row):
            return e["reason"]
    return ""


def best(df: pd.DataFrame) -> pd.DataFrame:
    """The rows that fitting and validation use: of the usable rows (graded above ``popular``,
    not excluded), those of the best grade at each (series, region, period). Where several
    remain they make a band (``lo`` to ``hi``); weak rows never widen it."""
    use = df[df["usable"]].copy()
    if use.empty:
        return use
    use["rank"] = use["grade"].map(RANK)
    top = use.groupby(["series", "region", "period"])["rank"].transform("min")
    return use[use["rank"] == top].drop(columns="rank")


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


# -- kinds: what each series measures in time -------------------------------------------------

KINDS = ("stock", "flow-calendar-year", "flow-crop-year", "cumulative", "year-average", "plan")
#: The model's annual rules (engine.accounts) each kind can be compared with.
KIND_RULES = {
    "stock": ("june",),
    "flow-calendar-year": ("sum", "harvest_year_sum"),
    "flow-crop-year": ("sum", "harvest_year_sum"),
    "cumulative": ("sum", "harvest_year_sum"),
    "year-average": ("mean", "index_own_1928", "ratio_own_1928"),
}
SPAN = re.compile(r"(19\d\d)\s*[-–/+]\s*(19\d\d|\d\d)(?!\d)")


@dataclass(frozen=True)
class Kind:
    """How one series is measured in time (``data/history/kinds.toml``)."""

    series: str
    kind: str
    model: str
    why: str
    variants: tuple[tuple[str, str], ...] = ()

    def of(self, variant: str) -> str:
        """The kind of one variant of the series."""
        return dict(self.variants).get(variant, self.kind)


@cache
def kinds() -> dict[str, Kind]:
    """The declared kind of every series compared with the model, or kept as a plan."""
    path = _data_dir("history") / "kinds.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(str(path), "(file)", f"not valid TOML: {exc}") from None
    out = {}
    for series, e in raw.items():
        unknown = set(e) - {"kind", "model", "why", "variants"}
        if unknown:
            raise DataError(str(path), series, f"unknown keys {sorted(unknown)}", "kind, model, why, variants")
        for key, kind in [("kind", e.get("kind")), *((f"variants.{v}", k) for v, k in
                                                     e.get("variants", {}).items())]:
            if kind not in KINDS:
                raise DataError(str(path), f"{series}.{key}", f"unknown kind {kind!r}", ", ".join(KINDS))
        if not e.get("why"):
            raise DataError(str(path), series, "lacks why")
        out[series] = Kind(series, e["kind"], e.get("model", series), e["why"],
                           tuple(sorted(e.get("variants", {}).items())))
    return out


def span(note: str) -> tuple[int, int] | None:
    """The years a cumulative row covers, from the first range its note names (1930-1931,
    1930-31, 1930+1931); None when it names none."""
    m = SPAN.search(note or "")
    if not m:
        return None
    a, b = m.group(1), m.group(2)
    return int(a), int(a[:2] + b if len(b) == 2 else b)
