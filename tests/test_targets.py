"""Honest targets (issue 16): every row graded, fitting on the best-graded rows only, declared
targets with the rest out of sample, and history compared with the model over the same span."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sovsim import calendar
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import DataError, SovsimError
from sovsim.history import series as history
from sovsim.history import targets as declared
from sovsim.regions import REGIONS
from sovsim.results import validate as v
from sovsim.results.results import Results
from sovsim.uncertainty import calibrate

# -- grades -----------------------------------------------------------------------------------


def test_every_row_is_graded_as_grades_toml_says():
    df = history.load()
    assert set(df["grade"]) <= set(history.GRADES)
    missing, wrong = set(), []
    for r in df.itertuples(index=False):
        entry = history.grade_entry(r)
        if entry is None:
            missing.add((r.source, r.grade))
        elif entry["grade"] != r.grade:
            wrong.append(f"{r.file}: {r.series} {r.period} {r.variant}: {r.grade}, "
                         f"grades.toml says {entry['grade']}")
    stubs = "".join(f'\n[[source]]\nkey = "{s}"\ngrade = "{g}"\nreason = "..."\n'
                    for s, g in sorted(missing))
    assert not missing, f"sources without a grade and reason in data/grades.toml:{stubs}"
    assert not wrong, "\n".join(wrong)


def _copy_data(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the data directories the loader reads, for breaking one file."""
    real = history._data_dir
    for name in ("history", "sources"):
        shutil.copytree(real(name), tmp_path / name)
    monkeypatch.setattr(history, "_data_dir", lambda name: tmp_path / name)
    history.sources.cache_clear()
    return tmp_path


@pytest.fixture
def fresh_history():
    history._load_all.cache_clear()
    history.sources.cache_clear()
    yield
    history._load_all.cache_clear()
    history.sources.cache_clear()


def test_a_file_without_grades_is_refused_in_one_line(tmp_path, monkeypatch, fresh_history):
    root = _copy_data(tmp_path, monkeypatch)
    path = root / "history" / "new_topic.csv"
    path.write_text("series,region,period,value,unit,variant,source,location,note\n"
                    "horses_head,USSR,1930,1,head,x,tsunkhu_1938,p. 1,n\n")
    with pytest.raises(DataError) as err:
        history._load_all()
    msg = str(err.value)
    assert "new_topic.csv" in msg and "grade" in msg and "\n" not in msg


def test_an_unknown_grade_is_refused(tmp_path, monkeypatch, fresh_history):
    root = _copy_data(tmp_path, monkeypatch)
    (root / "history" / "new_topic.csv").write_text(
        "series,region,period,value,unit,variant,source,location,note,grade\n"
        "horses_head,USSR,1930,1,head,x,tsunkhu_1938,p. 1,n,excellent\n")
    with pytest.raises(DataError, match=r"new_topic\.csv.*grade.*excellent"):
        history._load_all()


def test_the_grade_column_may_stand_anywhere(tmp_path, monkeypatch, fresh_history):
    root = _copy_data(tmp_path, monkeypatch)
    (root / "history" / "new_topic.csv").write_text(
        "series,region,grade,period,value,unit,variant,source,location,note\n"
        "horses_head,USSR,archival,1930,1,head,x,tsunkhu_1938,p. 1,n\n")
    df = history._load_all()
    assert df[df["file"] == "new_topic.csv"]["grade"].tolist() == ["archival"]


def test_best_keeps_the_best_grade_and_never_popular():
    df = pd.DataFrame({
        "series": ["s"] * 5, "region": ["USSR"] * 5,
        "period": ["1930", "1930", "1930", "1931", "1931"],
        "value": [1.0, 2.0, 9.0, 3.0, 30.0], "variant": list("abcde"),
        "grade": ["scholarly", "official", "popular", "official", "popular"],
        "usable": [True, True, False, True, False]})
    out = history.best(df)
    assert out["variant"].tolist() == ["a", "d"]


def test_the_mislabelled_harvest_column_is_renamed():
    h = history.load("grain_harvest_t")
    assert "davies_wheatcroft" not in set(h["variant"])
    low = h[h["variant"] == "western_low"]
    assert len(low) >= 13 and (low["grade"] == "scholarly").all()


def test_inflated_official_claims_stay_in_the_data_but_are_never_usable():
    h = history.load()
    official_harvest = h[(h["series"] == "grain_harvest_t") & (h["variant"] == "official")
                         & (h["source"] == "wheatcroft_davies_1994")]
    assert len(official_harvest) >= 13
    assert (official_harvest["excluded"] == "inflated").all() and not official_harvest["usable"].any()
    index = h[(h["series"] == "industrial_output_index") & (h["variant"] == "official")]
    assert len(index) and not index["usable"].any()
    assert not h[h["grade"] == "popular"]["usable"].any()


# -- plans are inputs ---------------------------------------------------------------------------


