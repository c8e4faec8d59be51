"""The synthetic population: sourced data files, distributions within sampling error, weights,
determinism across chunkings and threads, agreement with the coarse cells, and bad input.

Populations here have at most 200,000 households (a fraction of a second each once the
kernel is compiled); the full 25.6 million are built only by the slow test and the benchmark.
"""

import numpy as np
import pytest

from sovsim import history
from sovsim.errors import DataError, InputError
from sovsim.params import load_parameters
from sovsim.population import (
    POPULATION_COLUMNS,
    STREAMS,
    build_population,
    compare_with_figures,
    compare_with_initial,
    figures,
    full_size,
    gaps,
    iter_population,
    stream_key,
    to_cells,
    uniforms,
)
from sovsim.population.build import _Plan
from sovsim.population.data import design, figure
from sovsim.population.rng import uniforms_jit
from sovsim.regions import CLASSES, REGIONS
from sovsim.state import initial_state

N = 200_000


@pytest.fixture(scope="module")
def pop1921():
    return build_population(N, year=1921, seed=11)


@pytest.fixture(scope="module")
def pop1928():
    return build_population(N, year=1928, seed=11)


def weighted_share(mask, w):
    """Weighted share and its sampling standard error (independent draws)."""
    p = np.average(mask, weights=w)
    return p, np.sqrt((w ** 2 * (mask - p) ** 2).sum()) / w.sum()


# --- the data files -------------------------------------------------------------------------

def test_every_figure_has_a_resolving_source_or_says_it_is_assumed():
    known = history.sources()
    for row in figures():
        if row["source"]:
            assert row["source"] in known, row
        if row["status"] in ("sourced", "check"):
            assert row["source"] and row["location"], row
        else:
            assert row["status"] == "assumption" and len(row["note"]) > 20, row


def test_gaps_say_what_was_searched():
    g = gaps()
    assert len(g) >= 5 and all(r["searched"] and r["note"] for r in g)


def test_the_cell_means_are_those_of_the_coarse_initial_state():
    p = load_parameters().values()
    d = design(p, 1921)
    table, _ = initial_state(p)
    assert d.households.sum() == pytest.approx(table["households"].sum(), rel=1e-12)
    assert d.class_share[0] == pytest.approx([p[f"initial.{k}_household_share"] for k in CLASSES])
    assert design(p, 1928).households.sum() == pytest.approx(figure("households_total"))


# --- weights --------------------------------------------------------------------------------

@pytest.mark.parametrize("year", [1921, 1928])
@pytest.mark.parametrize("n", [5, 977, 50_000])
def test_weights_sum_to_the_regional_household_totals(year, n):
    pop = build_population(n, year=year, seed=2)
    real = pop.region_households
    got = np.bincount(pop["region"], weights=pop["weight"], minlength=len(REGIONS))
    np.testing.assert_allclose(got, real, rtol=1e-12)
    assert real.sum() == full_size(year)
    assert (np.bincount(pop["region"], minlength=len(REGIONS)) >= 1).all()


def test_a_subset_of_regions_carries_their_totals():
    pop = build_population(10_000, year=1928, regions=["kazakhstan", "ukraine"], seed=2)
    assert set(np.unique(pop["region"]).tolist()) == {REGIONS.index("ukraine"),
                                                      REGIONS.index("kazakhstan")}
    assert pop["weight"].sum() == pytest.approx(full_size(1928, ["ukraine", "kazakhstan"]))


@pytest.mark.parametrize("year", [1921, 1928])
def test_at_full_size_every_weight_is_one(year):
    plan = _Plan(None, year, 0, None, None)  # the apportionment, without drawing 25 million
    assert plan.n == full_size(year)
    np.testing.assert_array_equal(plan.counts, plan.real)
    assert (plan.weight_r == 1.0).all()


@pytest.mark.slow
def test_the_full_1928_population_has_weights_one():
    """25.6 million households (1.5 GB, ~20 s): run with -m slow."""
    pop = build_population(year=1928, seed=0)
    assert len(pop) == 25_600_000 and (pop["weight"] == 1.0).all()


# --- determinism ----------------------------------------------------------------------------

