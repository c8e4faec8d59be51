"""Model parameters: TOML files in ``data/parameters``, each value with unit and provenance.

The file format, the records and the loaders are in ``params.parameters``; this module
re-exports them.
"""

from sovsim.params.parameters import (
    FIELDS,
    PRIOR_SHAPES,
    STATUSES,
    Parameter,
    ParameterSet,
    ParamValues,
    Prior,
    load_overrides,
    load_parameters,
    parameter_files,
)

__all__ = ["FIELDS", "PRIOR_SHAPES", "STATUSES", "ParamValues", "Parameter", "ParameterSet",
           "Prior", "load_overrides", "load_parameters", "parameter_files"]
