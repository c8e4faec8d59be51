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
