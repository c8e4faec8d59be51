"""An ensemble's coarse members as columnar part files: writing a batch, reading a
variable across members (docs/design/0011-columnar-store.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import numpy as np

from sovsim.errors import StoreError
from sovsim.store import files as F
from sovsim.store.index import PART_META


def ensemble_annual(store, ensemble_id: str, members: int,
                    variables: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Annual values (variable -> (members, years, columns)) of an ensemble's stored
    members, read from its part files (only the row groups of ``variables`` when
    given), after their checksums are checked."""
    from sovsim.ensemble.bands import annualize

    links = store.members(ensemble_id)
    if len(links) < members:
        raise StoreError(f"ensemble {ensemble_id}: {len(links)} of {members} members "
                         "stored")
    locs = store.locations(links.values())
    by_file: dict[str, list[str]] = {}
    for rid, loc in locs.items():
        by_file.setdefault(loc, []).append(rid)
    missing = set(links.values()) - set(locs)
    if missing:
        raise StoreError(f"ensemble {ensemble_id}: {len(missing)} members are not stored "
                         "any more; run the ensemble again to compute them")
    want = None if variables is None else list(variables)
    # canonical member of each run id, and the members that share it
    canon: dict[str, int] = {}
    dups: list[tuple[int, int]] = []
    for m, rid in sorted(links.items()):
        if m >= members:
            continue
        if rid in canon:
            dups.append((m, canon[rid]))
        else:
            canon[rid] = m
    out: dict[str, np.ndarray] = {}
    import pandas as pd

    keys = pd.Index(list(canon))
    pos = np.fromiter(canon.values(), dtype=np.int64, count=len(canon))
    for rel, rids in sorted(by_file.items()):
        if rel.endswith("records.parquet"):  # a household member or a first-layout member
            for rid in rids:
                ann = annualize(F.read_records(store.root / rel, store._expected(rel)))
                for v, arr in ann.items():
                    if want is None or v in want:
                        a = out.setdefault(v, np.zeros((members, *arr.shape)))
                        a[canon[rid]] = arr
            continue
        for v, rid_col, cols, rows, freq in part_rows(store, rel, want):
            idx = keys.get_indexer(rid_col)
            ok = idx >= 0
            vals = annualize_rows(v, rows) if freq == "monthly" else rows
            ncol = int(cols.max()) + 1 if len(cols) else 1
            a = out.setdefault(v, np.zeros((members, vals.shape[1], ncol)))
            a[pos[idx[ok]], :, cols[ok]] = vals[ok]
    for m, c in dups:
        for a in out.values():
            a[m] = a[c]
    return out

def part_rows(store, rel: str, want: list[str] | None):
    """(variable, run ids, columns, values) of a part's row groups (those of ``want``)."""
    import pyarrow.parquet as pq

    if not store.verify_file(rel):
        store.drop_files([rel])
        raise StoreError(f"{store.root / rel}: corrupt; dropped: run the ensemble again to "
                         "compute its members")
    try:
        pf = pq.ParquetFile(store.root / rel)
        meta = json.loads(pf.metadata.metadata[PART_META])
        freq = meta.get("freq", "annual")
        for g, v in enumerate(meta.get("row_groups", [])):
            if want is not None and v not in want:
                continue
            t = pf.read_row_group(g, columns=["run_id", "column", "values"])
            rid_col = t.column("run_id").to_numpy(zero_copy_only=False)
            cols = t.column("column").to_numpy()
            n = t.num_rows
            vals = t.column("values").combine_chunks().flatten().to_numpy().reshape(n, -1)
            yield v, rid_col, cols, vals, freq
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(f"{store.root / rel}: cannot read it ({exc})") from None

def variables(store, ensemble_id: str) -> list[str]:
    """The variables stored for an ensemble's members (from the first part)."""
    import pyarrow.parquet as pq

    links = store.members(ensemble_id)
    for rel in sorted(set(store.locations(links.values()).values())):
        if rel.endswith("records.parquet"):
            return list(F.read_records(store.root / rel, store._expected(rel)))
        meta = json.loads(pq.read_metadata(store.root / rel).metadata[PART_META])
        if meta.get("row_groups"):
            return list(meta["row_groups"])
    return []


