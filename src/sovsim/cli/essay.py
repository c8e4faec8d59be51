"""``sovsim essay``: the seed essay's claims (or a user's file of claims) tested one by one
against the runs: the evidence, a verdict by a written rule, the counter-evidence, and the
claims that outcomes cannot test."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from sovsim.cli.common import console, err
from sovsim.cli.common import fail as _fail
from sovsim.errors import SovsimError


def essay(
    scenarios: list[str] = typer.Argument(None, help="scenarios to run (shipped names or .toml "
                                          "paths); default: historical and every scenario the "
                                          "claims name (nep, permanent-revolution)"),
    claims_file: Path | None = typer.Option(None, "--claims", help="a claims file of the form "
                                               "of data/essay/claims.toml (your own essay)"),
    as_json: bool = typer.Option(False, "--json", help="every claim, its tests, values, verdict "
                                 "and chart series, as JSON"),
    plot: Path | None = typer.Option(None, "--plot", help="draw one panel per testable claim "
                                        "to this PNG/SVG/PDF"),
    events: bool = typer.Option(False, "--events", help="with --plot: mark the political "
                                "timeline (data/essay/events.csv) on the chart"),
) -> None:
    """The essay, claim by claim. Each testable claim's indicator (the doctrine lens or a model
    output) is compared before and after, or between scenarios, and given a verdict: supports,
    partly or contradicts, by the rule printed beside it. Claims about motives are listed as
    outside what outcomes can test. See docs/essay.md."""
    from sovsim.research import essay as es

    if events and plot is None:
        _fail(SovsimError("--events marks the chart: give --plot FILE too"))
    try:
        claims = es.load_claims(claims_file)
        report = es.run_claims(claims, scenarios or None)
    except (SovsimError, ValueError) as exc:
        _fail(exc)
    if plot is not None:
        from sovsim.plots.essay import essay_figure

        try:
            essay_figure(report, plot, events=events)
        except (OSError, ValueError) as exc:
            _fail(SovsimError(f"--plot {plot}: {exc}"))
        err.print(f"wrote {plot}")
    if as_json:
        sys.stdout.write(json.dumps(report, allow_nan=False) + "\n")
        return
    print_report(report)


def print_report(report: dict) -> None:
    console.print(f"[bold]The essay, claim by claim[/] (scenarios run: "
                  f"{', '.join(report['scenarios'])}; claims: {report['claims_file']})",
                  highlight=False)
    console.print(f"[bold]Verdict rule:[/] {report['rule']}\n", highlight=False)
    outside = []
    for c in report["claims"]:
        if not c["testable"]:
            outside.append(c)
            continue
        verdict = c["verdict"] or "no data (no test could be computed)"
        console.print(f"[bold]{c['id']}[/] ({c['period']}; {c['regime']})", highlight=False)
        console.print(f"  \u201c{c['quote']}\u201d", highlight=False)
        console.print(f"  claim: {c['asserts']}", highlight=False)
        t = Table(show_header=True, box=None, pad_edge=False)
        for col in ("", "evidence", "scenario", "values", "result"):
            t.add_column(col)
        for kind, rows in (("for", c["tests"]), ("against", c["counters"])):
            for r in rows:
                t.add_row(kind, r["says"], _scenario(r), r.get("why", ""), r["result"])
        console.print(t)
        b, a = c["before"], c["after"]
        ev = Table(show_header=True, box=None, pad_edge=False,
                   title=f"  each indicator, mean {b[0]}-{b[1]} and {a[0]}-{a[1]}",
                   title_justify="left")
        for col in ("indicator", "unit", "scenario", f"{b[0]}-{b[1]}", f"{a[0]}-{a[1]}"):
            ev.add_column(col)
        for ind, by_sc in c["evidence"].items():
            chart = c["charts"][ind]
            for sc, v in by_sc.items():
                ev.add_row(chart["label"], chart["unit"], sc, _num(v["before"]), _num(v["after"]))
        console.print(ev)
        console.print(f"  [bold]verdict: {verdict}[/]  (rule: supports if every test holds "
                      "and no counter-evidence holds; contradicts if none holds and one goes "
                      "the other way; partly otherwise)", highlight=False)
        if c["counters"] and any(r["result"] == "holds" for r in c["counters"]):
            console.print("  counter-claim: " + " ".join(
                r["says"] for r in c["counters"] if r["result"] == "holds"), highlight=False)
        console.print("")
    if outside:
        console.print("[bold]Outside what outcomes can test[/] (no verdict):", highlight=False)
        for c in outside:
            console.print(f"  [bold]{c['id']}[/]: \u201c{c['quote']}\u201d", highlight=False)
            console.print(f"    why: {c['why_not']}", highlight=False)


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _scenario(r: dict) -> str:
    if r["kind"] == "contrast":
        return f"{r['scenario']} vs {r.get('versus', 'historical')}"
    return r["scenario"]


def timeline() -> list[dict]:
    """The political timeline for ``--events`` on any ``--plot`` chart (annotations only)."""
    from sovsim.research import essay as es

    try:
        return es.events()
    except SovsimError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits
