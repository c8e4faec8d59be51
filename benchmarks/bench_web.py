"""Benchmark: latency of coarse run requests to the classroom app under concurrent clients.

Starts ``sovsim serve`` in a subprocess on loopback (worker processes: one per core; the
per-client rate limit off, since every client here comes from 127.0.0.1), then CLIENTS
threads each send REQUESTS run requests back to back. Every request carries a scenario no
other request has sent (a distinct export target), so none is answered from the app's cache;
a second pass repeats one scenario to show the cached path. Prints p50, p95, p99 (ms) and
the server's resident memory (after warm-up, peak, end) as JSON; any status but 200 stops it.
Target (issue 5): p95 <= 300 ms with 20 clients.

    python benchmarks/bench_web.py [CLIENTS] [REQUESTS] [plain|httpx]

The clients are threads of this process on the same two cores as the server, so what a
client spends per request is taken from the server: ``plain`` (the default) sends requests on
keep-alive connections of the standard library's ``http.client`` (about 1 ms of CPU a
request); ``httpx`` (the first version of this benchmark) spends about 11. The JSON says which
client ran and what it cost (``client_cpu_ms_per_request``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import httpx
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _body(i: int) -> dict:
    # t per agricultural year, distinct per request: a different scenario content hash each time
    return {"scenario": {"name": f"bench-{i}", "extends": "historical", "changes": [
        {"date": "1930-07", "instrument": "grain_export_target_t", "value": 1000.0 + i}]}}


def _post_httpx(url: str):
    c = httpx.Client(timeout=120)

    def post(body: dict) -> tuple[int, bytes]:
        r = c.post(url + "/api/run", json=body)
        return r.status_code, r.content

    return post, c.close


def _post_plain(url: str):
    """A keep-alive connection of the standard library: a load generator should cost the
    machine little (httpx spends about 11 ms of CPU a request here, on the cores the server
    needs)."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)

    def post(body: dict) -> tuple[int, bytes]:
        conn.request("POST", "/api/run", body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()

    return post, conn.close


CLIENTS = {"plain": _post_plain, "httpx": _post_httpx}


def _pass(url: str, clients: int, requests: int, distinct: bool, kind: str = "plain"
          ) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(k: int) -> None:
        post, close = CLIENTS[kind](url)
        try:
            for j in range(requests):
                body = _body(k * requests + j) if distinct else _body(-1)
                t0 = time.perf_counter()
                status, content = post(body)
                dt = time.perf_counter() - t0
                if status != 200:
                    errors.append(f"{status}: {content[:200]!r}")
                with lock:
                    times.append(dt)
        finally:
            close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]}")
    return times


def _stats(times: list[float]) -> dict:
    ms = 1000 * np.asarray(times)
    return {"requests": len(ms), "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99))}


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Memory(threading.Thread):
    """Samples the server's resident memory (its process and its workers) every 0.2 s: the
    load test's memory must stay bounded (issue 19), so the JSON gives it after warm-up, at
    its peak and at the end."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.proc, self.samples, self.stop = psutil.Process(pid), [], threading.Event()

    def rss(self) -> int:
        import psutil

        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.samples.append(self.rss())


def main(clients: int = 20, requests: int = 5, kind: str = "plain") -> dict:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "sovsim.cli", "serve", "--port", str(port),
                             "--rate", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(url + "/api/scenarios", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.2)
        _pass(url, os.cpu_count() or 2, 2, distinct=True, kind=kind)  # warm every worker
        mem = _Memory(proc.pid)
        warm_mb = mem.rss() / 1e6
        mem.start()
        t0, cpu0 = time.perf_counter(), _cpu_s()
        fresh = _pass(url, clients, requests, distinct=True, kind=kind)
        wall, client_cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        cached = _pass(url, clients, requests, distinct=False, kind=kind)
        mem.stop.set()
        mem.join()
        memory = {"after_warm_up_mb": warm_mb, "peak_mb": max(mem.samples, default=0) / 1e6,
                  "end_mb": mem.rss() / 1e6}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    out = {"clients": clients, "client": kind, "cores": os.cpu_count(), "target_p95_ms": 300,
           "uncached": {**_stats(fresh), "runs_per_s": len(fresh) / wall,
                        "client_cpu_ms_per_request": 1000 * client_cpu / len(fresh)},
           "cached": _stats(cached), "server_memory": memory,
           "non_200": 0}  # any other status stops the benchmark (``_pass``)
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]), *sys.argv[3:4])
