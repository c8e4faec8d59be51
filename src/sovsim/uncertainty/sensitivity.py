"""Global sensitivity analysis: Sobol indices of the headline outcomes with respect to the
uncertain parameters (``sovsim sensitivity``; docs/sensitivity.md).

A parameter's first-order index S1 is the share of an outcome's variance that it explains
alone; its total index ST adds every interaction it takes part in (Sobol 2001; Saltelli et al.
2010). Inputs are the parameters that carry a prior in the parameter files: points are drawn
in the unit cube with Saltelli's extension of the Sobol sequence (SALib), and each coordinate
is mapped through its parameter's prior (``Prior.ppf``), so the indices apportion the variance
the priors imply. ``N`` base points cost ``N * (D + 2)`` model runs for ``D`` parameters
(second-order indices are not computed). Confidence intervals are SALib's bootstrap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim.errors import InputError, SovsimError
from sovsim.params import Prior
from sovsim.uncertainty.pool import parallel_map

#: The headline outcomes: name -> (output variable, years summed, unit, meaning).
#: Years are those of the variable's annual rule; procurement is by harvest year, so
#: ``procurement_1932_33`` is the state's grain from the harvests of 1932 and 1933.
OUTCOMES: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "excess_deaths_1933": ("excess_deaths_persons", ("1933",), "persons",
                           "excess deaths in calendar 1933"),
    "industrial_output_1940": ("industrial_output_index", ("1940",), "index, 1928 = 100",
                               "industrial output in 1940"),
    "urban_population_1939": ("urban_population_persons", ("1939",), "persons",
                              "town population in 1939 (June)"),
    "procurement_1932_33": ("grain_procurement_t", ("1932", "1933"), "t",
                            "grain procurement from the harvests of 1932 and 1933, summed"),
}
MIN_N = 8
# At most 2**14 base points: with the 26 parameters that have priors that is 458,752 model
# runs (about 45 minutes at 10,000 runs a minute on 2 cores) and a sample matrix of about
# 100 MB; both grow with N, so a larger N is refused before any work.
MAX_N = 2 ** 14
CLI = "<command line>"


@dataclass
class SobolResult:
    """Indices in a tidy table (``outcome, parameter, S1, S1_conf, ST, ST_conf``; ``*_conf``
    is the half-width of the confidence interval), and the runs behind them."""

    table: pd.DataFrame
    names: list[str]
    outcomes: list[str]
    n: int
    runs: int
    conf_level: float
    samples: pd.DataFrame  # the parameter values of every run, with the outcomes


def runs_needed(n: int, d: int) -> int:
    """Model runs for ``n`` base points and ``d`` parameters (first and total order)."""
    return n * (d + 2)


def check_n(n: int) -> None:
    """Refuse base points out of range (MIN_N to MAX_N) or not a power of 2."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InputError(CLI, "--n", f"{n!r} is not a whole number",
                         f"a power of 2 from {MIN_N} to {MAX_N:,}")
    if n > MAX_N:
        raise InputError(CLI, "--n", f"{n:,} is out of range: N x (parameters + 2) model runs "
                         "and a sample matrix that grow with it",
                         f"a power of 2 from {MIN_N} to {MAX_N:,}")
    if n < MIN_N:
        raise InputError(CLI, "--n", f"{n} is too small: Sobol indices need at least {MIN_N} "
                         "base points (64 or more for usable confidence intervals)",
                         f"a power of 2 from {MIN_N} to {MAX_N:,}")
    if n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise InputError(CLI, "--n", f"{n} is not a power of 2, which the Sobol sequence "
                         "needs for its balance properties", f"{lower} or {2 * lower}")


def outcomes(res) -> dict[str, float]:
    """The headline outcomes of one run (``OUTCOMES``)."""
    out = {}
    for name, (variable, years, _, _) in OUTCOMES.items():
        s = res.series(variable)
        out[name] = float(sum(float(s[y]) for y in years))
    return out


def scenario_outcomes(scenario: str, overrides: Mapping[str, float]) -> dict[str, float]:
    """Run ``scenario`` with ``overrides``; its headline outcomes. A run that fails gives NaN
    (reported, never silently dropped: see ``sobol``)."""
    from sovsim.api import run

    try:
        return outcomes(run(scenario, overrides=dict(overrides)))
    except SovsimError:
        return {name: float("nan") for name in OUTCOMES}


