"""Calibration: fit the behavioural parameters (status ``calibrated``) across years to the
historical series, honestly (docs/calibration.md). This module holds the loss and Powell's
least squares; ABC-SMC, which gives a posterior, is ``sovsim.uncertainty.abc_smc``.

The targets are declared in ``data/calibration/targets.toml`` (``sovsim.history.targets``):
series, region, years, the variant rule, weight and why. The loss reads history only through
the view of those targets (``targets.view``): at each period the best-graded usable rows
(never a popular row, never an official claim known to be inflated), several of them making a
band. It is a sum over targets of the weight times the mean, over the target's periods, of the
log distance of the model from the band (zero inside), plus the declared band penalties (the
famines of 1930-34 and 1921-22). One value per parameter for all years: no per-year constants.
Everything else in the record is out of sample (``sovsim validate``).
The minimiser here is Powell's method in the unit cube of each parameter's bounds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sovsim.api import run
from sovsim.errors import SovsimError
from sovsim.history import targets as declared
from sovsim.params import ParameterSet, load_parameters, parameter_files
from sovsim.results.validate import Where, _value, bands_of


def __getattr__(name: str):
    """``TARGETS``: ``{(series, region): weight}`` of the declared targets
    (data/calibration/targets.toml), read when first asked for, not at import."""
    if name == "TARGETS":
        return declared.weights()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Fit:
    names: list[str]
    values: dict[str, float]
    loss: float
    parts: dict[str, float]
    evaluations: int


def calibrated_parameters(p: ParameterSet) -> list[tuple[str, float, float]]:
    out = []
    for par in p:
        if par.status == "calibrated" and not par.regional:
            if par.min is None or par.max is None:
                raise SovsimError(f"calibrated parameter {par.name} needs min and max bounds")
            out.append((par.name, float(par.min), float(par.max)))
    return out


def famine_band() -> tuple[float, float]:
    """The declared band of USSR excess deaths in 1930-34 (best-graded published totals)."""
    return declared.band_range(declared.band("famine_1930_34"))


def famine_band_1921() -> tuple[float, float]:
    """The declared band for the famine of 1921-22."""
    return declared.band_range(declared.band("famine_1921_22"))


@lru_cache(maxsize=1)
def target_plan() -> tuple[tuple[str, str, float, float, Where], ...]:
    """Every period the loss scores: (target key, period, band low, band high, where the model's
    value lies), made once from ``targets.view()`` and nothing else."""
    view = declared.view()
    view = view[view["target"].str.contains(":")]  # bands are famine_misses'
    out = []
    for key, rows in view.groupby("target", sort=False):
        for series, _, _, where, g in bands_of(rows):
            if (g["value"] > 0).all():
                vals = g["value"].astype(float)
                out.append((key, series, float(vals.min()), float(vals.max()), where))
    return tuple(out)


def clear_caches() -> None:
    """Forget what was read from history (after the record or the targets change)."""
    target_plan.cache_clear()
    declared.declared.cache_clear()


def loss(overrides: dict[str, float], p: ParameterSet | None = None, *,
         targets: dict[tuple[str, str], float] | None = None,
         scenario: str = "historical") -> tuple[float, dict[str, float]]:
    """The calibration loss of one run with ``overrides`` and its parts by target.

    ``targets`` (default: every declared target) are the weighted series fitted; ABC-SMC passes the
    targets less the series it holds back for out-of-sample checks (a series not declared in
    targets.toml cannot be fitted). The band penalties are always part of the loss. A run that
    fails scores 1e6.
    """
    try:
        res = run(scenario, params=p, overrides=overrides)
    except SovsimError:
        return 1e6, {"failed": 1e6}
    return score(res, targets)


def score(res, targets: dict[tuple[str, str], float] | None = None) -> tuple[float, dict[str, float]]:
    """The loss of a finished run (``loss`` without the run)."""
    declared_weights = declared.weights()
    targets = declared_weights if targets is None else targets
    unknown = [k for k in targets if k not in declared_weights]
    if unknown:
        raise SovsimError(f"{unknown[0][0]}:{unknown[0][1]} is not a declared target "
                          "(data/calibration/targets.toml); out-of-sample series are never fitted")
    errors = series_errors(res, targets)
    parts = {f"{s}:{r}": w * errors[f"{s}:{r}"] for (s, r), w in targets.items()
             if f"{s}:{r}" in errors}
    parts.update(famine_misses(res))
    return float(sum(parts.values())), parts


def series_errors(res, keys) -> dict[str, float]:
    """Per declared target in ``keys``: the mean over its periods of the error (``_error``) of
    the model from the band of the chosen rows; targets without usable rows are left out."""
    wanted = {f"{s}:{r}" for s, r in keys}
    by_key: dict[str, list[float]] = {}
    for key, series, lo, hi, where in target_plan():
        if key in wanted:
            by_key.setdefault(key, []).append(_error(series, _value(res, where), lo, hi))
    return {k: float(np.mean(v)) for k, v in by_key.items()}


def famine_misses(res) -> dict[str, float]:
    """The weighted log distance of the model's totals from the declared bands (zero inside)."""
    deaths = res.series("excess_deaths_persons")
    parts = {}
    for b in declared.bands():
        lo, hi = declared.band_range(b)
        total = float(sum(deaths[str(y)] for y in range(b.model_first, b.model_last + 1)))
        parts[b.name] = b.weight * _band_miss(total, lo, hi)
    return parts


