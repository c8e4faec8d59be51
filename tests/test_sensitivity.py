"""Sensitivity: Sobol indices through the code path of `sovsim sensitivity` recover the
Ishigami function's known indices; the command runs, writes its table and chart, and refuses
bad input with a message naming the option."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sovsim.cli import app
from sovsim.errors import InputError
from sovsim.params import Prior
from sovsim.uncertainty import sensitivity as sa

runner = CliRunner()
PI = np.pi
A, B = 7.0, 0.1
# Ishigami & Homma (1990); indices from Sobol' & Levitan (1999) / Saltelli et al. (2008), p. 179:
# V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2, V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8,
# V13 = b^2 pi^8 (1/18 - 1/50), V3 = 0.
V = A**2 / 8 + B * PI**4 / 5 + B**2 * PI**8 / 18 + 0.5
V1 = 0.5 * (1 + B * PI**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * PI**8 * (1 / 18 - 1 / 50)
EXACT = {"x1": (V1 / V, (V1 + V13) / V), "x2": (V2 / V, V2 / V), "x3": (0.0, V13 / V)}


def ishigami(x):
    """Module level, so worker processes can be sent it."""
    return {"y": np.sin(x["x1"]) + A * np.sin(x["x2"]) ** 2 + B * x["x3"] ** 4 * np.sin(x["x1"]),
            "x2_only": np.sin(x["x2"])}


def uniform(lo, hi):
    return Prior("uniform", {"lo": lo, "hi": hi}, "test input", lo, hi)


@pytest.mark.parametrize("workers", [1, 2])
def test_ishigami_indices_are_recovered(workers):
    priors = {k: uniform(-PI, PI) for k in ("x1", "x2", "x3")}
    res = sa.sobol(ishigami, priors, 1024, workers=workers, seed=3)
    assert res.runs == sa.runs_needed(1024, 3) == 1024 * 5
    t = res.table.set_index(["outcome", "parameter"])
    for name, (s1, st) in EXACT.items():
        row = t.loc[("y", name)]
        assert abs(row["S1"] - s1) < 0.05, (name, row["S1"], s1)
        assert abs(row["ST"] - st) < 0.05, (name, row["ST"], st)
        assert row["S1_conf"] > 0 and row["ST_conf"] > 0
    # an outcome that depends on x2 alone: S1 = ST = 1 for x2, 0 for the others
    assert abs(t.loc[("x2_only", "x2"), "ST"] - 1) < 0.05
    assert t.loc[("x2_only", "x1"), "ST"] < 0.02


def test_priors_shape_the_inputs():
    """Inputs go through Prior.ppf: a narrow prior on x2 leaves it little variance to explain."""
    wide = sa.sobol(ishigami, {"x1": uniform(-PI, PI), "x2": uniform(-PI, PI), "x3": uniform(-PI, PI)}, 256)
    narrow = sa.sobol(ishigami, {"x1": uniform(-PI, PI), "x2": uniform(0.0, 0.1), "x3": uniform(-PI, PI)}, 256)

    def st(r):
        return r.table.set_index(["outcome", "parameter"]).loc[("y", "x2"), "ST"]

    assert st(narrow) < 0.05 < st(wide)
    assert narrow.samples["x2"].between(0.0, 0.1).all()


def test_runs_needed_and_bad_n():
    assert sa.runs_needed(64, 26) == 64 * 28
    with pytest.raises(InputError, match="too small"):
        sa.check_n(4)
    with pytest.raises(InputError, match="power of 2"):
        sa.check_n(100)
    with pytest.raises(InputError, match="16,384"):  # MAX_N, before any sample is drawn
        sa.check_n(2 ** 40)
    with pytest.raises(InputError, match="whole number"):
        sa.check_n(64.0)
    with pytest.raises(InputError, match="at least 2 parameters"):
        sa.sobol(ishigami, {"x1": uniform(-PI, PI)}, 8)


def test_unknown_parameter_is_named():
    with pytest.raises(InputError, match=r"nosuch\.param"):
        sa.select_priors({"a": uniform(0, 1)}, ["a", "nosuch.param"])


def test_failed_runs_are_reported_not_dropped():
    def sometimes_nan(x):
        return {"y": float("nan") if x["a"] > 0.9 else x["a"] + x["b"]}

    with pytest.raises(InputError, match="runs failed"):
        sa.sobol(sometimes_nan, {"a": uniform(0, 1), "b": uniform(0, 1)}, 64)


def test_outcomes_of_a_run(historical):
    out = sa.outcomes(historical)
    assert set(out) == set(sa.OUTCOMES)
    proc = historical.series("grain_procurement_t")
    assert out["procurement_1932_33"] == pytest.approx(float(proc["1932"]) + float(proc["1933"]))
    assert out["excess_deaths_1933"] == pytest.approx(float(historical.series("excess_deaths_persons")["1933"]))


def test_cli_smoke(tmp_path):
    """N = 8 and 2 parameters: 32 runs of the real model."""
    png = tmp_path / "sobol.png"
    r = runner.invoke(app, ["sensitivity", "--n", "8", "--params",
                            "agriculture.ha_per_horse,collectivization.zeal", "--workers", "2",
                            "--out", str(tmp_path / "out"), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert "32 model runs" in r.output
    table = pd.read_csv(tmp_path / "out" / "sobol_indices.csv")
    assert set(table["outcome"]) == set(sa.OUTCOMES)
    assert set(table["parameter"]) == {"agriculture.ha_per_horse", "collectivization.zeal"}
    assert list(table.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    runs = pd.read_csv(tmp_path / "out" / "sobol_runs.csv")
    assert len(runs) == 32 and runs["collectivization.zeal"].between(0.5, 5).all()
    assert png.stat().st_size > 5000


@pytest.mark.parametrize("args, message", [
    (["--n", "4"], "too small"),
    (["--n", "12"], "power of 2"),
    (["--n", "1099511627776"], "--n: 1,099,511,627,776 is out of range"),
    (["--n", "32768"], "allowed: a power of 2 from 8 to 16,384"),
    (["--workers", "1000"], "--workers: 1,000 is out of range (allowed: 0 to 256)"),
    (["--seed", "-1"], "--seed: -1 is out of range (allowed: 0 or more)"),
    (["--params", "agriculture.ha_per_horse,no.such"], "no.such"),
    (["--format", "xlsx"], "xlsx"),
    (["no-such-scenario"], "no-such-scenario"),
])
def test_cli_bad_input(args, message):
    r = runner.invoke(app, ["sensitivity", *args])
    assert r.exit_code != 0
    assert message in r.output
