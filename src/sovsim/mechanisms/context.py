"""What every mechanism receives: the month, the instruments in force, the parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sovsim import calendar
from sovsim.params import ParameterSet


@dataclass
class Step:
    month: int
    pol: dict[str, np.ndarray | float | str]  # instruments this month (regional: per region)
    p: ParameterSet
    inputs: "Inputs"

    @property
    def cm(self) -> int:
        return calendar.calendar_month(self.month)

    @property
    def year(self) -> int:
        return calendar.year_of(self.month)

    @property
    def harvest_year(self) -> int:
        return calendar.harvest_year(self.month)

    @property
    def months_to_harvest(self) -> int:
        return calendar.months_to_harvest(self.month)


@dataclass(frozen=True)
class Inputs:
    """Exogenous inputs (never outcomes): weather class by region-year, world grain price."""

    weather_class: np.ndarray  # (years, regions), 0 normal, -2..+1 from sources
    world_grain_price: np.ndarray  # (years,), index 1926/27 = 1
    first_year: int

    def weather(self, year: int) -> np.ndarray:
        return self.weather_class[year - self.first_year]

    def world_price(self, year: int) -> float:
        return float(self.world_grain_price[year - self.first_year])
