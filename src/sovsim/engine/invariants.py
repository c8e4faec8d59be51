"""Invariants checked every month of every run (model.md, "Invariants")."""

from __future__ import annotations

import math

import numpy as np

from sovsim import calendar
from sovsim.compiled import kernel
from sovsim.errors import InvariantError
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.schema import HOUSEHOLD_COLUMNS

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
    """No NaN, no infinity and nothing negative in any float column or macro value.

    All float columns are one block (``h.values``), so one pass over it decides; only when it
    fails is the column found, for the message.
    """
    if not _finite_and_nonnegative(h.values):
        for name in (c.name for c in HOUSEHOLD_COLUMNS if c.dtype == "float64"):
            col = h[name]
            if not np.all(np.isfinite(col)):
                raise InvariantError(f"{calendar.label(month)}: NaN or inf in household column {name}")
            if col.min() < 0:
                raise InvariantError(f"{calendar.label(month)}: negative {name}: {col.min():.6g}")
    for name, val in macro.values.items():
        if not (math.isfinite(val) and val >= 0):
            raise InvariantError(f"{calendar.label(month)}: macro {name} = {val}")


@kernel
def _finite_and_nonnegative(block):
    for value in block.flat:
        if not (0.0 <= value < math.inf):  # false for NaN, -inf, +inf and negatives
            return False
    return True


# Totals for the balances. They only check the state, never change it, so they are summed in
# any order (a kernel, one call for many sums); the tolerance is far above the rounding.
@kernel
def stock_totals(grain_t, persons):
    """Grain held by the households (t) and their members."""
    return np.sum(grain_t), np.sum(persons)


@kernel
def grain_flow_totals(harvest_t, relief_t, seed_t, feed_t, food_t, procured_t, private_sales_t,
                      losses_t, confiscated_t):
    """Totals of the month's grain flows, in the order of the arguments."""
    return (np.sum(harvest_t), np.sum(relief_t), np.sum(seed_t), np.sum(feed_t), np.sum(food_t),
            np.sum(procured_t), np.sum(private_sales_t), np.sum(losses_t), np.sum(confiscated_t))
