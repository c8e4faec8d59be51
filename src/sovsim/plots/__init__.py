"""Standard figures: one function per figure, one style, units on every axis."""

from sovsim.plots.compare import compare_figure, chart_style

__all__ = ["compare_figure", "chart_style"]
