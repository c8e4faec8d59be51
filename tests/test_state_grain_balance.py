"""The state's grain balance (results.state_grain, ``sovsim run --grain-balance``): it closes
for every crop year of the historical run, and the monthly invariant catches a leak in a
state flow (engine.invariants.state_grain_check)."""

import numpy as np
import pytest

from sovsim import calendar
from sovsim.api import shipped_parameters
from sovsim.engine import invariants, schedule
from sovsim.engine.flows import (
    STATE_IN_SCALAR,
    STATE_IN_UNIT,
    STATE_OUT_SCALAR,
    STATE_OUT_UNIT,
    S,
)
from sovsim.engine.packed import instrument_records, memory, param_record
from sovsim.inputs import load_inputs
from sovsim.mechanisms.demography import unit_labels
from sovsim.results.state_grain import (
    balance,
    compare_history,
    format_balance,
    state_grain_months,
)
from sovsim.scenario import load_scenario
from sovsim.state import initial_state


@pytest.fixture(scope="module")
def months():
    return state_grain_months(load_scenario("historical"), shipped_parameters())


def test_the_balance_closes_every_crop_year(months):
    years = balance(months)
    assert len(years) == calendar.N_MONTHS // 12 - 1
    for y in years:
        scale = max(y.opening, y.closing, 1.0)
        assert abs(y.residual) / scale < 1e-9, (y.year, y.residual)
        for side in (y.sources, y.uses):  # the regional lines add up to their flow
            for name in {k.split(":")[0] for k in side if ":" in k}:
                parts = sum(v for k, v in side.items() if k.startswith(name + ":"))
                assert parts == pytest.approx(side[name])
    assert "1932/33" in format_balance(years)


def test_the_months_link_up(months):
    assert np.allclose(months.stock_start[1:], months.stock_end[:-1])
    assert (months.stock_end >= 0).all()
    assert (months.stock_end + 1e-6 >= months.reserve_end).all()


def test_historical_loans_are_lent_and_repaid(months):
    """The 1933 loans of the historical scenario reach Ukraine and Kazakhstan; Ukraine repays
    from the 1933 harvest, Kazakhstan's deferral holds until the 1934 harvest."""
    y32 = {y.year: y for y in balance(months)}
    assert y32[1932].uses["food_loan_t:ukraine"] > 1e5
    assert y32[1932].uses["seed_loan_t:kazakhstan"] == pytest.approx(104832, rel=1e-3)
    assert y32[1933].sources.get("loan_repaid_t:ukraine", 0) > 0
    assert y32[1933].sources.get("loan_repaid_t:kazakhstan", 0) == 0
    assert y32[1934].sources.get("loan_repaid_t:kazakhstan", 0) > 0


def test_history_rows_are_all_shown(months):
    rows = compare_history(months)
    assert rows and all(len(r) == 5 for r in rows)
    army = [r for r in rows if r[0] == "army_grain_use_t"]
    assert army and "800,000" in army[0][4]


def test_a_leak_in_a_state_flow_is_caught():
    """A month that closes passes the check; the same month with 1,000 t more booked to the
    camps than left the stock (or less) fails it."""
    sc_ = load_scenario("historical")
    inputs = load_inputs()
    pv = shipped_parameters().values()
    h, macro = initial_state(pv)
    mem = memory()
    lab = h.labelled(unit_labels)
    sc = schedule.scratch(len(h), lab)
    POL = instrument_records(sc_.timeline())
    P = param_record(pv)
    st = schedule.State(h.values, macro.values, mem)
    target = calendar.parse_month("1933-03")
    for month in range(target + 1):
        before = macro.values[0].state_grain_t
        t = schedule.clock(month, month, inputs.weather_class, inputs.world_grain_price,
                           inputs.first_year, False)
        assert schedule.month_step(st, lab, P, POL, sc, t) == 0
    after = macro.values[0].state_grain_t
    assert sc.so[S.gulag_t] > 0

    def check(so):
        s_in, s_out = invariants.state_flow_totals(sc.uo, so, STATE_IN_UNIT, STATE_OUT_UNIT,
                                                   STATE_IN_SCALAR, STATE_OUT_SCALAR)
        return invariants.state_grain_check(before, after, s_in, s_out, mem[0].reserve_t,
                                            np.zeros(4))

    assert check(sc.so) == 0
    for leak in (1e3, -1e3):
        so = sc.so.copy()
        so[S.gulag_t] += leak
        assert check(so) == invariants.STATE_GRAIN
