"""What the web app computes, apart from HTTP: a run's payload (series beside the historical run
and the historical record, the doctrine lens, a narrative), the catalogue, the history.

Pure functions of their arguments, picklable in and out, so the app can hand runs to worker
processes. The app calls the same public API as the command line (``sovsim.run``).
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from sovsim import calendar, history
from sovsim.engine.accounts import BY_NAME
from sovsim.engine.simulation import Trace, simulate_traced, stacked_timeline
from sovsim.inputs import load_inputs
from sovsim.regions import USSR
from sovsim.research import doctrine
from sovsim.results import validate
from sovsim.scenario import catalogue, load_scenario, scenario_from_dict, shipped_scenarios
from sovsim.scenario.loader import Scenario
from sovsim.web.narrative import famine_text, narrative
from sovsim.words import instrument_words, variant_label

YEARS = list(range(1921, 1941))
# The charts of the page: variable, label, display scale, display unit.
CHARTS: tuple[tuple[str, str, float, str], ...] = (
    ("grain_harvest_t", "Grain harvest", 1e6, "million t"),
    ("grain_procurement_t", "Grain procurement (harvest year)", 1e6, "million t"),
    ("grain_exports_t", "Grain exports", 1e6, "million t"),
    ("excess_deaths_persons", "Excess deaths", 1e3, "thousand persons"),
    ("urban_population_persons", "Urban population", 1e6, "million persons"),
    ("industrial_output_index", "Industrial output", 1.0, "index, 1928 = 100"),
    ("collectivized_share", "Households in kolkhozy", 0.01, "%"),
    ("horses_head", "Horses", 1e6, "million head"),
    ("cattle_head", "Cattle", 1e6, "million head"),
    ("food_kcal_per_person_day", "Food energy", 1.0, "kcal per person per day"),
    ("deported_persons", "Persons deported", 1e3, "thousand persons"),
    ("gdp_per_capita_index", "Gross output per head", 1.0, "index, 1928 = 100"),
)


def instruments() -> list[dict[str, Any]]:
    """The instrument catalogue, as the page's timeline editor needs it."""
    out = []
    for inst in catalogue().values():
        out.append({"name": inst.name, "kind": inst.kind, "unit": inst.unit, "doc": inst.doc,
                    "default": inst.default, "min": inst.min, "max": inst.max,
                    "choices": list(inst.choices), "regional": inst.regional,
                    **instrument_words(inst.name, inst.unit)})
    return out


def scenarios() -> list[dict[str, Any]]:
    out = []
    for name in sorted(shipped_scenarios()):
        sc = load_scenario(name)
        out.append({"name": name, "title": sc.title, "description": sc.description,
                    "extends": sc.parent, "diverge": None if sc.diverge is None
                    else calendar.label(sc.diverge)})
    return out


def scenario_content(name: str) -> dict[str, Any]:
    """A shipped scenario as the page edits it: its own keys and changes, ``extends`` kept."""
    import tomllib

    raw = tomllib.loads(shipped_scenarios()[name].read_text(encoding="utf-8"))
    return as_request(raw)


def as_request(raw: dict[str, Any]) -> dict[str, Any]:
    """The content of a scenario file in the page's shape (``changes`` for ``[[change]]``)."""
    out = {k: raw[k] for k in ("name", "title", "description", "extends", "diverge") if k in raw}
    out["changes"] = [dict(c) for c in raw.get("change", [])]
    return out


def as_file(req: dict[str, Any]) -> dict[str, Any]:
    """The page's shape back to the content of a scenario file."""
    out = {k: v for k, v in req.items() if k != "changes" and v is not None}
    out["change"] = [{k: v for k, v in c.items() if v is not None} for c in req.get("changes", [])]
    return out


def build(req: dict[str, Any]) -> Scenario:
    """Validate the page's scenario with the checks of a file (raises ScenarioError)."""
    return scenario_from_dict(as_file(req), label="scenario")


@lru_cache(maxsize=1)
def _historical() -> tuple[dict, dict, pd.DataFrame]:
    res = _run(load_scenario("historical"), pin=True)
    return _series(res), _doctrine(res), doctrine.indicators(res)


def _series(res) -> dict[str, list[float | None]]:
    out = {}
    for var, _, scale, _ in CHARTS:
        out[var] = _list(res.values(var) / scale)
    return out


def _list(values: np.ndarray) -> list[float | None]:
    """JSON numbers, None where undefined (JSON has no NaN)."""
    return [None if not math.isfinite(x) else round(x, 6) for x in values.tolist()]


def _doctrine(res) -> dict[str, Any]:
    defs, val, dist = doctrine.indicator_arrays(res)
    return {
        "indicators": {ind.name: {"value": _list(val[i]), "distance": _list(dist[i])}
                       for i, ind in enumerate(defs.indicators)},
        "axes": {axis: _list(d) for axis, d in doctrine.axis_distances(defs, dist).items()},
    }


