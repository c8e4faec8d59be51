"""What every mechanism receives: the month, the instruments in force, the parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sovsim import calendar
from sovsim.params import ParameterSet


@dataclass(slots=True)
class Step:
    """The month and what is in force in it; the calendar facts of the month are worked out
    once here (mechanisms read them many times a month)."""

    month: int
    POL: np.recarray  # the scenario's instruments, a record a month (packed.instrument_records)
    p: ParameterSet
    inputs: Inputs
    run: dict = field(default_factory=dict)  # this run's values of ``per_run``
    cm: int = field(init=False)  # calendar month, 1..12
    year: int = field(init=False)
    harvest_year: int = field(init=False)
    months_to_harvest: int = field(init=False)

    def __post_init__(self) -> None:
        self.cm = calendar.calendar_month(self.month)
        self.year = calendar.year_of(self.month)
        self.harvest_year = calendar.harvest_year(self.month)
        self.months_to_harvest = calendar.months_to_harvest(self.month)

    def per_run(self, derive: Callable[[ParameterSet], Any]) -> Any:
        """``derive(p)``, worked out once per run: a quantity of the parameters alone (such
        as the 1928 base of industry) that mechanisms would otherwise rebuild every month."""
        try:
            return self.run[derive]
        except KeyError:
            value = self.run[derive] = derive(self.p)
            return value


@dataclass(frozen=True)
class Inputs:
    """Exogenous inputs (never outcomes): weather class by region-year, world grain price."""

    weather_class: np.ndarray  # (years, regions), 0 normal, -2..+1 from sources
    world_grain_price: np.ndarray  # (years,), index 1926/27 = 1
    first_year: int  # the year of row 0 (the compiled month reads row ``year - first_year``)
