"""Where members run: in this process, in local worker processes, or on a Dask cluster.
Workers only compute; results come back to the calling process, which stores them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sovsim.params import ParameterSet
from sovsim.scenario import Scenario


def simulate_member(scenario: Scenario, params: ParameterSet, overrides: dict[str, float],
                    weather: np.ndarray | None, households: tuple[int, int] | None = None
                    ) -> Any:
    """One member: the coarse model with ``overrides`` and, if given, this weather; with
    ``households`` (rows, seed) the household engine, returning (records, its summary)."""
    if households is None:
        return simulate_members(scenario, params, [(overrides, weather)])[0]
    from sovsim.households.engine import simulate_households
    from sovsim.households.tables import member_summary

    records, out = simulate_households(scenario, params.with_overrides(overrides),
                                       _inputs(weather), households=households[0],
                                       seed=households[1])
    return records, member_summary(out.tables)


def simulate_members(scenario: Scenario, params: ParameterSet,
                     members: list[tuple[dict[str, float], np.ndarray | None]],
                     annual: bool = False, threads: bool = True) -> list:
    """Coarse members (overrides, weather or None), run as one batch of the compiled engine
    (``engine.simulation.simulate_stacked``): a member's records are those it gets alone.
    With ``annual`` each member's annual values (``bands.annualize``), made here for the whole
    batch at once: a tenth of the monthly records to send back. ``threads``: the batch on
    numba's threads, or on the calling thread alone."""
    from sovsim.engine.simulation import simulate_stacked
    from sovsim.results import Results

    rec = simulate_stacked(scenario, [params.with_overrides(ov) for ov, _ in members],
                           [w for _, w in members], _inputs(None), threads)
    if annual:
        rec = {name: Results._annualize(name, arr) for name, arr in rec.items()}
    return [{name: arr[m] for name, arr in rec.items()} for m in range(len(members))]


def _inputs(weather: np.ndarray | None):
    from sovsim.inputs import load_inputs
    from sovsim.mechanisms.context import Inputs

    base = load_inputs("main")
    return base if weather is None else Inputs(np.asarray(weather), base.world_grain_price,
                                               base.first_year)


BATCH = 64  # coarse members in one task at most


def batches(tasks: list[tuple[Any, int, dict, Any, Any]], workers: int) -> list[list]:
    """``tasks`` grouped into the tasks that run: consecutive coarse members of one scenario
    go together (up to BATCH, and small enough to keep every worker busy); a household
    member runs alone. Grouping changes no number: a member's run is its own."""
    size = max(1, min(BATCH, -(-len(tasks) // (4 * workers))))
    out: list[list] = []
    for task in tasks:
        last = out[-1] if out else None
        if (last is not None and task[4] is None and last[-1][4] is None
                and last[-1][1] == task[1] and len(last) < size):
            last.append(task)
        else:
            out.append([task])
    return out


_WORKER: dict[str, Any] = {}


def _init_worker(scenarios: list[Scenario], params: ParameterSet) -> None:
    _WORKER["scenarios"], _WORKER["params"] = scenarios, params


def _run_batch(scenarios: list[Scenario], params: ParameterSet, batch: list,
               annual: bool, threads: bool = True) -> list:
    """The results of a batch of tasks (key, scenario index, overrides, weather, households),
    in order; coarse members' as annual values if ``annual``, on numba's threads if
    ``threads``."""
    _, k, _, _, households = batch[0]
    if households is not None:
        return [simulate_member(scenarios[k], params, ov, w, hh) for _, _, ov, w, hh in batch]
    return simulate_members(scenarios[k], params, [(ov, w) for _, _, ov, w, _ in batch],
                            annual, threads)


# In worker processes and Dask tasks a coarse batch runs on the calling thread: the workers
# share the cores among themselves (and a Dask worker may run tasks on several threads).
def _local_task(batch: list, annual: bool) -> list:
    return _run_batch(_WORKER["scenarios"], _WORKER["params"], batch, annual, threads=False)


def _dask_task(expected: dict[str, str], scenarios: list[Scenario], params: ParameterSet,
               annual: bool, batch: list) -> list:
    from sovsim.ensemble.cluster import check_here

    check_here(expected)  # a worker of another version fails here, before computing
    return _run_batch(scenarios, params, batch, annual, threads=False)


def execute(tasks: list[tuple[Any, int, dict, Any, Any]], scenarios: list[Scenario],
            params: ParameterSet, *, workers: int = 1, scheduler: Any = None,
            on_result: Callable[[Any, Any], None], annual: bool = False) -> None:
    """Run ``tasks`` (key, scenario index, overrides, weather, households or None) and hand
    each result to ``on_result`` in this process, as its batch completes: in this process
    (``workers == 1``), in ``workers`` local processes, or on a Dask cluster (``scheduler``).
    Coarse members go in batches (``batches``); with ``annual`` their results are their
    annual values, not their monthly records."""
    if scheduler is not None:
        return _execute_dask(tasks, scenarios, params, scheduler, on_result, annual)
    if workers == 1:
        for batch in batches(tasks, 1):
            for task, result in zip(batch, _run_batch(scenarios, params, batch, annual)):
                on_result(task[0], result)
        return None
    _execute_local(tasks, scenarios, params, workers, on_result, annual)
    return None


def _execute_local(tasks, scenarios, params, workers, on_result, annual) -> None:
    """Batches on ``workers`` local processes (``pool.run_jobs``: Ctrl-C or an error stops
    every worker within seconds; workers exit by themselves if this process is killed)."""
    from sovsim.uncertainty.pool import run_jobs

    todo = batches(tasks, workers)

    def done(idx: int, result: list) -> None:
        for task, res in zip(todo[idx], result):
            on_result(task[0], res)

    run_jobs([(_local_task, (batch, annual)) for batch in todo], workers=workers,
             on_done=done, initializer=_init_worker, initargs=(scenarios, params),
             preload=["sovsim.ensemble"])


def connect(scheduler: Any):
    """A ``distributed.Client`` for an address (or the client given) and whether this call
    owns it; one clear error when the scheduler cannot be reached (``cluster.connect``)."""
    from sovsim.ensemble.cluster import connect as _connect

    return _connect(scheduler)


def _execute_dask(tasks, scenarios, params, scheduler, on_result, annual) -> None:
    """The batches on a Dask cluster: its workers checked first (the same sovsim, sources,
    data and libraries as this process, else refused by name), then each result handed to
    ``on_result`` here as its batch completes (``cluster.run``)."""
    from sovsim.ensemble import cluster
    from sovsim.fingerprint import describe

    with cluster.session(scheduler) as (client, address):
        expected = describe()
        workers = cluster.check_workers(client, expected)
        sc_f, p_f = client.scatter([scenarios, params], broadcast=True, hash=False)

        def on_batch(batch: list, results: list) -> None:
            for task, result in zip(batch, results):
                on_result(task[0], result)

        cluster.run(client, address, _dask_task, (expected, sc_f, p_f, annual),
                    batches(tasks, max(1, len(workers))), on_batch)
