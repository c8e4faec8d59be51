"""The essay, claim by claim: the claims file and its checks, the verdict rule on fixtures,
the records of the state axis, the timeline, the command in-process, and events on plots."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sovsim.cli import app
from sovsim.errors import DataError
from sovsim.research import doctrine, records
from sovsim.research import essay as es

YEARS = np.arange(1921, 1941)


class Fake:
    """A stand-in for a run's results: every variable 1.0 unless given."""

    def __init__(self, scenario: str, **series: np.ndarray) -> None:
        self.scenario = scenario
        self.series = series

    def values(self, name: str) -> np.ndarray:
        return np.asarray(self.series.get(name, np.ones(len(YEARS))), dtype=float)


def _claims(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "claims.toml"
    path.write_text(body, encoding="utf-8")
    return path


ONE = '''
[[claim]]
id = "harvest"
quote = "The harvest grew."
period = "1925-1937"
regime = "any"
asserts = "The harvest grew."
[[claim.test]]
indicator = "grain_harvest_t"
kind = "change"
direction = "rises"
says = "The harvest rises."
'''


# -- the shipped claims ----------------------------------------------------------------------

def test_shipped_claims_quote_the_essay_verbatim_and_split_testable_from_motives():
    claims = es.load_claims()
    essay = (resources.files("sovsim") / "data" / "essay" / "essay.txt").read_text(encoding="utf-8")
    flat = re.sub(r"\s+", " ", essay)
    for c in claims.claims:
        assert re.sub(r"\s+", " ", c.quote) in flat, c.id
    outside = {c.id for c in claims.claims if not c.testable}
    assert {"georgia", "heir_motive", "cult_of_lenin", "nep_motive", "like_lenin"} <= outside
    assert all(c.why_not for c in claims.claims if not c.testable)
    assert {"nep", "permanent-revolution"} <= set(claims.scenarios)


@pytest.mark.parametrize("edit, where, words", [
    (lambda s: s.replace('direction = "rises"', 'direction = "up"'), "claim[0] (harvest).test[0].direction",
     "must be one of rises, falls"),
    (lambda s: s.replace('"grain_harvest_t"', '"harvest_t"'), "claim[0] (harvest).test[0].indicator",
     "unknown indicator or variable 'harvest_t'"),
    (lambda s: s.replace('quote = "The harvest grew."\n', ''), "claim[0] (harvest).quote",
     "must be a non-empty string"),
    (lambda s: s + 'colour = "red"\n', "claim[0] (harvest)", "unknown field 'colour'"),
    (lambda s: s.replace('kind = "change"', 'kind = "change"\nbefore = [1919, 1920]'),
     "claim[0] (harvest).test[0].before", "within 1921-1940"),
    (lambda s: s.replace('direction = "rises"', 'direction = "away_from_pole"'),
     "claim[0] (harvest).test[0].direction", "has no pole"),
    (lambda s: s.replace('regime = "any"', 'regime = "any"\nevents = ["1999-01"]'),
     "claim[0] (harvest).events", "no event dated '1999-01'"),
    (lambda s: s.split("[[claim.test]]")[0], "claim[0] (harvest).test", "at least one"),
    (lambda s: s.replace('regime = "any"', 'regime = "any"\ntestable = false'),
     "claim[0] (harvest).test", "has no tests"),
    (lambda s: s + s, "claim (harvest)", "id repeated"),
    (lambda s: s.replace("[[claim]]", "[[claim]"), "(file)", "not valid TOML"),
])
def test_a_bad_claims_file_is_refused_naming_file_claim_and_field(tmp_path, edit, where, words):
    path = _claims(tmp_path, edit(ONE))
    with pytest.raises(DataError) as info:
        es.load_claims(path)
    msg = str(info.value)
    assert str(path) in msg and where in msg and words in msg, msg
    assert "\n" not in msg


def test_a_missing_claims_file_says_so(tmp_path):
    with pytest.raises(DataError, match="no such claims file"):
        es.load_claims(tmp_path / "nope.toml")


# -- the rule --------------------------------------------------------------------------------

def test_verdict_rule():
    assert es.verdict([1, 1], []) == "supports"
    assert es.verdict([1, 1], [1]) == "partly"        # counter-evidence holds
    assert es.verdict([1, 0], []) == "partly"         # one move too small
    assert es.verdict([1, -1], []) == "partly"
    assert es.verdict([-1], []) == "contradicts"
    assert es.verdict([-1, 0], [0]) == "contradicts"
    assert es.verdict([0], []) == "partly"
    assert es.verdict([], []) is None                 # no test with data: no verdict
    assert es.moved(1.0, 1.2, 0.1) == 1 and es.moved(1.0, 1.05, 0.1) == 0
    assert es.moved(1.0, 0.5, 0.1) == -1 and es.moved(0.0, 0.0, 0.1) == 0


@pytest.mark.parametrize("path, want", [
    (np.linspace(50e6, 90e6, 20), "supports"),     # moves the asserted way
    (np.linspace(90e6, 50e6, 20), "contradicts"),  # moves the other way
    (np.full(20, 70e6), "partly"),                 # does not move: too small to count
])
def test_a_claim_gets_its_verdict_from_how_its_indicator_moves(tmp_path, path, want):
    claims = es.load_claims(_claims(tmp_path, ONE))
    rep = es.report(claims, {"historical": Fake("historical", grain_harvest_t=path)})
    (claim,) = rep["claims"]
    assert claim["verdict"] == want
    assert claim["rule"] == es.RULE
    json.dumps(rep, allow_nan=False)


def test_counter_evidence_makes_a_supported_claim_partly_and_contrasts_need_their_scenario(tmp_path):
    body = ONE + '''
[[claim.counter]]
indicator = "cattle_head"
kind = "change"
direction = "falls"
says = "Cattle fall."
[[claim.test]]
indicator = "grain_harvest_t"
kind = "contrast"
scenario = "nep"
years = [1930, 1935]
direction = "higher"
says = "NEP has more grain."
'''
    claims = es.load_claims(_claims(tmp_path, body))
    rising = np.linspace(50e6, 90e6, 20)
    hist = Fake("historical", grain_harvest_t=rising, cattle_head=np.linspace(60e6, 30e6, 20))
    rep = es.report(claims, {"historical": hist})  # nep not run: that test is left out
    (claim,) = rep["claims"]
    assert [t["result"] for t in claim["tests"]] == ["holds", "not run"]
    assert claim["counters"][0]["result"] == "holds" and claim["verdict"] == "partly"
    nep = Fake("nep", grain_harvest_t=rising * 0.5)
    rep = es.report(claims, {"historical": hist, "nep": nep})
    assert rep["claims"][0]["tests"][1]["result"] == "fails"


# -- the state axis's records ----------------------------------------------------------------

def test_records_are_sourced_graded_and_one_value_a_year_by_preference():
    rows = records.load()
    assert set(rows["grade"]) <= set(records.GRADES)
    assert all(records.cite(k) for k in set(rows["source"]))
    vals, used = records.annual("red_army_persons", ("bezugolny", "us_embassy_1938"))
    assert vals[1924 - 1921] == 478_500          # the list strength, preferred to the establishment
    assert used[1924 - 1921]["variant"] == "bezugolny"
    assert vals[1938 - 1921] == 1_300_000        # the only figure of 1938
    assert np.isnan(vals[1930 - 1921])           # no figure: a gap, never interpolated
    assert not records.gaps().empty


def test_record_indicators_exist_only_for_the_historical_run():
    defs = doctrine.load_definitions()
    army = next(i for i in defs.indicators if i.name == "army_per_thousand")
    assert army.basis == "record" and army.axis == "state"
    settlers = next(i for i in defs.indicators if i.name == "special_settlers_per_thousand")
    assert settlers.basis == "model"
    pop = np.full(20, 150e6)
    for name, expect_value in (("historical", True), ("nep", False)):
        table = doctrine.indicators(Fake(name, population_persons=pop), defs)
        v = table[(table.indicator == "army_per_thousand") & (table.year == 1924)]["value"].iloc[0]
        assert np.isfinite(v) == expect_value
        assert set(table[table.indicator == "army_per_thousand"]["basis"]) == {"record"}


def test_a_record_name_must_be_a_known_series(tmp_path):
    src = doctrine.default_path().read_text(encoding="utf-8")
    bad = src.replace('series = "red_army_persons"', 'series = "navy_persons"')
    path = tmp_path / "ind.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataError, match=r"record\.army_persons\.series.*unknown record series"):
        doctrine.load_definitions(path)


# -- the timeline ----------------------------------------------------------------------------

def test_the_timeline_is_dated_and_sourced():
    ev = es.events()
    dates = [e["date"] for e in ev]
    assert dates == sorted(dates)
    for wanted in ("1921-02-16", "1922-12-30", "1924-01-21", "1924-02", "1925-12-18",
                   "1927-11", "1929-02", "1929-11-07", "1930-03-02"):
        assert wanted in dates
    assert all(e["citation"] and e["location"] and e["note"] for e in ev)
    assert all(1921 <= e["year"] < 1941 for e in ev)


# -- the command and the charts --------------------------------------------------------------

def test_cli_essay_json_and_text(tmp_path):
    res = CliRunner().invoke(app, ["essay", "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout.strip().splitlines()[-1])
    assert body["scenarios"] == ["historical", "permanent-revolution", "nep"]
    by_id = {c["id"]: c for c in body["claims"]}
    assert by_id["heir_motive"]["status"] == "outside what outcomes can test"
    assert by_id["heir_motive"]["verdict"] is None
    assert all(by_id[c]["verdict"] in ("supports", "partly", "contradicts")
               for c in ("socialism_in_one_country", "nep_kept", "collectivization"))
    # collectivization: ownership moved toward the Manifesto's pole, shown as counter-evidence
    coll = by_id["collectivization"]
    assert any(t["indicator"] == "individual_sown_area_share" and t["result"] == "holds"
               for t in coll["counters"])
    assert coll["verdict"] == "partly"
    assert len(coll["charts"]["compulsory_procurement_share"]["series"]["historical"]) == 20
    # the alternatives beside the historical run: no special settlements with NEP kept
    settlers = by_id["withering_state"]["evidence"]["special_settlers_per_thousand"]
    assert settlers["nep"]["after"] == 0 and settlers["historical"]["after"] > 5
    assert by_id["withering_state"]["evidence"]["army_per_thousand"]["nep"]["after"] is None
    res = CliRunner().invoke(app, ["essay", "historical"])
    assert res.exit_code == 0, res.output
    assert "Verdict rule" in res.stdout and "Outside what outcomes can test" in res.stdout
    assert "not run" in res.stdout  # contrasts with nep need the nep run


def test_cli_essay_refuses_a_bad_claims_file_in_one_line(tmp_path):
    path = _claims(tmp_path, ONE.replace('"rises"', '"up"'))
    res = CliRunner().invoke(app, ["essay", "--claims", str(path)])
    assert res.exit_code == 2
    assert "direction" in res.output and str(path.name) in res.output
    res = CliRunner().invoke(app, ["essay", "--events"])
    assert res.exit_code == 2 and "--plot" in res.output


def test_events_on_plots(tmp_path):
    from sovsim.research.doctrine_plot import doctrine_figure

    ev = es.events()
    shares = {"historical": {"state": np.zeros(20)}}
    fig = doctrine_figure(shares, {"state": "The state: x"}, {"state": "s"}, None, events=ev)
    ax = fig.axes[0]
    xs = sorted(round(line.get_xdata()[0], 3) for line in ax.lines if line.get_linestyle() == ":")
    assert xs == sorted(round(e["year"], 3) for e in ev)
    key = " ".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))
    assert "Events (annotations" in key and "Dizzy with Success" in key
    plain = doctrine_figure(shares, {"state": "The state: x"}, {"state": "s"}, None)
    assert not [line for line in plain.axes[0].lines if line.get_linestyle() == ":"]
    out = tmp_path / "essay.png"
    res = CliRunner().invoke(app, ["essay", "historical", "--plot", str(out), "--events"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"\x89PNG")
    out2 = tmp_path / "doctrine.svg"
    res = CliRunner().invoke(app, ["doctrine", "historical", "--plot", str(out2), "--events"])
    assert res.exit_code == 0, res.output
    assert "Great Turn" in out2.read_text()
    out3 = tmp_path / "compare.png"
    res = CliRunner().invoke(app, ["compare", "historical", "--plot", str(out3), "--events",
                                   "--no-store"])
    assert res.exit_code == 0, res.output
    assert out3.read_bytes().startswith(b"\x89PNG")
    res = CliRunner().invoke(app, ["compare", "historical", "--events", "--no-store"])
    assert res.exit_code == 2 and "--plot" in res.output


def test_web_api_serves_the_essay_and_the_timeline():
    from fastapi.testclient import TestClient

    from sovsim.web.app import Settings, create_app

    client = TestClient(create_app(Settings(workers=0, rate=0)))
    ev = client.get("/api/events")
    assert ev.status_code == 200 and len(ev.json()["events"]) == len(es.events())
    body = client.get("/api/essay").json()
    assert body["rule"] == es.RULE
    assert body["scenario_titles"]["nep"] and body["scenario_titles"]["historical"]
    assert {c["id"] for c in body["claims"]} == {c.id for c in es.load_claims().claims}
    assert client.get("/static/essay.js").status_code == 200
