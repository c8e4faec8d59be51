"""Bands that mean something (issue 16): coverage of the record by posterior ensembles, and
no member that leaves physical sense."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sovsim.cli.main import app
from sovsim.errors import SovsimError
from sovsim.uncertainty import coverage as cov


@pytest.fixture(scope="module")
def small():
    return cov.coverage(20, seed=1)


def test_a_small_posterior_ensemble_stays_physical(small):
    """No member of a posterior ensemble reaches zero horses, cattle or town population."""
    assert small.failed == 0
    assert small.degenerate.empty, small.degenerate.head().to_string()


def test_coverage_is_measured_on_fitted_and_unfitted_points(small):
    s = small.summary.set_index("set")
    assert set(s.index) == {"fit", "out of sample"}
    assert (s["n"] > 20).all()
    assert ((s["rate"] >= 0) & (s["rate"] <= 1)).all()
    pts = small.points
    assert (pts["q05"] <= pts["q50"]).all() and (pts["q50"] <= pts["q95"]).all()
    # covered means the 5-95 % band meets the band of the record
    meets = (pts["q95"] >= pts["lo"]) & (pts["q05"] <= pts["hi"])
    assert (pts["covered"] == meets).all()
    assert "calibrated posterior" in small.drawn_from


def test_too_few_members_are_refused():
    with pytest.raises(SovsimError, match="from 10 to"):
        cov.coverage(5)
    res = CliRunner().invoke(app, ["validate", "--coverage", "3"])
    assert res.exit_code == 2 and "from 10 to" in res.output
