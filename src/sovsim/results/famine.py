"""The famine of 1930-34 where and when it happened, against the reconstructions (issue 15):
part of ``sovsim validate`` and docs/validation.md.

Five checks, each shown with its misses as they are; none of their rows is a calibration
target (``data/calibration/targets.toml`` reads none of them), so every one is out of sample:

- **per-head losses by region**: excess deaths 1930-34 over each region's 1930 population,
  and whether the regions fall in the order of the reconstructions, Kazakhstan > Ukraine >
  North Caucasus > Volga > rest (Levchuk et al. 2015, ``excess_deaths_share_of_population``);
- **Ukraine and Kazakhstan totals** against the best-graded reconstructions in the shipped data
  (``excess_deaths_total_persons``, over the span each estimate names);
- **the calendar of 1932-34**: the share of Ukraine's 1933 (rural) excess deaths that came in
  January-July (65-80 %, Wolowyna, Levchuk & Kovbasiuk 2020), the share of its 1932-34 excess
  deaths that came in 1933 (about 90 %, Rudnytskyi et al. 2015) and the rise from January to the
  peak month of 1933 (6-15 times, Wolowyna et al. 2020), and the months themselves;
- **no famine in 1935-40 on the scale of 1932-33**: each year's excess deaths against the mean
  of 1932 and 1933;
- **the state's grain stocks** against Davies, Tauger & Wheatcroft (1995) and Davies &
  Wheatcroft (2004) (``state_grain_stock_t``, any rows the data hold; none is a gap, said so).

The checks are pure pandas on what ``frames`` takes from a run (monthly excess deaths by region,
the 1930 population by region, the annual excess deaths, the state's stock by month, births by
year), so a test can give them a small made-up run.

The model has no regional towns (the towns are one national unit): a region's population is its
rural population, peasant households (``rural_population_persons``) and the special settlers
deported from it (``special_settlement_persons``), and its excess deaths are theirs. The
reconstructions
divide by the whole population of the republic, so the model's per-head figures are rural
rates beside whole-population ones; Ukraine's rural rate, 16.5 % of the 1933 rural population
(Rudnytskyi et al. 2015), is shown beside them where the data hold it.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from sovsim import history
from sovsim.markdown import table as md_table
from sovsim.regions import REGIONS, USSR

#: The order of the reconstructions, worst first (Levchuk et al. 2015 give Kazakhstan, Ukraine
#: and the RSFSR; within the RSFSR the North Caucasus above the Volga, and both above the rest:
#: issue 15, after the regional studies in ``shared/context/regional-inputs.md``).
EXPECTED_ORDER = ("kazakhstan", "ukraine", "north_caucasus", "volga", "rest")
#: The reconstructions' shares of population by model region (``rsfsr``: the rest of the RSFSR
#: is not split in the rows; it is shown beside the North Caucasus, the Volga and the rest).
SHARE_REGION = {"kazakhstan": "kazakhstan", "ukraine": "ukraine", "north_caucasus": "rsfsr",
                "volga": "rsfsr", "rest": "rsfsr"}
#: A year of 1935-40 is a famine "on the scale of 1932-33" when its excess deaths exceed this
#: share of the mean of 1932 and 1933. An assumption: the hungry year of 1936-37 was real but
#: "regional and far smaller" (issue 15); no source gives a line, so a quarter is taken and the
#: numbers are shown whatever the verdict.
LATER_FAMINE_SHARE = 0.25
FAMINE_YEARS = (1930, 1934)
#: The year the births' indices start from: the last before the collectivization drive.
BIRTHS_BASE_YEAR = 1927


# -- what a run gives ----------------------------------------------------------------------
def frames(res) -> dict:
    """What the checks read from a run (``Results``): ``monthly`` excess deaths by region
    (rows ``YYYY-MM``, columns the regions and ``USSR``, the towns' in USSR only), ``annual``
    the same by year, ``population_1930`` the regions' population in mid-1930, ``stock`` the
    state's grain stock at the end of each month (t), ``births`` births by year and
    ``population`` the population in mid-year (USSR)."""
    monthly = pd.DataFrame({r: res.series("excess_deaths_persons", r, freq="monthly")
                            for r in (USSR, *REGIONS)})
    annual = pd.DataFrame({r: res.series("excess_deaths_persons", r) for r in (USSR, *REGIONS)})
    pop = pd.Series({r: float(res.series("rural_population_persons", r)["1930"]
                              + res.series("special_settlement_persons", r)["1930"])
                     for r in REGIONS})
    return {"monthly": monthly, "annual": annual, "population_1930": pop,
            "stock": res.series("state_grain_stock_t", freq="monthly"),
            "births": res.series("births_persons"),
            "population": res.series("population_persons")}


def _rows(df: pd.DataFrame, series: str, region: str | None = None) -> pd.DataFrame:
    sel = df[df["series"] == series]
    return sel if region is None else sel[sel["region"] == region]


def _band(df: pd.DataFrame, series: str, region: str) -> tuple[float, float, str]:
    """(lo, hi, sources) of the best-graded usable rows of one series and region; NaNs and ''
    when the data hold none."""
    rows = history.best(_rows(df, series, region))
    if rows.empty:
        return np.nan, np.nan, ""
    vals = rows["value"].astype(float)
    return float(vals.min()), float(vals.max()), ", ".join(sorted(set(rows["source"])))


def _inside(x: float, lo: float, hi: float) -> bool | None:
    return None if np.isnan(lo) or np.isnan(x) else bool(lo <= x <= hi)


# -- 1. per-head losses by region -----------------------------------------------------------
def regional_losses(annual: pd.DataFrame, population_1930: pd.Series,
                    record: pd.DataFrame) -> pd.DataFrame:
    """Per region: excess deaths 1930-34, population in 1930, deaths per head, and the
    reconstruction's share of population where the data hold one (best-graded rows of
    ``excess_deaths_share_of_population``); rows worst first, as the model ranks them."""
    years = [str(y) for y in range(FAMINE_YEARS[0], FAMINE_YEARS[1] + 1)]
    rows = []
    for r in population_1930.index:
        deaths = float(annual.loc[years, r].sum())
        pop = float(population_1930[r])
        lo, hi, src = _band(record, "excess_deaths_share_of_population", SHARE_REGION.get(r, r))
        rows.append({"region": r, "excess_deaths": deaths, "population_1930": pop,
                     "per_head": deaths / pop if pop else np.nan,
                     "reconstruction_region": SHARE_REGION.get(r, r),
                     "reconstruction_share": lo if lo == hi else np.nan,
                     "reconstruction_lo": lo, "reconstruction_hi": hi, "sources": src})
    out = pd.DataFrame(rows).sort_values("per_head", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def order_check(per_head: pd.Series, expected: tuple[str, ...] = EXPECTED_ORDER) -> dict:
    """Whether the regions' deaths per head fall in ``expected`` order (worst first): the
    model's order, and the first pair out of order (None when the order holds)."""
    regions = [r for r in expected if r in per_head.index]
    model = list(per_head[regions].sort_values(ascending=False, kind="stable").index)
    broken = next(((a, b) for a, b in pairwise(regions) if not per_head[a] > per_head[b]),
                  None)
    return {"expected": list(regions), "model": model, "holds": broken is None,
            "first_break": None if broken is None else f"{broken[0]} <= {broken[1]}"}


