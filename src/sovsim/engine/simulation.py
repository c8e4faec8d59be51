"""The run loop: initial state, 240 months of the schedule, monthly records."""

from __future__ import annotations

import numpy as np

from sovsim import calendar
from sovsim.engine import accounts, schedule
from sovsim.inputs import load_inputs
from sovsim.mechanisms.context import Inputs, Step
from sovsim.mechanisms.policy import instruments_by_month
from sovsim.mechanisms.prices import terms_of_trade
from sovsim.params import ParameterSet
from sovsim.scenario import Scenario
from sovsim.state import initial_state


def simulate(scenario: Scenario, p: ParameterSet, inputs: Inputs | None = None
             ) -> dict[str, np.ndarray]:
    """Run ``scenario`` 1921-01..1940-12; return each variable as (months, 1 + regions)."""
    inputs = inputs or load_inputs()
    timeline = scenario.timeline()
    instruments = scenario.cached("instruments_by_month", lambda: instruments_by_month(timeline))
    pv = p.values()
    h, macro = initial_state(pv)
    mem = schedule.Memory()
    ledger = accounts.Ledger(calendar.N_MONTHS, len(h))
    per_run: dict = {}  # what the mechanisms derive from the parameters alone, once
    for month in range(calendar.N_MONTHS):
        s = Step(month, instruments[month], pv, inputs, per_run)
        out = schedule.step(h, macro, s, mem)
        ledger.book(month, h, macro, out, terms_of_trade(macro, s))
    return ledger.records(h, pv)
