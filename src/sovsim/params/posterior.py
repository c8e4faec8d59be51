"""What ensembles draw their parameters from: the calibrated posterior (the default) or the
parameter files' priors (``--from priors``).

The shipped posterior is the particle sample of an ABC-SMC calibration of the shipped model
(``sovsim calibrate --method abc-rm``), kept as data with its provenance:

- ``data/calibration/posterior.csv``: one column per fitted parameter, ``weight`` (summing to
  1) and ``distance`` (the particle's distance to the record);
- ``data/calibration/posterior.toml``: what sources every row (``source``: calibrated, each
  row a particle of the run), how it was made (method, particles, generations, runs, the last
  tolerance, the date, the targets file, the sovsim version and the code hash of the model it
  calibrated) and the command that remakes it.

Member ``i`` of an ensemble with seed ``s`` draws from its own stream (``s``, ``i``): the same
whoever runs it and however often it is resumed. It takes a particle by weight and moves it
by the kernel shrinkage of Liu & West (2001, "Combined parameter and state estimation in
simulation-based filtering", in Doucet, de Freitas & Gordon, *Sequential Monte Carlo Methods
in Practice*, pp. 197-223): ``a * particle + (1 - a) * mean + h * N(0, covariance)`` with
``a = (3 delta - 1) / (2 delta)``, ``h^2 = 1 - a^2`` and ``delta = 0.98``, which keeps the
particles' weighted mean and covariance, so that a thousand members are a thousand distinct
runs and not a few hundred particles repeated. A moved value is held inside its parameter's
bounds. Parameters the posterior does not hold keep their central values: the posterior is
the uncertainty the calibration left in the parameters it fitted, not the wide ranges of
every prior.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim.errors import DataError
from sovsim.tomlfile import read_toml

PRIORS = "priors"
POSTERIOR = "posterior"
_SALT = zlib.crc32(b"posterior")
LIU_WEST_DELTA = 0.98  # Liu & West (2001): the discount factor of the kernel shrinkage
PROVENANCE_FIELDS = ("source", "method", "particles", "generations", "runs", "tolerance",
                     "date", "targets", "sovsim_version", "code_hash", "command")
#: What sources every row of a posterior sample (the sidecar's ``source``): calibrated values.
SAMPLE_SOURCE = ("calibrated: every row is a particle of the ABC-SMC run described here (its "
                 "parameter values, weight and distance to the record), fitted to the declared "
                 "targets of the file named by 'targets'; no row is read from a publication")


def shipped_path() -> Path:
    return Path(str(resources.files("sovsim") / "data" / "calibration" / "posterior.csv"))


@dataclass(frozen=True)
class PosteriorSample:
    """A posterior's particles (``sample``) and how they were made (``provenance``)."""

    path: str
    sample: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c for c in self.sample.columns if c not in ("weight", "distance")]

    def label(self) -> str:
        """One line for every output: what the members were drawn from."""
        p = self.provenance
        if not p:
            return f"the posterior sample {self.path}"
        return (f"the calibrated posterior ({p['method']}, {p['particles']} particles, "
                f"{p['runs']:,} runs, {p['date']}; {len(self.names)} parameters)")

    def draws(self, n: int, seed: int, bounds: dict[str, tuple[float, float]] | None = None
              ) -> list[dict[str, float]]:
        """``n`` parameter sets (Liu-West kernel shrinkage around particles drawn by weight;
        ``bounds``: a parameter's (min, max) to stay within); member ``i``'s depends only on
        (seed, i)."""
        w = self.sample["weight"].to_numpy(dtype=float)
        w = w / w.sum()
        cdf = np.cumsum(w)
        values = self.sample[self.names].to_numpy(dtype=float)
        mean = w @ values
        dev = values - mean
        cov = (dev * w[:, None]).T @ dev
        # (a tiny ridge: a parameter the particles all share keeps a factorable covariance)
        root = np.linalg.cholesky(cov + np.eye(len(mean)) * 1e-12 * max(np.trace(cov), 1e-300))
        a = (3 * LIU_WEST_DELTA - 1) / (2 * LIU_WEST_DELTA)
        h = np.sqrt(1 - a * a)
        lo = np.array([(bounds or {}).get(nm, (-np.inf, np.inf))[0] for nm in self.names])
        hi = np.array([(bounds or {}).get(nm, (-np.inf, np.inf))[1] for nm in self.names])
        out = []
        for i in range(n):
            rng = np.random.default_rng([seed, i, _SALT])
            k = min(int(np.searchsorted(cdf, rng.random(), side="right")), len(cdf) - 1)
            x = a * values[k] + (1 - a) * mean + h * (root @ rng.standard_normal(len(mean)))
            out.append(dict(zip(self.names, map(float, np.clip(x, lo, hi)))))
        return out


