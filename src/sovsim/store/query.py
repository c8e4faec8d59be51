"""Queries of a stored ensemble without loading it: its part files as a pyarrow dataset,
read only in the row groups of the variable asked (docs/ensembles.md, "Querying the store").

>>> from sovsim.store import Store
>>> from sovsim.store.query import query
>>> query(Store(), "3f2a", variable="grain_harvest_t", region="Ukraine", period="1932")
... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.errors import SovsimError
from sovsim.store.store import Store

YEARS = [str(y) for y in range(calendar.START_YEAR, calendar.END_YEAR + 1)]


def ensemble_files(store: Store, ensemble_id: str) -> list[str]:
    """The part files holding an ensemble's members, each checked against its checksum
    (a corrupt one is reported by name and dropped, never read)."""
    entry = store.resolve(ensemble_id)
    if entry.kind != "ensemble":
        raise SovsimError(f"{entry.id} is a {entry.kind}, not an ensemble: `sovsim runs "
                          "export` writes a run's tables")
    links = store.members(entry.id)
    locs = sorted(set(store.locations(links.values()).values()))
    bad = [rel for rel in locs if not store.verify_file(rel)]
    if bad:
        if store.readonly:
            raise SovsimError(f"{store.root / bad[0]}: corrupt; not used (`sovsim runs repair`)")
        store.drop_files(bad)
        raise SovsimError(f"ensemble {entry.id}: {len(bad)} corrupt files dropped; run the "
                          "ensemble again to compute their members")
    if any(rel.endswith("records.parquet") for rel in locs):
        raise SovsimError(f"ensemble {entry.id} is stored in the first layout (a file per "
                          "member): `sovsim runs export` reads it")
    return [str(store.root / rel) for rel in locs]


def dataset(store: Store, ensemble_id: str):
    """An ensemble's members as a ``pyarrow.dataset.Dataset`` (columns variable, run_id,
    column, values), checked; filter it on ``variable`` to read only that variable."""
    import pyarrow.dataset as ds

    return ds.dataset(ensemble_files(store, ensemble_id), format="parquet")


def query(store: Store, ensemble_id: str, *, variable: str, region: str = "USSR",
          period: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One variable of a stored ensemble for a region and periods (years, default all):
    a tidy table member, period, value, read without loading the rest of the ensemble."""
    import pyarrow.compute as pc

    from sovsim.ensemble.bands import REGION_LABELS

    entry = store.resolve(ensemble_id)
    if region not in REGION_LABELS:
        raise SovsimError(f"--region {region!r}: known: {', '.join(REGION_LABELS)}")
    periods = YEARS if period is None else ([period] if isinstance(period, str) else list(period))
    unknown = [p for p in periods if p not in YEARS]
    if unknown:
        raise SovsimError(f"--period {unknown[0]!r}: a year from {YEARS[0]} to {YEARS[-1]}")
    data = dataset(store, entry.id)
    table = data.to_table(filter=(pc.field("variable") == variable)
                          & (pc.field("column") == REGION_LABELS.index(region)),
                          columns=["run_id", "values"])
    if table.num_rows == 0:
        known = store.variables(entry.id)
        if variable not in known:
            raise SovsimError(f"--variable {variable!r}: not stored; known: {', '.join(known)}")
    n = table.num_rows
    vals = table.column("values").combine_chunks().flatten().to_numpy().reshape(n, -1)
    if vals.shape[1] != len(YEARS):  # monthly values: annual by the variable's rule
        from sovsim.store.parts import annualize_rows

        vals = annualize_rows(variable, vals)
    rids = table.column("run_id").to_numpy(zero_copy_only=False)
    first = pd.Series(np.arange(n), index=rids)
    first = first[~first.index.duplicated()]
    links = store.members(entry.id)
    members = np.array(sorted(links))
    rows = first.reindex([links[m] for m in members]).to_numpy()
    found = ~pd.isna(rows)  # a partial ensemble: the members stored so far
    members, rows = members[found], rows[found].astype(np.int64)
    cols = [YEARS.index(p) for p in periods]
    out = pd.DataFrame({"member": np.repeat(members, len(cols)),
                        "period": np.tile(np.array(periods), len(members)),
                        "value": vals[rows][:, cols].reshape(-1)})
    out.insert(1, "variable", variable)
    out.insert(2, "region", region)
    return out
