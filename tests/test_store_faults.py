"""The results store under faults, each on a small ensemble and each with nothing lost: a
flipped bit, a truncated member file, a corrupt index, a full disk, kill -9 mid-write, two
writers at once; keys on code and input data; verify, repair, gc, migrate, query; a
read-only store; Ctrl-C, SIGTERM and kill -9 of the parent with local workers; bounds."""

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from processes import live_group
from typer.testing import CliRunner

from sovsim import ensemble
from sovsim.cli import app
from sovsim.errors import SovsimError, StoreError
from sovsim.store import INDEX, Store, keys, write_records
from sovsim.store.maintenance import gc, repair, verify

runner = CliRunner()
N = 24  # members: three part files of 8


@pytest.fixture
def small_parts(monkeypatch):
    from sovsim.ensemble import runner as ens_runner

    monkeypatch.setattr(ens_runner, "FLUSH_MEMBERS", 8)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The reference: the ensemble run once, untouched."""
    return ensemble.run("historical", members=N, seed=4, store=tmp_path_factory.mktemp("ref"))


def _parts(root: Path) -> list[Path]:
    return sorted(root.glob("runs/*/*/members/part-*.parquet"))


def _same(ens, ref) -> None:
    pd.testing.assert_frame_equal(ens.bands(), ref.bands())
    for v in ("grain_harvest_t", "excess_deaths_persons"):
        np.testing.assert_array_equal(ens.values("historical", v), ref.values("historical", v))


def _members_in(part: Path) -> int:
    import pyarrow.parquet as pq

    return len(json.loads(pq.read_metadata(part).metadata[b"sovsim"])["manifests"])


def test_flipped_bit_is_reported_by_name_never_used_and_recomputed(tmp_path, clean,
                                                                    small_parts, capsys):
    root = tmp_path / "s"
    ensemble.run("historical", members=N, seed=4, store=root)
    part = _parts(root)[1]
    lost = _members_in(part)
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x10
    part.write_bytes(bytes(data))
    rep = verify(Store(root))
    assert [p for p in rep.problems if str(part) in p and "corrupt" in p]
    r = runner.invoke(app, ["runs", "verify", "--store", str(root)])
    assert r.exit_code == 1 and part.name in r.output.replace("\n", "")
    again = ensemble.run("historical", members=N, seed=4, store=root)
    assert again.computed["historical"] == lost < N  # only the members of the corrupt file
    assert part.name in capsys.readouterr().err.replace("\n", "")
    _same(again, clean)
    assert verify(Store(root)).ok


def test_truncated_member_file_keeps_the_good_members(tmp_path, clean, small_parts):
    root = tmp_path / "s"
    ensemble.run("historical", members=N, seed=4, store=root)
    part = _parts(root)[0]
    lost = _members_in(part)
    with open(part, "r+b") as fh:
        fh.truncate(part.stat().st_size // 3)
    again = ensemble.run("historical", members=N, seed=4, store=root)
    assert again.computed["historical"] == lost < N  # the others were kept
    _same(again, clean)


def test_read_of_a_corrupt_run_fails_by_name(tmp_path):
    st = Store(tmp_path / "s")
    res, _ = ensemble.stored_run("nep", store=st)
    rec = st.path(st.entries(["run"])[0].id) / "records.parquet"
    data = bytearray(rec.read_bytes())
    data[100] ^= 1
    rec.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=f"{rec.name}: corrupt"):
        st.records(st.entries(["run"])[0].id)
    again, cached = ensemble.stored_run("nep", store=st)  # dropped and computed again
    assert not cached
    pd.testing.assert_frame_equal(again.annual(), res.annual())


def test_missing_table_is_a_clear_error_not_a_name_error(tmp_path):
    st = Store(tmp_path / "s")
    ensemble.stored_run("nep", store=st)
    with pytest.raises(SovsimError, match="has no table 'nope'"):
        st.table(st.entries(["run"])[0].id, "nope")


def test_corrupt_index_is_rebuilt_from_the_manifests(tmp_path, clean, small_parts):
    root = tmp_path / "s"
    first = ensemble.run("historical", members=N, seed=4, store=root)
    ensemble.stored_run("nep", store=root)
    Store(root).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{root / INDEX}{suffix}").unlink(missing_ok=True)
    with open(root / INDEX, "r+b") as fh:
        fh.write(b"this is not a database at all...")
    r = runner.invoke(app, ["runs", "list", "--store", str(root)])
    assert r.exit_code == 2 and "runs repair" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["runs", "repair", "--store", str(root)])
    assert r.exit_code == 0, r.output
    assert list(root.glob(f"{INDEX}.broken-*"))  # set aside, not deleted
    st = Store(root)
    assert {e.kind for e in st.entries()} == {"run", "ensemble"}
    assert st.get(first.ids["historical"]).status == "complete"
    assert verify(st).ok
    again = ensemble.run("historical", members=N, seed=4, store=root)
    assert again.computed["historical"] == 0
    _same(again, clean)


def test_full_disk_loses_nothing(tmp_path, clean, small_parts, monkeypatch):
    """ENOSPC simulated in the writer (the test that fills a real small tmpfs follows)."""
    root = tmp_path / "s"
    calls = {"n": 0}
    real = Path.write_bytes

    def filling(self, data):
        calls["n"] += 1
        if calls["n"] > 1:  # the first part fits, then the disk is full
            real(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", filling)
    with pytest.raises(StoreError, match="no space left on the device"):
        ensemble.run("historical", members=N, seed=4, store=root)
    monkeypatch.setattr(Path, "write_bytes", real)
    assert not list(root.rglob("*.partial"))  # nothing half-written
    st = Store(root)
    assert st.integrity() == "ok" and verify(st).ok
    kept = len(st.members(st.entries(["ensemble"])[0].id))
    assert 0 < kept < N  # the part written before the disk filled
    again = ensemble.run("historical", members=N, seed=4, store=root)
    assert again.computed["historical"] == N - kept
    _same(again, clean)


def test_full_disk_on_a_real_small_filesystem(tmp_path, clean, small_parts):
    """A 700 KB tmpfs (needs root to mount; skipped elsewhere)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(mnt)],
            check=False, capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        root = mnt / "s"
        with pytest.raises(StoreError, match=r"no space left|disk is full|cannot write"):
            ensemble.run("historical", members=N, seed=4, store=root)
        assert not list(root.rglob("*.partial"))
        subprocess.run(["mount", "-o", "remount,size=20m", str(mnt)], check=True)
        st = Store(root)
        assert st.integrity() == "ok" and verify(st).ok
        again = ensemble.run("historical", members=N, seed=4, store=root)
        assert again.computed["historical"] < N  # what fitted was kept
        _same(again, clean)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False, capture_output=True)


