"""The Mesa 3 comparison of the household benchmark (benchmarks/mesa_households.py): the
agents, the numpy columns and the compiled kernel run the same rule to the same numbers, so
the speed ratio `sovsim bench --households` prints compares equal work."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mesa")
PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "mesa_households.py"


@pytest.fixture(scope="module")
def rule():
    spec = importlib.util.spec_from_file_location("mesa_households_under_test", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mesa_agents_numpy_and_compiled_rule_agree(rule):
    k, inputs = rule.constants(24)
    assert list(inputs[:12, 0]) == list(range(1, 13))  # calendar months from January
    assert inputs[3, 1] > 0 and inputs[8, 1] > 0  # sowing in April and September
    assert inputs[:, 3].max() > 0  # a quota is in force (1932-33)
    x = rule.initial_state(3000, seed=2)
    ref = rule.rule_numpy(x, k, inputs)
    agents, seconds = rule.run_mesa(x, k, inputs)
    compiled = x.copy()
    rule.rule_numba(compiled, k, inputs)
    np.testing.assert_allclose(agents, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(compiled, ref, rtol=1e-12, atol=1e-12)
    assert seconds > 0
    # the rule did its work: crops sown and brought in, quotas set and paid, food eaten
    assert (ref[:, rule.AREA_LAST] > 0).mean() > 0.5
    assert ref[:, rule.GRAIN].sum() != pytest.approx(x[:, rule.GRAIN].sum(), rel=1e-3)
    assert (ref[:, rule.GRAIN] >= 0).all()


def test_compare_reports_the_speed_ratio(rule):
    out = rule.compare(households=2000, months=12, repeat=2)
    assert out["agents"] == 2000 and out["months"] == 12
    assert out["rule_speedup"] == pytest.approx(out["mesa_s"] / out["rule_s"])
    assert out["mesa_agent_months_per_s"] > 0
