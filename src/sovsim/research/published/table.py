"""The reproduce table: one row per published figure, the reproduction beside it.

A row's ``reproduced`` is ``None`` when the figure could not be reproduced; its ``note`` then
says which equation, value or table is missing and why. Nothing is filled in to close a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sovsim.tomlfile import read_toml

KEYS = ("quantity", "scenario", "year", "published", "reproduced", "unit", "source", "note")
TOLERANCE = 0.03  # the bar: a reproduced figure within 3% of the published one


@dataclass(frozen=True)
class Row:
    """One published figure and its reproduction."""

    quantity: str
    scenario: str
    year: int | str | None
    published: float | None
    reproduced: float | None
    unit: str
    source: str
    note: str = ""

    @property
    def difference(self) -> float | None:
        """Relative difference (reproduced - published) / published, or None."""
        if self.published is None or self.reproduced is None or self.published == 0:
            return None
        return (self.reproduced - self.published) / abs(self.published)

    @property
    def within_tolerance(self) -> bool | None:
        d = self.difference
        return None if d is None else abs(d) <= TOLERANCE

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in KEYS}


def data_path(name: str) -> Path:
    return Path(str(resources.files("sovsim") / "data" / "published" / name))


def load_toml(name: str) -> dict[str, Any]:
    """Read one file of ``data/published``; errors name the file."""
    return read_toml(data_path(name), missing="missing from the package data")


def cite(figure: dict[str, Any], author: str, title: str, year: int) -> str:
    """A one-line source for a published figure: author, title, year, location, address."""
    where = figure.get("location", "")
    url = figure.get("url", "")
    return f"{author}, {title} ({year}), {where}; read at {url}".strip()


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "persons":
        return f"{value / 1e6:,.1f} m"
    if unit.startswith("rub (") and abs(value) >= 1e8:  # sovsim's rubles, in billions
        return f"{value / 1e9:,.1f} bn"
    if abs(value) < 10:
        return f"{value:.4g}"
    return f"{value:,.1f}"
