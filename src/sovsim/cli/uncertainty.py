"""The command line of uncertainty: ``sovsim calibrate`` (Powell or ABC-SMC) and
``sovsim sensitivity`` (Sobol indices); registered on the app of ``sovsim.cli``."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import typer
from rich.table import Table

from sovsim.cli.common import (
    MAX_WORKERS,
    check_count,
    check_number,
    check_out_dir,
    check_plot,
    console,
    err,
)
from sovsim.cli.common import fail as _fail
from sovsim.errors import SovsimError, SovsimWarning


def _consoles():
    return console, err


# Bounds of ``sovsim calibrate``'s counts (docs/calibration.md), refused by name before any
# work. A coarse run takes about 6 ms on a core, so a million runs is some two hours on 2
# cores: --maxfev and --max-runs stop there. ABC keeps every generation's particles and
# distances, and each generation costs at least --population runs: 100,000 particles and
# 100 generations are far beyond what a fit of some 30 parameters needs.
MAX_RUNS = 1_000_000
MAX_POPULATION = 100_000
MAX_GENERATIONS = 100
MAX_DRAWS = 10_000  # posterior and prior draws of the checks: 2 x draws + 2 runs
MAX_MOVES = 10  # resample-move's Metropolis-Hastings steps per generation (its help says so)


def _calibrate_bounds(maxfev, population, generations, max_runs, draws, workers, seed,
                      moves):
    """(option, value, least, most) of each count ``calibrate`` takes."""
    return (("--maxfev", maxfev, 1, MAX_RUNS), ("--population", population, 10, MAX_POPULATION),
            ("--generations", generations, 1, MAX_GENERATIONS),
            ("--max-runs", max_runs, 1, MAX_RUNS), ("--draws", draws, 1, MAX_DRAWS),
            ("--workers", workers, 0, MAX_WORKERS), ("--seed", seed, 0, None),
            ("--moves", moves, 1, MAX_MOVES))


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` and ``sensitivity`` to ``app``."""
    app.command()(calibrate)
    app.command()(sensitivity)


def calibrate(
    method: str = typer.Option("powell", "--method", help="powell (least squares) | abc (ABC-SMC, pyabc's importance weights) | abc-rm (ABC-SMC by resample-move: for many parameters)"),
    out: Path = typer.Option(Path("calibrated.toml"), "--out", help="where to write fitted values (abc: the posterior sample goes beside it, NAME.posterior.parquet)"),
    maxfev: int = typer.Option(600, "--maxfev", help="powell: model evaluations allowed"),
    apply: bool = typer.Option(False, "--apply", help="also write the values into the shipped parameter files"),
    report: Path | None = typer.Option(None, "--report", help="write a markdown report"),
    population: int = typer.Option(100, "--population", help="abc: particles per generation"),
    generations: int = typer.Option(5, "--generations", help="abc: generations at most"),
    max_runs: int = typer.Option(3000, "--max-runs", help="abc: stop after this many model runs (the progress bar counts against it, so its time left is an upper bound)"),
    min_epsilon: float = typer.Option(0.0, "--min-epsilon", help="abc: stop once the tolerance reaches this"),
    params: str | None = typer.Option(None, "--params", help="abc: comma-separated parameters to fit (default: every calibrated one); the rest keep their values"),
    hold_out: str | None = typer.Option(None, "--hold-out", help="abc: target series held back for out-of-sample checks, series[:region],... or none (default: grain_procurement_t, horses_head, urban_population_persons)"),
    point: str = typer.Option("median", "--point", help="abc: values written: median (posterior) | best (particle nearest the record)"),
    draws: int = typer.Option(20, "--draws", help="abc: posterior and prior draws run for the checks"),
    workers: int = typer.Option(0, "--workers", help="abc: local processes (0: every CPU)"),
    seed: int = typer.Option(0, "--seed", help="abc: seed"),
    moves: int = typer.Option(2, "--moves", help="abc-rm: Metropolis-Hastings steps per generation at least (at most 10)"),
    ship: bool = typer.Option(False, "--ship", help="abc: also make the sample the shipped posterior that ensembles draw from (data/calibration/posterior.csv, with its provenance)"),
) -> None:
    """Fit the calibrated parameters to history across 1926-1940 (docs/calibration.md):
    Powell least squares, or ABC-SMC with the parameter files' priors, giving a posterior."""
    console, _ = _consoles()
    from sovsim.uncertainty import calibrate as cal

    for option, value, least, most in _calibrate_bounds(maxfev, population, generations,
                                                        max_runs, draws, workers, seed, moves):
        check_count(option, value, least=least, most=most)
    check_number("--min-epsilon", min_epsilon)
    if out.is_dir():
        _fail(f"--out {out}: a directory; give a file name (calibrated.toml)")
    check_out_dir(out.parent, option=f"--out {out}: its directory")
    if report is not None:
        check_out_dir(report.parent, option=f"--report {report}: its directory")
    if method not in ("powell", "abc", "abc-rm"):
        _fail(SovsimError(f"--method: unknown {method!r} (allowed: powell, abc, abc-rm)"))
    if ship and method == "powell":
        _fail(SovsimError("--ship: a posterior comes from --method abc-rm (or abc); Powell "
                          "gives one point"))
    if method != "powell":
        kernel = "resample-move" if method == "abc-rm" else "importance"
        values = _calibrate_abc(out, report, population, generations, max_runs, min_epsilon,
                                params, hold_out, point, draws, workers, seed, kernel, moves,
                                ship)
    else:
        values = _calibrate_powell(out, report, maxfev)
    if apply:
        for path in cal.apply_to_shipped(values):
            console.print(f"updated {path}")


