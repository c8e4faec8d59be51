"""Mechanism 9, accounts: monthly outcomes by region and for the USSR, in the units of the
historical data, and the rule that makes each annual figure (declared once here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sovsim.mechanisms.agriculture import DEP, KOL
from sovsim.mechanisms.industry import base_1928
from sovsim.regions import REGIONS, TENURES
from sovsim.state import HouseholdTable, MacroState

IND = TENURES.index("individual")


@dataclass(frozen=True)
class Variable:
    name: str
    unit: str
    annual: str  # sum | harvest_year_sum | june | mean | index_own_1928
    regional: bool
    doc: str


VARIABLES: tuple[Variable, ...] = (
    Variable("population_persons", "persons", "june", False, "total population (towns, villages, special settlements)"),
    Variable("urban_population_persons", "persons", "june", False, "town population"),
    Variable("rural_population_persons", "persons", "june", True, "peasant population (individual and kolkhoz households)"),
    Variable("special_settlement_persons", "persons", "june", True, "deported households' members, by region of origin"),
    Variable("peasant_households", "households", "june", True, "individual and kolkhoz peasant households"),
    Variable("kolkhoz_households", "households", "june", True, "households in kolkhozy"),
    Variable("collectivized_share", "share", "june", True, "share of peasant households in kolkhozy"),
    Variable("grain_harvest_t", "t", "sum", True, "barn harvest (before losses), booked in July"),
    Variable("sown_area_ha", "ha", "sum", True, "grain area harvested"),
    Variable("grain_procurement_t", "t", "harvest_year_sum", True, "state grain procurement incl. confiscation, by harvest year"),
    Variable("private_grain_sales_t", "t", "harvest_year_sum", True, "grain sold to private traders, by harvest year"),
    Variable("grain_exports_t", "t", "sum", False, "grain exports, calendar year"),
    Variable("state_grain_stock_t", "t", "june", False, "state grain stocks"),
    Variable("horses_head", "head", "june", True, "horses, mid-year"),
    Variable("cattle_head", "head", "june", True, "cattle, mid-year"),
    Variable("pigs_head", "head", "june", True, "pigs, mid-year"),
    Variable("sheep_goats_head", "head", "june", True, "sheep and goats, mid-year"),
    Variable("food_kcal_per_person_day", "kcal/person/day", "mean", True, "food energy: rural by region, all persons for USSR"),
    Variable("rural_food_kcal_per_person_day", "kcal/person/day", "mean", False, "rural food energy"),
    Variable("urban_food_kcal_per_person_day", "kcal/person/day", "mean", False, "urban food energy"),
    Variable("excess_deaths_persons", "persons", "sum", True, "deaths above the baseline rate (famine, special settlements)"),
    Variable("deported_persons", "persons", "sum", True, "persons deported in dekulakization"),
    Variable("births_persons", "persons", "sum", False, "births"),
    Variable("deaths_persons", "persons", "sum", False, "deaths"),
    Variable("death_rate_index", "index, 1928 = 1", "ratio_own_1928", False, "crude death rate against this run's 1928"),
    Variable("migrants_to_towns_persons", "persons", "sum", False, "net rural-urban migrants (to towns, less those going back)"),
    Variable("industrial_output_index", "index, 1928 = 100", "mean", False, "industrial output, base: the 1928 output of the parameters"),
    Variable("group_a_output_index", "index, 1928 = 100", "mean", False, "producer goods output"),
    Variable("group_b_output_index", "index, 1928 = 100", "mean", False, "consumer goods output"),
    Variable("gdp_per_capita_index", "index, 1928 = 100", "index_own_1928", False, "gross output per head, against this run's 1928"),
    Variable("investment_share", "share", "mean", False, "investment over gross output"),
    Variable("nonagricultural_employment_persons", "persons", "mean", False, "employment outside agriculture"),
    Variable("machinery_imports_rub", "rub (1926/27 prices)", "sum", False, "machinery imports"),
    Variable("tractors_hp", "hp", "june", False, "tractor power"),
    Variable("terms_of_trade_index", "index, 1926/27 = 1", "mean", False, "peasants' terms of trade incl. goods availability"),
    Variable("individual_sown_area_ha", "ha", "sum", True, "grain area harvested by individual (non-kolkhoz) farms"),
    Variable("livestock_units", "livestock units", "june", True, "horses and cattle, plus pigs, sheep and goats at their unit weight"),
    Variable("individual_livestock_units", "livestock units", "june", True, "livestock units held by individual farms"),
    Variable("compulsory_procurement_t", "t", "harvest_year_sum", True, "grain taken by obligation, requisition or confiscation (procurement beyond voluntary sales)"),
    Variable("export_earnings_rub", "rub (1926/27 prices)", "sum", False, "export earnings at world prices"),
    Variable("foreign_credit_rub", "rub (1926/27 prices)", "sum", False, "foreign credit drawn"),
    Variable("gross_output_rub", "rub (1926/27 prices)", "sum", False, "gross output: industry, agriculture, other branches"),
)
BY_NAME = {v.name: v for v in VARIABLES}


def empty_records(months: int) -> dict[str, np.ndarray]:
    """(months, 1 + regions) arrays for every variable, NaN where a variable is not regional."""
    return {v.name: np.full((months, len(REGIONS) + 1), np.nan) for v in VARIABLES}


def record(h: HouseholdTable, macro: MacroState, out: dict, p, tot: float,
           rec: dict[str, np.ndarray], month: int) -> None:
    """Write one month's outcomes into ``rec``: [USSR, region 1..n] per variable."""
    reg = lambda x: h.by_region(x)  # noqa: E731

    def put(name: str, ussr: float, regional: np.ndarray | None = None) -> None:
        row = rec[name][month]
        row[0] = ussr
        if regional is not None:
            row[1:] = regional

    farm = h["tenure"] != DEP
    rural_r = reg(h["persons"] * farm)
    settle_r = reg(h["persons"] * ~farm)
    urban = macro["urban_persons"]
    put("rural_population_persons", rural_r.sum(), rural_r)
    put("special_settlement_persons", settle_r.sum(), settle_r)
    put("urban_population_persons", urban)
    put("population_persons", rural_r.sum() + settle_r.sum() + urban)
    hh_r = reg(h["households"] * farm)
    kol_r = reg(h["households"] * (h["tenure"] == KOL))
    put("peasant_households", hh_r.sum(), hh_r)
    put("kolkhoz_households", kol_r.sum(), kol_r)
    put("collectivized_share", kol_r.sum() / max(hh_r.sum(), 1e-300), kol_r / np.maximum(hh_r, 1e-300))
    book = out["book"]
    for name, key in (("grain_harvest_t", "production_t"), ("sown_area_ha", "area_harvested_ha"),
                      ("private_grain_sales_t", "private_sales_t")):
        r = reg(book[key])
        put(name, r.sum(), r)
    proc = reg(book["procured_t"] + book["confiscated_t"])
    put("grain_procurement_t", proc.sum(), proc)
    put("grain_exports_t", out["state"]["exports_t"])
    put("state_grain_stock_t", macro["state_grain_t"])
    for herd in ("horses", "cattle", "pigs", "sheep_goats"):
        r = reg(h[herd])
        put(f"{herd}_head", r.sum(), r)
    kcal_r = reg(out["kcal"] * h["persons"] * farm) / np.maximum(rural_r, 1e-300)
    rural_kcal = (out["kcal"] * h["persons"] * farm).sum() / max(rural_r.sum(), 1e-300)
    urban_kcal = out["urban"]["kcal"]
    all_kcal = (rural_kcal * rural_r.sum() + urban_kcal * urban) / max(rural_r.sum() + urban, 1e-300)
    put("food_kcal_per_person_day", all_kcal, kcal_r)
    put("rural_food_kcal_per_person_day", rural_kcal)
    put("urban_food_kcal_per_person_day", urban_kcal)
    ex = reg(out["vital"]["excess_deaths"])
    put("excess_deaths_persons", ex.sum() + out["urban"]["excess_deaths"], ex)
    dep = reg(out["deported_persons"])
    put("deported_persons", dep.sum(), dep)
    put("births_persons", out["births"])
    put("deaths_persons", out["deaths"])
    put("death_rate_index", out["deaths"] * 12 / (rural_r.sum() + settle_r.sum() + urban))
    put("migrants_to_towns_persons", out["net_migrants"])
    ind = out["industry"]
    base = base_1928(p)
    ya, yb = ind["output_a_rub"] * 12, ind["output_b_rub"] * 12
    put("industrial_output_index", 100 * (ya + yb) / (base["a"]["Y"] + base["b"]["Y"]))
    put("group_a_output_index", 100 * ya / base["a"]["Y"])
    put("group_b_output_index", 100 * yb / base["b"]["Y"])
    pop = rural_r.sum() + settle_r.sum() + urban
    put("gdp_per_capita_index", out["gdp_rub"] * 12 / pop)
    put("investment_share", ind["investment_rub"] / max(out["gdp_rub"], 1e-300))
    put("nonagricultural_employment_persons", ind["nonagricultural_employment_persons"])
    put("machinery_imports_rub", out["trade"]["machinery_imports_rub"])
    put("tractors_hp", macro["tractors_hp"])
    put("terms_of_trade_index", tot)
    indiv = h["tenure"] == IND
    r = reg(book["area_harvested_ha"] * indiv)
    put("individual_sown_area_ha", r.sum(), r)
    units = h["horses"] + h["cattle"] + p["accounts.small_animal_unit"] * (h["pigs"] + h["sheep_goats"])
    r = reg(units)
    put("livestock_units", r.sum(), r)
    r = reg(units * indiv)
    put("individual_livestock_units", r.sum(), r)
    r = reg(book["delivered_t"] + book["confiscated_t"])
    put("compulsory_procurement_t", r.sum(), r)
    put("export_earnings_rub", out["trade"]["export_earnings_rub"])
    put("foreign_credit_rub", out["trade"]["credit_rub"])
    put("gross_output_rub", out["gdp_rub"])
