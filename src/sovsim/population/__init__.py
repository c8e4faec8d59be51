"""The synthetic peasant population: N households whose distributions match the sources.

``build_population(n, year=1928)`` draws ``n`` households (up to the full 25.6 million of
1928, or the coarse model's 21.6 million of January 1921) as numpy columns
(``POPULATION_COLUMNS``), each with the weight of the real households it stands for; every
draw is addressed by (seed, stream, household id) (``rng``), so a household's attributes do
not depend on the chunking or the thread count. ``to_cells`` sums a population to the 45 cells
of the coarse model, for comparison with ``sovsim.state.initial_state``. Sources and
assumptions: ``data/population/`` and docs/population.md.
"""

from sovsim.population.build import Population, build_population, full_size, iter_population
from sovsim.population.cells import compare_with_initial, to_cells
from sovsim.population.columns import POPULATION_COLUMNS
from sovsim.population.compare import compare_with_figures
from sovsim.population.data import figures, gaps
from sovsim.population.rng import STREAMS, stream_key, uniforms

__all__ = ["POPULATION_COLUMNS", "STREAMS", "Population", "build_population",
           "compare_with_figures", "compare_with_initial", "figures", "full_size", "gaps", "iter_population",
           "stream_key", "to_cells", "uniforms"]
