"""Observed history, for comparison only: the model never reads it (model.md, "Inputs").

The series, their grades and kinds and their loaders are in ``history.series``; the declared
fitting and validation targets in ``history.targets``. This module re-exports ``series``.
"""

from sovsim.history.series import (
    CITATION_FIELDS,
    COLUMNS,
    EXCLUDED_WHY,
    FILTERS,
    GAP_COLUMNS,
    GRADES,
    KIND_RULES,
    KINDS,
    PERIOD,
    RANK,
    SPAN,
    Kind,
    best,
    cite,
    excluded_reason,
    excluded_why,
    gaps,
    grade_entry,
    grading,
    kinds,
    load,
    sources,
    span,
)

__all__ = ["CITATION_FIELDS", "COLUMNS", "EXCLUDED_WHY", "FILTERS", "GAP_COLUMNS", "GRADES",
           "KINDS", "KIND_RULES", "PERIOD", "RANK", "SPAN", "Kind", "best", "cite",
           "excluded_reason", "excluded_why", "gaps", "grade_entry", "grading", "kinds", "load",
           "sources", "span"]
