"""Calibration: the loss is computed from history honestly; the full fit runs on request."""

import pytest

from sovsim.params import load_parameters
from sovsim.uncertainty import calibrate


def test_loss_has_every_target_with_data_and_the_famine_band():
    from sovsim.history import targets

    total, parts = calibrate.loss({})
    assert total > 0
    with_data = set(targets.view()["target"])
    for series, region in calibrate.TARGETS:
        assert (f"{series}:{region}" in parts) == (f"{series}:{region}" in with_data)
    assert len(parts) >= 10
    assert "famine_1930_34" in parts and "famine_1921_22" in parts
    lo, hi = calibrate.famine_band()
    assert 4e6 < lo < hi < 1e7


def test_worse_parameters_give_a_worse_loss():
    good, _ = calibrate.loss({})
    bad, _ = calibrate.loss({"agriculture.ha_per_horse": 2.0, "agriculture.ha_per_worker": 1.0})
    assert bad > good


def test_every_calibrated_parameter_has_bounds():
    spec = calibrate.calibrated_parameters(load_parameters())
    assert len(spec) >= 15
    assert all(lo < hi for _, lo, hi in spec)


def test_values_file_round_trips(tmp_path):
    from sovsim.params import load_overrides

    path = calibrate.write_values({"agriculture.ha_per_horse": 3.5}, tmp_path / "v.toml")
    assert load_overrides(path) == {"agriculture.ha_per_horse": 3.5}


@pytest.mark.slow
def test_full_calibration_does_not_worsen_the_shipped_fit():
    start, _ = calibrate.loss({})
    fit = calibrate.fit(maxfev=300)
    assert fit.loss <= start + 1e-9
