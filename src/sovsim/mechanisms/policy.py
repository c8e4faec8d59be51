"""Mechanism 1, policy: the instruments in force this month, read from the scenario timeline.

Nothing else changes an instrument. Regional instruments come as one value per region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


class _ByMonth(Sequence):
    """``instruments_at`` month by month, read-only, each month decoded when first asked for
    and kept: a run resumed from another's state decodes only the months it runs."""

    def __init__(self, timeline: dict[str, np.ndarray]) -> None:
        self._timeline = timeline
        self._months: list[Mapping | None] = [None] * len(next(iter(timeline.values())))

    def __len__(self) -> int:
        return len(self._months)

    def __getitem__(self, month):  # an int (a slice is not needed by the engines)
        got = self._months[month]
        if got is None:
            got = self._months[month] = MappingProxyType(instruments_at(self._timeline, month))
        return got


def instruments_by_month(timeline: dict[str, np.ndarray]) -> Sequence[Mapping]:
    """``instruments_at`` for every month of the timeline, read-only (decoded once per
    scenario and month, not once per month of every run)."""
    return _ByMonth(timeline)
