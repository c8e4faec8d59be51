"""Ensembles on a Dask cluster (``sovsim ensemble ... --scheduler tcp://host:8786``).

- ``connect``: a client of the scheduler at an address, after checking the address and that
  something listens there (a bad address fails in a second with one line, not after the
  connect timeout with a traceback).
- ``check_workers``: every worker is asked for its ``fingerprint.describe()`` (sovsim's
  version, the hash of its sources and of its data files, Python and the numerical
  libraries); any that differs from this process is named and the ensemble refused before a
  task runs. Every task checks again on its worker (``check_here``), so a worker that joins
  later with another version fails its task instead of returning other numbers: a cluster of
  mixed versions never produces mixed results.
- ``run``: submits the batches, hands each result to the caller as it arrives (once: a batch
  recomputed after a worker died is not delivered twice) and turns the ways a cluster fails
  into one line: the scheduler gone, every worker gone, a worker refused.

Dask itself reschedules the tasks of a worker that dies (up to
``distributed.scheduler.allowed-failures`` times per task); results already handed back are
released at once, so they are never recomputed.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from sovsim.errors import SovsimError

CONNECT_TIMEOUT = 10.0  # s: reaching the scheduler once something listens at its address
PROBE_TIMEOUT = 5.0  # s: something listening at the address at all
WORKERLESS_TIMEOUT = 60.0  # s without a single worker before an ensemble gives up
POLL = 2.0  # s between checks of the cluster while waiting for results
FETCH_RETRIES = 3  # fetching a finished batch's results again after a broken connection
SCHEMES = ("tcp", "tls", "ws", "wss", "inproc")  # Dask's transports (inproc: this process)

_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\[\]\s]+)"
                      r":(?P<port>\d{1,5})/?$")


class WorkerRefused(SovsimError):
    """A Dask worker computes with another sovsim (version, sources, data or libraries)."""


class ClusterLost(SovsimError):
    """The scheduler went away, or every worker did."""


def parse_address(address: Any) -> tuple[str, str, int]:
    """(scheme, host, port) of a scheduler address like ``tcp://host:8786`` (or ``host:8786``,
    taken as tcp); a SovsimError naming what is wrong otherwise."""
    if not isinstance(address, str) or not address.strip():
        raise SovsimError(f"--scheduler {address!r}: expected an address like "
                          "tcp://host:8786")
    m = _ADDRESS.match(address.strip())
    if m is None:
        raise SovsimError(f"--scheduler {address}: not a scheduler address (expected "
                          "tcp://host:port, e.g. tcp://10.0.0.5:8786)")
    scheme = m["scheme"] or "tcp"
    if scheme not in SCHEMES:
        raise SovsimError(f"--scheduler {address}: unknown protocol {scheme!r} (allowed: "
                          f"{', '.join(SCHEMES)})")
    port = int(m["port"])
    if not 0 < port < 65536:
        raise SovsimError(f"--scheduler {address}: port {port} is not 1-65535")
    return scheme, m["host"].strip("[]"), port


def probe(address: str) -> str:
    """The address in Dask's form once something accepts a connection there; one clear
    SovsimError (unknown host, refused, no answer) at once otherwise."""
    if isinstance(address, str) and address.startswith("inproc://"):
        return address  # a cluster inside this process (LocalCluster(processes=False))
    scheme, host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT):
            pass
    except socket.gaierror:
        raise SovsimError(f"--scheduler {address}: unknown host {host!r}") from None
    except ConnectionRefusedError:
        raise SovsimError(f"--scheduler {address}: nothing listens at {host}:{port} "
                          "(connection refused); is `dask scheduler` running there?") from None
    except TimeoutError:
        raise SovsimError(f"--scheduler {address}: no answer from {host}:{port} within "
                          f"{PROBE_TIMEOUT:g} s") from None
    except OSError as exc:
        raise SovsimError(f"--scheduler {address}: cannot reach {host}:{port} "
                          f"({exc.strerror or exc})") from None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def _client_class():
    from distributed import Client

    class _Client(Client):
        """A Client whose failed construction leaves nothing behind: distributed's own
        ``__del__`` would try to close it later, wait 20 s and print a traceback."""

        def __init__(self, *args, **kwargs):
            self._sovsim_failed = False
            try:
                super().__init__(*args, **kwargs)
            except BaseException:
                self._sovsim_failed = True
                with contextlib.suppress(Exception):  # nothing more to release
                    self._loop_runner.stop()
                raise

        def __del__(self):
            if not getattr(self, "_sovsim_failed", True):
                super().__del__()

    return _Client


def connect(scheduler: Any):
    """(client, owned): a ``distributed.Client`` for an address, or the client given (not
    owned: the caller closes it). One clear SovsimError when the scheduler cannot be
    reached."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a dependency
        raise SovsimError("--scheduler needs dask.distributed: pip install 'dask[distributed]'"
                          ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    address = probe(scheduler)
    try:
        client = _client_class()(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SovsimError(f"--scheduler {scheduler}: no Dask scheduler answers there "
                          f"({type(exc).__name__}: {exc})") from None
    return client, True


def _differences(mine: dict[str, str], theirs: dict[str, str]) -> list[str]:
    return [f"{k} {theirs.get(k, '?')} (here {v})" for k, v in mine.items()
            if theirs.get(k) != v]


def check_here(expected: dict[str, str]) -> None:
    """In a task on a worker: raise WorkerRefused unless this worker computes with
    ``expected`` (``fingerprint.describe()`` of the process that submitted it)."""
    from sovsim.fingerprint import describe

    diff = _differences(expected, describe())
    if diff:
        try:
            from distributed import get_worker

            where = get_worker().address
        except (ImportError, ValueError):  # pragma: no cover - not in a worker
            where = "?"
        raise WorkerRefused(f"Dask worker {where} computes with another sovsim: "
                            f"{'; '.join(diff)}; refused (its tasks were not used)")


def check_workers(client, expected: dict[str, str]) -> list[str]:
    """The addresses of the cluster's workers once each of them computes with ``expected``;
    WorkerRefused naming every worker that does not (or cannot say), before any task runs."""
    from sovsim.fingerprint import describe

    try:
        answers = client.run(describe, on_error="return")
    except (OSError, TimeoutError) as exc:
        raise ClusterLost(f"the Dask scheduler went away while asking its workers "
                          f"({type(exc).__name__}: {exc})") from None
    if not answers:
        raise ClusterLost("the Dask scheduler has no workers: start some with "
                          "`dask worker <scheduler address>` and run the command again")
    names = _names(client)
    bad = []
    for address, answer in sorted(answers.items()):
        who = f"{address} ({names[address]})" if names.get(address, address) != address \
            else address
        if isinstance(answer, BaseException):
            bad.append(f"{who} cannot say which sovsim it runs "
                       f"({type(answer).__name__}: {answer})")
        elif diff := _differences(expected, answer):
            bad.append(f"{who}: {'; '.join(diff)}")
    if bad:
        raise WorkerRefused("Dask workers that compute with another sovsim, refused before "
                            "any task ran (start every worker from the same environment as "
                            "this one): " + " | ".join(bad))
    return sorted(answers)


def _names(client) -> dict[str, str]:
    """Worker address -> the name it was started with (``dask worker --name``)."""
    try:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
    except (OSError, TimeoutError, TypeError):
        return {}
    return {a: str(w.get("name", a)) for a, w in workers.items()}


def run(client, address: str, fn: Callable, args: Sequence, batches: list[list],
        on_batch: Callable[[list, list], None]) -> None:
    """Run ``fn(*args, batch)`` for every batch on the cluster and call
    ``on_batch(batch, results)`` in this thread as each completes, each batch once. Stops with
    ClusterLost when the scheduler goes away or no worker is left for WORKERLESS_TIMEOUT s,
    and with WorkerRefused when a task lands on a worker of another version; the batches not
    yet delivered are cancelled."""
    import dask
    from distributed import CancelledError
    from distributed.scheduler import KilledWorker

    done_q: queue.Queue = queue.Queue()
    pending: dict[str, tuple[Any, list]] = {}
    for batch in batches:
        fut = client.submit(fn, *args, batch, pure=False)
        pending[fut.key] = (fut, batch)
        fut.add_done_callback(done_q.put)
    delivered: set[str] = set()
    retries: dict[str, int] = {}
    workerless_since: float | None = None
    try:
        while pending:
            try:
                fut = done_q.get(timeout=POLL)
            except queue.Empty:
                workerless_since = _watch(client, address, workerless_since)
                continue
            if fut.key in delivered or fut.key not in pending:
                continue
            try:
                results = fut.result()
            except CancelledError:
                raise _lost(client, address) from None
            except SovsimError:
                raise
            except KilledWorker:
                raise SovsimError(
                    f"a batch of members was on workers of {address} that died, more than "
                    f"{dask.config.get('distributed.scheduler.allowed-failures')} times "
                    "(distributed.scheduler.allowed-failures): see the workers' logs (out of "
                    "memory?); the members stored so far are kept") from None
            except (OSError, TimeoutError) as exc:  # fetching the result failed
                if not _alive(client):
                    raise _lost(client, address) from None
                retries[fut.key] = retries.get(fut.key, 0) + 1
                if retries[fut.key] <= FETCH_RETRIES:  # a worker gone mid-transfer
                    done_q.put(fut)
                    continue
                raise SovsimError(f"a member's task failed on the cluster at {address}: "
                                  f"{type(exc).__name__}: {exc}") from None
            _, batch = pending.pop(fut.key)
            delivered.add(fut.key)
            fut.release()  # forgotten by the scheduler: never recomputed
            on_batch(batch, results)
    finally:
        if pending and client.status == "running":
            with contextlib.suppress(Exception):  # the cluster is going away anyway
                client.cancel([f for f, _ in pending.values()], force=True)


class _Quiet(logging.Filter):
    """distributed's own log of a lost scheduler (its reconnection attempts, their
    tracebacks when the client is closed), which ClusterLost says in one line: dropped once
    the loss is known, and its last line ("Failed to reconnect ...") always."""

    LOGGERS = ("distributed.client", "distributed.utils", "distributed.comm.core")

    def __init__(self) -> None:
        super().__init__()
        self.lost = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.lost or record.getMessage().startswith("Failed to reconnect"))


@contextlib.contextmanager
def session(scheduler: Any):
    """(client, address) of a scheduler (``connect``) for the time of a ``with``; the client
    closed after if this call opened it, without waiting on a scheduler that is gone, and
    distributed's log of a lost scheduler left to ClusterLost's one line."""
    client, owned = connect(scheduler)
    address = scheduler if isinstance(scheduler, str) else client.scheduler.address
    quiet = _Quiet()
    for name in quiet.LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    try:
        yield client, address
    except ClusterLost:
        quiet.lost = True
        raise
    finally:
        if owned:
            with contextlib.suppress(Exception):  # closing a client of a lost scheduler
                client.close(timeout=2)
        for name in quiet.LOGGERS:
            logging.getLogger(name).removeFilter(quiet)


def _lost(client, address: str) -> ClusterLost:
    return ClusterLost(f"the Dask scheduler at {address} went away (connection lost); the "
                       "members stored so far are kept: run the same command again to go on")


def _alive(client) -> bool:
    """Whether the scheduler still answers (within POLL seconds)."""
    if client.status != "running":
        return False
    try:
        client.nthreads(callback_timeout=POLL)
    except (OSError, TimeoutError):
        return False
    return client.status == "running"


def _watch(client, address: str, workerless_since: float | None) -> float | None:
    """While waiting: the scheduler still there, and some worker to run the tasks."""
    if client.status in ("closing", "closed", "connecting"):
        raise _lost(client, address)
    try:
        workers = client.nthreads(callback_timeout=POLL)
    except (OSError, TimeoutError):
        if client.status != "running":
            raise _lost(client, address) from None
        return workerless_since  # a slow answer: ask again next time
    if workers:
        return None
    now = time.monotonic()
    if workerless_since is None:
        return now
    if now - workerless_since > WORKERLESS_TIMEOUT:
        raise ClusterLost(f"no Dask worker left at {address} for {WORKERLESS_TIMEOUT:g} s; "
                          "the members stored so far are kept: start workers and run the "
                          "same command again to go on")
    return workerless_since
