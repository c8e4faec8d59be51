"""The public entry points: run a scenario, compare several."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from sovsim._version import __version__
from sovsim.engine.simulation import simulate
from sovsim.inputs import load_inputs
from sovsim.params import ParameterSet, load_overrides, load_parameters, parameter_files
from sovsim.results import Results
from sovsim.scenario import Scenario, load_scenario


def run(scenario: str | Path | Scenario = "historical", *, seed: int = 0,
        params: ParameterSet | None = None, overrides: Mapping[str, Any] | None = None,
        params_file: str | Path | None = None, weather: str = "main",
        households: int | None = None, panel: int = 0, heterogeneity: bool = True,
        progress: Callable[[int, int], None] | None = None) -> Results:
    """Run a scenario 1921-01..1940-12 at cell resolution, or with every household a row.

    Parameters
    ----------
    scenario : a shipped name, a path to a scenario TOML file, or a loaded Scenario.
    seed : recorded in the manifest. The cell model draws no random numbers; with
        ``households`` the seed addresses the population and every household-level draw.
    params, overrides, params_file : the parameter set, and changes to it (a dict, or a
        calibration file with a ``[values]`` table).
    weather : which variant of the weather input to use (``main`` or an alternative).
    households : run the household engine (``sovsim.households.engine``) with this many
        household rows (up to the real number, about 21.6 million in 1921); the household
        tables come in ``Results.tables``.
    panel, heterogeneity, progress : with ``households``: trace ``panel`` sampled households
        month by month; share the cells' changes by the households' own shocks and hunger
        (True) or by their stocks alone (False, which reproduces the cell run exactly);
        ``progress(done, total)`` after each month.

    Examples
    --------
    >>> res = run("historical")
    >>> round(res.series("urban_population_persons")["1928"] / 1e6) > 10
    True
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    p = params or _shipped_parameters()
    if params_file is not None:
        p = p.with_overrides(load_overrides(Path(params_file)))
    p = p.with_overrides(overrides)
    if households is None:
        return results_of(sc, p, simulate(sc, p, load_inputs(weather)), seed=seed,
                          weather=weather)
    from sovsim.households.engine import simulate_households

    records, out = simulate_households(sc, p, load_inputs(weather), households=households,
                                       seed=seed, heterogeneity=heterogeneity, panel=panel,
                                       progress=progress)
    res = results_of(sc, p, records, seed=seed, weather=weather)
    res.manifest["resolution"] = "households"
    res.manifest["households"] = {k: v for k, v in out.facts.items()
                                  if k not in ("build_s", "run_s", "table_bytes")}
    res.tables.update(out.tables)
    return res


def results_of(sc: Scenario, p: ParameterSet, records: dict, *, seed: int = 0,
               weather: str = "main") -> Results:
    """A run's records as Results, with the manifest that identifies the run."""
    manifest = {
        "scenario": sc.name, "scenario_hash": sc.content_hash, "parameters_hash": p.digest(),
        "seed": seed, "resolution": "cells", "weather": weather,
        "sovsim_version": __version__, "git_commit": _git_commit(),
    }
    return Results(sc.name, records, manifest)


def shipped_parameters() -> ParameterSet:
    """The shipped parameter set (read once per version of the files)."""
    return _shipped_parameters()


def compare(*scenarios: str | Path, **kwargs: Any) -> list[Results]:
    """Run several scenarios with the same parameters."""
    return [run(s, **kwargs) for s in scenarios]


def _shipped_parameters() -> ParameterSet:
    """The shipped parameter set, read once per version of the files (a calibration that
    rewrites them is seen by the next run)."""
    key = tuple((str(f), f.stat().st_mtime_ns) for f in parameter_files())
    return _parameters_for(key)


@lru_cache(maxsize=2)
def _parameters_for(key: tuple) -> ParameterSet:
    return load_parameters([Path(f) for f, _ in key])


@lru_cache(maxsize=1)
def _git_commit() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None