def _band_miss(total: float, lo: float, hi: float) -> float:
    if lo <= total <= hi:
        return 0.0
    return min(abs(math.log(max(total, 1.0) / lo)), abs(math.log(max(total, 1.0) / hi)))


def _error(series: str, model: float, lo: float, hi: float | None = None) -> float:
    """Distance of the model from the band [lo, hi] (a point when ``hi`` is None): log error;
    for shares, the absolute error over max(share, 0.1) (logs of shares near zero would
    swamp the rest). Zero inside the band."""
    hi = lo if hi is None else hi
    if lo <= model <= hi:
        return 0.0
    edge = lo if model < lo else hi
    if series.endswith("_share"):
        return abs(model - edge) / max(edge, 0.1)
    return abs(math.log(max(model, 1e-9) / edge))


def fit(maxfev: int = 600, p: ParameterSet | None = None, progress=None) -> Fit:
    from scipy.optimize import minimize

    p = p or load_parameters()
    spec = calibrated_parameters(p)
    names = [s[0] for s in spec]
    lo = np.array([s[1] for s in spec])
    hi = np.array([s[2] for s in spec])
    x0 = np.clip((np.array([float(p[n]) for n in names]) - lo) / (hi - lo), 0, 1)
    count = [0]

    def objective(x):
        count[0] += 1
        vals = dict(zip(names, lo + np.clip(x, 0, 1) * (hi - lo)))
        value, _ = loss(vals, p)
        if progress:
            progress(count[0], value)
        return value

    best = minimize(objective, x0, method="Powell", bounds=[(0, 1)] * len(names),
                    options={"maxfev": maxfev, "xtol": 1e-3, "ftol": 1e-4})
    values = dict(zip(names, (lo + np.clip(best.x, 0, 1) * (hi - lo)).tolist()))
    total, parts = loss(values, p)
    return Fit(names, values, total, parts, count[0])


def write_values(values: dict[str, float], path: Path) -> Path:
    """A parameter file of fitted values (``[values]``), usable with ``--params``."""
    lines = ["# sovsim calibration result: fitted values (sovsim calibrate)", "[values]"]
    lines += [f'"{k}" = {v!r}' for k, v in sorted(values.items())]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # (--out checked writable before the fit)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path


def apply_to_shipped(values: dict[str, float]) -> list[Path]:
    """Write fitted values into the shipped parameter files (the ``value =`` line of each)."""
    changed = []
    for path in parameter_files():
        text = path.read_text()
        new = text
        for name, val in values.items():
            pattern = re.compile(rf"(\[{re.escape(name)}\]\n(?:[^\[]*?\n)?)value = [^\n]+")
            new = pattern.sub(lambda m, val=val: f"{m.group(1)}value = {val:.6g}", new, count=1)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


__all__ = ["Fit", "apply_to_shipped", "fit", "loss", "report_markdown", "score", "write_values"]


