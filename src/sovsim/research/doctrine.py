"""The doctrine lens: how far a run stood, axis by axis, from the passages of Marx, Engels and
the debates of the 1920s (the essay's question).

Each indicator is a formula over the run's annual USSR outputs, defined in a data file that a
user may edit (``data/doctrine/indicators.toml``, or a file of the same form). The formula
language is arithmetic only: names of output variables, numbers, ``+ - * /``, parentheses,
``min``, ``max`` and ``abs``. Formulas are parsed into a tree of these and evaluated by this
module; nothing in them is executed as Python.

An indicator with a ``pole`` (the value its passage implies) also gets a distance,
``|value - pole| / scale`` clipped to [0, 1]; an axis's distance is the mean over its
indicators with poles. These are operationalisations, not verdicts: the definitions, poles and
sources travel with every number.

Examples
--------
>>> import sovsim
>>> table = indicators(sovsim.run("nep"))
>>> float(table.query("indicator == 'deportations_per_thousand' and year == 1935").value.iloc[0])
0.0
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import DataError
from sovsim.tomlfile import read_toml

FUNCTIONS = {"min": np.minimum, "max": np.maximum, "abs": np.abs}
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}
MAX_FORMULA_CHARS = 500
INDICATOR_KEYS = {"name", "axis", "label", "unit", "formula", "definition", "pole", "scale",
                  "pole_note", "source"}
SOURCE_KEYS = {"author", "work", "year", "part", "quote", "gist"}
RECORD_KEYS = {"series", "variants", "label"}


@dataclass(frozen=True)
class Indicator:
    """One operationalised passage: a formula over annual outputs, with its sources."""

    name: str
    axis: str
    label: str
    unit: str
    formula: str
    definition: str
    pole: float | None
    scale: float
    pole_note: str
    sources: tuple[dict[str, Any], ...]
    tree: ast.Expression = field(repr=False, compare=False)
    # Names in the formula that are records (data/doctrine/records.csv), not model outputs.
    records: tuple[str, ...] = ()

    @property
    def variables(self) -> list[str]:
        return sorted({n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
                      - set(FUNCTIONS) - set(self.records))

    @property
    def basis(self) -> str:
        """``model`` (outputs only) or ``record`` (uses figures of the historical record,
        data, not model output: given only for the historical run)."""
        return "record" if self.records else "model"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "axis": self.axis, "label": self.label, "unit": self.unit,
                "formula": self.formula, "definition": self.definition, "pole": self.pole,
                "scale": self.scale, "pole_note": self.pole_note, "sources": list(self.sources),
                "basis": self.basis, "records": list(self.records)}


@dataclass(frozen=True)
class Definitions:
    axes: dict[str, str]
    indicators: tuple[Indicator, ...]
    path: str
    # Each axis's headline, a share in [0, 1]: a formula over the indicators' names (the
    # file's [headline] table; an axis it leaves out has its first indicator).
    headline: dict[str, str] = field(default_factory=dict)
    headline_trees: dict[str, ast.Expression] = field(default_factory=dict, repr=False,
                                                      compare=False)
    # Record names usable in formulas: name -> {series, variants, label} (the file's [record]
    # table; figures in data/doctrine/records.csv).
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"axes": self.axes, "headline": self.headline, "records": self.records,
                "indicators": [i.as_dict() for i in self.indicators]}


def default_path() -> Path:
    return Path(str(resources.files("sovsim") / "data" / "doctrine" / "indicators.toml"))


def load_definitions(path: str | Path | None = None) -> Definitions:
    """Read and check a definitions file (the shipped one by default; read once per version
    of the file).

    Every error names the file, the indicator and what is wrong.
    """
    if path is None:
        return _shipped(default_path().stat().st_mtime_ns)
    return _load_definitions(Path(path))


@lru_cache(maxsize=2)
def _shipped(version: int) -> Definitions:
    return _load_definitions(default_path())


def _load_definitions(path: Path) -> Definitions:
    file = str(path)
    raw = read_toml(path, missing="no such doctrine definitions file")
    axes = raw.get("axes")
    if not isinstance(axes, dict) or not axes or not all(isinstance(v, str) for v in axes.values()):
        raise DataError(file, "axes", "must be a table of axis name = description")
    items = raw.get("indicator")
    if not isinstance(items, list) or not items:
        raise DataError(file, "indicator", "no [[indicator]] tables")
    records = _records(raw.get("record", {}), file)
    out: list[Indicator] = []
    for i, item in enumerate(items):
        out.append(_indicator(item, axes, file, f"indicator[{i}]", records))
    names = [ind.name for ind in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise DataError(file, "indicator", f"names repeated: {', '.join(sorted(dup))}")
    given = raw.get("headline", {})
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        raise DataError(file, "headline", "must be a table of axis name = formula")
    unknown = [a for a in given if a not in axes]
    if unknown:
        raise DataError(file, "headline", f"axis {unknown[0]!r} is not in [axes] "
                        f"(allowed: {', '.join(axes)})")
    headline, trees = {}, {}
    for axis in axes:
        first = next((ind.name for ind in out if ind.axis == axis), None)
        text = given.get(axis, first)
        if text is None:
            continue  # an axis without indicators has no headline
        headline[axis] = text
        trees[axis] = parse_formula(text, file, f"headline.{axis}", names=set(names))
    return Definitions(dict(axes), tuple(out), file, headline, trees, records)


def _records(given: Any, file: str) -> dict[str, dict[str, Any]]:
    """The [record.NAME] tables: a series of data/doctrine/records.csv and its variants in
    order of preference."""
    from sovsim.research import records as rec

    if not isinstance(given, dict):
        raise DataError(file, "record", "must be a table of [record.NAME] tables")
    known = rec.series_names()
    out = {}
    for name, entry in given.items():
        where = f"record.{name}"
        if not isinstance(entry, dict) or set(entry) - RECORD_KEYS:
            raise DataError(file, where, f"must be a table with keys {', '.join(sorted(RECORD_KEYS))}")
        if name in BY_NAME or name in FUNCTIONS:
            raise DataError(file, where, "a record may not take the name of an output variable")
        if entry.get("series") not in known:
            raise DataError(file, f"{where}.series", f"unknown record series "
                            f"{entry.get('series')!r} (allowed: {', '.join(sorted(known))})")
        variants = entry.get("variants")
        if not isinstance(variants, list) or not variants or not all(isinstance(v, str) for v in variants):
            raise DataError(file, f"{where}.variants", "must be a non-empty list of variant names")
        if not isinstance(entry.get("label"), str) or not entry["label"]:
            raise DataError(file, f"{where}.label", "must be a non-empty string")
        out[name] = {"series": entry["series"], "variants": list(variants), "label": entry["label"]}
    return out


def _indicator(item: Any, axes: dict[str, str], file: str, where: str,
               records: dict[str, dict[str, Any]] | None = None) -> Indicator:
    if not isinstance(item, dict):
        raise DataError(file, where, "expected a table")
    unknown = set(item) - INDICATOR_KEYS
    if unknown:
        raise DataError(file, where, f"unknown key {sorted(unknown)[0]!r} "
                        f"(allowed: {', '.join(sorted(INDICATOR_KEYS))})")
    for key in ("name", "axis", "label", "unit", "formula", "definition"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise DataError(file, where, f"{key} must be a non-empty string")
    where = f"{where} ({item['name']})"
    if item["axis"] not in axes:
        raise DataError(file, where, f"axis {item['axis']!r} is not in [axes] "
                        f"(allowed: {', '.join(axes)})")
    pole = item.get("pole")
    scale = item.get("scale", 1.0)
    for key, val in (("pole", pole), ("scale", scale)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, (int, float))
                                or not np.isfinite(val)):
            raise DataError(file, where, f"{key} must be a finite number")
    if scale <= 0:
        raise DataError(file, where, "scale must be positive")
    sources = item.get("source", [])
    if not isinstance(sources, list) or not sources:
        raise DataError(file, where, "needs at least one [[indicator.source]] (the passage it "
                        "operationalises)")
    for j, src in enumerate(sources):
        if not isinstance(src, dict) or set(src) - SOURCE_KEYS:
            raise DataError(file, f"{where}.source[{j}]", "must be a table with keys "
                            f"{', '.join(sorted(SOURCE_KEYS))}")
        if not all(isinstance(src.get(k), str) for k in ("author", "work", "part")):
            raise DataError(file, f"{where}.source[{j}]", "needs author, work and part")
        if ("quote" in src) == ("gist" in src):
            raise DataError(file, f"{where}.source[{j}]", "needs either a quote (verbatim) or "
                            "a gist (a paraphrase), not both")
    tree = parse_formula(item["formula"], file, f"{where}.formula", records=set(records or ()))
    used = tuple(sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
                        & set(records or ())))
    return Indicator(item["name"], item["axis"], item["label"], item["unit"], item["formula"],
                     item["definition"], None if pole is None else float(pole), float(scale),
                     str(item.get("pole_note", "")), tuple(sources), tree, used)


def parse_formula(text: str, file: str = "<formula>", where: str = "formula",
                  names: set[str] | None = None, records: set[str] | None = None
                  ) -> ast.Expression:
    """Parse an arithmetic formula and check every node and name (output variables, or
    ``names`` when given); raise DataError if any is not allowed. The tree is only ever walked
    by :func:`evaluate`, never compiled."""
    if len(text) > MAX_FORMULA_CHARS:
        raise DataError(file, where, f"formula longer than {MAX_FORMULA_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise DataError(file, where, f"formula is not valid arithmetic: {exc.msg}") from None
    for node in ast.walk(tree):
        ok = isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load,
                               ast.Constant, ast.Call, ast.USub, ast.UAdd, *_BINOPS))
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            ok = False
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                               and node.func.id in FUNCTIONS and not node.keywords):
            raise DataError(file, where, f"only {', '.join(FUNCTIONS)} may be called")
        if not ok:
            raise DataError(file, where, f"{type(node).__name__} is not allowed in a formula "
                            "(numbers, variable names, + - * /, parentheses, min, max, abs)")
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            if names is not None and node.id not in names:
                raise DataError(file, where, f"unknown indicator {node.id!r} (allowed: "
                                f"{', '.join(sorted(names))})")
            if names is None and node.id not in BY_NAME and node.id not in (records or ()):
                raise DataError(file, where, f"unknown variable {node.id!r} (see "
                                "docs/variables.md)")
    return tree


def evaluate(tree: ast.Expression, values: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate a checked formula over arrays of annual values (NaN where undefined)."""

    def ev(node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return np.asarray(float(node.value))
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Call):
            args = [ev(a) for a in node.args]
            fn = FUNCTIONS[node.func.id]
            return fn(*args) if node.func.id == "abs" else fn.reduce(np.broadcast_arrays(*args))
        raise DataError("<formula>", type(node).__name__, "unexpected node")  # parse_formula forbids it

    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(ev(tree), dtype=float)
    return np.where(np.isfinite(out), out, np.nan)


