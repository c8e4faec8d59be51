"""The state's grain balance by crop year (July-June): opening stock, sources, uses (by region
where the flow is regional), closing stock; and the run's stocks beside what
history/state_grain.csv holds (``sovsim run SCENARIO --grain-balance``; docs/state-grain.md).

The months are the run's own: the compiled month (``engine.schedule.month_step``) is called
month by month from here, as ``engine.simulation`` calls it, and each month's state flows
(the flows marked ``state`` in ``engine.flows``) are kept by name. The balance closes by
construction of the month (its invariant checks it every month); ``balance`` recomputes the
identity per crop year and reports the residual.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

from sovsim import calendar
from sovsim.engine import invariants, schedule
from sovsim.engine.flows import SCALAR_FLOWS, UNIT_FLOWS, by_name
from sovsim.engine.packed import instrument_records, memory, param_record
from sovsim.inputs import load_inputs
from sovsim.mechanisms.demography import unit_labels
from sovsim.regions import REGIONS
from sovsim.state import initial_state

# The state's flows, by the side of its balance (``Flow.state``), unit flows summed by region.
SOURCES_UNIT = tuple(f.name for f in UNIT_FLOWS if f.state > 0)
USES_UNIT = tuple(f.name for f in UNIT_FLOWS if f.state < 0)
SOURCES_SCALAR = tuple(f.name for f in SCALAR_FLOWS if f.state > 0)
USES_SCALAR = tuple(f.name for f in SCALAR_FLOWS if f.state < 0)


@dataclass
class StateGrainMonths:
    """A run's state grain, month by month: the stock at each month's start and end, the
    reserve and the loans owed at the end (t); each unit flow by region (months, regions) and
    each scalar flow (months,)."""

    stock_start: np.ndarray
    stock_end: np.ndarray
    reserve_end: np.ndarray
    loans_owed_end: np.ndarray
    unit: dict[str, np.ndarray]
    scalar: dict[str, np.ndarray]

    def labels(self) -> list[str]:
        return [calendar.label(m) for m in range(len(self.stock_end))]


def state_grain_months(scenario, p, inputs=None) -> StateGrainMonths:
    """Run ``scenario`` with parameters ``p`` (a ``ParameterSet``) and keep the state's grain
    flows of every month."""
    inputs = inputs or load_inputs()
    POL = scenario.cached("instrument_records", lambda: instrument_records(scenario.timeline()))
    pv = p.values()
    h, macro = initial_state(pv)
    mem = memory()
    lab = h.labelled(unit_labels)
    sc = schedule.scratch(len(h), lab)
    P = param_record(pv)
    n, region = calendar.N_MONTHS, np.asarray(h["region"])
    out = StateGrainMonths(np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n),
                           {k: np.zeros((n, len(REGIONS))) for k in SOURCES_UNIT + USES_UNIT},
                           {k: np.zeros(n) for k in SOURCES_SCALAR + USES_SCALAR})
    st = schedule.State(h.values, macro.values, mem)
    for month in range(n):
        out.stock_start[month] = macro.values[0].state_grain_t
        t = schedule.clock(month, month, inputs.weather_class, inputs.world_grain_price,
                           inputs.first_year, False)
        code = schedule.month_step(st, lab, P, POL, sc, t)
        invariants.raise_for(code, sc.err, month, h, macro)
        unit, scalar = by_name(sc.uo, sc.so)
        for k in out.unit:
            out.unit[k][month] = np.bincount(region, weights=unit[k], minlength=len(REGIONS))
        for k in out.scalar:
            out.scalar[k][month] = scalar[k]
        out.stock_end[month] = macro.values[0].state_grain_t
        out.reserve_end[month] = mem[0].reserve_t
        out.loans_owed_end[month] = float(np.sum(mem[0].loans_outstanding_t))
    return out


def state_stock_by_month(scenario="historical", p=None) -> dict[str, tuple[float, float]]:
    """The model's state grain stock at each month's end, month label -> (stock, of which the
    untouchable reserve), in t: for validation beside Davies, Tauger & Wheatcroft."""
    from sovsim.params import load_parameters
    from sovsim.scenario import load_scenario

    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    m = state_grain_months(sc, p or load_parameters())
    return {lab: (float(s), float(r)) for lab, s, r in zip(m.labels(), m.stock_end,
                                                           m.reserve_end)}


@dataclass
class CropYear:
    """One crop year's balance (July ``year`` - June ``year + 1``), in t."""

    year: int
    opening: float
    sources: dict[str, float]  # name -> t (regional flows also as name:region)
    uses: dict[str, float]
    closing: float
    reserve_closing: float
    loans_owed_closing: float

    @property
    def residual(self) -> float:
        """opening + sources - uses - closing: zero when the balance closes."""
        return (self.opening + sum(v for k, v in self.sources.items() if ":" not in k)
                - sum(v for k, v in self.uses.items() if ":" not in k) - self.closing)


