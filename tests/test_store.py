"""The results store: manifests, identical requests answered from the store, resume after
kill -9, concurrent writers, runs list/show/export/rm (faults: tests/test_store_faults.py)."""

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sovsim import api, ensemble
from sovsim.cli import app
from sovsim.errors import StoreError
from sovsim.store import INDEX, Store, atomic_write, read_records, run_id, write_records

runner = CliRunner()


def test_records_round_trip_exactly(tmp_path, historical):
    path = tmp_path / "r.parquet"
    sha = write_records(path, historical.records)
    back = read_records(path, sha)
    assert list(back) == list(historical.records)
    for k, v in historical.records.items():
        np.testing.assert_array_equal(back[k], v)


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")

    def broken(p):
        p.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_manifest_id_ignores_only_what_does_not_change_the_numbers():
    m = {"scenario": "nep", "scenario_hash": "a", "parameters_hash": "b", "seed": 0,
         "code_hash": "c", "data_hash": "d"}
    assert run_id(m) == run_id({**m, "created": "now", "git_commit": None})
    assert run_id(m) != run_id({**m, "seed": 1})
    for key in ("scenario_hash", "parameters_hash", "code_hash", "data_hash"):
        assert run_id(m) != run_id({**m, key: "changed"}), key
    # the cell model draws no random numbers: its seed does not identify a run ...
    cells = {**m, "resolution": "cells"}
    assert run_id(cells) == run_id({**cells, "seed": 1})
    # ... but an ensemble's seed gives its draws
    ens = {**cells, "kind": "ensemble"}
    assert run_id(ens) != run_id({**ens, "seed": 1})


def test_identical_run_comes_from_the_store(tmp_path, monkeypatch):
    st = Store(tmp_path / "s")
    res, cached = ensemble.stored_run("nep", store=st)
    assert not cached
    for key in ("scenario_hash", "parameters_hash", "code_hash", "data_hash"):
        assert res.manifest[key], key

    def no_run(*a, **k):
        raise AssertionError("ran again")

    monkeypatch.setattr(api, "run", no_run)
    again, cached = ensemble.stored_run("nep", store=st)
    assert cached
    pd.testing.assert_frame_equal(again.annual(), res.annual())
    assert again.manifest["parameters_hash"] == res.manifest["parameters_hash"]
    # identical cell runs with another seed are stored once
    _, cached = ensemble.stored_run("nep", store=st, seed=1)
    assert cached and len(st.entries(["run"])) == 1
    # another scenario is another manifest: it runs
    with pytest.raises(AssertionError, match="ran again"):
        ensemble.stored_run("historical", store=st)


def test_identical_ensemble_comes_from_the_store(tmp_path, monkeypatch):
    st = tmp_path / "s"
    first = ensemble.run("historical", members=2, store=st)
    assert first.computed == {"historical": 2}
    monkeypatch.setattr(ensemble.workers, "_run_batch", lambda *a: pytest.fail("ran again"))
    again = ensemble.run("historical", members=2, store=st)
    assert again.computed == {"historical": 0}
    pd.testing.assert_frame_equal(first.bands(), again.bands())
    entry = Store(st).get(first.ids["historical"])
    assert entry.status == "complete"
    m = entry.manifest
    for key in ("scenario_hash", "parameters_hash", "priors_hash", "seed", "members",
                "resolution", "sovsim_version", "git_commit", "code_hash", "data_hash"):
        assert key in m
    pd.testing.assert_frame_equal(Store(st).bands(first.ids["historical"]), first.bands())


def _count_members(store_dir) -> int:
    path = store_dir / INDEX
    if not path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM ensemble_members").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


# The command line in a process whose 4th part file stalls mid-write (its bytes written to
# the temporary file, not yet renamed into place) until the test kills it: the kill lands
# mid-write every time, whatever the machine's speed (a kill timed by polling the store raced
# with an ensemble that could finish first).
_STALL = """
import sys, time
from pathlib import Path
from sovsim.store import files

marker, real, seen = Path(sys.argv[1]), files.atomic_write, []

def stalling(target, write):
    if target.name.startswith("part-"):
        seen.append(target)
        if len(seen) == 4:
            def stall(tmp):
                write(tmp)
                marker.write_text(str(tmp))
                time.sleep(600)
            return real(target, stall)
    return real(target, write)

files.atomic_write = stalling
sys.argv = ["sovsim", *sys.argv[2:]]
from sovsim.cli import app
app()
"""


