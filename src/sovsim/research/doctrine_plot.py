"""The doctrine lens as a chart: one panel per axis, each scenario's headline share by year."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np

from sovsim import calendar
from sovsim.plots.compare import PALETTE, chart_style, figure, save
from sovsim.words import chart_text


def doctrine_figure(shares: dict[str, dict[str, np.ndarray]], axes_text: dict[str, str],
                    headline: dict[str, str], path: Path | None = None,
                    events: list[dict] | None = None):
    """``shares``: scenario -> axis -> headline share by year (1921..1940); one panel per
    axis with the axis's description and its formula; returns the figure (and writes it)."""
    from sovsim.plots.events import events_key, mark_events

    years = np.arange(calendar.START_YEAR, calendar.END_YEAR + 1)
    names = list(axes_text)
    cols = 3
    rows = (len(names) + cols - 1) // cols
    with mpl.rc_context(chart_style()):
        fig = figure(figsize=(12, 3.6 * rows))
        grid = fig.subplots(rows, cols, squeeze=False)
        for ax, axis in zip(grid.flat, names):
            for i, (scenario, by_axis) in enumerate(shares.items()):
                if axis in by_axis:
                    ax.plot(years, by_axis[axis], color=PALETTE[i % len(PALETTE)], lw=1.6,
                            label=chart_text(scenario))
            ax.set_title(axes_text[axis].split(":")[0] + f"\n{headline.get(axis, '')}",
                         fontsize=7)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("year")
            ax.set_ylabel("share")
            ax.legend(fontsize=6, loc="best")
            mark_events(ax, events)
        events_key(fig, events)
        for ax in list(grid.flat)[len(names):]:
            ax.set_visible(False)
        fig.suptitle("The doctrine lens: each axis's headline share (an operationalisation of "
                     "the texts, not a verdict; sources: data/doctrine/indicators.toml)")
    return save(fig, path)
