"""The command line: ``sovsim run | compare | ensemble | runs | reproduce | validate | scenarios |
data | params | bench | calibrate | sensitivity | doctrine | serve``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from sovsim import history
from sovsim import cli_doctrine, cli_ensemble, cli_households
from sovsim.cli_ensemble import SCHEDULER_HELP, STORE_HELP, WEATHER_HELP, json_default
from sovsim.errors import SovsimError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="sovsim: the Soviet economic system of 1921-1940 as executable policies.")
# Wide tables stay readable when output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)

HEADLINE_YEARS = ("1928", "1932", "1933", "1937", "1940")
HEADLINE = (
    ("grain_harvest_t", 1e6, "harvest, mt"),
    ("grain_procurement_t", 1e6, "procurement, mt"),
    ("grain_exports_t", 1e6, "exports, mt"),
    ("horses_head", 1e6, "horses, m"),
    ("cattle_head", 1e6, "cattle, m"),
    ("urban_population_persons", 1e6, "urban pop., m"),
    ("collectivized_share", 0.01, "collectivized, %"),
    ("industrial_output_index", 1, "industry, 1928=100"),
    ("gdp_per_capita_index", 1, "GDP/head, 1928=100"),
    ("excess_deaths_persons", 1e3, "excess deaths, k"),
    ("food_kcal_per_person_day", 1, "food, kcal/day"),
)


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


@app.command()
def run(
    scenario: str = typer.Argument(..., help="a shipped scenario name or a path to a .toml file"),
    out: Optional[Path] = typer.Option(None, "--out", help="directory to write tables to"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet | json"),
    freq: str = typer.Option("annual", "--freq", help="annual | monthly"),
    seed: int = typer.Option(0, "--seed", help="random seed (recorded in the manifest)"),
    params_file: Optional[Path] = typer.Option(None, "--params", help="calibrated parameter file"),
    store: Optional[Path] = typer.Option(None, "--store", help=STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the run"),
    households: Optional[int] = typer.Option(
        None, "--households", help="run with this many household rows (the household "
        "engine; up to the real number of 1921, 21,640,321); tables of what only households "
        "give are written beside the standard one"),
    panel: int = typer.Option(0, "--panel", help="with --households: trace this many sampled "
                              "households month by month (household_panel table)"),
    heterogeneity: bool = typer.Option(
        True, "--heterogeneity/--no-heterogeneity", help="with --households: share the cells' "
        "changes by the households' own yields, hunger, and draws of who slaughters, dies and "
        "leaves, or by their stocks alone (which reproduces the cell run exactly)"),
    profile: bool = typer.Option(False, "--profile", help="run the month step by step and "
                                 "print each step's share of the run's time (not stored)"),
) -> None:
    """Run one scenario; print headline outcomes, or write the tidy table to --out.
    The run is recorded in the results store; the same manifest again is read from it.
    With --households the run is not stored; its tables go to --out."""
    if fmt not in ("csv", "parquet", "json"):
        _fail(SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet, json)"))
    if freq not in ("annual", "monthly"):
        _fail(SovsimError(f"--freq: unknown {freq!r} (allowed: annual, monthly)"))
    if households is None and (panel or not heterogeneity):
        _fail(SovsimError("--panel and --no-heterogeneity need --households"))
    if profile:
        from sovsim.engine.profile import profile_scenario
        try:
            console.print(profile_scenario(scenario, params_file), highlight=False)
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
        for path in res.write(out, fmt=fmt, freq=freq):
            console.print(f"wrote {path}")
    else:
        _print_headline([res])
        if "household_grain_per_head" in res.tables:
            cli_households.print_summary(res.tables)


@app.command()
def compare(
    scenarios: list[str] = typer.Argument(..., help="scenario names or .toml paths"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write the chart to this PNG/SVG/PDF"),
    params_file: Optional[Path] = typer.Option(None, "--params", help="calibrated parameter file"),
    members: int = typer.Option(0, "--members", help="ensembles of N members per scenario "
                                "(0: one run each): bands, and differences member by member"),
    seed: int = typer.Option(0, "--seed", help="seed of the ensemble draws"),
    workers: int = typer.Option(1, "--workers", help="local worker processes for ensembles"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    draw_weather: bool = typer.Option(False, "--draw-weather", help=WEATHER_HELP),
    weather_from: Optional[int] = typer.Option(None, "--weather-from", help="first year of drawn weather"),
    store: Optional[Path] = typer.Option(None, "--store", help=STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the runs"),
) -> None:
    """Side-by-side headline outcomes for 1928, 1932, 1933, 1937, 1940, and a chart.
    A published model's scenario (``allen:nep``) is set beside the runs on common variables.
    With --members N: ensembles (median, 5-95 % band), differences member by member."""
    from sovsim.published import compare as pub
    from sovsim.published import report

    own, published = pub.split_names(scenarios)
    if members:  # ensembles: bands, and differences member by member
        return cli_ensemble.compare_ensembles(
            own, published, plot, members=members, seed=seed, workers=workers,
            scheduler=scheduler, store=store, no_store=no_store, params_file=params_file,
            draw_weather=draw_weather, weather_from=weather_from)
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

        compare_figure(results, plot)
        console.print(f"wrote {plot}")


def _print_headline(results) -> None:
    table = Table(title="sovsim: headline outcomes (model)")
    table.add_column("variable")
    for res in results:
        for y in HEADLINE_YEARS:
            table.add_column(f"{res.scenario}\n{y}", justify="right")
    for var, scale, label in HEADLINE:
        row = [label]
        for res in results:
            s = res.series(var)
            row += [f"{s[y] / scale:,.1f}" for y in HEADLINE_YEARS]
        table.add_row(*row)
    console.print(table)


@app.command()
def reproduce(
    name: str = typer.Argument(..., help="feldman | allen | cggt"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """A published model's figures beside their reproduction (docs/published/NAME.md)."""
    from sovsim.published import report

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
    params_file: Optional[Path] = typer.Option(None, "--params", help="calibrated parameter file"),
) -> None:
    """The model against every historical series and variant, 1926-1940, misses included."""
    import sovsim
    from sovsim.results import validate as v

    try:
        res = sovsim.run(scenario, params_file=params_file)
    except SovsimError as exc:
        _fail(exc)
    table = v.table(res)
    pts = [p for p in v.points(res) if v.FIT_FROM <= p.year <= v.FIT_TO]
    famine = v.famine_check(res)
    coll = v.collectivization_check(res)
    if as_json:
        payload = {
            "scenario": scenario,
            "series": [
                {**row, "points": [{"period": p.period, "history": p.history, "model": p.model}
                                   for p in pts if (p.series, p.region, p.variant) ==
                                   (row["series"], row["region"], row["variant"])]}
                for row in table.to_dict(orient="records")
            ],
            "famine": famine,
            "collectivization": coll,
        }
        sys.stdout.write(json.dumps(payload, indent=1, default=json_default) + "\n")
        return
    t = Table(title=f"sovsim validate: {scenario} against history, 1926-1940 (MAPE)")
    for col in ("series", "region", "variant", "n", "MAPE", "nearest", "sources"):
        t.add_column(col)
    for row in table.itertuples(index=False):
        style = "bold" if row.series in v.HEADLINE and row.nearest else None
        t.add_row(row.series, row.region, row.variant, str(row.n), f"{row.mape:.1%}",
                  "*" if row.nearest else "", row.sources, style=style)
    console.print(t)
    pt = Table(title="per-year values, 1926-1940 (history | model)")
    for col in ("series", "region", "variant", "period", "history", "model", "error"):
        pt.add_column(col)
    for p in sorted(pts, key=lambda q: (q.series not in v.HEADLINE, q.series, q.region, q.variant, q.period)):
        err = f"{(p.model - p.history) / p.history:+.1%}" if p.history else "n/a"
        pt.add_row(p.series, p.region, p.variant, p.period, f"{p.history:,.4g}",
                   f"{p.model:,.4g}", err)
    console.print(pt)
    console.print(f"famine 1930-34: model {famine['model_excess_deaths_1930_1934'] / 1e6:.2f} million "
                  f"excess deaths; published {famine['published_min'] / 1e6:.1f}-"
                  f"{famine['published_max'] / 1e6:.1f} million; inside: {famine['inside_range']}; "
                  f"worst-hit regions (per head): {', '.join(famine['regions_by_deaths_per_head'][:3])}")
    console.print(f"collectivization: peak {coll['peak_share']:.0%} in {coll['peak_month']}, "
                  f"{coll['share_1930_07']:.0%} in 1930-07; surge and retreat: {coll['surge_and_retreat']}")


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    from sovsim.scenario import load_scenario, shipped_scenarios

    t = Table(title="shipped scenarios")
    for col in ("name", "extends", "changes", "title"):
        t.add_column(col)
    for name in sorted(shipped_scenarios()):
        sc = load_scenario(name)
        t.add_row(name, sc.parent or "", str(len(sc.changes)), sc.title)
    console.print(t)


