"""Keeping a results store honest and small: verify every file, repair (rebuild the index
from the manifests and part files, drop what fails), gc (leftovers, unreferenced files, old
entries) and migrate a store of the first layout (docs/design/0011-columnar-store.md)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from sovsim.errors import StoreError
from sovsim.store import files as F
from sovsim.store.removal import drop_files, remove  # noqa: F401  (re-exported)
from sovsim.store.store import INDEX, PART_META, SCHEMA, Store, _now

ORPHAN_AGE = 600.0  # an unindexed file younger than this may belong to a writer at work


@dataclass
class Report:
    """What a check or a repair found and did: one line per problem, naming the file."""

    checked: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store) -> Report:
    """Check every file the index records (its checksum), every run's file, the index
    itself, and report files the index does not know and leftovers of killed writers."""
    rep = Report()
    integrity = store.integrity()
    if integrity != "ok":
        rep.problems.append(f"{store.root / INDEX}: index integrity check: {integrity}")
    recorded = store.files()
    for rel, (sha, size) in sorted(recorded.items()):
        path = store.root / rel
        rep.checked += 1
        rep.bytes += size
        try:
            if F.sha256_file(path) != sha:
                rep.problems.append(f"{path}: corrupt (checksum differs)")
        except FileNotFoundError:
            rep.problems.append(f"{path}: missing")
        except OSError as exc:
            rep.problems.append(f"{path}: unreadable ({exc.strerror})")
    for rid, loc in store._q("SELECT id, location FROM runs WHERE location IS NOT NULL"):
        if loc not in recorded:
            rep.problems.append(f"{store.root / loc}: holds run {rid} but has no checksum")
    runs = store.root / "runs"
    if runs.exists():
        for p in sorted(runs.rglob("*")):
            if p.is_file() and not p.name.startswith(".") and store.rel(p) not in recorded:
                rep.problems.append(f"{p}: not in the index (a leftover; `sovsim runs gc` "
                                    "removes it, `sovsim runs repair` indexes what it can)")
        for p in F.partial_leftovers(runs):
            rep.problems.append(f"{p}: the leftover of a killed writer (`sovsim runs gc`)")
    return rep


def repair(root: str | Path | None = None, report=None) -> Report:
    """Make the store consistent, losing nothing good: an unreadable index is set aside and
    rebuilt from the manifests and part files; files that fail their check are dropped (the
    ensembles that used them become partial and compute those members again on their next
    run); runs whose file is gone are forgotten; leftovers are removed."""
    from sovsim.store.keys import default_dir

    root = Path(root).expanduser() if root is not None else default_dir()
    rep = Report()
    if not (root / INDEX).exists() and not (root / "runs").exists():
        raise StoreError(f"--store {root}: no results store there")
    try:
        if not (root / INDEX).exists():
            raise StoreError("missing")
        st = Store(root, report=rep.actions.append)
        if st.integrity() != "ok":
            raise StoreError("integrity check failed")
    except StoreError as exc:
        if "first layout" in str(exc):
            raise
        aside = root / f"{INDEX}.broken-{time.strftime('%Y%m%dT%H%M%S')}"
        for suffix in ("", "-wal", "-shm"):
            src = root / f"{INDEX}{suffix}"
            if src.exists():
                src.replace(Path(f"{aside}{suffix}"))
        rep.actions.append(f"{root / INDEX}: unreadable ({exc}); set aside as {aside.name} "
                           "and rebuilt from the manifests")
        return rebuild(root, rep)
    bad = verify(st)
    rep.checked, rep.bytes = bad.checked, bad.bytes
    corrupt = [_rel(st, line) for line in bad.problems
               if line.endswith("corrupt (checksum differs)") or line.endswith(": missing")]
    st.drop_files([c for c in corrupt if c], "failed its check")
    gone = st._q("SELECT id FROM runs WHERE location IS NOT NULL AND location NOT IN "
                 "(SELECT path FROM files)")
    if gone:
        with st._write() as db:
            db.executemany("DELETE FROM runs WHERE id = ?", gone)
        rep.actions.append(f"forgot {len(gone)} runs whose file has no checksum")
    rep.actions += gc(st).actions
    return rep


def _rel(st: Store, line: str) -> str | None:
    path = line.split(": ", 1)[0]
    try:
        return st.rel(Path(path))
    except ValueError:
        return None


def rebuild(root: Path, rep: Report | None = None) -> Report:
    """A new index from what is on disk: every manifest whose own checksum holds, every file
    whose checksum (in its manifest, or a part's name) holds; the rest is dropped."""
    from sovsim.ensemble.bands import band_table
    from sovsim.store.parts import StoredAnnual

    rep = rep or Report()
    st = Store(root, report=rep.actions.append, rebuild=True)
    now = _now()
    ensembles = []
    for mpath in sorted((root / "runs").glob("*/*/manifest.json")):
        folder = mpath.parent
        rid = folder.name
        try:
            body = json.loads(mpath.read_text(encoding="utf-8"))
            claimed = body.pop("manifest_sha256")
            if F.sha256_bytes(json.dumps(body, sort_keys=True).encode()) != claimed:
                raise ValueError("its checksum differs")
        except (OSError, ValueError, KeyError) as exc:
            rep.problems.append(f"{mpath}: unreadable manifest ({exc}); its directory is "
                                "left as it is")
            continue
        files = body.pop("files", {})
        rows, links, recorded = [], [], [(mpath, F.sha256_file(mpath))]
        if body.get("kind") == "ensemble":
            ensembles.append((rid, body))
            rows.append((rid, "ensemble", body.get("scenario", ""), "partial",
                         body.get("members"), body.get("seed"), now, json.dumps(body), None))
            for part in sorted((folder / "members").glob("part-*.parquet")):
                sha = F.sha256_file(part)
                if not sha.startswith(part.stem.split("-", 1)[1]):
                    rep.actions.append(f"{part}: corrupt (checksum differs from its name); "
                                       "dropped")
                    part.unlink()
                    continue
                import pyarrow.parquet as pq

                meta = json.loads(pq.read_metadata(part).metadata[PART_META])
                recorded.append((part, sha))
                loc = st.rel(part)
                for r, man in meta.get("manifests", {}).items():
                    rows.append((r, "member", man.get("scenario", ""), "complete", None,
                                 man.get("seed"), now, json.dumps(man), loc))
                links += [(rid, int(m), r) for m, r in meta.get("members", {}).items()]
            stale = folder / "bands.parquet"
            if stale.exists():
                stale.unlink()  # its checksum was in the lost index: made again below
        else:
            ok = True
            for name, sha in files.items():
                p = folder / name
                if not p.exists() or F.sha256_file(p) != sha:
                    ok = False
                    rep.actions.append(f"{p}: corrupt or missing; run {rid} dropped")
                else:
                    recorded.append((p, sha))
            if not ok:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            rows.append((rid, body.get("kind", "run"), body.get("scenario", ""), "complete",
                         None, body.get("seed"), now, json.dumps(body),
                         st.rel(folder / "records.parquet")))
        with st._write() as db:
            st._record_files(db, recorded)
            db.executemany("INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT OR IGNORE INTO ensemble_members VALUES (?, ?, ?)", links)
    for eid, body in ensembles:
        n = body.get("members") or 0
        linked = st.members(eid)
        if len(linked) >= n and set(st.have(linked.values())) >= set(linked.values()):
            st.finish_ensemble(eid, band_table(body["scenario"], StoredAnnual(st, eid, n)))
            rep.actions.append(f"ensemble {eid}: complete, its bands made again")
        else:
            rep.actions.append(f"ensemble {eid}: partial ({len(linked)} of {n} members); "
                               "run it again to complete it")
    rep.actions.append(f"index rebuilt: {len(st.entries(('run', 'ensemble')))} runs and "
                       f"ensembles, {len(st.entries(('member',)))} members")
    return rep


def gc(store: Store, older_than_days: float | None = None) -> Report:
    """Remove what nothing uses: leftovers of killed writers, files no index row records
    (older than ORPHAN_AGE, so a writer at work keeps its own), part files of removed
    ensembles that hold no stored run; with ``older_than_days``, also the runs and ensembles
    created before then (an ensemble's members go with it unless another uses them)."""
    rep = Report()
    runs = store.root / "runs"
    for p in F.partial_leftovers(runs):
        rep.bytes += _size(p)
        p.unlink(missing_ok=True)
        rep.actions.append(f"removed {p} (leftover of a killed writer)")
    if older_than_days is not None:
        cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                               time.gmtime(time.time() - older_than_days * 86400))
        for e in store.entries(("run", "ensemble")):
            if e.created < cutoff:
                before = store.sizes().get(e.id, 0)
                gone = store.remove(e.id)
                rep.bytes += before
                rep.actions.append(f"removed {e.kind} {e.id} (created {e.created})"
                                   + (f" and {len(gone) - 1} members" if len(gone) > 1 else ""))
    recorded = store.files()
    held = {loc for (loc,) in store._q("SELECT DISTINCT location FROM runs")}
    live = {e.id for e in store.entries(("run", "ensemble", "member"))}
    drop = [rel for rel in recorded if rel.split("/")[2] not in live and rel not in held]
    if drop:
        with store._write() as db:
            db.executemany("DELETE FROM files WHERE path = ?", [(r,) for r in drop])
    now = time.time()
    if runs.exists():
        for p in sorted(runs.rglob("*")):
            if not p.is_file() or p.name.startswith("."):
                continue
            rel = store.rel(p)
            if rel in drop or (rel not in recorded and now - p.stat().st_mtime > ORPHAN_AGE):
                rep.bytes += _size(p)
                p.unlink(missing_ok=True)
                rep.actions.append(f"removed {p} (no stored run uses it)")
        for d in sorted(runs.glob("*/*"), reverse=True):
            if d.is_dir() and not any(f.is_file() for f in d.rglob("*")):
                shutil.rmtree(d, ignore_errors=True)
    return rep


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def migrate(root: str | Path | None = None) -> Report:
    """Bring a store of the first layout (one directory per member, no checksums) to the
    current one: the index gains the files' checksums and each run's location; each
    manifest gains its files' checksums; an ensemble's derived members_annual.parquet goes.
    Its runs stay readable (list, show, export, members of ensembles); they never match a
    new request, whose key includes the code and data hashes the old manifests lack."""
    from sovsim.store.keys import default_dir

    root = Path(root).expanduser() if root is not None else default_dir()
    rep = Report()
    con = sqlite3.connect(root / INDEX, timeout=60, isolation_level=None)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(runs)").fetchall()]
        if not cols:
            raise StoreError(f"--store {root}: no results store there")
        if "location" in cols:
            rep.actions.append(f"{root}: already in the current layout")
            return rep
        con.execute("BEGIN IMMEDIATE")
        con.execute("ALTER TABLE runs ADD COLUMN location TEXT")
        for stmt in SCHEMA.split(";"):
            if "files" in stmt or "meta" in stmt or "runs_location" in stmt:
                con.execute(stmt)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('format', '2')")
        now = _now()
        for rid, kind, manifest in con.execute("SELECT id, kind, manifest FROM runs").fetchall():
            folder = root / "runs" / rid[:2] / rid
            if kind == "ensemble":
                (folder / "members_annual.parquet").unlink(missing_ok=True)
            written = []
            for p in sorted(folder.glob("*.parquet")):
                written.append((p, F.sha256_file(p)))
            body = {**json.loads(manifest), "files": {p.name: s for p, s in written}}
            body["manifest_sha256"] = F.sha256_bytes(json.dumps(body, sort_keys=True).encode())
            text = json.dumps(body, indent=1, sort_keys=True)
            F.atomic_write_text(folder / "manifest.json", text)
            written.append((folder / "manifest.json", F.sha256_bytes(text.encode())))
            for p, sha in written:
                con.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                            (p.relative_to(root).as_posix(), sha, p.stat().st_size, now))
            if kind != "ensemble":
                con.execute("UPDATE runs SET location = ? WHERE id = ?",
                            ((folder / "records.parquet").relative_to(root).as_posix(), rid))
            rep.checked += 1
        con.execute("COMMIT")
        rep.actions.append(f"{root}: {rep.checked} runs and ensembles migrated to the current "
                           "layout (checksums recorded)")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return rep
