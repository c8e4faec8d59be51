"""Mechanism 1, policy: the instruments in force this month, read from the scenario timeline.

Nothing else changes an instrument. Regional instruments come as one value per region.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from sovsim.scenario.instruments import catalogue


def instruments_at(timeline: dict[str, np.ndarray], month: int) -> dict:
    """Instrument values of ``month``: floats, bools, choice names; regional ones per region."""
    out: dict = {}
    for name, inst in catalogue().items():
        row = timeline[name][month]
        if inst.regional:
            out[name] = row
        elif inst.kind == "choice":
            out[name] = inst.choices[int(row[0])]
        elif inst.kind == "bool":
            out[name] = bool(row[0])
        else:
            out[name] = float(row[0])
    return out


def instruments_by_month(timeline: dict[str, np.ndarray]) -> tuple[Mapping, ...]:
    """``instruments_at`` for every month of the timeline, read-only (decoded once per
    scenario, not once per month of every run)."""
    months = len(next(iter(timeline.values())))
    return tuple(MappingProxyType(instruments_at(timeline, m)) for m in range(months))
