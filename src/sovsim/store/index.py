"""The index of a results store: its schema, its rows, its write transactions and the
checks of its directory (docs/design/0011-columnar-store.md)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sovsim.errors import StoreError

INDEX = "index.sqlite"
FORMAT = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- run | member | ensemble
    scenario TEXT NOT NULL,
    status TEXT NOT NULL,          -- complete | partial (an ensemble still filling)
    members INTEGER,
    seed INTEGER,
    created TEXT NOT NULL,
    manifest TEXT NOT NULL,
    location TEXT                  -- the file holding its values (relative to the store)
);
CREATE TABLE IF NOT EXISTS ensemble_members (
    ensemble_id TEXT NOT NULL,
    member INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (ensemble_id, member)
);
CREATE INDEX IF NOT EXISTS ensemble_members_run ON ensemble_members (run_id);
CREATE INDEX IF NOT EXISTS runs_location ON runs (location);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,         -- relative to the store
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
PART_META = b"sovsim"  # key of a part's Parquet metadata: ensemble, freq, members, manifests


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
    location: str | None = None

    @classmethod
    def from_row(cls, row: tuple) -> Entry:
        return cls(*row[:7], json.loads(row[7]), *row[8:9])


def _stderr(msg: str) -> None:
    sys.stderr.write(f"sovsim: {msg}\n")
    sys.stderr.flush()


class Txn:
    def __init__(self, store):
        if store.readonly:
            raise StoreError(f"results store {store.root}: opened read-only")
        self.store = store
        self.db = store._db()
        self.timeout = store.timeout

    def __enter__(self) -> sqlite3.Connection:
        _retry(lambda: self.db.execute("BEGIN IMMEDIATE"), self.timeout)
        return self.db

    def __exit__(self, exc_type, exc, _tb):
        if exc_type is None:
            try:
                _retry(lambda: self.db.execute("COMMIT"), self.timeout)
                return None
            except StoreError:
                self._rollback()
                raise
        self._rollback()
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError):
            raise self.store._corrupt(exc) from None
        return None

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # no transaction left to roll back
            self.db.execute("ROLLBACK")


# -- helpers --------------------------------------------------------------------------------
def _check_dir(root: Path, rebuild: bool = False) -> None:
    if root.exists() and not root.is_dir():
        raise StoreError(f"--store {root}: exists and is not a directory")
    if (root / "runs").is_dir() and not (root / INDEX).exists() and not rebuild:
        raise StoreError(f"--store {root}: its index ({INDEX}) is missing; `sovsim runs "
                         f"repair --store {root}` rebuilds it from the manifests and files")
    if root.is_dir() and not (root / INDEX).exists() and not rebuild and any(
            p for p in root.iterdir() if not p.name.startswith(".")):
        raise StoreError(f"--store {root}: a non-empty directory that is not a sovsim store "
                         f"(no {INDEX}); give an empty or new directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe.{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"--store {root}: cannot write there ({exc.strerror or exc}); "
                         "a read-only store can still be listed, shown and exported") from None


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
