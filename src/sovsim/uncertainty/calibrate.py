"""Calibration: fit the behavioural parameters (status ``calibrated``) across years to the
historical series, honestly (docs/calibration.md). This module holds the loss and Powell's
least squares; ABC-SMC, which gives a posterior, is ``sovsim.uncertainty.abc_smc``.

The loss is a sum over target series of the mean, over the years 1926-1940 that have data, of
the absolute log error against the *nearest* published variant of that year (so disagreement
between sources does not pull the fit), plus a penalty when 1930-34 excess deaths leave the
range of published estimates (and when those of 1921-22 leave theirs). One value per parameter
for all years: no per-year constants.
The minimiser here is Powell's method in the unit cube of each parameter's bounds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sovsim import history
from sovsim.api import run
from sovsim.errors import SovsimError
from sovsim.params import ParameterSet, load_parameters, parameter_files
from sovsim.results.validate import FIT_FROM, FIT_TO, points

TARGETS: dict[tuple[str, str], float] = {
    ("grain_harvest_t", "USSR"): 3.0,
    ("grain_procurement_t", "USSR"): 1.0,
    ("sown_area_ha", "USSR"): 0.5,
    ("horses_head", "USSR"): 1.0,
    ("cattle_head", "USSR"): 1.0,
    ("pigs_head", "USSR"): 0.5,
    ("sheep_goats_head", "USSR"): 0.5,
    ("urban_population_persons", "USSR"): 1.5,
    ("collectivized_share", "USSR"): 1.0,
    ("nonagricultural_employment_persons", "USSR"): 0.5,
    ("industrial_output_index", "USSR"): 0.25,
    ("cattle_head", "kazakhstan"): 0.5,
    ("death_rate_index", "USSR"): 2.0,
}
FAMINE_WEIGHT = 2.0
FAMINE_BAND = ("davies_wheatcroft_low", "ptoukha_institute")  # 5.5 to 8.7 million, 1930-34


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
    df = history.load("excess_deaths_total_persons")
    vals = df[df["variant"].isin(FAMINE_BAND) & (df["region"] == "USSR")]["value"].astype(float)
    return float(vals.min()), float(vals.max())


def loss(overrides: dict[str, float], p: ParameterSet | None = None, *,
         targets: dict[tuple[str, str], float] | None = None,
         scenario: str = "historical") -> tuple[float, dict[str, float]]:
    """The calibration loss of one run with ``overrides`` and its parts by target.

    ``targets`` (default ``TARGETS``) are the weighted series fitted; ABC-SMC passes the
    targets less the series it holds back for out-of-sample checks. The two famine-band
    penalties are always part of the loss. A run that fails scores 1e6.
    """
    targets = TARGETS if targets is None else targets
    try:
        res = run(scenario, params=p, overrides=overrides)
    except SovsimError:
        return 1e6, {"failed": 1e6}
    errors = series_errors(res, targets)
    parts = {f"{s}:{r}": w * errors[f"{s}:{r}"] for (s, r), w in targets.items()
             if f"{s}:{r}" in errors}
    parts.update(famine_misses(res))
    return float(sum(parts.values())), parts


def series_errors(res, keys) -> dict[str, float]:
    """Per (series, region) in ``keys``: the mean over the years 1926-1940 with data of the
    error (``_error``) against the nearest published variant of each period; keys without
    data are left out."""
    wanted = set(keys)
    pts = [q for q in points(res) if FIT_FROM <= q.year <= FIT_TO and (q.series, q.region) in wanted
           and q.history > 0]
    out: dict[str, float] = {}
    for key in keys:
        by_period: dict[str, list] = {}
        for q in pts:
            if (q.series, q.region) == key:
                by_period.setdefault(q.period, []).append(q)
        errs = [min(_error(key[0], q.model, q.history) for q in qs) for qs in by_period.values()]
        if errs:
            out[f"{key[0]}:{key[1]}"] = float(np.mean(errs))
    return out


def famine_misses(res) -> dict[str, float]:
    """The weighted log distance of 1930-34 and 1921-22 excess deaths from the published
    ranges (zero inside them)."""
    deaths = res.series("excess_deaths_persons")
    parts = {}
    for label, (first, last), (lo, hi) in (("famine_1930_34", (1930, 1934), famine_band()),
                                            ("famine_1921_22", (1921, 1922), famine_band_1921())):
        total = float(sum(deaths[str(y)] for y in range(first, last + 1)))
        parts[label] = FAMINE_WEIGHT * _band_miss(total, lo, hi)
    return parts


def _band_miss(total: float, lo: float, hi: float) -> float:
    if lo <= total <= hi:
        return 0.0
    return min(abs(math.log(max(total, 1.0) / lo)), abs(math.log(max(total, 1.0) / hi)))


def famine_band_1921() -> tuple[float, float]:
    """The published range for the famine of 1921-22 (all rows dated before 1924)."""
    df = history.load("excess_deaths_total_persons")
    vals = df[(df["period"].str[:4].astype(int) < 1924) & (df["region"] == "USSR")]["value"]
    return float(vals.astype(float).min()), float(vals.astype(float).max())


def _error(series: str, model: float, hist: float) -> float:
    """Log error; for shares, the absolute error over max(share, 0.1) (logs of shares near
    zero would swamp the rest)."""
    if series.endswith("_share"):
        return abs(model - hist) / max(hist, 0.1)
    return abs(math.log(max(model, 1e-9) / hist))


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
            pattern = re.compile(r"(\[" + re.escape(name) + r"\]\n(?:[^\[]*?\n)?)value = [^\n]+")
            new = pattern.sub(lambda m, val=val: f"{m.group(1)}value = {val:.6g}", new, count=1)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


__all__ = ["Fit", "apply_to_shipped", "fit", "loss", "report_markdown", "write_values"]


def report_markdown(fit: Fit, p: ParameterSet | None = None) -> str:
    """docs/calibration.md: both methods, the targets, and a Powell fit's values and loss by
    target (an ABC-SMC run has its own report, ``sovsim.uncertainty.checks.report_markdown``)."""
    p = p or load_parameters()
    lines = [
        "# Calibration", "",
        "Generated by `sovsim calibrate` (`sovsim.uncertainty.calibrate.report_markdown`).", "",
        "## Method", "",
        "Two methods share one loss and the same targets (`sovsim calibrate --method`).",
        "", "**The loss.** For each target series, the mean over the years 1926-1940 that",
        "have data of the absolute log error against the *nearest* published variant of that",
        "year (for shares: absolute error over max(share, 0.1)), times the target's weight;",
        "plus a penalty (twice the log distance) when the model's 1930-34 excess deaths fall",
        "outside the range of Davies & Wheatcroft's low estimate to the Ptoukha Institute's, and",
        "likewise for the famine of 1921-22 (2 to 10 million, weak sources: a student paper's",
        "range and the Black Book's 5 million). The parameters with status `calibrated` are",
        "fitted together, one value each for all years and regions (no per-year constants).",
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
        "| target | weight | loss |", "| --- | --- | --- |",
    ]
    for (series, region), w in TARGETS.items():
        lines.append(f"| {series} ({region}) | {w} | {fit.parts.get(f'{series}:{region}', float('nan')):.4f} |")
    lines.append(f"| excess deaths 1930-34 in the published range | {FAMINE_WEIGHT} | "
                 f"{fit.parts.get('famine_1930_34', float('nan')):.4f} |")
    lines.append(f"| excess deaths 1921-22 in the published range | {FAMINE_WEIGHT} | "
                 f"{fit.parts.get('famine_1921_22', float('nan')):.4f} |")
    lines += ["", f"Total loss {fit.loss:.4f} after {fit.evaluations} model runs.", "",
              "## Fitted values", "", "| parameter | value | bounds | unit |", "| --- | --- | --- | --- |"]
    for name in fit.names:
        par = p.params[name]
        lines.append(f"| `{name}` | {fit.values[name]:.6g} | {par.min:g} to {par.max:g} | {par.unit} |")
    lines += ["", "A parameter at a bound means the data pull it further than its plausible range",
              "allows; `sovsim validate` shows the fit series by series, misses included."]
    return "\n".join(lines) + "\n"
