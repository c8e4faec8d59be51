"""Benchmark: wall time of one coarse 1921-1940 run (prints figures; never a test).

    python benchmarks/bench_coarse.py [RUNS]

The first run in a fresh checkout compiles the kernels (numba, about 20 s, then cached on
disk); the warm-up run below takes that out of the figures. ``compiled`` says whether numba
was used (without it the same code runs as plain numpy and Python, far slower).
"""

import json
import sys
import time

import numpy as np

import sovsim
from sovsim.compiled import numba
from sovsim.engine.simulation import simulate
from sovsim.inputs import load_inputs
from sovsim.params import load_parameters


def main(runs: int = 30) -> dict:
    sc, p, inputs = sovsim.load_scenario("historical"), load_parameters(), load_inputs()
    simulate(sc, p, inputs)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        simulate(sc, p, inputs)
        times.append(time.perf_counter() - t0)
    out = {"runs": runs, "median_ms": 1000 * float(np.median(times)),
           "best_ms": 1000 * float(np.min(times)), "target_ms": 25,
           "compiled": numba is not None and not numba.config.DISABLE_JIT}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
