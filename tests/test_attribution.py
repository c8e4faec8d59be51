"""`sovsim attribute`: exact Shapley values over groups of instruments (docs/attribution.md)."""

from __future__ import annotations

import itertools
import tomllib

import numpy as np
import pytest

from sovsim.errors import SovsimError
from sovsim.research import attribution as A
from sovsim.scenario import load_scenario
from sovsim.scenario.instruments import catalogue


def _game(k: int, v) -> np.ndarray:
    """The 2^k coalition values of a game given as a function of a tuple of players."""
    return np.array([v(tuple(i for i in range(k) if m >> i & 1)) for m in range(1 << k)])


def test_shapley_of_a_known_game():
    # v(C) = (sum of the players' weights in C)^2: the pure interaction is shared equally,
    # so phi_i = w_i * W (W the sum of all weights).
    w = np.array([1.0, 2.0, 5.0])
    phi = A.shapley(_game(3, lambda c: sum(w[list(c)]) ** 2), 3)
    np.testing.assert_allclose(phi, w * w.sum())


def test_shapley_efficiency_null_player_symmetry_and_order():
    rng = np.random.default_rng(7)
    k = 4
    vals = rng.normal(size=1 << k)
    vals[0] = 0.0
    phi = A.shapley(vals, k)
    assert phi.sum() == pytest.approx(vals[-1] - vals[0], rel=1e-12)
    # a player that changes nothing: v(C + 3) = v(C) for every C
    dummy = np.array([vals[m & 0b0111] for m in range(1 << k)])
    assert A.shapley(dummy, k)[3] == 0.0
    # players 0 and 1 interchangeable -> equal values
    sym = _game(3, lambda c: float(len(set(c) & {0, 1}) > 0) + 2.0 * (2 in c))
    p = A.shapley(sym, 3)
    assert p[0] == pytest.approx(p[1]) and p[2] == pytest.approx(2.0)
    # relabelling the players permutes the values and nothing else
    for perm in itertools.permutations(range(k)):
        moved = np.empty_like(vals)
        for m in range(1 << k):
            moved[sum(1 << perm[i] for i in range(k) if m >> i & 1)] = vals[m]
        np.testing.assert_allclose(A.shapley(moved, k)[list(perm)], phi, rtol=1e-12)


def test_the_default_groups_hold_every_instrument_once():
    raw = tomllib.loads(A.default_groups_path().read_text())
    listed = [i for g in raw["group"] for i in g["instruments"]]
    assert sorted(listed) == sorted(catalogue()), "place each instrument in one group"
    A.load_groups()  # and the file passes its own checks


def _groups_file(tmp_path, groups: dict[str, list[str]]):
    text = "".join(f'[[group]]\nname = "{n}"\ninstruments = {insts!r}\n\n'.replace("'", '"')
                   for n, insts in groups.items())
    path = tmp_path / "groups.toml"
    path.write_text(text)
    return path


THREE = {"exports": ["grain_export_target_t"],
         "procurement": ["procurement_mode", "procurement_plan_t", "regional_procurement_plan_t",
                         "quota_share", "planned_yield_t_per_ha", "tax_in_kind_share",
                         "procurement_floor_kg_per_person_year", "enforcement_efficiency"],
         "collectivization": ["collectivization_target_share",
                              "collectivization_pace_per_month", "voluntary_exit",
                              "dekulakization_rate_per_month", "kolkhoz_private_plots"]}


def test_the_shares_add_up_to_the_difference_between_the_runs(tmp_path):
    groups = A.load_groups(_groups_file(tmp_path, THREE))
    out = A.outcome("excess_deaths_persons", "ukraine", "1932-1934")
    att = A.attribute(load_scenario("historical"), load_scenario("nep"), out, groups=groups)
    assert [g.name for g in att.groups] == ["exports", "procurement", "collectivization", "other"]
    assert att.values.sum() == pytest.approx(att.total, rel=1e-9)
    assert att.total > 0  # historical kills more in Ukraine than NEP kept
    # and the table says the same, a row a group
    t = att.table()
    assert list(t.columns) == A.COLUMNS
    assert t["value"].sum() == pytest.approx(att.total, rel=1e-9)
    assert t["share"].sum() == pytest.approx(1.0, rel=1e-9)
    # the order of the groups changes no group's value
    rev = A.attribute(load_scenario("historical"), load_scenario("nep"), out,
                      groups=list(reversed(groups)))
    assert dict(zip([g.name for g in rev.groups], rev.values)) == pytest.approx(
        dict(zip([g.name for g in att.groups], att.values)), rel=1e-9)


