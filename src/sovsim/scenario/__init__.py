"""Scenarios: dated changes to instruments, with ``extends`` (model.md, mechanism 1)."""

from sovsim.scenario.instruments import Instrument, catalogue
from sovsim.scenario.loader import PolicyChange, Scenario, load_scenario, shipped_scenarios

__all__ = ["Instrument", "PolicyChange", "Scenario", "catalogue", "load_scenario", "shipped_scenarios"]
