"""The famine validation checks (results/famine.py) on a small made-up run: pure pandas, no
model run."""

import numpy as np
import pandas as pd
import pytest

from sovsim.regions import REGIONS, USSR
from sovsim.results import famine as F

MONTHS = [f"{y}-{m:02d}" for y in range(1926, 1941) for m in range(1, 13)]


def _row(series, region, period, value, source="s", grade="archival", note="", variant="v",
         usable=True):
    return {"series": series, "region": region, "period": period, "value": value,
            "variant": variant, "source": source, "note": note, "grade": grade,
            "usable": usable, "unit": "", "location": "", "excluded": ""}


RECORD = pd.DataFrame([
    _row("excess_deaths_share_of_population", "kazakhstan", "1934", 0.224),
    _row("excess_deaths_share_of_population", "ukraine", "1934", 0.133),
    _row("excess_deaths_share_of_population", "rsfsr", "1934", 0.032),
    _row("excess_deaths_total_persons", "ukraine", "1934", 3_900_000,
         note="excess deaths 1932-1934"),
    _row("excess_deaths_total_persons", "ukraine", "1934", 5_000_000, grade="popular",
         note="1932-1934", usable=False),
    _row("excess_deaths_total_persons", "kazakhstan", "1933", 1_500_000, note="1930-1933"),
    _row("excess_deaths_share_jan_jul", "ukraine_rural", "1933", 0.65),
    _row("excess_deaths_share_jan_jul", "ukraine_rural", "1933", 0.80),
    _row("excess_deaths_share_in_year", "ukraine", "1933", 0.9),
    _row("excess_deaths_ratio_peak_to_january", "ukraine", "1933", 6),
    _row("excess_deaths_ratio_peak_to_january", "ukraine", "1933", 15),
    _row("state_grain_stock_t", USSR, "1933-07-01", 1_000_000, variant="total"),
    _row("births_persons", USSR, "1933", 4_100_000, grade="official"),
    _row("crude_birth_rate_per_1000", USSR, "1934", 30.4),
    _row("total_fertility_rate", USSR, "1927", 6.4),
    _row("total_fertility_rate", USSR, "1934", 3.8),
])
POP = pd.Series({"ukraine": 25e6, "north_caucasus": 8e6, "volga": 11e6, "kazakhstan": 5e6,
                 "rest": 70e6})


def _run(per_head=None, spring=True, later=0.0):
    """A made-up run: 1933 famine deaths in each region at ``per_head`` of its population,
    in spring (March-July) or in winter (January-February); ``later``: each year 1935-40 a
    famine of this share of 1933's."""
    per_head = per_head or {"kazakhstan": 0.2, "ukraine": 0.13, "north_caucasus": 0.05,
                            "volga": 0.03, "rest": 0.01}
    monthly = pd.DataFrame(0.0, index=MONTHS, columns=[USSR, *REGIONS])
    peak = [f"1933-{m:02d}" for m in ((3, 4, 5, 6, 7) if spring else (1, 2))]
    for r, x in per_head.items():
        monthly.loc[peak, r] = x * POP[r] / len(peak)
        monthly.loc["1933-01", r] += 0.002 * POP[r]  # a small January
        monthly.loc["1932-12", r] = 0.002 * POP[r]
        for y in range(1935, 1941):
            monthly.loc[f"{y}-05", r] = later * x * POP[r]
    monthly[USSR] = monthly[list(REGIONS)].sum(axis=1)
    annual = monthly.groupby(monthly.index.str[:4]).sum()
    years = [str(y) for y in range(1926, 1941)]
    stock = pd.Series(2e6, index=MONTHS)
    return {"monthly": monthly, "annual": annual, "population_1930": POP, "stock": stock,
            "births": pd.Series(5e6, index=years), "population": pd.Series(160e6, index=years)}


def test_the_order_of_the_reconstructions_holds_when_kazakhstan_is_worst():
    rep = F.report(_run(), RECORD)
    assert rep["order"]["holds"] and rep["order"]["first_break"] is None
    assert list(rep["regional_losses"]["region"]) == list(F.EXPECTED_ORDER)
    assert rep["regional_losses"]["per_head"].iloc[0] == pytest.approx(0.2 + 0.002 * 2)


