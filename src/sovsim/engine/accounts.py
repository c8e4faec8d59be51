"""Mechanism 9, accounts: monthly outcomes by region and for the USSR, in the units of the
historical data, and the rule that makes each annual figure (declared once here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sovsim.compiled import kernel
from sovsim.engine.flows import SCALAR_BY_NAME, SCALAR_FLOWS, UNIT_FLOWS, U
from sovsim.engine.packed import param_record
from sovsim.mechanisms.agriculture import live_weight_kg
from sovsim.mechanisms.demography import unit_labels
from sovsim.mechanisms.industry import Y_, base_1928
from sovsim.regions import REGIONS
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.table import CATTLE, HORSES, HOUSEHOLDS, PERSONS, PIGS, SHEEP_GOATS


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
    Variable("crude_birth_rate_per_1000", "per 1000", "mean", False, "births a year per 1000 persons (the year's mean of each month's births x 12 over the population)"),
    Variable("crude_death_rate_per_1000", "per 1000", "mean", False, "deaths a year per 1000 persons (the year's mean of each month's deaths x 12 over the population)"),
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
    # issue 17 (respond)
    Variable("industrial_capital_rub", "rub (1926/27 prices)", "june", False, "industrial fixed capital, groups A and B (issue 17: beside Allen's fixed capital)"),
    # issue 15 (kazakh)
    Variable("fled_within_ussr_persons", "persons", "sum", True, "persons fleeing hunger to elsewhere in the USSR (to the towns), by region left"),
    Variable("fled_abroad_persons", "persons", "sum", True, "persons fleeing hunger abroad, by region left"),
    Variable("livestock_procured_t", "t live weight", "sum", True, "animals taken by the state's meat and livestock procurement"),
    # issue 15 (measures): the blacklists' fines in kind
    Variable("blacklist_fines_livestock_units", "livestock units", "sum", True, "livestock taken as fines in kind from blacklisted villages"),
    Variable("blacklist_fines_food_kcal", "kcal", "sum", True, "non-grain food (potatoes) taken as fines in kind from blacklisted villages"),
)
BY_NAME = {v.name: v for v in VARIABLES}


# What is kept of each month to make the records at the end of the run: sums by region ...
REGIONAL_SERIES = (
    "rural_persons", "settlement_persons",  # persons of farming and of deported units
    "peasant_households", "kolkhoz_households",
    "production_t", "area_harvested_ha", "private_sales_t",
    "procured_t",  # procured and confiscated
    "horses", "cattle", "pigs", "sheep_goats",
    "rural_kcal_persons",  # kcal a day x persons, farming units
    "excess_deaths", "deported_persons",
    "individual_area_ha", "livestock_units", "individual_livestock_units",
    "compulsory_t",  # delivered against obligations, and confiscated
    "fled_within_ussr", "fled_abroad", "livestock_procured_t",  # issue 15 (kazakh)
    "fined_lu", "fined_food_kcal")  # issue 15 (measures): the blacklists' fines in kind
# ... and for the whole economy.
SCALAR_SERIES = ("urban_persons", "exports_t", "state_grain_t", "urban_kcal",
                 "urban_excess_deaths", "births", "deaths", "net_migrants", "output_a_rub",
                 "output_b_rub", "gdp_rub", "investment_rub", "nonagricultural_employment_persons",
                 "machinery_imports_rub", "tractors_hp", "terms_of_trade", "export_earnings_rub",
                 "credit_rub",
                 "industrial_capital_rub")  # issue 17 (respond)
(R_RURAL, R_SETTLE, R_PEASANT_HH, R_KOLKHOZ_HH, R_PRODUCTION, R_AREA, R_PRIVATE, R_PROCURED,
 R_HORSES, R_CATTLE, R_PIGS, R_SHEEP, R_KCAL, R_EXCESS, R_DEPORTED, R_IND_AREA, R_LU, R_IND_LU,
 R_COMPULSORY, R_FLED_WITHIN, R_FLED_ABROAD, R_LIVESTOCK_PROCURED, R_FINED_LU,
 R_FINED_KCAL) = range(len(REGIONAL_SERIES))
_S = {name: i for i, name in enumerate(SCALAR_SERIES)}
# The booking generated from the declared flows (``engine.flows``): each unit flow summed by
# region into the series its ``ledger`` names ((series, row) pairs) ...
# (a constant array: numba indexes a global tuple of tuples by building it each time)
_BOOKED = np.array([(REGIONAL_SERIES.index(series), U[i]) for i, f in enumerate(UNIT_FLOWS)
                    for series in f.ledger], dtype=np.int64)
_BOOKED.setflags(write=False)
# ... and each scalar series that is a flow of the month taken from ``so`` by its name; the
# rest are the economy's state after the month (``_FROM_MACRO``).
_FROM_SO = tuple((i, SCALAR_FLOWS.index(SCALAR_BY_NAME[name]))
                 for i, name in enumerate(SCALAR_SERIES) if name in SCALAR_BY_NAME)
_FROM_MACRO = ("urban_persons", "state_grain_t", "tractors_hp", "industrial_capital_rub")
_SC_URBAN, _SC_STATE_GRAIN, _SC_TRACTORS, _SC_CAPITAL = (_S[name] for name in _FROM_MACRO)
_UNBOOKED = set(SCALAR_SERIES) - set(SCALAR_BY_NAME) - set(_FROM_MACRO)
if _UNBOOKED:
    raise ValueError(f"scalar series of the accounts neither a flow nor state: {_UNBOOKED}")


class Ledger:
    """The month's outcomes, kept as the run goes (sums by region, and a few numbers), and
    turned into the records of every variable once, for all months together, at the end."""

    def __init__(self, months: int) -> None:
        self.regional = np.empty((months, len(REGIONAL_SERIES), len(REGIONS)))
        self.scalars = np.empty((months, len(SCALAR_SERIES)))

    def book(self, month: int, h: HouseholdTable, macro: MacroState, o, p) -> None:
        """Keep what ``records`` needs of this month (after the month's step; ``o``: the
        month's ``schedule.Scratch``, ``p`` the parameter values)."""
        book_month(self.regional[month], self.scalars[month], h.values, h.labelled(unit_labels),
                   macro.values, param_record(p), o.uo, o.so)

    def records(self, p) -> dict[str, np.ndarray]:
        """Every variable as (months, 1 + regions): [USSR, region 1..n]."""
        return monthly_records(self.regional, self.scalars, p)


@kernel
def book_month(regional, scalars, hv, lab, MA, P, uo, so):
    """One month of the ledger (``regional``: its (series, regions) block, ``scalars``: its
    row) from the state after the month and the month's outputs (``schedule.month_step``).
    The units are summed into their regions in unit order."""
    macro, p = MA[0], P[0]
    regional[:] = 0.0
    small = p.accounts_small_animal_unit
    weight = live_weight_kg(p)
    for u in range(hv.shape[1]):
        r = lab.region[u]
        farm = lab.farming[u] > 0
        persons = hv[PERSONS, u]
        lu = hv[HORSES, u] + hv[CATTLE, u] + small * (hv[PIGS, u] + hv[SHEEP_GOATS, u])
        if farm:
            regional[R_RURAL, r] += persons
            regional[R_PEASANT_HH, r] += hv[HOUSEHOLDS, u]
            regional[R_KCAL, r] += uo[U.kcal, u] * persons
        else:
            regional[R_SETTLE, r] += persons
        if lab.kolkhoz[u]:
            regional[R_KOLKHOZ_HH, r] += hv[HOUSEHOLDS, u]
        if lab.individual[u]:
            regional[R_IND_AREA, r] += uo[U.area_harvested_ha, u]
            regional[R_IND_LU, r] += lu
        for k in range(_BOOKED.shape[0]):  # the flows (declared in engine.flows)
            regional[_BOOKED[k, 0], r] += uo[_BOOKED[k, 1], u]
        for k in range(4):
            regional[R_HORSES + k, r] += hv[HORSES + k, u]
        regional[R_LU, r] += lu
        for k in range(4):  # issue 15 (kazakh): live weight procured (t)
            regional[R_LIVESTOCK_PROCURED, r] += (uo[U.livestock_procured + k, u]
                                                   * weight[k, 0] / 1000.0)
    scalars[_SC_URBAN] = macro.urban_persons
    scalars[_SC_STATE_GRAIN] = macro.state_grain_t
    scalars[_SC_TRACTORS] = macro.tractors_hp
    scalars[_SC_CAPITAL] = macro.capital_a_rub + macro.capital_b_rub
    for series, row in _FROM_SO:
        scalars[series] = so[row]


def monthly_records(regional: np.ndarray, scalars: np.ndarray, p) -> dict[str, np.ndarray]:
    """The records from the kept series (months first); the formulas of each variable."""
    return _records(regional, scalars, base_1928(param_record(p)[0])[:, Y_])


def batch_records(regional: np.ndarray, scalars: np.ndarray, ps: list) -> dict[str, np.ndarray]:
    """:func:`monthly_records` of several runs at once: ``regional`` (runs, months, series,
    regions), ``scalars`` (runs, months, series), ``ps`` each run's parameter values; every
    variable as (runs, months, 1 + regions). The same formulas on the same numbers, so each
    run's records are those ``monthly_records`` gives it (tests/test_ensemble.py)."""
    runs, months = regional.shape[:2]
    base_y = np.repeat(np.array([base_1928(param_record(p)[0])[:, Y_] for p in ps]), months,
                       axis=0)
    rec = _records(regional.reshape(runs * months, *regional.shape[2:]),
                   scalars.reshape(runs * months, -1), base_y)
    return {name: arr.reshape(runs, months, -1) for name, arr in rec.items()}


def _records(regional: np.ndarray, scalars: np.ndarray, base_y: np.ndarray
             ) -> dict[str, np.ndarray]:
    """The formulas, row by row (a row is a month): ``base_y`` the 1928 output of groups a
    and b, (2,) or (rows, 2)."""
    months, n_r = regional.shape[0], regional.shape[2]
    rg = {name: regional[:, i] for i, name in enumerate(REGIONAL_SERIES)}
    sc = {name: scalars[:, i] for i, name in enumerate(SCALAR_SERIES)}
    rec = {v.name: np.full((months, n_r + 1), np.nan) for v in VARIABLES}

    def put(name: str, ussr: np.ndarray, regional: np.ndarray | None = None) -> None:
        rec[name][:, 0] = ussr
        if regional is not None:
            rec[name][:, 1:] = regional

    def put_sum(name: str, r: np.ndarray) -> None:
        put(name, r.sum(axis=1), r)

    urban = sc["urban_persons"]
    rural_r, settle_r = rg["rural_persons"], rg["settlement_persons"]
    rural, settle = rural_r.sum(axis=1), settle_r.sum(axis=1)
    pop = rural + settle + urban
    put("rural_population_persons", rural, rural_r)
    put("special_settlement_persons", settle, settle_r)
    put("urban_population_persons", urban)
    put("population_persons", pop)
    hh_r, kol_r = rg["peasant_households"], rg["kolkhoz_households"]
    hh, kol = hh_r.sum(axis=1), kol_r.sum(axis=1)
    put("peasant_households", hh, hh_r)
    put("kolkhoz_households", kol, kol_r)
    put("collectivized_share", kol / np.maximum(hh, 1e-300), kol_r / np.maximum(hh_r, 1e-300))
    put_sum("grain_harvest_t", rg["production_t"])
    put_sum("sown_area_ha", rg["area_harvested_ha"])
    put_sum("private_grain_sales_t", rg["private_sales_t"])
    put_sum("grain_procurement_t", rg["procured_t"])
    put("grain_exports_t", sc["exports_t"])
    put("state_grain_stock_t", sc["state_grain_t"])
    for herd in ("horses", "cattle", "pigs", "sheep_goats"):
        put_sum(f"{herd}_head", rg[herd])
    eaten_r = rg["rural_kcal_persons"]
    kcal_r = eaten_r / np.maximum(rural_r, 1e-300)
    rural_kcal = eaten_r.sum(axis=1) / np.maximum(rural, 1e-300)
    urban_kcal = sc["urban_kcal"]
    all_kcal = (rural_kcal * rural + urban_kcal * urban) / np.maximum(rural + urban, 1e-300)
    put("food_kcal_per_person_day", all_kcal, kcal_r)
    put("rural_food_kcal_per_person_day", rural_kcal)
    put("urban_food_kcal_per_person_day", urban_kcal)
    ex = rg["excess_deaths"]
    put("excess_deaths_persons", ex.sum(axis=1) + sc["urban_excess_deaths"], ex)
    put_sum("deported_persons", rg["deported_persons"])
    put("births_persons", sc["births"])
    put("deaths_persons", sc["deaths"])
    put("death_rate_index", sc["deaths"] * 12 / pop)
    put("crude_birth_rate_per_1000", sc["births"] * 12 / pop * 1000)
    put("crude_death_rate_per_1000", sc["deaths"] * 12 / pop * 1000)
    put("migrants_to_towns_persons", sc["net_migrants"])
    ya, yb = sc["output_a_rub"] * 12, sc["output_b_rub"] * 12
    ba, bb = base_y[..., 0], base_y[..., 1]
    put("industrial_output_index", 100 * (ya + yb) / (ba + bb))
    put("group_a_output_index", 100 * ya / ba)
    put("group_b_output_index", 100 * yb / bb)
    put("gdp_per_capita_index", sc["gdp_rub"] * 12 / pop)
    put("investment_share", sc["investment_rub"] / np.maximum(sc["gdp_rub"], 1e-300))
    put("nonagricultural_employment_persons", sc["nonagricultural_employment_persons"])
    put("machinery_imports_rub", sc["machinery_imports_rub"])
    put("tractors_hp", sc["tractors_hp"])
    put("industrial_capital_rub", sc["industrial_capital_rub"])  # issue 17 (respond)
    put("terms_of_trade_index", sc["terms_of_trade"])
    # for the doctrine lens: who holds land and animals, how grain was taken, trade
    put_sum("individual_sown_area_ha", rg["individual_area_ha"])
    put_sum("livestock_units", rg["livestock_units"])
    put_sum("individual_livestock_units", rg["individual_livestock_units"])
    put_sum("compulsory_procurement_t", rg["compulsory_t"])
    put("export_earnings_rub", sc["export_earnings_rub"])
    put("foreign_credit_rub", sc["credit_rub"])
    put("gross_output_rub", sc["gdp_rub"])
    put_sum("fled_within_ussr_persons", rg["fled_within_ussr"])  # issue 15 (kazakh)
    put_sum("fled_abroad_persons", rg["fled_abroad"])
    put_sum("livestock_procured_t", rg["livestock_procured_t"])
    put_sum("blacklist_fines_livestock_units", rg["fined_lu"])
    put_sum("blacklist_fines_food_kcal", rg["fined_food_kcal"])
    return rec