def test_leftovers_of_a_writer_killed_mid_write_are_cleaned(tmp_path, clean, small_parts):
    root = tmp_path / "s"
    ens = ensemble.run("historical", members=N, seed=4, store=root)
    folder = Store(root).path(ens.ids["historical"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          check=True, capture_output=True, text=True).stdout.strip()
    leftover = folder / "members" / f".part-abc.parquet.{dead}.partial"
    leftover.write_bytes(b"half a part")
    unindexed = folder / "members" / "part-0123456789abcdef0123456789abcdef.parquet"
    unindexed.write_bytes(b"written, then killed before the index")
    os.utime(unindexed, (time.time() - 3600, time.time() - 3600))
    assert len(verify(Store(root)).problems) == 2
    rep = gc(Store(root))
    assert not leftover.exists() and not unindexed.exists() and rep.bytes > 0
    assert verify(Store(root)).ok
    again = ensemble.run("historical", members=N, seed=4, store=root)
    assert again.computed["historical"] == 0
    _same(again, clean)


def test_two_writers_of_one_ensemble_at_once(tmp_path, clean):
    root = tmp_path / "s"
    cmd = [sys.executable, "-m", "sovsim.cli", "ensemble", "historical", "--members", str(N),
           "--seed", "4", "--store", str(root), "--out", str(tmp_path / "out")]
    env = {**os.environ, "SOVSIM_STORE_FLUSH": "4"}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(2)]
    errs = [p.communicate(timeout=600)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    st = Store(root)
    assert st.integrity() == "ok" and verify(st).ok
    eid = st.entries(["ensemble"])[0].id
    assert sorted(st.members(eid)) == list(range(N))
    assert len(st.entries(["member"])) == N
    again = ensemble.run("historical", members=N, seed=4, store=root)
    assert again.computed["historical"] == 0
    _same(again, clean)


def test_changed_input_data_or_code_misses_the_store(tmp_path, monkeypatch):
    from sovsim import fingerprint

    data = tmp_path / "data"
    shutil.copytree(fingerprint.DATA, data)
    monkeypatch.setattr(fingerprint, "DATA", data)
    st = Store(tmp_path / "s")
    first, cached = ensemble.stored_run("nep", store=st)
    assert not cached
    assert ensemble.stored_run("nep", store=st)[1]  # the same inputs: from the store
    weather = data / "inputs" / "weather.csv"
    weather.write_text(weather.read_text().replace("1", "2", 1))
    again, cached = ensemble.stored_run("nep", store=st)
    assert not cached and again.manifest["data_hash"] != first.manifest["data_hash"]
    history = next((data / "history").glob("*.csv"))  # read by no run: the same key
    history.write_text(history.read_text() + "\n")
    assert ensemble.stored_run("nep", store=st)[1]
    keys.code_hash.cache_clear()
    monkeypatch.setattr(keys, "code_hash", lambda: "another-build")
    third, cached = ensemble.stored_run("nep", store=st)
    assert not cached and third.manifest["code_hash"] == "another-build"
    assert len(st.entries(["run"])) == 3


def test_identical_members_are_stored_once(tmp_path):
    ens = ensemble.run("historical", members=5, store=tmp_path / "s", names=[])
    st = ens.store
    assert len(set(ens.member_ids["historical"])) == 1
    assert len(st.entries(["member"])) == 1
    assert sorted(st.members(ens.ids["historical"])) == list(range(5))
    h = ens.values("historical", "grain_harvest_t")
    assert (h == h[0]).all()


def test_query_reads_one_variable_without_loading(tmp_path, clean):
    from sovsim.store.query import query

    st = clean.store
    eid = clean.ids["historical"]
    got = query(st, eid[:6], variable="grain_harvest_t", region="USSR", period="1932")
    want = clean.values("historical", "grain_harvest_t")[:, 1932 - 1921]
    np.testing.assert_array_equal(got.sort_values("member")["value"].to_numpy(), want)
    r = runner.invoke(app, ["runs", "query", eid, "--variable", "population_persons",
                            "--region", "ukraine", "--period", "1933", "--store",
                            str(st.root)])
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(__import__("io").StringIO(r.stdout))) == N
    with pytest.raises(SovsimError, match="--variable 'nope'"):
        query(st, eid, variable="nope")
    with pytest.raises(SovsimError, match="--period '1950'"):
        query(st, eid, variable="grain_harvest_t", period="1950")


