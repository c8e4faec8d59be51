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

Every file's SHA-256 is recorded and checked whenever it is read; files are renamed into
place before the index rows that name them are inserted (one transaction).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sovsim.errors import SovsimError, StoreError
from sovsim.store import files as F
from sovsim.store.index import (
    FORMAT,
    INDEX,
    PART_META,
    SCHEMA,
    Entry,
    Txn,
    _check_dir,
    _now,
    _retry,
    _stderr,
)
from sovsim.store.keys import default_dir, run_id
from sovsim.store.parts import part_bytes, records_of


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

    def _write(self) -> Txn:
        return Txn(self)

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
        return records_of(table, rid)

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
        """Forget files that failed their check (``removal.drop_files``)."""
        from sovsim.store.removal import drop_files

        return drop_files(self, rels, why)

    def check_runs(self, rids: Iterable[str]) -> set[str]:
        """Those of ``rids`` stored in files that pass their checksum; the files that fail
        are reported, dropped, and their runs are not stored any more."""
        locs = self.locations(rids)
        bad = [rel for rel in set(locs.values()) if not self.verify_file(rel)]
        self.drop_files(bad)
        return {r for r, rel in locs.items() if rel not in bad}

    def remove(self, rid: str) -> list[str]:
        """Remove a run, or an ensemble with the members no other ensemble uses
        (``removal.remove``)."""
        from sovsim.store.removal import remove

        return remove(self, rid)

    # -- ensembles' values (store.parts) ---------------------------------------------------
    def ensemble_annual(self, ensemble_id: str, members: int,
                        variables: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Annual values (variable -> (members, years, columns)) of an ensemble's stored
        members (``parts.ensemble_annual``)."""
        from sovsim.store.parts import ensemble_annual

        return ensemble_annual(self, ensemble_id, members, variables)

    def variables(self, ensemble_id: str) -> list[str]:
        from sovsim.store.parts import variables

        return variables(self, ensemble_id)
