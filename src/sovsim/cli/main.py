"""The command line: ``sovsim run | compare | ensemble | runs | reproduce | validate | scenarios |
data | params | bench | calibrate | sensitivity | doctrine | serve``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

import sovsim.cli.attribute as cli_attribute
import sovsim.cli.doctrine as cli_doctrine
import sovsim.cli.ensemble as cli_ensemble
import sovsim.cli.essay as cli_essay
import sovsim.cli.households as cli_households
import sovsim.cli.runs as cli_runs
from sovsim import history
from sovsim.cli.common import (
    HEADLINE,
    HEADLINE_YEARS,
    MAX_WORKERS,
    check_count,
    check_number,
    check_out_dir,
    check_params,
    check_plot,
    console,
    json_default,
    say,
)
from sovsim.cli.common import fail as _fail
from sovsim.cli.ensemble import SCHEDULER_HELP, STORE_HELP, WEATHER_HELP
from sovsim.cli.uncertainty import register as _register_uncertainty
from sovsim.errors import SovsimError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="sovsim: the Soviet economic system of 1921-1940 as executable policies.")


@app.command()
def run(
    scenario: str = typer.Argument(..., help="a shipped scenario name or a path to a .toml file"),
    out: Path | None = typer.Option(None, "--out", help="directory to write tables to"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet | json"),
    freq: str = typer.Option("annual", "--freq", help="annual | monthly"),
    seed: int = typer.Option(0, "--seed", help="random seed (recorded in the manifest)"),
    params_file: Path | None = typer.Option(None, "--params", help="calibrated parameter file"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the run"),
    households: int | None = typer.Option(
        None, "--households", help="run with this many household rows (the household "
        "engine; up to the real number of 1921, 21,640,321); tables of what only households "
        "give are written beside the standard one; 0: the cell model, as in ensemble"),
    panel: int = typer.Option(0, "--panel", help="with --households: trace this many sampled "
                              "households month by month (household_panel table)"),
    heterogeneity: bool = typer.Option(
        True, "--heterogeneity/--no-heterogeneity", help="with --households: share the cells' "
        "changes by the households' own yields, hunger, and draws of who slaughters, dies and "
        "leaves, or by their stocks alone (which reproduces the cell run exactly)"),
    profile: bool = typer.Option(False, "--profile", help="run the month step by step and "
                                 "print each step's share of the run's time (not stored)"),
    grain_balance: bool = typer.Option(
        False, "--grain-balance", help="print the state's grain balance by crop year (opening "
        "stock, sources, uses by region, closing stock) and the run beside "
        "history/state_grain.csv (not stored; docs/state-grain.md)"),
) -> None:
    """Run one scenario; print headline outcomes, or write the tidy table to --out.
    The run is recorded in the results store; the same manifest again is read from it.
    With --households the run is not stored; its tables go to --out."""
    if fmt not in ("csv", "parquet", "json"):
        _fail(SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet, json)"))
    if freq not in ("annual", "monthly"):
        _fail(SovsimError(f"--freq: unknown {freq!r} (allowed: annual, monthly)"))
    households = households or None  # 0: the cell model, as in `sovsim ensemble`
    if households is None and (panel or not heterogeneity):
        _fail(SovsimError("--panel and --no-heterogeneity need --households"))
    check_count("--households", households)
    check_count("--panel", panel)
    check_out_dir(out)  # before the run: nothing is computed for an output that cannot be written
    check_params(params_file)
    if grain_balance:  # issue 15 (stategrain)
        extra = [name for name, given in (("--out", out is not None), ("--households", households),
                                           ("--store", store is not None), ("--no-store", no_store),
                                           ("--seed", seed != 0), ("--format", fmt != "csv"),
                                           ("--freq", freq != "annual"), ("--profile", profile))
                 if given]
        if extra:
            _fail(SovsimError(f"--grain-balance prints the state's grain balance and writes "
                              f"nothing: it does not take {', '.join(extra)}"))
        from sovsim.api import shipped_parameters
        from sovsim.params import load_overrides
        from sovsim.results.state_grain import (
            balance,
            format_balance,
            format_comparison,
            state_grain_months,
        )
        from sovsim.scenario import load_scenario

        try:
            p = shipped_parameters()
            if params_file is not None:
                p = p.with_overrides(load_overrides(params_file))
            months = state_grain_months(load_scenario(scenario), p)
            console.print(format_balance(balance(months)), highlight=False, markup=False)
            console.print("", format_comparison(months), highlight=False, markup=False)
        except SovsimError as exc:
            _fail(exc)
        return
    if profile:
        extra = [name for name, given in (("--out", out is not None), ("--households", households),
                                           ("--store", store is not None), ("--no-store", no_store),
                                           ("--seed", seed != 0), ("--format", fmt != "csv"),
                                           ("--freq", freq != "annual")) if given]
        if extra:
            _fail(SovsimError(f"--profile times the month and writes nothing: it does not take "
                              f"{', '.join(extra)}"))
        from sovsim import calendar
        from sovsim.api import shipped_parameters
        from sovsim.engine.profile import profile as profile_run
        from sovsim.engine.profile import report
        from sovsim.params import load_overrides
        from sovsim.scenario import load_scenario

        try:
            p = shipped_parameters()
            if params_file is not None:
                p = p.with_overrides(load_overrides(params_file))
            sc = load_scenario(scenario)
            say(f"{sc.name}: the month step by step, over a run of {calendar.N_MONTHS} months")
            console.print(report(profile_run(sc, p)), highlight=False, markup=False)
        except SovsimError as exc:
            _fail(exc)
        return
    try:
        if households is not None:
            res = cli_households.household_run(scenario, households, panel, heterogeneity, seed, params_file)
        else:
            res = cli_ensemble.one_run(scenario, store, no_store, seed=seed,
                                       params_file=params_file)
    except SovsimError as exc:
        _fail(exc)
    if out is not None:
        try:
            for path in res.write(out, fmt=fmt, freq=freq):
                say(f"wrote {path}")
        except (SovsimError, OSError) as exc:
            _fail(f"--out {out}: cannot write: {exc}")
    else:
        _print_headline([res])
        if "household_grain_per_head" in res.tables:
            cli_households.print_summary(res.tables)


@app.command()
def compare(
    scenarios: list[str] = typer.Argument(..., help="scenario names or .toml paths"),
    plot: Path | None = typer.Option(None, "--plot", help="write the chart to this PNG/SVG/PDF"),
    params_file: Path | None = typer.Option(None, "--params", help="calibrated parameter file"),
    members: int = typer.Option(0, "--members", help="ensembles of N members per scenario "
                                "(0: one run each): bands, and differences member by member"),
    seed: int = typer.Option(0, "--seed", help="seed of the ensemble draws"),
    workers: int = typer.Option(1, "--workers", help="local worker processes for ensembles"),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    draw_weather: bool = typer.Option(False, "--draw-weather", help=WEATHER_HELP),
    weather_from: int | None = typer.Option(None, "--weather-from", help="first year of drawn weather"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the runs"),
    events: bool = typer.Option(False, "--events", help="with --plot: mark the political "
                                "timeline (data/essay/events.csv) on the chart"),
    draws_from: str = typer.Option("posterior", "--from", help=cli_ensemble.FROM_HELP),
) -> None:
    """Side-by-side headline outcomes for 1928, 1932, 1933, 1937, 1940, and a chart.
    A published model's scenario (``allen:nep``) is set beside the runs on common variables.
    With --members N: ensembles (median, 5-95 % band), differences member by member."""
    from sovsim.research.published import compare as pub
    from sovsim.research.published import report

    own, published = pub.split_names(scenarios)
    from sovsim.ensemble.runner import MAX_MEMBERS

    check_count("--members", members, most=MAX_MEMBERS)
    check_count("--workers", workers, least=1, most=MAX_WORKERS)
    check_count("--seed", seed)
    if not members:
        check_plot(plot)
        check_params(params_file)
    if events and plot is None:
        _fail(SovsimError("--events marks the chart: give --plot FILE too"))
    marks = cli_essay.timeline() if events else None
    if members:  # ensembles: bands, and differences member by member
        return cli_ensemble.compare_ensembles(
            own, published, plot, members=members, seed=seed, workers=workers,
            scheduler=scheduler, store=store, no_store=no_store, params_file=params_file,
            draw_weather=draw_weather, weather_from=weather_from, events=marks,
            draws_from=draws_from)
    try:
        results = [cli_ensemble.one_run(s, store, no_store, params_file=params_file) for s in own]
        frame = pub.side_by_side(results, published) if published else None
    except SovsimError as exc:
        _fail(exc)
    if results:
        _print_headline(results)
    if frame is not None:
        console.print(report.compare_table(frame, published))
    if plot is not None and results:
        from sovsim.plots import compare_figure

        try:
            compare_figure(results, plot, events=marks)
        except (OSError, ValueError) as exc:
            _fail(f"--plot {plot}: cannot write the chart: {exc}")
        say(f"wrote {plot}")


def headline_table(results) -> Table:
    """The headline outcomes, the years as columns and each variable a group of rows (one
    per scenario): as many scenarios as wanted fit 80 columns. Mt: million tonnes."""
    table = Table(title="sovsim: headline outcomes (model); Mt = million tonnes",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("variable" if len(results) == 1 else "variable / scenario",
                     overflow="fold", ratio=1)
    for y in HEADLINE_YEARS:
        table.add_column(y, justify="right", no_wrap=True, min_width=8)
    for var, scale, label in HEADLINE:
        rows = []
        for res in results:
            s = res.series(var)
            rows.append([f"{s[y] / scale:,.1f}" for y in HEADLINE_YEARS])
        if len(results) == 1:
            table.add_row(label, *rows[0])
            continue
        table.add_row(f"[bold]{label}[/]", *[""] * len(HEADLINE_YEARS))
        for res, cells in zip(results, rows):
            table.add_row("  " + escape(res.scenario), *cells)
    return table


def _print_headline(results) -> None:
    console.print(headline_table(results))


@app.command()
def reproduce(
    name: str = typer.Argument(..., help="feldman | allen | cggt"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """A published model's figures beside their reproduction (docs/published/NAME.md)."""
    from sovsim.research.published import report

    try:
        if as_json:
            sys.stdout.write(report.reproduce_json(name))
            return
        table, notes = report.reproduce_table(name)
    except SovsimError as exc:
        _fail(exc)
    console.print(table)
    for line in notes:
        console.print(line, highlight=False)