def test_annual_by_default_monthly_when_asked(tmp_path):
    annual = ensemble.run("historical", members=2, store=tmp_path / "a")
    with pytest.raises(SovsimError, match="--monthly"):
        annual.member("historical", 1)
    monthly = ensemble.run("historical", members=2, store=tmp_path / "m", monthly=True)
    rec = monthly.member("historical", 1).records["grain_harvest_t"]
    assert rec.shape[0] == 240
    for v in ("grain_harvest_t", "excess_deaths_persons"):  # annual sums made elsewhere
        np.testing.assert_allclose(monthly.values("historical", v),
                                   annual.values("historical", v), rtol=1e-12)
    size = {k: sum(p.stat().st_size for p in _parts(tmp_path / k)) for k in "am"}
    # twelve times the values; compressed, how much larger depends on the draws (4.98-6x seen)
    assert size["m"] > 4 * size["a"]


def _read_only_copy(src: Path, tmp_path: Path) -> Path | None:
    """A copy of a store on a read-only medium: a read-only bind mount (root), else a
    directory without write permission (others); None if neither can be made."""
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)
    Store(copy).close()
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if os.geteuid() == 0:
        ok = subprocess.run(["mount", "--bind", str(copy), str(mnt)], check=False,
                            capture_output=True).returncode == 0 and subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(mnt)], check=False,
            capture_output=True).returncode == 0
        return mnt if ok else None
    for p in [copy, *copy.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    return copy


def test_read_only_store_is_listed_shown_exported(tmp_path, clean):
    root = _read_only_copy(clean.store.root, tmp_path)
    if root is None:
        pytest.skip("cannot make a read-only medium here")
    try:
        assert not os.access(root, os.W_OK) or os.geteuid() != 0
        before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
        eid = clean.ids["historical"]
        for args in (["runs", "list"], ["runs", "show", eid], ["runs", "verify"],
                     ["runs", "export", eid, "--out", str(tmp_path / "out")],
                     ["runs", "query", eid, "--variable", "grain_harvest_t"]):
            r = runner.invoke(app, [*args, "--store", str(root)])
            assert r.exit_code == 0, (args, r.output)
        assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
        with pytest.raises(StoreError, match="read-only"):
            Store(root, readonly=True).link(eid, {0: "x"})
        r = runner.invoke(app, ["ensemble", "historical", "--members", "2", "--store",
                                str(root)])
        assert r.exit_code == 2 and "cannot write there" in r.output
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "ro")], check=False,
                       capture_output=True)
        for p in tmp_path.rglob("*"):
            p.chmod(0o755)


