"""The instrument catalogue (model.md, mechanism 1), read once from ``data/instruments.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sovsim.errors import DataError


@dataclass(frozen=True)
class Instrument:
    """One policy lever: its type, bounds and default (its value before any change)."""

    name: str
    kind: str  # float | bool | choice
    unit: str
    doc: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    regional: bool = False

    def allowed(self) -> str:
        if self.kind == "float":
            return f"a number from {self.min:g} to {self.max:g} ({self.unit})"
        if self.kind == "bool":
            return "true or false"
        return " | ".join(self.choices)

    def check(self, value: Any) -> str | None:
        """Return what is wrong with ``value`` for this instrument, or None."""
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"expected a number, got {type(value).__name__} {value!r}"
            if value != value or not (self.min <= value <= self.max):  # NaN or out of range
                return f"value {value!r} out of range"
        elif self.kind == "bool":
            if not isinstance(value, bool):
                return f"expected true or false, got {type(value).__name__} {value!r}"
        elif value not in self.choices:
            return f"unknown choice {value!r}"
        return None

    def encode(self, value: Any) -> float:
        """Numeric code used in the timeline arrays (choices by their index)."""
        if self.kind == "choice":
            return float(self.choices.index(value))
        return float(value)


@cache
def catalogue() -> dict[str, Instrument]:
    """All instruments by name."""
    path = resources.files("sovsim") / "data" / "instruments.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw.items():
        try:
            out[name] = Instrument(
                name=name,
                kind=spec["kind"],
                unit=spec["unit"],
                doc=spec["doc"],
                default=spec["default"],
                min=spec.get("min"),
                max=spec.get("max"),
                choices=tuple(spec.get("choices", ())),
                regional=spec.get("regional", False),
            )
        except KeyError as exc:
            raise DataError(str(path), name, f"missing field {exc}") from None
        problem = out[name].check(out[name].default)
        if problem:
            raise DataError(str(path), f"{name}.default", problem, out[name].allowed())
    return out