def _calibrate_powell(out: Path, report: Path | None, maxfev: int) -> dict:
    console, err = _consoles()
    from rich.progress import Progress

    from sovsim.uncertainty import calibrate as cal

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("calibrating", total=maxfev)
        fit = cal.fit(maxfev=maxfev, progress=lambda n, v: bar.update(
            task, completed=n, description=f"calibrating (loss {v:.3f})"))
    cal.write_values(fit.values, out)
    t = Table(title=f"calibration: loss {fit.loss:.4f} after {fit.evaluations} runs")
    t.add_column("target")
    t.add_column("loss", justify="right")
    for k, v in fit.parts.items():
        t.add_row(k, f"{v:.4f}")
    console.print(t)
    console.print(f"wrote {out}")
    if report is not None:
        report.write_text(cal.report_markdown(fit))
        console.print(f"wrote {report}")
    return fit.values


def _progress():
    _, err = _consoles()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err, transient=True)


def _calibrate_abc(out, report, population, generations, max_runs, min_epsilon, params,
                   hold_out, point, draws, workers, seed, kernel, moves, ship=False) -> dict:
    console, err = _consoles()
    import time as _time

    from sovsim.uncertainty import abc_smc as abc
    from sovsim.uncertainty import calibrate as cal
    from sovsim.uncertainty import checks
    from sovsim.uncertainty.pool import default_workers

    workers = workers or default_workers()
    names = [n.strip() for n in params.split(",") if n.strip()] if params else None
    try:
        if point not in ("median", "best"):
            raise SovsimError(f"--point: unknown {point!r} (allowed: median, best)")
        held = abc.parse_hold_out(hold_out)
        started = _time.monotonic()
        with _progress() as bar:
            task = bar.add_task("ABC-SMC", total=max_runs, rate="")

            def show(n, gen, eps):
                rate = n / max(_time.monotonic() - started, 1e-9)
                desc = "ABC-SMC: sampling the prior" if gen < 0 else \
                    f"ABC-SMC generation {gen + 1}/{generations}, tolerance {eps:.3g}"
                bar.update(task, completed=min(n, max_runs), description=desc,
                           rate=f"{rate:.1f} runs/s")

            with warnings.catch_warnings():  # a degenerate sample is reported below
                warnings.simplefilter("ignore", SovsimWarning)
                post = abc.calibrate(names=names, hold_out=held, population=population,
                                     generations=generations, max_runs=max_runs,
                                     min_epsilon=min_epsilon, workers=workers, seed=seed,
                                     progress=show, kernel=kernel, moves=moves)
        values = post.point(point)
        console.print(f"ABC-SMC: {len(post.names)} parameters, {post.runs} runs, "
                      f"{len(post.epsilons)} generations, effective sample size {post.ess:.1f}, "
                      "tolerance "
                      + " > ".join(f"{e:.3g}" for e in post.epsilons)
                      + (", move acceptance " + ", ".join(f"{a:.0%}" for a in post.acceptance)
                         if post.acceptance else ""))
        if post.degenerate():
            err.print(f"[yellow]warning: the sample is degenerate (effective "
                      f"sample size {post.ess:.1f} of {post.population}); the posterior's "
                      "quantiles rest on a few particles. Use --method abc-rm (resample-move), "
                      "fit fewer parameters (--params) or use more particles.[/yellow]")
        runs = 2 * draws + 2
        with _progress() as bar:
            task = bar.add_task(f"checks: {draws} posterior and {draws} prior draws",
                                total=runs, rate="")
            chk = checks.checks(post, values, draws=draws, seed=seed, workers=workers,
                             progress=lambda n: bar.update(task, completed=n))
    except SovsimError as exc:
        _fail(exc)
    t = Table(title="posterior (weighted particles of the last generation)")
    for col in ("parameter", "mean", "sd", "5 %", "50 %", "95 %", "prior"):
        t.add_column(col, justify="left" if col == "parameter" else "right")
    for _, r in post.summary().iterrows():
        t.add_row(r["parameter"], *(f"{r[k]:.4g}" for k in ("mean", "sd", "q05", "q50", "q95")),
                  f"{r['prior_lo']:g} to {r['prior_hi']:g}")
    console.print(t)
    t = Table(title="fit per series: median error over posterior and prior draws")
    for col in ("series", "role", "posterior", "prior"):
        t.add_column(col)
    e = chk.errors
    held_keys = {f"{s}:{r}" for s, r in post.held_out}
    fit_keys = {f"{s}:{r}" for s, r in post.targets}
    for key in e["series"].drop_duplicates():
        sel = e[e["series"] == key]
        role = "fitted" if key in fit_keys else "held back" if key in held_keys else "never fitted"
        t.add_row(key, role, *(f"{sel.loc[sel['source'] == s, 'error'].median():.3f}"
                               for s in ("posterior", "prior")))
    console.print(t)
    cal.write_values(values, out)
    sample = abc.write_posterior(post, Path(out).with_suffix(".posterior.parquet"))
    console.print(f"wrote {out} (posterior {point}) and {sample}")
    if ship:
        import datetime

        from sovsim.fingerprint import code_hash
        from sovsim.params.posterior import write_posterior_files
        from sovsim.store.keys import package_version

        files = write_posterior_files(post.sample, {
            "method": "abc-rm" if kernel == "resample-move" else "abc",
            "particles": int(post.population), "generations": len(post.epsilons),
            "runs": int(post.runs), "tolerance": float(post.epsilons[-1]),
            "date": datetime.date.today().isoformat(),
            "targets": "data/calibration/targets.toml",
            "sovsim_version": package_version(), "code_hash": code_hash(),
            "command": "sovsim " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["calibrate"]
            else "sovsim calibrate --method abc-rm --ship"})
        console.print(f"shipped the posterior: wrote {files[0]} and {files[1]}")
    if report is not None:
        command = "sovsim " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["calibrate"] else None
        report.write_text(checks.report_markdown(post, chk, values, point, command=command))
        console.print(f"wrote {report}")
    return values