def test_gc_older_than_and_sizes(tmp_path):
    root = tmp_path / "s"
    ensemble.run("historical", members=2, store=root)
    time.sleep(1.1)  # creation times are to the second
    r = runner.invoke(app, ["runs", "list", "--store", str(root), "--json"])
    assert json.loads(r.output)[0]["bytes"] > 0
    r = runner.invoke(app, ["runs", "gc", "--older-than", "1", "--store", str(root)])
    assert r.exit_code == 0 and len(Store(root).entries()) == 1  # young: kept
    r = runner.invoke(app, ["runs", "gc", "--older-than", "0", "--store", str(root)])
    assert r.exit_code == 0, r.output
    st = Store(root)
    assert st.entries(("run", "ensemble", "member")) == [] and not st.files()
    assert not [p for p in (root / "runs").rglob("*") if p.is_file()]


def test_first_layout_store_is_migrated_and_read(tmp_path, historical):
    """A store as the first layout wrote it: a directory and a monthly file per member."""
    root = tmp_path / "old"
    root.mkdir()
    con = sqlite3.connect(root / INDEX)
    con.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, scenario TEXT NOT NULL,
            status TEXT NOT NULL, members INTEGER, seed INTEGER, created TEXT NOT NULL,
            manifest TEXT NOT NULL);
        CREATE TABLE ensemble_members (ensemble_id TEXT NOT NULL, member INTEGER NOT NULL,
            run_id TEXT NOT NULL, PRIMARY KEY (ensemble_id, member));""")
    eid, mids = "e" * 20, ["a" * 20, "b" * 20]
    for m, rid in enumerate(mids):
        folder = root / "runs" / rid[:2] / rid
        folder.mkdir(parents=True)
        write_records(folder / "records.parquet",
                      {k: v * (1 + m) for k, v in historical.records.items()})
        con.execute("INSERT INTO runs VALUES (?, 'member', 'historical', 'complete', NULL, 0,"
                    " '2026-01-01T00:00:00Z', '{}')", (rid,))
        con.execute("INSERT INTO ensemble_members VALUES (?, ?, ?)", (eid, m, rid))
    (root / "runs" / "ee" / eid).mkdir(parents=True)
    con.execute("INSERT INTO runs VALUES (?, 'ensemble', 'historical', 'complete', 2, 0, "
                "'2026-01-01T00:00:00Z', '{\"members\": 2}')", (eid,))
    con.commit()
    con.close()
    r = runner.invoke(app, ["runs", "list", "--store", str(root)])
    assert r.exit_code == 2 and "runs migrate" in r.output
    r = runner.invoke(app, ["runs", "migrate", "--store", str(root)])
    assert r.exit_code == 0, r.output
    st = Store(root)
    assert verify(st).ok
    annual = st.ensemble_annual(eid, 2)
    want = historical.values("grain_harvest_t")
    np.testing.assert_allclose(annual["grain_harvest_t"][1, :, 0], 2 * want)
    np.testing.assert_array_equal(st.records(mids[0])["grain_harvest_t"],
                                  historical.records["grain_harvest_t"])
    assert repair(root).ok


# -- interrupts and bounds ------------------------------------------------------------------
def _workers_started(store: Path, pgid: int, timeout: float = 300) -> None:
    """Wait until the ensemble's two workers run and a first part is stored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _parts(store) and len(live_group(pgid)) >= 4:  # parent, forkserver, 2 workers
            return
        time.sleep(0.2)
    pytest.fail(f"the workers did not start: {live_group(pgid)}")


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "kill -9"])
def test_interrupt_stops_every_worker_and_keeps_what_was_stored(tmp_path, how):
    store = tmp_path / "s"
    n = 4000
    cmd = [sys.executable, "-m", "sovsim.cli", "ensemble", "historical", "--members", str(n),
           "--workers", "2", "--store", str(store)]
    log = tmp_path / "stderr.txt"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                            start_new_session=True,
                            env={**os.environ, "SOVSIM_STORE_FLUSH": "16"})
    try:
        _workers_started(store, proc.pid)
        t0 = time.monotonic()
        if how == "ctrl-c":  # a terminal's Ctrl-C goes to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        proc.wait(timeout=30)
        assert time.monotonic() - t0 < 10
        deadline = time.monotonic() + 10  # workers of a killed parent exit by themselves
        while live_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert live_group(proc.pid) == [], "orphaned workers"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    if how == "kill -9":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, text
        assert "run the same command again to resume" in text
        assert "Traceback" not in text and "InvalidStateError" not in text
    st = Store(store)
    eid = st.entries(["ensemble"])[0].id
    stored = len(st.members(eid))
    assert 0 < stored < n
    problems = verify(st).problems  # kill -9 may land mid-write: a leftover, nothing else
    assert all("leftover of a killed writer" in p for p in problems), problems
    gc(st)
    assert verify(st).ok