def sobol(evaluate: Callable[[dict[str, float]], Mapping[str, float]],
          priors: Mapping[str, Prior], n: int, *, seed: int = 0, workers: int = 1,
          conf_level: float = 0.95, num_resamples: int = 200,
          progress: Callable[[int], None] | None = None) -> SobolResult:
    """First-order and total Sobol indices of every outcome ``evaluate`` returns.

    Parameters
    ----------
    evaluate : picklable function of a ``{parameter: value}`` dict returning
        ``{outcome: value}`` (the same outcomes for every call)
    priors : the parameters varied, each with the prior its draws follow
    n : base points, a power of 2 (``runs_needed(n, len(priors))`` evaluations)
    seed : seeds the scrambled Sobol sequence and the bootstrap
    workers : local processes
    conf_level, num_resamples : the bootstrap confidence intervals

    Raises
    ------
    InputError : ``n`` too small or not a power of 2; fewer than 2 parameters; failed runs
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    check_n(n)
    names = list(priors)
    if len(names) < 2:
        raise InputError(CLI, "--params", "Sobol indices need at least 2 parameters",
                         "two or more names listed by `sovsim params --priors`")
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    unit = sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    unit = np.clip(unit, 1e-12, 1 - 1e-12)  # ppf of 0 or 1 is infinite for unbounded shapes
    values = np.column_stack([priors[k].ppf(unit[:, j]) for j, k in enumerate(names)])
    points = [dict(zip(names, map(float, row))) for row in values]
    results = parallel_map(evaluate, points, workers=workers, progress=progress)
    frame = pd.DataFrame(results)
    failed = frame.isna().any(axis=1)
    if failed.any():
        first = points[int(np.flatnonzero(failed)[0])]
        raise InputError(CLI, "--params", f"{int(failed.sum())} of {len(points)} runs failed "
                         f"or gave NaN (first at {first})", "priors or parameters under which "
                         "the model runs")
    rows = []
    for k, outcome in enumerate(frame.columns):
        y = frame[outcome].to_numpy(dtype=float)
        if np.ptp(y) == 0:  # no variance to apportion: indices undefined, said so
            idx = {key: np.full(len(names), np.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            idx = analyze.analyze(problem, y, calc_second_order=False, conf_level=conf_level,
                                  num_resamples=num_resamples, seed=seed + k)
        for j, name in enumerate(names):
            rows.append({"outcome": outcome, "parameter": name,
                         **{key: float(idx[key][j]) for key in ("S1", "S1_conf", "ST", "ST_conf")}})
    samples = pd.concat([pd.DataFrame(values, columns=names), frame], axis=1)
    return SobolResult(pd.DataFrame(rows), names, list(frame.columns), n, len(points),
                       conf_level, samples)


def model_sobol(scenario: str, priors: Mapping[str, Prior], n: int, **kwargs) -> SobolResult:
    """``sobol`` of the headline outcomes of ``scenario`` (``OUTCOMES``)."""
    return sobol(functools.partial(scenario_outcomes, scenario), priors, n, **kwargs)


def select_priors(all_priors: Mapping[str, Prior], names: Sequence[str] | None) -> dict[str, Prior]:
    """The priors of ``names`` (default: every parameter that has one), or an error naming
    the first unknown one."""
    if not names:
        return dict(all_priors)
    out = {}
    for name in names:
        if name not in all_priors:
            raise InputError(CLI, "--params", f"{name!r} has no prior (or is no parameter)",
                             "names listed by `sovsim params --priors`")
        out[name] = all_priors[name]
    return out


def write_table(result: SobolResult, out: Path, fmt: str = "csv") -> list[Path]:
    """``sobol_indices.{csv,parquet}`` (the tidy indices) and ``sobol_runs.{csv,parquet}``
    (every run's parameters and outcomes) in ``out``."""
    if fmt not in ("csv", "parquet"):
        raise InputError(CLI, "--format", f"unknown {fmt!r}", "csv, parquet")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, frame in (("sobol_indices", result.table), ("sobol_runs", result.samples)):
        path = out / f"{stem}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def plot(result: SobolResult, path: Path) -> Path:
    """One panel per outcome: S1 and ST of every parameter as bars with their confidence
    intervals, parameters ordered by total index."""
    from matplotlib.figure import Figure

    k = len(result.outcomes)
    cols = min(k, 2)
    rows = -(-k // cols)
    height = max(2.6, 0.26 * len(result.names) + 1.2)
    fig = Figure(figsize=(6.0 * cols, height * rows))  # no pyplot: the user's backend stays
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    for ax, outcome in zip(axes.flat, result.outcomes):
        t = result.table[result.table["outcome"] == outcome].sort_values("ST", na_position="first")
        y = np.arange(len(t))
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order S1", color="#4477aa",
                error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total ST", color="#ee6677",
                error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.set_yticks(y, [name.split(".", 1)[-1] for name in t["parameter"]], fontsize=7)
        unit = OUTCOMES[outcome][2] if outcome in OUTCOMES else ""
        ax.set_title(f"{outcome}" + (f"\n({unit})" if unit else ""), fontsize=9)
        ax.set_xlabel("Sobol index (share of variance)")
        ax.axvline(0, color="black", lw=0.5)
        ax.set_xlim(-0.25, 1.25)  # indices are shares of variance; wider intervals are cut
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Sobol indices, N = {result.n} ({result.runs} runs), "
                 f"{result.conf_level:.0%} bootstrap intervals (cut at the axes)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path


__all__ = [
    "OUTCOMES",
    "SobolResult",
    "check_n",
    "model_sobol",
    "outcomes",
    "plot",
    "runs_needed",
    "scenario_outcomes",
    "select_priors",
    "sobol",
    "write_table",
]
