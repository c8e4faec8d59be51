"""Declarative cases: ``tests/cases/*.toml``, each case a historical question written as data
(docs/cases.md). A case names a scenario, the inputs it changes (instrument changes as in a
scenario file, parameter overrides) and the expected response of named outputs over a
period: a direction against the unchanged run, and/or a band. One test per case, with the id
``file:case-name``; a historian adds a case by writing TOML, without Python.

The form follows OpenFisca's test files (openfisca/country-template, ``tests/*.yaml``: a list
of named cases, each with its period, input and expected output), with one difference: a
case here compares two runs of the whole model, so it states a response (up, down, the same,
within a band), not one number computed from one household.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sovsim import calendar
from sovsim.api import run
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import InputError, SovsimError
from sovsim.regions import REGIONS, USSR
from sovsim.scenario import scenario_from_dict, shipped_scenarios

CASES = Path(__file__).parent / "cases"

CASE_KEYS = {"name", "why", "reference", "scenario", "period", "change", "parameters", "expect",
             "known_miss"}
REQUIRED = ("name", "why", "period", "expect")
EXPECT_KEYS = {"variable", "region", "period", "change", "at_least", "min", "max", "note"}
CHANGES = {"up", "down", "same"}
NOISE = 1e-9  # relative: differences below this are rounding, not a response


@dataclass
class Expectation:
    variable: str
    region: str
    periods: list[str]
    change: str | None = None
    at_least: float = 0.0
    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        what = [f"{self.variable} ({self.region}, {self.periods[0]}"
                + (f"..{self.periods[-1]}" if len(self.periods) > 1 else "") + ")"]
        if self.change:
            what.append(self.change + (f" by at least {self.at_least:.3g}" if self.at_least else ""))
        if self.min is not None:
            what.append(f">= {self.min:g}")
        if self.max is not None:
            what.append(f"<= {self.max:g}")
        return " ".join(what)


@dataclass
class Case:
    id: str
    file: str
    name: str
    why: str
    scenario: str
    changes: list[dict] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    expect: list[Expectation] = field(default_factory=list)
    # A case the model fails today, and why (a strict xfail: it must fail, so a fix is seen)
    known_miss: str = ""


def _periods(text: Any, file: str, key: str) -> list[str]:
    """``1933`` / ``"1933"``, ``"1933-03"``, or a range ``"1930..1933"`` of either kind."""
    text = str(text)
    lo, _, hi = text.partition("..")
    hi = hi or lo
    allowed = "a year (1933), a month (\"1933-03\") or a range (\"1930..1933\")"
    if re.fullmatch(r"\d{4}", lo) and re.fullmatch(r"\d{4}", hi):
        years = range(int(lo), int(hi) + 1)
        if not years or years[0] < calendar.START_YEAR or years[-1] > calendar.END_YEAR:
            raise InputError(file, key, f"{text!r} is outside {calendar.START_YEAR}..{calendar.END_YEAR}")
        return [str(y) for y in years]
    if re.fullmatch(r"\d{4}-\d{2}", lo) and re.fullmatch(r"\d{4}-\d{2}", hi):
        try:
            a, b = calendar.parse_month(lo), calendar.parse_month(hi)
        except ValueError:
            raise InputError(file, key, f"{text!r} is not a month of the run", allowed) from None
        if b < a:
            raise InputError(file, key, f"{text!r} ends before it starts")
        return [calendar.label(m) for m in range(a, b + 1)]
    raise InputError(file, key, f"{text!r} is not a period", allowed)


def _number(value: Any, file: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(file, key, f"{value!r} is not a number")
    return float(value)


def _expectation(raw: Any, period: Any, file: str, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise InputError(file, where, "expected a table ([[case.expect]])")
    unknown = set(raw) - EXPECT_KEYS
    if unknown:
        raise InputError(file, f"{where}.{sorted(unknown)[0]}", "unknown key",
                         ", ".join(sorted(EXPECT_KEYS)))
    variable = raw.get("variable")
    if variable not in BY_NAME:
        raise InputError(file, f"{where}.variable", f"unknown output {variable!r}",
                         "a variable of docs/variables.md")
    region = raw.get("region", USSR)
    if region not in (*REGIONS, USSR):
        raise InputError(file, f"{where}.region", f"unknown region {region!r}",
                         ", ".join((*REGIONS, USSR)))
    change = raw.get("change")
    if change is not None and change not in CHANGES:
        raise InputError(file, f"{where}.change", f"{change!r}", ", ".join(sorted(CHANGES)))
    if change is None and "min" not in raw and "max" not in raw:
        raise InputError(file, where, "says nothing to check", "change, min, max")
    if "at_least" in raw and change not in ("up", "down"):
        raise InputError(file, f"{where}.at_least", "needs change = \"up\" or \"down\"")
    e = Expectation(variable, region, _periods(raw.get("period", period), file, f"{where}.period"),
                    change=change)
    if "at_least" in raw:
        e.at_least = _number(raw["at_least"], file, f"{where}.at_least")
    for bound in ("min", "max"):
        if bound in raw:
            setattr(e, bound, _number(raw[bound], file, f"{where}.{bound}"))
    return e


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_cases(path: Path) -> list[Case]:
    """The cases of one file, checked: every error names the file, the key and what is allowed."""
    file = str(path.relative_to(CASES.parent.parent)) if path.is_relative_to(CASES.parent.parent) else str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(file, "(file)", f"not valid TOML: {exc}") from None
    if set(raw) != {"case"} or not isinstance(raw["case"], list) or not raw["case"]:
        raise InputError(file, "(file)", "expected one or more [[case]] tables and nothing else")
    cases, seen = [], set()
    for i, item in enumerate(raw["case"]):
        where = f"case[{i}]"
        if not isinstance(item, dict):
            raise InputError(file, where, "expected a table")
        unknown = set(item) - CASE_KEYS
        if unknown:
            raise InputError(file, f"{where}.{sorted(unknown)[0]}", "unknown key",
                             ", ".join(sorted(CASE_KEYS)))
        for key in REQUIRED:
            if not item.get(key):
                raise InputError(file, f"{where}.{key}", "missing")
        name = str(item["name"])
        where = f"case {name!r}"
        if name in seen:
            raise InputError(file, f"{where}.name", "two cases of this file have this name")
        seen.add(name)
        scenario = item.get("scenario", "historical")
        if scenario not in shipped_scenarios():
            raise InputError(file, f"{where}.scenario", f"unknown scenario {scenario!r}",
                             ", ".join(sorted(shipped_scenarios())))
        changes = item.get("change", [])
        parameters = item.get("parameters", {})
        if not changes and not parameters:
            raise InputError(file, where, "changes nothing", "[[case.change]] or [case.parameters]")
        if not isinstance(parameters, dict):
            raise InputError(file, f"{where}.parameters", "expected a table of name = value")
        expect = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        case = Case(id=f"{path.stem}:{_slug(name)}", file=file, name=name, why=str(item["why"]),
                    scenario=scenario, changes=changes, parameters=parameters,
                    expect=[_expectation(e, item["period"], file, f"{where}.expect[{j}]")
                            for j, e in enumerate(expect)],
                    known_miss=str(item.get("known_miss", "")))
        if all(e.change == "same" and e.min is None and e.max is None for e in case.expect):
            # "same" alone would pass whatever the model does (it cannot be turned round)
            raise InputError(file, f"{where}.expect", "only change = \"same\": add an up, down "
                             "or a band (min, max) that the change must produce")
        # the inputs are checked as a scenario file's and a calibration file's are
        _runs(case)
        cases.append(case)
    return cases


_RUNS: dict[str, Any] = {}


def _run(scenario: str, changes: list[dict], parameters: dict, label: str, name: str = ""):
    key = json.dumps([scenario, changes, parameters], sort_keys=True, default=str)
    if key not in _RUNS:
        sc = scenario_from_dict({"name": name or scenario, "extends": scenario,
                                 "change": changes}, label=label) if changes else scenario
        _RUNS[key] = (sc, parameters)
    return key


def _runs(case: Case) -> tuple[str, str]:
    """Keys of the unchanged and the changed run (the scenario and parameters are checked)."""
    from sovsim.api import shipped_parameters

    label = f"{case.file}: case {case.name!r}"
    changed = _run(case.scenario, case.changes, case.parameters, label,
                   name=("case-" + case.id.replace(":", "-"))[:80])  # a scenario name: 80 characters at most
    if case.parameters:
        try:
            shipped_parameters().with_overrides(case.parameters)
        except SovsimError as exc:
            raise InputError(case.file, f"case {case.name!r}.parameters", str(exc)) from None
    return _run(case.scenario, [], {}, case.scenario), changed


def result(key: str):
    """The run of a key, made once per session (the unchanged runs are shared by the cases)."""
    entry = _RUNS[key]
    if isinstance(entry, tuple):
        sc, parameters = entry
        _RUNS[key] = entry = run(sc, overrides=parameters or None)
    return entry


def _value(res, e: Expectation, period: str) -> float:
    freq = "annual" if len(period) == 4 else "monthly"
    return float(res.series(e.variable, e.region, freq=freq)[period])


def failures(case: Case, expectations: list[Expectation] | None = None) -> list[str]:
    """What the runs contradict: one line per expectation and period."""
    base_key, changed_key = _runs(case)
    base, changed = result(base_key), result(changed_key)
    out = []
    for e in expectations or case.expect:
        for period in e.periods:
            b, c = _value(base, e, period), _value(changed, e, period)
            rel = (c - b) / abs(b) if b else (0.0 if c == b else float("inf") * (1 if c > b else -1))
            said = f"{e.variable} ({e.region}, {period}): {b:.6g} unchanged, {c:.6g} changed ({rel:+.2%})"
            if e.change == "up" and not rel > max(e.at_least, NOISE):
                out.append(f"{said}: expected up" + (f" by at least {e.at_least:.2%}" if e.at_least else ""))
            elif e.change == "down" and not rel < -max(e.at_least, NOISE):
                out.append(f"{said}: expected down" + (f" by at least {e.at_least:.2%}" if e.at_least else ""))
            elif e.change == "same" and abs(rel) > NOISE:
                out.append(f"{said}: expected the same")
            if e.min is not None and not c >= e.min:
                out.append(f"{said}: expected at least {e.min:g}")
            if e.max is not None and not c <= e.max:
                out.append(f"{said}: expected at most {e.max:g}")
    return out


def reversed_expectations(case: Case) -> list[Expectation]:
    """Each expectation turned round: the opposite direction; a band checked on the unchanged
    run (a case whose band the unchanged run meets too shows nothing about the change)."""
    flip = {"up": "down", "down": "up"}
    out = []
    for e in case.expect:
        if e.change in flip:
            out.append(Expectation(e.variable, e.region, e.periods, change=flip[e.change]))
    return out


def _collect() -> list:
    params = []
    for path in sorted(CASES.glob("*.toml")):
        try:
            params += [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(
                strict=True, reason=f"known miss: {c.known_miss}")] if c.known_miss else [])
                for c in load_cases(path)]
        except SovsimError as exc:  # a broken file is one failing test that says what is wrong
            params.append(pytest.param(str(exc), id=f"{path.stem}:(file)"))
    return params


ALL = _collect()


@pytest.mark.parametrize("case", ALL)
def test_case(case):
    if isinstance(case, str):
        pytest.fail(case, pytrace=False)
    wrong = failures(case)
    if wrong:
        pytest.fail(f"{case.file}: {case.name}\n  " + "\n  ".join(wrong), pytrace=False)


@pytest.mark.parametrize("case", [
    pytest.param(p.values[0], id=p.id, marks=[pytest.mark.xfail(
        strict=False, reason=f"known miss: {p.values[0].known_miss}")]
        if p.values[0].known_miss else [])
    for p in ALL if not isinstance(p.values[0], str)])
def test_case_would_fail_if_the_response_were_reversed(case):
    """No case passes whatever the model does: turned round, each direction fails in every
    period, and each band is not met by the unchanged run in some period."""
    vacuous = []
    for e in reversed_expectations(case):
        for period in e.periods:
            one = Expectation(e.variable, e.region, [period], change=e.change)
            if not failures(case, [one]):
                vacuous.append(f"turned round, {one.describe()} holds too")
    base = result(_runs(case)[0])
    for e in case.expect:
        if e.min is None and e.max is None:
            continue
        if all((e.min is None or _value(base, e, p) >= e.min)
               and (e.max is None or _value(base, e, p) <= e.max) for p in e.periods):
            vacuous.append(f"the unchanged run meets {e.describe()} too")
    if vacuous:
        pytest.fail(f"{case.file}: {case.name}\n  " + "\n  ".join(vacuous), pytrace=False)


BAD = [
    ('[[case]]\nname = "x"\nwhy = "y"\nperiod = 1933\n[[case.change]]\ndate = "1932-07"\n'
     'instrument = "no_such"\nvalue = 0\n[[case.expect]]\nvariable = "grain_exports_t"\nchange = "down"\n',
     "no_such"),
    ('[[case]]\nname = "x"\nwhy = "y"\nperiod = 1933\n[[case.change]]\ndate = "1932-07"\n'
     'instrument = "passports"\nvalue = true\n[[case.expect]]\nvariable = "no_output"\nchange = "down"\n',
     "unknown output 'no_output'"),
    ('[[case]]\nname = "x"\nwhy = "y"\nperiod = 1950\n[case.parameters]\n"livestock.no" = 1\n'
     '[[case.expect]]\nvariable = "horses_head"\nchange = "up"\n', "outside 1921..1940"),
    ('[[case]]\nname = "x"\nwhy = "y"\nperiod = 1933\n[case.parameters]\n"livestock.no" = 1\n'
     '[[case.expect]]\nvariable = "horses_head"\nchange = "up"\n', "livestock.no"),
    ('[[case]]\nname = "x"\nwhy = "y"\nperiod = 1933\n[case.parameters]\n"livestock.no" = 1\n'
     '[[case.expect]]\nvariable = "horses_head"\nchange = "sideways"\n', "change: 'sideways'"),
    ('[[case]]\nname = "x"\nwhy = "y"\nperiod = 1933\n[[case.expect]]\nvariable = "horses_head"\n'
     'change = "up"\n', "changes nothing"),
    ('[[case]]\nname = "x"\nperiod = 1933\n', "why: missing"),
    ('[[case]]\nname = "x"\nwhy = "y"\nperod = 1933\n', "perod: unknown key"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[m for _, m in BAD])
def test_a_bad_case_file_says_what_is_wrong_and_where(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_cases(path)
    assert "bad.toml" in str(info.value)
