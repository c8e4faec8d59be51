"""``sovsim bench --households N --months M``: the household engine's speed and memory,
beside this machine's memory bandwidth (a benchmark that prints figures; never a test).

The bandwidth is a STREAM-like triad (``a = b + s c`` over three float64 arrays of 2**25
elements, 768 MiB, on all threads; McCalpin, "Memory bandwidth and machine balance in current
high performance computers", IEEE TCCA Newsletter 1995) taken in the same process, best of
five. The roofline ratio is the ideal time (bytes the household passes read and write,
divided by that bandwidth) over the measured time of the household months: 1 would be a run
as fast as memory allows.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence

import numpy as np

from sovsim.errors import InputError
from sovsim.population._jit import parallel_jit, prange, threads

TRIAD_N = 1 << 25


@parallel_jit
def _triad(a, b, c, s):
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


def stream_triad(n: int = TRIAD_N, repeats: int = 5) -> float:
    """The best triad bandwidth of ``repeats`` in bytes per second (24 bytes an element:
    two reads, one write; the write-allocate read is not counted, as in STREAM)."""
    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    _triad(a, b, c, 3.0)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        _triad(a, b, c, 3.0)
        best = min(best, time.perf_counter() - t0)
    return 24.0 * n / best


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def bench_households(households: int | Sequence[int], months: int, *,
                     scenario: str = "historical", seed: int = 0, heterogeneity: bool = True,
                     repeat: int = 1, mesa_agents: int = 0) -> dict:
    """Run the household engine for ``months`` months and measure it.

    ``wall_s`` is the whole call (building the population included), ``run_s`` the months
    alone; ``household_months_per_s`` is households x months over ``run_s``. A warm-up run of
    a few thousand households first loads (or compiles) the kernels, so no compile time is
    counted. With ``repeat`` the run is made that many times and the fastest is reported
    (``run_s_all``: every one): on a shared machine the same run varies by a third from
    minute to minute, and the fastest is the one least disturbed (as ``timeit`` reports).

    Given several sizes (a sweep, for the flatness of throughput) they are run in rounds, each
    round every size once, so that the machine's slow minutes fall on every size alike; the
    result is ``{"sizes": [one entry per size], "flatness": the lowest throughput over the
    highest, "peak_rss_bytes": the process's peak (the largest size's)}``.

    With ``mesa_agents`` the result's ``mesa`` is ``mesa_comparison`` at that many agents,
    against the lowest of the sizes' rates."""
    from sovsim.households.engine import simulate_households
    from sovsim.params import load_parameters
    from sovsim.scenario import load_scenario

    single = isinstance(households, (int, np.integer)) and not isinstance(households, bool)
    sizes = [int(households)] if single else [int(n) for n in households]
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise InputError("sovsim bench", "repeat", f"{repeat!r} is not a whole number of at "
                         "least 1")
    if not sizes:
        raise InputError("sovsim bench", "households", "no size given", "one or more sizes")
    if isinstance(mesa_agents, bool) or not isinstance(mesa_agents, int) or mesa_agents < 0:
        raise InputError("sovsim bench", "mesa_agents", f"{mesa_agents!r} is not a whole "
                         "number of at least 0")
    sc = load_scenario(scenario)
    p = load_parameters()
    simulate_households(sc, p, households=min(*sizes, 5000), months=min(months, 13),
                        heterogeneity=heterogeneity, seed=seed)  # load the kernels
    runs: dict[int, list] = {n: [] for n in sizes}
    for _ in range(repeat):
        for n in sizes:
            t0 = time.perf_counter()
            _, out = simulate_households(sc, p, households=n, months=months,
                                         heterogeneity=heterogeneity, seed=seed)
            runs[n].append((out.facts["run_s"], time.perf_counter() - t0, out.facts))
            del out
    rss = peak_rss_bytes()
    bandwidth = stream_triad()
    found = [_summary(runs[n], months, bandwidth, heterogeneity, repeat) for n in sizes]
    rates = [f["household_months_per_s"] for f in found]
    extra = {"mesa": mesa_comparison(mesa_agents, min(rates))} if mesa_agents else {}
    if single:
        return {**found[0], "peak_rss_bytes": rss, **extra}
    return {"sizes": found, "flatness": min(rates) / max(rates), "peak_rss_bytes": rss,
            "months": months, "repeat": repeat, "threads": threads(), **extra}


MESA_FILE = "benchmarks/mesa_households.py"


def mesa_comparison(agents: int, engine_rate: float) -> dict:
    """The Mesa 3 model of the household rule (``benchmarks/mesa_households.py``) at
    ``agents`` agents against the same rule compiled, and against the household engine's
    rate ``engine_rate`` (its whole month); ``{"skipped": why}`` where Mesa is not installed or
    the file is not there (an installed package without its repository)."""
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("mesa") is None:
        return {"skipped": "Mesa is not installed (pip install mesa)"}
    path = Path(__file__).resolve().parents[3] / MESA_FILE
    if not path.is_file():
        return {"skipped": f"{MESA_FILE} is not there (run from the repository)"}
    spec = importlib.util.spec_from_file_location("sovsim_bench_mesa", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = module.compare(households=agents)
    found["engine_household_months_per_s"] = engine_rate
    found["engine_speedup"] = engine_rate / found["mesa_agent_months_per_s"]
    found["aim"] = 300
    return found


def _summary(runs: list, months: int, bandwidth: float, heterogeneity: bool, repeat: int
             ) -> dict:
    run_s, wall, facts = min(runs, key=lambda r: r[0])
    n = facts["households"]
    bytes_hm = facts["bytes_per_household_month"]
    ideal = bytes_hm * n * months / bandwidth
    return {
        "households": n, "months": months, "wall_s": wall, "build_s": facts["build_s"],
        "run_s": run_s, "household_months_per_s": n * months / run_s,
        "table_bytes": facts["table_bytes"],
        "bytes_per_household_month": bytes_hm, "triad_bytes_per_s": bandwidth,
        "roofline_ratio": ideal / run_s, "heterogeneity": heterogeneity,
        "threads": threads(), "passes": facts["passes"], "repeat": repeat,
        "run_s_all": [r[0] for r in runs],
    }