@app.command()
def data(
    series: Optional[str] = typer.Argument(None, help="a series name; omit to list them all"),
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
    cols = ["region", "period", "value", "unit", "variant", "source", "location"]
    if as_csv:
        sys.stdout.write(df[cols + ["note"]].to_csv(index=False))
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
    households: Optional[list[int]] = typer.Option(
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
    if households:
        cli_households.bench_households(households, months, heterogeneity, as_json, repeat,
                                        mesa_agents)
        return
    import sovsim
    from sovsim.engine.simulation import simulate
    from sovsim.inputs import load_inputs
    from sovsim.params import load_parameters

    sc = sovsim.load_scenario("historical")
    p = load_parameters()
    inputs = load_inputs()
    simulate(sc, p, inputs)  # warm caches
    times = []
    for _ in range(max(runs, 1)):
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
) -> None:
    """Serve the classroom web app (the page, and its JSON API; OpenAPI at /openapi.json)."""
    import uvicorn

    from sovsim.web.app import Settings, create_app, default_workers

    if not 0 < port < 65536:
        _fail(SovsimError(f"--port: {port} is not a port number (1-65535)"))
    if workers < 0 or rate < 0 or burst < 1:
        _fail(SovsimError("--workers and --rate must be >= 0, --burst >= 1"))
    settings = Settings(workers=workers or default_workers(), rate=rate, burst=burst)
    console.print(f"sovsim classroom on http://{host}:{port}/  (Ctrl-C stops it)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


app.command("ensemble")(cli_ensemble.ensemble)
app.command("doctrine")(cli_doctrine.doctrine)
app.add_typer(cli_ensemble.runs_app, name="runs")

# calibrate and sensitivity live in their own module (cli.py stays under the size limit)
from sovsim.cli_uncertainty import register as _register_uncertainty

_register_uncertainty(app)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