def test_plans_are_not_outcome_variants():
    h = history.load()
    kinds = history.kinds()
    outcomes = h[h["series"].map(lambda s: s not in kinds or kinds[s].kind != "plan")]
    plans = outcomes["variant"].str.fullmatch(r"plan(_.*)?") | outcomes["note"].str.startswith("PLAN")
    assert not plans.any(), outcomes[plans][["series", "variant"]]
    assert kinds["grain_export_plan_t"].kind == "plan"
    plan = h[h["series"] == "grain_export_plan_t"]
    assert (plan["value"] == 4.5e6).any()  # the 1931/32 plan, kept as a plan
    for r in plan.itertuples(index=False):
        assert v.locate(r.series, r.region, r.period, r.note, r.variant) is None
    gaps = history.gaps()
    assert (gaps["series"] == "grain_export_plan_t").any()


def test_a_plan_cannot_be_declared_a_target(tmp_path, monkeypatch):
    path = tmp_path / "targets.toml"
    path.write_text('[[target]]\nseries = "grain_export_plan_t"\nregion = "USSR"\n'
                    'years = [1931, 1932]\nvariants = "best"\nweight = 1.0\nwhy = "no"\n')
    monkeypatch.setattr(declared, "_path", lambda: path)
    declared.declared.cache_clear()
    try:
        with pytest.raises(DataError, match="plan is an input"):
            declared.declared()
    finally:
        declared.declared.cache_clear()


# -- kinds: dates and spans match ----------------------------------------------------------------


def _synthetic() -> Results:
    """A run whose every record is 1 + the month index, in every column."""
    cols = 1 + len(REGIONS)
    ramp = np.repeat((np.arange(calendar.N_MONTHS) + 1.0)[:, None], cols, axis=1)
    names = ("horses_head", "grain_exports_t", "grain_procurement_t", "deported_persons",
             "industrial_output_index", "excess_deaths_persons", "grain_harvest_t")
    return Results("synthetic", {n: ramp.copy() for n in names})


def _m(label: str) -> int:
    return calendar.parse_month(label)


def _sum(first: str, last: str) -> float:
    return float(sum(m + 1 for m in range(_m(first), _m(last) + 1)))


def test_a_stock_is_the_count_at_its_date():
    res = _synthetic()
    assert v.model_value(res, "horses_head", "USSR", "1938-01-01") == _m("1937-12") + 1
    assert v.model_value(res, "horses_head", "USSR", "1931-12-31") == _m("1931-12") + 1
    assert v.model_value(res, "horses_head", "USSR", "1930") == _m("1930-06") + 1


def test_a_calendar_year_flow_is_summed_over_january_to_december():
    res = _synthetic()
    assert v.model_value(res, "grain_exports_t", "USSR", "1930", variant="ammende") == \
        _sum("1930-01", "1930-12")
    # a crop-year variable's calendar-year figure is summed over the calendar months too
    assert v.locate("grain_harvest_t", "USSR", "1932")[2] == "annual"


def test_a_crop_year_flow_is_summed_over_july_to_june():
    res = _synthetic()
    assert v.model_value(res, "grain_exports_t", "USSR", "1931",
                         variant="davies_tauger_wheatcroft") == _sum("1931-07", "1932-06")
    assert v.model_value(res, "grain_procurement_t", "USSR", "1929") == _sum("1929-07", "1930-06")
    assert np.isnan(v.model_value(res, "grain_procurement_t", "USSR", "1940"))  # cut by the run


def test_a_cumulative_figure_is_summed_over_its_span():
    res = _synthetic()
    assert v.model_value(res, "deported_persons", "USSR", "1931-12-31",
                         "CUMULATIVE 1930+1931 (period = end of 1931)") == _sum("1930-01", "1931-12")
    assert v.model_value(res, "deported_persons", "USSR", "1931-09-30",
                         "CUMULATIVE 1930-1931 (to 30 Sep 1931)") == _sum("1930-01", "1931-09")
    assert v.model_value(res, "excess_deaths_total_persons", "USSR", "1933",
                         "famine of 1932-33") == _sum("1932-01", "1933-12")
    assert v.model_value(res, "excess_deaths_total_persons", "USSR", "1922",
                         "famine of 1921-1923") == _sum("1921-01", "1923-12")  # the span's end
    assert np.isnan(v.model_value(res, "deported_persons", "USSR", "1931-12-31", "no span named"))


def test_totals_over_different_spans_are_different_bands():
    rows = pd.DataFrame({
        "series": ["excess_deaths_total_persons"] * 3, "region": ["USSR"] * 3,
        "period": ["1933"] * 3, "value": [5.5e6, 6.5e6, 7.0e6], "variant": ["a", "b", "c"],
        "note": ["1931-1933", "1931-1933", "1932-1933"], "grade": ["scholarly"] * 3,
        "source": ["s"] * 3})
    bands = v.bands_of(rows)
    assert sorted(len(g) for *_, g in bands) == [1, 2]


def test_an_index_is_the_mean_of_its_year():
    res = _synthetic()
    assert v.model_value(res, "industrial_output_index", "USSR", "1930") == \
        pytest.approx(_sum("1930-01", "1930-12") / 12)