def balance(m: StateGrainMonths) -> list[CropYear]:
    """The balance of every whole crop year of the run (July 1921 - June 1940)."""
    years = []
    for start in range(6, len(m.stock_end) - 11, 12):
        sl = slice(start, start + 12)
        src: dict[str, float] = {}
        use: dict[str, float] = {}
        for names, side in ((SOURCES_UNIT, src), (USES_UNIT, use)):
            for k in names:
                by_r = m.unit[k][sl].sum(axis=0)
                side[k] = float(by_r.sum())
                for r, v in zip(REGIONS, by_r):
                    if v:
                        side[f"{k}:{r}"] = float(v)
        for names, side in ((SOURCES_SCALAR, src), (USES_SCALAR, use)):
            for k in names:
                side[k] = float(m.scalar[k][sl].sum())
        years.append(CropYear(calendar.START_YEAR + start // 12, float(m.stock_start[start]),
                              src, use, float(m.stock_end[start + 11]),
                              float(m.reserve_end[start + 11]),
                              float(m.loans_owed_end[start + 11])))
    return years


_WORDS = {
    "procured_t": "procurement", "confiscated_t": "confiscation (deported households)",
    "loan_repaid_t": "loans repaid", "army_t": "army (food and fodder)",
    "rations_workers_t": "town rations: workers", "rations_dependants_t": "town rations: dependants",
    "commercial_sales_t": "towns: sales beyond the ration / state trade",
    "gulag_t": "camps (Gulag)", "settlements_t": "special settlements",
    "cotton_zones_t": "cotton zones of Central Asia", "timber_construction_t": "timber and construction",
    "state_seed_feed_t": "state seed and feed", "exports_t": "exports",
    "seed_loan_t": "seed loans", "food_loan_t": "food loans", "relief_t": "famine relief (not repaid)",
}


def format_balance(years: list[CropYear], first: int = 1928, last: int = 1939) -> str:
    """The balance as text, one block per crop year, in thousand tonnes."""
    lines = ["The state's grain balance by crop year (July-June), thousand tonnes; the reserve "
             "(nepfond) is part of the stock."]
    for y in years:
        if not first <= y.year <= last:
            continue
        lines.append("")
        lines.append(f"{y.year}/{(y.year + 1) % 100:02d}  opening stock {y.opening / 1e3:>12,.0f}")
        for title, side in (("sources", y.sources), ("uses", y.uses)):
            lines.append(f"  {title}")
            for k, v in side.items():
                if ":" in k:
                    r = k.split(":")[1]
                    lines.append(f"      {r:<32} {v / 1e3:>12,.1f}")
                elif v or k in ("procured_t", "army_t"):
                    lines.append(f"    {_WORDS.get(k, k):<34} {v / 1e3:>12,.0f}")
            total = sum(v for k, v in side.items() if ":" not in k)
            lines.append(f"    {'total ' + title:<34} {total / 1e3:>12,.0f}")
        lines.append(f"  closing stock {y.closing / 1e3:>12,.0f}   of which reserve "
                     f"{y.reserve_closing / 1e3:,.0f}; loans owed to the state "
                     f"{y.loans_owed_closing / 1e3:,.0f}; residual {y.residual:.3g} t")
    return "\n".join(lines)


