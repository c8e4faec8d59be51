"""Ensembles: draws from the posterior (or the priors), bands, common random numbers, workers
and Dask, the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sovsim
from sovsim import calendar, ensemble
from sovsim.cli import app
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import ScenarioError, SovsimError, StoreError
from sovsim.inputs import load_inputs
from sovsim.params import load_parameters
from sovsim.params.posterior import load_posterior
from sovsim.regions import REGIONS

runner = CliRunner()


@pytest.fixture(scope="module")
def pair():
    """historical and nep, 3 members each, not stored."""
    return ensemble.run(["historical", "nep"], members=3, seed=5, store=False)


def test_bands_cover_every_variable_region_and_quantile(pair):
    b = pair.bands()
    assert list(b.columns) == ["scenario", "period", "variable", "region", "quantile", "value",
                               "unit"]
    assert set(b["variable"]) == set(BY_NAME)
    assert set(b["scenario"]) == {"historical", "nep"}
    assert sorted(b["quantile"].unique()) == [0.05, 0.25, 0.5, 0.75, 0.95]
    regional = next(v for v, spec in BY_NAME.items() if spec.regional)
    assert set(b.loc[b["variable"] == regional, "region"]) == {"USSR", *REGIONS}
    assert set(b["period"]) == {str(y) for y in range(1921, 1941)}
    # quantiles are ordered, and the median is numpy's median of the members
    wide = b.pivot_table(index=["scenario", "period", "variable", "region"],
                         columns="quantile", values="value")
    assert (np.diff(wide.to_numpy(), axis=1) >= -1e-9 * np.abs(wide.to_numpy()[:, 1:])).all()
    med = wide.loc[("nep", "1933", "excess_deaths_persons", "USSR"), 0.5]
    assert med == pytest.approx(np.median(pair.values("nep", "excess_deaths_persons")[:, 12]))


def test_members_differ_and_follow_their_draws(pair, tmp_path):
    deaths = pair.values("historical", "excess_deaths_persons")
    draws = load_posterior().draws(3, seed=5)  # the default: the calibrated posterior
    distinct = {json.dumps(d, sort_keys=True) for d in draws}
    assert len({round(x) for x in deaths[:, 12]}) == len(distinct)  # the draws change it
    # member 1 is exactly sovsim.run with draw 1 of the seed
    draw = draws[1]
    one = sovsim.run("historical", overrides=draw)
    np.testing.assert_array_equal(pair.values("historical", "excess_deaths_persons")[1],
                                  one.values("excess_deaths_persons"))


def test_differences_are_member_by_member_on_common_random_numbers(pair):
    a = pair.values("historical", "grain_harvest_t")
    b = pair.values("nep", "grain_harvest_t")
    # same draws, same policies before the divergence (1927-07): identical members up to 1926
    assert np.array_equal(a[:, :6], b[:, :6])
    d = pair.difference("historical", "nep")
    assert set(d["scenario"]) == {"nep - historical"}
    row = d[(d["variable"] == "grain_harvest_t") & (d["region"] == "USSR")
            & (d["period"] == "1933")].set_index("quantile")["value"]
    assert row[0.5] == pytest.approx(np.median(b[:, 12] - a[:, 12]))
    # not the difference of the medians (that would ignore the pairing)
    assert row[0.05] == pytest.approx(np.quantile(b[:, 12] - a[:, 12], 0.05))
    # levels are identical before the divergence (indices relative to 1928 are not)
    rel = [v for v, spec in BY_NAME.items() if spec.annual.endswith("own_1928")]
    early = d[(d["period"].astype(int) <= 1926) & ~d["variable"].isin(rel)]
    assert len(early) > 1000 and (early["value"] == 0).all()


def test_a_member_is_the_same_whatever_the_size_of_the_ensemble(pair):
    two = ensemble.run("nep", members=2, seed=5, store=False)
    np.testing.assert_array_equal(two.values("nep", "cattle_head"),
                                  pair.values("nep", "cattle_head")[:2])


def test_a_batch_member_is_the_run_it_would_be_alone():
    # Members run as one compiled batch, on numba's threads; each gets exactly the numbers of
    # its own run, whatever its place in the batch or the number of threads.
    import numba

    from sovsim.engine.simulation import simulate, simulate_batch
    from sovsim.mechanisms.context import Inputs
    from sovsim.scenario import load_scenario

    p, inputs, sc = load_parameters(), load_inputs(), load_scenario("historical")
    ps = [p.with_overrides(d) for d in p.draw(5, 9)]
    other = np.ascontiguousarray(inputs.weather_class[::-1])  # another weather for one member
    weathers = [None, other, None, None, None]
    batch = simulate_batch(sc, ps, weathers, inputs)
    for q, w, got in zip(ps, weathers, batch):
        alone = simulate(sc, q, inputs if w is None else
                         Inputs(w, inputs.world_grain_price, inputs.first_year))
        for var, arr in alone.items():
            np.testing.assert_array_equal(got[var], arr, err_msg=var)
    assert not np.array_equal(batch[0]["grain_harvest_t"], batch[1]["grain_harvest_t"])
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = simulate_batch(sc, ps, weathers, inputs)
    finally:
        numba.set_num_threads(threads)
    serial = simulate_batch(sc, ps, weathers, inputs, threads=False)  # (as in worker processes)
    for one, ser, ref in zip(single, serial, batch):
        for var in ref:
            np.testing.assert_array_equal(one[var], ref[var], err_msg=var)
            np.testing.assert_array_equal(ser[var], ref[var], err_msg=var)


def test_coarse_members_are_batched_household_members_run_alone():
    from sovsim.ensemble.workers import BATCH, batches

    coarse = [((0, i), 0, {}, None, None) for i in range(1000)]
    other = [((1, i), 1, {}, None, None) for i in range(3)]
    households = [((0, i), 0, {}, None, (100, i)) for i in range(2)]
    got = batches(coarse + other + households, workers=1)
    assert [len(b) for b in got] == [BATCH] * 15 + [1000 - 15 * BATCH, 3, 1, 1]
    assert [t for b in got for t in b] == coarse + other + households  # every task, in order
    # small ensembles: at least four batches a worker, so that none waits on another
    assert [len(b) for b in batches(coarse[:200], workers=2)] == [25] * 8


def test_weather_drawn_after_the_divergence():
    nep, left, hist = (sovsim.load_scenario(n) for n in ("nep", "left", "historical"))
    assert ensemble.divergence_month(hist) is None
    assert calendar.label(ensemble.divergence_month(nep)) == "1927-07"
    assert ensemble.weather_first_year([nep]) == 1927
    assert ensemble.weather_first_year([left]) == 1928
    assert ensemble.weather_first_year([left, nep]) == 1927  # the earliest, for both
    with pytest.raises(SovsimError, match="--weather-from"):
        ensemble.weather_first_year([hist])
    record = np.asarray(load_inputs().weather_class)
    w = ensemble.member_weather(seed=1, member=4, first_year=1930)
    assert np.array_equal(w[:9], record[:9])  # the record before 1930
    for row in w[9:]:  # every later year is a whole year of the record
        assert any(np.array_equal(row, r) for r in record)
    assert np.array_equal(w, ensemble.member_weather(1, 4, 1930))  # addressed
    draws = np.stack([ensemble.member_weather(1, m, 1930) for m in range(20)])
    assert len({d.tobytes() for d in draws}) > 1


def test_weather_ensemble_shares_weather_across_scenarios(tmp_path):
    ens = ensemble.run(["historical", "nep"], members=2, store=tmp_path / "s",
                       draw_weather=True, names=[])
    assert ens.manifests["nep"]["weather"]["drawn_from"] == 1927
    st = ens.store
    for i in range(2):
        mh = st.get(ens.member_ids["historical"][i]).manifest
        mn = st.get(ens.member_ids["nep"][i]).manifest
        assert mh["weather_hash"] == mn["weather_hash"] is not None
        assert mh["parameters_hash"] == mn["parameters_hash"]
    # with no parameter drawn, members differ only by their weather
    h = ens.values("historical", "grain_harvest_t")
    assert np.array_equal(h[0, :6], h[1, :6])


def test_bad_inputs_are_refused_clearly(tmp_path, monkeypatch):
    with pytest.raises(SovsimError, match="--households 3: household rows per member"):
        ensemble.run("historical", members=2, households=3, store=False)
    with pytest.raises(SovsimError, match=r"--households 2\.5"):
        ensemble.run("historical", members=2, households=2.5, store=False)
    with pytest.raises(SovsimError, match="at least 1 member"):
        ensemble.run("historical", members=0, store=False)
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        ensemble.run("nope", members=2, store=False)
    with pytest.raises(SovsimError, match="--seed -1"):
        ensemble.run("historical", members=2, seed=-1, store=False)
    with pytest.raises(SovsimError, match="given twice"):
        ensemble.run(["nep", "nep"], members=2, store=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        ensemble.run("historical", members=1, store=tmp_path / "file")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("x")
    with pytest.raises(StoreError, match="not a sovsim store"):
        ensemble.run("historical", members=1, store=tmp_path / "docs")
    with pytest.raises(SovsimError, match=r"tcp://127\.0\.0\.1:9: nothing listens"):
        ensemble.run("historical", members=1, store=False, scheduler="tcp://127.0.0.1:9")


def _same(e1, e2):
    for name in e1.scenarios:
        for var in e1.annual[name]:
            np.testing.assert_array_equal(e1.annual[name][var], e2.annual[name][var])


def test_same_results_whatever_the_workers_local_and_dask():
    from distributed import Client, LocalCluster

    kw = {"members": 3, "seed": 2, "store": False}
    ref = ensemble.run("historical", workers=1, **kw)
    _same(ref, ensemble.run("historical", workers=2, **kw))
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=False,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            _same(ref, ensemble.run("historical", scheduler=client, **kw))
            # by address too, as from the command line
            if n == 2:
                _same(ref, ensemble.run("historical", scheduler=cluster.scheduler_address, **kw))


def test_cli_ensemble_writes_bands_and_differences(tmp_path):
    store = tmp_path / "store"
    r = runner.invoke(app, ["ensemble", "historical", "nep", "--members", "2", "--store",
                            str(store), "--out", str(tmp_path / "out"), "--format", "csv"])
    assert r.exit_code == 0, r.output
    bar = [ln for ln in r.output.splitlines() if "members/s" in ln]  # the progress bar
    assert bar and "4/4" in bar[-1] and "left" in bar[-1]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["ensemble_manifest.json", "historical_bands.csv",
                     "nep-minus-historical_difference_bands.csv", "nep_bands.csv"]
    diff = pd.read_csv(tmp_path / "out" / "nep-minus-historical_difference_bands.csv")
    assert set(diff["scenario"]) == {"nep - historical"}
    man = json.loads((tmp_path / "out" / "ensemble_manifest.json").read_text())
    assert man["manifests"]["nep"]["members"] == 2 and man["manifests"]["nep"]["seed"] == 0
    # the same again comes from the store
    r = runner.invoke(app, ["ensemble", "historical", "nep", "--members", "2", "--store",
                            str(store)])
    assert r.exit_code == 0, r.output
    assert "0 of 2 members run now" in r.output
    assert "median [5 %, 95 %]" in r.output and "(member by member)" in r.output


def test_cli_compare_with_members_shows_bands_and_plots(tmp_path):
    r = runner.invoke(app, ["compare", "historical", "nep", "--members", "2", "--store",
                            str(tmp_path / "s"), "--plot", str(tmp_path / "c.png")])
    assert r.exit_code == 0, r.output
    assert "nep - historical" in r.output and "excess deaths" in r.output
    assert (tmp_path / "c.png").stat().st_size > 10_000


@pytest.mark.parametrize("args,phrase", [
    (["ensemble", "historical", "--members", "0", "--no-store"], "at least 1 member"),
    (["ensemble", "historical", "--members", "2", "--households", "4", "--no-store"],
     "household rows per member"),
    (["ensemble", "nope", "--members", "2", "--no-store"], "unknown scenario"),
    (["ensemble", "historical", "--members", "2", "--format", "xls", "--no-store"],
     "--format"),
    (["compare", "historical", "allen:nep", "--members", "2"], "published models"),
])
def test_cli_bad_input_exits_2(args, phrase):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert phrase in " ".join(r.output.split())


def test_household_ensemble_bands_what_only_households_give(tmp_path):
    """--households: every member runs the household engine (seeded by member); the bands of
    its outcomes come beside the usual ones, the same in one process as in two."""
    one = ensemble.run(["historical", "nep"], members=3, households=2_000, store=False)
    two = ensemble.run(["historical", "nep"], members=3, households=2_000, store=False,
                       workers=2)
    b = one.household_bands("historical")
    pd.testing.assert_frame_equal(b, two.household_bands("historical"))
    assert {"p10_kg", "p50_kg", "deaths", "deported_persons", "quota_shortfall_t",
            "horses_change_share_entered_1930"} <= set(b.measure)
    wide = b.pivot_table(index=["period", "region", "class", "measure"], columns="quantile",
                         values="value")
    assert (wide.diff(axis=1).iloc[:, 1:] >= -1e-9).all().all()
    assert one.manifests["historical"]["resolution"] == "households"
    # the members differ (their parameters and their households' seeds)
    deaths = [d.query("measure == 'deaths' and period == '1933'").value.sum()
              for d in one.household["historical"]]
    assert len(set(deaths)) == 3
    written = {p.name for p in one.write(tmp_path, fmt="csv")}
    assert "historical_household_bands.csv" in written
    with pytest.raises(SovsimError, match="without households"):
        ensemble.run("historical", members=2, store=False).household_bands()


def test_household_ensemble_is_stored_and_read_back(tmp_path):
    kw = {"members": 2, "households": 1_500, "store": tmp_path / "s"}
    first = ensemble.run("historical", **kw)
    again = ensemble.run("historical", **kw)
    assert first.computed["historical"] == 2 and again.computed["historical"] == 0
    pd.testing.assert_frame_equal(first.household_bands(), again.household_bands())
    # an ensemble cut short before its own table was written: its members, and their
    # household summaries, are read back from their stored runs
    from sovsim.store import Store

    st = Store(tmp_path / "s")
    st.drop_files([st.rel(st.path(first.ids["historical"]) / "bands.parquet")], "test")
    third = ensemble.run("historical", **kw)
    assert third.computed["historical"] == 0
    pd.testing.assert_frame_equal(first.household_bands(), third.household_bands())
