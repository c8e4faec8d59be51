"""The results store: every run and ensemble, with its manifest and its tables as Parquet,
indexed in SQLite (docs/design/0006-results-store.md, docs/ensembles.md).

Layout of a store directory::

    STORE/index.sqlite            the index (WAL mode): runs, ensemble_members
    STORE/runs/ab/abcdef.../      one directory per run or ensemble, named by its id
        manifest.json             what was asked (the id is the hash of this)
        records.parquet           a run: a row per variable and region, its months as a
                                  list (lossless)
        bands.parquet             an ensemble: the tidy band table (annual)

A run's id is the hash of its manifest (scenario content hash, parameter hash, seed, member,
weather, resolution, package version, git commit): asking again for the same manifest finds
it. Files are written under a temporary name and renamed into place, then the index row is
inserted in one transaction: the index never names a file that is not complete, and a
process killed at any point leaves at worst an unindexed file that the next write of the
same id replaces.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sovsim.errors import StoreError

INDEX = "index.sqlite"
ENV = "SOVSIM_STORE"
# What identifies a run or ensemble; other manifest keys (created, ...) are informative only.
VOLATILE = ("created",)
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- run | member | ensemble
    scenario TEXT NOT NULL,
    status TEXT NOT NULL,          -- complete | partial (an ensemble still filling)
    members INTEGER,
    seed INTEGER,
    created TEXT NOT NULL,
    manifest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ensemble_members (
    ensemble_id TEXT NOT NULL,
    member INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (ensemble_id, member)
);
CREATE INDEX IF NOT EXISTS ensemble_members_run ON ensemble_members (run_id);
"""