def test_same_household_same_attributes_whatever_the_chunking():
    ref = build_population(100_003, year=1928, seed=5)
    for chunk in (1_000, 7_777, 100_003):
        other = build_population(100_003, year=1928, seed=5, chunk_size=chunk)
        for c in POPULATION_COLUMNS:
            np.testing.assert_array_equal(ref[c.name], other[c.name], err_msg=c.name)
    parts = list(iter_population(100_003, year=1928, seed=5, chunk_size=30_000))
    assert [len(p) for p in parts] == [30_000, 30_000, 30_000, 10_003]
    for c in POPULATION_COLUMNS:
        np.testing.assert_array_equal(ref[c.name], np.concatenate([p[c.name] for p in parts]))


def test_same_households_on_one_thread_and_on_all():
    numba = pytest.importorskip("numba")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = build_population(20_000, seed=9)
    finally:
        numba.set_num_threads(before)
    many = build_population(20_000, seed=9)
    for c in POPULATION_COLUMNS:
        np.testing.assert_array_equal(one[c.name], many[c.name])


def test_another_seed_gives_other_households():
    a, b = build_population(10_000, seed=1), build_population(10_000, seed=2)
    assert not np.array_equal(a["horses"], b["horses"])
    np.testing.assert_array_equal(a["weight"], b["weight"])


def test_the_counter_based_generator():
    key = stream_key(3, STREAMS["horses_a"])
    ids = np.arange(0, 400_000, 3, dtype=np.int64)
    u = uniforms(key, ids)
    np.testing.assert_array_equal(u, uniforms_jit(key, ids))  # numpy and numba agree
    np.testing.assert_array_equal(u[10:20], uniforms(key, ids[10:20]))  # addressed by id
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    counts = np.bincount((u * 10).astype(int), minlength=10)
    chi2 = ((counts - u.size / 10) ** 2 / (u.size / 10)).sum()
    assert chi2 < 30  # 9 degrees of freedom: p < 0.001
    other = uniforms(stream_key(3, STREAMS["cattle_a"]), ids)
    assert abs(np.corrcoef(u, other)[0, 1]) < 5 / np.sqrt(u.size)
    assert stream_key(3, 1, month=1) != stream_key(3, 1, month=2)


# --- distributions against the data -------------------------------------------------------

@pytest.mark.parametrize("region", ["USSR", "ukraine"])
def test_horseless_share_matches_the_source(pop1921, region):
    m = np.ones(len(pop1921), bool) if region == "USSR" else \
        pop1921["region"] == REGIONS.index(region)
    p, se = weighted_share(pop1921["horses"][m] == 0, pop1921["weight"][m])
    assert abs(p - figure("horseless_share", region)) < 4 * se


def test_zero_shares_by_class(pop1921):
    w, k = pop1921["weight"], pop1921["klass"]
    for c, name in enumerate(CLASSES):
        p, se = weighted_share(pop1921["cattle"][k == c] == 0, w[k == c])
        assert abs(p - figure("cattleless_share", category=name)) < 4 * se + 1e-12
    kulak = k == CLASSES.index("kulak")
    assert (pop1921["horses"][kulak] > 0).all()
    assert (pop1921["sown_area_ha"][k != CLASSES.index("poor")] > 0).all()
    p, se = weighted_share(pop1921["sown_area_ha"] == 0, w)
    assert abs(p - figure("landless_share")) < 4 * se


def test_class_shares_hold_in_every_region(pop1921):
    d = design(load_parameters().values(), 1921)
    for r in range(len(REGIONS)):
        m = pop1921["region"] == r
        counts = np.bincount(pop1921["klass"][m], minlength=len(CLASSES))
        np.testing.assert_allclose(counts, d.class_share[r] * m.sum(), atol=3)


def test_cell_sums_match_the_coarse_initial_state_within_sampling_error(pop1921):
    df = compare_with_initial(pop1921)
    ind = df[df["tenure"] == "individual"]
    other = df[df["tenure"] != "individual"]
    assert (other["population"] == 0).all() and (other["coarse"] == 0).all()
    hh = ind[ind["quantity"] == "households"]
    np.testing.assert_allclose(hh["population"], hh["coarse"], rtol=3e-3)  # class quotas
    assert hh["population"].sum() == pytest.approx(hh["coarse"].sum(), abs=1.0)
    rest = ind[ind["quantity"] != "households"]
    z = (rest["population"] - rest["coarse"]) / rest["se"]
    assert np.isfinite(z).all() and np.abs(z).max() < 4.5, rest[np.abs(z) >= 4.5]


