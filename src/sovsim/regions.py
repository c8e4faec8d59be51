"""Regions, classes and tenures: the axes of the household cells (model.md, "One engine")."""

from __future__ import annotations

REGIONS: tuple[str, ...] = ("ukraine", "north_caucasus", "volga", "kazakhstan", "rest")
CLASSES: tuple[str, ...] = ("poor", "middle", "kulak")
TENURES: tuple[str, ...] = ("individual", "kolkhoz", "deported")
USSR = "USSR"
