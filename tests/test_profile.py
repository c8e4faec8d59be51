"""``sovsim run --profile``: the profiled run is the fused run (its numbers the same), and
each step of ``schedule.STEPS`` gets its share of the time."""

import inspect
import re

import numpy as np

from sovsim.api import shipped_parameters
from sovsim.engine import schedule
from sovsim.engine.profile import profile, report
from sovsim.engine.simulation import simulate
from sovsim.scenario import load_scenario


def test_profiled_run_equals_the_fused_run():
    sc, p = load_scenario("historical"), shipped_parameters()
    prof = profile(sc, p, repeat=1)
    fused = simulate(sc, p)
    for var, arr in fused.items():
        np.testing.assert_array_equal(prof.records[var], arr, err_msg=var)
    assert [r.step for r in prof.rows] == [s.name for s in schedule.STEPS] + ["ledger"]
    assert abs(sum(r.share for r in prof.rows) - 1) < 1e-9
    assert all(r.calls == 240 and r.cycles > 0 for r in prof.rows)
    text = report(prof)
    for s in schedule.STEPS:
        assert s.name in text


def test_month_step_calls_the_steps_in_the_declared_order():
    """``STEPS`` is the order month_step runs, and each lap counts the step before it."""
    src = inspect.getsource(schedule.month_step.py_func
                            if hasattr(schedule.month_step, "py_func") else schedule.month_step)
    called = re.findall(r"^\s+(?:code = )?(step_\w+)\(", src, re.M)
    assert called == [s.kernel.__name__ for s in schedule.STEPS]
    laps = [int(i) for i in re.findall(r"lap\(sc\.ticks, (\d+)", src)]
    assert laps == list(range(len(schedule.STEPS)))