@app.command()
def validate(
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    scenario: str = typer.Option("historical", "--scenario"),
    params_file: Path | None = typer.Option(None, "--params", help="calibrated parameter file"),
    coverage: int = typer.Option(0, "--coverage", help="instead: run N members of historical "
                                 "and report how often their 5-95 % bands meet the record, "
                                 "fitted and out of sample (10 to 5,000)"),
    draws_from: str = typer.Option("posterior", "--from", help=cli_ensemble.FROM_HELP),
    seed: int = typer.Option(0, "--seed", help="seed of the --coverage draws"),
) -> None:
    """The model against the record: the fit on the declared targets, the series never fitted
    (out of sample) and every variant with its grade, misses included. With --coverage N:
    whether the ensembles' bands mean something."""
    from sovsim.api import run
    from sovsim.results import validate as v

    check_params(params_file)
    check_count("--seed", seed)
    if coverage:
        return _coverage(coverage, seed, draws_from, params_file, as_json)
    try:
        res = run(scenario, params_file=params_file)
    except SovsimError as exc:
        _fail(exc)
    payload = v.report(res, scenario)
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=1, default=json_default) + "\n")
        return
    famine, coll = payload["famine"], payload["collectivization"]
    for title, rows in (("fit on the declared targets (data/calibration/targets.toml)", payload["fit"]),
                        ("out of sample: series and years never fitted", payload["out_of_sample"])):
        t = Table(title=f"sovsim validate: {escape(scenario)}, {title}; MAPE = mean miss from the band "
                        "of the best-graded usable rows (0 inside)")
        cols = ["series", "region", "years", *(["weight"] if "weight" in rows[0] else []),
                "n", "inside", "MAPE", "grade", "kind", "sources"]
        for col in cols:
            t.add_column(col)
        for r in rows:
            mape = "n/a" if r["mape"] is None else f"{r['mape']:.1%}"
            t.add_row(*[str(r[c]) if c != "MAPE" else mape for c in cols],
                      style="bold" if r["series"] in v.HEADLINE else None)
        console.print(t)
    t = Table(title="every variant, 1926-1940 (MAPE; scored: usable rows, graded above popular and "
                    "not excluded)")
    for col in ("series", "region", "variant", "grade", "n", "MAPE", "scored", "excluded", "sources"):
        t.add_column(col)
    for r in payload["series"]:
        mape = "n/a" if r["mape"] is None else f"{r['mape']:.1%}"
        t.add_row(r["series"], r["region"], r["variant"], r["grade"], str(r["n"]), mape,
                  "yes" if r["scored"] else "no", r["excluded"], r["sources"])
    console.print(t)
    pt = Table(title="per-year values: fitted and out of sample (band of the best-graded rows | model)")
    for col in ("series", "region", "period", "role", "history", "model", "error"):
        pt.add_column(col)
    for role, rows in (("fitted", payload["fit"]), ("out of sample", payload["out_of_sample"])):
        for r in rows:
            for p in r["points"]:
                band = f"{p['lo']:,.4g}" if p["lo"] == p["hi"] else f"{p['lo']:,.4g}-{p['hi']:,.4g}"
                pt.add_row(r["series"], r["region"], p["period"], role, band, f"{p['model']:,.4g}",
                           "inside" if p["error"] == 0 else f"{p['error']:.1%}")
    console.print(pt)
    console.print(f"famine 1930-34: model {famine['model_excess_deaths_1930_1934'] / 1e6:.2f} million "
                  f"excess deaths; published {famine['published_min'] / 1e6:.1f}-"
                  f"{famine['published_max'] / 1e6:.1f} million; inside: {famine['inside_range']}; "
                  f"worst-hit regions (per head): {', '.join(famine['regions_by_deaths_per_head'][:3])}")
    console.print(f"collectivization: peak {coll['peak_share']:.0%} in {coll['peak_month']}, "
                  f"{coll['share_1930_07']:.0%} in 1930-07; surge and retreat: {coll['surge_and_retreat']}")
    # issue 15 (births): the famine where and when it happened
    from rich.markdown import Markdown

    from sovsim.results import famine as famine_checks

    console.print(Markdown("\n".join(["## The famine where and when it happened (out of sample)",
                                      "", *famine_checks.markdown(payload["famine_validation"])])))


