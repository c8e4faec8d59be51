"""Invariants in every shipped scenario; determinism; mechanisms respond as the economics says."""

import os
import subprocess
import sys

import numpy as np
import pytest

import sovsim
from sovsim import calendar
from sovsim.engine import invariants
from sovsim.errors import InvariantError
from sovsim.regions import REGIONS


def test_every_scenario_runs_clean(all_runs):
    # The engine checks the grain balance (1e-9), people, NaN and negatives every month and
    # raises InvariantError otherwise; here the outputs are checked once more.
    for name, res in all_runs.items():
        for var, arr in res.records.items():
            ussr = arr[:, 0]
            assert np.all(np.isfinite(ussr)), f"{name}: {var} not finite"
            if var not in ("migrants_to_towns_persons",):  # a net flow: towns can empty
                assert np.all(arr[np.isfinite(arr)] >= -1e-6), f"{name}: {var} negative"


def test_grain_balance_check_catches_a_leak():
    flows = dict.fromkeys(("harvest_t", "relief_t", "seed_t", "feed_t", "food_t", "procured_t",
                           "private_sales_t", "losses_t", "confiscated_t", "seed_loan_t",
                           "food_loan_t", "loan_repaid_t"), 0.0)
    flows["harvest_t"] = 100.0
    invariants.check_grain_balance(0, 0.0, 100.0, flows, "test")
    with pytest.raises(InvariantError, match="grain balance"):
        invariants.check_grain_balance(0, 0.0, 100.0 + 1e-5, flows, "test")


LEAK = """
import sys
import sovsim
import sovsim.engine.schedule as S
from sovsim.errors import InvariantError

real = S.household_food


def leaky(hv, *args):
    out = real(hv, *args)
    hv[S.GRAIN] *= 0.999  # grain vanishing without a booked flow
    return out


S.household_food = leaky
try:
    sovsim.run("historical")
except InvariantError as exc:
    print(exc)
    sys.exit(0)
sys.exit(1)
"""


def test_a_leaking_mechanism_is_caught():
    # The month is compiled; without the compiler (NUMBA_DISABLE_JIT) it is plain Python, whose
    # mechanisms can be replaced: one that loses grain without booking it stops the run.
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", LEAK], env=env, capture_output=True, text=True,
                          check=False,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1921-01: rural grain balance off by" in done.stdout


def test_people_are_conserved(historical):
    m = historical.records
    pop = m["population_persons"][:, 0]
    change = np.diff(pop)
    # (issue 15, kazakh: those who flee abroad leave the population, a declared outflow)
    natural = (m["births_persons"][1:, 0] - m["deaths_persons"][1:, 0]
               - m["fled_abroad_persons"][1:, 0])
    assert np.allclose(change, natural, rtol=0, atol=1e-6 * pop.max())


def test_same_scenario_and_seed_give_identical_numbers():
    a, b = sovsim.run("historical", seed=7), sovsim.run("historical", seed=7)
    for var in a.records:
        assert np.array_equal(a.records[var], b.records[var], equal_nan=True)


def test_regions_sum_to_the_union(historical):
    for var in ("grain_harvest_t", "horses_head", "rural_population_persons", "excess_deaths_persons"):
        arr = historical.records[var]
        if var == "excess_deaths_persons":  # towns' famine deaths are in the USSR total only
            assert np.all(arr[:, 1:].sum(axis=1) <= arr[:, 0] + 1e-6)
        else:
            assert np.allclose(arr[:, 1:].sum(axis=1), arr[:, 0])


def test_no_collectivization_in_nep(all_runs):
    share = all_runs["nep"].series("collectivized_share")
    assert share.max() < 0.01
    assert all_runs["historical"].series("collectivized_share")["1935"] > 0.5


def test_exports_follow_the_target_when_stocks_allow(all_runs):
    exports = all_runs["historical"].series("grain_exports_t")
    assert exports["1931"] > 1e6 and exports["1936"] == 0.0


