"""The household engine (sovsim.households.engine): the same model with every household a row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sovsim
from sovsim.api import shipped_parameters
from sovsim.cli import app
from sovsim.engine.simulation import simulate
from sovsim.errors import InputError
from sovsim.households import engine_kernels as K
from sovsim.households.engine import simulate_households

REL = 1e-6


@pytest.fixture(scope="module")
def historical():
    return sovsim.load_scenario("historical"), shipped_parameters()


@pytest.fixture(scope="module")
def shared_run(historical):
    """Heterogeneity off: the households' own arithmetic is the cell model's."""
    sc, p = historical
    return simulate_households(sc, p, households=20_000, heterogeneity=False, panel=4)


def _close(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() <= REL * np.maximum(b.abs(), 1.0)


def test_no_heterogeneity_households_sum_to_the_cell_run(shared_run, historical):
    records, out = shared_run
    sc, p = historical
    cells = simulate(sc, p)
    for name, arr in cells.items():  # the standard outputs are the cell model's
        np.testing.assert_array_equal(records[name], arr, err_msg=name)
    # Every stock, by region, at the end of every June: the households' own sums (before any
    # alignment) against the cell model's.
    tot = out.tables["household_totals"]
    june = tot[tot.period.str.endswith("-06")]
    by_region = june.groupby(["period", "region", "stock"])[
        ["households_value", "cell_model_value"]].sum()
    assert len(by_region) == 20 * 5 * 6
    bad = by_region[~_close(by_region.households_value, by_region.cell_model_value)]
    assert bad.empty, bad.head()
    # Every flow the cell model has, by region and year: the households' flows add up to it.
    fl = out.tables["household_flows"].dropna(subset=["cell_model_value"])
    yearly = fl.groupby(["year", "region", "variable"])[["value", "cell_model_value"]].sum()
    assert {"births", "deaths", "out_migrants", "harvest_net_t", "procured_t",
            "deported_persons", "confiscated_t", "horses_net_loss_head"} <= set(
        yearly.index.get_level_values("variable"))
    bad = yearly[~_close(yearly.value, yearly.cell_model_value)]
    assert bad.empty, bad.head()
    assert out.tables["household_flows"].query("variable == 'deported_persons'").value.sum() > 1e5
    assert out.facts["unmatched_moves"] == 0


def test_alignment_table_shows_the_gap_of_the_shared_run(shared_run):
    _, out = shared_run
    al = out.tables["household_alignment"]
    months = al[al.period != "start"]
    assert len(months) == 240 * 6
    assert months.total_gap.max() < REL
    assert months.max_cell_gap.max() < 1e-4
    assert (months.unrepresented_share == 0).all()
    # the population as drawn differs from the cell model's 1921 state (sampling): shown
    assert al[al.period == "start"].max_cell_gap.max() > 1e-4


def test_draws_do_not_depend_on_threads_or_chunks(historical):
    """Several blocks of households, heterogeneity on, through dekulakization and the
    harvests of 1930-31: the same numbers on one thread as on all, whatever the chunks."""
    numba = pytest.importorskip("numba")
    sc, p = historical
    kw = {"households": 3 * K.BLOCK + 123, "months": 132, "panel": 6, "seed": 3}
    rec_a, out_a = simulate_households(sc, p, **kw)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        rec_b, out_b = simulate_households(sc, p, chunk_size=7_777, **kw)
    finally:
        numba.set_num_threads(before)
    for name in rec_a:
        np.testing.assert_array_equal(rec_a[name], rec_b[name])
    assert out_a.tables.keys() == out_b.tables.keys()
    for name, table in out_a.tables.items():
        pd.testing.assert_frame_equal(table, out_b.tables[name], check_exact=True, obj=name)
    moved = out_a.tables["household_flows"]
    assert moved.query("variable == 'deported_households'").value.sum() > 0
    assert moved.query("variable == 'joined_kolkhoz_households'").value.sum() > 0


def test_fast_route_equals_household_route(historical, monkeypatch):
    """``advance`` takes the households of a block's own cell that farm alone through loops
    written for them (``_home_stayers``, ``_home_shocks``); with every block marked as
    holding rows added later, every row goes through ``_household`` instead. Through the
    moves and harvests of 1929-31, the two routes give the same run (to the rounding of a
    different order of sums)."""
    from sovsim.households import engine as E

    sc, p = historical
    kw = {"households": 3 * K.BLOCK + 123, "months": 132, "panel": 3, "seed": 5}
    rec_a, out_a = simulate_households(sc, p, **kw)
    build = E._initial_table

    def household_route(*args):
        table = build(*args)
        table.home[:] = -1
        return table

    monkeypatch.setattr(E, "_initial_table", household_route)
    rec_b, out_b = simulate_households(sc, p, **kw)
    for name in rec_a:
        np.testing.assert_allclose(rec_a[name], rec_b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    for name in ("household_flows", "household_grain_per_head", "household_panel"):
        a, b = out_a.tables[name], out_b.tables[name]
        assert a.shape == b.shape
        for col in a.select_dtypes("number"):
            np.testing.assert_allclose(a[col], b[col], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name}.{col}")
    moved = out_a.tables["household_flows"]
    assert moved.query("variable == 'joined_kolkhoz_households'").value.sum() > 0


def test_heterogeneity_gives_distributions_and_keeps_close_to_the_cells(historical):
    sc, p = historical
    _, out = simulate_households(sc, p, households=30_000, panel=5, observe=("1933-05",))
    g = out.tables["household_grain_per_head"]
    assert set(g.period) == {"1933-05"}
    q = g[["p10_kg", "p25_kg", "p50_kg", "p75_kg", "p90_kg"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    ukr = g.query("region == 'ukraine' and `class` == 'middle' and tenure == 'individual'")
    assert len(ukr) == 1 and ukr.p90_kg.iloc[0] > ukr.p10_kg.iloc[0]
    assert ((g.share_without_grain >= 0) & (g.share_without_grain <= 1)).all()
    # The households' own arithmetic (shocks, caps, hunger) stays near the cells' totals:
    # the alignment closes gaps of well under one per cent of a region's persons.
    tot = out.tables["household_totals"].query("stock == 'persons'")
    reg = tot.groupby(["period", "region"])[["households_value", "cell_model_value"]].sum()
    gap = (reg.households_value / reg.cell_model_value - 1).abs()
    assert gap.max() < 0.01
    horses = out.tables["household_horses"]
    joined = horses.query("region == 'USSR' and entered_kolkhoz == '1930' and tenure_now == "
                          "'all' and period == '1934-06'")
    assert len(joined) == 1 and joined.change_share.iloc[0] < 0
    # Who slaughters is each household's draw; the horses slaughtered stay near the cells'.
    flows = out.tables["household_flows"].query("year == 1930")
    by = flows.groupby("variable")[["value", "cell_model_value"]].sum()
    assert by.loc["slaughtering_households", "value"] > 0
    slaughtered = by.loc["horses_slaughtered_head"]
    assert slaughtered.value == pytest.approx(slaughtered.cell_model_value, rel=0.05)
    # Kolkhoz households hold their cell's shares, so their harvest and deliveries are the
    # cell's (a kolkhoz once got no harvest here: its area key was summed only for households
    # farming alone, and the alignment hid it in the stocks but not in the flows).
    kol = out.tables["household_flows"].query("year == 1934 and tenure == 'kolkhoz'")
    kol = kol.groupby("variable")[["value", "cell_model_value"]].sum()
    for var in ("harvest_net_t", "procured_t"):
        assert kol.loc[var, "value"] == pytest.approx(kol.loc[var, "cell_model_value"], rel=0.01)
    # and the households' own arithmetic stays near the cells' totals in every month
    assert out.tables["household_alignment"].total_gap.abs().max() < 0.05
    # Who dies and who leaves are each household's draws: whole persons of the panel's
    # households (the expected shares were fractions every month), in a few months of many.
    panel = out.tables["household_panel"]
    for col in ("deaths", "out_migrants"):
        x = panel[col].to_numpy()
        assert np.abs(x - np.round(x)).max() < 1e-6, col
        assert 0 < (x > 0).mean() < 0.2, col
    assert {"died_out_households", "all_left_households"} <= set(flows.variable)
    assert set(panel.fate) <= {"farming alone", "in a kolkhoz", "deported", "died out",
                               "left for the towns"}
    assert "farming alone" in set(panel.fate) and panel.died_out.dtype == bool
    # a household's persons fall by its deaths and migrants (its size is kept in the table)
    lost = panel[(panel.deaths > 0) & (panel.tenure == "individual") & ~panel.died_out]
    k = lost.index[lost.index >= 5][0]
    before, after = panel.loc[k - 5], panel.loc[k]  # (5 households a month)
    assert before.household_id == after.household_id
    assert before.household_persons - after.household_persons == pytest.approx(
        after.deaths + after.out_migrants, abs=0.25)  # (less the month's births, aligned)


def test_slaughter_draw_keeps_the_cells_expected_herd():
    """A household slaughters with probability q and keeps its animals otherwise; on average
    its herd follows the cell's factor (month_inputs.slaughter_inputs)."""
    from sovsim.households.month_inputs import slaughter_inputs

    cp = np.zeros((3, K.N_CP))
    cp[:, K.CP.fh] = [0.9, 0.5, 1.0]
    cp[:, K.CP.fc] = [0.95, 0.6, 1.0]
    before = np.array([[100.0, 100.0, 100.0], [50.0, 50.0, 50.0]])
    slaughter = np.array([[10.0, 60.0, 0.0], [5.0, 30.0, 0.0]])  # shares 0.1, 0.6, 0
    slaughter_inputs(cp, before, slaughter, np.ones(3), 0.5)
    q = cp[:, K.CP.sq]
    assert q == pytest.approx([0.2, 1.0, 0.0])
    expected_h = (1 - q) * cp[:, K.CP.fhk] + q * cp[:, K.CP.fhs]
    expected_c = (1 - q) * cp[:, K.CP.fck] + q * cp[:, K.CP.fcs]
    assert expected_h == pytest.approx(cp[:, K.CP.fh])
    assert expected_c == pytest.approx(cp[:, K.CP.fc])
    # heterogeneity off: no draw, every household the cell's factor
    slaughter_inputs(cp, before, slaughter, np.zeros(3), 0.5)
    assert (cp[:, K.CP.sq] == 0).all() and (cp[:, K.CP.fhk] == cp[:, K.CP.fh]).all()