def test_a_group_whose_changes_come_after_the_period_gets_zero(tmp_path):
    late = tmp_path / "late.toml"
    late.write_text('name = "late"\nextends = "historical"\n'
                    '[[change]]\ndate = "1939-01"\ninstrument = "grain_export_target_t"\n'
                    'value = 1000000.0\n'
                    '[[change]]\ndate = "1931-01"\ninstrument = "passports"\nvalue = true\n')
    groups = A.load_groups(_groups_file(tmp_path, {"exports": ["grain_export_target_t"],
                                                   "mobility": ["passports"]}))
    att = A.attribute(load_scenario(late), load_scenario("historical"),
                      A.outcome("migrants_to_towns_persons", period="1931-1933"), groups=groups)
    values = dict(zip([g.name for g in att.groups], att.values))
    assert values["exports"] == 0.0  # exactly: its runs are the same runs bit for bit
    assert values["mobility"] < 0  # passports from 1931 keep peasants in the villages
    assert values["mobility"] == att.total


def test_bands_are_reproducible_by_seed(tmp_path):
    groups = A.load_groups(_groups_file(tmp_path, {"exports": ["grain_export_target_t"]}))
    out = A.outcome("excess_deaths_persons", period="1933")
    hist, nep = load_scenario("historical"), load_scenario("nep")
    a = A.attribute(hist, nep, out, groups=groups, members=4, seed=11)
    b = A.attribute(hist, nep, out, groups=groups, members=4, seed=11)
    c = A.attribute(hist, nep, out, groups=groups, members=4, seed=12)
    assert a.member_values.shape == (4, 2)  # exports and the other instruments
    np.testing.assert_array_equal(a.member_values, b.member_values)
    assert not np.array_equal(a.member_values, c.member_values)
    t = a.table()
    assert (t["low"] <= t["high"]).all()
    # each member's shares add up to that member's own difference
    assert np.isfinite(a.member_values).all()


def test_bad_groups_and_outcomes_are_refused_by_name(tmp_path):
    with pytest.raises(SovsimError, match="in group 'a' already"):
        A.load_groups(_groups_file(tmp_path, {"a": ["passports"], "b": ["passports"]}))
    with pytest.raises(SovsimError, match="no instrument 'nope'"):
        A.load_groups(_groups_file(tmp_path, {"a": ["nope"]}))
    (tmp_path / "bad.toml").write_text("[[group]\n")
    with pytest.raises(SovsimError, match="not valid TOML"):
        A.load_groups(tmp_path / "bad.toml")
    with pytest.raises(SovsimError, match="no such groups file"):
        A.load_groups(tmp_path / "missing.toml")
    with pytest.raises(SovsimError, match="--outcome: no variable"):
        A.outcome("nope")
    with pytest.raises(SovsimError, match="--period"):
        A.outcome("excess_deaths_persons", period="1935-1931")
    with pytest.raises(SovsimError, match="--period"):
        A.outcome("excess_deaths_persons", period="١٩٣٢")
    with pytest.raises(SovsimError, match="--region: no region"):
        A.outcome("excess_deaths_persons", region="atlantis")


def test_the_command_prints_the_table_and_json_and_refuses_bad_options(tmp_path):
    import json

    from typer.testing import CliRunner

    from sovsim.cli.main import app

    groups = _groups_file(tmp_path, {"exports": ["grain_export_target_t"]})
    args = ["attribute", "historical", "--against", "nep", "--outcome",
            "excess_deaths_persons", "--period", "1933", "--groups", str(groups)]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert [r["group"] for r in payload["rows"]] == ["exports", "other"]
    assert sum(r["value"] for r in payload["rows"]) == pytest.approx(payload["total"], rel=1e-9)
    chart = tmp_path / "a.png"
    res = CliRunner().invoke(app, [*args, "--plot", str(chart)])
    assert res.exit_code == 0 and chart.stat().st_size > 1000
    assert "exports" in res.output and "other instruments" in res.output
    for bad, word in ((["--members", "-1"], "--members"), (["--plot", "x.xyz"], "--plot"),
                      (["--period", "1950"], "--period")):
        res = CliRunner().invoke(app, [*args, *bad])
        assert res.exit_code == 2 and word in res.output and "Traceback" not in res.output