def default_dir() -> Path:
    """``$SOVSIM_STORE``, else ``$XDG_DATA_HOME/sovsim/store`` (``~/.local/share/sovsim/store``)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "sovsim" / "store"


def run_id(manifest: Mapping[str, Any]) -> str:
    """The id of a manifest: a hash of its identifying keys (sorted JSON)."""
    ident = {k: v for k, v in manifest.items() if k not in VOLATILE}
    blob = json.dumps(ident, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Entry:
    """One row of the index."""

    id: str
    kind: str
    scenario: str
    status: str
    members: int | None
    seed: int | None
    created: str
    manifest: dict

    @classmethod
    def from_row(cls, row: tuple) -> Entry:
        return cls(*row[:7], json.loads(row[7]))


class Store:
    """A results store in ``root`` (created if missing).

    Safe for several processes at once: SQLite in WAL mode, every write a short
    ``BEGIN IMMEDIATE`` transaction that waits (up to ``timeout`` s) for the others.
    """

    def __init__(self, root: str | Path | None = None, *, timeout: float = 60.0):
        self.root = Path(root).expanduser() if root is not None else default_dir()
        self.timeout = timeout
        _check_dir(self.root)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._init_schema()

    # -- connection ------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        # One connection per process: a forked child must not use its parent's.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.root / INDEX, timeout=self.timeout,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"), self.timeout)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _init_schema(self) -> None:
        db = self._db()
        _retry(lambda: db.executescript(SCHEMA), self.timeout)

    class _Txn:
        def __init__(self, store: Store):
            self.db = store._db()
            self.timeout = store.timeout

        def __enter__(self) -> sqlite3.Connection:
            _retry(lambda: self.db.execute("BEGIN IMMEDIATE"), self.timeout)
            return self.db

        def __exit__(self, exc_type, *_):
            if exc_type is None:
                try:
                    _retry(lambda: self.db.execute("COMMIT"), self.timeout)
                    return
                except StoreError:
                    self._rollback()
                    raise
            self._rollback()

        def _rollback(self) -> None:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:  # no transaction left to roll back
                pass

    def _write(self) -> Store._Txn:
        return Store._Txn(self)

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # -- paths -----------------------------------------------------------------------------
    def path(self, rid: str) -> Path:
        return self.root / "runs" / rid[:2] / rid

    # -- queries ---------------------------------------------------------------------------
    def get(self, rid: str) -> Entry | None:
        row = self._db().execute("SELECT * FROM runs WHERE id = ?", (rid,)).fetchone()
        return Entry.from_row(row) if row else None

    def resolve(self, prefix: str) -> Entry:
        """The entry whose id starts with ``prefix`` (at least 4 characters, unambiguous)."""
        if len(prefix) < 4 or not all(c in "0123456789abcdef" for c in prefix):
            raise StoreError(f"run id {prefix!r}: give at least 4 hex characters of an id "
                             "listed by `sovsim runs list`")
        rows = self._db().execute("SELECT * FROM runs WHERE id LIKE ? LIMIT 3",
                                  (prefix + "%",)).fetchall()
        if not rows:
            raise StoreError(f"no run {prefix!r} in the store {self.root}")
        if len(rows) > 1:
            raise StoreError(f"run id {prefix!r} is ambiguous: " + ", ".join(r[0] for r in rows))
        return Entry.from_row(rows[0])

    def entries(self, kinds: Iterable[str] = ("run", "ensemble")) -> list[Entry]:
        kinds = tuple(kinds)
        marks = ",".join("?" * len(kinds))
        rows = self._db().execute(f"SELECT * FROM runs WHERE kind IN ({marks}) "
                                  "ORDER BY created, id", kinds).fetchall()
        return [Entry.from_row(r) for r in rows]

    def members(self, ensemble_id: str) -> dict[int, str]:
        """member index -> run id, for the members of an ensemble stored so far."""
        rows = self._db().execute("SELECT member, run_id FROM ensemble_members WHERE "
                                  "ensemble_id = ? ORDER BY member", (ensemble_id,)).fetchall()
        return dict(rows)

    def have(self, rids: Iterable[str]) -> set[str]:
        """Those of ``rids`` that are stored (complete)."""
        rids = list(rids)
        found: set[str] = set()
        for i in range(0, len(rids), 500):
            chunk = rids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r for (r,) in self._db().execute(
                f"SELECT id FROM runs WHERE status = 'complete' AND id IN ({marks})", chunk)}
        return found

    # -- writes ----------------------------------------------------------------------------
    def put_run(self, manifest: Mapping[str, Any], records: Mapping[str, np.ndarray], *,
                kind: str = "run", ensemble: tuple[str, int] | None = None,
                tables: Mapping[str, Any] | None = None) -> str:
        """Store one run (its monthly records, and further tidy ``tables`` by name, such as a
        household run's summary); link it as member ``ensemble[1]`` of ensemble
        ``ensemble[0]``. Idempotent: storing the same manifest twice keeps one. The files are
        written before the index row, so an indexed run has all of them."""
        rid = run_id(manifest)
        if self.get(rid) is None:
            folder = self.path(rid)
            folder.mkdir(parents=True, exist_ok=True)
            for name, table in (tables or {}).items():
                atomic_write(folder / f"{name}.parquet",
                             lambda p, t=table: t.to_parquet(p, index=False))
            write_records(folder / "records.parquet", records)
            atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=1))
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, ?, 'complete', NULL, ?, ?, ?)",
                       (rid, kind, manifest.get("scenario", ""), manifest.get("seed"), _now(),
                        json.dumps(manifest)))
            if ensemble is not None:
                db.execute("INSERT OR IGNORE INTO ensemble_members VALUES (?, ?, ?)",
                           (ensemble[0], ensemble[1], rid))
        return rid

    def link(self, ensemble_id: str, links: Mapping[int, str]) -> None:
        """Record stored runs as members of an ensemble (one transaction)."""
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO ensemble_members VALUES (?, ?, ?)",
                           [(ensemble_id, m, r) for m, r in links.items()])

    def begin_ensemble(self, manifest: Mapping[str, Any]) -> str:
        """Record an ensemble as partial (if it is not already there); return its id."""
        rid = run_id(manifest)
        folder = self.path(rid)
        if self.get(rid) is None:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(folder / "manifest.json", json.dumps(manifest, indent=1))
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO runs VALUES (?, 'ensemble', ?, 'partial', ?, ?, ?, ?)",
                       (rid, manifest.get("scenario", ""), manifest.get("members"),
                        manifest.get("seed"), _now(), json.dumps(manifest)))
        return rid

    def finish_ensemble(self, rid: str, bands) -> None:
        """Write the ensemble's band table and mark it complete."""
        atomic_write(self.path(rid) / "bands.parquet", lambda p: bands.to_parquet(p, index=False))
        with self._write() as db:
            db.execute("UPDATE runs SET status = 'complete' WHERE id = ?", (rid,))

    def remove(self, rid: str) -> list[str]:
        """Remove a run, or an ensemble with those of its members no other ensemble uses.
        The index rows go first (one transaction), then the files."""
        entry = self.get(rid)
        if entry is None:
            raise StoreError(f"no run {rid!r} in the store {self.root}")
        gone = [rid]
        if entry.kind == "member":
            used = self._db().execute("SELECT ensemble_id FROM ensemble_members WHERE run_id = ?"
                                      " LIMIT 1", (rid,)).fetchone()
            if used:
                raise StoreError(f"run {rid} is a member of ensemble {used[0]}: remove the "
                                 "ensemble (its members go with it)")
        with self._write() as db:
            if entry.kind == "ensemble":
                mids = [r for (r,) in db.execute(
                    "SELECT run_id FROM ensemble_members WHERE ensemble_id = ?", (rid,))]
                db.execute("DELETE FROM ensemble_members WHERE ensemble_id = ?", (rid,))
                for m in mids:
                    used = db.execute("SELECT 1 FROM ensemble_members WHERE run_id = ? LIMIT 1",
                                      (m,)).fetchone()
                    if not used:
                        db.execute("DELETE FROM runs WHERE id = ? AND kind = 'member'", (m,))
                        gone.append(m)
            else:
                db.execute("DELETE FROM ensemble_members WHERE run_id = ?", (rid,))
            db.execute("DELETE FROM runs WHERE id = ?", (rid,))
        for g in gone:
            shutil.rmtree(self.path(g), ignore_errors=True)
        return gone

    # -- reads -----------------------------------------------------------------------------
    def records(self, rid: str) -> dict[str, np.ndarray]:
        return read_records(self.path(rid) / "records.parquet")

    def table(self, rid: str, name: str):
        """A tidy table stored with run ``rid`` (``put_run(..., tables=...)``)."""
        import pandas as pd

        path = self.path(rid) / f"{name}.parquet"
        if not path.exists():
            raise SovsimError(f"run {rid} has no table {name!r} in the store")
        return pd.read_parquet(path)

    def bands(self, rid: str):
        import pandas as pd

        return pd.read_parquet(self.path(rid) / "bands.parquet")

    def integrity(self) -> str:
        return self._db().execute("PRAGMA integrity_check").fetchone()[0]


# -- files ----------------------------------------------------------------------------------
def atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary file in the same directory, then rename into place: a
    reader sees the old file or the whole new one, never a part. The temporary name is
    unique per process, so two writers of the same file do not step on each other."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def atomic_write_text(target: Path, text: str) -> Path:
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_records(path: Path, records: Mapping[str, np.ndarray]) -> Path:
    """Records (variable -> (rows, columns): months, or members x years) as one Parquet
    table with a row per variable and column (``variable``, ``column``: 0 the USSR, then the
    regions in ``REGIONS`` order) and the rows as a fixed-size list ``values``: exactly what
    the run produced, and quick to write (a wide table of 250 columns is three times slower)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names, cols, parts = [], [], []
    for var, arr in records.items():
        for c in range(arr.shape[1]):
            names.append(var)
            cols.append(c)
            parts.append(arr[:, c])
    n = len(parts[0]) if parts else 0
    flat = np.concatenate(parts) if parts else np.zeros(0)
    table = pa.table({"variable": pa.array(names), "column": pa.array(cols, pa.int16()),
                      "values": pa.FixedSizeListArray.from_arrays(pa.array(flat), n)})
    return atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd",
                                                       use_dictionary=["variable"],
                                                       write_statistics=False))


def read_records(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        names = table.column("variable").to_pylist()
        cols = table.column("column").to_numpy()
        values = table.column("values").combine_chunks()
        flat = values.flatten().to_numpy()
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(f"{path}: cannot read stored records: {exc}") from None
    rows = flat.reshape(len(names), -1) if names else flat.reshape(0, 0)
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for name, c, row in zip(names, cols, rows):
        out.setdefault(name, []).append((int(c), row))
    return {v: np.column_stack([a for _, a in sorted(cs, key=lambda t: t[0])])
            for v, cs in out.items()}


# -- helpers --------------------------------------------------------------------------------
def _check_dir(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise StoreError(f"--store {root}: exists and is not a directory")
    if root.is_dir() and not (root / INDEX).exists() and any(
            p for p in root.iterdir() if not p.name.startswith(".")):
        raise StoreError(f"--store {root}: a non-empty directory that is not a sovsim store "
                         f"(no {INDEX}); give an empty or new directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe.{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"--store {root}: cannot write there ({exc.strerror or exc})") from None


def _retry(fn, timeout: float):
    """Run ``fn``, retrying while SQLite says the database is locked or busy (the busy
    handler does not cover every case, e.g. switching to WAL while another process opens)."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if ("locked" not in msg and "busy" not in msg) or time.monotonic() > deadline:
                raise StoreError(f"results store index: {msg}") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