def test_killed_ensemble_resumes_without_losing_or_duplicating_a_member(tmp_path):
    n = 120  # a part file every 4 members; the 4th stalls mid-write and is killed there
    store = tmp_path / "killed"
    marker = tmp_path / "stalled"
    cmd = [sys.executable, "-c", _STALL, str(marker), "ensemble", "historical", "--members",
           str(n), "--seed", "3", "--store", str(store)]
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, "SOVSIM_STORE_FLUSH": "4"})
    deadline = time.monotonic() + 300
    try:
        while not marker.exists():
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the 4th part was never written"
            time.sleep(0.05)
        partial = Path(marker.read_text())
        assert partial.exists() and partial.stat().st_size > 0  # a real half-written part
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored = _count_members(store)
    assert 3 <= stored < n, "killed midway"
    assert partial.exists()  # the killed writer's leftover, until the resume cleans it
    resumed = ensemble.run("historical", members=n, seed=3, store=store)
    assert resumed.computed == {"historical": n - stored}  # the stored ones were not rerun
    st = Store(store)
    eid = resumed.ids["historical"]
    members = st.members(eid)
    assert sorted(members) == list(range(n))
    assert len(set(members.values())) == n
    assert len(st.entries(["member"])) == n  # no duplicate
    assert st.get(eid).status == "complete"
    whole = ensemble.run("historical", members=n, seed=3, store=tmp_path / "whole")
    assert whole.ids == resumed.ids
    pd.testing.assert_frame_equal(whole.bands(), resumed.bands())
    for var in ("grain_harvest_t", "excess_deaths_persons"):  # every stored member is whole
        np.testing.assert_array_equal(Store(store).ensemble_annual(eid, n)[var],
                                      whole.annual["historical"][var])
    assert not list(store.rglob(".*.partial"))  # the killed writer's leftovers are gone


N_SHARED = 30


def _writer(root: str, worker: int, q, start) -> None:
    try:
        st = Store(root)
        start.wait(60)  # every writer begins at once
        eid = st.begin_ensemble({"kind": "ensemble", "scenario": "x", "members": N_SHARED,
                                 "seed": 0})
        rec = {"a": np.arange(24.0).reshape(12, 2), "b": np.ones((12, 2))}
        for i in range(N_SHARED):
            m = i if worker % 2 else N_SHARED - 1 - i  # writers meet on the same members
            man = {"scenario": "x", "m": m}
            st.put_members(eid, "x", [(m, run_id(man), man,
                                       {k: v * m for k, v in rec.items()})], freq="monthly")
            st.put_run({"scenario": f"solo-{worker}", "n": i}, rec)
        q.put("ok")
    except Exception as exc:
        q.put(repr(exc))


