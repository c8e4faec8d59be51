"""Ensembles: many runs of a scenario with parameters drawn from their priors (and, when asked,
weather drawn from the historical record after the scenario's divergence), summarised as
bands; differences between scenarios member by member (docs/ensembles.md).

This module only re-exports; the code is in ``ensemble.runner`` (running and storing),
``ensemble.result`` (:class:`Ensemble`), ``ensemble.bands``, ``ensemble.draws`` and
``ensemble.workers`` (where members run).

>>> from sovsim import ensemble
>>> ens = ensemble.run("historical", members=2, store=False)
>>> sorted(ens.bands().columns)
['period', 'quantile', 'region', 'scenario', 'unit', 'value', 'variable']
"""

from sovsim.ensemble.bands import QUANTILES, REGION_LABELS, YEARS, annualize, band_table
from sovsim.ensemble.draws import divergence_month, member_weather, weather_first_year
from sovsim.ensemble.result import Ensemble, household_band_table
from sovsim.ensemble.runner import (
    HOUSEHOLD_SUMMARY,
    MAX_MEMBERS,
    check_members,
    member_seed,
    run,
    stored_run,
)
from sovsim.ensemble.workers import connect, execute, simulate_member

__all__ = [
    "HOUSEHOLD_SUMMARY",
    "MAX_MEMBERS",
    "QUANTILES",
    "REGION_LABELS",
    "YEARS",
    "Ensemble",
    "annualize",
    "band_table",
    "check_members",
    "connect",
    "divergence_month",
    "execute",
    "household_band_table",
    "member_seed",
    "member_weather",
    "run",
    "simulate_member",
    "stored_run",
    "weather_first_year",
]
