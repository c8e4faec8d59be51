"""Issue 17: Allen's NEP and collectivized economy as shipped scenarios, set beside his
published 1939 figures by ``sovsim compare``."""

import math

from typer.testing import CliRunner

from sovsim.cli.main import app
from sovsim.research.published import compare as pub
from sovsim.scenario import load_scenario


def test_the_allen_scenarios_load():
    nep = load_scenario("allen-nep")
    col = load_scenario("allen-collectivization")
    tl = nep.timeline()
    assert "migration_rule" in tl and "migration_rule" in col.timeline()


def test_compare_sets_allens_figures_beside_the_run():
    runner = CliRunner()
    out = runner.invoke(app, ["compare", "allen-nep", "allen:nep", "allen:collectivization-e0.23",
                              "--no-store"], terminal_width=250)
    assert out.exit_code == 0, out.output
    assert "44.0 m" in out.output and "231.9" in out.output and "343.9" in out.output


def test_side_by_side_has_the_published_1939_figures():
    import sovsim

    res = sovsim.run("allen-nep")
    frame = pub.side_by_side([res], ["allen:nep"])
    urban = frame[(frame.variable == "urban population") & (frame.year == 1939)].iloc[0]
    assert urban["allen:nep"] == 44.0e6
    assert math.isfinite(urban["allen-nep"]) and urban["allen-nep"] > 28e6


def test_an_unknown_published_scenario_is_refused():
    out = CliRunner().invoke(app, ["compare", "allen:nope", "--no-store"])
    assert out.exit_code != 0 and "allen:nope" in out.output
