"""The model against the historical record, honestly (``sovsim validate``): the fit on the
declared calibration targets, every series and year never fitted (out of sample), and every
variant with its grade, misses included.

A historical row is compared with what the model produces over the same span, by the kind of
its series (``data/history/kinds.toml``, ``history.kinds``): a stock with the stock at the date
(``YYYY-MM-01``: the end of the month before; another day: the end of its month; ``YYYY``: the
mid-year count), a calendar-year flow with the sum over January-December, a crop-year flow
(exports, procurement) with the sum over July-June, a cumulative figure (deportations of
1930-31, famine totals) with the sum over the span its note names, an index or annual average
with the year's mean. Plans are inputs and are compared with nothing.

Only usable rows score the model (graded above ``popular``, not excluded as inflated, on other
borders or of another quantity: ``data/grades.toml``), and of those the best-graded at each
period; several such rows make a band, and a model value inside the band is no miss. Weak and
excluded rows are listed in the variants table with their grade, never scored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from sovsim import calendar, history
from sovsim.engine.accounts import BY_NAME
from sovsim.history import targets as declared
from sovsim.regions import REGIONS, USSR
from sovsim.results.results import REGION_LABELS, Results

FIT_FROM, FIT_TO = 1926, 1940
#: The kind a series has when kinds.toml does not declare it, by its variable's annual rule.
RULE_KIND = {"june": "stock", "sum": "flow-calendar-year", "harvest_year_sum": "flow-crop-year",
             "mean": "year-average", "index_own_1928": "year-average", "ratio_own_1928": "year-average"}
HEADLINE = ("grain_harvest_t", "grain_procurement_t", "horses_head", "cattle_head",
            "urban_population_persons", "collectivized_share")


@dataclass(frozen=True)
class Point:
    series: str
    region: str
    variant: str
    period: str
    history: float
    model: float
    source: str
    grade: str = ""
    kind: str = ""
    usable: bool = True
    excluded: str = ""

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def ape(self) -> float:
        return abs(self.model - self.history) / abs(self.history) if self.history else np.nan


# Where a historical row's counterpart lies in a run: (variable, column, how, at) with how
# "annual" (at: the year's index; the variable's annual rule), "month" (at: one month, the
# record's value) or "months" (at: months whose records are summed); None when the model has
# no counterpart.
Where = tuple[str, int, str, tuple[int, ...]]


def model_value(res: Results, series: str, region: str, period: str, note: str = "",
                variant: str = "") -> float:
    """The model's value comparable to one historical row; NaN if not comparable."""
    where = locate(series, region, period, note, variant)
    return np.nan if where is None else _value(res, where)


def kind_of(series: str, variant: str = "") -> tuple[str, str] | None:
    """(kind, model variable) of a series' variant; None when the model has no counterpart.
    A series the model has but kinds.toml does not declare is compared by the variable's own
    annual rule (a test requires every such series to be declared)."""
    k = history.kinds().get(series)
    if k is not None:
        return (k.of(variant), k.model) if k.model in BY_NAME or k.kind == "plan" else None
    if series not in BY_NAME:
        return None
    return RULE_KIND[BY_NAME[series].annual], series


def locate(series: str, region: str, period: str, note: str = "", variant: str = "") -> Where | None:
    """Where the model's value comparable to one historical row lies (``model_value``)."""
    found = kind_of(series, variant)
    if found is None or found[0] == "plan" or region not in REGION_LABELS:
        return None
    kind, variable = found
    if region != USSR and not BY_NAME[variable].regional:
        return None
    year = int(period[:4])
    if not calendar.START_YEAR <= year <= calendar.END_YEAR:
        return None
    col = REGION_LABELS.index(region)
    y = year - calendar.START_YEAR
    rule = BY_NAME[variable].annual
    if kind == "cumulative":
        years = history.span(note)
        if years is None or not calendar.START_YEAR <= years[0] <= year:
            return None
        if len(period) == 4:  # a total over whole years: to the December of the span's end
            if not years[0] <= years[1] <= calendar.END_YEAR:
                return None
            last = (years[1] - calendar.START_YEAR) * 12 + 11
        else:
            last = _month_of_date(period)
        first = (years[0] - calendar.START_YEAR) * 12
        return (variable, col, "months", tuple(range(first, last + 1))) if last >= first else None
    if len(period) > 4:  # a dated row: a stock at the date, or a month's flow or average
        month = _month_of_date(period) if kind == "stock" else calendar.parse_month(period[:7])
        return (variable, col, "month", (month,)) if month >= 0 else None
    if kind == "flow-crop-year":
        months = tuple(range(y * 12 + 6, y * 12 + 18))
        return (variable, col, "months", months) if months[-1] < calendar.N_MONTHS else None
    if kind == "flow-calendar-year" and rule == "harvest_year_sum":
        return variable, col, "months", tuple(range(y * 12, y * 12 + 12))
    return variable, col, "annual", (y,)


