"""ABC-SMC: the code paths of `sovsim calibrate --method abc` (pyabc) and `--method abc-rm`
(resample-move) recover a known posterior on a toy simulator, leaves an uninformed parameter at its prior, writes files later runs read, and
refuses bad input; a tiny real calibration runs on request (slow)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sovsim.cli import app
from sovsim.errors import InputError
from sovsim.params import Prior, load_overrides, load_parameters
from sovsim.uncertainty import abc_smc as abc
from sovsim.uncertainty import checks

runner = CliRunner()


def uniform(lo, hi):
    return Prior("uniform", {"lo": lo, "hi": hi}, "test input", lo, hi)


def gaussian_toy(theta):
    """y ~ N(mu, 1), observed y = 1: under a flat prior on [-5, 5] the posterior of mu is
    N(1, 1) (cut at +-5, which changes nothing visible); ``nuisance`` does not enter."""
    y = theta["mu"] + np.random.normal(0.0, 1.0)
    return abs(y - 1.0)


@pytest.fixture(scope="module")
def toy_posterior():
    return abc.abc_smc(gaussian_toy, {"mu": uniform(-5, 5), "nuisance": uniform(0, 2)},
                       population=200, generations=5, seed=1)


def test_known_posterior_is_recovered(toy_posterior):
    s = toy_posterior.summary().set_index("parameter")
    assert abs(s.loc["mu", "mean"] - 1.0) < 0.3
    assert 0.65 < s.loc["mu", "sd"] < 1.35
    assert s.loc["mu", "q05"] < 1.0 < s.loc["mu", "q95"]
    assert -1.2 < s.loc["mu", "q05"] < 0.2 and 1.8 < s.loc["mu", "q95"] < 3.2


def test_uninformed_parameter_keeps_its_prior(toy_posterior):
    s = toy_posterior.summary().set_index("parameter")
    assert abs(s.loc["nuisance", "mean"] - 1.0) < 0.2
    assert abs(s.loc["nuisance", "sd"] - 2 / np.sqrt(12)) < 0.12


def test_tolerance_falls_and_weights_sum_to_one(toy_posterior):
    eps = toy_posterior.epsilons
    assert len(eps) == 5 and all(b < a for a, b in itertools.pairwise(eps))
    assert toy_posterior.sample["weight"].sum() == pytest.approx(1.0)
    assert (toy_posterior.sample["distance"] <= eps[-1] + 1e-12).all()
    assert toy_posterior.runs >= 5 * 200


def test_point_and_draws(toy_posterior):
    med = toy_posterior.point("median")
    best = toy_posterior.point("best")
    assert set(med) == set(best) == {"mu", "nuisance"}
    draws = toy_posterior.draws(50, seed=2)
    assert len(draws) == 50 and all(-5 <= d["mu"] <= 5 for d in draws)
    with pytest.raises(InputError, match="mode"):
        toy_posterior.point("mode")


def test_posterior_sample_round_trips(toy_posterior, tmp_path):
    for name in ("post.parquet", "post.csv"):
        path = abc.write_posterior(toy_posterior, tmp_path / name)
        back = abc.read_posterior(path)
        assert list(back.columns) == ["mu", "nuisance", "weight", "distance"]
        np.testing.assert_allclose(back["mu"], toy_posterior.sample["mu"])
        draws = abc.sample_draws(back, 30, seed=4)
        assert draws == toy_posterior.draws(30, seed=4)


def test_weighted_quantile():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert abc.weighted_quantile(x, np.ones(4), [0.5])[0] == pytest.approx(1.5)
    assert abc.weighted_quantile(x, np.array([0, 0, 1.0, 0]), [0.5])[0] == pytest.approx(2.0)


def test_prior_densities_integrate_to_one():
    from scipy import integrate

    for prior in (uniform(2, 8), Prior("triangular", {"lo": 0, "mode": 1, "hi": 4}, "t", 0, 4),
                  Prior("normal", {"mean": 1, "sd": 1}, "t", 0, 5),
                  Prior("lognormal", {"median": 1, "sigma": 0.5}, "t", 0.2, 3)):
        total = integrate.quad(lambda x, pr=prior: abc.prior_pdf(pr, x), prior.lo, prior.hi, limit=200)[0]
        assert total == pytest.approx(1.0, rel=1e-4), prior.dist
        assert abc.prior_pdf(prior, prior.hi + 1) == 0.0


def test_hold_out_and_targets():
    assert abc.parse_hold_out(None) == abc.DEFAULT_HOLD_OUT
    assert abc.parse_hold_out("none") == ()
    assert abc.parse_hold_out("cattle_head:USSR,horses_head") == (
        ("cattle_head", "USSR"), ("horses_head", "USSR"))
    targets = abc.fit_targets(abc.DEFAULT_HOLD_OUT)
    assert not set(abc.DEFAULT_HOLD_OUT) & set(targets)
    with pytest.raises(InputError, match="not a target"):
        abc.parse_hold_out("gdp_per_capita_index")
    with pytest.raises(InputError, match="not a target"):  # regional: out of sample
        abc.parse_hold_out("cattle_head:kazakhstan")


def test_calibration_priors_are_the_calibrated_parameters():
    p = load_parameters()
    priors = abc.calibration_priors(p)
    assert len(priors) >= 15 and all(p.params[n].status == "calibrated" for n in priors)
    with pytest.raises(InputError, match=r"no\.such"):
        abc.calibration_priors(p, ["no.such"])


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="population"):
        abc.abc_smc(gaussian_toy, {"mu": uniform(-5, 5)}, population=5)
    with pytest.raises(InputError, match="generations"):
        abc.abc_smc(gaussian_toy, {"mu": uniform(-5, 5)}, generations=0)


@pytest.mark.parametrize("args, message", [
    (["--method", "annealing"], "annealing"),
    (["--method", "abc", "--params", "no.such.parameter"], "no.such.parameter"),
    (["--method", "abc", "--hold-out", "gdp_per_capita_index"], "not a target"),
    (["--method", "abc", "--point", "mode"], "mode"),
])
def test_cli_bad_input(args, message, tmp_path):
    r = runner.invoke(app, ["calibrate", "--out", str(tmp_path / "c.toml"), *args])
    assert r.exit_code != 0
    assert message in r.output


@pytest.mark.slow
@pytest.mark.parametrize("method", ["abc", "abc-rm"])
def test_tiny_real_calibration_writes_files_later_runs_use(tmp_path, method):
    """Two parameters, 20 particles, 2 generations (a minute or more on 2 busy cores)."""
    import sovsim

    out = tmp_path / "abc.toml"
    report = tmp_path / "abc.md"
    r = runner.invoke(app, ["calibrate", "--method", method, "--params",
                            "agriculture.ha_per_horse,livestock.horses_net_growth_per_year",
                            "--population", "20", "--generations", "2", "--draws", "3", "--max-runs", "150",
                            "--workers", "2", "--out", str(out), "--report", str(report)])
    assert r.exit_code == 0, r.output
    values = load_overrides(out)
    assert set(values) == {"agriculture.ha_per_horse", "livestock.horses_net_growth_per_year"}
    assert 2 <= values["agriculture.ha_per_horse"] <= 8
    sample = pd.read_parquet(out.with_suffix(".posterior.parquet"))
    assert len(sample) == 20 and sample["weight"].sum() == pytest.approx(1.0)
    text = report.read_text()
    assert "held back" in text and "horses_head:USSR" in text
    res = sovsim.run("historical", params_file=out)
    base = sovsim.run("historical")
    assert not np.allclose(res.series("horses_head").to_numpy(), base.series("horses_head").to_numpy())


def test_degenerate_weights_are_flagged_in_the_report(toy_posterior):
    assert not toy_posterior.degenerate()
    assert toy_posterior.ess > 20
    sample = toy_posterior.sample.copy()
    sample["weight"] = 1e-9
    sample.loc[0, "weight"] = 1.0
    sample["weight"] /= sample["weight"].sum()
    bad = abc.Posterior(["mu", "nuisance"], toy_posterior.priors, sample, [1.0], 100, 200)
    assert bad.degenerate() and bad.ess == pytest.approx(1.0, abs=1e-3)
    chk = checks.Checks(pd.DataFrame([{"source": s, "draw": 0, "series": "grain_harvest_t:USSR",
                                    "error": 0.1} for s in ("posterior", "prior", "point", "shipped")]),
                     pd.DataFrame(), pd.DataFrame())
    p = load_parameters()
    names = ["agriculture.ha_per_horse", "livestock.horses_net_growth_per_year"]
    real = abc.Posterior(names, {n: p.priors()[n] for n in names},
                         sample.drop(columns=["mu", "nuisance"]).assign(**{names[0]: 3.0,
                                                                           names[1]: 0.1}),
                         [1.0], 100, 200, targets={("grain_harvest_t", "USSR"): 3.0})
    text = checks.report_markdown(real, chk, real.point(), p=p)
    assert "sample is degenerate" in text
    assert "| grain_harvest_t:USSR | fitted | 0.100" in text
    assert f"| `{names[0]}` | 3 |" in text


def test_powell_still_runs_from_the_command_line(tmp_path):
    """--method powell (the default) with a tiny budget: writes a [values] file of every
    calibrated parameter; nothing shipped is touched (no --apply)."""
    out = tmp_path / "powell.toml"
    r = runner.invoke(app, ["calibrate", "--method", "powell", "--maxfev", "2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    values = load_overrides(out)
    assert set(values) == set(abc.calibration_priors(load_parameters()))


# -- resample-move ABC-SMC (abc_rm) ---------------------------------------------------


def test_resample_move_recovers_the_known_posterior():
    from sovsim.uncertainty.abc_rm import abc_smc_rm

    np.random.seed(0)  # the toy's noise
    post = abc_smc_rm(gaussian_toy, {"mu": uniform(-5, 5), "nuisance": uniform(0, 2)},
                      population=200, generations=4, seed=2)
    s = post.summary().set_index("parameter")
    assert abs(s.loc["mu", "mean"] - 1.0) < 0.3
    assert 0.65 < s.loc["mu", "sd"] < 1.35
    assert abs(s.loc["nuisance", "sd"] - 2 / np.sqrt(12)) < 0.12
    assert post.method == "resample-move" and len(post.acceptance) == 4
    assert all(b < a for a, b in itertools.pairwise(post.epsilons))
    assert (post.sample["distance"] <= post.epsilons[-1]).all()


def smooth_26(theta):
    """A deterministic distance in 26 dimensions with its minimum inside the cube."""
    x = np.array([theta[f"p{i}"] for i in range(26)])
    c = np.linspace(0.2, 0.8, 26)
    return float(np.sum(np.abs(np.log((x + 0.05) / (c + 0.05)))))


def test_resample_move_keeps_many_distinct_particles_in_26_dimensions():
    """Where pyabc's importance weights collapse (ESS about 2 of 50 on this toy), resample-move
    keeps most particles distinct, is the same whatever the number of workers, and moves the
    sample towards the minimum."""
    from sovsim.uncertainty.abc_rm import abc_smc_rm

    priors = {f"p{i}": uniform(0, 1) for i in range(26)}
    one = abc_smc_rm(smooth_26, priors, population=50, generations=4, seed=1)
    two = abc_smc_rm(smooth_26, priors, population=50, generations=4, seed=1, workers=2)
    assert one.ess > 25 and not one.degenerate()
    pd.testing.assert_frame_equal(one.sample, two.sample)
    assert one.epsilons[-1] < 0.75 * one.epsilons[0]


def test_resample_move_refuses_bad_settings():
    from sovsim.uncertainty.abc_rm import abc_smc_rm

    with pytest.raises(InputError, match="moves"):
        abc_smc_rm(smooth_26, {"p0": uniform(0, 1)}, moves=0)
    with pytest.raises(InputError, match="alpha"):
        abc_smc_rm(smooth_26, {"p0": uniform(0, 1)}, alpha=1.5)


def test_a_degenerate_sample_warns_the_user(toy_posterior):
    """The samplers return a degenerate sample with a SovsimWarning (which the test suite turns
    into an error anywhere it is not expected), and a healthy one without."""
    import warnings

    from sovsim.errors import SovsimWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert toy_posterior.warn_if_degenerate() is toy_posterior
    sample = toy_posterior.sample.copy()
    sample["weight"] = 0.0
    sample.loc[0, "weight"] = 1.0
    bad = abc.Posterior(["mu", "nuisance"], toy_posterior.priors, sample, [1.0], 100, 200)
    with pytest.warns(SovsimWarning, match="degenerate"):
        bad.warn_if_degenerate()


def test_the_sampler_warns_when_its_sample_collapses():
    """pyabc's importance weights on a sharp distance in three dimensions with 12 particles:
    by the third generation they rest on one or two particles (ESS 1.6 of 12)."""
    from sovsim.errors import SovsimWarning

    def sharp(theta):
        return abs(theta["a"] - 0.999) * 100 + abs(theta["b"] - 0.001) * 100

    with pytest.warns(SovsimWarning, match="degenerate"):
        post = abc.abc_smc(sharp, {"a": uniform(0, 1), "b": uniform(0, 1), "c": uniform(0, 1)},
                           population=12, generations=3, seed=0)
    assert post.degenerate()