def _coverage(members: int, seed: int, draws_from: str, params_file: Path | None,
              as_json: bool) -> None:
    from sovsim.api import _shipped_parameters
    from sovsim.params import load_overrides
    from sovsim.uncertainty import coverage as cov

    try:
        base = _shipped_parameters()
        if params_file is not None:
            base = base.with_overrides(load_overrides(params_file))
        c = cov.coverage(members, seed=seed, draws_from=draws_from, params=base)
    except SovsimError as exc:
        _fail(exc)
    per = cov.by_series(c.points)
    if as_json:
        sys.stdout.write(json.dumps({"drawn_from": c.drawn_from, "members": c.members,
                                     "failed": c.failed, "summary": c.summary.to_dict("records"),
                                     "by_series": per.to_dict("records"),
                                     "degenerate": c.degenerate.to_dict("records")},
                                    indent=1, default=json_default) + "\n")
        return
    t = Table(title=f"sovsim validate --coverage: {c.members} members of historical; a point is "
                    "covered when the 5-95 % band meets the band of the best-graded rows",
              caption=f"parameters drawn from {escape(c.drawn_from)}; {c.failed} members "
                      "stopped on an invariant and are left out")
    for col in ("set", "points", "covered", "rate", "mean width of the band / value"):
        t.add_column(col)
    for r in c.summary.itertuples(index=False):
        t.add_row(r.set, str(r.n), str(r.covered), f"{r.rate:.0%}", f"{r.mean_relative_width:.0%}")
    console.print(t)
    t = Table(title="coverage by series")
    for col in ("set", "series", "region", "points", "covered", "rate", "width"):
        t.add_column(col)
    for r in per.itertuples(index=False):
        t.add_row(r.set, r.series, r.region, str(r.n), str(int(r.covered)), f"{r.rate:.0%}",
                  f"{r.width:.0%}")
    console.print(t)
    n_bad = c.degenerate["member"].nunique() if len(c.degenerate) else 0
    console.print(f"members reaching zero horses, cattle or towns in some year: {n_bad} of "
                  f"{c.members}")


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    from sovsim.scenario import load_scenario, shipped_scenarios

    t = Table(title="shipped scenarios")
    for col in ("name", "extends", "changes", "title"):
        t.add_column(col)
    for name in sorted(shipped_scenarios()):
        sc = load_scenario(name)
        t.add_row(name, sc.parent or "", str(len(sc.changes)), escape(sc.title))
    console.print(t)