def report_markdown(fit: Fit, p: ParameterSet | None = None) -> str:
    """docs/calibration.md: both methods, the targets, and a Powell fit's values and loss by
    target (an ABC-SMC run has its own report, ``sovsim.uncertainty.checks.report_markdown``)."""
    p = p or load_parameters()
    lines = [
        "# Calibration", "",
        "Generated by `sovsim calibrate` (`sovsim.uncertainty.calibrate.report_markdown`).", "",
        "## Method", "",
        "Two methods share one loss and the same targets (`sovsim calibrate --method`).",
        "", "**The targets** are declared in `src/sovsim/data/calibration/targets.toml`",
        "(series, region, years, variant rule, weight, why); everything else in the record",
        "is out of sample, reported apart by `sovsim validate` (docs/validation.md).",
        "", "**The loss.** For each target, the mean over its periods of the absolute log",
        "distance of the model from the band of the best-graded usable rows of that period",
        "(zero inside; for shares: absolute error over max(share, 0.1)), times the target's",
        "weight; plus a penalty (the band's weight times the log distance) when the model's",
        "1930-34 or 1921-22 excess deaths fall outside the band of the best-graded published",
        "USSR totals. Popular rows (forum, blog, unattributed) and official claims known to be",
        "inflated never enter a band (docs/sources-grades.md). The parameters with status",
        "`calibrated` are fitted together, one value each for all years and regions (no",
        "per-year constants).",
        "", "**Powell** (`--method powell`, the default; the numbers on this page) minimises",
        "the loss by Powell's method in the unit cube of the parameters' bounds: one best",
        "point, no statement of uncertainty.", "",
        "**ABC-SMC** (`--method abc`, `sovsim.uncertainty.abc_smc`; docs/design/0007-abc-calibration.md)",
        "treats the loss as the distance between a run and the record and samples the",
        "posterior by approximate Bayesian computation with sequential Monte Carlo (pyabc:",
        "Beaumont et al. 2009; Del Moral, Doucet & Jasra 2012): particles drawn from the priors",
        "of the parameter files (`sovsim params --priors`), then generations proposed from a",
        "Gaussian kernel around the last and kept when their distance falls below a tolerance",
        "lowered each generation to the median distance of the last. By default it holds back",
        "USSR procurement, horses and town population from the loss and checks them, with",
        "series no calibration fits (population, rural population, GDP per head, Ukraine's",
        "famine deaths), on draws from the posterior and from the prior. It writes the",
        "posterior median (or `--point best`, the particle nearest the record) as a `[values]`",
        "file for `--params`, the weighted particles beside it (`NAME.posterior.parquet`), and",
        "with `--report` a page of the posterior (mean, sd, 5/50/95 %), the fit per series and",
        "the held-back series year by year. The shipped values below come from Powell; no ABC",
        "result has been applied to the shipped files. With all 26 parameters at affordable",
        "populations pyabc's importance weights collapse onto one or two particles (the report",
        "gives the effective sample size and warns); **ABC-SMC by resample-move** (`--method",
        "abc-rm`, `sovsim.uncertainty.abc_rm`: equal weights, tolerance lowered to the median",
        "distance, Metropolis-Hastings moves within it) keeps the particles distinct. Short runs",
        "are not converged; 400 particles over 60 generations end with every particle closer to",
        "the fitted series than the Powell values (docs/design/0007-abc-calibration.md, and",
        "example reports",
        "docs/calibration-abc-rm-example.md (26 parameters) and docs/calibration-abc-example.md",
        "(pyabc, six parameters)).", "",
        "| target | years | weight | loss |", "| --- | --- | --- | --- |",
    ]
    for t in declared.targets():
        lines.append(f"| {t.series} ({t.region}) | {t.first}-{t.last} | {t.weight} | "
                     f"{fit.parts.get(f'{t.series}:{t.region}', float('nan')):.4f} |")
    for b in declared.bands():
        lines.append(f"| {b.name}: excess deaths {b.model_first}-{b.model_last} in the band | "
                     f"{b.first}-{b.last} | {b.weight} | {fit.parts.get(b.name, float('nan')):.4f} |")
    lines += ["", f"Total loss {fit.loss:.4f} after {fit.evaluations} model runs.", "",
              "## Fitted values", "", "| parameter | value | bounds | unit |", "| --- | --- | --- | --- |"]
    for name in fit.names:
        par = p.params[name]
        lines.append(f"| `{name}` | {fit.values[name]:.6g} | {par.min:g} to {par.max:g} | {par.unit} |")
    lines += ["", "A parameter at a bound means the data pull it further than its plausible range",
              "allows; `sovsim validate` shows the fit series by series, misses included."]
    return "\n".join(lines) + "\n"
