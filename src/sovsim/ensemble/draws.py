"""Draws of an ensemble member besides its parameters (``ParameterSet.draw``): the weather,
from the historical record, in the years after a scenario's divergence."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from sovsim import calendar
from sovsim.errors import SovsimError
from sovsim.scenario import Scenario, load_scenario

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