@app.command()
def data(
    series: str | None = typer.Argument(None, help="a series name; omit to list them all"),
    as_csv: bool = typer.Option(False, "--csv", help="print CSV"),
    gaps: bool = typer.Option(False, "--gaps", help="list what was looked for and not found"),
    sources: bool = typer.Option(False, "--sources", help="print the bibliography"),
) -> None:
    """List the historical series, or print one with its sources."""
    try:
        if sources:
            for key in sorted(history.sources()):
                console.print(f"[bold]{key}[/]: {history.cite(key)}", highlight=False)
            return
        if gaps:
            df = history.gaps()
            console.print(df.to_string(index=False) if not as_csv else df.to_csv(index=False))
            return
        df = history.load(series)
    except SovsimError as exc:
        _fail(exc)
    if series is None:
        summary = (df.groupby(["series", "unit"])
                   .agg(rows=("value", "size"), variants=("variant", "nunique"),
                        first=("period", "min"), last=("period", "max")).reset_index())
        t = Table(title="historical series (sovsim data SERIES prints one)")
        for col in summary.columns:
            t.add_column(col)
        for row in summary.itertuples(index=False):
            t.add_row(*[str(x) for x in row])
        console.print(t)
        return
    cols = ["region", "period", "value", "unit", "variant", "grade", "excluded", "source", "location"]
    if as_csv:
        sys.stdout.write(df[[*cols, "note"]].to_csv(index=False))
        return
    t = Table(title=series)
    for col in cols:
        t.add_column(col)
    for row in df.sort_values(["region", "period"])[cols].itertuples(index=False):
        t.add_row(*[f"{x:,.6g}" if isinstance(x, float) else str(x) for x in row])
    console.print(t)


