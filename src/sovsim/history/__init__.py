"""Observed history, for comparison only: the model never reads it (model.md, "Inputs").

The series and their loaders are in ``history.series``; this module re-exports them.
"""

from sovsim.history.series import (
    CITATION_FIELDS,
    COLUMNS,
    GAP_COLUMNS,
    PERIOD,
    cite,
    gaps,
    load,
    sources,
)

__all__ = ["CITATION_FIELDS", "COLUMNS", "GAP_COLUMNS", "PERIOD", "cite", "gaps", "load", "sources"]
