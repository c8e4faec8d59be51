"""Likelihood-free calibration: ABC-SMC (``sovsim calibrate --method abc``;
docs/calibration.md, docs/design/0007-abc-calibration.md).

The simulator has no likelihood we could write down, but it can be run. Approximate Bayesian
computation keeps the parameter values whose runs come within a tolerance ``eps`` of the
record; sequential Monte Carlo (Beaumont et al. 2009; Del Moral, Doucet & Jasra 2012) does it
in generations, each proposing from a Gaussian kernel around the last generation's particles
(importance-weighted against the prior) and lowering ``eps`` to the median distance of the
last generation. The implementation is pyabc's (Klinger, Rickert & Hasenauer 2018;
Schaelte et al. 2022): ``ABCSMC`` with its default adaptive multivariate normal transition and
median (``QuantileEpsilon``) tolerance schedule.

The distance between a run and the record is the calibration loss of ``sovsim.uncertainty.calibrate``
(weighted mean log distances from the bands of the best-graded rows of the declared targets,
plus the famine-band penalties) over the target series *less those held back*; the held-back
series (default: USSR procurement, horses and town population) and the out-of-sample series
(``history.targets.out_of_sample``) are checked afterwards on draws from the posterior and
from the prior. The priors are the
parameter files' (``ParameterSet.priors()``). The coarse model is deterministic given its
inputs, so the ABC posterior here is the prior restricted to the region where the loss falls
below the final ``eps``, importance-weighted: a statement of which values fit about as well as
each other, not a sampling distribution.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim.errors import InputError
from sovsim.history import targets as declared
from sovsim.params import ParameterSet, Prior, load_parameters
from sovsim.uncertainty.calibrate import loss
from sovsim.uncertainty.posterior import (
    CLI,
    Posterior,
    read_posterior,
    sample_draws,
    weighted_quantile,
    write_posterior,
)

#: Target series held back from the ABC fit by default and checked out of sample.
DEFAULT_HOLD_OUT: tuple[tuple[str, str], ...] = (
    ("grain_procurement_t", "USSR"), ("horses_head", "USSR"), ("urban_population_persons", "USSR"))


def never_fitted() -> tuple[tuple[str, str], ...]:
    """Series with usable history that no declared target reads (``targets.out_of_sample``),
    checked on posterior and prior draws. (Not grain exports, which scenarios set as an
    instrument, nor kolkhoz households, which the model has at zero before 1929 where the
    record has a few hundred thousand: a log error there measures nothing.)"""
    oos = declared.out_of_sample()
    keys = sorted(set(zip(oos["series"], oos["region"])))
    return tuple(k for k in keys if k[0] not in ("grain_exports_t", "kolkhoz_households")
                 and k not in declared.weights())

log = logging.getLogger(__name__)


# -- priors for pyabc --------------------------------------------------------------------------

def prior_pdf(prior: Prior, x: float) -> float:
    """The density of ``prior`` at ``x`` (truncated to [lo, hi] as ``Prior.ppf`` draws are)."""
    from scipy import stats

    if not prior.lo <= x <= prior.hi:
        return 0.0
    a = prior.args
    if prior.dist == "uniform":
        return 1.0 / (a["hi"] - a["lo"])
    if prior.dist == "triangular":
        c = (a["mode"] - a["lo"]) / (a["hi"] - a["lo"])
        return float(stats.triang.pdf(x, c, loc=a["lo"], scale=a["hi"] - a["lo"]))
    dist = (stats.norm(a["mean"], a["sd"]) if prior.dist == "normal"
            else stats.lognorm(a["sigma"], scale=a["median"]))
    return float(dist.pdf(x) / (dist.cdf(prior.hi) - dist.cdf(prior.lo)))


def _pyabc_prior(priors: Mapping[str, Prior]):
    import pyabc

    class PriorRV(pyabc.RVBase):
        """One parameter's prior from the parameter files, as a pyabc random variable."""

        def __init__(self, prior: Prior):
            self.prior = prior

        def copy(self):
            return PriorRV(self.prior)

        def rvs(self, *args, **kwargs) -> float:  # pyabc seeds numpy's global generator
            return float(self.prior.ppf(np.random.uniform(1e-12, 1 - 1e-12)))

        def pdf(self, x, *args, **kwargs) -> float:
            return prior_pdf(self.prior, float(x))

        def pmf(self, x, *args, **kwargs) -> float:
            return self.pdf(x)

        def cdf(self, x, *args, **kwargs) -> float:
            from scipy import integrate

            lo = self.prior.lo
            return float(integrate.quad(lambda t: prior_pdf(self.prior, t), lo, x)[0]) if x > lo else 0.0

    return pyabc.Distribution(**{name: PriorRV(p) for name, p in priors.items()})