def test_passports_cut_migration():
    base = sovsim.run("historical")
    free = sovsim.run("historical", overrides={"demography.passport_migration_cut": 0.0})
    y = [str(x) for x in range(1933, 1941)]
    assert (free.series("migrants_to_towns_persons")[y].sum()
            > base.series("migrants_to_towns_persons")[y].sum())


def test_harsher_famine_mortality_kills_more(tmp_path):
    # A scenario that strips the villages bare in the winter of 1932-33.
    harsh = tmp_path / "harsh.toml"
    harsh.write_text('extends = "historical"\n'
                     '[[change]]\ndate = "1932-11"\ninstrument = "procurement_floor_kg_per_person_year"\nvalue = 0.0\n'
                     '[[change]]\ndate = "1932-11"\ninstrument = "enforcement_efficiency"\nvalue = 1.0\n'
                     '[[change]]\ndate = "1932-11"\ninstrument = "procurement_plan_t"\nvalue = 40000000.0\n')
    lo = sovsim.run(harsh, overrides={"demography.famine_mortality_per_month": 0.02})
    hi = sovsim.run(harsh, overrides={"demography.famine_mortality_per_month": 0.2})
    base = sovsim.run("historical")
    y = [str(x) for x in range(1930, 1935)]
    assert lo.series("excess_deaths_persons")[y].sum() > 0
    assert (sovsim.run(harsh).series("excess_deaths_persons")[y].sum()
            > base.series("excess_deaths_persons")[y].sum())
    y = [str(x) for x in range(1930, 1935)]
    assert hi.series("excess_deaths_persons")[y].sum() > lo.series("excess_deaths_persons")[y].sum()


def test_calendar():
    assert calendar.parse_month("1921-01") == 0 and calendar.label(239) == "1940-12"
    assert calendar.harvest_year(calendar.parse_month("1933-02")) == 1932
    assert calendar.months_to_harvest(calendar.parse_month("1933-06")) == 1
    assert calendar.months_to_harvest(calendar.parse_month("1933-07")) == 12
    with pytest.raises(ValueError):
        calendar.parse_month("1933-00")
    assert len(REGIONS) == 5


def test_a_run_resumed_from_a_trace_is_bitwise_the_run_from_1921():
    """A run may start from another run's state in the January before their instruments part
    (the web app does); its numbers must be exactly those of a run from January 1921."""
    from sovsim.api import shipped_parameters
    from sovsim.engine.simulation import simulate, simulate_traced, stacked_timeline
    from sovsim.inputs import load_inputs
    from sovsim.scenario import load_scenario, scenario_from_dict

    p, inputs = shipped_parameters(), load_inputs()
    _, trace = simulate_traced(load_scenario("historical"), p, inputs)
    cases = {
        "parts in mid-1930": ({"extends": "historical", "change": [
            {"date": "1930-07", "instrument": "grain_export_target_t", "value": 1234.0}]}, 114, 108),
        "parts at once": ({"extends": "historical", "change": [
            {"date": "1921-01", "instrument": "passports", "value": True}]}, 0, 0),
        "never parts": ({"extends": "historical"}, 240, 228),
    }
    for name, (raw, shared, start) in cases.items():
        sc = scenario_from_dict(raw)
        assert trace.shared_months(stacked_timeline(sc)) == shared, name
        resumed, new_trace = simulate_traced(sc, p, inputs, resume=trace)
        assert new_trace.started == start and max(new_trace.checkpoints) == 228, name
        full = simulate(sc, p, inputs)
        for var in full:
            np.testing.assert_array_equal(resumed[var], full[var], err_msg=f"{name}: {var}")
    # a trace of other parameters is not used
    other = p.with_overrides({"agriculture.yield_trend_per_year": 0.01})
    sc = scenario_from_dict(cases["parts in mid-1930"][0])
    resumed, _ = simulate_traced(sc, other, inputs, resume=trace)
    for var, arr in simulate(sc, other, inputs).items():
        np.testing.assert_array_equal(resumed[var], arr, err_msg=var)
