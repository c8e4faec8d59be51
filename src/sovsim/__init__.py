"""sovsim: the Soviet economic system of 1921-1940 as executable policies.

Policies are dated changes to instruments (scenarios); they act on peasant households, state
industry, towns and foreign trade; the outcomes are checked against the historical record.

>>> import sovsim
>>> res = sovsim.run("historical")
>>> sorted(res.annual().columns)
['period', 'region', 'scenario', 'unit', 'value', 'variable']

Importing ``sovsim`` has no side effects and loads nothing heavy: the public names below are
loaded from the modules that define them on first use (``sovsim.run`` is
``sovsim.api.run``). Modules inside the package import those modules, never this one
(docs/design/0013-package-layout.md).
"""

from importlib import import_module

from sovsim._version import __version__

# public name -> the module that defines it ("" for a subpackage of that name)
_PUBLIC = {
    "Results": "sovsim.results",
    "Scenario": "sovsim.scenario",
    "compare": "sovsim.api",
    "ensemble": "",
    "load_scenario": "sovsim.scenario",
    "run": "sovsim.api",
}


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'sovsim' has no attribute {name!r}")
    module = _PUBLIC[name]
    value = import_module(f"sovsim.{name}") if not module else getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = ["Results", "Scenario", "__version__", "compare", "ensemble", "load_scenario", "run"]