# -- ABC-SMC ------------------------------------------------------------------------------------

_RUNS = None  # a shared counter of simulations, inherited by forked workers


def _count_and_call(discrepancy, theta) -> dict[str, float]:
    if _RUNS is not None:
        with _RUNS.get_lock():
            _RUNS.value += 1
    return {"distance": float(discrepancy(dict(theta)))}


def _distance(x, x0) -> float:
    return x["distance"]


class _EpsLog(logging.Handler):
    """Reads generation and tolerance from pyabc's log ("t: 3, eps: 1.2e+00.")."""

    pattern = re.compile(r"t: (\d+), eps: ([0-9.eE+-]+)")

    def __init__(self):
        super().__init__(logging.INFO)
        self.generation, self.eps = -1, float("nan")

    def emit(self, record):
        m = self.pattern.search(record.getMessage())
        if m:
            self.generation, self.eps = int(m.group(1)), float(m.group(2).rstrip("."))


def abc_smc(discrepancy: Callable[[dict[str, float]], float], priors: Mapping[str, Prior], *,
            population: int = 100, generations: int = 6, min_epsilon: float = 0.0,
            max_runs: int | None = None, workers: int = 1, seed: int = 0,
            progress: Callable[[int, int, float], None] | None = None,
            db: Path | None = None) -> Posterior:
    """ABC-SMC of ``priors`` against a discrepancy (a distance to the record, 0 = perfect).

    Parameters
    ----------
    discrepancy : picklable function of a ``{parameter: value}`` dict returning a distance
    priors : the parameters fitted and their priors
    population : particles per generation
    generations : generations at most (stops earlier at ``min_epsilon`` or ``max_runs``)
    min_epsilon : stop once the tolerance falls to this
    max_runs : stop once this many simulations have been run
    workers : local processes (pyabc's multicore sampler); 1 runs here
    seed : seeds numpy's global generator, which pyabc draws from (reproducible with 1 worker;
        with several, workers' streams differ from run to run)
    progress : called about 5 times a second with (simulations done, generation, tolerance)
    db : pyabc's SQLite history file (default: a temporary file, removed)

    Returns
    -------
    Posterior : the last generation's particles and the tolerance of each generation
    """
    import pyabc

    global _RUNS  # noqa: PLW0603 - forked workers inherit the shared counter
    if population < 10:
        raise InputError(CLI, "--population", f"{population} particles are too few", "10 or more")
    if generations < 1:
        raise InputError(CLI, "--generations", f"{generations}", "1 or more")
    if not priors:
        raise InputError(CLI, "--params", "no parameters to fit")
    names = list(priors)
    np.random.seed(seed)
    handler, pyabc_log = _EpsLog(), logging.getLogger("ABC")
    old_level = pyabc_log.level
    pyabc_log.addHandler(handler)
    pyabc_log.setLevel(logging.INFO)
    quiet = [(h, h.level) for h in logging.getLogger().handlers + pyabc_log.handlers
             if h is not handler]
    for h, _ in quiet:  # pyabc reports at INFO; sovsim shows a progress bar instead
        h.setLevel(logging.WARNING)
    _RUNS = multiprocessing.get_context("fork").Value("l", 0)
    stop = threading.Event()

    def poll():
        while not stop.wait(0.2):
            progress(_RUNS.value, handler.generation, handler.eps)

    watcher = threading.Thread(target=poll, daemon=True) if progress else None
    with tempfile.TemporaryDirectory(prefix="sovsim-abc-") as tmp:
        path = Path(db) if db is not None else Path(tmp) / "abc.db"
        try:
            sampler = (pyabc.sampler.SingleCoreSampler() if workers == 1
                       else pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers))
            abc = pyabc.ABCSMC(functools.partial(_count_and_call, discrepancy),
                               _pyabc_prior(priors), _distance, population_size=population,
                               sampler=sampler)
            abc.new("sqlite:///" + str(path.resolve()), {"distance": 0.0})
            if watcher:
                watcher.start()
            history = abc.run(minimum_epsilon=min_epsilon, max_nr_populations=generations,
                              max_total_nr_simulations=max_runs or np.inf)
        finally:
            stop.set()
            if watcher and watcher.is_alive():
                watcher.join()
                progress(_RUNS.value, handler.generation, handler.eps)
            pyabc_log.removeHandler(handler)
            pyabc_log.setLevel(old_level)
            for h, level in quiet:
                h.setLevel(level)
            _RUNS = None
        # one particle at a time, so parameters, weight and distance stay together
        particles = history.get_population(t=history.max_t).particles
        pops = history.get_all_populations()
        runs = int(history.total_nr_simulations)
    sample = pd.DataFrame([{**{n: float(q.parameter[n]) for n in names}, "weight": float(q.weight),
                            "distance": float(q.distance)} for q in particles])
    sample["weight"] = sample["weight"] / sample["weight"].sum()
    epsilons = [float(e) for e in pops.loc[pops["t"] >= 0, "epsilon"]]
    return Posterior(names, dict(priors), sample, epsilons, runs, population).warn_if_degenerate()