def test_every_compared_series_declares_a_kind_the_model_can_match():
    kinds = history.kinds()
    h = history.load()
    undeclared = sorted({s for s in h["series"] if s in BY_NAME and s not in kinds})
    assert not undeclared, f"declare these series in data/history/kinds.toml: {undeclared}"
    for k in kinds.values():
        if k.kind == "plan":
            continue
        assert k.model in BY_NAME, k
        for kind in {k.kind, *dict(k.variants).values()}:
            assert BY_NAME[k.model].annual in history.KIND_RULES[kind], (k.series, kind)


def test_cumulative_rows_name_their_span():
    h = history.load()
    kinds = history.kinds()
    cum = h[h["series"].map(lambda s: s in kinds and kinds[s].kind == "cumulative") & h["usable"]]
    assert len(cum)
    bad = cum[cum["note"].map(history.span).isna()]
    assert bad.empty, bad[["file", "series", "period", "variant"]]


def test_deportations_of_1930_31_are_compared_with_the_model_total(historical):
    row = history.load("deported_persons")
    row = row[(row["period"] == "1931-12-31") & (row["variant"] == "ogpu_gulag_osp")].iloc[0]
    model = v.model_value(historical, row["series"], row["region"], row["period"], row["note"],
                          row["variant"])
    monthly = historical.series("deported_persons", freq="monthly")
    assert model == pytest.approx(monthly["1930-01":"1931-12"].sum())
    assert model > 10 * monthly.max()  # a total, not a month's flow


# -- declared targets and out of sample ------------------------------------------------------------


def test_weak_rows_never_widen_the_famine_range():
    lo, hi = v.famine_range()
    rows = declared.band_rows(declared.band("famine_1930_34"), history.load())
    assert len(rows) >= 3 and (rows["grade"] != "popular").all()
    assert 2.7e6 < lo <= hi < 12.8e6  # the forum/blog compilation's extremes are out
    weak = history.load("excess_deaths_total_persons")
    weak = weak[(weak["grade"] == "popular") & (weak["region"] == "USSR")]
    assert weak["value"].min() < lo or weak["value"].max() > hi


def test_unidentified_death_rate_index_is_not_a_target():
    assert ("death_rate_index", "USSR") not in declared.weights()
    dri = history.load("death_rate_index")
    assert (dri["grade"] == "popular").all()
    top = max(declared.weights().values())
    assert declared.weights().get(("death_rate_index", "USSR"), 0) < top


def test_the_declared_out_of_sample_set_is_never_in_the_view():
    view = declared.view()
    years = view["period"].str[:4].astype(int)
    livestock = view["series"].isin(["horses_head", "cattle_head", "pigs_head", "sheep_goats_head"])
    assert not (livestock & years.between(1929, 1934)).any()
    assert not ((view["series"] == "collectivized_share") & years.between(1929, 1934)).any()
    assert (view["region"] == "USSR").all()  # regional deaths, livestock, collectivization
    census_1939 = view["series"].isin(["population_persons", "urban_population_persons",
                                       "rural_population_persons"]) & (years == 1939)
    assert not census_1939.any()
    assert not (view["grade"] == "popular").any() and view["usable"].all()


def test_calibration_never_reads_an_out_of_sample_row(historical, monkeypatch):
    """The loss is computed from the targets' view: poisoning every other row of the record
    leaves it unchanged, and poisoning a row of the view changes it."""
    full = history.load()
    view_index = declared.view(full).index
    calibrate.clear_caches()
    base_total, base_parts = calibrate.score(historical)

    def poisoned(index):
        df = full.copy()
        df.loc[index, "value"] = df.loc[index, "value"] * 7.0 + 1.0
        return df

    try:
        outside = full.index.difference(view_index)
        monkeypatch.setattr(history, "_load_all", lambda: poisoned(outside))
        calibrate.clear_caches()
        assert calibrate.score(historical) == (base_total, base_parts)
        monkeypatch.setattr(history, "_load_all", lambda: poisoned(view_index[:3]))
        calibrate.clear_caches()
        assert calibrate.score(historical)[0] != base_total
    finally:
        monkeypatch.undo()
        calibrate.clear_caches()


def test_calibration_refuses_an_undeclared_target(historical):
    with pytest.raises(SovsimError, match="not a declared target"):
        calibrate.score(historical, {("population_persons", "USSR"): 1.0})


def test_validation_reports_fit_and_out_of_sample_apart(historical):
    rep = v.report(historical)
    fitted = {(r["series"], r["region"]) for r in rep["fit"]}
    assert fitted == set(declared.weights())
    oos = {(r["series"], r["region"]) for r in rep["out_of_sample"]}
    assert {("horses_head", "USSR"), ("collectivized_share", "USSR"),
            ("excess_deaths_total_persons", "ukraine"), ("deported_persons", "USSR")} <= oos
    assert "nearest" not in v.table(historical).columns
    for r in rep["fit"] + rep["out_of_sample"]:
        for p in r["points"]:
            assert p["lo"] <= p["hi"] and p["error"] >= 0
            assert "popular" not in p["grade"]
