"""sovsim: the Soviet economic system of 1921-1940 as executable policies.

Policies are dated changes to instruments (scenarios); they act on peasant households, state
industry, towns and foreign trade; the outcomes are checked against the historical record.

>>> import sovsim
>>> res = sovsim.run("historical")
>>> sorted(res.annual().columns)
['period', 'region', 'scenario', 'unit', 'value', 'variable']
"""

__version__ = "0.1.0"

from sovsim._numba_cache import keyed_cache_dir  # noqa: E402  (before numba is imported)

keyed_cache_dir()

from sovsim import ensemble  # noqa: E402  (sovsim.ensemble.run: docs/ensembles.md)
from sovsim.api import compare, run  # noqa: E402
from sovsim.results import Results  # noqa: E402
from sovsim.scenario import Scenario, load_scenario  # noqa: E402

__all__ = ["Results", "Scenario", "__version__", "compare", "ensemble", "load_scenario", "run"]
