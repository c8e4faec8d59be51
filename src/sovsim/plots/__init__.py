"""Standard figures: one function per figure, one style, units on every axis."""

from sovsim.plots.compare import chart_style, compare_figure

__all__ = ["chart_style", "compare_figure"]
