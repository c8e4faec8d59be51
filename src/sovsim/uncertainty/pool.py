"""Local worker processes that stop when asked and never outlive their parent.

``run_jobs`` runs picklable jobs on worker processes and hands each result back in this
process as it comes; ``parallel_map`` is ``[func(x) for x in items]`` on top of it (used by
sensitivity analysis, ``sovsim sensitivity``, and the checks of a calibration, ``sovsim
calibrate --method abc``), items going to the workers in chunks so that the start-up cost of a
process is paid once per chunk, not per run. Ensembles run their members with ``run_jobs``.

Ctrl-C, SIGTERM turned into KeyboardInterrupt, or an error in a job stops every worker within
STOP_SECONDS (SIGTERM, then SIGKILL); a worker that dies is reported by name; and a worker
whose parent is gone (killed with -9) exits by itself (``watch_parent``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from sovsim.errors import SovsimError

WATCH_SECONDS = 0.5  # how often a worker process checks that its parent still runs
STOP_SECONDS = 3.0   # how long stopped workers get to exit before they are killed


def default_workers() -> int:
    """The processes to use when none are asked for: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def watch_parent(parent: int) -> None:
    """Make this worker process exit by itself when the process that started it is gone: the
    kernel's parent-death signal (Linux; the forkserver parent exits when the caller does)
    and a thread that checks every WATCH_SECONDS. Ctrl-C is the parent's to handle: the
    worker ignores SIGINT and is stopped by its parent."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    ppid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            try:
                os.kill(parent, 0)
                gone = os.getppid() != ppid
            except ProcessLookupError:
                gone = True
            except PermissionError:
                gone = False
            if gone:
                os._exit(70)

    threading.Thread(target=watch, name="sovsim-watch-parent", daemon=True).start()


def _serve(initializer, initargs, parent: int, inbox, outbox) -> None:
    """A worker process: runs jobs from ``inbox`` until it gets None, sending each result
    (or the error it raised) to ``outbox``."""
    import pickle

    watch_parent(parent)
    if initializer is not None:
        initializer(*initargs)
    while True:
        item = inbox.get()
        if item is None:
            return
        idx, func, args = item
        try:
            outbox.put((idx, True, func(*args)))
        except Exception as exc:  # sent back and raised in the parent
            try:
                pickle.dumps(exc)
            except Exception:  # an error that cannot travel: its text does
                exc = SovsimError(f"{type(exc).__name__}: {exc}")
            outbox.put((idx, False, exc))


def run_jobs(jobs: Sequence[tuple[Callable, tuple]], *, workers: int,
             on_done: Callable[[int, Any], None], initializer: Callable | None = None,
             initargs: tuple = (), preload: Sequence[str] = ()) -> None:
    """Run ``func(*args)`` for each job on ``workers`` local processes (forkserver: the
    caller may run threads, and forking a threaded process can copy a held lock), calling
    ``on_done(index, result)`` here as each finishes. An error in a job is raised here; an
    interrupt or error stops every worker before it propagates."""
    import multiprocessing as mp
    import queue

    ctx = mp.get_context("forkserver")
    if preload:
        ctx.set_forkserver_preload(list(preload))
    inbox, outbox = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_serve, name=f"sovsim-worker-{w}", daemon=True,
                         args=(initializer, initargs, os.getpid(), inbox, outbox))
             for w in range(min(workers, len(jobs)))]
    try:
        for p in procs:
            p.start()
        for idx, (func, args) in enumerate(jobs):
            inbox.put((idx, func, args))
        for _ in procs:
            inbox.put(None)
        left = len(jobs)
        while left:
            try:
                idx, ok, result = outbox.get(timeout=WATCH_SECONDS)
            except queue.Empty:
                dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
                if dead:
                    raise SovsimError(f"worker process {dead[0].name} died (exit code "
                                      f"{dead[0].exitcode})") from None
                continue
            if not ok:
                raise result
            on_done(idx, result)
            left -= 1
    finally:
        stop(procs)
        for q in (inbox, outbox):
            q.cancel_join_thread()
            q.close()


def stop(procs) -> None:
    """Stop worker processes: SIGTERM, then SIGKILL for those still there after
    STOP_SECONDS."""
    import time

    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1.0)


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
    starts = list(range(0, len(items), chunksize))
    results: list[Any] = [None] * len(items)
    done = 0

    def finished(idx: int, values: list) -> None:
        nonlocal done
        start = starts[idx]
        results[start:start + len(values)] = values
        done += len(values)
        if progress:
            progress(done)

    run_jobs([(_chunk, (func, items[s:s + chunksize])) for s in starts], workers=workers,
             on_done=finished)
    return results
