"""Many independent model evaluations on local processes, results in input order.

Used by sensitivity analysis (``sovsim sensitivity``) and the checks of a calibration
(``sovsim calibrate --method abc``). Each item is evaluated by a picklable function (a
module-level function or a ``functools.partial`` of one); items go to the workers in chunks so
that the start-up cost of a process is paid once per chunk, not per run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any


def default_workers() -> int:
    """The processes to use when none are asked for: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _chunk(func: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    return [func(item) for item in items]


def parallel_map(func: Callable[[Any], Any], items: Sequence[Any], *, workers: int = 1,
                 chunksize: int = 8,
                 progress: Callable[[int], None] | None = None) -> list[Any]:
    """``[func(x) for x in items]`` on ``workers`` local processes (in this process when 1).

    Parameters
    ----------
    func : picklable callable of one item
    items : the inputs, evaluated independently
    workers : processes; 1 runs here, in order
    chunksize : items sent to a worker at a time
    progress : called with the number of items done after each chunk (or item, when 1 worker)

    Returns
    -------
    list : the results in the order of ``items``
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    items = list(items)
    if workers == 1 or len(items) <= 1:
        out = []
        for i, item in enumerate(items):
            out.append(func(item))
            if progress:
                progress(i + 1)
        return out
    chunks = [(start, items[start:start + chunksize]) for start in range(0, len(items), chunksize)]
    results: list[Any] = [None] * len(items)
    done = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_chunk, func, chunk): start for start, chunk in chunks}
        for fut in as_completed(futures):
            start = futures[fut]
            values = fut.result()
            results[start:start + len(values)] = values
            done += len(values)
            if progress:
                progress(done)
    return results
