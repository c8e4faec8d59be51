"""Do the bands mean something? Coverage of the historical record by an ensemble's 5-95 %
bands (``sovsim validate --coverage N``; issue 16).

Members are drawn as ensembles draw them (the calibrated posterior by default, or the
priors) and each is run on ``historical``. At every point that validation scores (the
best-graded usable rows of a declared target, and apart the points never fitted), the
members' values give a 5-95 % band; the point is *covered* when that band meets the band of
the best-graded rows (a single row is a band of width zero). A 90 % band that means what it
says covers about 90 % of the points; far fewer means the bands are too narrow (or the model
misses), nearly all with very wide bands means they say little: the mean relative width is
reported beside the rate.

Members are also checked for physical sense: none may reach zero horses, cattle or town
population in any year (``degenerate_members``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sovsim.errors import SovsimError
from sovsim.params import ParameterSet

#: Variables that must stay above zero in every year of every member.
PHYSICAL = ("horses_head", "cattle_head", "urban_population_persons")
MAX_MEMBERS = 5000


@dataclass
class Coverage:
    points: pd.DataFrame  # set (fit | out of sample), series, region, period, lo, hi, q05, q50, q95, covered
    summary: pd.DataFrame  # set, n, covered, rate, mean relative width of the 5-95 % band
    drawn_from: str
    members: int
    failed: int  # members whose run stopped on an invariant (left out, counted here)
    degenerate: pd.DataFrame  # member, variable, year, value: members at zero


def _draws(base: ParameterSet, members: int, seed: int, draws_from: str):
    from sovsim.ensemble.draws import parameter_draws

    _, draws, drawn_from = parameter_draws(base, members, seed, None, draws_from)
    return draws, drawn_from["label"]


def coverage(members: int = 200, *, seed: int = 0, draws_from: str = "posterior",
             params: ParameterSet | None = None) -> Coverage:
    """Run ``members`` draws of ``historical`` and measure how often the 5-95 % bands meet
    the record, on the fitted points and, apart, the points never fitted."""
    from sovsim.api import _shipped_parameters, run
    from sovsim.results import validate as v

    if not isinstance(members, int) or isinstance(members, bool) or not 10 <= members <= MAX_MEMBERS:
        raise SovsimError(f"--coverage {members!r}: from 10 to {MAX_MEMBERS:,} members (a 5-95 "
                          "% band needs at least ten)")
    base = params or _shipped_parameters()
    draws, label = _draws(base, members, seed, draws_from)
    fits, oos, physical, failed = [], [], [], 0
    for i, d in enumerate(draws):
        try:
            res = run("historical", params=base, overrides=d)
        except SovsimError:
            failed += 1
            continue
        fits.append(v.fit_points(res).assign(member=i))
        oos.append(v.out_of_sample_points(res).assign(member=i))
        for var in PHYSICAL:
            s = res.series(var)
            low = s[s <= 0]
            physical += [{"member": i, "variable": var, "year": str(y), "value": float(x)}
                         for y, x in low.items()]
    if len(fits) < 10:
        raise SovsimError(f"coverage: only {len(fits)} of {members} members ran to the end")
    pts = pd.concat([_bands(pd.concat(fits), "fit"), _bands(pd.concat(oos), "out of sample")],
                    ignore_index=True)
    return Coverage(pts, _summary(pts), label, members, failed,
                    pd.DataFrame(physical, columns=["member", "variable", "year", "value"]))


def _bands(frame: pd.DataFrame, which: str) -> pd.DataFrame:
    keys = ["series", "region", "period"]
    g = frame.groupby(keys, sort=True)
    out = g.agg(lo=("lo", "first"), hi=("hi", "first"),
                q05=("model", lambda x: float(np.nanquantile(x, 0.05))),
                q50=("model", lambda x: float(np.nanquantile(x, 0.5))),
                q95=("model", lambda x: float(np.nanquantile(x, 0.95)))).reset_index()
    out["covered"] = (out["q95"] >= out["lo"]) & (out["q05"] <= out["hi"])
    mid = out[["lo", "hi"]].abs().mean(axis=1).replace(0, np.nan)
    out["width"] = (out["q95"] - out["q05"]) / mid
    out.insert(0, "set", which)
    return out


def _summary(pts: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for which, g in pts.groupby("set", sort=False):
        rows.append({"set": which, "n": len(g), "covered": int(g["covered"].sum()),
                     "rate": float(g["covered"].mean()) if len(g) else np.nan,
                     "mean_relative_width": float(np.nanmean(g["width"]))})
    return pd.DataFrame(rows)


def by_series(pts: pd.DataFrame) -> pd.DataFrame:
    """Coverage per set, series and region: points, covered, rate."""
    g = pts.groupby(["set", "series", "region"], sort=True)
    out = g.agg(n=("covered", "size"), covered=("covered", "sum"),
                width=("width", "mean")).reset_index()
    out["rate"] = out["covered"] / out["n"]
    return out
