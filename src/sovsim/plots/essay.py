"""The essay's claims as a chart: one panel per testable claim, its first indicator by year in
each scenario run, the periods compared shaded, the verdict in the title; records (data, not
model output) drawn as points and labelled so; events marked on request."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np

from sovsim.plots.compare import PALETTE, chart_style, figure, save
from sovsim.plots.events import events_key, mark_events


def essay_figure(report: dict[str, Any], path: Path | None = None, events: bool = False):
    """``report``: the essay report (``research.essay.report``). Returns the figure (and
    writes it if ``path``)."""
    claims = [c for c in report["claims"] if c["testable"]]
    years = np.asarray(report["years"])
    cols = 3
    rows = max(1, (len(claims) + cols - 1) // cols)
    marks = report["events"] if events else None
    with mpl.rc_context(chart_style()):
        fig = figure(figsize=(12, 3.4 * rows))
        grid = fig.subplots(rows, cols, squeeze=False)
        for ax, claim in zip(grid.flat, claims):
            name, chart = next(iter(claim["charts"].items()))
            record = chart["basis"] == "record"
            for i, (sc, vals) in enumerate(chart["series"].items()):
                v = np.array([np.nan if x is None else x for x in vals], dtype=float)
                colour = PALETTE[i % len(PALETTE)]
                if record:
                    ax.plot(years, v, "o", color=colour, ms=3,
                            label=f"{sc}: record (data, not model output)")
                else:
                    ax.plot(years, v, color=colour, lw=1.5, label=f"{sc} (model)")
            test = next(t for t in claim["tests"] if t["indicator"] == name)
            for span in (test.get("before"), test.get("after"), test.get("years")):
                if span:
                    ax.axvspan(span[0] - 0.5, span[1] + 0.5, color="0.85", alpha=0.4, lw=0)
            mark_events(ax, marks)
            verdict = claim["verdict"] or "no data"
            ax.set_title(textwrap.fill(f"{claim['asserts']}", 70) + f"\n-> {verdict}",
                         fontsize=6)
            ax.set_ylabel(f"{chart['label']} ({chart['unit']})", fontsize=6)
            ax.set_xlabel("year")
            ax.legend(fontsize=5, loc="best")
        for ax in list(grid.flat)[len(claims):]:
            ax.set_visible(False)
        events_key(fig, marks)
        fig.suptitle("The essay, claim by claim (verdict rule: sovsim essay --help; shaded: the "
                     "periods compared)", fontsize=8)
    return save(fig, path)