# -- the model ----------------------------------------------------------------------------------

def fit_targets(held_out: Sequence[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """The declared targets less the series held back."""
    targets = declared.weights()
    unknown = [k for k in held_out if k not in targets]
    if unknown:
        raise InputError(CLI, "--hold-out", f"{unknown[0][0]}:{unknown[0][1]} is not a target "
                         "series", ", ".join(f"{s}:{r}" for s, r in targets))
    out = {k: w for k, w in targets.items() if k not in set(held_out)}
    if not out:
        raise InputError(CLI, "--hold-out", "every target is held back; nothing left to fit")
    return out


def parse_hold_out(text: str | None) -> tuple[tuple[str, str], ...]:
    """``series[:region],...`` (region USSR when left out); ``none`` holds back nothing."""
    if text is None:
        return DEFAULT_HOLD_OUT
    if text.strip().lower() == "none":
        return ()
    out = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        series, _, region = item.partition(":")
        out.append((series, region or "USSR"))
    fit_targets(out)
    return tuple(out)


def model_distance(theta: dict[str, float], *, targets, scenario: str = "historical") -> float:
    """The calibration loss over ``targets`` of ``scenario`` run with ``theta``."""
    return loss(theta, targets=targets, scenario=scenario)[0]


def calibration_priors(p: ParameterSet, names: Sequence[str] | None = None) -> dict[str, Prior]:
    """The priors of the calibrated parameters (or of ``names``: any with a prior)."""
    priors = p.priors()
    if names:
        for name in names:
            if name not in priors:
                raise InputError(CLI, "--params", f"{name!r} has no prior (or is no parameter)",
                                 "names listed by `sovsim params --priors`")
        return {n: priors[n] for n in names}
    return {n: pr for n, pr in priors.items() if p.params[n].status == "calibrated"}


def calibrate(*, names: Sequence[str] | None = None, hold_out=DEFAULT_HOLD_OUT,
              p: ParameterSet | None = None, kernel: str = "importance", **kwargs) -> Posterior:
    """ABC-SMC of the calibrated parameters (or ``names``) against the historical run:
    pyabc's importance-weighted sampler (``kernel="importance"``) or resample-move
    (``"resample-move"``, ``abc_rm``; keyword ``moves``)."""
    p = p or load_parameters()
    priors = calibration_priors(p, names)
    targets = fit_targets(hold_out)
    distance = functools.partial(model_distance, targets=targets)
    if kernel == "resample-move":
        from sovsim.uncertainty.abc_rm import abc_smc_rm

        post = abc_smc_rm(distance, priors, **kwargs)
    elif kernel == "importance":
        kwargs.pop("moves", None)
        post = abc_smc(distance, priors, **kwargs)
    else:
        raise InputError(CLI, "--method", f"unknown ABC kernel {kernel!r}", "importance, resample-move")
    post.targets, post.held_out = targets, tuple(hold_out)
    return post


__all__ = [
    "DEFAULT_HOLD_OUT",
    "Posterior",
    "abc_smc",
    "calibrate",
    "calibration_priors",
    "fit_targets",
    "model_distance",
    "never_fitted",
    "parse_hold_out",
    "prior_pdf",
    "read_posterior",
    "sample_draws",
    "weighted_quantile",
    "write_posterior",
]