def test_vital_counts_are_independent_poisson_counts():
    """Deaths and out-migrants drawn in two stages (a screen uniform, then the rest of the
    joint law) have the Poisson law of each, independently, and their caps."""
    from sovsim.population.rng import stream_key

    lam = np.linspace(0.0, 2.0, 41)
    assert [K.exp_neg(x) for x in lam] == pytest.approx(np.exp(-lam), rel=1e-9)
    key = stream_key(7, 104, 5)
    n, lam_d, lam_m = 200_000, 0.3, 0.1
    draws = np.array([K.vital_counts(key, i, K.screen_uniform(key, i), lam_d, lam_m, 9.0)
                      for i in range(n)])
    d, m = draws[:, 0], draws[:, 1]
    se = 4 / np.sqrt(n)  # four standard errors, about
    assert d.mean() == pytest.approx(lam_d, abs=4 * np.sqrt(lam_d / n))
    assert m.mean() == pytest.approx(lam_m, abs=4 * np.sqrt(lam_m / n))
    assert d.var() == pytest.approx(lam_d, rel=0.03)
    assert (d == 0).mean() == pytest.approx(np.exp(-lam_d), abs=se)
    assert (d == 2).mean() == pytest.approx(np.exp(-lam_d) * lam_d**2 / 2, abs=se)
    assert ((d == 0) & (m == 0)).mean() == pytest.approx(np.exp(-lam_d - lam_m), abs=se)
    assert ((d > 0) & (m > 0)).mean() == pytest.approx(
        (1 - np.exp(-lam_d)) * (1 - np.exp(-lam_m)), abs=se)
    # at most the household's persons (rounded) die, and at most those left leave
    capped = np.array([K.vital_counts(key, i, K.screen_uniform(key, i), 5.0, 5.0, 2.2)
                       for i in range(2000)])
    assert capped[:, 0].max() == 2.0 and (capped.sum(axis=1) <= 2.0).all()
    # the screen: below 1 - lam_d - lam_m a household has neither (exp(-x) >= 1 - x)
    s = np.array([K.screen_uniform(key, i) for i in range(n)])
    assert s.min() >= 0.0 and s.max() < 1.0 and s.mean() == pytest.approx(0.5, abs=0.005)
    calm = s < 1 - lam_d - lam_m
    assert ((d[calm] == 0) & (m[calm] == 0)).all()


