"""The command line of the results store: ``sovsim runs list|show|query|export|rm|gc|verify|
repair|migrate`` (registered on the app of ``sovsim.cli``; docs/ensembles.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from sovsim.cli.common import check_out_dir, console, err, say
from sovsim.cli.common import fail as _fail
from sovsim.cli.ensemble import STORE_HELP
from sovsim.errors import SovsimError
from sovsim.scenario.limits import file_stem

runs_app = typer.Typer(no_args_is_help=True, help="The results store: list, show, query, "
                       "export, rm, gc, verify, repair, migrate.")


def _open_store(store: Path | None, readonly: bool = False):
    """The store; ``readonly``: opened without writing (a store on a read-only medium)."""
    import os

    from sovsim.store import Store, default_dir

    root = store if store is not None else default_dir()
    if not readonly and root.exists() and not os.access(root, os.W_OK):
        readonly = True
    try:
        return Store(store, readonly=readonly, report=lambda m: err.print(m, highlight=False))
    except SovsimError as exc:
        _fail(exc)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} KB"


@runs_app.command("list")
def runs_list(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    all_: bool = typer.Option(False, "--all", help="also the members of ensembles"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Runs and ensembles in the store, oldest first, with their size on disk."""
    st = _open_store(store, readonly=True)
    try:
        kinds = ("run", "ensemble", "member") if all_ else ("run", "ensemble")
        entries = st.entries(kinds)
        sizes = st.sizes()
    except SovsimError as exc:
        _fail(exc)
    if as_json:
        rows = [{**{k: v for k, v in e.__dict__.items() if k != "location"},
                 "bytes": sizes.get(e.id, 0)} for e in entries]
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    t = Table(title=f"results store {st.root}")
    for col in ("id", "kind", "scenario", "members", "seed", "status", "created", "weather",
                "size"):
        t.add_column(col)
    for e in entries:
        done = len(st.members(e.id)) if e.kind == "ensemble" else None
        mem = "" if e.members is None else (f"{e.members}" if e.status == "complete"
                                            else f"{done}/{e.members}")
        w = e.manifest.get("weather", "")
        t.add_row(e.id, e.kind, escape(e.scenario), mem, "" if e.seed is None else str(e.seed),
                  e.status, e.created, w if isinstance(w, str) else f"drawn from {w['drawn_from']}",
                  _mb(sizes.get(e.id, 0)) if e.id in sizes else "")
    console.print(t)
    total = sum(sizes.values())
    console.print(f"{len(entries)} entries, {_mb(total)} in {len(st.files())} files "
                  "(`sovsim runs gc --older-than DAYS` removes old ones)", highlight=False)


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="an id (or its first characters) from `sovsim runs list`"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """The manifest of a run or ensemble, its files and (ensembles) its members."""
    st = _open_store(store, readonly=True)
    try:
        e = st.resolve(run_id)
        files = {p: b for p, (_, b) in st.files().items()
                 if p.startswith(st.rel(st.path(e.id)) + "/")}
        out = {"id": e.id, "kind": e.kind, "status": e.status, "created": e.created,
               "manifest": e.manifest, "path": str(st.path(e.id)), "location": e.location,
               "files": sorted({p.split("/")[3] for p in files}), "bytes": sum(files.values())}
        if e.kind == "ensemble":
            out["members_stored"] = len(st.members(e.id))
    except SovsimError as exc:
        _fail(exc)
    sys.stdout.write(json.dumps(out, indent=1) + "\n")