# -- 2. Ukraine and Kazakhstan against the reconstructions ----------------------------------
def reconstruction_totals(annual: pd.DataFrame, record: pd.DataFrame,
                          regions: tuple[str, ...] = ("ukraine", "kazakhstan")) -> pd.DataFrame:
    """Per region and span: the band of the best-graded reconstructions of total excess deaths
    (``excess_deaths_total_persons``; the span from each row's note, as ``validate`` reads it,
    else the year of its period alone), the model's excess deaths over the span, inside or not
    and the relative miss from the band."""
    rows = []
    for r in regions:
        sel = history.best(_rows(record, "excess_deaths_total_persons", r))
        if sel.empty:
            rows.append({"region": r, "span": "", "lo": np.nan, "hi": np.nan, "model": np.nan,
                         "inside": None, "miss": np.nan, "grade": "", "sources": "no usable rows"})
            continue
        spans = [history.span(n) or (int(p[:4]), int(p[:4]))
                 for n, p in zip(sel["note"], sel["period"])]
        sel = sel.assign(_span=spans)
        for span, g in sel.groupby("_span", sort=True):
            years = [str(y) for y in range(span[0], span[1] + 1) if str(y) in annual.index]
            model = float(annual.loc[years, r].sum()) if years else np.nan
            lo, hi = float(g["value"].astype(float).min()), float(g["value"].astype(float).max())
            edge = lo if model < lo else hi
            rows.append({"region": r, "span": f"{span[0]}-{span[1]}", "lo": lo, "hi": hi,
                         "model": model, "inside": _inside(model, lo, hi),
                         "miss": 0.0 if lo <= model <= hi else (model - edge) / edge,
                         "grade": ", ".join(sorted(set(g["grade"]))),
                         "sources": ", ".join(sorted(set(g["source"])))})
    return pd.DataFrame(rows)


