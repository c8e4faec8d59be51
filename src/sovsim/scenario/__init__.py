"""Scenarios: dated changes to instruments, with ``extends`` (model.md, mechanism 1)."""

from sovsim.scenario.instruments import Instrument, catalogue
from sovsim.scenario.loader import (
    PolicyChange,
    Scenario,
    load_scenario,
    load_scenario_text,
    scenario_from_dict,
    shipped_scenarios,
    to_toml_text,
)

__all__ = ["Instrument", "PolicyChange", "Scenario", "catalogue", "load_scenario", "load_scenario_text",
           "scenario_from_dict", "shipped_scenarios", "to_toml_text"]