# The last runs of this process, kept so that a scenario which shares its first years with one
# of them starts from that run's state in the January before they part (bitwise the same
# numbers as a run from 1921; engine/simulation.py). Classroom scenarios mostly extend a
# shipped one and change it from some year on.
_TRACES: OrderedDict[str, Trace] = OrderedDict()
KEEP_TRACES = 16


_PINNED: dict[str, Trace] = {}  # the historical run's, never dropped
_LOCK = threading.Lock()


def _run(sc: Scenario, pin: bool = False):
    from sovsim import api

    p, inputs = api.shipped_parameters(), load_inputs()
    timeline = stacked_timeline(sc)
    with _LOCK:  # (the app without worker processes runs requests on threads)
        kept = [*_PINNED.values(), *_TRACES.values()]
    best = max(kept, key=lambda t: t.shared_months(timeline), default=None)
    records, trace = simulate_traced(sc, p, inputs, resume=best)
    with _LOCK:
        if pin:
            _PINNED[sc.content_hash] = trace
        else:
            _TRACES[sc.content_hash] = trace
            _TRACES.move_to_end(sc.content_hash)
            while len(_TRACES) > KEEP_TRACES:
                _TRACES.popitem(last=False)
    return api.results_of(sc, p, records)


def run_payload(sc: Scenario | dict[str, Any]) -> dict[str, Any]:
    """Run a scenario (checked, or the page's content to check); return everything the page
    shows about it."""
    sc = sc if isinstance(sc, Scenario) else build(sc)
    hist_series, _, _ = _historical()  # (first: its trace starts most runs)
    res = _run(sc)
    lo, hi = validate.famine_range()
    deaths = float(res.values("excess_deaths_persons")[1930 - YEARS[0]:1935 - YEARS[0]].sum())
    return {
        "scenario": sc.name,
        "title": sc.title,
        "manifest": res.manifest,
        "years": YEARS,
        "series": _series(res),
        "doctrine": _doctrine(res),
        "famine": {"model_excess_deaths_1930_1934": deaths, "published_min": lo,
                   "published_max": hi, "inside_range": lo <= deaths <= hi},
        "famine_text": famine_text(deaths, lo, hi, _historical_policy(sc)),
        "narrative": narrative(sc, res, hist_series),
    }


def _historical_policy(sc: Scenario) -> bool:
    """Whether a scenario's changes are the historical scenario's (whatever its name)."""
    return sc.content_hash == load_scenario("historical").content_hash


def run_payload_json(sc: Scenario | dict[str, Any]) -> bytes:
    """:func:`run_payload` as JSON text (what the app sends)."""
    return json.dumps(run_payload(sc), separators=(",", ":"), allow_nan=False).encode()


def baseline_payload() -> dict[str, Any]:
    """The historical run, which the page shows beside every run: its series and its
    doctrine lens (sent once, not with every run)."""
    hist_series, hist_doctrine, _ = _historical()
    return {"scenario": "historical", "years": YEARS, "series": hist_series,
            "doctrine": hist_doctrine}


@lru_cache(maxsize=1)
def history_payload() -> dict[str, Any]:
    """The recorded series of the charts (USSR), each point with its variant and source."""
    df = history.load()
    df = df[(df["region"] == USSR) & df["series"].isin([c[0] for c in CHARTS])]
    scale = {c[0]: c[2] for c in CHARTS}
    out: dict[str, list[dict[str, Any]]] = {c[0]: [] for c in CHARTS}
    for row in df.itertuples(index=False):
        try:  # annual figures at the year, as the model's annual values are drawn
            x = calendar.decimal_year(str(row.period), annual=0.0)
        except ValueError:
            continue
        if not 1920 <= x <= 1941:  # the charts' span (1913 is in `sovsim data`)
            continue
        out[row.series].append({"x": x, "value": round(float(row.value) / scale[row.series], 6),
                                "variant": row.variant, "source": row.source,
                                "period": str(row.period)})
    bib = history.sources()
    labels: dict[str, dict[str, str]] = {}
    for var, points in out.items():
        by_variant: dict[str, set[str]] = {}
        for pt in points:
            by_variant.setdefault(pt["variant"], set()).add(pt["source"])
        labels[var] = {v: variant_label(v, srcs, bib) for v, srcs in by_variant.items()}
        for pt in points:
            entry = bib.get(pt["source"], {})
            pt["source_label"] = variant_label(pt["source"], {pt["source"]}, bib) if entry \
                else pt["source"]
    return {"charts": [{"variable": v, "label": lab, "unit": unit,
                        "doc": BY_NAME[v].doc} for v, lab, _, unit in CHARTS],
            "points": out, "variant_labels": labels}


def doctrine_payload() -> dict[str, Any]:
    return doctrine.load_definitions().as_dict()
