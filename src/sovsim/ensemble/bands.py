"""Bands: quantiles across the members of an ensemble, as a tidy table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.regions import REGIONS
from sovsim.results import Results

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
YEARS = np.arange(calendar.START_YEAR, calendar.END_YEAR + 1)
REGION_LABELS = ("USSR", *REGIONS)
BAND_COLUMNS = ["scenario", "period", "variable", "region", "quantile", "value", "unit"]


def annualize(records: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each variable's annual values (years, columns), by its annual rule."""
    return {name: Results._annualize(name, arr) for name, arr in records.items()}


def band_table(label: str, stack: dict[str, np.ndarray],
               quantiles: Sequence[float] = QUANTILES) -> pd.DataFrame:
    """Tidy quantiles across members: ``stack`` is variable -> (members, years, columns)."""
    from sovsim.engine.accounts import BY_NAME

    parts = []
    q = np.asarray(quantiles)
    for var, arr in stack.items():
        cols = len(REGION_LABELS) if BY_NAME[var].regional else 1
        vals = np.quantile(arr[:, :, :cols], q, axis=0)  # (q, years, cols)
        nq, ny = len(q), len(YEARS)
        parts.append(pd.DataFrame({
            "scenario": label,
            "period": np.tile(np.repeat(YEARS.astype(str), cols), nq),
            "variable": var,
            "region": np.tile(np.array(REGION_LABELS[:cols]), nq * ny),
            "quantile": np.repeat(q, ny * cols),
            "value": vals.reshape(-1),
            "unit": BY_NAME[var].unit,
        }))
    return pd.concat(parts, ignore_index=True)[BAND_COLUMNS]
