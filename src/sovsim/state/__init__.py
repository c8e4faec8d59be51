"""Model state: the household table (one row per household unit) and the macro state.

At the coarse default a household unit is a *cell* (region x class x tenure); at full scale it
is one household (weight 1). Columns hold the unit's totals (persons, hectares, head, tonnes),
so moving households between cells moves their totals and conserves everything exactly.
"""

from sovsim.state.schema import HOUSEHOLD_COLUMNS, MACRO_COLUMNS, Column
from sovsim.state.table import HouseholdTable, MacroState, initial_state

__all__ = ["HOUSEHOLD_COLUMNS", "MACRO_COLUMNS", "Column", "HouseholdTable", "MacroState",
           "initial_state"]