# -- 3. the calendar of 1932-34 -------------------------------------------------------------
def calendar_checks(monthly: pd.DataFrame, record: pd.DataFrame,
                    region: str = "ukraine") -> pd.DataFrame:
    """The timing of ``region``'s excess deaths (the model's regional deaths are rural)
    against the reconstructions: the share of 1933's in January-July, the share of 1932-34's in
    1933, and the peak month of 1933 over January 1933."""
    col = monthly[region]
    y1933 = col[[m for m in col.index if m.startswith("1933-")]]
    y3234 = col[[m for m in col.index if m[:4] in ("1932", "1933", "1934")]]
    jan_jul = float(y1933[[f"1933-{m:02d}" for m in range(1, 8)]].sum())
    total_33 = float(y1933.sum())
    january = float(y1933["1933-01"])
    checks = [
        ("share of 1933 rural excess deaths in January-July 1933", "excess_deaths_share_jan_jul",
         f"{region}_rural", jan_jul / total_33 if total_33 > 0 else np.nan),
        ("share of 1932-34 excess deaths in 1933", "excess_deaths_share_in_year", region,
         total_33 / float(y3234.sum()) if float(y3234.sum()) > 0 else np.nan),
        (f"peak month of 1933 ({y1933.idxmax()}) over January 1933",
         "excess_deaths_ratio_peak_to_january", region,
         float(y1933.max()) / january if january > 0 else np.inf),
    ]
    rows = []
    for what, series, rec_region, model in checks:
        lo, hi, src = _band(record, series, rec_region)
        rows.append({"check": what, "series": series, "lo": lo, "hi": hi, "model": model,
                     "inside": _inside(model, lo, hi), "sources": src})
    return pd.DataFrame(rows)


def monthly_deaths(monthly: pd.DataFrame, first: str = "1932-01", last: str = "1934-12"
                   ) -> pd.DataFrame:
    """The months of ``first``..``last`` (excess deaths by region and USSR), as they are."""
    return monthly.loc[first:last]


# -- 4. no famine in 1935-40 on the 1932-33 scale -------------------------------------------
def later_famines(annual: pd.DataFrame, share: float = LATER_FAMINE_SHARE) -> pd.DataFrame:
    """Each year 1935-40: USSR excess deaths, their ratio to the mean of 1932 and 1933, and
    whether it stays below ``share`` of it (the worst region beside)."""
    scale = float(annual.loc[["1932", "1933"], USSR].mean())
    regions = [c for c in annual.columns if c != USSR]
    rows = []
    for y in range(1935, 1941):
        v = float(annual.loc[str(y), USSR])
        worst = annual.loc[str(y), regions].astype(float).idxmax() if regions else ""
        rows.append({"year": y, "excess_deaths": v, "scale_1932_33": scale,
                     "ratio": v / scale if scale > 0 else np.nan,
                     "below": bool(v < share * scale), "worst_region": worst,
                     "worst_region_deaths": float(annual.loc[str(y), worst]) if worst else np.nan})
    return pd.DataFrame(rows)


# -- 5. the state's grain stocks ------------------------------------------------------------
def _month_at(period: str) -> str:
    """The month whose end a dated stock stands for (``YYYY-MM-01``: the month before)."""
    y, m = int(period[:4]), int(period[5:7]) if len(period) >= 7 else 6
    if len(period) == 10 and period.endswith("-01"):
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return f"{y}-{m:02d}"


def state_stocks(stock: pd.Series, record: pd.DataFrame,
                 dates: tuple[str, ...] = ("1931-07-01", "1932-01-01", "1932-07-01",
                                           "1933-01-01", "1933-07-01", "1934-07-01")
                 ) -> pd.DataFrame:
    """Every usable row of ``state_grain_stock_t`` beside the model's stock at its date (a
    ``YYYY`` row: end of June); with no rows, the model's stocks at ``dates`` (the dates of
    Davies, Tauger & Wheatcroft's table) with the record left empty."""
    rows_in = _rows(record, "state_grain_stock_t")
    rows_in = rows_in[rows_in["usable"]] if len(rows_in) else rows_in
    out = []
    for r in rows_in.itertuples(index=False):
        month = _month_at(r.period)
        model = float(stock[month]) if month in stock.index else np.nan
        out.append({"date": r.period, "variant": r.variant, "record": float(r.value),
                    "model": model, "ratio": model / float(r.value) if float(r.value) else np.nan,
                    "grade": r.grade, "source": r.source})
    if not out:
        for d in dates:
            month = _month_at(d)
            out.append({"date": d, "variant": "", "record": np.nan,
                        "model": float(stock[month]) if month in stock.index else np.nan,
                        "ratio": np.nan, "grade": "", "source": "no row in the data (gap)"})
    return pd.DataFrame(out)


