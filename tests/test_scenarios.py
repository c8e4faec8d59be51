"""Scenario files: shipped ones load; every kind of bad file is refused before anything runs,
with an error naming the file, the key and what is allowed."""

from pathlib import Path

import numpy as np
import pytest

import sovsim
from sovsim import history
from sovsim.errors import ScenarioError
from sovsim.scenario import catalogue, load_scenario, shipped_scenarios

SHIPPED = ("historical", "nep", "left", "permanent-revolution", "allen-nep", "allen-collectivization")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(name):
    assert name in shipped_scenarios()
    sc = load_scenario(name)
    assert sc.changes


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_change_has_a_source_or_reasoning(name):
    sources = history.sources()
    for ch in load_scenario(name).changes:
        assert ch.source or ch.note, f"{name}: {ch} has neither source nor note"
        if ch.source:
            assert ch.source in sources, f"{name}: unknown source key {ch.source}"


def test_extends_with_diverge_keeps_parent_before_divergence_only():
    nep, hist = load_scenario("nep"), load_scenario("historical")
    inherited = [c for c in nep.changes if c.origin == hist.path]
    assert inherited and all(c.month < nep.diverge for c in inherited)
    assert not any(c.instrument == "collectivization_target_share" for c in nep.changes)


def test_user_file_extends_relative_path(tmp_path):
    write(tmp_path, "base.toml", 'extends = "historical"\n')
    mine = write(tmp_path, "mine.toml", 'extends = "base.toml"\n[[change]]\ndate = "1932-07"\n'
                 'instrument = "grain_export_target_t"\nvalue = 0.0\nnote = "no exports"\n')
    sc = load_scenario(mine)
    tl = sc.timeline()["grain_export_target_t"]
    assert tl[(1932 - 1921) * 12 + 6, 0] == 0.0
    assert tl[(1931 - 1921) * 12 + 6, 0] == 4500000.0


def test_later_change_wins_at_same_month(tmp_path):
    mine = write(tmp_path, "m.toml", 'extends = "historical"\n[[change]]\ndate = "1930-03"\n'
                 'instrument = "voluntary_exit"\nvalue = false\n')
    tl = load_scenario(mine).timeline()["voluntary_exit"]
    assert tl[(1930 - 1921) * 12 + 2, 0] == 0.0


BAD = {
    "unknown instrument": ('[[change]]\ndate = "1930-01"\ninstrument = "magic"\nvalue = 1\n',
                           "change[0].instrument", "unknown instrument"),
    "wrong type": ('[[change]]\ndate = "1930-01"\ninstrument = "passports"\nvalue = "yes"\n',
                   "change[0].value (passports)", "expected true or false"),
    "out of range": ('[[change]]\ndate = "1930-01"\ninstrument = "investment_share"\nvalue = 2.0\n',
                     "change[0].value (investment_share)", "out of range"),
    "bad choice": ('[[change]]\ndate = "1930-01"\ninstrument = "procurement_mode"\nvalue = "gift"\n',
                   "change[0].value (procurement_mode)", "unknown choice"),
    "bad date": ('[[change]]\ndate = "1930-13"\ninstrument = "passports"\nvalue = true\n',
                 "change[0].date", "month must be 01-12"),
    "date outside the run": ('[[change]]\ndate = "1950-01"\ninstrument = "passports"\nvalue = true\n',
                             "change[0].date", "1921-01 to 1940-12"),
    "unknown parent": ('extends = "no-such-scenario"\n', "extends", "unknown scenario"),
    "unknown key": ('colour = "red"\n', "colour", "unknown key"),
    "unknown change key": ('[[change]]\ndate = "1930-01"\ninstrument = "passports"\nvalue = true\n'
                           'when = 1\n', "change[0].when", "unknown key"),
    "missing value": ('[[change]]\ndate = "1930-01"\ninstrument = "passports"\n',
                      "change[0].value", "missing"),
    "region on a national instrument": (
        '[[change]]\ndate = "1930-01"\ninstrument = "passports"\nvalue = true\nregion = "ukraine"\n',
        "change[0].region", "not regional"),
    "unknown region": ('[[change]]\ndate = "1930-01"\ninstrument = "dekulakization_rate_per_month"\n'
                       'value = 0.1\nregion = "atlantis"\n', "change[0].region", "unknown region"),
    "not TOML": ('[[change\n', "(file)", "not valid TOML"),
    "diverge without extends": ('diverge = "1928-01"\n', "diverge", "needs extends"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_files_are_refused_with_file_key_and_reason(tmp_path, kind):
    text, key, phrase = BAD[kind]
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    msg = str(exc.value)
    assert str(path.resolve()) in msg or str(path) in msg
    assert key in msg and phrase in msg


def test_out_of_range_names_the_allowed_range(tmp_path):
    path = write(tmp_path, "bad.toml", BAD["out of range"][0])
    with pytest.raises(ScenarioError, match=r"allowed: a number from 0 to 0\.6"):
        load_scenario(path)


def test_cycle_of_extends_is_refused(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    b = write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle of extends"):
        load_scenario(b)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no scenario file"):
        load_scenario(tmp_path / "nothing.toml")


def test_bad_file_is_refused_before_anything_runs(tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr("sovsim.api.simulate", lambda *a, **k: called.append(1))
    path = write(tmp_path, "bad.toml", BAD["out of range"][0])
    with pytest.raises(ScenarioError):
        sovsim.run(path)
    assert not called


def test_timeline_defaults_and_regional_changes():
    tl = load_scenario("historical").timeline()
    cat = catalogue()
    assert tl["passports"][0, 0] == cat["passports"].encode(cat["passports"].default)
    pace = tl["collectivization_pace_per_month"][(1930 - 1921) * 12 + 1]
    assert pace[1] > pace[0]  # North Caucasus faster than Ukraine in early 1930
    assert np.all(tl["investment_share"] <= cat["investment_share"].max)
