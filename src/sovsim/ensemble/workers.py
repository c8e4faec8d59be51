"""Where members run: in this process, in local worker processes, or on a Dask cluster.
Workers only compute; results come back to the calling process, which stores them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sovsim.errors import SovsimError
from sovsim.params import ParameterSet
from sovsim.scenario import Scenario

CONNECT_TIMEOUT = "10s"  # how long to try reaching a Dask scheduler


def simulate_member(scenario: Scenario, params: ParameterSet, overrides: dict[str, float],
                    weather: np.ndarray | None, households: tuple[int, int] | None = None
                    ) -> Any:
    """One member: the coarse model with ``overrides`` and, if given, this weather; with
    ``households`` (rows, seed) the household engine, returning (records, its summary)."""
    from sovsim.engine.simulation import simulate
    from sovsim.inputs import load_inputs
    from sovsim.mechanisms.context import Inputs

    base = load_inputs("main")
    inputs = base if weather is None else Inputs(np.asarray(weather), base.world_grain_price,
                                                 base.first_year)
    p = params.with_overrides(overrides)
    if households is None:
        return simulate(scenario, p, inputs)
    from sovsim.population.engine import simulate_households
    from sovsim.population.tables import member_summary

    records, out = simulate_households(scenario, p, inputs, households=households[0],
                                       seed=households[1])
    return records, member_summary(out.tables)


_WORKER: dict[str, Any] = {}


def _init_worker(scenarios: list[Scenario], params: ParameterSet) -> None:
    _WORKER["scenarios"], _WORKER["params"] = scenarios, params


def _local_task(k: int, overrides: dict, weather, households) -> Any:
    return simulate_member(_WORKER["scenarios"][k], _WORKER["params"], overrides, weather,
                           households)


def _dask_task(scenarios: list[Scenario], params: ParameterSet, k: int, overrides: dict,
               weather, households) -> Any:
    return simulate_member(scenarios[k], params, overrides, weather, households)


def execute(tasks: list[tuple[Any, int, dict, Any, Any]], scenarios: list[Scenario],
            params: ParameterSet, *, workers: int = 1, scheduler: Any = None,
            on_result: Callable[[Any, Any], None]) -> None:
    """Run ``tasks`` (key, scenario index, overrides, weather, households or None) and hand
    each result to ``on_result`` in this process, as it completes: in this process
    (``workers == 1``), in ``workers`` local processes, or on a Dask cluster (``scheduler``)."""
    if scheduler is not None:
        return _execute_dask(tasks, scenarios, params, scheduler, on_result)
    if workers == 1:
        for key, k, ov, w, hh in tasks:
            on_result(key, simulate_member(scenarios[k], params, ov, w, hh))
        return None
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # forkserver, not fork: the caller may run threads (a progress bar, a Dask client) and
    # forking a threaded process can copy a held lock; the server is a fresh process that
    # imports sovsim once and forks the workers from there.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["sovsim.ensemble"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=_init_worker, initargs=(scenarios, params)) as pool:
        pending = {pool.submit(_local_task, k, ov, w, hh): key for key, k, ov, w, hh in tasks}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    on_result(pending.pop(fut), fut.result())
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return None


def connect(scheduler: Any):
    """A ``distributed.Client`` for an address (or the client given); a clear error when
    the scheduler cannot be reached."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a dependency
        raise SovsimError("--scheduler needs dask.distributed: pip install 'dask[distributed]'"
                          ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler:
        raise SovsimError(f"--scheduler {scheduler!r}: expected an address like "
                          "tcp://host:8786")
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise SovsimError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                          f"({type(exc).__name__}: {exc})") from None


def _execute_dask(tasks, scenarios, params, scheduler, on_result) -> None:
    from distributed import as_completed

    client, owned = connect(scheduler)
    try:
        sc_f, p_f = client.scatter([scenarios, params], broadcast=True, hash=False)
        futures = {}
        for key, k, ov, w, hh in tasks:
            fut = client.submit(_dask_task, sc_f, p_f, k, ov, w, hh, pure=False)
            futures[fut] = key
        for fut in as_completed(list(futures)):
            on_result(futures[fut], fut.result())
    finally:
        if owned:
            client.close()
