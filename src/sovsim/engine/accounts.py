"""Mechanism 9, accounts: monthly outcomes by region and for the USSR, in the units of the
historical data, and the rule that makes each annual figure (declared once here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sovsim.compiled import kernel
from sovsim.engine import schedule as S
from sovsim.engine.packed import param_record
from sovsim.mechanisms.agriculture import DEP, HERDS, KOL
from sovsim.mechanisms.industry import RESULTS, Y_, base_1928
from sovsim.regions import REGIONS, TENURES
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.table import HORSES, HOUSEHOLDS, PERSONS

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


# What is kept of each month to make the records at the end of the run: per unit ...
UNIT_SERIES = ("households", "persons", *HERDS,
               "production_t", "area_harvested_ha", "private_sales_t", "procured_t",
               "confiscated_t", "delivered_t", "kcal", "excess_deaths", "deported_persons")
# ... and for the whole economy.
SCALAR_SERIES = ("urban_persons", "exports_t", "state_grain_t", "urban_kcal",
                 "urban_excess_deaths", "births", "deaths", "net_migrants", "output_a_rub",
                 "output_b_rub", "gdp_rub", "investment_rub", "nonagricultural_employment_persons",
                 "machinery_imports_rub", "tractors_hp", "terms_of_trade", "export_earnings_rub",
                 "credit_rub")
_U = {name: i for i, name in enumerate(UNIT_SERIES)}
_S = {name: i for i, name in enumerate(SCALAR_SERIES)}
_HOUSEHOLDS, _PERSONS, _HERDS = _U["households"], _U["persons"], _U["horses"]
# Where the series come from in the month's outputs (schedule.UNIT_OUT, SCALAR_OUT and the
# industry results after them): (series, row) pairs.
_FROM_UO = tuple((_U[name], S.UNIT_OUT.index(name)) for name in (
    "production_t", "area_harvested_ha", "private_sales_t", "procured_t", "confiscated_t",
    "delivered_t", "kcal", "excess_deaths", "deported_persons"))
_FROM_SO = tuple(
    [(_S[name], S.SCALAR_OUT.index(name)) for name in (
        "exports_t", "births", "deaths", "net_migrants", "gdp_rub", "machinery_imports_rub",
        "terms_of_trade", "export_earnings_rub", "credit_rub")]
    + [(_S["urban_kcal"], S.S_URBAN_KCAL), (_S["urban_excess_deaths"], S.S_URBAN_EXCESS)]
    + [(_S[name], S.S_INDUSTRY + RESULTS.index(name)) for name in (
        "output_a_rub", "output_b_rub", "investment_rub", "nonagricultural_employment_persons")])
assert (_S["urban_persons"], _S["state_grain_t"], _S["tractors_hp"]) == (0, 2, 14)
assert _U["persons"] == _HOUSEHOLDS + 1 and _U["sheep_goats"] == _HERDS + 3


class Ledger:
    """The month's outcomes, kept as the run goes (a copy of a few columns and numbers), and
    turned into the records of every variable once, for all months together, at the end."""

    def __init__(self, months: int, units: int) -> None:
        self.units = np.empty((months, len(UNIT_SERIES), units))
        self.scalars = np.empty((months, len(SCALAR_SERIES)))

    def book(self, month: int, h: HouseholdTable, macro: MacroState, o) -> None:
        """Keep what ``records`` needs of this month (after the month's step; ``o``: the
        month's ``schedule.Outputs``)."""
        book_month(self.units[month], self.scalars[month], h.values, macro.values, o.uo, o.so)

    def records(self, h: HouseholdTable, p) -> dict[str, np.ndarray]:
        """Every variable as (months, 1 + regions): [USSR, region 1..n]. A unit keeps its
        region and tenure through the run, so ``h``'s labels hold for every month."""
        return monthly_records(self.units, self.scalars, h["region"], h["tenure"], p)


@kernel
def book_month(units, scalars, hv, MA, uo, so):
    """One month of the ledger (``units``: its (series, units) block, ``scalars``: its row)
    from the state after the month and the month's outputs (``schedule.month_step``)."""
    macro = MA[0]
    units[_HOUSEHOLDS] = hv[HOUSEHOLDS]
    units[_PERSONS] = hv[PERSONS]
    units[_HERDS:_HERDS + 4] = hv[HORSES:HORSES + 4]
    for series, row in _FROM_UO:
        units[series] = uo[row]
    scalars[0] = macro.urban_persons
    scalars[2] = macro.state_grain_t
    scalars[14] = macro.tractors_hp
    for series, row in _FROM_SO:
        scalars[series] = so[row]


def monthly_records(units: np.ndarray, scalars: np.ndarray, region: np.ndarray,
                    tenure: np.ndarray, p) -> dict[str, np.ndarray]:
    """The records from the kept series (months first); the formulas of each variable."""
    months = units.shape[0]
    n_r = len(REGIONS)
    key = (np.arange(months)[:, None] * n_r + region[None, :]).ravel()

    def reg(x: np.ndarray) -> np.ndarray:  # (months, units) -> (months, regions)
        return np.bincount(key, weights=x.ravel(), minlength=months * n_r).reshape(months, n_r)

    unit = {name: units[:, i] for i, name in enumerate(UNIT_SERIES)}
    sc = {name: scalars[:, i] for i, name in enumerate(SCALAR_SERIES)}
    rec = {v.name: np.full((months, n_r + 1), np.nan) for v in VARIABLES}

    def put(name: str, ussr: np.ndarray, regional: np.ndarray | None = None) -> None:
        rec[name][:, 0] = ussr
        if regional is not None:
            rec[name][:, 1:] = regional

    farm = tenure != DEP
    persons, urban = unit["persons"], sc["urban_persons"]
    rural_r = reg(persons * farm)
    settle_r = reg(persons * ~farm)
    rural, settle = rural_r.sum(axis=1), settle_r.sum(axis=1)
    pop = rural + settle + urban
    put("rural_population_persons", rural, rural_r)
    put("special_settlement_persons", settle, settle_r)
    put("urban_population_persons", urban)
    put("population_persons", pop)
    hh_r = reg(unit["households"] * farm)
    kol_r = reg(unit["households"] * (tenure == KOL))
    hh, kol = hh_r.sum(axis=1), kol_r.sum(axis=1)
    put("peasant_households", hh, hh_r)
    put("kolkhoz_households", kol, kol_r)
    put("collectivized_share", kol / np.maximum(hh, 1e-300), kol_r / np.maximum(hh_r, 1e-300))
    for name, key_ in (("grain_harvest_t", "production_t"), ("sown_area_ha", "area_harvested_ha"),
                       ("private_grain_sales_t", "private_sales_t")):
        r = reg(unit[key_])
        put(name, r.sum(axis=1), r)
    proc = reg(unit["procured_t"] + unit["confiscated_t"])
    put("grain_procurement_t", proc.sum(axis=1), proc)
    put("grain_exports_t", sc["exports_t"])
    put("state_grain_stock_t", sc["state_grain_t"])
    for herd in ("horses", "cattle", "pigs", "sheep_goats"):
        r = reg(unit[herd])
        put(f"{herd}_head", r.sum(axis=1), r)
    eaten = unit["kcal"] * persons * farm
    kcal_r = reg(eaten) / np.maximum(rural_r, 1e-300)
    rural_kcal = eaten.sum(axis=1) / np.maximum(rural, 1e-300)
    urban_kcal = sc["urban_kcal"]
    all_kcal = (rural_kcal * rural + urban_kcal * urban) / np.maximum(rural + urban, 1e-300)
    put("food_kcal_per_person_day", all_kcal, kcal_r)
    put("rural_food_kcal_per_person_day", rural_kcal)
    put("urban_food_kcal_per_person_day", urban_kcal)
    ex = reg(unit["excess_deaths"])
    put("excess_deaths_persons", ex.sum(axis=1) + sc["urban_excess_deaths"], ex)
    dep = reg(unit["deported_persons"])
    put("deported_persons", dep.sum(axis=1), dep)
    put("births_persons", sc["births"])
    put("deaths_persons", sc["deaths"])
    put("death_rate_index", sc["deaths"] * 12 / pop)
    put("migrants_to_towns_persons", sc["net_migrants"])
    base = base_1928(param_record(p)[0])
    ya, yb = sc["output_a_rub"] * 12, sc["output_b_rub"] * 12
    put("industrial_output_index", 100 * (ya + yb) / (base[0, Y_] + base[1, Y_]))
    put("group_a_output_index", 100 * ya / base[0, Y_])
    put("group_b_output_index", 100 * yb / base[1, Y_])
    put("gdp_per_capita_index", sc["gdp_rub"] * 12 / pop)
    put("investment_share", sc["investment_rub"] / np.maximum(sc["gdp_rub"], 1e-300))
    put("nonagricultural_employment_persons", sc["nonagricultural_employment_persons"])
    put("machinery_imports_rub", sc["machinery_imports_rub"])
    put("tractors_hp", sc["tractors_hp"])
    put("terms_of_trade_index", sc["terms_of_trade"])
    # for the doctrine lens: who holds land and animals, how grain was taken, trade
    indiv = tenure == IND
    r = reg(unit["area_harvested_ha"] * indiv)
    put("individual_sown_area_ha", r.sum(axis=1), r)
    lu = (unit["horses"] + unit["cattle"]
          + p["accounts.small_animal_unit"] * (unit["pigs"] + unit["sheep_goats"]))
    r = reg(lu)
    put("livestock_units", r.sum(axis=1), r)
    r = reg(lu * indiv)
    put("individual_livestock_units", r.sum(axis=1), r)
    r = reg(unit["delivered_t"] + unit["confiscated_t"])
    put("compulsory_procurement_t", r.sum(axis=1), r)
    put("export_earnings_rub", sc["export_earnings_rub"])
    put("foreign_credit_rub", sc["credit_rub"])
    put("gross_output_rub", sc["gdp_rub"])
    return rec
