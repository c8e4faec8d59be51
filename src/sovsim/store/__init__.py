"""The results store (docs/design/0011-columnar-store.md): runs and ensembles with their
manifests, keyed on code, input data, parameters and scenario; every file checksummed.
This module only re-exports; the code is in ``store.store`` (the index and its files),
``store.files`` (atomic, checked files), ``store.keys`` (ids and hashes), ``store.query``
(queries without loading) and ``store.maintenance`` (verify, repair, gc, migrate)."""

from sovsim.store.files import (
    atomic_write,
    atomic_write_text,
    read_records,
    write_records,
)
from sovsim.store.keys import code_hash, data_hash, default_dir, run_id
from sovsim.store.parts import StoredAnnual
from sovsim.store.store import INDEX, Entry, Store

__all__ = [
    "INDEX",
    "Entry",
    "Store",
    "StoredAnnual",
    "atomic_write",
    "atomic_write_text",
    "code_hash",
    "data_hash",
    "default_dir",
    "read_records",
    "run_id",
    "write_records",
]
