"""The checks and report of an ABC-SMC calibration (``sovsim calibrate --method abc``): the
error of every series, fitted, held back and never fitted, on runs at posterior and prior
draws, at the point estimate and at the shipped values; the held-back series year by year;
a markdown report of it all with the posterior (docs/calibration.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sovsim.history import targets as declared
from sovsim.params import ParameterSet, load_parameters
from sovsim.uncertainty.abc_smc import never_fitted
from sovsim.uncertainty.pool import parallel_map
from sovsim.uncertainty.posterior import Posterior


@dataclass
class Checks:
    """Errors per series (``check_errors``) of runs at posterior and prior draws, at the
    point estimate and at the shipped values; year-by-year values of the held-back series."""

    errors: pd.DataFrame  # source (posterior|prior|point|shipped), draw, series, error
    years: pd.DataFrame   # source, draw, series, period, model  (held-back series)
    history: pd.DataFrame  # series, period, lo, hi: the published range of each point


def _check_run(overrides: dict[str, float], keys, yearly) -> tuple[dict, dict]:
    from sovsim.api import run
    from sovsim.errors import SovsimError
    from sovsim.results.validate import model_value

    try:
        res = run("historical", overrides=overrides)
    except SovsimError:
        return {}, {}
    values = {}
    for series, region, period, note, variant in yearly:
        values[(f"{series}:{region}", period)] = model_value(res, series, region, period, note,
                                                             variant)
    return check_errors(res, keys), values


def check_errors(res, keys) -> dict[str, float]:
    """Per (series, region) in ``keys``, fitted or not: the mean over the years 1926-1940 of
    the distance of the model from the band of the best-graded usable rows of each period (as
    the loss measures it; a check after calibration, which itself reads only the targets)."""
    from sovsim import history
    from sovsim.results.validate import FIT_FROM, FIT_TO, _value, bands_of
    from sovsim.uncertainty.calibrate import _error

    best = history.best(history.load())
    wanted = set(keys)
    best = best[[(s, r) in wanted for s, r in zip(best["series"], best["region"])]]
    out: dict[str, list[float]] = {}
    for series, region, period, where, g in bands_of(best):
        if not FIT_FROM <= int(period[:4]) <= FIT_TO or not (g["value"] > 0).all():
            continue
        model = _value(res, where)
        out.setdefault(f"{series}:{region}", []).append(
            _error(series, model, float(g["value"].min()), float(g["value"].max())))
    return {k: float(np.mean(v)) for k, v in out.items()}


def checks(post: Posterior, point: Mapping[str, float], *, draws: int = 20, seed: int = 0,
           workers: int = 1, progress: Callable[[int], None] | None = None) -> Checks:
    """Run ``draws`` posterior and ``draws`` prior draws, the point and the shipped values;
    the error of every target, held-back and never-fitted series for each."""
    from sovsim import history as hist
    from sovsim.results.validate import FIT_FROM, FIT_TO

    targets = declared.weights()
    keys = list(targets) + [k for k in never_fitted() if k not in targets]
    rows = []
    for series, region in post.held_out:
        df = hist.best(hist.load(series))
        df = df[(df["region"] == region) & (df["period"].str[:4].astype(int).between(FIT_FROM, FIT_TO))]
        for _, r in df.drop_duplicates("period").iterrows():
            rows.append((series, region, r["period"], r.get("note", "") or "", r["variant"]))
    yearly = sorted(set(rows))
    rng_prior = [{n: float(post.priors[n].ppf(q)) for n, q in zip(post.names, qs)}
                 for qs in np.random.default_rng(seed + 1).uniform(1e-12, 1 - 1e-12,
                                                                   (draws, len(post.names)))]
    jobs = ([("posterior", i, d) for i, d in enumerate(post.draws(draws, seed))]
            + [("prior", i, d) for i, d in enumerate(rng_prior)]
            + [("point", 0, dict(point)), ("shipped", 0, {})])
    func = functools.partial(_check_wrapper, keys=keys, yearly=yearly)
    results = parallel_map(func, [j[2] for j in jobs], workers=workers, progress=progress)
    err_rows, year_rows = [], []
    for (source, i, _), (errors, values) in zip(jobs, results):
        for key, e in errors.items():
            err_rows.append({"source": source, "draw": i, "series": key, "error": e})
        for (key, period), v in values.items():
            year_rows.append({"source": source, "draw": i, "series": key, "period": period,
                              "model": v})
    hist_rows = []
    for series, region in post.held_out:
        df = hist.best(hist.load(series))
        df = df[(df["region"] == region) & (df["period"].str[:4].astype(int).between(FIT_FROM, FIT_TO))]
        for period, g in df.groupby("period"):
            vals = g["value"].astype(float)
            hist_rows.append({"series": f"{series}:{region}", "period": period,
                              "lo": float(vals.min()), "hi": float(vals.max())})
    return Checks(pd.DataFrame(err_rows), pd.DataFrame(year_rows), pd.DataFrame(hist_rows))


def _check_wrapper(overrides, *, keys, yearly):
    return _check_run(overrides, keys, yearly)




# -- report -------------------------------------------------------------------------------------

def _band(values: pd.Series) -> str:
    q = np.nanpercentile(values.to_numpy(dtype=float), [5, 50, 95]) if len(values) else [np.nan] * 3
    return f"{q[1]:.3f} ({q[0]:.3f} to {q[2]:.3f})"


def report_markdown(post: Posterior, chk: Checks, point: Mapping[str, float],
                    point_how: str = "median", p: ParameterSet | None = None,
                    command: str | None = None) -> str:
    """An ABC-SMC calibration report: settings, tolerances, the posterior per parameter, the
    fit per series (fitted, held back, never fitted) from posterior and prior draws, and the
    held-back series year by year beside the published range."""
    p = p or load_parameters()
    held = {f"{s}:{r}" for s, r in post.held_out}
    fitted = {f"{s}:{r}" for s, r in post.targets}
    ndraws = int(chk.errors.loc[chk.errors["source"] == "posterior", "draw"].nunique())
    lines = [
        "# Calibration by ABC-SMC", "",
        ("Generated by `sovsim calibrate --method abc|abc-rm --report FILE` "
        "(`sovsim.uncertainty.checks.report_markdown`); the method is described in "
        "docs/calibration.md and docs/design/0007-abc-calibration.md."), "",
        *([f"Command: `{command}`.", ""] if command else []),
        ("Sampler: " + ("resample-move ABC-SMC (`abc_rm`; Metropolis-Hastings move "
                        "acceptance by generation: " + ", ".join(f"{a:.0%}" for a in post.acceptance)
                        + "; the effective sample size counts distinct particles)"
                        if post.method == "resample-move" else
                        "pyabc's ABC-SMC with importance weights") + "."), "",
        f"{len(post.names)} parameters, {post.population} particles per generation, "
        f"{len(post.epsilons)} generations, {post.runs} model runs; effective sample size of "
        f"the last generation {post.ess:.1f}. Tolerance by generation: "
        + ", ".join(f"{e:.4g}" for e in post.epsilons) + ". "
        f"Held back from the fit: {', '.join(sorted(held)) or 'nothing'}. "
        f"The point estimate written as the values file is the posterior {point_how}"
        + (" (weighted marginal medians)" if point_how == "median" else
           " (the particle nearest the record)") + ".", "",
    ]
    if post.degenerate():
        lines += [(f"**Warning: the sample is degenerate** (effective sample size "
                   f"{post.ess:.1f} of {post.population} particles: few distinct particles carry "
                   "the weight): the quantiles below "
                   "rest on one or a few particles and say nothing about the spread of the "
                   "posterior. Use `--method abc-rm` (resample-move), fit fewer parameters "
                   "(`--params`) or use more particles."), ""]
    lines += [
        "## Posterior", "",
        "| parameter | mean | sd | 5 % | 50 % | 95 % | prior | point | shipped (Powell) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in post.summary().iterrows():
        name = r["parameter"]
        prior = post.priors[name]
        lines.append(f"| `{name}` | {r['mean']:.4g} | {r['sd']:.3g} | {r['q05']:.4g} | "
                     f"{r['q50']:.4g} | {r['q95']:.4g} | {prior.dist} {prior.lo:g} to "
                     f"{prior.hi:g} | {point[name]:.4g} | {float(p[name]):.4g} |")
    lines += ["", ("A posterior as wide as its prior means the fitted series do not pin the "
              "parameter down; one pressed against a bound means the data pull it beyond its "
              "plausible range. With a small effective sample size the quantiles rest on a "
              "few particles and understate the spread; a short run (a high final tolerance) "
              "gives a posterior that is neither converged nor a fit as close as Powell's."), "",
              "## Fit per series", "",
              (f"The error of each series (mean absolute log distance from the band of the "
              f"best-graded usable rows of each period, 1926-1940; for shares the absolute error "
              f"over max(share, 0.1)), "
              f"unweighted: median (5 % to 95 %) over {ndraws} draws from the posterior and "
              f"{ndraws} from the prior, and at the point estimate and the shipped values. "
              "Prior draws vary the fitted parameters only; every other parameter keeps its "
              "shipped value, in all four columns."), "",
              "| series | role | posterior draws | prior draws | point | shipped |",
              "| --- | --- | --- | --- | --- | --- |"]
    e = chk.errors
    for key in e["series"].drop_duplicates():
        role = ("fitted" if key in fitted else "**held back**" if key in held
                else "never fitted")
        sel = e[e["series"] == key]
        pt = sel.loc[sel["source"] == "point", "error"]
        sh = sel.loc[sel["source"] == "shipped", "error"]
        lines.append(f"| {key} | {role} | {_band(sel.loc[sel['source'] == 'posterior', 'error'])} | "
                     f"{_band(sel.loc[sel['source'] == 'prior', 'error'])} | "
                     f"{pt.iloc[0] if len(pt) else float('nan'):.3f} | "
                     f"{sh.iloc[0] if len(sh) else float('nan'):.3f} |")
    lines += ["", ("The shipped values were fitted by Powell's method to *every* target "
              "(held-back ones included), so they are not out of sample for the held-back "
              "series; the posterior and prior draws are."), ""]
    if len(chk.years):
        lines += ["## Held-back series year by year", "",
                  ("Model median (5 % to 95 %) over the posterior draws, beside the band of "
                  "the best-graded usable published rows."), "",
                  "| series | period | published | posterior draws | prior draws |",
                  "| --- | --- | --- | --- | --- |"]
        y = chk.years
        for _, h in chk.history.iterrows():
            sel = y[(y["series"] == h["series"]) & (y["period"] == h["period"])]
            pub = (f"{h['lo']:.4g}" if h["lo"] == h["hi"] else f"{h['lo']:.4g} to {h['hi']:.4g}")
            lines.append(f"| {h['series']} | {h['period']} | {pub} | "
                         f"{_band_g(sel.loc[sel['source'] == 'posterior', 'model'])} | "
                         f"{_band_g(sel.loc[sel['source'] == 'prior', 'model'])} |")
    return "\n".join(lines) + "\n"


def _band_g(values: pd.Series) -> str:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return "n/a"
    q = np.percentile(v, [5, 50, 95])
    return f"{q[1]:.4g} ({q[0]:.4g} to {q[2]:.4g})"


__all__ = ["Checks", "checks", "report_markdown"]
