"""Tidy outputs and the command line, tested in-process."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sovsim.cli import app
from sovsim.regions import REGIONS

runner = CliRunner()
REQUIRED = ["population_persons", "urban_population_persons", "rural_population_persons",
            "peasant_households", "grain_harvest_t", "grain_procurement_t", "grain_exports_t",
            "horses_head", "cattle_head", "pigs_head", "sheep_goats_head", "collectivized_share",
            "sown_area_ha", "industrial_output_index", "gdp_per_capita_index", "investment_share",
            "nonagricultural_employment_persons", "food_kcal_per_person_day",
            "rural_food_kcal_per_person_day", "urban_food_kcal_per_person_day",
            "excess_deaths_persons", "deported_persons"]


def test_tidy_tables(historical):
    ann, mon = historical.annual(), historical.monthly()
    for df in (ann, mon):
        assert list(df.columns) == ["scenario", "period", "variable", "region", "value", "unit"]
        assert set(REQUIRED) <= set(df["variable"])
    assert ann["period"].str.fullmatch(r"\d{4}").all()
    assert mon["period"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert set(ann["region"]) == {"USSR", *REGIONS}
    regional = ann[ann["variable"] == "excess_deaths_persons"]["region"]
    assert {"ukraine", "kazakhstan"} <= set(regional)
    idx = ann.set_index(["variable", "region", "period"])["value"]
    assert idx[("industrial_output_index", "USSR", "1928")] > 0
    assert idx[("gdp_per_capita_index", "USSR", "1928")] == pytest.approx(100.0)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_run_writes_tables(tmp_path, fmt):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", "nep", "--out", str(out), "--format", fmt, "--freq", "monthly"])
    assert r.exit_code == 0, r.output
    path = out / f"nep_monthly.{fmt}"
    df = {"csv": pd.read_csv, "parquet": pd.read_parquet,
          "json": lambda p: pd.read_json(p, dtype={"period": str})}[fmt](path)
    assert len(df) > 1000 and set(df["scenario"]) == {"nep"}
    manifest = json.loads((out / "nep_manifest.json").read_text())
    assert manifest["scenario"] == "nep" and manifest["scenario_hash"]
    assert not list(out.glob(".*partial*"))


def test_compare_prints_and_plots(tmp_path):
    png = tmp_path / "c.png"
    r = runner.invoke(app, ["compare", "historical", "nep", "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert "1933" in r.output and "nep" in r.output
    assert png.stat().st_size > 10_000


def test_validate_json_reports_misses():
    r = runner.invoke(app, ["validate", "--json"])
    assert r.exit_code == 0, r.output
    payload = json.loads(r.output)
    names = {s["series"] for s in payload["series"]}
    assert {"grain_harvest_t", "horses_head", "urban_population_persons"} <= names
    for s in payload["series"]:
        assert s["n"] == len(s["points"]) and s["mape"] >= 0
    assert {"inside_range", "regions_by_deaths_per_head"} <= set(payload["famine"])
    # issue 15: the famine where and when, beside the series (results/famine.py)
    fv = payload["famine_validation"]
    assert {"regional_losses", "order", "totals", "calendar", "months", "later_famines",
            "no_later_famine", "state_stocks", "births"} <= set(fv)
    assert isinstance(fv["order"]["holds"], bool) and len(fv["months"]) == 36


def test_validate_table_prints():
    r = runner.invoke(app, ["validate"])
    assert r.exit_code == 0 and "MAPE" in r.output
    assert "Per-head losses by region" in r.output and "The calendar of 1932-34" in r.output


def test_scenarios_data_params():
    assert "permanent-revolution" in runner.invoke(app, ["scenarios"]).output
    listing = runner.invoke(app, ["data"])
    assert listing.exit_code == 0 and "grain_harvest_t" in listing.output
    one = runner.invoke(app, ["data", "horses_head", "--csv"])
    assert one.exit_code == 0 and "bse_1972_zhivotnovodstvo" in one.output
    assert "davies_wheatcroft_2004" in runner.invoke(app, ["data", "--sources"]).output
    assert runner.invoke(app, ["data", "--gaps"]).exit_code == 0
    params = json.loads(runner.invoke(app, ["params", "--json"]).output)
    assert any(p["status"] == "calibrated" for p in params)


def test_bench_prints_figures():
    r = runner.invoke(app, ["bench", "--runs", "2", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)["median_s"] > 0


@pytest.mark.parametrize("args, phrase", [
    (["run", "no-such-scenario"], "unknown scenario"),
    (["run", "nep", "--format", "xls"], "--format"),
    (["run", "nep", "--freq", "weekly"], "--freq"),
    (["data", "no_such_series"], "no such series"),
])
def test_bad_input_exits_2_with_a_message(args, phrase):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert phrase in r.output


def test_bad_user_scenario_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[change]]\ndate = "1930-01"\ninstrument = "investment_share"\nvalue = 9\n')
    r = runner.invoke(app, ["run", str(bad)])
    assert r.exit_code == 2 and "investment_share" in r.output and "out of range" in r.output
