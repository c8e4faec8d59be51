"""Results of a run: tidy tables (annual and monthly) with units, and writing them out."""

from sovsim.results.results import Results

__all__ = ["Results"]
