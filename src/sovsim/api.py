"""The public entry points: run a scenario, compare several."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from sovsim import __version__
from sovsim.engine.simulation import simulate
from sovsim.inputs import load_inputs
from sovsim.params import ParameterSet, load_overrides, load_parameters, parameter_files
from sovsim.results import Results
from sovsim.scenario import Scenario, load_scenario


def run(scenario: str | Path | Scenario = "historical", *, seed: int = 0,
        params: ParameterSet | None = None, overrides: Mapping[str, Any] | None = None,
        params_file: str | Path | None = None, weather: str = "main") -> Results:
    """Run a scenario 1921-01..1940-12 at cell resolution.

    Parameters
    ----------
    scenario : a shipped name, a path to a scenario TOML file, or a loaded Scenario.
    seed : recorded in the manifest; the coarse model draws no random numbers, so every seed
        gives the same numbers (household-level draws come with the household engine).
    params, overrides, params_file : the parameter set, and changes to it (a dict, or a
        calibration file with a ``[values]`` table).
    weather : which variant of the weather input to use (``main`` or an alternative).

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
    return results_of(sc, p, simulate(sc, p, load_inputs(weather)), seed=seed, weather=weather)


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
                             text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None

