"""Invariants checked every month of every run (model.md, "Invariants")."""

from __future__ import annotations

import math

import numpy as np

from sovsim import calendar
from sovsim.compiled import kernel
from sovsim.engine.flows import UNIT_FLOWS
from sovsim.errors import InvariantError
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.schema import HOUSEHOLD_COLUMNS
from sovsim.state.table import MACRO_DTYPE

TOL = 1e-9


GRAIN, PEOPLE, STATE = 1, 2, 3  # the codes of ``month_checks``
STATE_GRAIN = 4  # issue 15 (stategrain): the state's grain balance (``state_grain_check``)


def check_grain_balance(month: int, before: float, after: float, flows: dict[str, float],
                        where: str) -> float:
    """inflows - outflows = change in stock, to 1e-9 relative; returns the relative residual.
    ``flows``: the month's total of each flow of kind ``grain_in`` and ``grain_out``
    (``engine.flows``)."""
    inflow = sum(flows[f.name] for f in UNIT_FLOWS if f.kind == "grain_in")
    outflow = sum(flows[f.name] for f in UNIT_FLOWS if f.kind == "grain_out")
    residual, rel = grain_residual(before, after, inflow, outflow)
    if rel > TOL:
        raise InvariantError(f"{calendar.label(month)}: {where} grain balance off by {residual:.6g} t "
                             f"({rel:.2e} relative): {flows}")
    return rel


@kernel
def grain_residual(before, after, inflow, outflow):
    """The grain balance's residual (t) and its size against the largest term."""
    residual = inflow - outflow - (after - before)
    scale = max(abs(before), abs(after), inflow, outflow, 1.0)
    return residual, abs(residual) / scale


@kernel
def people_residual(before, after, births, deaths, emigrants):
    """People: after = before + births - deaths - those who left the USSR (flight abroad, a
    declared outflow: ``flows`` ``fled_abroad``)."""
    residual = after - before - (births - deaths - emigrants)
    return residual, abs(residual) / max(before, 1.0)


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
    for name, val in macro.items():
        if not (math.isfinite(val) and val >= 0):
            raise InvariantError(f"{calendar.label(month)}: macro {name} = {val}")


@kernel
def month_checks(hv, MA, grain_before, grain_after, inflow, outflow, people_before,
                 people_after, births, deaths, emigrants, err):
    """The checks of a month in the compiled month: 0 when all hold, else the code of the
    first that fails, its residual and relative size in ``err``."""
    residual, rel = grain_residual(grain_before, grain_after, inflow, outflow)
    if rel > TOL:
        err[0], err[1], err[2], err[3] = residual, rel, grain_before, grain_after
        return GRAIN
    residual, rel = people_residual(people_before, people_after, births, deaths, emigrants)
    if rel > TOL:
        err[0], err[1] = residual, rel
        return PEOPLE
    macro = MA[0]
    values = (  # every field of MACRO_DTYPE (checked below)
macro.urban_persons, macro.state_grain_t, macro.capital_a_rub, macro.capital_b_rub,
              macro.utilisation, macro.tractors_hp, macro.free_price_ratio,
              macro.urban_food_ratio, macro.goods_availability)
    for v in values:
        if not (0.0 <= v < math.inf):
            return STATE
    if not _finite_and_nonnegative(hv):
        return STATE
    return 0


_MACRO_CHECKED = ("urban_persons", "state_grain_t", "capital_a_rub", "capital_b_rub",
                  "utilisation", "tractors_hp", "free_price_ratio", "urban_food_ratio",
                  "goods_availability")
assert MACRO_DTYPE.names == _MACRO_CHECKED, "month_checks must check every macro value"


def raise_for(code: int, err: np.ndarray, month: int, h: HouseholdTable, macro: MacroState
              ) -> None:
    """Raise the InvariantError of ``month_checks``' code (nothing for 0), naming what failed."""
    if code == GRAIN:
        raise InvariantError(f"{calendar.label(month)}: rural grain balance off by "
                             f"{err[0]:.6g} t ({err[1]:.2e} relative; stock {err[2]:.6g} t "
                             f"before, {err[3]:.6g} t after)")
    if code == PEOPLE:
        raise InvariantError(f"{calendar.label(month)}: people not conserved, off by {err[0]:.6g}")
    if code == STATE_GRAIN:
        raise InvariantError(f"{calendar.label(month)}: state grain balance off by "
                             f"{err[0]:.6g} t ({err[1]:.2e} relative; stock {err[2]:.6g} t "
                             f"before, {err[3]:.6g} t after, or its reserve above it)")
    if code == STATE:
        check_state(month, h, macro)
        raise InvariantError(f"{calendar.label(month)}: NaN, inf or a negative in the state")


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
def grain_flow_totals(uo, rows_in, rows_out):
    """The month's grain into and out of the households' stocks: the sums of the rows of
    ``uo`` of the flows of kind ``grain_in`` and ``grain_out`` (``flows.GRAIN_IN``,
    ``GRAIN_OUT``)."""
    inflow = 0.0
    for r in rows_in:
        inflow += np.sum(uo[r])
    outflow = 0.0
    for r in rows_out:
        outflow += np.sum(uo[r])
    return inflow, outflow


# issue 15 (stategrain): the state's grain balance.
@kernel
def state_flow_totals(uo, so, unit_in, unit_out, scalar_in, scalar_out):
    """The month's grain into and out of the state's stock: the rows of ``uo`` and entries of
    ``so`` of the flows marked ``state`` (``flows.STATE_IN_UNIT``, ...)."""
    inflow = 0.0
    outflow = 0.0
    for r in unit_in:
        inflow += np.sum(uo[r])
    for r in unit_out:
        outflow += np.sum(uo[r])
    for i in scalar_in:
        inflow += so[i]
    for i in scalar_out:
        outflow += so[i]
    return inflow, outflow


@kernel
def state_grain_check(before, after, inflow, outflow, reserve, err):
    """0 when the state's stock moved by its declared flows (to 1e-9 relative) and holds its
    reserve; else ``STATE_GRAIN`` with the residual, its relative size, the stocks in ``err``."""
    residual, rel = grain_residual(before, after, inflow, outflow)
    if rel > TOL or after < reserve * (1.0 - TOL) - 1e-6:
        err[0], err[1], err[2], err[3] = residual, rel, before, after
        return STATE_GRAIN
    return 0