def test_one_line_of_the_order_check():
    """The first pair out of order is named; equal rates do not make an order."""
    per_head = pd.Series({"kazakhstan": 0.1, "ukraine": 0.13, "north_caucasus": 0.05,
                          "volga": 0.05, "rest": 0.01})
    got = F.order_check(per_head)
    assert not got["holds"] and got["first_break"] == "kazakhstan <= ukraine"
    assert got["model"][0] == "ukraine"
    assert F.order_check(per_head.drop("kazakhstan"))["first_break"] == "north_caucasus <= volga"


def test_a_volga_famine_breaks_the_order():
    rep = F.report(_run({"kazakhstan": 0.02, "ukraine": 0.02, "north_caucasus": 0.05,
                         "volga": 0.28, "rest": 0.01}), RECORD)
    assert not rep["order"]["holds"]
    assert rep["regional_losses"]["region"].iloc[0] == "volga"


def test_totals_against_the_best_graded_reconstructions():
    """Ukraine's band is the archival row alone (the popular one never widens it); the model's
    total is summed over the span the note names."""
    tot = F.report(_run(), RECORD)["totals"].set_index("region")
    ukr = tot.loc["ukraine"]
    assert ukr["span"] == "1932-1934" and ukr["lo"] == ukr["hi"] == 3_900_000
    assert ukr["model"] == pytest.approx((0.13 + 0.004) * 25e6)
    assert not ukr["inside"] and ukr["miss"] == pytest.approx(ukr["model"] / 3.9e6 - 1)
    kaz = tot.loc["kazakhstan"]
    assert kaz["span"] == "1930-1933" and kaz["model"] == pytest.approx(0.204 * 5e6)


def test_a_spring_famine_meets_the_calendar_and_a_winter_one_misses_it():
    spring = F.report(_run(spring=True), RECORD)["calendar"].set_index("series")
    winter = F.report(_run(spring=False), RECORD)["calendar"].set_index("series")
    share = "excess_deaths_share_jan_jul"
    assert spring.loc[share, "model"] == pytest.approx(1.0, abs=0.02)  # Mar-Jul within Jan-Jul
    assert spring.loc[share, "lo"] == 0.65 and spring.loc[share, "hi"] == 0.80
    peak = "excess_deaths_ratio_peak_to_january"
    assert spring.loc[peak, "model"] > 6 and bool(spring.loc[peak, "inside"])
    assert winter.loc[peak, "model"] < 6 and not bool(winter.loc[peak, "inside"])
    in_year = spring.loc["excess_deaths_share_in_year", "model"]
    assert 0.9 < in_year < 1.0


def test_later_famines_are_found():
    assert F.report(_run(later=0.0), RECORD)["no_later_famine"]
    rep = F.report(_run(later=0.5), RECORD)
    assert not rep["no_later_famine"]
    assert (rep["later_famines"]["ratio"] > 0.4).all()
    assert set(rep["later_famines"]["worst_region"]) == {"ukraine"}  # the most deaths


def test_state_stocks_beside_the_record_and_the_gap_said():
    rep = F.report(_run(), RECORD)["state_stocks"]
    assert list(rep["date"]) == ["1933-07-01"] and rep["ratio"].iloc[0] == pytest.approx(2.0)
    none = F.state_stocks(_run()["stock"], RECORD[RECORD["series"] != "state_grain_stock_t"])
    assert len(none) == 6 and none["record"].isna().all()
    assert (none["source"] == "no row in the data (gap)").all()
    assert F._month_at("1933-07-01") == "1933-06" and F._month_at("1933-01-01") == "1932-12"


def test_births_by_year_beside_the_record():
    b = F.report(_run(), RECORD)["births"].set_index("year")
    assert b.loc[1933, "births_record"] == 4_100_000
    assert b.loc[1934, "cbr"] == pytest.approx(1000 * 5e6 / 160e6)
    assert b.loc[1934, "cbr_lo"] == 30.4 and np.isnan(b.loc[1930, "cbr_lo"])
    assert b.loc[1934, "tfr_index"] == pytest.approx(3.8 / 6.4)
    assert b.loc[1934, "cbr_index"] == pytest.approx(1.0)  # births flat in the made-up run