def _month_of_date(period: str) -> int:
    """The month whose end a dated count stands for: a count on the 1st is the stock at the end
    of the month before."""
    month = calendar.parse_month(period[:7])
    return month - 1 if len(period) == 10 and period.endswith("-01") else month


def _value(res: Results, where: Where) -> float:
    variable, col, how, at = where
    if how == "month":
        return float(res.records[variable][at[0], col])
    if how == "months":
        return float(res.records[variable][list(at), col].sum())
    return float(res.values(variable, REGION_LABELS[col])[at[0]])


def _plan_of(df: pd.DataFrame) -> tuple[tuple[Point, Where], ...]:
    out = []
    for row in df.itertuples(index=False):
        where = locate(row.series, row.region, row.period, row.note, row.variant)
        if where is not None:
            found = kind_of(row.series, row.variant)
            out.append((Point(row.series, row.region, row.variant, row.period, float(row.value),
                              np.nan, row.source, row.grade, found[0], bool(row.usable),
                              row.excluded), where))
    return tuple(out)


@lru_cache(maxsize=1)
def _plan() -> tuple[tuple[Point, Where], ...]:
    """Every historical row the model has a counterpart for, and where it lies (made once:
    the record does not change)."""
    return _plan_of(history.load())


def _evaluate(res: Results, plan) -> list[Point]:
    out = []
    for point, where in plan:
        val = _value(res, where)
        if not np.isnan(val):
            out.append(replace(point, model=val))
    return out


def points(res: Results) -> list[Point]:
    """Every historical row that the model has a counterpart for."""
    return _evaluate(res, _plan())


def band_error(model: float, lo: float, hi: float) -> float:
    """The relative distance of ``model`` from the band [lo, hi] (zero inside)."""
    if lo <= model <= hi:
        return 0.0
    edge = lo if model < lo else hi
    return abs(model - edge) / abs(edge) if edge else np.nan


def bands_of(rows: pd.DataFrame) -> list[tuple[str, str, str, Where, pd.DataFrame]]:
    """``rows`` (chosen history rows) grouped into bands: the rows of one series, region and
    period whose model counterpart is the same (cumulative totals over different spans are
    different bands); rows without a counterpart are left out."""
    if rows.empty:
        return []
    wheres = [locate(r.series, r.region, r.period, r.note, r.variant)
              for r in rows.itertuples(index=False)]
    keep = [w is not None for w in wheres]
    rows = rows[keep].assign(_where=[w for w in wheres if w is not None])
    out = []
    for (series, region, period, where), g in rows.groupby(["series", "region", "period", "_where"],
                                                            sort=True):
        out.append((series, region, period, where, g.drop(columns="_where")))
    return out


def _scored(res: Results, rows: pd.DataFrame) -> list[dict]:
    """Per band of ``rows`` (chosen history rows): the band and the model's value."""
    out = []
    for series, region, period, where, g in bands_of(rows):
        r = g.iloc[0]
        model = _value(res, where)
        vals = g["value"].astype(float)
        out.append({"series": series, "region": region, "period": period,
                    "lo": float(vals.min()), "hi": float(vals.max()), "model": model,
                    "error": band_error(model, float(vals.min()), float(vals.max())),
                    "grade": ", ".join(sorted(set(g["grade"]), key=history.RANK.get)),
                    "variants": ", ".join(sorted(set(g["variant"]))),
                    "sources": ", ".join(sorted(set(g["source"]))),
                    "kind": kind_of(series, r["variant"])[0]})
    return out


def fit_points(res: Results) -> pd.DataFrame:
    """The declared targets' points, period by period: band of the chosen rows, the model."""
    rows = []
    df = history.load()
    for t in declared.targets():
        for p in _scored(res, declared.target_rows(t, df)):
            rows.append({"target": f"{t.series}:{t.region}", **p})
    return pd.DataFrame(rows)


def out_of_sample_points(res: Results) -> pd.DataFrame:
    """The points never fitted (usable, best-graded), period by period."""
    return pd.DataFrame(_scored(res, declared.out_of_sample()))


