"""Forgetting stored runs: dropping the files that failed their checksum, and removing a run
or an ensemble with the members no other ensemble uses. Both work on a ``Store`` passed in, so
the store can call them without importing the rest of maintenance (no import cycle)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable

from sovsim.errors import StoreError


def drop_files(store, rels: Iterable[str], why: str = "corrupt") -> list[str]:
    """Forget files that failed their check: the runs they held are no longer stored
    (an ensemble that used them is partial again and recomputes them on its next run);
    the files are deleted. Returns the run ids dropped."""
    rels = sorted(set(rels))
    if not rels:
        return []
    gone: list[str] = []
    with store._write() as db:
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
        store._verified.pop(rel, None)
        with contextlib.suppress(OSError):
            (store.root / rel).unlink()
        store.report(f"{store.root / rel}: {why}; dropped"
                    + (f" ({len(gone)} runs it held will be computed again)" if gone else ""))
    return gone


def remove(store, rid: str) -> list[str]:
    """Remove a run, or an ensemble with those of its members no other ensemble uses.
    The index rows go first (one transaction), then the files."""
    entry = store.get(rid)
    if entry is None:
        raise StoreError(f"no run {rid!r} in the store {store.root}")
    gone = [rid]
    if entry.kind == "member":
        used = store._q("SELECT ensemble_id FROM ensemble_members WHERE run_id = ? LIMIT 1",
                       (rid,))
        if used:
            raise StoreError(f"run {rid} is a member of ensemble {used[0][0]}: remove the "
                             "ensemble (its members go with it)")
    prefix = store.rel(store.path(rid)) + "/"
    with store._write() as db:
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
            (store.root / p).unlink()
    for g in gone:
        folder = store.path(g)
        if folder.exists() and not any(f.is_file() for f in folder.rglob("*")):
            shutil.rmtree(folder, ignore_errors=True)
    return gone
