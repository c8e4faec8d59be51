"""Invariants checked every month of every run (model.md, "Invariants")."""

from __future__ import annotations

import numpy as np

from sovsim import calendar
from sovsim.errors import InvariantError
from sovsim.state import HouseholdTable, MacroState

TOL = 1e-9


def check_grain_balance(month: int, before: float, after: float, flows: dict[str, float],
                        where: str) -> float:
    """inflows - outflows = change in stock, to 1e-9 relative; returns the relative residual."""
    inflow = flows["harvest_t"] + flows["relief_t"]
    outflow = sum(flows[k] for k in ("seed_t", "feed_t", "food_t", "procured_t",
                                     "private_sales_t", "losses_t", "confiscated_t"))
    residual = inflow - outflow - (after - before)
    scale = max(abs(before), abs(after), inflow, outflow, 1.0)
    rel = abs(residual) / scale
    if rel > TOL:
        raise InvariantError(f"{calendar.label(month)}: {where} grain balance off by {residual:.6g} t "
                             f"({rel:.2e} relative): {flows}")
    return rel


def check_people(month: int, before: float, after: float, births: float, deaths: float) -> float:
    residual = after - before - (births - deaths)
    rel = abs(residual) / max(before, 1.0)
    if rel > TOL:
        raise InvariantError(f"{calendar.label(month)}: people not conserved, off by {residual:.6g}")
    return rel


def check_state(month: int, h: HouseholdTable, macro: MacroState) -> None:
    for name, col in h.cols.items():
        if col.dtype.kind == "f":
            low = col.min()  # NaN propagates into min and max; +inf shows in the max
            if not (np.isfinite(low) and np.isfinite(col.max())):
                raise InvariantError(f"{calendar.label(month)}: NaN or inf in household column {name}")
            if low < 0:
                raise InvariantError(f"{calendar.label(month)}: negative {name}: {low:.6g}")
    for name, val in macro.values.items():
        if not np.isfinite(val) or val < 0:
            raise InvariantError(f"{calendar.label(month)}: macro {name} = {val}")
