"""Printing the reproduce and compare tables (the CLI calls these; the logic lives here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from rich.table import Table

from sovsim.research.published import MODELS, reproduce
from sovsim.research.published.table import Row, fmt


def reproduce_json(name: str) -> str:
    """``sovsim reproduce NAME --json``: a list of objects with the keys of ``table.KEYS``."""
    return json.dumps([r.as_json() for r in reproduce(name)], indent=1) + "\n"


def reproduce_table(name: str) -> tuple[Table, list[str]]:
    """The reproduce table for the terminal, and the notes (one per distinct note)."""
    rows: list[Row] = reproduce(name)
    t = Table(title=f"sovsim reproduce {name}: {MODELS[name]}")
    for col in ("quantity", "scenario", "year", "published", "reproduced", "difference",
                "unit", "note"):
        t.add_column(col, justify="right" if col in ("published", "reproduced",
                                                     "difference") else "left")
    notes: list[str] = []
    for r in rows:
        if r.note not in notes:
            notes.append(r.note)
        d = r.difference
        diff = "-" if d is None else f"{d:+.1%}"
        t.add_row(r.quantity, r.scenario, str(r.year), fmt(r.published, r.unit),
                  fmt(r.reproduced, r.unit), diff, r.unit, f"[{notes.index(r.note) + 1}]")
    sources = sorted({r.source for r in rows})
    return t, [f"[{i + 1}] {n}" for i, n in enumerate(notes)] + ["sources:"] + sources


def compare_table(frame: pd.DataFrame, published: Sequence[str]) -> Table:
    """``sovsim compare ... MODEL:SCENARIO``: the side-by-side table."""
    t = Table(title="published models beside sovsim (each in its own unit; - = no figure)")
    for col in frame.columns:
        if col.endswith(" unit") and col[:-5] in published:
            continue
        t.add_column(col)
    for rec in frame.to_dict(orient="records"):
        cells: list[Any] = []
        for col in t.columns:
            name = str(col.header)
            v = rec[name]
            if name in published:
                unit = rec[f"{name} unit"]
                cells.append(f"- ({unit})" if v is None or pd.isna(v) else f"{fmt(v, unit)} ({unit})")
            elif v is None or (isinstance(v, float) and pd.isna(v)):
                cells.append("-")  # (a variable sovsim does not carry)
            elif isinstance(v, float):
                cells.append(fmt(v, rec["sovsim unit"]))
            else:
                cells.append(str(v))
        t.add_row(*cells)
    return t
