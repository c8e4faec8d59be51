"""Benchmark: ensembles on a real Dask cluster (prints figures; never a test).

    python benchmarks/bench_cluster.py [COARSE_MEMBERS] [HOUSEHOLD_MEMBERS] [HOUSEHOLDS]

Starts `dask scheduler` and `dask worker --nthreads 1` processes on loopback, as a user would
(issue 22), and measures:

- wall time of an ensemble of coarse members (nothing stored: members send back their annual
  values) and of household members (``--households``; stored: members send back monthly
  records and a household summary), in one local process, and on the cluster with 1 and
  with 2 worker processes; the efficiency of 2 against 1 (rate with 2 / (2 x rate with 1));
- the bytes a member sends back (Dask's serialisation of its result), per kind;
- the cluster's cost per task (a task that does nothing, submitted and gathered);
- the per-member cost of the calling process (receiving, annualising, storing).

Then prints a modelled throughput on more machines from these figures (labelled as
modelled: nothing is measured on more than this machine). Workers are warmed with one small
ensemble first (loading the compiled month) and that time is left out, as on a long-lived
cluster. The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from sovsim import ensemble


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """`dask scheduler` and ``n`` `dask worker` processes (process groups, killed on exit)."""

    def __init__(self, n: int, logs: str):
        dask = shutil.which("dask")
        if dask is None:
            raise SystemExit("the `dask` command is not installed")
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.procs = []
        log = open(os.path.join(logs, f"cluster-{n}.log"), "w")  # noqa: SIM115
        self.procs.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        for i in range(n):
            self.procs.append(subprocess.Popen(
                [dask, "worker", self.address, "--nthreads", "1", "--name", f"w{i}",
                 "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
        try:
            self._wait(port, n)
        except BaseException:
            self.__exit__()
            raise

    def _wait(self, port: int, n: int) -> None:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with Client(self.address, timeout=30, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=120)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _wall(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _bytes(obj) -> int:
    from distributed.protocol import serialize_bytelist

    return sum(len(memoryview(b).cast("B")) for b in serialize_bytelist(obj))


def member_bytes(households: int) -> dict:
    """Bytes one member sends back, as Dask serialises it."""
    from sovsim.api import _shipped_parameters
    from sovsim.ensemble.workers import simulate_member, simulate_members
    from sovsim.scenario import load_scenario

    sc, p = load_scenario("historical"), _shipped_parameters()
    annual = simulate_members(sc, p, [({}, None)], annual=True, threads=False)[0]
    monthly = simulate_members(sc, p, [({}, None)], annual=False, threads=False)[0]
    hh = simulate_member(sc, p, {}, None, (households, 1))
    return {"coarse_annual_values": _bytes(annual), "coarse_monthly_records": _bytes(monthly),
            f"households_{households}_records_and_summary": _bytes(hh)}


def task_overhead(address: str, n: int = 400) -> float:
    """Seconds per task for tasks that do nothing: submit, run, gather, release."""
    from distributed import Client

    with Client(address, set_as_default=False) as c:
        c.gather(c.map(abs, range(-20, 0), pure=False))  # warm
        t0 = time.perf_counter()
        futs = c.map(abs, range(-n, 0), pure=False)
        c.gather(futs)
        dt = time.perf_counter() - t0
        del futs
    return dt / n


def main(coarse: int = 2000, hh_members: int = 8, households: int = 2000) -> list[dict]:
    load = os.getloadavg()
    rows: list[dict] = []
    tmp = tempfile.mkdtemp(prefix="sovsim-bench-cluster-")
    coarse_kw = {"members": coarse, "seed": 11, "store": False}

    def hh_kw(tag: str) -> dict:
        return {"members": hh_members, "households": households, "seed": 11,
                "store": os.path.join(tmp, f"store-{tag}")}

    try:
        ensemble.run("historical", members=2, store=False)  # warm this process
        ensemble.run("historical", members=1, households=households, store=False)
        rows.append({"setting": "local, 1 process", "workers": 1,
                     "coarse_s": _wall(lambda: ensemble.run("historical", **coarse_kw)),
                     "households_s": _wall(lambda: ensemble.run("historical",
                                                                **hh_kw("local")))})
        overhead = {}
        for n in (1, 2):
            with Cluster(n, tmp) as cl:
                # warm the workers: each loads the compiled month once
                ensemble.run("historical", members=4 * n, households=households, store=False,
                             scheduler=cl.address)
                ensemble.run("historical", members=8 * n, store=False, scheduler=cl.address)
                rows.append({
                    "setting": f"dask scheduler + {n} dask worker", "workers": n,
                    "coarse_s": _wall(lambda a=cl.address: ensemble.run(
                        "historical", scheduler=a, **coarse_kw)),
                    "households_s": _wall(lambda a=cl.address, n=n: ensemble.run(
                        "historical", scheduler=a, **hh_kw(f"dask{n}")))})
                overhead[n] = task_overhead(cl.address)
        for r in rows:
            r["coarse_members_per_s"] = round(coarse / r["coarse_s"], 1)
            r["household_members_per_s"] = round(hh_members / r["households_s"], 3)
            r["coarse_s"], r["households_s"] = round(r["coarse_s"], 2), round(r["households_s"], 2)
        one, two = rows[1], rows[2]
        eff = {k: round(two[k] / (2 * one[k]), 2)
               for k in ("coarse_members_per_s", "household_members_per_s")}
        sizes = member_bytes(households)
        # the calling process's cost of storing a member (receiving monthly records,
        # annualising, writing): stored less unstored, per member, coarse, in this process
        n_st = 200
        stored = _wall(lambda: ensemble.run("historical", members=n_st, seed=12,
                                            store=os.path.join(tmp, "store-cost")))
        bare = _wall(lambda: ensemble.run("historical", members=n_st, seed=12, store=False))
        store_cost = max(stored - bare, 0.0) / n_st
        local_hh = rows[0]["households_s"] / hh_members
        summary = {
            "load_average_1_5_15min": [round(x, 2) for x in load],
            "cores": os.cpu_count(), "coarse_members": coarse, "household_members": hh_members,
            "households_per_member": households,
            "efficiency_2_vs_1_workers": eff,
            "task_overhead_ms": {f"{n}_workers": round(1000 * s, 2) for n, s in overhead.items()},
            "bytes_per_member": sizes,
            "household_member_seconds_local": round(local_hh, 2),
            "client_store_ms_per_member": round(1000 * store_cost, 2),
        }
        for r in rows:
            print(json.dumps(r))
        print(json.dumps(summary))
        print_model(summary, rows)
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def print_model(summary: dict, rows: list[dict]) -> None:
    """MODELLED throughput on M machines of C cores: every core a worker process, compute
    per member as measured with one worker; the calling process receives each member's
    bytes over a 1 Gbit/s link (assumed, not measured) and pays the measured per-task cost
    of the scheduler, and (stored ensembles) the measured cost of storing a member; the
    throughput is the least of compute, scheduler, network and storing."""
    one = rows[1]
    c_coarse = one["coarse_s"] / summary["coarse_members"]  # s per member on one worker
    c_hh = one["households_s"] / summary["household_members"]
    task = summary["task_overhead_ms"]["1_workers"] / 1000
    link = 1e9 / 8  # bytes/s, an assumed 1 Gbit/s network
    b = summary["bytes_per_member"]
    store = max(summary["client_store_ms_per_member"] / 1000, 1e-9)
    hh_key = next(k for k in b if k.startswith("households_"))
    print("MODELLED (not measured) members per second on M machines x 32 cores:")
    for machines in (1, 4, 16, 64):
        cores = machines * 32
        coarse = min(cores / c_coarse, 64 / task, link / b["coarse_annual_values"])
        coarse_stored = min(cores / c_coarse, 64 / task, link / b["coarse_monthly_records"],
                            1 / store)
        hh = min(cores / c_hh, 1 / task, link / b[hh_key], 1 / store)
        print(json.dumps({"machines": machines, "worker_cores": cores,
                          "coarse_unstored_members_per_s_modelled": round(coarse),
                          "coarse_stored_members_per_s_modelled": round(coarse_stored),
                          "household_members_per_s_modelled": round(hh, 1)}))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