def test_hunger_key():
    assert K.hunger_key(0.0, 5.0, 2.0, 2.0) == pytest.approx(3.0)
    assert K.hunger_key(1.0, 2.0, 2.0, 2.0) == pytest.approx(1.0)  # the cell's grain per head
    assert K.hunger_key(2.0, 2.0, 2.0, 2.0) == pytest.approx(3.0 / 5.0)
    assert K.hunger_key(0.0, 5.0, 2.0, 0.0) == 1.0


def test_panel_traces_households_month_by_month(shared_run):
    _, out = shared_run
    panel = out.tables["household_panel"]
    assert len(panel) == 4 * 240
    assert panel.household_id.nunique() == 4
    assert (panel.weight > 0).all() and (panel.persons > 0).all()
    assert set(panel.tenure) <= {"individual", "kolkhoz", "deported"}
    assert {"grain_t", "procured_t", "horses", "deaths", "entered_kolkhoz"} <= set(panel)


@pytest.mark.parametrize(("kw", "words"), [
    ({"households": 0}, "at least 5"),
    ({"households": 2.5}, "whole number"),
    ({"households": True}, "whole number"),
    ({"households": 1000, "panel": 1001}, "panel"),
    ({"households": 1000, "months": 0}, "months"),
    ({"households": 10**9}, "households"),
    ({"households": 1000, "observe": ("1950-01",)}, "1950"),
])
def test_bad_input_is_refused_by_name(historical, kw, words):
    sc, p = historical
    with pytest.raises(InputError, match=words):
        simulate_households(sc, p, **kw)


