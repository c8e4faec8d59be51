"""Ensembles draw from the calibrated posterior by default, from the priors on request, and
every output says which (issue 16, "Uncertainty that means something")."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sovsim.api import _shipped_parameters
from sovsim.cli.main import app
from sovsim.ensemble import runner
from sovsim.ensemble.draws import parameter_draws
from sovsim.errors import DataError, SovsimError
from sovsim.params.posterior import (
    PROVENANCE_FIELDS,
    check_against,
    load_posterior,
    shipped_path,
)


@pytest.fixture()
def sample(tmp_path):
    frame = pd.DataFrame({"demography.famine_exponent": [1.5, 2.0, 2.5],
                          "weight": [0.2, 0.3, 0.5], "distance": [1.0, 0.9, 0.8]})
    path = tmp_path / "post.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_shipped_posterior_fits_the_shipped_parameters():
    """The posterior ensembles draw from by default is shipped, has its provenance, and every
    column is a parameter of this model within its bounds (a renamed parameter or moved
    bound fails here, not in a user's ensemble)."""
    post = load_posterior()
    assert post.path == str(shipped_path())
    assert set(PROVENANCE_FIELDS) <= set(post.provenance)
    assert len(post.names) >= 5 and len(post.sample) >= 20
    check_against(post, _shipped_parameters())
    assert np.isclose(post.sample["weight"].sum(), 1.0)


def test_member_draws_are_addressed_and_weighted(sample):
    post = load_posterior(sample)
    five, ten = post.draws(5, seed=3), post.draws(10, seed=3)
    assert ten[:5] == five  # member i's draw depends only on (seed, i)
    assert post.draws(5, seed=4) != five
    many = np.array([d["demography.famine_exponent"] for d in post.draws(4000, seed=0)])
    # Liu-West shrinkage keeps the particles' weighted mean and variance, and every member is
    # its own run (not a particle repeated)
    mean = 0.2 * 1.5 + 0.3 * 2.0 + 0.5 * 2.5
    var = 0.2 * (1.5 - mean) ** 2 + 0.3 * (2.0 - mean) ** 2 + 0.5 * (2.5 - mean) ** 2
    assert abs(many.mean() - mean) < 0.02 and abs(many.var() / var - 1) < 0.1
    assert len(np.unique(many)) == len(many)
    held = [d["demography.famine_exponent"]
            for d in post.draws(500, 0, {"demography.famine_exponent": (2.0, 2.2)})]
    assert min(held) >= 2.0 and max(held) <= 2.2


@pytest.mark.parametrize("frame, where", [
    (pd.DataFrame({"demography.famine_exponent": [1.0]}), "weight"),
    (pd.DataFrame({"demography.famine_exponent": [1.0, np.nan], "weight": [1, 1]}),
     "demography.famine_exponent, row 3"),
    (pd.DataFrame({"demography.famine_exponent": [1.0], "weight": [-1.0]}), "weight"),
])
def test_a_bad_sample_is_refused_by_name(tmp_path, frame, where):
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=re.escape(f"{path}: {where}")):
        load_posterior(path)


def test_a_sample_of_another_model_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"no.such_parameter": [1.0], "weight": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"no\.such_parameter: not a parameter of this model"):
        check_against(load_posterior(path), _shipped_parameters())
    pd.DataFrame({"demography.famine_exponent": [1e9], "weight": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="outside the parameter's bounds"):
        check_against(load_posterior(path), _shipped_parameters())


def test_posterior_by_default_priors_on_request(sample):
    base = _shipped_parameters()
    names, draws, how = parameter_draws(base, 3, 0, None, "posterior")
    assert how["from"] == "posterior" and "calibrated posterior" in how["label"]
    assert set(names) == set(load_posterior().names) and len(draws) == 3
    names, draws, how = parameter_draws(base, 3, 0, None, "priors")
    assert how["from"] == "priors" and "PRIORS" in how["label"]
    assert set(names) == set(base.priors())
    names, draws, how = parameter_draws(base, 3, 0, None, str(sample))
    assert names == ["demography.famine_exponent"] and how["from"] == str(sample)
    assert parameter_draws(base, 2, 0, [], "posterior")[1] == [{}, {}]
    with pytest.raises(SovsimError, match="no such posterior sample"):
        parameter_draws(base, 2, 0, None, str(sample) + ".missing")


def test_every_output_says_what_the_members_were_drawn_from(tmp_path, sample):
    ens = runner.run("historical", members=3, store=False, draws_from=str(sample))
    assert ens.manifests["historical"]["drawn_from"]["from"] == str(sample)
    written = ens.write(tmp_path / "out")
    bands = pd.read_csv(tmp_path / "out" / "historical_bands.csv")
    assert set(bands["drawn_from"]) == {f"the posterior sample {sample}"}
    manifest = json.loads((tmp_path / "out" / "ensemble_manifest.json").read_text())
    assert manifest["manifests"]["historical"]["drawn_from"]["from"] == str(sample)
    assert len(written) == 2  # the bands and the manifest
    res = CliRunner().invoke(app, ["ensemble", "historical", "--members", "2", "--no-store",
                                   "--from", "priors"])
    assert res.exit_code == 0, res.output
    assert "PRIORS" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["ensemble", "historical", "--members", "2", "--no-store",
                                   "--from", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "no such posterior sample" in res.output


def test_posterior_and_prior_ensembles_are_different_runs_in_the_store(tmp_path, sample):
    a = runner.run("historical", members=2, store=tmp_path / "s", draws_from=str(sample))
    b = runner.run("historical", members=2, store=tmp_path / "s", draws_from="priors")
    assert a.ids["historical"] != b.ids["historical"]
