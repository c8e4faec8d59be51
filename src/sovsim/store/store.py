"""The results store: every run and ensemble, its manifest, its tables, and the checksum of
every file, indexed in SQLite (docs/design/0011-columnar-store.md; the first layout:
docs/design/0006-results-store.md).

Layout of a store directory (format 2)::

    STORE/index.sqlite            the index (WAL mode): runs, ensemble_members, files, meta
    STORE/runs/ab/abcdef.../      one directory per run or ensemble, named by its id
        manifest.json             what was asked (the id is the hash of its identifying keys)
        records.parquet           a run: a row per variable and region, its months as a list
        household_summary.parquet a household run's summary table
        members/part-<sha>.parquet an ensemble: its coarse members' values, a batch of members
                                  a file (members a column; annual unless monthly was asked)
        bands.parquet             an ensemble: the tidy band table (annual)

Every file's SHA-256 is recorded in the index (a part's is also its name; a run's files' are
also in its manifest) and checked whenever it is read: a corrupt file is reported by name
and never used. Files are written under a temporary name and renamed into place before the
index rows that name them are inserted in one transaction: the index never names a file
that is not complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sovsim.errors import SovsimError, StoreError
from sovsim.store import files as F
from sovsim.store.keys import default_dir, run_id

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


class Store:
    """A results store in ``root`` (created if missing).

    Safe for several processes at once: SQLite in WAL mode, every write a short
    ``BEGIN IMMEDIATE`` transaction that waits (up to ``timeout`` s) for the others.
    ``readonly``: never writes (a store on a read-only medium can be listed, shown,
    queried and exported). ``report``: where problems found on the way (a corrupt file
    dropped) are said, one line each (default: stderr).
    """

    def __init__(self, root: str | Path | None = None, *, timeout: float = 60.0,
                 readonly: bool = False, report: Callable[[str], None] | None = None,
                 rebuild: bool = False):
        self.root = Path(root).expanduser() if root is not None else default_dir()
        self.timeout = timeout
        self.readonly = readonly
        self.report = report or _stderr
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._verified: dict[str, tuple[int, int]] = {}  # rel path -> (size, mtime) checked
        if readonly:
            if not (self.root / INDEX).exists():
                if (self.root / "runs").is_dir():  # the index lost
                    raise StoreError(f"--store {self.root}: its index ({INDEX}) is missing; "
                                     f"`sovsim runs repair --store {self.root}` rebuilds it")
                raise StoreError(f"--store {self.root}: no results store there (no {INDEX})")
        else:
            _check_dir(self.root, rebuild)
        self._init_schema()

    # -- connection ------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        # One connection per process: a forked child must not use its parent's.
        if self._conn is None or self._pid != os.getpid():
            try:
                self._conn = self._connect()
            except sqlite3.DatabaseError as exc:
                raise self._corrupt(exc) from None
            self._pid = os.getpid()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        path = self.root / INDEX
        if self.readonly:
            for flags in ("mode=ro", "immutable=1"):  # immutable: a read-only directory
                conn = sqlite3.connect(f"file:{path}?{flags}", uri=True, timeout=self.timeout,
                                       isolation_level=None, check_same_thread=False)
                try:
                    conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                    return conn
                except sqlite3.OperationalError:
                    conn.close()
            raise StoreError(f"{path}: cannot open the index read-only")
        conn = sqlite3.connect(path, timeout=self.timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"), self.timeout)
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _corrupt(self, exc: Exception) -> StoreError:
        return StoreError(f"{self.root / INDEX}: the index is unreadable ({exc}); "
                          f"`sovsim runs repair --store {self.root}` rebuilds it from the "
                          "manifests and files")

    def _q(self, sql: str, args: Iterable = ()) -> list[tuple]:
        try:
            return _retry(lambda: self._db().execute(sql, tuple(args)).fetchall(), self.timeout)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None

    def _init_schema(self) -> None:
        try:
            cols = [r[1] for r in self._db().execute("PRAGMA table_info(runs)").fetchall()]
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        if cols and "location" not in cols:
            raise StoreError(f"--store {self.root}: a store of the first layout (one directory "
                             "per member, no checksums); `sovsim runs migrate --store "
                             f"{self.root}` brings it to the current one")
        if self.readonly:
            return
        db = self._db()
        try:
            _retry(lambda: db.executescript(SCHEMA), self.timeout)
            _retry(lambda: db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)",
                                      (FORMAT,)), self.timeout)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
                raise StoreError(f"--store {self.root}: cannot write there ({exc})") from None
            raise self._corrupt(exc) from None

    class _Txn:
        def __init__(self, store: Store):
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

    def _write(self) -> Store._Txn:
        return Store._Txn(self)

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"results store {self.root}: opened read-only")

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # -- paths -----------------------------------------------------------------------------
    def path(self, rid: str) -> Path:
        return self.root / "runs" / rid[:2] / rid

    def rel(self, path: Path) -> str:
        return Path(path).relative_to(self.root).as_posix()

    # -- queries ---------------------------------------------------------------------------
    def get(self, rid: str) -> Entry | None:
        rows = self._q("SELECT * FROM runs WHERE id = ?", (rid,))
        return Entry.from_row(rows[0]) if rows else None

    def resolve(self, prefix: str) -> Entry:
        """The entry whose id starts with ``prefix`` (at least 4 characters, unambiguous)."""
        if len(prefix) < 4 or not all(c in "0123456789abcdef" for c in prefix):
            raise StoreError(f"run id {prefix!r}: give at least 4 hex characters of an id "
                             "listed by `sovsim runs list`")
        rows = self._q("SELECT * FROM runs WHERE id LIKE ? LIMIT 3", (prefix + "%",))
        if not rows:
            raise StoreError(f"no run {prefix!r} in the store {self.root}")
        if len(rows) > 1:
            raise StoreError(f"run id {prefix!r} is ambiguous: " + ", ".join(r[0] for r in rows))
        return Entry.from_row(rows[0])

    def entries(self, kinds: Iterable[str] = ("run", "ensemble")) -> list[Entry]:
        kinds = tuple(kinds)
        marks = ",".join("?" * len(kinds))
        rows = self._q(f"SELECT * FROM runs WHERE kind IN ({marks}) ORDER BY created, id", kinds)
        return [Entry.from_row(r) for r in rows]

    def members(self, ensemble_id: str) -> dict[int, str]:
        """member index -> run id, for the members of an ensemble stored so far."""
        return dict(self._q("SELECT member, run_id FROM ensemble_members WHERE ensemble_id = ?"
                            " ORDER BY member", (ensemble_id,)))

    def have(self, rids: Iterable[str]) -> set[str]:
        """Those of ``rids`` that are stored (complete)."""
        return set(self.locations(rids))

    def locations(self, rids: Iterable[str]) -> dict[str, str]:
        """run id -> the file holding its values, for those of ``rids`` stored."""
        rids = list(dict.fromkeys(rids))
        out: dict[str, str] = {}
        for i in range(0, len(rids), 500):
            chunk = rids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            out.update(self._q(f"SELECT id, location FROM runs WHERE status = 'complete' AND "
                               f"location IS NOT NULL AND id IN ({marks})", chunk))
        return out

    def sha256(self, rel: str) -> str | None:
        rows = self._q("SELECT sha256 FROM files WHERE path = ?", (rel,))
        return rows[0][0] if rows else None

    def files(self) -> dict[str, tuple[str, int]]:
        """Every recorded file: relative path -> (sha256, bytes)."""
        return {p: (s, b) for p, s, b in self._q("SELECT path, sha256, bytes FROM files")}

    def sizes(self) -> dict[str, int]:
        """Bytes on disk of each entry's directory (runs and ensembles), from the index."""
        out: dict[str, int] = {}
        for p, b in self._q("SELECT path, bytes FROM files"):
            parts = p.split("/")
            if len(parts) >= 3:
                out[parts[2]] = out.get(parts[2], 0) + b
        return out

    # -- checked reads ---------------------------------------------------------------------
    def _checked_bytes(self, rel: str) -> bytes:
        data = F.read_checked(self.root / rel, self._expected(rel))
        self._mark_verified(rel)
        return data

    def _expected(self, rel: str) -> str:
        sha = self.sha256(rel)
        if sha is None:
            raise StoreError(f"{self.root / rel}: no checksum recorded for it (`sovsim runs "
                             "repair` re-indexes the store)")
        return sha

    def _mark_verified(self, rel: str) -> None:
        st = (self.root / rel).stat()
        self._verified[rel] = (st.st_size, st.st_mtime_ns)

    def verify_file(self, rel: str) -> bool:
        """Whether a recorded file is whole (checked once per process while unchanged)."""
        path = self.root / rel
        try:
            st = path.stat()
        except OSError:
            return False
        if self._verified.get(rel) == (st.st_size, st.st_mtime_ns):
            return True
        sha = self.sha256(rel)
        try:
            ok = sha is not None and F.sha256_file(path) == sha
        except OSError:
            ok = False
        if ok:
            self._verified[rel] = (st.st_size, st.st_mtime_ns)
        return ok

    def records(self, rid: str) -> dict[str, np.ndarray]:
        """A run's monthly records (a single run, a household member, or a coarse member of
        an ensemble run with monthly values)."""
        loc = self.locations([rid]).get(rid)
        if loc is None:
            raise StoreError(f"no run {rid!r} in the store {self.root}")
        if loc.endswith("records.parquet"):
            return F.read_records(self.root / loc, self._expected(loc))
        table, meta = self._part(loc)
        if meta.get("freq") != "monthly":
            raise SovsimError(f"run {rid}: stored as annual values only (an ensemble member); "
                              "run the ensemble with --monthly to keep its months")
        return _records_of(table, rid)

    def table(self, rid: str, name: str):
        """A tidy table stored with run ``rid`` (``put_run(..., tables=...)``)."""
        rel = self.rel(self.path(rid) / f"{name}.parquet")
        if self.sha256(rel) is None:
            raise SovsimError(f"run {rid} has no table {name!r} in the store")
        return F.read_table_checked(self.root / rel, self._expected(rel))

    def bands(self, rid: str):
        rel = self.rel(self.path(rid) / "bands.parquet")
        return F.read_table_checked(self.root / rel, self._expected(rel))

    def _part(self, rel: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = self._checked_bytes(rel)
        try:
            pf = pq.ParquetFile(pa.BufferReader(data))
            meta = json.loads(pf.metadata.metadata[PART_META])
            return pf.read(), meta
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
            raise StoreError(f"{self.root / rel}: cannot read it ({exc})") from None

    def integrity(self) -> str:
        return self._q("PRAGMA integrity_check")[0][0]

    # -- writes ----------------------------------------------------------------------------
    def _record_files(self, db, paths: Iterable[tuple[Path, str]]) -> None:
        now = _now()
        db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                       [(self.rel(p), sha, p.stat().st_size, now) for p, sha in paths])

    def put_run(self, manifest: Mapping[str, Any], records: Mapping[str, np.ndarray], *,
                kind: str = "run", ensemble: tuple[str, int] | None = None,
                tables: Mapping[str, Any] | None = None) -> str:
        """Store one run (its monthly records, and further tidy ``tables`` by name, such as a
        household run's summary); link it as member ``ensemble[1]`` of ensemble
        ``ensemble[0]``. Idempotent: storing the same manifest twice keeps one. The files
        (and their checksums, in the manifest) are written before the index rows."""
        import pyarrow as pa

        self._writable()
        rid = run_id(manifest)
        folder = self.path(rid)
        written: list[tuple[Path, str]] = []
        if rid not in self.have([rid]):
            folder.mkdir(parents=True, exist_ok=True)
            F.clean_partials(folder)
            for name, table in (tables or {}).items():
                data = F.parquet_bytes(pa.Table.from_pandas(table, preserve_index=False))
                p = F.atomic_write_bytes(folder / f"{name}.parquet", data)
                written.append((p, F.sha256_bytes(data)))
            p = folder / "records.parquet"
            written.append((p, F.write_records(p, records)))
            written.append(self._write_manifest(folder, manifest, written))
        loc = self.rel(folder / "records.parquet")
        with self._write() as db:
            self._record_files(db, written)
            if written:  # this call wrote the files: its row (a stale one was dropped)
                db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, 'complete', NULL, ?, "
                           "?, ?, ?)", (rid, kind, manifest.get("scenario", ""),
                                        manifest.get("seed"), _now(), json.dumps(manifest), loc))
            if ensemble is not None:
                db.execute("INSERT OR IGNORE INTO ensemble_members VALUES (?, ?, ?)",
                           (ensemble[0], ensemble[1], rid))
        return rid

    def _write_manifest(self, folder: Path, manifest: Mapping[str, Any],
                        written: list[tuple[Path, str]]) -> tuple[Path, str]:
        """manifest.json with the checksums of the files beside it and its own (of the rest
        of its text), so that a rebuilt index can check them."""
        body = {**manifest, "files": {p.name: sha for p, sha in written}}
        body["manifest_sha256"] = F.sha256_bytes(json.dumps(body, sort_keys=True).encode())
        text = json.dumps(body, indent=1, sort_keys=True)
        p = F.atomic_write_text(folder / "manifest.json", text)
        return p, F.sha256_bytes(text.encode())

    def begin_ensemble(self, manifest: Mapping[str, Any]) -> str:
        """Record an ensemble as partial (if it is not already there); return its id."""
        self._writable()
        rid = run_id(manifest)
        folder = self.path(rid)
        entry = self.get(rid)
        folder.mkdir(parents=True, exist_ok=True)
        F.clean_partials(folder)
        written = []
        mrel = self.rel(folder / "manifest.json")
        if entry is None or not self.verify_file(mrel):
            written.append(self._write_manifest(folder, manifest, []))
        with self._write() as db:
            self._record_files(db, written)
            db.execute("INSERT OR IGNORE INTO runs VALUES (?, 'ensemble', ?, 'partial', ?, ?, "
                       "?, ?, NULL)", (rid, manifest.get("scenario", ""),
                                       manifest.get("members"), manifest.get("seed"), _now(),
                                       json.dumps(manifest)))
        return rid

    def put_members(self, ensemble_id: str, scenario: str, rows: list[tuple], *, freq: str,
                    links: Mapping[int, str] | None = None) -> str | None:
        """Store a batch of an ensemble's coarse members as one part file (members a
        column): ``rows`` are (member, run id, manifest, values: variable -> (periods,
        columns)); ``links`` are further members whose run is stored already. Identical runs
        (same id) are written once. Returns the part's path (relative)."""
        self._writable()
        links = dict(links or {})
        uniq: dict[str, tuple] = {}
        for m, rid, man, vals in rows:
            links[m] = rid
            uniq.setdefault(rid, (man, vals))
        data = part_bytes(ensemble_id, freq, links, uniq)
        sha = F.sha256_bytes(data)
        folder = self.path(ensemble_id) / "members"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{sha[:32]}.parquet"
        F.atomic_write_bytes(path, data)
        loc = self.rel(path)
        now = _now()
        with self._write() as db:
            self._record_files(db, [(path, sha)])
            # a member dropped as corrupt and computed again replaces its row
            db.executemany("INSERT OR REPLACE INTO runs VALUES (?, 'member', ?, 'complete', "
                           "NULL, ?, ?, ?, ?)",
                           [(rid, scenario, man.get("seed"), now, json.dumps(man), loc)
                            for rid, (man, _) in uniq.items()])
            db.executemany("INSERT OR IGNORE INTO ensemble_members VALUES (?, ?, ?)",
                           [(ensemble_id, m, r) for m, r in links.items()])
        self._verified[loc] = (path.stat().st_size, path.stat().st_mtime_ns)
        return loc

    def link(self, ensemble_id: str, links: Mapping[int, str], scenario: str = "") -> None:
        """Record stored runs as members of an ensemble (one transaction, and a part file
        without values that records the links for a rebuilt index)."""
        if links:
            self.put_members(ensemble_id, scenario, [], freq="annual", links=links)

    def finish_ensemble(self, rid: str, bands) -> None:
        """Write the ensemble's band table and mark it complete."""
        self._writable()
        import pyarrow as pa

        data = F.parquet_bytes(pa.Table.from_pandas(bands, preserve_index=False))
        p = F.atomic_write_bytes(self.path(rid) / "bands.parquet", data)
        with self._write() as db:
            self._record_files(db, [(p, F.sha256_bytes(data))])
            db.execute("UPDATE runs SET status = 'complete' WHERE id = ?", (rid,))

    def drop_files(self, rels: Iterable[str], why: str = "corrupt") -> list[str]:
        """Forget files that failed their check: the runs they held are no longer stored
        (an ensemble that used them is partial again and recomputes them on its next run);
        the files are deleted. Returns the run ids dropped."""
        rels = sorted(set(rels))
        if not rels:
            return []
        gone: list[str] = []
        with self._write() as db:
            for rel in rels:
                rids = [r for (r,) in db.execute("SELECT id FROM runs WHERE location = ?",
                                                 (rel,))]
                gone += rids
                db.execute("DELETE FROM runs WHERE location = ?", (rel,))
                db.execute("DELETE FROM files WHERE path = ?", (rel,))
                for r in rids:
                    db.execute("UPDATE runs SET status = 'partial' WHERE kind = 'ensemble' AND "
                               "id IN (SELECT ensemble_id FROM ensemble_members WHERE run_id = ?)",
                               (r,))
                if rel.endswith("bands.parquet"):
                    db.execute("UPDATE runs SET status = 'partial' WHERE id = ?",
                               (rel.split("/")[2],))
        for rel in rels:
            self._verified.pop(rel, None)
            with contextlib.suppress(OSError):
                (self.root / rel).unlink()
            self.report(f"{self.root / rel}: {why}; dropped"
                        + (f" ({len(gone)} runs it held will be computed again)" if gone else ""))
        return gone

    def check_runs(self, rids: Iterable[str]) -> set[str]:
        """Those of ``rids`` stored in files that pass their checksum; the files that fail
        are reported, dropped, and their runs are not stored any more."""
        locs = self.locations(rids)
        bad = [rel for rel in set(locs.values()) if not self.verify_file(rel)]
        self.drop_files(bad)
        return {r for r, rel in locs.items() if rel not in bad}

    def remove(self, rid: str) -> list[str]:
        """Remove a run, or an ensemble with those of its members no other ensemble uses.
        The index rows go first (one transaction), then the files."""
        entry = self.get(rid)
        if entry is None:
            raise StoreError(f"no run {rid!r} in the store {self.root}")
        gone = [rid]
        if entry.kind == "member":
            used = self._q("SELECT ensemble_id FROM ensemble_members WHERE run_id = ? LIMIT 1",
                           (rid,))
            if used:
                raise StoreError(f"run {rid} is a member of ensemble {used[0][0]}: remove the "
                                 "ensemble (its members go with it)")
        prefix = self.rel(self.path(rid)) + "/"
        with self._write() as db:
            if entry.kind == "ensemble":
                mids = [r for (r,) in db.execute(
                    "SELECT DISTINCT run_id FROM ensemble_members WHERE ensemble_id = ?", (rid,))]
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
            # the files of the removed entries that no remaining run is stored in
            gone_set = set(gone)
            doomed = [p for (p,) in db.execute("SELECT path FROM files")
                      if p.startswith(prefix) or p.split("/")[2] in gone_set]
            held = {loc for (loc,) in db.execute("SELECT DISTINCT location FROM runs "
                                                 "WHERE location IS NOT NULL")}
            doomed = [p for p in doomed if p not in held]
            db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in doomed])
        for p in doomed:
            with contextlib.suppress(OSError):
                (self.root / p).unlink()
        for g in gone:
            folder = self.path(g)
            if folder.exists() and not any(f.is_file() for f in folder.rglob("*")):
                shutil.rmtree(folder, ignore_errors=True)
        return gone

    # -- ensembles' values -----------------------------------------------------------------
    def ensemble_annual(self, ensemble_id: str, members: int,
                        variables: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Annual values (variable -> (members, years, columns)) of an ensemble's stored
        members, read from its part files (only the row groups of ``variables`` when
        given), after their checksums are checked."""
        from sovsim.ensemble.bands import annualize

        links = self.members(ensemble_id)
        if len(links) < members:
            raise StoreError(f"ensemble {ensemble_id}: {len(links)} of {members} members "
                             "stored")
        locs = self.locations(links.values())
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
                    ann = annualize(F.read_records(self.root / rel, self._expected(rel)))
                    for v, arr in ann.items():
                        if want is None or v in want:
                            a = out.setdefault(v, np.zeros((members, *arr.shape)))
                            a[canon[rid]] = arr
                continue
            for v, rid_col, cols, rows, freq in self._part_rows(rel, want):
                idx = keys.get_indexer(rid_col)
                ok = idx >= 0
                vals = _annualize_rows(v, rows) if freq == "monthly" else rows
                ncol = int(cols.max()) + 1 if len(cols) else 1
                a = out.setdefault(v, np.zeros((members, vals.shape[1], ncol)))
                a[pos[idx[ok]], :, cols[ok]] = vals[ok]
        for m, c in dups:
            for a in out.values():
                a[m] = a[c]
        return out

    def _part_rows(self, rel: str, want: list[str] | None):
        """(variable, run ids, columns, values) of a part's row groups (those of ``want``)."""
        import pyarrow.parquet as pq

        if not self.verify_file(rel):
            self.drop_files([rel])
            raise StoreError(f"{self.root / rel}: corrupt; dropped: run the ensemble again to "
                             "compute its members")
        try:
            pf = pq.ParquetFile(self.root / rel)
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
            raise StoreError(f"{self.root / rel}: cannot read it ({exc})") from None

    def variables(self, ensemble_id: str) -> list[str]:
        """The variables stored for an ensemble's members (from the first part)."""
        import pyarrow.parquet as pq

        links = self.members(ensemble_id)
        for rel in sorted(set(self.locations(links.values()).values())):
            if rel.endswith("records.parquet"):
                return list(F.read_records(self.root / rel, self._expected(rel)))
            meta = json.loads(pq.read_metadata(self.root / rel).metadata[PART_META])
            if meta.get("row_groups"):
                return list(meta["row_groups"])
        return []


class StoredAnnual(Mapping):
    """An ensemble's annual values read from the store a variable at a time (members x
    years x columns), the last few kept: a 100,000-member ensemble never holds them all."""

    def __init__(self, store: Store, ensemble_id: str, members: int, keep_bytes: float = 5e8):
        self.store, self.eid, self.n = store, ensemble_id, members
        self._vars = store.variables(ensemble_id)
        self._cache: dict[str, np.ndarray] = {}
        self._keep = keep_bytes

    def __getitem__(self, v: str) -> np.ndarray:
        if v not in self._vars:
            raise KeyError(v)
        if v not in self._cache:
            if not self._cache and self.n * 42 * 20 * 6 * 8 < self._keep:
                self._cache.update(self.store.ensemble_annual(self.eid, self.n))  # all at once
            else:
                arr = self.store.ensemble_annual(self.eid, self.n, [v])[v]
                while self._cache and (len(self._cache) + 1) * arr.nbytes > self._keep:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[v] = arr
        return self._cache[v]

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


def _records_of(table, rid: str) -> dict[str, np.ndarray]:
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


def _annualize_rows(variable: str, vals: np.ndarray) -> np.ndarray:
    """Monthly rows (rows, months) to annual rows (rows, years), by the variable's rule."""
    from sovsim.results import Results

    return Results._annualize(variable, vals.T).T


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
