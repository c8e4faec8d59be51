"""The doctrine lens: definitions file, the formula language, and the indicators of runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import sovsim
from sovsim.cli import app
from sovsim.errors import DataError
from sovsim.research import doctrine


@pytest.fixture(scope="module")
def tables(historical):
    return {"historical": doctrine.indicators(historical),
            "nep": doctrine.indicators(sovsim.run("nep"))}


def _value(table, name, year):
    row = table[(table["indicator"] == name) & (table["year"] == year)]
    return float(row["value"].iloc[0])


def test_shipped_definitions_cover_the_six_axes_with_sources():
    defs = doctrine.load_definitions()
    assert set(defs.axes) == {"exchange", "ownership", "coercion", "internationalism", "producers_share",
                              "state"}
    for ind in defs.indicators:
        assert ind.sources, ind.name
        for src in ind.sources:
            assert ("quote" in src) != ("gist" in src), f"{ind.name}: a quote or a gist, not both"
        assert ind.pole_note, ind.name
    assert {i.axis for i in defs.indicators} == set(defs.axes)


@pytest.mark.parametrize("formula, words", [
    ("__import__('os').system('true')", ["only min, max, abs may be called"]),
    ("grain_harvest_t.real", ["Attribute is not allowed"]),
    ("[grain_harvest_t]", ["List is not allowed"]),
    ("grain_harvest_t if 1 else 0", ["IfExp is not allowed"]),
    ("'text'", ["Constant is not allowed"]),
    ("grain_harvest_t ** 2", ["Pow is not allowed"]),
    ("lambda: 1", ["Lambda is not allowed"]),
    ("no_such_output / 2", ["unknown variable 'no_such_output'"]),
    ("grain_harvest_t +", ["not valid arithmetic"]),
    ("max(a=1)", ["only min, max, abs may be called"]),
])
def test_formulas_are_arithmetic_only(formula, words):
    with pytest.raises(DataError) as exc:
        doctrine.parse_formula(formula, "here")
    for w in words:
        assert w in str(exc.value)


def test_evaluate_is_arithmetic_with_nan_for_undefined():
    tree = doctrine.parse_formula("max(a_b, 1) / (grain_harvest_t - 2) + abs(-3)".replace("a_b", "sown_area_ha"))
    vals = {"sown_area_ha": np.array([0.0, 5.0, 2.0]), "grain_harvest_t": np.array([3.0, 2.0, 4.0])}
    out = doctrine.evaluate(tree, vals)
    assert out[0] == pytest.approx(1 / 1 + 3)
    assert math.isnan(out[1])  # 5 / 0 is undefined, not inf
    assert out[2] == pytest.approx(2 / 2 + 3)


def test_indicators_follow_the_policies(tables):
    hist, nep = tables["historical"], tables["nep"]
    # collectivization and dekulakization happen in the historical run, not under NEP
    assert _value(hist, "individual_sown_area_share", 1935) < 0.2
    assert _value(nep, "individual_sown_area_share", 1935) == pytest.approx(1.0)
    assert _value(hist, "deportations_per_thousand", 1930) > 1.0
    assert _value(nep, "deportations_per_thousand", 1930) == 0.0
    # compulsory quotas after 1933; market purchases under NEP in 1925
    assert _value(hist, "compulsory_procurement_share", 1934) > 0.9
    assert _value(hist, "compulsory_procurement_share", 1925) == pytest.approx(0.0)
    assert _value(hist, "free_market_share", 1925) > 0.1
    assert _value(hist, "free_market_share", 1934) == pytest.approx(0.0)
    # shares are shares
    shares = hist[hist["unit"] == "share"]["value"].dropna()
    assert ((shares >= -1e-12) & (shares <= 1 + 1e-12)).all()


def test_distance_and_axes(tables):
    hist = tables["historical"]
    row = hist[(hist["indicator"] == "individual_sown_area_share") & (hist["year"] == 1925)].iloc[0]
    assert row["pole"] == 0.0 and row["distance"] == pytest.approx(1.0)
    axes = doctrine.axes(hist)
    own = axes[(axes["axis"] == "ownership")].set_index("year")["distance"]
    assert own[1925] == pytest.approx(1.0) and own[1937] < 0.1
    # an axis whose passages give only a direction has no distance
    assert axes[axes["axis"] == "internationalism"]["distance"].isna().all()


def test_an_edited_definitions_file_is_used(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('''
[axes]
exchange = "mine"

[[indicator]]
name = "private_share"
axis = "exchange"
label = "private sales over the harvest"
unit = "share"
formula = "private_grain_sales_t / grain_harvest_t"
definition = "d"
pole = 0.0
[[indicator.source]]
author = "K. Marx"
work = "Critique of the Gotha Programme"
part = "I.3"
gist = "no exchange"
''')
    res = CliRunner().invoke(app, ["doctrine", "nep", "--definitions", str(path), "--records"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert {r["indicator"] for r in body["indicators"]} == {"private_share"}
    assert len(body["indicators"]) == 20
    # no [headline] table: an axis's headline is its first indicator
    res = CliRunner().invoke(app, ["doctrine", "nep", "--definitions", str(path), "--json"])
    assert json.loads(res.output)["nep"].keys() == {"exchange"}


@pytest.mark.parametrize("text, words", [
    ("[axes]\nx = 'y'\n", ["no [[indicator]]"]),
    ("[axes]\nx = 'y'\n[[indicator]]\nname='a'\naxis='z'\nlabel='l'\nunit='u'\nformula='1'\ndefinition='d'\n"
     "[[indicator.source]]\nauthor='a'\nwork='w'\npart='p'\ngist='g'\n", ["indicator[0] (a)", "axis 'z'"]),
    ("[axes]\nx = 'y'\n[[indicator]]\nname='a'\naxis='x'\nlabel='l'\nunit='u'\nformula='1'\ndefinition='d'\n",
     ["indicator[0] (a)", "source"]),
    ("[axes]\nx = 'y'\n[[indicator]]\nname='a'\naxis='x'\nlabel='l'\nunit='u'\nformula='open(1)'\n"
     "definition='d'\n[[indicator.source]]\nauthor='a'\nwork='w'\npart='p'\ngist='g'\n", ["only min, max, abs"]),
    ("not toml [", ["not valid TOML"]),
])
def test_bad_definitions_name_the_file_and_indicator(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(DataError) as exc:
        doctrine.load_definitions(path)
    assert str(path) in str(exc.value)
    for w in words:
        assert w in str(exc.value)


def test_cli_refuses_a_missing_definitions_file(tmp_path):
    res = CliRunner().invoke(app, ["doctrine", "--definitions", str(tmp_path / "none.toml")])
    assert res.exit_code == 2 and "no such doctrine definitions file" in res.output


def test_cli_json_is_each_axis_headline_share_by_year_and_plot_draws_the_axes(tmp_path):
    res = CliRunner().invoke(app, ["doctrine", "historical", "nep", "--json", "--plot",
                                   str(tmp_path / "lens.png")])
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(body) == {"historical", "nep"}
    for sc in body.values():
        assert set(sc) == {"exchange", "ownership", "coercion", "internationalism",
                           "producers_share", "state"}
        for by_year in sc.values():
            assert list(by_year) == [str(y) for y in range(1921, 1941)]
            assert all(v is None or 0.0 <= v <= 1.0 for v in by_year.values())
    # the historical run collectivizes: individual farms' share falls from near 1 to near 0
    own = body["historical"]["ownership"]
    assert own["1925"] > 0.9 > 0.2 > own["1937"]
    assert body["nep"]["ownership"]["1937"] > own["1937"]
    assert (tmp_path / "lens.png").stat().st_size > 10_000


def test_headline_formulas_are_checked(tmp_path):
    shipped = doctrine.default_path()
    text = shipped.read_text().replace('coercion = "compulsory_procurement_share"',
                                       'coercion = "open(1)"')
    path = tmp_path / "d.toml"
    path.write_text(text)
    with pytest.raises(DataError, match=r"headline\.coercion"):
        doctrine.load_definitions(path)
    path.write_text(shipped.read_text().replace('coercion = "compulsory_procurement_share"',
                                                'coercion = "grain_harvest_t"'))
    with pytest.raises(DataError, match="unknown indicator 'grain_harvest_t'"):
        doctrine.load_definitions(path)