# -- births beside them (issue 15, births) --------------------------------------------------
def births_by_year(births: pd.Series, population: pd.Series, record: pd.DataFrame,
                   first: int = 1926, last: int = 1940) -> pd.DataFrame:
    """Births and the crude birth rate (per 1000 of the mid-year population) by year, beside
    the record's best-graded births (``births_persons``), crude birth rates
    (``crude_birth_rate_per_1000``) and total fertility (``total_fertility_rate``), USSR; and
    the model's crude birth rate and the record's total fertility as indices of ``base`` (the
    shape of the fall, which the age structure blurs less than the levels)."""
    rows = []
    for y in range(first, last + 1):
        b, pop = float(births[str(y)]), float(population[str(y)])
        year = record[record["period"] == str(y)]
        blo, bhi, bsrc = _band(year, "births_persons", USSR)
        clo, chi, csrc = _band(year, "crude_birth_rate_per_1000", USSR)
        tlo, thi, tsrc = _band(year, "total_fertility_rate", USSR)
        rows.append({"year": y, "births": b, "births_record": blo if blo == bhi else np.nan,
                     "births_lo": blo, "births_hi": bhi, "cbr": 1000 * b / pop if pop else np.nan,
                     "cbr_lo": clo, "cbr_hi": chi, "tfr": (tlo + thi) / 2,
                     "sources": ", ".join(sorted({s for s in (bsrc, csrc, tsrc) if s}))})
    out = pd.DataFrame(rows)
    at = out.set_index("year")
    base = BIRTHS_BASE_YEAR if BIRTHS_BASE_YEAR in at.index else first
    out["cbr_index"] = out["cbr"] / at.loc[base, "cbr"]
    out["tfr_index"] = out["tfr"] / at.loc[base, "tfr"]
    return out


# -- all of it ------------------------------------------------------------------------------
def report(fr: dict, record: pd.DataFrame | None = None) -> dict:
    """The five checks and the births, from ``frames(res)`` (or a made-up equivalent), as
    DataFrames and verdicts."""
    record = history.load() if record is None else record
    losses = regional_losses(fr["annual"], fr["population_1930"], record)
    per_head = losses.set_index("region")["per_head"]
    later = later_famines(fr["annual"])
    return {
        "regional_losses": losses,
        "order": order_check(per_head),
        "totals": reconstruction_totals(fr["annual"], record),
        "calendar": calendar_checks(fr["monthly"], record),
        "months": monthly_deaths(fr["monthly"]),
        "later_famines": later,
        "no_later_famine": bool(later["below"].all()),
        "state_stocks": state_stocks(fr["stock"], record),
        "births": births_by_year(fr["births"], fr["population"], record),
    }


# -- as text: docs/validation.md and ``sovsim validate`` ------------------------------------
def _m(x, scale=1e6, digits=2) -> str:
    return "n/a" if x is None or x != x else f"{x / scale:,.{digits}f}"


def _p(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.1%}"


def _verdict(x) -> str:
    return "no record" if x is None else ("inside" if x else "**miss**")


