"""``sovsim doctrine``: the doctrine lens on the command line (tables by axis, each axis's
headline share as JSON, one panel per axis)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from sovsim.cli.common import check_plot, console, err, json_default, say
from sovsim.cli.common import fail as _fail
from sovsim.errors import SovsimError


def doctrine(
    scenarios: list[str] = typer.Argument(None, help="shipped names or .toml paths (default: historical)"),
    definitions: Path | None = typer.Option(None, "--definitions", help="an edited copy of data/doctrine/indicators.toml"),
    years: str = typer.Option("1925,1929,1933,1937,1940", "--years", help="comma-separated years to show"),
    as_json: bool = typer.Option(False, "--json", help="each axis's headline share by year: "
                                 "{scenario: {axis: {year: value}}}"),
    records: bool = typer.Option(False, "--records", help="every indicator and year, with the "
                                 "definitions, as JSON records"),
    plot: Path | None = typer.Option(None, "--plot", help="draw one panel per axis to this "
                                        "PNG/SVG/PDF"),
    events: bool = typer.Option(False, "--events", help="with --plot: mark the political "
                                "timeline (data/essay/events.csv) on the chart"),
) -> None:
    """The doctrine lens: each indicator (a formula over the outputs, tied to a passage of
    Marx, Engels, Lenin, Trotsky, Bukharin or Preobrazhensky) by year, and its distance from
    the value the passage implies. An operationalisation, not a verdict."""
    from sovsim.api import run
    from sovsim.research import doctrine as dl

    check_plot(plot)
    if events and plot is None:
        _fail(SovsimError("--events marks the chart: give --plot FILE too"))
    try:
        defs = dl.load_definitions(definitions)
        bad_text = [y for y in years.split(",")
                    if y.strip() and not (y.strip().isascii() and y.strip().isdigit())]
        if bad_text:
            raise SovsimError(f"--years: {bad_text[0].strip()!r} is not a year (allowed: "
                              "comma-separated years from 1921 to 1940)")
        shown = [int(y) for y in years.split(",") if y.strip()]
        bad = [y for y in shown if not 1921 <= y <= 1940]
        if bad:
            raise SovsimError(f"--years: {bad[0]} is outside 1921-1940")
        runs = [run(sc) for sc in (scenarios or ["historical"])]
        tables = [dl.indicators(res, defs) for res in runs]
        shares = {res.scenario: dl.headlines(defs, dl.indicator_arrays(res, defs)[1])
                  for res in runs}
    except (SovsimError, ValueError) as exc:
        _fail(exc)
    import pandas as pd

    table = pd.concat(tables, ignore_index=True)
    if plot is not None:
        from sovsim.research.doctrine_plot import doctrine_figure

        try:
            from sovsim.cli.essay import timeline

            doctrine_figure(shares, defs.axes, defs.headline, plot,
                            events=timeline() if events else None)
        except (OSError, ValueError) as exc:
            _fail(SovsimError(f"--plot {plot}: {exc}"))
        err.print(f"wrote {escape(str(plot))}", highlight=False)
    if records:
        recs = table.replace({np.nan: None}).to_dict(orient="records")
        sys.stdout.write(json.dumps({"definitions": defs.as_dict(), "indicators": recs},
                                    default=json_default) + "\n")
        return
    if as_json:
        out = {sc: {axis: {str(1921 + i): (None if np.isnan(v) else float(v))
                           for i, v in enumerate(vals)} for axis, vals in by_axis.items()}
               for sc, by_axis in shares.items()}
        sys.stdout.write(json.dumps(out) + "\n")
        return
    for axis, text in defs.axes.items():
        t = Table(title=f"{text}\nheadline: {defs.headline.get(axis, '-')}", title_justify="left")
        t.add_column("indicator")
        t.add_column("scenario")
        for y in shown:
            t.add_column(str(y), justify="right")
        t.add_column("pole", justify="right")
        sub = table[(table["axis"] == axis) & table["year"].isin(shown)]
        for (_, sc), g in sub.groupby(["indicator", "scenario"], sort=False):
            vals = g.set_index("year")["value"]
            pole = g["pole"].iloc[0]
            t.add_row(g["label"].iloc[0], escape(sc), *[f"{vals.get(y, np.nan):.3g}" for y in shown],
                      "-" if np.isnan(pole) else f"{pole:g}")
        console.print(t)
    say(f"definitions and sources: {defs.path}")
