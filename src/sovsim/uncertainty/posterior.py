"""The posterior of an ABC-SMC calibration (``abc_smc``, ``abc_rm``): the last generation's
weighted particles, their summary and point estimates, draws for ensembles, and the sample's
file (``write_posterior``, ``read_posterior``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim.errors import InputError, SovsimWarning
from sovsim.params import Prior

CLI = "<command line>"


@dataclass
class Posterior:
    """The last ABC-SMC generation: particles (``sample``: one column per parameter, plus
    ``weight`` summing to 1 and ``distance``), with the tolerance of every generation."""

    names: list[str]
    priors: dict[str, Prior]
    sample: pd.DataFrame
    epsilons: list[float]
    runs: int
    population: int
    targets: dict[tuple[str, str], float] = field(default_factory=dict)
    held_out: tuple[tuple[str, str], ...] = ()
    method: str = "importance"  # pyabc's weights; "resample-move": abc_rm
    acceptance: list[float] = field(default_factory=list)  # resample-move, per generation

    @property
    def ess(self) -> float:
        """Effective sample size of the weighted particles, 1 / sum(w^2) over distinct
        particles: how many independent draws they are worth (a few dominant or repeated
        particles make a falsely narrow posterior)."""
        w = self.sample.groupby(self.names)["weight"].sum().to_numpy()  # duplicates are one
        return float(1.0 / np.sum((w / w.sum()) ** 2))

    def degenerate(self) -> bool:
        """True when the weights rest on few particles (ESS under a tenth of the population,
        or under 10): the posterior's spread is then not to be believed."""
        return self.ess < max(10.0, 0.1 * self.population)

    def warn_if_degenerate(self) -> Posterior:
        """Warn (``SovsimWarning``) when the sample is degenerate: its quantiles would look
        like a posterior and say nothing of the spread. The samplers call this before they
        return; the command line prints the same advice on its own line."""
        if self.degenerate():
            warnings.warn(f"ABC-SMC: the sample is degenerate (effective sample size "
                          f"{self.ess:.1f} of {self.population} particles): the posterior's "
                          "quantiles rest on a few particles. Use resample-move "
                          "(kernel='resample-move', --method abc-rm), fit fewer parameters or "
                          "use more particles.", SovsimWarning, stacklevel=3)
        return self

    def summary(self) -> pd.DataFrame:
        """Per parameter: weighted mean, sd, 5/50/95 % quantiles, and the prior's bounds."""
        w = self.sample["weight"].to_numpy()
        rows = []
        for name in self.names:
            x = self.sample[name].to_numpy()
            mean = float(np.sum(w * x))
            q05, q50, q95 = weighted_quantile(x, w, (0.05, 0.5, 0.95))
            rows.append({"parameter": name, "mean": mean,
                         "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                         "q05": q05, "q50": q50, "q95": q95,
                         "prior": self.priors[name].dist, "prior_lo": self.priors[name].lo,
                         "prior_hi": self.priors[name].hi})
        return pd.DataFrame(rows)

    def point(self, how: str = "median") -> dict[str, float]:
        """One value per parameter: the weighted marginal medians, or ``best``, the particle
        nearest the record (the ABC stand-in for the mode of the posterior)."""
        if how == "median":
            s = self.summary()
            return dict(zip(s["parameter"], map(float, s["q50"])))
        if how == "best":
            row = self.sample.loc[self.sample["distance"].idxmin()]
            return {name: float(row[name]) for name in self.names}
        raise InputError(CLI, "--point", f"unknown {how!r}", "median, best")

    def draws(self, n: int, seed: int = 0) -> list[dict[str, float]]:
        """``n`` parameter sets resampled from the particles by weight."""
        return sample_draws(self.sample, n, seed)


def sample_draws(sample: pd.DataFrame, n: int, seed: int = 0) -> list[dict[str, float]]:
    """``n`` override dicts resampled by weight from a posterior sample (``read_posterior``),
    for ensembles that draw from a calibration's posterior instead of the priors."""
    names = [c for c in sample.columns if c not in ("weight", "distance")]
    w = sample["weight"].to_numpy(dtype=float)
    idx = np.random.default_rng(seed).choice(len(sample), size=n, p=w / w.sum())
    return [{name: float(sample[name].iloc[i]) for name in names} for i in idx]


def weighted_quantile(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of ``x`` under weights ``w`` (the inverse of the weighted empirical CDF,
    interpolated at mid-points of the weights)."""
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return [float(np.interp(q, cdf, x)) for q in qs]


def write_posterior(post: Posterior, path: Path) -> Path:
    """The particles (parameters, weight, distance) as Parquet or CSV, by the suffix, so that
    later runs and ensembles can draw from the posterior (``read_posterior``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        post.sample.to_parquet(path, index=False)
    else:
        post.sample.to_csv(path, index=False)
    return path


def read_posterior(path: Path) -> pd.DataFrame:
    """A posterior sample written by ``write_posterior``; weights renormalised."""
    path = Path(path)
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if "weight" not in frame:
        raise InputError(str(path), "weight", "missing column; not a sovsim posterior sample")
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    return frame
