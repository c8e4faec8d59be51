"""The command line of ensembles: ``sovsim ensemble`` and ``sovsim compare --members``
(registered on the app of ``sovsim.cli``; the results store's commands: ``sovsim.cli.runs``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from sovsim.cli.common import (
    HEADLINE,
    check_out_dir,
    check_params,
    check_plot,
    console,
    err,
    json_default,
    say,
)
from sovsim.cli.common import fail as _fail
from sovsim.errors import SovsimError

STORE_HELP = "results store directory (default: $SOVSIM_STORE, else ~/.local/share/sovsim/store)"
SCHEDULER_HELP = "address of a running Dask scheduler (tcp://host:8786): members run there"
WEATHER_HELP = ("draw each member's weather from the historical record (whole years, "
                "with replacement) from the first harvest after the scenarios' divergence")
FROM_HELP = ("what the members' parameters are drawn from: posterior (the calibrated "
             "posterior shipped with sovsim), priors (the parameter files' wide priors, not a "
             "calibration), or the path of a posterior sample (calibrate --method abc-rm)")
BAND_YEARS = ("1928", "1932", "1933", "1937", "1940")


__all__ = ["json_default"]  # (re-exported: older imports of it from here)


def one_run(scenario: str, store: Path | None, no_store: bool, *, seed: int = 0,
            params_file: Path | None = None):
    """A single run, recorded in the results store (read from it if the same manifest was
    run before) unless ``no_store``."""
    from sovsim.api import run
    from sovsim.ensemble.runner import stored_run

    if no_store:
        return run(scenario, seed=seed, params_file=params_file)
    res, cached = stored_run(scenario, store=store, seed=seed, params_file=params_file)
    if cached:
        err.print(f"({res.scenario}: read from the results store, same manifest as before)",
                  markup=False, highlight=False)
    return res


def compare_ensembles(scenarios, published, plot: Path | None, events=None, **kw) -> None:
    """``sovsim compare --members``: bands per scenario, differences member by member."""
    if published:
        _fail(SovsimError("--members: published models (name:scenario) have no ensembles; "
                          "compare them without --members"))
    check_plot(plot)
    check_params(kw.get("params_file"))
    ens = run_ensemble(scenarios, **kw)
    print_bands(ens)
    if plot is not None:
        from sovsim.plots.bands import band_figure

        try:
            band_figure(ens, plot, events=events)
        except (OSError, ValueError) as exc:
            _fail(f"--plot {plot}: cannot write the chart: {exc}")
        say(f"wrote {plot}")


def _progress_columns():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("? members/s" if speed is None else f"{speed:.2f} members/s")

    return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())


def _model_compiled() -> bool:
    """Whether numba's cache holds the compiled month (else the first run compiles it)."""
    import os

    cache = os.environ.get("NUMBA_CACHE_DIR")
    return bool(cache) and any(Path(cache).rglob("simulation.run_*.nbi"))