def _summary(pts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if pts.empty:
        return pd.DataFrame(columns=[*by, "n", "years", "mape", "inside", "grade", "kind", "sources"])
    rows = []
    for group, g in pts.groupby(by, sort=False):
        key = group if isinstance(group, tuple) else (group,)
        years = g["period"].str[:4].astype(int)
        rows.append({**dict(zip(by, key)), "n": len(g),
                     "years": f"{years.min()}-{years.max()}" if years.min() != years.max() else str(years.min()),
                     "mape": float(np.nanmean(g["error"])),
                     "inside": int((g["error"] == 0).sum()),
                     "grade": ", ".join(sorted({x for s in g["grade"] for x in s.split(", ")},
                                               key=history.RANK.get)),
                     "kind": ", ".join(sorted(set(g["kind"]))),
                     "sources": ", ".join(sorted({x for s in g["sources"] for x in s.split(", ")}))})
    return pd.DataFrame(rows)


def fit_table(res: Results) -> pd.DataFrame:
    """One row per declared target: its rule, weight, points, mean relative miss from the band
    of the chosen rows (``mape``; zero inside the band) and points inside the band."""
    pts = fit_points(res)
    summary = _summary(pts, ["target"])
    rows = []
    for t in declared.targets():
        key = f"{t.series}:{t.region}"
        s = summary[summary["target"] == key]
        base = {"series": t.series, "region": t.region, "years": f"{t.first}-{t.last}",
                "rule": t.rule, "weight": t.weight}
        if len(s):
            r = s.iloc[0]
            rows.append({**base, "n": int(r["n"]), "mape": r["mape"], "inside": int(r["inside"]),
                         "grade": r["grade"], "kind": r["kind"], "sources": r["sources"]})
        else:
            rows.append({**base, "n": 0, "mape": np.nan, "inside": 0, "grade": "",
                         "kind": "", "sources": "no usable rows"})
    return pd.DataFrame(rows)


def out_of_sample_table(res: Results) -> pd.DataFrame:
    """One row per (series, region) never fitted: points (all years with usable rows), mean
    relative miss from the band of the best-graded rows, points inside it."""
    pts = out_of_sample_points(res)
    out = _summary(pts, ["series", "region"])
    return out.sort_values(["series", "region"]).reset_index(drop=True) if len(out) else out


def table(res: Results) -> pd.DataFrame:
    """Every (series, region, variant) with its grade, points in 1926-1940 and mean absolute
    percentage error; ``scored`` says whether its rows can score the model (usable), and
    ``excluded`` why not when they are excluded. No variant is chosen for being near."""
    pts = [p for p in points(res) if FIT_FROM <= p.year <= FIT_TO]
    rows = []
    for key in sorted({(p.series, p.region, p.variant) for p in pts}):
        sel = [p for p in pts if (p.series, p.region, p.variant) == key]
        apes = [p.ape for p in sel if not np.isnan(p.ape)]
        rows.append({"series": key[0], "region": key[1], "variant": key[2], "n": len(sel),
                     "mape": float(np.mean(apes)) if apes else np.nan,
                     "grade": ", ".join(sorted({p.grade for p in sel}, key=history.RANK.get)),
                     "kind": ", ".join(sorted({p.kind for p in sel})),
                     "scored": all(p.usable for p in sel),
                     "excluded": ", ".join(sorted({p.excluded for p in sel if p.excluded})),
                     "sources": ", ".join(sorted({p.source for p in sel}))})
    return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def famine_range() -> tuple[float, float]:
    """The band of the best-graded usable USSR estimates of excess deaths in 1930-34 (the
    calibration's band ``famine_1930_34``): forum and blog compilations never widen it."""
    return declared.band_range(declared.band("famine_1930_34"))


def famine_check(res: Results) -> dict:
    """1930-34 excess deaths against the band of the best-graded published USSR totals, and
    the regions ranked by deaths per head."""
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


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]


def famine_validation(res: Results) -> dict:
    """The famine where and when it happened (``results.famine``): per-head losses by region
    and their order, Ukraine and Kazakhstan against the reconstructions, the calendar of
    1932-34, no famine in 1935-40 on the 1932-33 scale, the state's stocks, births by year;
    tables as lists of records (JSON), verdicts as they are."""
    from sovsim.results import famine

    rep = famine.report(famine.frames(res))
    months = rep["months"].reset_index(names="month")
    return {k: (_records(months) if k == "months" else
                _records(v) if isinstance(v, pd.DataFrame) else v) for k, v in rep.items()}


def report(res: Results, scenario: str = "historical") -> dict:
    """Everything ``sovsim validate --json`` prints: the fit on the declared targets and the
    out-of-sample series (each with its points: period, band of the chosen rows, model), every
    variant with its grade and points, the famine and collectivization checks."""
    fit_pts, oos_pts = fit_points(res), out_of_sample_points(res)
    pts = [p for p in points(res) if FIT_FROM <= p.year <= FIT_TO]

    def with_points(table: pd.DataFrame, pts_df: pd.DataFrame, key) -> list[dict]:
        out = []
        for row in _records(table):
            sel = pts_df[key(pts_df, row)] if len(pts_df) else pts_df
            out.append({**row, "points": _records(sel[["period", "lo", "hi", "model", "error",
                                                       "grade", "variants"]])})
        return out

    return {
        "scenario": scenario,
        "fit": with_points(fit_table(res), fit_pts,
                           lambda d, r: d["target"] == f"{r['series']}:{r['region']}"),
        "out_of_sample": with_points(out_of_sample_table(res), oos_pts,
                                     lambda d, r: (d["series"] == r["series"]) & (d["region"] == r["region"])),
        "series": [{**row, "points": [{"period": p.period, "history": p.history, "model": p.model}
                                      for p in pts if (p.series, p.region, p.variant) ==
                                      (row["series"], row["region"], row["variant"])]}
                   for row in _records(table(res))],
        "famine": famine_check(res),
        "famine_validation": famine_validation(res),
        "collectivization": collectivization_check(res),
    }