def indicator_arrays(results, definitions: Definitions | None = None
                     ) -> tuple[Definitions, np.ndarray, np.ndarray]:
    """The indicators as arrays (indicators x years 1921..1940): values and distances (NaN
    where an indicator has no pole or no value). The fast path of :func:`indicators`."""
    defs = definitions or load_definitions()
    years = np.arange(calendar.START_YEAR, calendar.END_YEAR + 1)
    needed = sorted({v for ind in defs.indicators for v in ind.variables})
    values = {var: results.values(var) for var in needed}
    values.update(record_values(defs, results.scenario))
    n = len(defs.indicators)
    val = np.empty((n, len(years)))
    dist = np.full((n, len(years)), np.nan)
    for i, ind in enumerate(defs.indicators):
        val[i] = np.broadcast_to(evaluate(ind.tree, values), years.shape)
        if ind.pole is not None:
            dist[i] = np.clip(np.abs(val[i] - ind.pole) / ind.scale, 0.0, 1.0)
    return defs, val, dist


def record_values(defs: Definitions, scenario: str) -> dict[str, np.ndarray]:
    """The records named in the definitions, one value a year: the historical record for the
    run named ``historical``, NaN for any other (a record is not a model output)."""
    from sovsim.research import records as rec

    n = calendar.END_YEAR - calendar.START_YEAR + 1
    if scenario != rec.RECORDED_SCENARIO:
        return {name: np.full(n, np.nan) for name in defs.records}
    return {name: rec.annual(r["series"], tuple(r["variants"]))[0] for name, r in defs.records.items()}