class StoredAnnual(Mapping):
    """An ensemble's annual values read from the store a variable at a time (members x
    years x columns), the last few kept: a 100,000-member ensemble never holds them all."""

    def __init__(self, store, ensemble_id: str, members: int, keep_bytes: float = 5e8):
        self.store, self.eid, self.n = store, ensemble_id, members
        self._vars = variables(store, ensemble_id)
        self._cache: dict[str, np.ndarray] = {}
        self._keep = keep_bytes

    def __getitem__(self, v: str) -> np.ndarray:
        if v not in self._vars:
            raise KeyError(v)
        if v not in self._cache:
            if not self._cache and self.n * 42 * 20 * 6 * 8 < self._keep:
                self._cache.update(ensemble_annual(self.store, self.eid, self.n))  # all at once
            else:
                arr = ensemble_annual(self.store, self.eid, self.n, [v])[v]
                while self._cache and (len(self._cache) + 1) * arr.nbytes > self._keep:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[v] = arr
        return self._cache[v]

    def hold(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Take the values of every stored variable as they were just written (members x
        years x columns each): read from memory, not from the parts."""
        if set(arrays) == set(self._vars):
            self._cache = dict(arrays)

    def __iter__(self):
        return iter(self._vars)

    def __len__(self) -> int:
        return len(self._vars)


def part_bytes(ensemble_id: str, freq: str, links: Mapping[int, str],
               uniq: Mapping[str, tuple]) -> bytes:
    """A part file: a row group per variable, rows (variable, run_id, column: 0 the USSR then
    the regions, values: the periods), and in its metadata the ensemble, the frequency, the
    members it records (member -> run id) and their manifests."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rids = list(uniq)
    variables = list(next(iter(uniq.values()))[1]) if uniq else []
    meta = {"ensemble": ensemble_id, "freq": freq, "row_groups": variables,
            "members": {str(m): r for m, r in sorted(links.items())},
            "manifests": {r: uniq[r][0] for r in rids}}
    schema = pa.schema([("variable", pa.string()),
                        ("run_id", pa.dictionary(pa.int32(), pa.string())),
                        ("column", pa.int16()), ("values", pa.list_(pa.float64()))],
                       metadata={PART_META: json.dumps(meta).encode()})
    sink = pa.BufferOutputStream()
    # statistics of ``variable`` let a dataset filter skip the other variables' row groups
    with pq.ParquetWriter(sink, schema, compression="zstd", write_statistics=["variable"],
                          use_dictionary=["variable", "run_id"],
                          use_byte_stream_split=["values.list.element"]) as w:
        dict_rids = pa.array(rids, pa.string())
        for v in variables:
            stack = np.stack([uniq[r][1][v] for r in rids])  # (runs, periods, columns)
            n, t, c = stack.shape
            flat = np.ascontiguousarray(stack.transpose(0, 2, 1)).reshape(-1)
            offsets = pa.array(np.arange(0, n * c * t + 1, t, dtype=np.int32))
            table = pa.table({
                "variable": pa.array([v] * (n * c), pa.string()),
                "run_id": pa.DictionaryArray.from_arrays(
                    pa.array(np.repeat(np.arange(n, dtype=np.int32), c)), dict_rids),
                "column": pa.array(np.tile(np.arange(c, dtype=np.int16), n)),
                "values": pa.ListArray.from_arrays(offsets, pa.array(flat))}, schema=schema)
            w.write_table(table)
    return sink.getvalue().to_pybytes()


def records_of(table, rid: str) -> dict[str, np.ndarray]:
    """One run's records from a part table (all its row groups)."""
    meta = json.loads(table.schema.metadata[PART_META])
    rids = table.column("run_id").to_numpy(zero_copy_only=False)
    sel = np.flatnonzero(rids == rid)
    cols = table.column("column").to_numpy()[sel]
    vals = table.column("values").combine_chunks().flatten().to_numpy().reshape(
        table.num_rows, -1)[sel]
    out = {}
    i = 0
    per = len(sel) // max(1, len(meta["row_groups"]))
    for v in meta["row_groups"]:
        block = vals[i:i + per]
        out[v] = np.empty((block.shape[1], per))
        out[v][:, cols[i:i + per]] = block.T
        i += per
    return out


def annualize_rows(variable: str, vals: np.ndarray) -> np.ndarray:
    """Monthly rows (rows, months) to annual rows (rows, years), by the variable's rule."""
    from sovsim.results import Results

    return Results._annualize(variable, vals.T).T