def test_bounds_are_refused_by_name_before_any_work(tmp_path):
    t0 = time.monotonic()
    r = runner.invoke(app, ["ensemble", "historical", "--members", "1000000000000",
                            "--store", str(tmp_path / "s")])
    assert r.exit_code == 2 and "--members 1,000,000,000,000: at most 1,000,000" in \
        r.output.replace("\n", "")
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "s").exists() or not _parts(tmp_path / "s")
    with pytest.raises(SovsimError, match="--workers 0"):
        ensemble.run("historical", members=2, workers=0, store=False)
    with pytest.raises(SovsimError, match="--households 100000000"):
        ensemble.run("historical", members=2, households=100_000_000, store=False)


BIG = "1000000000000"


@pytest.mark.parametrize("args, says", [
    (["sensitivity", "--n", BIG], "--n: 1,000,000,000,000 is out of range"),
    (["sensitivity", "--n", "32768"], "allowed: a power of 2 from 8 to 16,384"),
    (["sensitivity", "--workers", BIG], "--workers: 1,000,000,000,000 is out of range "
                                        "(allowed: 0 to 256)"),
    (["calibrate", "--maxfev", BIG], "--maxfev: 1,000,000,000,000 is out of range "
                                     "(allowed: 1 to 1,000,000)"),
    (["calibrate", "--method", "abc", "--population", BIG], "--population: "
     "1,000,000,000,000 is out of range (allowed: 10 to 100,000)"),
    (["calibrate", "--method", "abc", "--generations", BIG], "(allowed: 1 to 100)"),
    (["calibrate", "--method", "abc", "--max-runs", BIG], "--max-runs: 1,000,000,000,000"),
    (["calibrate", "--method", "abc", "--draws", BIG], "(allowed: 1 to 10,000)"),
    (["calibrate", "--method", "abc-rm", "--moves", "11"], "--moves: 11 is out of range "
                                                          "(allowed: 1 to 10)"),
    (["ensemble", "historical", "--members", "2", "--workers", BIG], "--workers "
     "1000000000000: from 1 to 256 local worker processes"),
    (["ensemble", "historical", "--members", "2", "--households", BIG], "--households "
     "1000000000000: household rows per member, from 5 to 21,640,321"),
    (["ensemble", "historical", "--members", "2", "--seed", "-1"], "--seed -1"),
    (["compare", "historical", "--members", BIG], "--members: 1,000,000,000,000 is out of "
                                                   "range (allowed: 0 to 1,000,000)"),
    (["compare", "historical", "--members", "2", "--workers", BIG], "--workers: "),
    (["bench", "--runs", BIG], "--runs: 1,000,000,000,000 is out of range"),
    (["bench", "--households", BIG], "(allowed: 1 to 21,640,321)"),
    (["bench", "--households", "100", "--repeat", BIG], "--repeat: "),
    (["serve", "--workers", BIG], "--workers: 1,000,000,000,000 is out of range"),
    (["serve", "--burst", BIG], "--burst: "),
])
def test_every_count_has_a_bound_refused_in_one_line(tmp_path, args, says):
    """A count past its bound: one line naming the option and the allowed range, exit 2,
    before any work (nothing stored, nothing computed)."""
    r = runner.invoke(app, [*args, *(["--store", str(tmp_path / "s")]
                                     if args[0] == "ensemble" else [])])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2, r.output
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert says in lines[0]
    assert not (tmp_path / "s").exists()


