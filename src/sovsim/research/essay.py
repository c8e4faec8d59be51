"""The essay, claim by claim: each claim of the seed essay (or of a user's file of the same
form) tested against the runs through the doctrine lens, with a verdict by a written rule, the
counter-evidence where there is some, and the political timeline as annotations.

The claims are data (``data/essay/claims.toml``); the events are data
(``data/essay/events.csv``, sources in ``data/essay/sources.toml``). Events are annotations on
charts, never inputs: nothing here feeds the model. A claim that outcomes cannot test (a motive,
a cult, an act of war) is listed as such and gets no verdict.

Examples
--------
>>> claims = load_claims()
>>> [c.id for c in claims.claims][:2]
['georgia', 'socialism_in_one_country']
>>> verdict([+1, +1], [])
'supports'
>>> verdict([-1, 0], [])
'contradicts'
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sovsim import calendar
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import DataError
from sovsim.history.series import read_bibliography
from sovsim.tomlfile import read_toml

YEARS = np.arange(calendar.START_YEAR, calendar.END_YEAR + 1)
HISTORICAL = "historical"

#: The verdict rule, shown beside every verdict.
RULE = ("supports: every test with data holds and no counter-evidence holds; "
        "contradicts: no test holds and at least one goes the other way; "
        "partly: anything else (some tests hold, a move is too small, or counter-evidence "
        "holds). A change or contrast counts when it exceeds the tolerance times the larger "
        "of the two values compared.")

KINDS = {"change": ("rises", "falls", "away_from_pole", "toward_pole"),
         "contrast": ("higher", "lower"),
         "level": ("above", "below")}
CLAIM_KEYS = {"id", "quote", "period", "regime", "asserts", "testable", "why_not", "events",
              "alternatives", "test", "counter"}
TEST_KEYS = {"indicator", "kind", "direction", "scenario", "versus", "before", "after", "years",
             "threshold", "tolerance", "says"}
ID = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
EVENT_COLUMNS = ["date", "event", "note", "source", "location"]
DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Test:
    indicator: str
    kind: str
    direction: str
    says: str
    scenario: str = HISTORICAL
    versus: str = HISTORICAL
    before: tuple[int, int] = (1925, 1927)
    after: tuple[int, int] = (1933, 1937)
    years: tuple[int, int] = (1933, 1937)
    threshold: float | None = None
    tolerance: float = 0.1

    @property
    def scenarios(self) -> list[str]:
        return [self.scenario] + ([self.versus] if self.kind == "contrast" else [])


@dataclass(frozen=True)
class Claim:
    id: str
    quote: str
    period: str
    regime: str
    asserts: str
    testable: bool
    why_not: str
    events: tuple[str, ...]
    tests: tuple[Test, ...] = ()
    counters: tuple[Test, ...] = ()
    # scenarios shown beside the historical run (their values, not tested)
    alternatives: tuple[str, ...] = ()

    @property
    def scenarios(self) -> list[str]:
        seen = [HISTORICAL] + [s for s in self.alternatives if s != HISTORICAL]
        for t in self.tests + self.counters:
            seen += [s for s in t.scenarios if s not in seen]
        return seen


@dataclass(frozen=True)
class Claims:
    claims: tuple[Claim, ...]
    path: str
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def scenarios(self) -> list[str]:
        seen = [HISTORICAL]
        for c in self.claims:
            seen += [s for s in c.scenarios if s not in seen]
        return seen


def default_path() -> Path:
    return Path(str(resources.files("sovsim") / "data" / "essay" / "claims.toml"))


def _data(name: str) -> Path:
    return Path(str(resources.files("sovsim") / "data" / "essay" / name))


# -- loading ---------------------------------------------------------------------------------

def load_claims(path: str | Path | None = None, definitions=None) -> Claims:
    """Read and check a claims file (the shipped one by default). Every error names the file,
    the claim and the field."""
    from sovsim.research import doctrine as dl

    p = default_path() if path is None else Path(path)
    file = str(p)
    raw = read_toml(p, missing="no such claims file")
    unknown = set(raw) - {"defaults", "claim"}
    if unknown:
        raise DataError(file, sorted(unknown)[0], "unknown table (allowed: defaults, claim)")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - {"before", "after", "tolerance"}:
        raise DataError(file, "defaults", "must be a table with before, after, tolerance")
    d_before = _span(defaults.get("before", [1925, 1927]), file, "defaults.before")
    d_after = _span(defaults.get("after", [1933, 1937]), file, "defaults.after")
    d_tol = _number(defaults.get("tolerance", 0.1), file, "defaults.tolerance", positive=True)
    items = raw.get("claim")
    if not isinstance(items, list) or not items:
        raise DataError(file, "claim", "no [[claim]] tables")
    defs = definitions or dl.load_definitions()
    names = {i.name: i for i in defs.indicators}
    known_events = {e["date"] for e in events()}
    out = []
    for i, item in enumerate(items):
        where = f"claim[{i}]"
        if not isinstance(item, dict):
            raise DataError(file, where, "expected a table")
        if isinstance(item.get("id"), str):
            where = f"claim[{i}] ({item['id']})"
        bad = set(item) - CLAIM_KEYS
        if bad:
            raise DataError(file, where, f"unknown field {sorted(bad)[0]!r} (allowed: "
                            f"{', '.join(sorted(CLAIM_KEYS))})")
        for key in ("id", "quote", "period", "regime", "asserts"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise DataError(file, f"{where}.{key}", "must be a non-empty string")
        if not ID.match(item["id"]):
            raise DataError(file, f"{where}.id", "letters, digits, - and _ only (at most 60)")
        testable = item.get("testable", True)
        if not isinstance(testable, bool):
            raise DataError(file, f"{where}.testable", "must be true or false")
        why_not = item.get("why_not", "")
        if not isinstance(why_not, str):
            raise DataError(file, f"{where}.why_not", "must be a string")
        evs = item.get("events", [])
        if not isinstance(evs, list) or not all(isinstance(e, str) for e in evs):
            raise DataError(file, f"{where}.events", "must be a list of dates of events.csv")
        missing = [e for e in evs if e not in known_events]
        if missing:
            raise DataError(file, f"{where}.events", f"no event dated {missing[0]!r} in events.csv")
        alts = item.get("alternatives", [])
        if not isinstance(alts, list) or not all(isinstance(a, str) and a.strip() for a in alts):
            raise DataError(file, f"{where}.alternatives", "must be a list of scenario names")
        tests = _tests(item.get("test", []), file, f"{where}.test", names, d_before, d_after, d_tol)
        counters = _tests(item.get("counter", []), file, f"{where}.counter", names, d_before,
                          d_after, d_tol)
        if testable and not tests:
            raise DataError(file, f"{where}.test", "a testable claim needs at least one "
                            "[[claim.test]] (or set testable = false and give why_not)")
        if not testable and (tests or counters):
            raise DataError(file, f"{where}.test", "a claim with testable = false has no tests")
        if not testable and not why_not.strip():
            raise DataError(file, f"{where}.why_not", "say why outcomes cannot test this claim")
        out.append(Claim(item["id"], item["quote"].strip(), item["period"], item["regime"],
                         item["asserts"], testable, why_not.strip(), tuple(evs), tests, counters,
                         tuple(alts)))
    ids = [c.id for c in out]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise DataError(file, f"claim ({dup[0]})", "id repeated")
    return Claims(tuple(out), file, {"before": d_before, "after": d_after, "tolerance": d_tol})


def _span(value: Any, file: str, where: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise DataError(file, where, "must be two years [first, last]")
    a, b = value
    if not (calendar.START_YEAR <= a <= b <= calendar.END_YEAR):
        raise DataError(file, where, f"years must be within {calendar.START_YEAR}-"
                        f"{calendar.END_YEAR}, first <= last")
    return a, b


def _number(value: Any, file: str, where: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise DataError(file, where, "must be a finite number")
    if positive and value <= 0:
        raise DataError(file, where, "must be positive")
    return float(value)


def _tests(items: Any, file: str, where: str, names: dict, d_before, d_after, d_tol
           ) -> tuple[Test, ...]:
    if not isinstance(items, list):
        raise DataError(file, where, "must be a list of tables ([[...]])")
    out = []
    for j, t in enumerate(items):
        w = f"{where}[{j}]"
        if not isinstance(t, dict):
            raise DataError(file, w, "expected a table")
        bad = set(t) - TEST_KEYS
        if bad:
            raise DataError(file, w, f"unknown field {sorted(bad)[0]!r} (allowed: "
                            f"{', '.join(sorted(TEST_KEYS))})")
        ind = t.get("indicator")
        if ind not in names and ind not in BY_NAME:
            raise DataError(file, f"{w}.indicator", f"unknown indicator or variable {ind!r} "
                            "(a name of data/doctrine/indicators.toml or docs/variables.md)")
        kind = t.get("kind")
        if kind not in KINDS:
            raise DataError(file, f"{w}.kind", f"must be one of {', '.join(KINDS)}")
        direction = t.get("direction")
        if direction not in KINDS[kind]:
            raise DataError(file, f"{w}.direction", f"for kind {kind!r} must be one of "
                            f"{', '.join(KINDS[kind])}")
        if direction in ("away_from_pole", "toward_pole") and (ind not in names
                                                               or names[ind].pole is None):
            raise DataError(file, f"{w}.direction", f"{ind!r} has no pole: use rises or falls")
        says = t.get("says")
        if not isinstance(says, str) or not says.strip():
            raise DataError(file, f"{w}.says", "must say the test in plain words")
        for key in ("scenario", "versus"):
            if key in t and (not isinstance(t[key], str) or not t[key].strip()):
                raise DataError(file, f"{w}.{key}", "must be a scenario name")
        if kind == "level":
            if "threshold" not in t:
                raise DataError(file, f"{w}.threshold", "a level test needs a threshold")
            threshold = _number(t["threshold"], file, f"{w}.threshold")
        else:
            threshold = None
        if kind == "contrast" and t.get("scenario", HISTORICAL) == t.get("versus", HISTORICAL):
            raise DataError(file, f"{w}.scenario", "a contrast compares two different scenarios")
        before = _span(t["before"], file, f"{w}.before") if "before" in t else d_before
        after = _span(t["after"], file, f"{w}.after") if "after" in t else d_after
        years = _span(t["years"], file, f"{w}.years") if "years" in t else d_after
        tol = _number(t["tolerance"], file, f"{w}.tolerance", positive=True) if "tolerance" in t else d_tol
        out.append(Test(ind, kind, direction, says.strip(), t.get("scenario", HISTORICAL),
                        t.get("versus", HISTORICAL), before, after, years, threshold, tol))
    return tuple(out)


@cache
def _events_cached(version: int) -> tuple[dict[str, str], ...]:
    return tuple(_read_events(_data("events.csv")))


def events() -> list[dict[str, str]]:
    """The political timeline: date (YYYY-MM or YYYY-MM-DD), event, note, source, location,
    and ``year`` (fractional, for charts) and ``citation``. Annotations, never inputs."""
    path = _data("events.csv")
    return [dict(e) for e in _events_cached(path.stat().st_mtime_ns)]


def _read_events(path: Path) -> list[dict[str, Any]]:
    known = event_sources()
    file = str(path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != EVENT_COLUMNS:
            raise DataError(file, "header", f"columns {reader.fieldnames}", ", ".join(EVENT_COLUMNS))
        rows = list(reader)
    out = []
    for i, row in enumerate(rows, start=2):
        m = DATE.match(row["date"])
        if not m:
            raise DataError(file, f"row {i}.date", f"bad date {row['date']!r}", "YYYY-MM or YYYY-MM-DD")
        if row["source"] not in known:
            raise DataError(file, f"row {i}.source", f"unknown source key {row['source']!r}",
                            "a key of data/essay/sources.toml")
        if not row["event"].strip():
            raise DataError(file, f"row {i}.event", "empty")
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3) or 15)
        e = known[row["source"]]
        out.append({**row, "year": round(y + (mo - 1) / 12 + (d - 1) / 365, 4),
                    "citation": f"{e['author']} ({e['year']}). {e['title']}."})
    return out


@cache
def event_sources() -> dict[str, dict]:
    return read_bibliography(_data("sources.toml"))


# -- the rule --------------------------------------------------------------------------------

def moved(a: float, b: float, tolerance: float) -> int:
    """+1 if b exceeds a, -1 if it falls short of it, by more than ``tolerance`` times the
    larger magnitude of the two; 0 otherwise."""
    margin = tolerance * max(abs(a), abs(b))
    if b - a > margin and b - a > 1e-12:
        return 1
    if a - b > margin and a - b > 1e-12:
        return -1
    return 0


def verdict(tests: list[int], counters: list[int]) -> str | None:
    """The verdict from the tests' outcomes (+1 holds, -1 goes the other way, 0 flat; tests
    without data left out) and the counter-tests' (+1 where the counter-evidence holds).
    None when no test has data. The rule is :data:`RULE`."""
    if not tests:
        return None
    if all(t == 1 for t in tests) and not any(c == 1 for c in counters):
        return "supports"
    if not any(t == 1 for t in tests) and any(t == -1 for t in tests):
        return "contradicts"
    return "partly"


def _mean(values: np.ndarray, span: tuple[int, int]) -> float:
    sel = values[(span[0] <= YEARS) & (span[1] >= YEARS)]
    sel = sel[np.isfinite(sel)]
    return float(sel.mean()) if sel.size else float("nan")


def evaluate(test: Test, series: dict[str, dict[str, np.ndarray]], poles: dict[str, float | None]
             ) -> dict[str, Any]:
    """One test against the runs' annual series ({scenario: {indicator: values}}): the values
    compared, the outcome (+1 holds, -1 the other way, 0 flat, None no data) and why."""
    out: dict[str, Any] = {"indicator": test.indicator, "kind": test.kind,
                           "direction": test.direction, "says": test.says,
                           "scenario": test.scenario}
    missing = [s for s in test.scenarios if s not in series]
    if missing:
        out.update(outcome=None, result="not run",
                   why=f"scenario {missing[0]} was not run")
        return out
    vals = series[test.scenario][test.indicator]
    if test.kind == "change":
        a, b = _mean(vals, test.before), _mean(vals, test.after)
        out.update(before=test.before, after=test.after, value_before=a, value_after=b)
        if test.direction in ("away_from_pole", "toward_pole"):
            pole = poles[test.indicator]
            a, b = abs(a - pole), abs(b - pole)
            out.update(pole=pole)
        sign = {"rises": 1, "falls": -1, "away_from_pole": 1, "toward_pole": -1}[test.direction]
    elif test.kind == "contrast":
        a = _mean(series[test.versus][test.indicator], test.years)
        b = _mean(vals, test.years)
        out.update(versus=test.versus, years=test.years, value_versus=a, value=b)
        sign = 1 if test.direction == "higher" else -1
    else:
        b = _mean(vals, test.years)
        out.update(years=test.years, value=b, threshold=test.threshold)
        if not np.isfinite(b):
            out.update(outcome=None, result="no data", why="no value in those years")
            return out
        holds = b > test.threshold if test.direction == "above" else b < test.threshold
        out.update(outcome=1 if holds else -1, result="holds" if holds else "fails",
                   why=f"{b:.3g} is {'above' if b > test.threshold else 'not above'} "
                       f"{test.threshold:g}" if test.direction == "above" else
                       f"{b:.3g} is {'below' if b < test.threshold else 'not below'} "
                       f"{test.threshold:g}")
        return out
    if not (np.isfinite(a) and np.isfinite(b)):
        out.update(outcome=None, result="no data",
                   why="no value in one of the periods (a record covers only some years, and "
                       "only the historical run)")
        return out
    m = moved(a, b, test.tolerance) * sign
    if test.kind == "contrast":
        shown = f"{test.versus} {_fmt(a)}, {test.scenario} {_fmt(b)}"
    elif test.direction in ("away_from_pole", "toward_pole"):
        shown = f"distance from the pole {_fmt(a)} -> {_fmt(b)}"
    else:
        shown = f"{_fmt(a)} -> {_fmt(b)}"
    out.update(outcome=m, result={1: "holds", -1: "fails", 0: "flat"}[m],
               why=f"{shown} (tolerance {test.tolerance:g} of the larger)")
    return out


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# -- the report ------------------------------------------------------------------------------

def report(claims: Claims, runs: dict[str, Any], definitions=None) -> dict[str, Any]:
    """Every claim with its evidence and verdict, as JSON-ready data. ``runs`` maps scenario
    names to results (``historical`` should be among them)."""
    from sovsim.research import doctrine as dl

    defs = definitions or dl.load_definitions()
    by_name = {i.name: i for i in defs.indicators}
    needed = sorted({t.indicator for c in claims.claims for t in c.tests + c.counters})
    series: dict[str, dict[str, np.ndarray]] = {}
    for sc, res in runs.items():
        _, val, _ = dl.indicator_arrays(res, defs)
        vals = {ind.name: val[i] for i, ind in enumerate(defs.indicators)}
        series[sc] = {n: vals[n] if n in vals else np.asarray(res.values(n), dtype=float)
                      for n in needed}
    poles = {n: by_name[n].pole if n in by_name else None for n in needed}
    all_events = {e["date"]: e for e in events()}
    out_claims = []
    for c in claims.claims:
        entry: dict[str, Any] = {
            "id": c.id, "quote": c.quote, "period": c.period, "regime": c.regime,
            "asserts": c.asserts, "testable": c.testable,
            "events": [_event_json(all_events[d]) for d in c.events]}
        if not c.testable:
            entry.update(verdict=None, status="outside what outcomes can test", why_not=c.why_not)
            out_claims.append(entry)
            continue
        tests = [evaluate(t, series, poles) for t in c.tests]
        counters = [evaluate(t, series, poles) for t in c.counters]
        v = verdict([t["outcome"] for t in tests if t["outcome"] is not None],
                    [t["outcome"] for t in counters if t["outcome"] is not None])
        charts = {}
        for ind in dict.fromkeys(t.indicator for t in c.tests + c.counters):
            meta = by_name.get(ind)
            charts[ind] = {
                "label": meta.label if meta else BY_NAME[ind].doc,
                "unit": meta.unit if meta else BY_NAME[ind].unit,
                "basis": meta.basis if meta else "model",
                "series": {sc: _list(series[sc][ind]) for sc in c.scenarios if sc in series}}
        # each indicator's mean before and after (the file's default periods) in every run the
        # claim applies to: the historical run and its alternatives side by side
        before, after = claims.defaults["before"], claims.defaults["after"]
        evidence = {ind: {sc: {"before": _num(_mean(series[sc][ind], before)),
                               "after": _num(_mean(series[sc][ind], after))}
                          for sc in c.scenarios if sc in series}
                    for ind in charts}
        entry.update(verdict=v, status=v or "no data", rule=RULE,
                     tests=[_clean(t) for t in tests], counters=[_clean(t) for t in counters],
                     charts=charts, evidence=evidence, before=list(before), after=list(after))
        out_claims.append(entry)
    return {"rule": RULE, "claims_file": claims.path, "scenarios": list(runs),
            "years": YEARS.tolist(), "claims": out_claims,
            "events": [_event_json(e) for e in events()]}


def _event_json(e: dict) -> dict:
    return {k: e[k] for k in ("date", "year", "event", "note", "source", "location", "citation")}


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def _list(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(x) else round(float(x), 6) for x in values]


def _clean(t: dict) -> dict:
    out = {}
    for k, v in t.items():
        if isinstance(v, float):
            out[k] = None if not np.isfinite(v) else round(v, 6)
        elif isinstance(v, tuple):
            out[k] = list(v)
        else:
            out[k] = v
    return out


def run_claims(claims: Claims, scenarios: list[str] | None = None) -> dict[str, Any]:
    """Run the scenarios (default: historical and every scenario the claims name) and build
    the report."""
    from sovsim.api import run

    names = scenarios or claims.scenarios
    if HISTORICAL not in names and not any(Path(n).stem == HISTORICAL for n in names):
        names = [HISTORICAL, *names]
    runs = {}
    for name in names:
        res = run(name)
        runs[res.scenario] = res
    return report(claims, runs)