def test_concurrent_writers_do_not_corrupt_the_index(tmp_path):
    root = str(tmp_path / "shared")
    ctx = mp.get_context("spawn")
    q, start = ctx.Queue(), ctx.Barrier(4)
    procs = [ctx.Process(target=_writer, args=(root, w, q, start)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [q.get(timeout=5) for _ in procs] == ["ok"] * 4
    st = Store(root)
    assert st.integrity() == "ok"
    eid = st.entries(["ensemble"])[0].id
    assert sorted(st.members(eid)) == list(range(N_SHARED))
    assert len(st.entries(["member"])) == N_SHARED
    assert len(st.entries(["run"])) == 4 * N_SHARED
    for m, rid in st.members(eid).items():
        np.testing.assert_array_equal(st.records(rid)["a"], np.arange(24.0).reshape(12, 2) * m)
    assert not list(tmp_path.glob("shared/runs/**/.*partial"))
    from sovsim.store.maintenance import verify

    assert verify(st).ok


def test_store_directory_is_checked(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(StoreError, match="not a directory"):
        Store(tmp_path / "f")
    with pytest.raises(StoreError, match="cannot write"):
        Store(tmp_path / "f" / "store")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: cannot make a directory unwritable")
        with pytest.raises(StoreError, match="cannot write"):
            Store(ro / "store")
    finally:
        ro.chmod(0o700)


def test_default_store_follows_the_environment(monkeypatch, tmp_path):
    from sovsim.store import default_dir

    monkeypatch.setenv("SOVSIM_STORE", str(tmp_path / "env"))
    assert default_dir() == tmp_path / "env"
    monkeypatch.delenv("SOVSIM_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "xdg" / "sovsim" / "store"


def test_runs_list_show_export_rm(tmp_path):
    s = str(tmp_path / "s")
    assert runner.invoke(app, ["run", "nep", "--store", s]).exit_code == 0
    r = runner.invoke(app, ["ensemble", "historical", "--members", "2", "--store", s])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["runs", "list", "--store", s, "--json"])
    rows = json.loads(r.output)
    assert sorted(e["kind"] for e in rows) == ["ensemble", "run"]
    ens_id = next(e["id"] for e in rows if e["kind"] == "ensemble")
    run_ = next(e["id"] for e in rows if e["kind"] == "run")
    r = runner.invoke(app, ["runs", "list", "--store", s, "--all", "--json"])
    assert len(json.loads(r.output)) == 4
    r = runner.invoke(app, ["runs", "show", ens_id[:6], "--store", s])
    shown = json.loads(r.output)
    assert shown["members_stored"] == 2 and "bands.parquet" in shown["files"]
    assert shown["bytes"] > 0
    out = tmp_path / "out"
    r = runner.invoke(app, ["runs", "export", ens_id, "--out", str(out), "--store", s,
                            "--format", "parquet"])
    assert r.exit_code == 0, r.output
    members = pd.read_parquet(next(out.glob("*_members_annual.parquet")))
    assert sorted(members["member"].unique()) == [0, 1]
    r = runner.invoke(app, ["runs", "export", run_, "--out", str(out), "--store", s,
                            "--freq", "monthly"])
    assert r.exit_code == 0, r.output
    monthly = pd.read_csv(next(out.glob("nep_*_monthly.csv")))
    assert monthly["period"].iloc[0] == "1921-01"
    r = runner.invoke(app, ["runs", "rm", ens_id, "--store", s])
    assert r.exit_code == 0 and "and 2 members" in r.output
    r = runner.invoke(app, ["runs", "list", "--store", s, "--all", "--json"])
    assert [e["kind"] for e in json.loads(r.output)] == ["run"]
    assert not Store(s).path(ens_id).exists()
    r = runner.invoke(app, ["runs", "show", "ffff", "--store", s])
    assert r.exit_code == 2 and "no run" in r.output
    r = runner.invoke(app, ["runs", "show", "zz", "--store", s])
    assert r.exit_code == 2 and "hex" in r.output


def test_rm_keeps_members_another_ensemble_uses(tmp_path):
    st = Store(tmp_path / "s")
    small = ensemble.run("historical", members=1, store=st)
    big = ensemble.run("historical", members=2, store=st)
    assert big.computed == {"historical": 1}  # member 0 shared with the small ensemble
    member0 = small.member_ids["historical"][0]
    with pytest.raises(StoreError, match="is a member of ensemble"):
        st.remove(member0)
    st.remove(small.ids["historical"])
    assert sorted(st.members(big.ids["historical"])) == [0, 1]
    assert len(st.entries(["member"])) == 2


def test_compare_records_its_runs_and_reads_them_back(tmp_path):
    s = str(tmp_path / "s")
    first = runner.invoke(app, ["compare", "historical", "nep", "--store", s])
    assert first.exit_code == 0 and "read from the results store" not in first.output
    again = runner.invoke(app, ["compare", "historical", "nep", "--store", s])
    assert again.exit_code == 0
    assert again.output.count("read from the results store") == 2
    # the harvest rows: the label, then one row of figures per scenario
    rows = [(lambda ls: ls[ls.index(next(x for x in ls if "harvest, Mt" in x)):][:3])(
        r.output.splitlines()) for r in (first, again)]
    assert rows[0] and rows[0] == rows[1]
