"""The command line of ensembles and of the results store: ``sovsim ensemble``,
``sovsim runs list|show|export|rm``, and ``sovsim compare --members`` (registered on the app
of ``sovsim.cli``)."""

from __future__ import annotations

import json
import sys
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
from sovsim.scenario.limits import file_stem

STORE_HELP = "results store directory (default: $SOVSIM_STORE, else ~/.local/share/sovsim/store)"
SCHEDULER_HELP = "address of a running Dask scheduler (tcp://host:8786): members run there"
WEATHER_HELP = ("draw each member's weather from the historical record (whole years, "
                "with replacement) from the first harvest after the scenarios' divergence")
BAND_YEARS = ("1928", "1932", "1933", "1937", "1940")


__all__ = ["json_default"]  # (re-exported: older imports of it from here)


def one_run(scenario: str, store: Path | None, no_store: bool, *, seed: int = 0,
            params_file: Path | None = None):
    """A single run, recorded in the results store (read from it if the same manifest was
    run before) unless ``no_store``."""
    from sovsim.api import run
    from sovsim.ensemble import stored_run

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


def run_ensemble(scenarios, **kw):
    """Run ensembles with a Rich progress bar on stderr (members done, rate, time left); the
    bar appears once the inputs are checked and the members are counted."""
    from rich.progress import Progress

    from sovsim import ensemble

    if kw.pop("no_store"):
        kw["store"] = False
    bar = Progress(*_progress_columns(), console=err)
    task = None

    def progress(done: int, total: int) -> None:
        nonlocal task
        if task is None:  # members found in the store do not count in the rate
            bar.start()
            task = bar.add_task("members", total=total, completed=done)
        else:
            bar.update(task, completed=done)

    try:
        ens = ensemble.run(scenarios, progress=progress, **kw)
    except SovsimError as exc:
        bar.stop()
        _fail(exc)
    finally:
        bar.stop()
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
              f"(seed {ens.seed}): median [5 %, 95 %]")
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
) -> None:
    """Ensembles: parameters drawn from their priors (`sovsim params --priors`), bands
    (5, 25, 50, 75, 95 %) of every output, and differences from the first scenario member by
    member (common random numbers). Stored as it goes: a killed ensemble resumes."""
    if fmt not in ("csv", "parquet"):
        _fail(SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)"))
    check_out_dir(out)  # before the members run
    check_params(params_file)
    ens = run_ensemble(scenarios, members=members, households=households, seed=seed,
                        workers=workers, scheduler=scheduler, store=store, no_store=no_store,
                        params_file=params_file, draw_weather=draw_weather,
                        weather_from=weather_from)
    if out is not None:
        try:
            for path in ens.write(out, fmt=fmt):
                say(f"wrote {path}")
        except (SovsimError, OSError) as exc:
            _fail(exc)
    else:
        print_bands(ens)


runs_app = typer.Typer(no_args_is_help=True, help="The results store: list, show, export, rm.")


def _open_store(store: Path | None):
    from sovsim.store import Store

    try:
        return Store(store)
    except SovsimError as exc:
        _fail(exc)


@runs_app.command("list")
def runs_list(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    all_: bool = typer.Option(False, "--all", help="also the members of ensembles"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Runs and ensembles in the store, oldest first."""
    st = _open_store(store)
    kinds = ("run", "ensemble", "member") if all_ else ("run", "ensemble")
    entries = st.entries(kinds)
    if as_json:
        sys.stdout.write(json.dumps([e.__dict__ for e in entries], indent=1) + "\n")
        return
    t = Table(title=f"results store {st.root}")
    for col in ("id", "kind", "scenario", "members", "seed", "status", "created", "weather"):
        t.add_column(col)
    for e in entries:
        done = len(st.members(e.id)) if e.kind == "ensemble" else None
        mem = "" if e.members is None else (f"{e.members}" if e.status == "complete"
                                            else f"{done}/{e.members}")
        w = e.manifest.get("weather", "")
        t.add_row(e.id, e.kind, escape(e.scenario), mem, "" if e.seed is None else str(e.seed),
                  e.status, e.created, w if isinstance(w, str) else f"drawn from {w['drawn_from']}")
    console.print(t)


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="an id (or its first characters) from `sovsim runs list`"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """The manifest of a run or ensemble, its files and (ensembles) its members."""
    st = _open_store(store)
    try:
        e = st.resolve(run_id)
    except SovsimError as exc:
        _fail(exc)
    out = {"id": e.id, "kind": e.kind, "status": e.status, "created": e.created,
           "manifest": e.manifest, "path": str(st.path(e.id)),
           "files": sorted(p.name for p in st.path(e.id).glob("*") if not p.name.startswith("."))}
    if e.kind == "ensemble":
        out["members_stored"] = len(st.members(e.id))
    sys.stdout.write(json.dumps(out, indent=1) + "\n")


@runs_app.command("export")
def runs_export(
    run_id: str = typer.Argument(..., help="an id (or its first characters)"),
    out: Path = typer.Option(..., "--out", help="directory to write to"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet"),
    freq: str = typer.Option("annual", "--freq", help="runs: annual | monthly"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Write a stored run's tidy table, or an ensemble's bands and its members' annual table."""
    from sovsim.results import Results
    from sovsim.store import atomic_write, atomic_write_text

    if fmt not in ("csv", "parquet"):
        _fail(SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)"))
    check_out_dir(out)
    st = _open_store(store)
    try:
        e = st.resolve(run_id)
        out.mkdir(parents=True, exist_ok=True)
        stem = file_stem(e.scenario)
        tables = {}
        if e.kind == "ensemble":
            if e.status != "complete":
                raise SovsimError(f"ensemble {e.id} is partial ({len(st.members(e.id))} of "
                                  f"{e.members} members): rerun it to complete it")
            import pandas as pd

            tables[f"{stem}_{e.id[:8]}_bands"] = st.bands(e.id)
            frames = []
            for m, rid in st.members(e.id).items():
                f = Results(e.scenario, st.records(rid)).annual()
                f.insert(1, "member", m)
                frames.append(f)
            tables[f"{stem}_{e.id[:8]}_members_annual"] = pd.concat(frames, ignore_index=True)
        else:
            res = Results(e.scenario, st.records(e.id), e.manifest)
            if freq not in ("annual", "monthly"):
                raise SovsimError(f"--freq: unknown {freq!r} (allowed: annual, monthly)")
            tables[f"{stem}_{e.id[:8]}_{freq}"] = res.annual() if freq == "annual" else res.monthly()
        for stem, table in tables.items():
            path = atomic_write(out / f"{stem}.{fmt}", lambda p, t=table: (
                t.to_csv(p, index=False) if fmt == "csv" else t.to_parquet(p, index=False)))
            say(f"wrote {path}")
        path = atomic_write_text(out / f"{stem}_{e.id[:8]}_manifest.json",
                                 json.dumps(e.manifest, indent=1))
        say(f"wrote {path}")
    except (SovsimError, OSError) as exc:
        _fail(exc)


@runs_app.command("rm")
def runs_rm(
    run_ids: list[str] = typer.Argument(..., help="ids (or their first characters)"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Remove runs, or ensembles with the members no other ensemble uses."""
    st = _open_store(store)
    try:
        for rid in run_ids:
            e = st.resolve(rid)
            gone = st.remove(e.id)
            say(f"removed {e.kind} {e.id}" + (f" and {len(gone) - 1} members"
                                              if len(gone) > 1 else ""))
    except SovsimError as exc:
        _fail(exc)
