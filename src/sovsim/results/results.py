"""Results: the monthly records of a run as tidy pandas tables.

Columns of both tables: ``scenario, period, variable, region, value, unit``. ``period`` is
``YYYY`` (annual) or ``YYYY-MM`` (monthly); ``region`` is ``USSR`` for totals and the region
codes for regional rows. Annual values follow each variable's rule (``engine.accounts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import SovsimError
from sovsim.regions import REGIONS, USSR
from sovsim.scenario.limits import file_stem

COLUMNS = ["scenario", "period", "variable", "region", "value", "unit"]
REGION_LABELS = (USSR, *REGIONS)
FORMATS = ("csv", "parquet", "json")


@dataclass
class Results:
    """What one run produced: monthly arrays per variable, (months, 1 + regions)."""

    scenario: str
    records: dict[str, np.ndarray]
    manifest: dict[str, Any] = field(default_factory=dict)
    # Further tidy tables of the run (the household engine's: ``household_flows``, ...),
    # written beside the standard table by :meth:`write`.
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    _annual_cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    # -- tables ---------------------------------------------------------------------------
    def monthly(self) -> pd.DataFrame:
        """Tidy monthly table (period ``YYYY-MM``)."""
        labels = np.array([calendar.label(m) for m in range(calendar.N_MONTHS)])
        frames = [self._frame(name, labels, arr) for name, arr in self.records.items()]
        return pd.concat(frames, ignore_index=True)

    def annual(self) -> pd.DataFrame:
        """Tidy annual table (period ``YYYY``)."""
        years = np.arange(calendar.START_YEAR, calendar.END_YEAR + 1)
        frames = []
        for name, arr in self.records.items():
            frames.append(self._frame(name, years.astype(str), self._annualize(name, arr)))
        return pd.concat(frames, ignore_index=True)

    def series(self, variable: str, region: str = USSR, freq: str = "annual") -> pd.Series:
        """One variable for one region as a Series indexed by period."""
        if variable not in self.records:
            raise SovsimError(f"no variable {variable!r}; known: {', '.join(self.records)}")
        if region not in REGION_LABELS:
            raise SovsimError(f"no region {region!r}; known: {', '.join(REGION_LABELS)}")
        col = REGION_LABELS.index(region)
        if freq == "annual":
            if variable not in self._annual_cache:
                self._annual_cache[variable] = self._annualize(variable, self.records[variable])
            vals = self._annual_cache[variable][:, col]
            idx = [str(y) for y in range(calendar.START_YEAR, calendar.END_YEAR + 1)]
        else:
            vals = self.records[variable][:, col]
            idx = [calendar.label(m) for m in range(calendar.N_MONTHS)]
        return pd.Series(vals, index=idx, name=variable)

    def values(self, variable: str, region: str = USSR) -> np.ndarray:
        """One variable's annual values (1921..1940) for one region, as a plain array: the
        fast path of :meth:`series` for code that needs no index."""
        if variable not in self._annual_cache:
            if variable not in self.records or region not in REGION_LABELS:
                self.series(variable, region)  # raises, naming what is unknown
            self._annual_cache[variable] = self._annualize(variable, self.records[variable])
        return self._annual_cache[variable][:, REGION_LABELS.index(region)]

    def _frame(self, name: str, periods: np.ndarray, arr: np.ndarray) -> pd.DataFrame:
        var = BY_NAME[name]
        cols = range(len(REGION_LABELS)) if var.regional else [0]
        parts = []
        for c in cols:
            parts.append(pd.DataFrame({
                "scenario": self.scenario, "period": periods, "variable": name,
                "region": REGION_LABELS[c], "value": arr[:, c], "unit": var.unit,
            }))
        return pd.concat(parts, ignore_index=True)

    @staticmethod
    def _annualize(name: str, arr: np.ndarray) -> np.ndarray:
        """(..., months, cols) -> (..., years, cols) by the variable's annual rule (leading
        axes: runs of a batch, each annualized as it would be alone)."""
        rule = BY_NAME[name].annual
        lead, cols = arr.shape[:-2], arr.shape[-1]
        years = arr.reshape(*lead, -1, 12, cols)
        if rule == "sum":
            return years.sum(axis=-2)
        if rule == "mean":
            return years.mean(axis=-2)
        if rule == "june":  # the stock at the end of June: the mid-year count
            return years[..., 5, :]
        if rule == "harvest_year_sum":
            # July of year y to June of y + 1, labelled y; the last year is cut at December.
            shifted = np.concatenate([arr[..., 6:, :], np.zeros((*lead, 6, cols))], axis=-2)
            return shifted.reshape(*lead, -1, 12, cols).sum(axis=-2)
        if rule in ("index_own_1928", "ratio_own_1928"):
            annual = years.mean(axis=-2)
            base = annual[..., 1928 - calendar.START_YEAR:1928 - calendar.START_YEAR + 1, :]
            scale = 100.0 if rule == "index_own_1928" else 1.0
            return scale * annual / np.where(base == 0, np.nan, base)
        raise ValueError(f"unknown annual rule {rule!r}")

    # -- output ---------------------------------------------------------------------------
    def write(self, out_dir: Path, fmt: str = "csv", freq: str = "annual") -> list[Path]:
        """Write the table (and the manifest) to ``out_dir``; nothing half-written.

        Files go to a temporary name first and are renamed into place once complete.
        """
        import json

        if fmt not in FORMATS:
            raise SovsimError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
        if freq not in ("annual", "monthly"):
            raise SovsimError(f"unknown freq {freq!r}; allowed: annual, monthly")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        table = self.annual() if freq == "annual" else self.monthly()
        stem = file_stem(self.scenario)  # no separators: nothing lands outside out_dir
        target = out_dir / f"{stem}_{freq}.{fmt}"
        written = [_atomic(target, lambda p: _write_table(table, p, fmt))]
        for name, extra in self.tables.items():
            path = out_dir / f"{stem}_{file_stem(name)}.{fmt}"
            written.append(_atomic(path, lambda p, t=extra: _write_table(t, p, fmt)))
        manifest = out_dir / f"{stem}_manifest.json"
        written.append(_atomic(manifest, lambda p: p.write_text(json.dumps(self.manifest, indent=2))))
        return written


def _write_table(table: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        table.to_csv(path, index=False)
    elif fmt == "parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_json(path, orient="records", indent=1)


def _atomic(target: Path, write) -> Path:
    tmp = target.with_name(f".{target.name}.partial")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target