def markdown(fv: dict) -> list[str]:
    """The checks of ``validate.famine_validation`` (JSON form) as markdown lines."""
    def rec(r):
        return (f"{_p(r['reconstruction_lo'])} ({r['reconstruction_region']})"
                if r["reconstruction_lo"] is not None else "none in the data")
    out = ["### Per-head losses by region, 1930-34", "",
           "Excess deaths 1930-34 over the region's 1930 (mid-year) population in the model: "
           "peasants and the special settlers deported from the region; the model has no "
           "regional towns, so these are rural rates; the reconstructions' shares are of "
           "the whole population of the republic (Levchuk et al. 2015 as reported; `rsfsr` for "
           "the RSFSR regions as a whole). Worst first, as the model ranks them.", ""]
    out += md_table(("region", "excess deaths 1930-34 (M)", "population 1930 (M)",
                     "model per head", "reconstruction (region)", "source"),
                    [(r["region"], _m(r["excess_deaths"]), _m(r["population_1930"], 1e6, 1),
                      _p(r["per_head"]), rec(r), r["sources"]) for r in fv["regional_losses"]])
    o = fv["order"]
    out += ["", f"Order of the reconstructions: {' > '.join(o['expected'])}. Model: "
            f"{' > '.join(o['model'])}. Holds: **{'yes' if o['holds'] else 'no'}**"
            + ("" if o["holds"] else f" (first break: {o['first_break']})") + ".", "",
            "### Ukraine and Kazakhstan against the reconstructions", "",
            "Best-graded usable rows of `excess_deaths_total_persons`, grouped by the span each "
            "names; the model's excess deaths summed over the same years.", ""]
    out += md_table(("region", "span", "reconstructions (M)", "model (M)", "verdict", "miss",
                     "grade", "sources"),
                    [(r["region"], r["span"],
                      _m(r["lo"]) if r["lo"] == r["hi"] else f"{_m(r['lo'])} to {_m(r['hi'])}",
                      _m(r["model"]), _verdict(r["inside"]), _p(r["miss"]), r["grade"],
                      r["sources"]) for r in fv["totals"]])
    out += ["", "### The calendar of 1932-34", "",
            "Out-of-sample checks, never calibration targets (the rows are in "
            "`data/history/famine_regional.csv`). The model's regional deaths are rural.", ""]

    def calendar_row(r):
        ratio = r["series"].startswith("excess_deaths_ratio")

        def fmt(x):
            return "n/a" if x is None or x != x else (f"{x:.1f}" if ratio else _p(x))
        band = fmt(r["lo"]) if r["lo"] == r["hi"] else f"{fmt(r['lo'])} to {fmt(r['hi'])}"
        return (r["check"], band, fmt(r["model"]), _verdict(r["inside"]), r["sources"])
    out += md_table(("check (Ukraine)", "reconstructions", "model", "verdict", "sources"),
                    [calendar_row(r) for r in fv["calendar"]])
    regions = [k for k in fv["months"][0] if k != "month"] if fv["months"] else []
    out += ["", "Excess deaths by month, 1932-34 (thousands; USSR includes the towns):", ""]
    out += md_table(("month", *regions),
                    [(r["month"], *(_m(r[c], 1e3, 0) for c in regions)) for r in fv["months"]])
    out += ["", "### No famine in 1935-40 on the scale of 1932-33", "",
            f"A year fails when its excess deaths pass {LATER_FAMINE_SHARE:.0%} of the mean of "
            "1932 and 1933 (an assumption: the hungry year of 1936-37 was regional and far "
            f"smaller). All years below: **{'yes' if fv['no_later_famine'] else 'no'}**.", ""]
    out += md_table(("year", "excess deaths (M)", "of the 1932-33 mean", "below",
                     "worst region (M)"),
                    [(r["year"], _m(r["excess_deaths"]), _p(r["ratio"]),
                      "yes" if r["below"] else "**no**",
                      f"{r['worst_region']} ({_m(r['worst_region_deaths'])})")
                     for r in fv["later_famines"]])
    out += ["", "### The state's grain stocks", "",
            "Against Davies, Tauger & Wheatcroft (1995) and Davies & Wheatcroft (2004), rows "
            "of `state_grain_stock_t`; the model's stock is all state grain at the end of the "
            "month before the date.", ""]
    out += md_table(("date", "variant", "record (Mt)", "model (Mt)", "model / record", "grade",
                     "source"),
                    [(r["date"], r["variant"], _m(r["record"]), _m(r["model"]),
                      "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}", r["grade"],
                      r["source"]) for r in fv["state_stocks"]])
    out += ["", "### Births by year", "",
            "Births and the crude birth rate (per 1000 of the mid-year population) beside the "
            "best-graded record (registered births, TsUNKhU; the reconstruction of Andreev, "
            "Darsky & Kharkova 1993).", "",
            f"Indices: of {BIRTHS_BASE_YEAR}; the record's total fertility (ADK, from "
            "age-specific rates) gives the shape of the fall.", ""]

    def num(x, fmt):
        return "n/a" if x is None or x != x else format(x, fmt)
    out += md_table(("year", "births (M)", "record (M)", "CBR", "record CBR", "model CBR index",
                     "record TFR", "TFR index", "sources"),
                    [(r["year"], _m(r["births"]), _m(r["births_record"]), num(r["cbr"], ".1f"),
                      num(r["cbr_lo"], ".1f"), num(r["cbr_index"], ".2f"),
                      num(r["tfr"], ".2f"), num(r["tfr_index"], ".2f"), r["sources"])
                     for r in fv["births"]])
    return out
