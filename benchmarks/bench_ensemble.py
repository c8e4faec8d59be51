"""Benchmark: ensembles through the command line as a user runs them (prints figures; never a
test).

    python benchmarks/bench_ensemble.py [--members 2000] [--rounds 1] [--big 100000] [--dask]

Each setting runs ``sovsim ensemble historical --members N --out DIR`` as a fresh process
(process start, imports and loading the compiled model from numba's warm cache included; a
warm-up run first makes sure the cache is warm), into a fresh results store:

- ``no store``: ``--no-store``;
- ``store``: the default store (annual values, columnar part files);
- ``store, 2 workers``: the same with ``--workers 2``.

Each prints one JSON line: seconds, runs per minute, the store's bytes and files, bytes per
member, the peak memory of the process tree (RSS summed over the command and its workers,
sampled every 0.1 s), the load average when it started. Then the ratios the issue asks about
(store / no store, 2 workers / 1). ``--big N`` runs one N-member ensemble with the store and
reports the same (issue 18: 100,000 members within 4 GB of memory and under 3 GB of disk).
``--dask`` adds the in-process rows on a Dask LocalCluster (1..2 workers).

Targets (issue 18): >= 10,000 runs a minute for 2,000 coarse members with the default store
on 2 cores; <= 25 KB a member; --workers 2 not slower than one process. The machine these
run on is shared: absolute times vary by up to a factor of two; compare ratios in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _tree_rss(proc) -> int:
    import psutil

    try:
        p = psutil.Process(proc.pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += q.memory_info().rss
    return total


def _du(root: Path) -> tuple[int, int]:
    size = files = 0
    for p in root.rglob("*"):
        if p.is_file():
            size += p.stat().st_size
            files += 1
    return size, files


def cli_run(label: str, members: int, *, store: bool, workers: int = 1, seed: int = 11,
            work: Path) -> dict:
    """One ``sovsim ensemble`` command, timed from process start to exit."""
    st = work / f"store-{label.replace(' ', '_').replace(',', '')}"
    out = work / "out"
    shutil.rmtree(st, ignore_errors=True)
    cmd = [sys.executable, "-m", "sovsim.cli", "ensemble", "historical", "--members",
           str(members), "--seed", str(seed), "--out", str(out), "--workers", str(workers)]
    cmd += ["--store", str(st)] if store else ["--no-store"]
    load = os.getloadavg()[0]
    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc))
        time.sleep(0.1)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{label}: failed ({proc.returncode}): "
                         f"{proc.stderr.read().decode()[-2000:]}")
    size, files = _du(st) if store else (0, 0)
    row = {"setting": label, "members": members, "workers": workers,
           "seconds": round(dt, 2), "runs_per_minute": round(60 * members / dt),
           "store_bytes": size, "store_files": files,
           "bytes_per_member": round(size / members) if store else None,
           "peak_rss_mb": round(peak / 1e6), "load_average_at_start": round(load, 2),
           "cores": os.cpu_count()}
    shutil.rmtree(st, ignore_errors=True)
    print(json.dumps(row), flush=True)
    return row


def dask_rows(members: int) -> None:
    """The in-process Dask rows (a LocalCluster of 1..2 single-threaded workers)."""
    from distributed import Client, LocalCluster

    from sovsim import ensemble

    for k in (1, 2):
        with LocalCluster(n_workers=k, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            ensemble.run("historical", members=k, store=False, scheduler=client)  # warm
            t0 = time.perf_counter()
            ensemble.run("historical", members=members, seed=11, store=False,
                         scheduler=client)
            dt = time.perf_counter() - t0
            print(json.dumps({"setting": "dask LocalCluster (in-process call)", "workers": k,
                              "members": members, "seconds": round(dt, 2),
                              "runs_per_minute": round(60 * members / dt)}), flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--big", type=int, default=0, help="also one ensemble of this many members")
    ap.add_argument("--dask", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sovsim-bench-") as d:
        work = Path(d)
        subprocess.run([sys.executable, "-m", "sovsim.cli", "ensemble", "historical",
                        "--members", "2", "--no-store", "--out", str(work / "warm")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for r in range(args.rounds):
            rows = {}
            for label, kw in (("no store", {"store": False}), ("store", {"store": True}),
                              ("store, 2 workers", {"store": True, "workers": 2})):
                rows[label] = cli_run(label, args.members, seed=11 + r, work=work, **kw)
            print(json.dumps({
                "round": r + 1,
                "store_over_no_store_time": round(rows["store"]["seconds"]
                                                  / rows["no store"]["seconds"], 2),
                "two_workers_over_one_time": round(rows["store, 2 workers"]["seconds"]
                                                   / rows["store"]["seconds"], 2),
                "target_runs_per_minute": 10_000, "target_bytes_per_member": 25_000}),
                flush=True)
        if args.big:
            cli_run("store, big", args.big, store=True, seed=5, work=work)
        if args.dask:
            dask_rows(args.members)


if __name__ == "__main__":
    main()
