"""The model against the historical record, honestly: every series with history, every
variant, misses included (``sovsim validate``).

A historical point is matched to the model by its period: ``YYYY`` to the annual value (by the
variable's annual rule), ``YYYY-MM`` to that month, and a dated count ``YYYY-MM-DD`` on the
first of a month to the end of the month before (a 1 January count is the stock at the end of
December). Multi-year famine totals (``excess_deaths_total_persons``) are compared to the
model's sum over the years named in the row's note (default 1930 to the row's year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from sovsim import calendar, history
from sovsim.engine.accounts import BY_NAME
from sovsim.regions import REGIONS, USSR
from sovsim.results.results import REGION_LABELS, Results

FIT_FROM, FIT_TO = 1926, 1940
HEADLINE = ("grain_harvest_t", "grain_procurement_t", "horses_head", "cattle_head",
            "urban_population_persons", "collectivized_share")
TOTALS = {"excess_deaths_total_persons": "excess_deaths_persons"}
RANGE = re.compile(r"(19\d\d)\s*[-–/]\s*(19\d\d|\d\d)")


@dataclass(frozen=True)
class Point:
    series: str
    region: str
    variant: str
    period: str
    history: float
    model: float
    source: str

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def ape(self) -> float:
        return abs(self.model - self.history) / abs(self.history) if self.history else np.nan


def model_value(res: Results, series: str, region: str, period: str, note: str = "") -> float:
    """The model's value comparable to one historical row; NaN if not comparable."""
    where = locate(series, region, period, note)
    return np.nan if where is None else _value(res, where)


# Where a historical row's counterpart lies in a run: (variable, column, "annual" or
# "monthly", the years or the month); None when the model has none.
Where = tuple[str, int, str, tuple[int, ...]]


def locate(series: str, region: str, period: str, note: str = "") -> Where | None:
    """Where the model's value comparable to one historical row lies (``model_value``)."""
    if region not in REGION_LABELS or not calendar.START_YEAR <= int(period[:4]) <= calendar.END_YEAR:
        return None
    col = REGION_LABELS.index(region)
    if series in TOTALS:
        first, last = _years(note, int(period[:4]))
        if not calendar.START_YEAR <= first <= last <= calendar.END_YEAR:
            return None
        return TOTALS[series], col, "annual", tuple(range(first - calendar.START_YEAR,
                                                          last - calendar.START_YEAR + 1))
    if series not in BY_NAME or (region != USSR and not BY_NAME[series].regional):
        return None
    if len(period) == 4:
        return series, col, "annual", (int(period) - calendar.START_YEAR,)
    month = calendar.parse_month(period[:7])
    if len(period) == 10 and period.endswith("-01") and BY_NAME[series].annual in ("june",):
        month -= 1  # a count on the first of the month is the stock at the end of the last
    if month < 0:
        return None
    return series, col, "monthly", (month,)


def _value(res: Results, where: Where) -> float:
    variable, col, freq, at = where
    if freq == "monthly":
        return float(res.records[variable][at[0], col])
    annual = res.values(variable, REGION_LABELS[col])
    return float(sum(annual[i] for i in at))


def _years(note: str, year: int) -> tuple[int, int]:
    m = RANGE.search(note or "")
    if m:
        a, b = m.group(1), m.group(2)
        b = a[:2] + b if len(b) == 2 else b
        return int(a), int(b)
    return 1930, year


@lru_cache(maxsize=1)
def _plan() -> tuple[tuple[Point, Where], ...]:
    """Every historical row the model has a counterpart for, and where it lies (made once:
    the record does not change; a calibration asks for it at every run)."""
    out = []
    for row in history.load().itertuples(index=False):
        where = locate(row.series, row.region, row.period, row.note)
        if where is not None:
            out.append((Point(row.series, row.region, row.variant, row.period,
                              float(row.value), np.nan, row.source), where))
    return tuple(out)


def points(res: Results) -> list[Point]:
    """Every historical row that the model has a counterpart for."""
    out = []
    for point, where in _plan():
        val = _value(res, where)
        if not np.isnan(val):
            out.append(replace(point, model=val))
    return out


def table(res: Results) -> pd.DataFrame:
    """One row per (series, region, variant): points in 1926-1940 and the mean absolute
    percentage error; ``nearest`` marks the variant the model is closest to."""
    pts = [p for p in points(res) if FIT_FROM <= p.year <= FIT_TO]
    rows = []
    for key in sorted({(p.series, p.region, p.variant) for p in pts}):
        sel = [p for p in pts if (p.series, p.region, p.variant) == key]
        apes = [p.ape for p in sel if not np.isnan(p.ape)]
        rows.append({"series": key[0], "region": key[1], "variant": key[2], "n": len(sel),
                     "mape": float(np.mean(apes)) if apes else np.nan,
                     "sources": ", ".join(sorted({p.source for p in sel}))})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    best = out.groupby(["series", "region"])["mape"].transform("min")
    out["nearest"] = out["mape"] == best
    return out


@lru_cache(maxsize=1)
def famine_range() -> tuple[float, float]:
    """The lowest and highest published estimates of USSR excess deaths in 1930-34."""
    df = history.load("excess_deaths_total_persons")
    years = df["period"].str[:4].astype(int)
    ussr = df[(df["region"] == USSR) & years.between(1930, 1934)]["value"].astype(float)
    return float(ussr.min()), float(ussr.max())


def famine_check(res: Results) -> dict:
    """1930-34 excess deaths against the range of published USSR totals, and the regions
    ranked by deaths per head."""
    lo, hi = famine_range()
    model_total = float(sum(res.series("excess_deaths_persons")[str(y)] for y in range(1930, 1935)))
    per_head = {}
    for r in REGIONS:
        deaths = sum(res.series("excess_deaths_persons", r)[str(y)] for y in range(1930, 1935))
        pop = res.series("rural_population_persons", r)["1930"]
        per_head[r] = float(deaths / pop) if pop else 0.0
    ranked = sorted(per_head, key=per_head.get, reverse=True)
    return {
        "model_excess_deaths_1930_1934": model_total,
        "published_min": lo, "published_max": hi,
        "inside_range": bool(lo <= model_total <= hi),
        "regions_by_deaths_per_head": ranked,
        "deaths_per_head_1930_1934": per_head,
        "ukraine_and_kazakhstan_worst": set(ranked[:2]) == {"ukraine", "kazakhstan"},
    }


def collectivization_check(res: Results) -> dict:
    """The spring-1930 surge and retreat in the monthly output."""
    s = res.series("collectivized_share", USSR, freq="monthly")
    peak_month = s["1929-10":"1930-06"].idxmax()
    peak = float(s[peak_month])
    after = float(s["1930-07"])
    return {"peak_month": peak_month, "peak_share": peak, "share_1930_07": after,
            "surge_and_retreat": bool(peak > float(s["1929-10"]) + 0.1 and after < peak - 0.1)}
