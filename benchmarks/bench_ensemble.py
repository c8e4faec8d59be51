"""Benchmark: ensemble throughput and scaling (prints figures; never a test).

    python benchmarks/bench_ensemble.py [MEMBERS] [MAX_WORKERS]

Times an ensemble of MEMBERS coarse 1921-1940 runs of the historical scenario (parameters
drawn from their priors, nothing stored) in this process, in local worker processes, and on
a Dask LocalCluster of 1..MAX_WORKERS single-threaded worker processes; then once with the
results store, to show what recording costs. Prints one JSON line per setting: seconds, runs
per minute, and scaling efficiency (rate with k workers / (k x rate with 1 worker of the
same kind)). The issue's target is 10,000 coarse runs per minute on 2 cores. Coarse members
run in batches of up to 64, one compiled call each (``engine.simulation.simulate_batch``):
on numba's threads in this process, on one thread in each worker process.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from sovsim import ensemble


def _time(label: str, members: int, workers: int, **kw) -> dict:
    t0 = time.perf_counter()
    ensemble.run("historical", members=members, seed=11, store=kw.pop("store", False),
                 workers=kw.pop("local_workers", 1), **kw)
    dt = time.perf_counter() - t0
    return {"setting": label, "workers": workers, "members": members, "seconds": round(dt, 2),
            "runs_per_minute": round(60 * members / dt, 1)}


def main(members: int = 24, max_workers: int = 2) -> list[dict]:
    from distributed import Client, LocalCluster

    rows = []
    load = os.getloadavg()[0]
    ensemble.run("historical", members=1, store=False)  # warm caches (parameters, inputs)
    rows.append(_time("in-process", members, 1))
    for k in range(2, max_workers + 1):
        rows.append(_time("local processes", members, k, local_workers=k))
    for k in range(1, max_workers + 1):
        with LocalCluster(n_workers=k, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            ensemble.run("historical", members=k, store=False, scheduler=client)  # warm workers
            rows.append(_time("dask LocalCluster", members, k, scheduler=client))
    with tempfile.TemporaryDirectory() as d:
        rows.append(_time("in-process, stored", members, 1, store=d))
    base = {r["setting"]: r["runs_per_minute"] for r in rows if r["workers"] == 1}
    base["local processes"] = base["in-process"]
    for r in rows:
        ref = base.get(r["setting"])
        if ref:
            r["scaling_efficiency"] = round(r["runs_per_minute"] / (r["workers"] * ref), 2)
        r["cores"] = os.cpu_count()
        r["load_average_at_start"] = round(load, 2)
        r["target_runs_per_minute"] = 10_000
        print(json.dumps(r), flush=True)
    return rows


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