def indicators(results, definitions: Definitions | None = None) -> pd.DataFrame:
    """Every indicator for every year of a run, as a tidy table.

    Columns: scenario, year, axis, indicator, label, value, unit, pole, distance (NaN where
    the indicator has no pole or no value that year), basis (``model``, or ``record`` for an
    indicator that uses figures of the historical record: data, not model output).
    """
    defs, val, dist = indicator_arrays(results, definitions)
    years = np.arange(calendar.START_YEAR, calendar.END_YEAR + 1)
    n = len(defs.indicators)

    def each(attr: str) -> np.ndarray:
        return np.repeat([getattr(ind, attr) for ind in defs.indicators], len(years))

    poles = [np.nan if ind.pole is None else ind.pole for ind in defs.indicators]
    return pd.DataFrame({
        "scenario": results.scenario, "year": np.tile(years, n), "axis": each("axis"),
        "indicator": each("name"), "label": each("label"), "value": val.ravel(),
        "unit": each("unit"), "pole": np.repeat(poles, len(years)), "distance": dist.ravel(),
        "basis": each("basis")})


def headlines(defs: Definitions, val: np.ndarray) -> dict[str, np.ndarray]:
    """Each axis's headline share by year (1921..1940) from :func:`indicator_arrays`'
    values."""
    by_name = {ind.name: val[i] for i, ind in enumerate(defs.indicators)}
    years = val.shape[1]
    return {axis: np.broadcast_to(evaluate(tree, by_name), (years,)).astype(float)
            for axis, tree in defs.headline_trees.items()}


def axis_distances(defs: Definitions, dist: np.ndarray) -> dict[str, np.ndarray]:
    """Each axis's distance by year from :func:`indicator_arrays`' distances (the mean over
    its model indicators with a pole; NaN for an axis with none). Indicators that use records
    are left out, so that every scenario is measured on the same indicators."""
    out = {}
    for axis in defs.axes:
        rows = [i for i, ind in enumerate(defs.indicators)
                if ind.axis == axis and ind.pole is not None and ind.basis == "model"]
        d = dist[rows] if rows else np.full((1, dist.shape[1]), np.nan)
        count = (~np.isnan(d)).sum(axis=0)
        out[axis] = np.where(count > 0, np.nansum(d, axis=0) / np.maximum(count, 1), np.nan)
    return out


def axes(table: pd.DataFrame) -> pd.DataFrame:
    """Each axis's distance from its passages by year: the mean distance of its model
    indicators that have a pole (NaN for an axis with none; records left out, as in
    :func:`axis_distances`)."""
    if "basis" in table:
        table = table.assign(distance=table["distance"].where(table["basis"] == "model"))
    g = table.groupby(["scenario", "axis", "year"], sort=False)["distance"]
    return g.mean().rename("distance").reset_index()
