"""Build time and peak memory of the synthetic population (``sovsim.population``).

Each size is built in a fresh Python process, so that the peak resident memory
(``ru_maxrss``) is that build's alone; the process first builds 1,000 households to load the
compiled kernel (numba's cache), then times the build itself.

Usage::

    python benchmarks/bench_population.py              # N = 1e6
    python benchmarks/bench_population.py --full       # and the full 25.6 million of 1928
    python benchmarks/bench_population.py --n 200000 --threads 1 --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numba
from sovsim.population import build_population, full_size
n = None if sys.argv[1] == "full" else int(sys.argv[1])
chunk = int(sys.argv[2])
t0 = time.perf_counter()
build_population(1000, seed=1)                       # load (or compile) the kernel
warm = time.perf_counter() - t0
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t0 = time.perf_counter()
pop = build_population(n, year=1928, seed=1, chunk_size=chunk)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"households": len(pop), "full": full_size(1928), "wall_s": wall,
                  "households_per_s": len(pop) / wall, "warmup_s": warm,
                  "peak_rss_bytes": peak, "rss_before_build_bytes": base,
                  "table_bytes": pop.nbytes, "threads": numba.get_num_threads(),
                  "chunk_size": chunk}))
"""


def run(n: str, chunk: int, threads: int | None) -> dict:
    env = dict(os.environ)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, "-c", CHILD, n, str(chunk)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append", help="households (repeatable)")
    ap.add_argument("--full", action="store_true", help="also the full 1928 population")
    ap.add_argument("--chunk", type=int, default=1 << 20, help="households per kernel call")
    ap.add_argument("--threads", type=int, default=None, help="NUMBA_NUM_THREADS")
    ap.add_argument("--json", action="store_true", help="one JSON object per size")
    args = ap.parse_args()
    sizes = [str(n) for n in (args.n or [1_000_000])] + (["full"] if args.full else [])
    for n in sizes:
        r = run(n, args.chunk, args.threads)
        if args.json:
            print(json.dumps(r))
            continue
        gib = 1024 ** 3
        print(f"N = {r['households']:>12,}  build {r['wall_s']:7.2f} s  "
              f"({r['households_per_s'] / 1e6:6.2f} M households/s, {r['threads']} threads)  "
              f"peak RSS {r['peak_rss_bytes'] / gib:5.2f} GiB  "
              f"(before build {r['rss_before_build_bytes'] / gib:4.2f}, "
              f"table {r['table_bytes'] / gib:4.2f} GiB)  warm-up {r['warmup_s']:.1f} s")


if __name__ == "__main__":
    main()
