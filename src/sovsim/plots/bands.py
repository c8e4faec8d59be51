"""The comparison chart for ensembles: each scenario's median with its 25-75 % and 5-95 %
bands shaded, the historical series (every variant) behind as points."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np

from sovsim import history
from sovsim.plots.compare import (
    PALETTE,
    PANELS,
    chart_style,
    figure,
    history_points,
    label_panel,
    save,
)
from sovsim.words import chart_text


def band_figure(ens, path: Path | None = None, from_year: int = 1921,
                events: list[dict] | None = None):
    """A 3x3 panel of headline outcomes with bands; returns the figure (writes it if ``path``).
    ``events``: political events to mark (annotations; see plots/events.py)."""
    from sovsim.ensemble import YEARS
    from sovsim.plots.events import events_key, mark_events

    hist = history.load()
    keep = from_year <= YEARS
    with mpl.rc_context(chart_style()):
        fig = figure(figsize=(12, 9))
        axes = fig.subplots(3, 3)
        for ax, (var, scale, label) in zip(axes.flat, PANELS):
            history_points(ax, hist, var, scale, from_year)
            for i, name in enumerate(ens.scenarios):
                vals = ens.values(name, var) / scale  # (members, years)
                q05, q25, q50, q75, q95 = np.quantile(vals, (0.05, 0.25, 0.5, 0.75, 0.95), axis=0)
                colour = PALETTE[i % len(PALETTE)]
                ax.fill_between(YEARS[keep], q05[keep], q95[keep], color=colour, alpha=0.15, lw=0)
                ax.fill_between(YEARS[keep], q25[keep], q75[keep], color=colour, alpha=0.3, lw=0)
                ax.plot(YEARS[keep], q50[keep], color=colour, lw=1.6,
                        label=f"model: {chart_text(name)} (median, 25-75 %, 5-95 %)")
            label_panel(ax, var, scale, label)
            mark_events(ax, events, from_year)
        events_key(fig, events)
        fig.suptitle(f"sovsim: ensembles of {ens.members} members against the historical "
                     f"record\nparameters drawn from {chart_text(ens.drawn_from())}",
                     fontsize="medium")
    return save(fig, path)