@runs_app.command("query")
def runs_query(
    run_id: str = typer.Argument(..., help="an ensemble id (or its first characters)"),
    variable: str = typer.Option(..., "--variable", help="a variable (docs/variables.md)"),
    region: str = typer.Option("USSR", "--region", help="USSR or a region"),
    period: list[str] | None = typer.Option(None, "--period", help="a year (repeatable; "
                                               "default every year)"),
    quantiles: bool = typer.Option(False, "--quantiles", help="5, 25, 50, 75, 95 % across "
                                   "members instead of every member"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """One variable of a stored ensemble, member by member (CSV on stdout), read from its
    columnar files without loading the rest."""
    from sovsim.store.query import query

    st = _open_store(store, readonly=True)
    try:
        table = query(st, run_id, variable=variable, region=region, period=period or None)
    except SovsimError as exc:
        _fail(exc)
    if quantiles:
        from sovsim.ensemble.bands import QUANTILES

        q = table.groupby("period")["value"].quantile(list(QUANTILES))
        table = q.rename("value").reset_index().rename(columns={"level_1": "quantile"})
        table.insert(1, "variable", variable)
        table.insert(2, "region", region)
    sys.stdout.write(table.to_csv(index=False))


@runs_app.command("export")
def runs_export(
    run_id: str = typer.Argument(..., help="an id (or its first characters)"),
    out: Path = typer.Option(..., "--out", help="directory to write to"),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet"),
    freq: str = typer.Option("annual", "--freq", help="runs: annual | monthly"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Write a stored run's tidy table, or an ensemble's bands and its members' annual table."""
    from sovsim.results import Results
    from sovsim.store import atomic_write, atomic_write_text

    if fmt not in ("csv", "parquet"):
        _fail(SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)"))
    check_out_dir(out)
    st = _open_store(store, readonly=True)
    try:
        e = st.resolve(run_id)
        out.mkdir(parents=True, exist_ok=True)
        stem = file_stem(e.scenario)
        tables = {}
        if e.kind == "ensemble":
            if e.status != "complete":
                raise SovsimError(f"ensemble {e.id} is partial ({len(st.members(e.id))} of "
                                  f"{e.members} members): rerun it to complete it")
            tables[f"{stem}_{e.id[:8]}_bands"] = st.bands(e.id)
            tables[f"{stem}_{e.id[:8]}_members_annual"] = _members_annual(st, e)
        else:
            res = Results(e.scenario, st.records(e.id), e.manifest)
            if freq not in ("annual", "monthly"):
                raise SovsimError(f"--freq: unknown {freq!r} (allowed: annual, monthly)")
            tables[f"{stem}_{e.id[:8]}_{freq}"] = res.annual() if freq == "annual" else res.monthly()
        for name, table in tables.items():
            path = atomic_write(out / f"{name}.{fmt}", lambda p, t=table: (
                t.to_csv(p, index=False) if fmt == "csv" else t.to_parquet(p, index=False)))
            say(f"wrote {path}")
        path = atomic_write_text(out / f"{stem}_{e.id[:8]}_manifest.json",
                                 json.dumps(e.manifest, indent=1))
        say(f"wrote {path}")
    except (SovsimError, OSError) as exc:
        _fail(exc)


def _members_annual(st, e):
    """Every member's annual values as a tidy table (scenario, member, period, variable,
    region, value, unit)."""
    import pandas as pd

    from sovsim.engine.accounts import BY_NAME
    from sovsim.ensemble.bands import REGION_LABELS, YEARS
    from sovsim.store import StoredAnnual

    annual = StoredAnnual(st, e.id, e.members)
    frames = []
    for var in annual:
        arr = annual[var]
        cols = len(REGION_LABELS) if BY_NAME[var].regional else 1
        n, ny = arr.shape[0], arr.shape[1]
        frames.append(pd.DataFrame({
            "scenario": e.scenario, "member": np.repeat(np.arange(n), ny * cols),
            "period": np.tile(np.repeat(YEARS.astype(str), cols), n), "variable": var,
            "region": np.tile(np.array(REGION_LABELS[:cols]), n * ny),
            "value": arr[:, :, :cols].reshape(-1), "unit": BY_NAME[var].unit}))
    return pd.concat(frames, ignore_index=True)


@runs_app.command("rm")
def runs_rm(
    run_ids: list[str] = typer.Argument(..., help="ids (or their first characters)"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Remove runs, or ensembles with the members no other ensemble uses."""
    st = _open_store(store)
    try:
        for rid in run_ids:
            e = st.resolve(rid)
            gone = st.remove(e.id)
            say(f"removed {e.kind} {e.id}" + (f" and {len(gone) - 1} members"
                                                         if len(gone) > 1 else ""))
    except SovsimError as exc:
        _fail(exc)


@runs_app.command("gc")
def runs_gc(
    older_than: float | None = typer.Option(None, "--older-than", help="also remove runs "
                                               "and ensembles created more than DAYS ago"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Remove what nothing uses: leftovers of killed writers (.*.partial), files no stored run
    uses; with --older-than, old runs and ensembles too."""
    from sovsim.store.maintenance import gc

    if older_than is not None and older_than < 0:
        _fail(SovsimError(f"--older-than {older_than}: a number of days >= 0"))
    st = _open_store(store)
    try:
        rep = gc(st, older_than)
    except SovsimError as exc:
        _fail(exc)
    for line in rep.actions:
        console.print(line, highlight=False)
    console.print(f"freed {_mb(rep.bytes)}", highlight=False)


@runs_app.command("verify")
def runs_verify(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Check every stored file against its checksum and the index against the files; one
    line per problem, naming the file; exit code 1 if any."""
    from sovsim.store.maintenance import verify

    st = _open_store(store, readonly=True)
    try:
        rep = verify(st)
    except SovsimError as exc:
        _fail(exc)
    for line in rep.problems:
        console.print(line, highlight=False, soft_wrap=True)
    console.print(f"checked {rep.checked} files ({_mb(rep.bytes)}): "
                  + ("all whole" if rep.ok else f"{len(rep.problems)} problems "
                     "(`sovsim runs repair` fixes them)"), highlight=False)
    if not rep.ok:
        raise typer.Exit(code=1)


@runs_app.command("repair")
def runs_repair(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Rebuild an unreadable index from the manifests and part files; drop files that fail
    their check (their members are computed again on the ensemble's next run); remove
    leftovers."""
    from sovsim.store.maintenance import repair

    try:
        rep = repair(store)
    except SovsimError as exc:
        _fail(exc)
    for line in rep.problems + rep.actions:
        console.print(line, highlight=False, soft_wrap=True)
    console.print("repaired" if rep.ok else "repaired; the problems above were left as they "
                  "are", highlight=False)


@runs_app.command("migrate")
def runs_migrate(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Bring a store of the first layout (a directory per member, no checksums) to the
    current one; its runs stay readable."""
    from sovsim.store.maintenance import migrate

    try:
        rep = migrate(store)
    except SovsimError as exc:
        _fail(exc)
    for line in rep.actions:
        console.print(line, highlight=False)