def history_rows() -> list[dict]:
    """The rows of history/state_grain.csv."""
    text = (resources.files("sovsim") / "data" / "history" / "state_grain.csv").read_text(
        encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _region_sum(m: StateGrainMonths, name: str, region: str, sl: slice) -> float | None:
    if region == "USSR":
        return float(m.unit[name][sl].sum())
    base = region.split("_")[0] if region.startswith("ukraine") else region
    if base == "ukraine" and region != "ukraine":
        return None  # an oblast: the model's region is the republic
    if base in REGIONS:
        return float(m.unit[name][sl, REGIONS.index(base)].sum())
    return None


def compare_history(m: StateGrainMonths) -> list[tuple[str, str, str, str, str]]:
    """Each row of history/state_grain.csv beside the run where the run has the same thing:
    (series, region, period, history, model); the model column says why where it has not."""
    rows = []
    for row in history_rows():
        series, region, period = row["series"], row["region"], row["period"]
        value = float(row["value"])
        shown = f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"
        hist = f"{shown} {row['unit']} ({row['variant']})"
        model = "not comparable"
        if series in ("grain_procurement_t", "army_grain_use_t") and len(period) == 4:
            year = int(period) - (1 if series == "army_grain_use_t" else 0)  # 1933: 1932/33
            start = (year - calendar.START_YEAR) * 12 + 6
            sl = slice(start, start + 12)
            if series == "army_grain_use_t":
                model = f"{m.scalar['army_t'][sl].sum():,.0f} t (crop year {year}/{year + 1})"
            else:
                got = _region_sum(m, "procured_t", region, sl)
                conf = _region_sum(m, "confiscated_t", region, sl)
                if got is not None:
                    model = f"{got + (conf or 0):,.0f} t (crop year {year}/{year + 1})"
                else:
                    model = "not comparable (an oblast; the model's region is the republic)"
        elif series == "grain_procurement_cumulative_t":
            d = period.split("-")
            year, mon = int(d[0]), int(d[1])
            start = (year - calendar.START_YEAR) * 12 + 6
            end = (year - calendar.START_YEAR) * 12 + mon  # up to the end of the month
            got = _region_sum(m, "procured_t", region, slice(start, end))
            if got is not None:
                model = f"{got:,.0f} t (July to the end of {calendar.label(end - 1)})"
        elif series.startswith("sovkhoz"):
            model = "not comparable (the model has no sovkhoz units)"
        elif series.endswith("_share"):
            model = "not comparable (a share of a plan or of a harvest; see `sovsim validate`)"
        rows.append((series, region, period, hist, model))
    return rows


def format_comparison(m: StateGrainMonths) -> str:
    """The run beside history/state_grain.csv, and the run's stocks in June and October."""
    lines = ["The run beside history/state_grain.csv:"]
    for series, region, period, hist, model in compare_history(m):
        lines.append(f"  {series} {region} {period}: history {hist}; model {model}")
    lines.append("")
    lines.append("State stocks (end of month, Mt; of which reserve). history/state_grain.csv holds "
                 "no stock level: none was reached (history/famine_regional_gaps.csv, "
                 "state_grain_stock_t); Davies, Tauger & Wheatcroft (1995) put the stocks of "
                 "1932-33 at a few Mt.")
    for year in range(1930, 1936):
        cells = []
        for mon in (6, 10):
            i = (year - calendar.START_YEAR) * 12 + mon - 1
            cells.append(f"{calendar.label(i)} {m.stock_end[i] / 1e6:6.2f} "
                         f"({m.reserve_end[i] / 1e6:.2f})")
        lines.append("  " + "   ".join(cells))
    return "\n".join(lines)
