"""Published models of the Soviet economy, reproduced beside sovsim's own.

- ``feldman``: G. A. Feldman's two-sector model (1928) in E. Domar's formulation (1957).
- ``allen``: R. C. Allen's simulations in *Farm to Factory* (2003): the parts reached.
- ``cggt``: the two-sector wedge model of Cheremukhin, Golosov, Guriev and Tsyvinski (2013),
  with PLACEHOLDER calibration.

``reproduce(name)`` gives the table of published figures against their reproduction;
``sovsim reproduce NAME [--json]`` prints it. Every figure's source is in
``data/published/*.toml``; ``docs/published/*.md`` gives each model's equations, our notation
and every deviation.

Examples
--------
>>> rows = reproduce("allen")
>>> sorted({r.scenario for r in rows})[:2]
['collectivization', 'collectivization e=0.07']
"""

from __future__ import annotations

from importlib import import_module

from sovsim.errors import InputError
from sovsim.research.published.table import Row

MODELS = {
    "feldman": "Feldman (1928) two-sector model, Domar's formulation (1957)",
    "allen": "Allen, Farm to Factory (2003), chapters 8-9 and appendix B",
    "cggt": "Cheremukhin, Golosov, Guriev and Tsyvinski (2013), two-sector model with wedges",
}

__all__ = ["MODELS", "Row", "reproduce"]


def module(name: str):
    """The module of a published model, by its registry name."""
    if name not in MODELS:
        raise InputError("sovsim reproduce", name, "unknown published model",
                         ", ".join(MODELS))
    return import_module(f"sovsim.research.published.{name}")


def reproduce(name: str) -> list[Row]:
    """The reproduce table of one published model."""
    return module(name).reproduce()