def test_the_1928_population_has_the_1921_structure_scaled(pop1928):
    df = compare_with_initial(pop1928)
    hh = df[(df["tenure"] == "individual") & (df["quantity"] == "households")]
    np.testing.assert_allclose(hh["population"], hh["coarse"], rtol=3e-3)
    assert pop1928["weight"].sum() == pytest.approx(figure("households_total"), rel=1e-12)


def test_to_cells_uses_the_coarse_names_and_january_area(pop1921):
    p = load_parameters().values()
    cells = to_cells(pop1921, p)
    assert all(v.shape == (45,) for v in cells.values())
    np.testing.assert_allclose(cells["sown_area_ha"],
                               cells["area_last_ha"] * p["agriculture.winter_crop_share"])
    table, _ = initial_state(p)
    for name in cells:
        assert name in table.cols


def test_household_size_and_sown_groups(pop1921):
    persons, w = pop1921["persons"], pop1921["weight"]
    assert persons.min() >= 1 and (persons == np.round(persons)).all()
    mean = np.average(persons, weights=w)
    expected = np.average(design(load_parameters().values(), 1921).size_mean,
                          weights=design(load_parameters().values(), 1921).households)
    assert abs(mean - expected) < 4 * persons.std() / np.sqrt(len(persons))
    upper = design(load_parameters().values(), 1921).group_upper_ha
    area = pop1921["sown_area_ha"]
    expect = np.where(area == 0, 0, 1 + np.searchsorted(upper, area, side="left"))
    np.testing.assert_array_equal(pop1921["sown_group"], expect)
    assert set(np.unique(pop1921["sown_group"]).tolist()) == set(range(7))


def test_attributes_go_together_within_a_class(pop1921):
    m = pop1921["klass"] == CLASSES.index("middle")
    for a, b in (("horses", "sown_area_ha"), ("cattle", "horses"), ("persons", "sown_area_ha")):
        assert np.corrcoef(pop1921[a][m], pop1921[b][m])[0, 1] > 0.05, (a, b)


def test_every_sourced_figure_is_set_beside_the_population(pop1921):
    df = compare_with_figures(pop1921)
    sourced = [r for r in figures() if r["status"] != "assumption"
               and not r["quantity"].startswith("sown_group")]
    assert len(df) == len(sourced)
    drawn_to = df[df["status"] == "sourced"]
    assert np.abs(drawn_to["ratio"] - 1).max() < 0.05


def test_columns_have_their_declared_dtypes(pop1921):
    for c in POPULATION_COLUMNS:
        assert pop1921[c.name].dtype == np.dtype(c.dtype), c.name
    np.testing.assert_array_equal(pop1921["household_id"], np.arange(len(pop1921)))


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "need at least one"),
    ({"n": -3}, "need at least one"),
    ({"n": 25_600_001}, "more than the 25,600,000 real ones"),
    ({"n": 4}, "cannot cover 5 regions"),
    ({"n": 2.5}, "not a whole number"),
    ({"n": "10"}, "not a whole number"),
    ({"n": float("nan")}, "not a whole number"),
    ({"n": 10, "regions": ["siberia"]}, "unknown region 'siberia'"),
    ({"n": 10, "regions": []}, "no region given"),
    ({"n": 10, "year": 1925}, "1925 is not a base year"),
    ({"n": 10, "seed": -1}, "seed"),
    ({"n": 10, "chunk_size": 0}, "chunk_size"),
])
def test_bad_input_gives_a_clear_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        build_population(**kwargs)


def test_more_than_a_regions_households_is_refused():
    full = full_size(1921, ["kazakhstan"])
    with pytest.raises(InputError, match=f"more than the {full:,} real ones"):
        build_population(full + 1, year=1921, regions=["kazakhstan"])


def test_unreachable_zero_shares_are_refused():
    p = load_parameters().with_overrides({"initial.horses_per_household_poor": 0.1}).values()
    with pytest.raises(DataError, match=r"horses in .*poor"):
        design(p, 1921)
