"""The historical data: sourced, tidy, variants kept, gaps declared; never read by the model."""

import ast
from pathlib import Path

import pandas as pd

from sovsim import history

WANTED = ["population_persons", "urban_population_persons", "rural_population_persons",
          "peasant_households", "grain_harvest_t", "grain_procurement_t", "grain_exports_t",
          "horses_head", "cattle_head", "pigs_head", "sheep_goats_head", "collectivized_share",
          "industrial_output_index", "gdp_per_capita_index", "nonagricultural_employment_persons",
          "urban_real_wage_index", "excess_deaths_total_persons", "deported_persons"]


def test_every_figure_has_a_resolving_source():
    df = history.load()
    sources = history.sources()
    assert df["source"].isin(list(sources)).all()
    for key in set(df["source"]):
        entry = sources[key]
        assert entry["author"] and entry["title"] and "year" in entry
        assert history.cite(key)


def test_the_wanted_series_are_present_or_declared_missing():
    have = set(history.load()["series"])
    missing = set(WANTED) - have
    declared = set(history.gaps()["series"])
    assert not (missing - declared), f"neither data nor gap rows: {missing - declared}"
    assert len(missing) < 3


def test_disagreeing_sources_are_kept_as_variants():
    h = history.load("grain_harvest_t")
    y1932 = h[(h["region"] == "USSR") & (h["period"] == "1932")]
    assert y1932["variant"].nunique() >= 3
    deaths = history.load("excess_deaths_total_persons")
    assert deaths[deaths["region"] == "USSR"]["variant"].nunique() >= 4


def test_gaps_say_what_was_tried():
    g = history.gaps()
    assert len(g) > 20 and (g["note"].str.len() > 0).all()


def test_the_model_never_reads_history():
    root = Path(history.__file__).resolve().parents[1]
    for sub in ("mechanisms", "engine", "state"):
        for path in (root / sub).glob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                    assert not any("history" in n for n in names), f"{path} imports history"


def test_history_frames_are_numeric():
    df = history.load()
    assert pd.api.types.is_float_dtype(df["value"])