def test_cli_household_run_writes_its_tables(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "historical", "--households", "3000", "--panel", "2",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    for table in ("flows", "grain_per_head", "horses", "panel", "alignment", "totals"):
        assert f"historical_household_{table}.csv" in names
    manifest = json.loads((out / "historical_manifest.json").read_text())
    assert manifest["resolution"] == "households"
    assert manifest["households"]["households"] == 3000
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def test_cli_household_run_refusals(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["run", "historical", "--households", "-3"])
    assert res.exit_code == 2 and "households" in res.output
    res = runner.invoke(app, ["run", "historical", "--panel", "3"])
    assert res.exit_code == 2 and "--households" in res.output


def test_ctrl_c_stops_with_nothing_written(tmp_path, monkeypatch):
    calls = []

    def interrupt(done, total):
        calls.append(done)
        if done == 5:
            raise KeyboardInterrupt

    real_run = sovsim.api.run  # (the command line calls sovsim.api.run)
    monkeypatch.setattr(sovsim.api, "run", lambda *a, **k: real_run(*a, **{**k, "progress": interrupt}))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "historical", "--households", "2000", "--out", str(out)])
    assert res.exit_code == 130
    assert "nothing was written" in res.output
    assert calls[-1] == 5
    assert not out.exists() or not any(out.iterdir())


def test_bench_prints_the_figures_asked_for():
    res = CliRunner().invoke(app, ["bench", "--households", "3000", "--months", "12", "--json",
                                   "--repeat", "2", "--mesa-agents", "2000"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for key in ("households", "months", "wall_s", "household_months_per_s", "peak_rss_bytes",
                "triad_bytes_per_s", "roofline_ratio", "bytes_per_household_month"):
        assert out[key] > 0, key
    assert out["households"] == 3000 and out["months"] == 12
    # the fastest of the two runs is the one reported
    assert len(out["run_s_all"]) == 2 and out["run_s"] == min(out["run_s_all"])
    # beside it, the Mesa 3 model of the household rule (tests/test_mesa_benchmark.py)
    mesa = out["mesa"]
    if "skipped" not in mesa:
        assert mesa["agents"] == 2000 and mesa["aim"] == 300
        for key in ("mesa_agent_months_per_s", "rule_speedup", "engine_speedup"):
            assert mesa[key] > 0, key


def test_bench_sweeps_sizes_in_rounds():
    res = CliRunner().invoke(app, ["bench", "--households", "2000", "--households", "4000",
                                   "--months", "6", "--repeat", "2", "--json",
                                   "--mesa-agents", "0"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert [s["households"] for s in out["sizes"]] == [2000, 4000]
    rates = [s["household_months_per_s"] for s in out["sizes"]]
    assert out["flatness"] == pytest.approx(min(rates) / max(rates))
    assert all(len(s["run_s_all"]) == 2 for s in out["sizes"]) and out["peak_rss_bytes"] > 0
    assert "mesa" not in out


def test_thread_groups_cover_every_block_once_at_about_equal_rows():
    bounds = np.array([0, 65536, 82950, 148486, 185650, 197500, 1_000_000])
    for n in (1, 2, 3, 8):
        g = K.thread_groups(bounds, n)
        assert g[0] == 0 and g[-1] == bounds.size - 1 and len(g) == n + 1
        assert (np.diff(g) >= 0).all()
    g = K.thread_groups(np.array([0, 40, 60, 100]), 2)
    assert list(g) == [0, 1, 3] or list(g) == [0, 2, 3]  # 40 or 60 rows to the first thread