def test_errors_in_workers_come_back_and_stop_the_pool():
    from sovsim.uncertainty.pool import parallel_map

    with pytest.raises(ZeroDivisionError):
        parallel_map(_invert, [1, 2, 0, 4], workers=2, chunksize=1)
    assert parallel_map(_invert, [1, 2, 4], workers=2, chunksize=1) == [1.0, 0.5, 0.25]


def _invert(x):
    return 1 / x


def test_one_definition_of_the_code_and_data_hashes():
    """The store's keys and a Dask worker's fingerprint hash the same code and data."""
    from sovsim import fingerprint

    assert keys.code_hash is fingerprint.code_hash and keys.data_hash is fingerprint.data_hash
    fp = fingerprint.fingerprint()
    keyed = keys.keyed({"scenario": "nep"})
    assert (keyed["code_hash"], keyed["data_hash"]) == (fp["code"], fp["data"])
    read = {p.relative_to(fingerprint.DATA).parts[0] for p in fingerprint.data_files()}
    assert {"inputs", "parameters", "population", "scenarios", "instruments.toml"} <= read
    assert not read & set(fingerprint.NOT_READ_BY_A_RUN)


def test_bands_of_a_whole_ensemble_come_from_memory_the_same_as_from_the_parts(tmp_path,
                                                                               clean,
                                                                               monkeypatch):
    """An ensemble computed whole makes its bands from the values it just wrote, without
    reading its parts back; the same bands, bit for bit, as read from the store."""
    from sovsim.store import parts

    real = parts.part_rows
    reads = []

    def counting(*a, **kw):
        reads.append(a[1])
        return real(*a, **kw)

    monkeypatch.setattr(parts, "part_rows", counting)
    ens = ensemble.run("historical", members=N, seed=4, store=tmp_path / "s")
    assert reads == [] and ens.computed == {"historical": N}
    _same(ens, clean)  # the reference's bands were read back from its parts
    again = ensemble.run("historical", members=N, seed=4, store=tmp_path / "s")
    assert again.computed == {"historical": 0}
    _same(again, ens)
    assert reads  # the members' values of a stored ensemble: read back from its parts
