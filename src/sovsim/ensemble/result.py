"""What an ensemble produced (:class:`Ensemble`): every member's annual values, bands,
member-by-member differences, household bands (docs/ensembles.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sovsim.ensemble.bands import REGION_LABELS, band_table
from sovsim.errors import SovsimError
from sovsim.results import Results


@dataclass
class Ensemble:
    """What an ensemble produced: for each scenario, every member's annual values, and the
    store ids (when stored)."""

    scenarios: list[str]
    members: int
    seed: int
    # scenario -> variable -> (members, years, cols); from the store, read a variable at a time
    annual: dict[str, Mapping[str, np.ndarray]]
    manifests: dict[str, dict] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    member_ids: dict[str, list[str]] = field(default_factory=dict)
    computed: dict[str, int] = field(default_factory=dict)  # members run by this call
    store: Any = None
    # With households: scenario -> each member's household summary (households.tables.
    # member_summary: period, region, class, measure, value).
    household: dict[str, list[pd.DataFrame]] = field(default_factory=dict)

    def household_bands(self, scenario: str | None = None) -> pd.DataFrame:
        """Bands across members of what only households give (an ensemble run with
        ``households``): scenario, period, region, class, measure, quantile, value."""
        names = self.scenarios if scenario is None else [self._name(scenario)]
        if not all(n in self.household for n in names):
            raise SovsimError("this ensemble was run without households: no household bands")
        return pd.concat([household_band_table(n, self.household[n]) for n in names],
                         ignore_index=True)

    def bands(self, scenario: str | None = None) -> pd.DataFrame:
        """Tidy bands: scenario, period, variable, region, quantile, value, unit."""
        names = self.scenarios if scenario is None else [self._name(scenario)]
        return pd.concat([band_table(n, self.annual[n]) for n in names], ignore_index=True)

    def difference(self, a: str, b: str) -> pd.DataFrame:
        """Bands of ``b - a`` computed member by member (common random numbers): member i of
        ``b`` minus member i of ``a``, then the quantiles across members."""
        a, b = self._name(a), self._name(b)
        stack = {v: self.annual[b][v] - self.annual[a][v] for v in self.annual[a]}
        return band_table(f"{b} - {a}", stack)

    def values(self, scenario: str, variable: str, region: str = "USSR") -> np.ndarray:
        """(members, years) annual values of one variable and region."""
        arr = self.annual[self._name(scenario)]
        if variable not in arr:
            raise SovsimError(f"no variable {variable!r}; known: {', '.join(arr)}")
        if region not in REGION_LABELS:
            raise SovsimError(f"no region {region!r}; known: {', '.join(REGION_LABELS)}")
        return arr[variable][:, :, REGION_LABELS.index(region)]

    def member(self, scenario: str, i: int) -> Results:
        """Member ``i`` of ``scenario`` as a Results (from the store)."""
        name = self._name(scenario)
        if self.store is None:
            raise SovsimError("this ensemble was run with store=False: only its annual "
                              "values were kept; run it with a store to get member tables")
        if not 0 <= i < self.members:
            raise SovsimError(f"member {i}: this ensemble has members 0..{self.members - 1}")
        rid = self.member_ids[name][i]
        entry = self.store.get(rid)
        if entry is None:
            raise SovsimError(f"member {i} ({rid}) is not in the store any more")
        return Results(name, self.store.records(rid), entry.manifest)

    def write(self, out_dir: Path, fmt: str = "csv") -> list[Path]:
        """Bands of every scenario, the member-by-member differences from the first, and the
        manifests, in ``out_dir`` (nothing half-written)."""
        from sovsim.store.files import atomic_write, atomic_write_text

        if fmt not in ("csv", "parquet"):
            raise SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        tables = {f"{n}_bands": self.bands(n) for n in self.scenarios}
        for n in self.household:
            tables[f"{n}_household_bands"] = self.household_bands(n)
        for other in self.scenarios[1:]:
            tables[f"{other}-minus-{self.scenarios[0]}_difference_bands"] = \
                self.difference(self.scenarios[0], other)
        label = self.drawn_from()
        for stem, bands in tables.items():
            # Every table says what its members were drawn from (posterior or priors).
            table = bands.assign(drawn_from=label)
            target = out_dir / f"{stem}.{fmt}"
            written.append(atomic_write(target, lambda p, t=table: (
                t.to_csv(p, index=False) if fmt == "csv" else t.to_parquet(p, index=False))))
        written.append(atomic_write_text(out_dir / "ensemble_manifest.json",
                                         json.dumps({"ids": self.ids, "manifests": self.manifests},
                                                    indent=1)))
        return written

    def drawn_from(self) -> str:
        """What the members' parameters were drawn from, in words (the manifests'
        ``drawn_from``): the calibrated posterior, or the priors."""
        labels = {m.get("drawn_from", {}).get("label", "the parameter files' priors")
                  for m in self.manifests.values()}
        return "; ".join(sorted(labels))

    def _name(self, scenario: str) -> str:
        if scenario not in self.annual:
            raise SovsimError(f"scenario {scenario!r} is not in this ensemble "
                              f"({', '.join(self.scenarios)})")
        return scenario


def household_band_table(name: str, summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Quantiles across members of each household measure (5, 25, 50, 75, 95 %)."""
    keys = ["period", "region", "class", "measure"]
    allm = pd.concat([d.assign(member=i) for i, d in enumerate(summaries)], ignore_index=True)
    q = allm.groupby(keys, sort=False)["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    out = q.rename("value").reset_index().rename(columns={f"level_{len(keys)}": "quantile"})
    out.insert(0, "scenario", name)
    return out