def load_posterior(path: str | Path | None = None) -> PosteriorSample:
    """A posterior sample (default: the shipped one, with its provenance), checked: a
    ``weight`` column, finite numbers, weights >= 0 with a positive sum."""
    shipped = path is None
    file = shipped_path() if shipped else Path(path)
    if not file.is_file():
        if shipped:
            raise DataError(str(file), "(file)", "no shipped posterior: make one with `sovsim "
                            "calibrate --method abc-rm` (docs/calibration.md), or draw from "
                            "the priors (--from priors)")
        raise DataError(str(file), "(file)", "no such posterior sample")
    try:
        frame = (pd.read_parquet(file) if file.suffix == ".parquet"
                 else pd.read_csv(file, comment="#"))
    except Exception as exc:  # pyarrow, the csv parser: one line naming the file
        raise DataError(str(file), "(file)", f"cannot be read as a table: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                        ) from None
    if "weight" not in frame.columns:
        raise DataError(str(file), "weight", "missing column; not a sovsim posterior sample")
    if len(frame) == 0:
        raise DataError(str(file), "(rows)", "no particles")
    for col in frame.columns:
        vals = pd.to_numeric(frame[col], errors="coerce")
        if vals.isna().any() or not np.isfinite(vals.to_numpy(dtype=float)).all():
            row = int(np.flatnonzero(vals.isna().to_numpy()
                                     | ~np.isfinite(vals.fillna(0).to_numpy(dtype=float)))[0])
            raise DataError(str(file), f"{col}, row {row + 2}", "not a finite number")
        frame[col] = vals.astype(float)
    if (frame["weight"] < 0).any() or frame["weight"].sum() <= 0:
        raise DataError(str(file), "weight", "weights must be >= 0 with a positive sum")
    provenance: dict = {}
    side = file.with_suffix(".toml")
    if side.is_file():
        provenance = read_toml(side)
        missing = [k for k in PROVENANCE_FIELDS if k not in provenance]
        if missing:
            raise DataError(str(side), "(file)", f"provenance lacks {', '.join(missing)}")
    elif shipped:
        raise DataError(str(side), "(file)", "the shipped posterior has no provenance file")
    return PosteriorSample(str(file), frame, provenance)


def check_against(post: PosteriorSample, params) -> None:
    """Every posterior column is a scalar parameter of ``params`` and each value lies within
    that parameter's bounds (a posterior of another model version is refused by name)."""
    for name in post.names:
        if name not in params.params:
            raise DataError(post.path, name, "not a parameter of this model (a posterior of "
                            "another version?)")
        par = params.params[name]
        if par.regional:
            raise DataError(post.path, name, "a regional parameter; a posterior column holds "
                            "one value")
        col = post.sample[name]
        lo = -np.inf if par.min is None else par.min
        hi = np.inf if par.max is None else par.max
        bad = (col < lo) | (col > hi)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(post.path, f"{name}, row {row + 2}",
                            f"{col.iloc[row]} outside the parameter's bounds", f"{lo} to {hi}")


def write_posterior_files(sample: pd.DataFrame, provenance: dict, path: str | Path | None = None
                          ) -> tuple[Path, Path]:
    """Write a posterior sample as CSV and its provenance beside it (default: the shipped
    files, ``sovsim calibrate --method abc-rm --ship``); ``provenance`` holds
    ``PROVENANCE_FIELDS``."""
    provenance = {"source": SAMPLE_SOURCE, **provenance}
    missing = [k for k in PROVENANCE_FIELDS if k not in provenance]
    if missing:
        raise DataError("<provenance>", "(fields)", f"lacks {', '.join(missing)}")
    file = shipped_path() if path is None else Path(path)
    side = file.with_suffix(".toml")
    lines = ["# The provenance of the posterior sample beside this file (params.posterior).",
             "# Remake both with the command below; never edit them by hand."]
    for k in PROVENANCE_FIELDS:
        v = provenance[k]
        lines.append(f"{k} = {v!r}" if not isinstance(v, str) else f"{k} = {_toml_str(v)}")
    tmp_csv, tmp_toml = file.with_name(file.name + ".tmp"), side.with_name(side.name + ".tmp")
    sample.to_csv(tmp_csv, index=False, float_format="%.10g")
    tmp_toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp_csv.replace(file)
    tmp_toml.replace(side)
    return file, side


def _toml_str(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bounds_of(params) -> dict[str, tuple[float, float]]:
    """Each scalar parameter's (min, max), open ends as infinities."""
    return {name: (-np.inf if p.min is None else p.min, np.inf if p.max is None else p.max)
            for name, p in params.params.items() if not p.regional}