class _Interrupted(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


def _on_sigterm(signum, frame) -> None:
    raise _Interrupted()


def run_ensemble(scenarios, **kw):
    """Run ensembles with a Rich progress bar on stderr from the first second (preparing,
    compiling the model the first time, then members done, rate, time left). Ctrl-C or
    SIGTERM stops every worker, keeps what was stored, and says how to resume."""
    import signal

    from rich.progress import Progress

    from sovsim.ensemble import runner

    if kw.pop("no_store"):
        kw["store"] = False
    try:  # the sizes refused by name before anything is shown
        runner.check_options(members=kw.get("members"), households=kw.get("households", 0),
                             workers=kw.get("workers", 1), seed=kw.get("seed", 0),
                             scheduler=kw.get("scheduler"))
    except SovsimError as exc:
        _fail(exc)
    bar = Progress(*_progress_columns(), console=err)
    first = ("compiling the model once, about a minute" if not _model_compiled()
             else "preparing the members")
    bar.start()
    task = [bar.add_task(first, total=None)]
    state = {"done": 0, "total": 0, "computing": False}

    def progress(done: int, total: int) -> None:
        state["done"], state["total"] = done, total
        if not state["computing"] and done == 0:
            bar.update(task[0], total=total, completed=0)
        elif not state["computing"]:  # members found in the store do not count in the rate
            state["computing"] = True
            bar.remove_task(task[0])
            task[0] = bar.add_task("members", total=total, completed=done)
        else:
            bar.update(task[0], completed=done)

    old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        ens = runner.run(scenarios, progress=progress, **kw)
    except SovsimError as exc:
        bar.stop()
        _fail(exc)
    except KeyboardInterrupt:
        bar.stop()
        kept = ("nothing was stored (--no-store)" if kw.get("store") is False else
                "the members computed so far are stored; run the same command again to "
                "resume")
        err.print(f"interrupted after {state['done']} of {state['total']} members: {kept}",
                  highlight=False)
        raise typer.Exit(code=130) from None
    finally:
        bar.stop()
        signal.signal(signal.SIGTERM, old_term)
    for name in ens.scenarios:
        where = f"stored as {ens.ids[name]}" if name in ens.ids else "not stored"
        err.print(f"{name}: {ens.computed.get(name, 0)} of {ens.members} members run now, "
                  f"the rest from the store; {where}", highlight=False, markup=False)
    return ens


def _band_cell(q: dict, scale: float) -> str:
    return f"{q[0.5] / scale:,.1f} [{q[0.05] / scale:,.1f}, {q[0.95] / scale:,.1f}]"


def print_bands(ens) -> None:
    """Headline outcomes: median [5 %, 95 %] per scenario, and each scenario minus the first,
    member by member."""
    heads = [v for v, _, _ in HEADLINE]
    tables = {n: ens.bands(n) for n in ens.scenarios}
    first = ens.scenarios[0]
    diffs = {f"{n} - {first}": ens.difference(first, n) for n in ens.scenarios[1:]}
    t = Table(title=f"sovsim: headline outcomes, ensembles of {ens.members} members "
              f"(seed {ens.seed}): median [5 %, 95 %]",
              caption=f"parameters drawn from {ens.drawn_from()}")
    t.add_column("variable")
    t.add_column("year")
    for n in ens.scenarios:
        t.add_column(escape(n), justify="right")
    for n in diffs:
        t.add_column(f"{escape(n)}\n(member by member)", justify="right")

    def lookup(frame):
        sub = frame[(frame["region"] == "USSR") & frame["variable"].isin(heads)
                    & frame["period"].isin(BAND_YEARS)]
        return {(r.variable, r.period, r.quantile): r.value
                for r in sub.itertuples(index=False)}

    cells = {n: lookup(f) for n, f in {**tables, **diffs}.items()}
    for var, scale, label in HEADLINE:
        for y in BAND_YEARS:
            row = [label, y]
            for n in [*tables, *diffs]:
                q = {qq: cells[n][var, y, qq] for qq in (0.05, 0.5, 0.95)}
                row.append(_band_cell(q, scale))
            t.add_row(*row)
    console.print(t)


def ensemble(
    scenarios: list[str] = typer.Argument(..., help="scenario names or .toml paths"),
    members: int = typer.Option(..., "--members", help="members per scenario (>= 1)"),
    households: int = typer.Option(0, "--households", help="household rows per member: the "
                                   "household engine, and bands of what only households give "
                                   "(written with --out); 0: the cell model"),
    seed: int = typer.Option(0, "--seed", help="seed of the draws (member i: draw (seed, i))"),
    workers: int = typer.Option(1, "--workers", help="local worker processes"),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    out: Path | None = typer.Option(None, "--out", help="write the band tables here"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet"),
    draw_weather: bool = typer.Option(False, "--draw-weather", help=WEATHER_HELP),
    weather_from: int | None = typer.Option(None, "--weather-from", help="first year of drawn weather"),
    params_file: Path | None = typer.Option(None, "--params", help="calibrated parameter file"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the ensemble"),
    monthly: bool = typer.Option(False, "--monthly", help="store coarse members' monthly "
                                 "values too (12 times the bytes; default: annual)"),
    draws_from: str = typer.Option("posterior", "--from", help=FROM_HELP),
) -> None:
    """Ensembles: parameters drawn from the calibrated posterior (or, with --from priors, from
    the parameter files' priors: `sovsim params --priors`), bands
    (5, 25, 50, 75, 95 %) of every output, and differences from the first scenario member by
    member (common random numbers). Stored as it goes: a killed ensemble resumes (Ctrl-C
    too). At most 1,000,000 members per scenario."""
    if fmt not in ("csv", "parquet"):
        _fail(SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)"))
    check_out_dir(out)  # before the members run
    check_params(params_file)
    ens = run_ensemble(scenarios, members=members, households=households, seed=seed,
                        workers=workers, scheduler=scheduler, store=store, no_store=no_store,
                        params_file=params_file, draw_weather=draw_weather,
                        weather_from=weather_from, monthly=monthly, draws_from=draws_from)
    if out is not None:
        try:
            for path in ens.write(out, fmt=fmt):
                say(f"wrote {path}")
        except (SovsimError, OSError) as exc:
            _fail(exc)
    else:
        print_bands(ens)
