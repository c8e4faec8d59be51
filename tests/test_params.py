"""Parameters: every value has a unit and a provenance; bad files and overrides are refused."""

import numpy as np
import pytest

from sovsim import history
from sovsim.errors import ParameterError
from sovsim.params import load_parameters


def test_every_parameter_has_unit_and_provenance():
    sources = history.sources()
    ps = load_parameters()
    assert len(ps.params) > 50
    for p in ps:
        assert p.unit
        if p.status == "sourced":
            assert p.source in sources, f"{p.name}: unknown source {p.source}"
        elif p.status == "calibrated":
            assert p.method and p.fitted_to
        else:
            assert p.status == "assumption" and p.reason


@pytest.mark.parametrize("text, phrase", [
    ('[a.b]\nvalue = 1.0\n', "missing unit"),
    ('[a.b]\nvalue = 1.0\nunit = "t"\n', "no provenance"),
    ('[a.b]\nvalue = 1.0\nunit = "t"\nstatus = "calibrated"\n', "needs method and fitted_to"),
    ('[a.b]\nvalue = 1.0\nunit = "t"\nstatus = "assumption"\n', "needs a reason"),
    ('[a.b]\nvalue = 5.0\nunit = "t"\nmax = 1.0\nsource = "x"\n', "out of range"),
    ('[a.b]\nvalue = "five"\nunit = "t"\nsource = "x"\n', "expected a number"),
    ('[a.b]\nvalues = {ukraine = 1.0}\nunit = "t"\nsource = "x"\n', "one value per region"),
    ('[a.b]\nvalue = 1.0\nunit = "t"\nsource = "x"\ncolour = 1\n', "unknown field"),
    ('[a.b\n', "not valid TOML"),
])
def test_bad_parameter_files(tmp_path, text, phrase):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ParameterError) as exc:
        load_parameters([path])
    assert phrase in str(exc.value) and str(path) in str(exc.value)


def test_missing_parameter_file(tmp_path):
    with pytest.raises(ParameterError, match="no such file"):
        load_parameters([tmp_path / "none.toml"])


def test_overrides_are_checked():
    ps = load_parameters()
    with pytest.raises(ParameterError, match="no such parameter"):
        ps.with_overrides({"nope.nothing": 1.0})
    with pytest.raises(ParameterError, match="out of range"):
        ps.with_overrides({"demography.famine_mortality_per_month": 5.0})
    new = ps.with_overrides({"demography.famine_mortality_per_month": 0.1})
    assert new["demography.famine_mortality_per_month"] == 0.1
    assert load_parameters()["demography.famine_mortality_per_month"] == ps["demography.famine_mortality_per_month"]
    regional = ps.with_overrides({"agriculture.base_yield_t_per_ha": 0.7})
    assert np.allclose(regional["agriculture.base_yield_t_per_ha"], 0.7)
    assert new.digest() != ps.digest()


# --- priors -------------------------------------------------------------------------------

def _param_file(tmp_path, prior: str, extra: str = "min = 0.0\nmax = 1.0\n"):
    path = tmp_path / "p.toml"
    path.write_text(f"[g.x]\nvalue = 0.5\nunit = \"-\"\n{extra}status = \"assumption\"\n"
                    f"reason = \"r\"\nprior = {prior}\n")
    return path


def test_shipped_calibrated_parameters_have_priors_with_reasons():
    from sovsim.params import load_parameters

    ps = load_parameters()
    priors = ps.priors()
    calibrated = {p.name for p in ps if p.status == "calibrated" and not p.regional}
    assert calibrated <= set(priors)
    assert all(pr.reason for pr in priors.values())


@pytest.mark.parametrize("dist", [
    '{ dist = "uniform", lo = 0.2, hi = 0.9, reason = "r" }',
    '{ dist = "triangular", lo = 0.2, mode = 0.5, hi = 0.9, reason = "r" }',
    '{ dist = "normal", mean = 0.5, sd = 0.4, reason = "r" }',
    '{ dist = "lognormal", median = 0.5, sigma = 1.0, reason = "r" }',
])
def test_draws_stay_in_bounds_and_are_addressed(tmp_path, dist):
    from sovsim.params import load_parameters

    ps = load_parameters([_param_file(tmp_path, dist)])
    draws = [d["g.x"] for d in ps.draw(400, seed=3)]
    pr = ps.priors()["g.x"]
    assert min(draws) >= pr.lo and max(draws) <= pr.hi and pr.lo >= 0.0 and pr.hi <= 1.0
    assert len(set(draws)) == 400
    # member i depends only on (seed, i): the same in a shorter draw, different with another seed
    assert ps.draw(5, seed=3)[4] == {"g.x": draws[4]}
    assert ps.draw(5, seed=4)[4] != {"g.x": draws[4]}
    # the draws follow the (truncated) prior: their median is its median
    assert abs(float(np.median(draws)) - float(pr.ppf(0.5))) < 0.05


@pytest.mark.parametrize("prior, words", [
    ('{ dist = "cauchy", lo = 0.0, hi = 1.0, reason = "r" }', ["g.x.prior.dist", "cauchy"]),
    ('{ dist = "uniform", lo = 0.0, hi = 1.0 }', ["g.x.prior.reason"]),
    ('{ dist = "uniform", lo = 0.0, reason = "r" }', ["g.x.prior.hi"]),
    ('{ dist = "uniform", lo = -1.0, hi = 1.0, reason = "r" }', ["beyond the parameter's min/max"]),
    ('{ dist = "uniform", lo = 0.6, hi = 0.9, reason = "r" }', ["outside the prior's support"]),
    ('{ dist = "normal", mean = 0.5, sd = 0.0, reason = "r" }', ["positive spread"]),
    ('{ dist = "normal", mean = 0.5, sd = 0.1, mode = 1, reason = "r" }', ["g.x.prior.mode"]),
])
def test_bad_priors_are_refused(tmp_path, prior, words):
    from sovsim.params import load_parameters

    with pytest.raises(ParameterError) as exc:
        load_parameters([_param_file(tmp_path, prior)])
    for w in words:
        assert w in str(exc.value)


def test_params_cli_lists_priors():
    import json

    from typer.testing import CliRunner

    from sovsim.cli import app

    res = CliRunner().invoke(app, ["params", "--priors", "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.output)
    assert rows and all(r["prior"]["dist"] and r["prior"]["reason"] for r in rows)
