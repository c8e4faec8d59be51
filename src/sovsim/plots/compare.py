"""The comparison chart: model lines of each scenario, historical series (every variant)
behind them as points."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from sovsim import history
from sovsim.calendar import decimal_year
from sovsim.engine.accounts import BY_NAME
from sovsim.results import Results
from sovsim.words import chart_text, variant_label

PANELS = (
    ("grain_harvest_t", 1e6, "grain harvest (million t)"),
    ("grain_procurement_t", 1e6, "procurement (million t, harvest year)"),
    ("horses_head", 1e6, "horses (million)"),
    ("cattle_head", 1e6, "cattle (million)"),
    ("urban_population_persons", 1e6, "urban population (million)"),
    ("collectivized_share", 0.01, "collectivized households (%)"),
    ("industrial_output_index", 1, "industrial output (1928 = 100)"),
    ("excess_deaths_persons", 1e6, "excess deaths (million)"),
    ("food_kcal_per_person_day", 1, "food (kcal per person per day)"),
)
# Okabe-Ito: a colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def chart_style() -> dict:
    return {"font.size": 8, "axes.spines.top": False, "axes.spines.right": False,
            "axes.grid": True, "grid.alpha": 0.3}


def compare_figure(results: list[Results], path: Path | None = None, from_year: int = 1921,
                   events: list[dict] | None = None):
    """A 3x3 panel of headline outcomes; returns the figure (and writes it if ``path``).
    ``events``: political events to mark (annotations; see plots/events.py)."""
    from sovsim.plots.events import events_key, mark_events

    hist = history.load()
    with mpl.rc_context(chart_style()):
        fig = figure(figsize=(12, 9))
        axes = fig.subplots(3, 3)
        for ax, (var, scale, label) in zip(axes.flat, PANELS):
            history_points(ax, hist, var, scale, from_year)
            for i, res in enumerate(results):
                s = res.series(var)
                years = np.array([int(y) for y in s.index])
                keep = years >= from_year
                ax.plot(years[keep], s.values[keep] / scale, color=PALETTE[i % len(PALETTE)],
                        lw=1.6, label=f"model: {chart_text(res.scenario)}")
            label_panel(ax, var, scale, label)
            mark_events(ax, events, from_year)
        events_key(fig, events)
        fig.suptitle("sovsim: scenarios against the historical record (grey: published estimates)")
    return save(fig, path)


def history_points(ax, hist, var: str, scale: float, from_year: int) -> None:
    """Every recorded variant of ``var`` (USSR) as grey points, one marker per variant."""
    rows = hist[(hist["series"] == var) & (hist["region"] == "USSR")]
    bib = history.sources()
    for j, (variant, grp) in enumerate(rows.groupby("variant")):
        name = chart_text(variant_label(str(variant), set(grp["source"]), bib))
        x = grp["period"].map(decimal_year)
        keep = x >= from_year
        ax.scatter(x[keep], grp["value"][keep].astype(float) / scale, s=10, alpha=0.55,
                   marker="os^vD<>"[j % 7], color="0.45", label=f"history: {name}")


def label_panel(ax, var: str, scale: float, label: str) -> None:
    ax.set_title(label)
    ax.set_xlabel("year")
    ax.set_ylabel(BY_NAME[var].unit if scale == 1 else label.split("(")[-1].rstrip(")"))
    ax.legend(fontsize=5, loc="best")


def figure(**kwargs) -> Figure:
    """A figure of matplotlib's object API, with constrained layout: no pyplot, so the user's
    backend is left as it is (a notebook keeps its own) and nothing is kept open after use."""
    return Figure(layout="constrained", **kwargs)


def save(fig, path: Path | None):
    """Write the figure (atomically: a partial file is renamed when complete); return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
        fig.savefig(tmp, dpi=150)
        tmp.replace(path)
    return fig
