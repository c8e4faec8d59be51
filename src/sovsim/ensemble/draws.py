"""Draws of an ensemble member: its parameters (from the calibrated posterior, or from the
priors: ``parameter_draws``), and the weather, from the historical record, in the years after
a scenario's divergence."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.errors import SovsimError
from sovsim.params import ParameterSet
from sovsim.params.posterior import POSTERIOR, PRIORS, bounds_of, check_against, load_posterior
from sovsim.scenario import Scenario, load_scenario

__all__ = ["POSTERIOR", "PRIORS", "divergence_month", "member_weather", "parameter_draws",
           "weather_first_year"]

HARVEST_MONTH = 7  # July: the first month of the harvest (mechanisms/agriculture.py)


def divergence_month(sc: Scenario) -> int | None:
    """The first month in which ``sc``'s instruments differ from the historical scenario's
    (None if they never do): computed from the timelines, so it holds for any scenario,
    with or without a ``diverge`` key."""
    hist = load_scenario("historical").timeline()
    own = sc.timeline()
    first = None
    for name, arr in own.items():
        diff = np.flatnonzero(np.any(arr != hist[name], axis=1))
        if diff.size and (first is None or diff[0] < first):
            first = int(diff[0])
    return first


def weather_first_year(scenarios: Sequence[Scenario]) -> int:
    """The first harvest year after the earliest divergence among ``scenarios``: the year of
    the divergence if it comes by July (the harvest), else the next."""
    months = [m for m in (divergence_month(sc) for sc in scenarios) if m is not None]
    if not months:
        names = ", ".join(sc.name for sc in scenarios)
        raise SovsimError(f"--draw-weather: {names} never diverges from the historical "
                          "scenario, so there are no years after a divergence to draw weather "
                          "for; give --weather-from YEAR")
    m = min(months)
    year = calendar.year_of(m)
    return year if calendar.calendar_month(m) <= HARVEST_MONTH else year + 1


def member_weather(seed: int, member: int, first_year: int) -> np.ndarray:
    """Weather classes (years, regions) for one member: the record (``weather.csv``, main
    variant) before ``first_year``; from it on, each year a whole year of the record
    1921-1940 drawn with replacement (all regions together, so droughts that struck several
    regions at once stay together). Addressed: depends only on (seed, member, year)."""
    from sovsim.inputs import load_inputs

    record = np.asarray(load_inputs("main").weather_class)
    out = record.copy()
    salt = zlib.crc32(b"weather")
    for y in range(max(first_year, calendar.START_YEAR), calendar.END_YEAR + 1):
        pick = np.random.default_rng([seed, member, salt, y]).integers(len(record))
        out[y - calendar.START_YEAR] = record[pick]
    return out


def parameter_draws(base: ParameterSet, members: int, seed: int, names, draws_from):
    """The parameters drawn, each member's draw (member ``i``'s depends only on (seed, i)),
    and what they were drawn from, for the manifests and every output: ``draws_from`` is
    ``posterior`` (the shipped calibrated posterior), ``priors`` (the parameter files'
    priors, of ``names`` or all) or the path of a posterior sample."""
    if names is not None and not list(names):
        return [], [{} for _ in range(members)], {
            "from": "none", "label": "no parameters drawn (the central values)"}
    if names is not None and draws_from not in (PRIORS, POSTERIOR):
        raise SovsimError("names: choosing the parameters to draw is for the priors; a "
                          "posterior sample draws the parameters it fitted, together")
    if draws_from == PRIORS or names is not None:  # a chosen few are drawn from their priors
        drawn = list(base.priors()) if names is None else list(names)
        return drawn, base.draw(members, seed, drawn), {
            "from": PRIORS, "label": "the parameter files' PRIORS (wide ranges, not a "
            "calibration: --from priors)"}
    post = load_posterior(None if draws_from == POSTERIOR else Path(draws_from))
    check_against(post, base)
    sample_hash = hashlib.sha256(pd.util.hash_pandas_object(post.sample, index=False)
                                 .to_numpy().tobytes()).hexdigest()[:16]
    return post.names, post.draws(members, seed, bounds_of(base)), {
        "from": POSTERIOR if draws_from == POSTERIOR else str(draws_from),
        "label": post.label(), "sample_hash": sample_hash,
        "provenance": {k: post.provenance.get(k) for k in ("method", "date", "code_hash")}}
