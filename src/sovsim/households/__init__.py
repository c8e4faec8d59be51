"""The household engine: the monthly model with every peasant household a row
(docs/households.md, docs/design/0009-households.md).

``engine`` runs the cell model's month and shares it among the households;
``engine_kernels`` holds the compiled passes over the household table; ``month_inputs`` turns
the cell month into the passes' per-cell inputs; ``tables`` makes the tidy tables;
``bench`` measures speed and memory (``sovsim bench --households``). The households
themselves are drawn by ``sovsim.population``, the builder.
"""

from sovsim.households.engine import HouseholdOutputs, simulate_households

__all__ = ["HouseholdOutputs", "simulate_households"]
