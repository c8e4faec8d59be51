"""Ensembles on a real Dask cluster (issue 22): a scheduler and workers started with Dask's
own commands (`dask scheduler`, `dask worker`) in processes of their own on loopback, and the
sovsim command line pointed at them, as a user with a cluster would.

Every process a test starts is in a process group of its own and is killed at the end of the
test whatever happens. Results are compared through the command line's band files (or the
public ``sovsim.ensemble.run``), bit for bit, with a run in one local process.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import distributed
import pandas as pd
import pytest
from processes import live_group

from sovsim import ensemble
from sovsim.ensemble.cluster import WorkerRefused
from sovsim.errors import SovsimError

DASK = shutil.which("dask")
pytestmark = pytest.mark.skipif(DASK is None, reason="the `dask` command is not installed")
SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A Dask scheduler and named workers, each a process group of its own; ``stop`` kills
    them all."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)
        log.close()

    def start_scheduler(self) -> None:
        self._spawn("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port",
                                  str(self.port), "--no-dashboard"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the scheduler did not start: {self.log('scheduler')}")

    def add_worker(self, name: str, env: dict | None = None) -> None:
        self._spawn(name, [DASK, "worker", self.address, "--nthreads", "1", "--name", name,
                           "--no-dashboard", "--death-timeout", "60"], env)

    def wait_for_workers(self, n: int) -> None:
        with distributed.Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=120)

    def kill(self, name: str) -> None:
        """SIGKILL a process group (a worker's nanny and its worker process)."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()[-3000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    c = Cluster(logs)
    try:
        c.start_scheduler()
        yield c
    finally:
        c.stop()


@pytest.fixture
def two_workers(cluster):
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    cluster.wait_for_workers(2)
    return cluster


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The sovsim command line in a process of its own (wide, so a message is one line)."""
    return subprocess.run([sys.executable, "-c", "from sovsim.cli import app; app()", *args],
                          check=False, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "400"})


def cli_popen(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as err:
        return subprocess.Popen([sys.executable, "-c", "from sovsim.cli import app; app()",
                                 *args], stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, "COLUMNS": "400"},
                                start_new_session=True)


def same_files(a: Path, b: Path) -> None:
    """Every band table of ``a`` equals that of ``b`` exactly (values bit for bit)."""
    names = sorted(p.name for p in a.glob("*.parquet"))
    assert names and names == sorted(p.name for p in b.glob("*.parquet"))
    for name in names:
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name),
                                      check_exact=True)


def errors_of(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip()
            and not ln.lstrip().startswith("members")  # the progress bar's last state
            and "members/s" not in ln]  # its line while the model compiles


# -- the user's route -----------------------------------------------------------------------
def test_cli_on_a_real_cluster_gives_the_bands_of_a_local_run(two_workers, tmp_path):
    args = ["ensemble", "historical", "nep", "--members", "24", "--seed", "4", "--no-store",
            "--draw-weather", "--format", "parquet"]
    there = cli(*args, "--scheduler", two_workers.address, "--out", str(tmp_path / "dask"))
    assert there.returncode == 0, there.stderr + two_workers.log("w1")
    here = cli(*args, "--out", str(tmp_path / "local"))
    assert here.returncode == 0, here.stderr
    same_files(tmp_path / "dask", tmp_path / "local")
    assert (tmp_path / "dask" / "nep-minus-historical_difference_bands.parquet").exists()

    # household ensembles too (members come back as monthly records and summaries, stored)
    args = ["ensemble", "historical", "--members", "4", "--households", "2000", "--seed", "1",
            "--format", "parquet"]
    there = cli(*args, "--scheduler", two_workers.address, "--store", str(tmp_path / "s1"),
                "--out", str(tmp_path / "hh-dask"))
    assert there.returncode == 0, there.stderr
    here = cli(*args, "--store", str(tmp_path / "s2"), "--out", str(tmp_path / "hh-local"))
    assert here.returncode == 0, here.stderr
    same_files(tmp_path / "hh-dask", tmp_path / "hh-local")
    assert (tmp_path / "hh-dask" / "historical_household_bands.parquet").exists()


def test_a_bad_scheduler_address_is_one_line_at_once(tmp_path):
    for address, says in [("notaurl", "not a scheduler address"),
                          (f"tcp://127.0.0.1:{free_port()}", "nothing listens")]:
        start = time.monotonic()
        r = cli("ensemble", "historical", "--members", "2", "--no-store", "--scheduler", address)
        took = time.monotonic() - start
        lines = errors_of(r.stderr)
        assert r.returncode == 2
        assert len(lines) == 1 and lines[0].startswith("error: --scheduler"), r.stderr
        assert says in lines[0], r.stderr
        assert "Traceback" not in r.stderr and took < 30  # not after the connect timeout
    for address, says in [("ftp://127.0.0.1:8786", "unknown protocol 'ftp'"),
                          ("tcp://127.0.0.1:99999", "port 99999 is not 1-65535"),
                          ("tcp://no-such-host.invalid:8786", "unknown host"),
                          ("127.0.0.1", "not a scheduler address")]:
        with pytest.raises(SovsimError, match=re.escape(says)):
            ensemble.run("historical", members=1, store=False, scheduler=address)


# -- faults ---------------------------------------------------------------------------------
def test_a_worker_killed_midway_changes_nothing(two_workers, tmp_path):
    kw = {"members": 5, "households": 2000, "seed": 3}
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 1:  # the other worker is busy with a member: kill it now
            two_workers.kill("w2")

    ens = ensemble.run("historical", scheduler=two_workers.address, store=tmp_path / "st",
                       progress=progress, **kw)
    assert two_workers.procs["w2"].poll() is not None  # it was killed
    # each member handed back (and stored) once; 0 is the progress shown at the start
    assert [d for d in seen if d] == list(range(1, 6))
    assert ens.computed["historical"] == 5
    ref = ensemble.run("historical", store=False, **kw)
    pd.testing.assert_frame_equal(ens.bands(), ref.bands(), check_exact=True)
    pd.testing.assert_frame_equal(ens.household_bands(), ref.household_bands(),
                                  check_exact=True)
    # every member is in the store: the same command runs none again
    r = cli("ensemble", "historical", "--members", "5", "--households", "2000", "--seed", "3",
            "--store", str(tmp_path / "st"))
    assert r.returncode == 0 and "0 of 5 members run now" in r.stderr, r.stderr


def test_the_scheduler_going_away_stops_with_one_line_and_keeps_the_stored(two_workers,
                                                                          tmp_path):
    from sovsim.store import Store

    store = tmp_path / "st"
    args = ["ensemble", "historical", "--members", "6", "--households", "2000", "--seed", "5",
            "--format", "parquet", "--store", str(store)]
    proc = cli_popen(*args, "--scheduler", two_workers.address, log=tmp_path / "cli.err")
    try:
        deadline = time.monotonic() + 180
        # the trigger only: wait until a member is stored, then kill the scheduler
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if store.exists() and Store(store).entries(("member",)):
                    break
            except Exception:  # the store is being written: look again
                pass
            time.sleep(0.3)
        assert proc.poll() is None, (tmp_path / "cli.err").read_text()
        two_workers.kill("scheduler")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = (tmp_path / "cli.err").read_text()
    lines = errors_of(stderr)
    assert proc.returncode == 2, stderr
    assert len(lines) == 1, stderr  # no traceback, no log lines of distributed
    assert lines[0].startswith("error: the Dask scheduler at") and "went away" in lines[0]
    # what was stored is kept: the same command here runs only the rest, to the same bands
    r = cli(*args, "--out", str(tmp_path / "resumed"))
    assert r.returncode == 0, r.stderr
    run_now = int(r.stderr.split(" of 6 members run now")[0].split()[-1])
    assert run_now < 6, r.stderr
    here = cli(*args[:-2], "--no-store", "--out", str(tmp_path / "local"))
    assert here.returncode == 0, here.stderr
    same_files(tmp_path / "resumed", tmp_path / "local")


def _scheduler_tasks(address: str) -> int:
    with distributed.Client(address, timeout=30, set_as_default=False) as client:
        return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


@pytest.mark.parametrize("how", ["ctrl-c", pytest.param("sigterm", marks=pytest.mark.slow)])
def test_interrupt_on_a_cluster_stops_with_one_line_and_keeps_the_stored(two_workers, tmp_path,
                                                                         how):
    """Ctrl-C (or SIGTERM) of an ensemble on a real cluster: one line saying how to resume,
    exit 130 within seconds, no traceback or log of distributed, nothing left of the
    command, the cluster's tasks cancelled (its workers idle, not orphaned with the rest of
    the ensemble), a store that verifies, and a resume that gives the bands of a whole run."""
    from sovsim.store import Store
    from sovsim.store.maintenance import verify

    store = tmp_path / "st"
    n = 6000  # (2,000 could all finish on two workers before the signal landed)
    args = ["ensemble", "historical", "--members", str(n), "--seed", "6", "--format",
            "parquet"]
    log = tmp_path / "cli.err"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", "from sovsim.cli import app; app()",
                                 *args, "--store", str(store), "--scheduler",
                                 two_workers.address], stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, "COLUMNS": "400",
                                     "SOVSIM_STORE_FLUSH": "16"},
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not list(store.glob("runs/*/*/members/part-*.parquet")):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no member was stored"
            time.sleep(0.1)
        t0 = time.monotonic()
        if how == "ctrl-c":  # a terminal's Ctrl-C goes to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        took = time.monotonic() - t0
        deadline = time.monotonic() + 10
        while live_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert live_group(proc.pid) == [], "processes of the command left behind"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = log.read_text()
    lines = errors_of(stderr)
    assert proc.returncode == 130, stderr
    assert took < 15, f"stopped after {took:.0f} s"
    assert len(lines) == 1, stderr  # no traceback, no log lines of distributed
    assert lines[0].startswith("interrupted after ") and "run the same command again to " \
        "resume" in lines[0], stderr
    # the cluster let go of the ensemble: no task of it left on the scheduler
    deadline = time.monotonic() + 20
    while (left := _scheduler_tasks(two_workers.address)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == 0, f"{left} tasks left on the scheduler"
    assert all(p.poll() is None for p in two_workers.procs.values())  # the cluster is intact
    st = Store(store)
    stored = len(st.members(st.entries(["ensemble"])[0].id))
    assert 0 < stored < n
    assert verify(st).ok, verify(st).problems
    st.close()
    r = cli(*args, "--store", str(store), "--scheduler", two_workers.address,
            "--out", str(tmp_path / "resumed"))
    assert r.returncode == 0, r.stderr
    assert f"{n - stored} of {n} members run now" in r.stderr, r.stderr
    here = cli(*args, "--no-store", "--out", str(tmp_path / "local"))
    assert here.returncode == 0, here.stderr
    same_files(tmp_path / "resumed", tmp_path / "local")


# -- version safety -------------------------------------------------------------------------
def other_sovsim(root: Path) -> Path:
    """A copy of this sovsim with another version, one source file and one data file
    changed: what a worker started from another checkout or release would import."""
    pkg = root / "sovsim"
    shutil.copytree(SRC / "sovsim", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for f in (pkg / "_version.py", pkg / "__init__.py"):
        if f.exists() and '__version__ = "' in f.read_text():
            f.write_text(f.read_text().replace('__version__ = "', '__version__ = "9.9.9+other-',
                                               1))
            break
    with open(pkg / "ensemble" / "bands.py", "a") as f:
        f.write("\n# an edit on the worker's copy\n")
    with open(pkg / "data" / "instruments.toml", "a") as f:
        f.write("\n# an edit on the worker's copy\n")
    return root


def test_workers_of_another_version_are_refused_by_name(cluster, tmp_path):
    other = other_sovsim(tmp_path / "other-src")
    cluster.add_worker("good")
    cluster.add_worker("stale", env={**os.environ, "PYTHONPATH": str(other)})
    cluster.wait_for_workers(2)
    r = cli("ensemble", "historical", "--members", "8", "--store", str(tmp_path / "st"),
            "--scheduler", cluster.address)
    lines = errors_of(r.stderr)
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    msg = lines[0]
    assert "refused before any task ran" in msg and "(stale)" in msg and "(good)" not in msg
    assert "sovsim 9.9.9+other-" in msg and "code " in msg and "data " in msg
    # nothing was computed, so nothing was stored
    r = cli("ensemble", "historical", "--members", "8", "--store", str(tmp_path / "st"))
    assert r.returncode == 0 and "8 of 8 members run now" in r.stderr, r.stderr

    # A worker that passes the first check (or joins later) is checked again by every
    # task: a task that lands on the stale worker fails there instead of computing.
    from sovsim.ensemble.workers import _dask_task
    from sovsim.fingerprint import describe

    with distributed.Client(cluster.address, set_as_default=False) as client:
        stale = [a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()
                 if w["name"] == "stale"]
        fut = client.submit(_dask_task, describe(), [], None, True, [], workers=stale,
                            pure=False)
        with pytest.raises(WorkerRefused, match="computes with another sovsim"):
            fut.result(timeout=60)