@app.command()
def params(
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    priors: bool = typer.Option(False, "--priors", help="only the parameters with a prior"),
) -> None:
    """List every parameter with its value, unit, provenance and prior."""
    from sovsim.params import load_parameters

    ps = [p for p in load_parameters() if p.prior is not None or not priors]
    if as_json:
        sys.stdout.write(json.dumps([
            {"name": p.name, "value": np.asarray(p.value).tolist(), "unit": p.unit,
             "status": p.status, "provenance": p.provenance(),
             "prior": p.prior.as_dict() if p.prior else None} for p in ps], indent=1) + "\n")
        return
    t = Table(title="parameters")
    for col in ("name", "value", "unit", "status", "provenance", "prior"):
        t.add_column(col)
    for p in ps:
        val = ", ".join(f"{x:g}" for x in p.value) if p.regional else f"{p.value:g}"
        prior = "" if p.prior is None else (
            p.prior.dist + "(" + ", ".join(f"{k}={v:g}" for k, v in p.prior.args.items()) + "): "
            + p.prior.reason)
        t.add_row(p.name, val, p.unit, p.status, p.provenance(), prior)
    console.print(t)


@app.command()
def bench(
    runs: int = typer.Option(20, "--runs", help="how many coarse runs to time"),
    households: list[int] | None = typer.Option(
        None, "--households", help="time the household engine with this many households "
        "(give it more than once for a sweep of sizes, run in rounds)"),
    months: int = typer.Option(240, "--months", help="with --households: months to run"),
    heterogeneity: bool = typer.Option(True, "--heterogeneity/--no-heterogeneity",
                                       help="with --households: as in sovsim run"),
    repeat: int = typer.Option(1, "--repeat", min=1,
                               help="with --households: runs to make; the fastest is shown"),
    mesa_agents: int = typer.Option(
        100_000, "--mesa-agents", min=0, help="with --households: agents of the Mesa 3 "
        "comparison (benchmarks/mesa_households.py, when Mesa is installed); 0: none"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Time coarse 1921-1940 runs, or (--households) the household engine beside this
    machine's memory bandwidth and a Mesa 3 model of the household rule (a benchmark that
    prints figures; never a test)."""
    check_count("--runs", runs, least=1, most=100_000)  # 10 minutes of coarse runs
    check_count("--months", months, least=1, most=240)
    check_count("--repeat", repeat, least=1, most=100)
    check_count("--mesa-agents", mesa_agents, most=10_000_000)
    if households:
        from sovsim.population.build import full_size

        for h in households:  # at most every household of 1921
            check_count("--households", h, least=1, most=full_size(1921))
        cli_households.bench_households(households, months, heterogeneity, as_json, repeat,
                                        mesa_agents)
        return
    from sovsim.engine.simulation import simulate
    from sovsim.inputs import load_inputs
    from sovsim.params import load_parameters
    from sovsim.scenario import load_scenario

    sc = load_scenario("historical")
    p = load_parameters()
    inputs = load_inputs()
    simulate(sc, p, inputs)  # warm caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        simulate(sc, p, inputs)
        times.append(time.perf_counter() - t0)
    out = {"runs": len(times), "median_s": float(np.median(times)), "min_s": float(np.min(times)),
           "months": 240, "resolution": "cells"}
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        console.print(f"coarse 1921-1940 run: median {out['median_s'] * 1000:.1f} ms, "
                      f"best {out['min_s'] * 1000:.1f} ms over {out['runs']} runs")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    workers: int = typer.Option(0, "--workers", help="model worker processes (0: one per core)"),
    rate: float = typer.Option(20.0, "--rate", help="requests per second per client (0: no limit)"),
    burst: int = typer.Option(60, "--burst", help="requests a client may send at once"),
    allow_host: list[str] | None = typer.Option(
        None, "--allow-host", help="a host name the server answers for (give it once per "
        "name); loopback names always, and beyond loopback this machine's names and addresses"),
    header_timeout: float = typer.Option(10.0, "--header-timeout",
                                         help="seconds a client has to send its request headers"),
    body_timeout: float = typer.Option(30.0, "--body-timeout",
                                       help="seconds a client has to send its request body"),
) -> None:
    """Serve the classroom web app (the page, and its JSON API; OpenAPI at /openapi.json)."""
    from sovsim.web.app import Settings, create_app, default_workers
    from sovsim.web.server import allowed_hosts
    from sovsim.web.server import serve as run_server

    if not 0 < port < 65536:
        _fail(SovsimError(f"--port: {port} is not a port number (1-65535)"))
    check_count("--workers", workers, most=MAX_WORKERS)
    check_number("--rate", rate)
    check_count("--burst", burst, least=1, most=1_000_000)
    check_number("--header-timeout", header_timeout, least=0.1)
    check_number("--body-timeout", body_timeout, least=0.1)
    hosts = allowed_hosts(host, allow_host or ())
    settings = Settings(workers=workers or default_workers(), rate=rate, burst=burst,
                        allowed_hosts=hosts)
    say(f"sovsim classroom on http://{host}:{port}/  (Ctrl-C stops it); answers for: "
        + ", ".join(hosts))
    run_server(create_app(settings), host, port, header_timeout=header_timeout,
               body_timeout=body_timeout)


app.command("ensemble")(cli_ensemble.ensemble)
app.command("doctrine")(cli_doctrine.doctrine)
app.command("attribute")(cli_attribute.attribute)
app.command("essay")(cli_essay.essay)
app.add_typer(cli_runs.runs_app, name="runs")
_register_uncertainty(app)  # calibrate and sensitivity (cli/uncertainty.py)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