def sensitivity(
    scenario: str = typer.Argument("historical", help="a shipped name or a .toml path"),
    n: int = typer.Option(64, "--n", help="base points, a power of 2 from 8 to 16,384; runs = N x (parameters + 2)"),
    params: str | None = typer.Option(None, "--params", help="comma-separated parameters varied (default: every one with a prior)"),
    out: Path | None = typer.Option(None, "--out", help="directory for sobol_indices and sobol_runs tables"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet"),
    plot: Path | None = typer.Option(None, "--plot", help="write the bar chart (PNG/SVG/PDF)"),
    workers: int = typer.Option(0, "--workers", help="local processes (0: every CPU)"),
    seed: int = typer.Option(0, "--seed", help="seeds the Sobol sequence and the bootstrap"),
) -> None:
    """Sobol indices (first order and total, with 95 % intervals) of 1933 excess deaths,
    1940 industrial output, 1939 urban population and 1932-33 procurement with respect to
    the parameters with priors (docs/sensitivity.md)."""
    console, _ = _consoles()
    import time as _time

    from sovsim.params import load_parameters
    from sovsim.scenario import load_scenario
    from sovsim.uncertainty import sensitivity as sa
    from sovsim.uncertainty.pool import default_workers

    try:  # the sizes first, before any work
        sa.check_n(n)
    except SovsimError as exc:
        _fail(exc)
    check_count("--workers", workers, most=MAX_WORKERS)
    check_count("--seed", seed)
    check_out_dir(out)
    check_plot(plot)
    workers = workers or default_workers()
    try:
        if fmt not in ("csv", "parquet"):
            raise SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)")
        names = [x.strip() for x in params.split(",") if x.strip()] if params else None
        priors = sa.select_priors(load_parameters().priors(), names)
        load_scenario(scenario)  # a bad scenario fails here, not in every worker
        runs = sa.runs_needed(n, len(priors))
        console.print(f"Sobol analysis of {scenario!r}: {len(priors)} parameters, N = {n}: "
                      f"{runs} model runs on {workers} process(es)", markup=False)
        started = _time.monotonic()
        with _progress() as bar:
            task = bar.add_task("sensitivity", total=runs, rate="")
            result = sa.model_sobol(scenario, priors, n, seed=seed, workers=workers,
                                    progress=lambda k: bar.update(
                                        task, completed=k,
                                        rate=f"{k / max(_time.monotonic() - started, 1e-9):.1f} runs/s"))
    except SovsimError as exc:
        _fail(exc)
    for outcome in result.outcomes:
        t = Table(title=f"{outcome}: {sa.OUTCOMES[outcome][3]}")
        for col in ("parameter", "S1", "±", "ST", "± "):
            t.add_column(col, justify="left" if col == "parameter" else "right")
        rows = result.table[result.table["outcome"] == outcome].sort_values("ST", ascending=False)
        for _, r in rows.iterrows():
            t.add_row(r["parameter"], f"{r['S1']:.3f}", f"{r['S1_conf']:.3f}", f"{r['ST']:.3f}",
                      f"{r['ST_conf']:.3f}")
        console.print(t)
    if out is not None:
        for path in sa.write_table(result, out, fmt):
            console.print(f"wrote {path}")
    if plot is not None:
        console.print(f"wrote {sa.plot(result, plot)}")
