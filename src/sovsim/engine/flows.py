"""The month's flows, declared once: name, unit, kind, doc (the manner of
``state.schema.HOUSEHOLD_COLUMNS``).

Everything that has the shape of "what happened in unit (or cell) u this month" is made from
these declarations, so that adding a flow costs one line here:

- the row layout of the compiled month's outputs: ``U`` (rows of ``uo``, one a flow, four for
  a flow by herd) and ``S`` (the economy-wide numbers of ``so``), made by ``rows``;
- the named outputs (``by_name``: a flow's name -> its row or rows, for Python callers such as
  the household engine);
- the terms of the grain balance, checked every month (``GRAIN_IN``, ``GRAIN_OUT``: the rows of
  the flows of kind ``grain_in`` and ``grain_out``);
- the accounts' plain booking (``BOOKED``: a flow summed by region into the ledger series
  named by its ``ledger``; the scalars the ledger keeps are taken from ``so`` by name);
- the household engine's per-cell inputs, which read the flows by these names
  (``households.month_inputs``; ``tests/test_flows.py`` checks that every name they read
  is declared, and that each declared flow is used by something).

The kernels index by attribute, ``uo[U.seed_t]``: ``U`` is a named tuple of ints, which numba
freezes as a constant, so an attribute costs what a literal row number cost.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from sovsim.mechanisms.industry import RESULTS as INDUSTRY_RESULTS

KINDS = {
    "grain_in": "grain into the households' stocks (an inflow of the grain balance)",
    "grain_out": "grain out of the households' stocks (an outflow of the grain balance)",
    "grain": "grain counted but not moved out of or into the stocks here (the standing "
             "crop; the part of procurement delivered against an obligation)",
    "land": "area",
    "people": "persons born, dying or moving",
    "animals": "head of livestock, by herd (horses, cattle, pigs, sheep and goats)",
    "food": "food energy and its ratio to need",
    "trace": "a stock before a move, kept only for the household engine (``micro``)",
    "state": "the state's grain (army, towns, exports, need)",
    "towns": "the towns' vital rates and food",
    "money": "rubles of 1926/27",
    "index": "an index or ratio",
    "flag": "1 or 0",
    "industry": "industry's results (mechanisms.industry.RESULTS)",
}


@dataclass(frozen=True)
class Flow:
    name: str
    unit: str
    kind: str  # one of KINDS
    doc: str
    rows: int = 1  # rows it takes in ``uo`` (4: one per herd, in state.table.HERDS order)
    ledger: tuple[str, ...] = ()  # the accounts' regional series it is summed into by region
    state: int = 0  # issue 15 (stategrain): +1 into the state's grain stock, -1 out of it


# By unit (rows of ``uo``), in the order the month makes them.
UNIT_FLOWS: tuple[Flow, ...] = (
    Flow("confiscated_t", "t", "grain_out", "grain taken from deported households", ledger=("procured_t", "compulsory_t"), state=1),
    Flow("seed_t", "t", "grain_out", "seed sown"),
    Flow("production_t", "t", "grain", "the year's crop standing in July (barn harvest before losses)", ledger=("production_t",)),
    Flow("area_harvested_ha", "ha", "land", "grain area harvested (July)", ledger=("area_harvested_ha",)),
    Flow("harvest_t", "t", "grain_in", "grain brought in from the standing crop"),
    Flow("losses_t", "t", "grain_out", "harvest losses"),
    Flow("procured_t", "t", "grain_out", "grain procured by the state", ledger=("procured_t",), state=1),
    Flow("private_sales_t", "t", "grain_out", "grain sold to private traders", ledger=("private_sales_t",)),
    Flow("delivered_t", "t", "grain", "the part of procurement delivered against an obligation",
         ledger=("compulsory_t",)),
    Flow("food_t", "t", "grain_out", "grain eaten"),
    Flow("feed_t", "t", "grain_out", "grain fed to animals"),
    Flow("relief_t", "t", "grain_in", "non-repayable famine relief from the state's stocks", state=-1),
    Flow("births", "persons", "people", "births"),
    Flow("deaths", "persons", "people", "deaths"),
    Flow("excess_deaths", "persons", "people", "deaths above the baseline rate", ledger=("excess_deaths",)),
    Flow("kcal", "kcal/person/day", "food", "food energy a person a day"),
    Flow("deported_persons", "persons", "people", "persons deported, by unit of origin", ledger=("deported_persons",)),
    Flow("migrants", "persons", "people", "out-migrants to the towns"),
    Flow("returners", "persons", "people", "migrants coming back from the towns"),
    Flow("persons_before_migration", "persons", "trace", "persons before migration"),
    Flow("area_before", "ha", "trace", "area harvested last year (July only)"),
    Flow("herds_before", "head", "trace", "herds before the month's livestock step", rows=4),
    Flow("herds_after", "head", "animals", "herds after the livestock step", rows=4),
    Flow("slaughter", "head", "animals", "animals slaughtered", rows=4),
    # issue 15 (kazakh): the state's meat and livestock procurement; flight (outcomes).
    Flow("livestock_procured", "head", "animals", "animals taken by the state's meat and livestock procurement", rows=4),
    Flow("fled_within_ussr", "persons", "people", "persons fleeing hunger to elsewhere in the USSR (to the towns)", ledger=("fled_within_ussr",)),
    Flow("fled_abroad", "persons", "people", "persons fleeing hunger abroad (they leave the population)", ledger=("fled_abroad",)),
    # issue 15 (measures): the blacklists' fines in kind.
    Flow("fined_lu", "livestock units", "animals", "livestock taken as fines in kind (blacklists)",
         ledger=("fined_lu",)),
    Flow("fined_food_kcal", "kcal", "food", "non-grain food (potatoes) taken as fines in kind "
         "(blacklists), kcal in the month", ledger=("fined_food_kcal",)),
    # issue 15 (stategrain): the state's loans to the villages and their repayment
    Flow("seed_loan_t", "t", "grain_in", "state seed loans received", state=-1),
    Flow("food_loan_t", "t", "grain_in", "state food and forage loans received", state=-1),
    Flow("loan_repaid_t", "t", "grain_out", "seed and food loans repaid to the state", state=1),
)

def _industry_unit(name: str) -> str:
    if name == "utilisation":
        return "share"
    if name.startswith("tractors"):
        return "hp"
    return "persons" if name.endswith("_persons") else "rub"


# For the whole economy (``so``); industry's results follow, under their own names.
SCALAR_FLOWS: tuple[Flow, ...] = (
    Flow("army_t", "t", "state", "grain to the army", state=-1),
    Flow("to_towns_t", "t", "state", "grain to the towns (rations and commercial sales)"),
    Flow("exports_t", "t", "state", "grain exported", state=-1),
    Flow("urban_grain_ratio", "share", "state", "grain the towns got over their need"),
    Flow("urban_need_t", "t", "state", "the towns' grain need"),
    Flow("urban_births", "persons", "towns", "births in the towns"),
    Flow("urban_deaths", "persons", "towns", "deaths in the towns"),
    Flow("urban_excess_deaths", "persons", "towns", "deaths above the baseline in the towns"),
    Flow("urban_kcal", "kcal/person/day", "towns", "food energy a town dweller a day"),
    Flow("urban_food_ratio", "share", "towns", "the towns' food energy against need"),
    Flow("export_earnings_rub", "rub", "money", "export earnings at world prices"),
    Flow("machinery_imports_rub", "rub", "money", "machinery imported"),
    Flow("credit_rub", "rub", "money", "foreign credit drawn"),
    Flow("gdp_rub", "rub", "money", "gross output of the month"),
    Flow("net_migrants", "persons", "people", "migrants to the towns less those going back"),
    Flow("births", "persons", "people", "births, towns and villages"),
    Flow("deaths", "persons", "people", "deaths, towns and villages"),
    Flow("terms_of_trade", "index, 1926/27 = 1", "index", "peasants' terms of trade, end of month"),
    Flow("collectivize_copied", "1 or 0", "flag", "the collectivized units' columns were kept (``micro``)"),
    # issue 15 (stategrain): the state's other uses of grain, each a term of its balance
    Flow("rations_workers_t", "t", "state", "town rations: workers and employees", state=-1),
    Flow("rations_dependants_t", "t", "state", "town rations: dependants and children", state=-1),
    Flow("commercial_sales_t", "t", "state", "bread sold in the towns beyond the ration (or, without rationing, the state's trade)", state=-1),
    Flow("gulag_t", "t", "state", "the camps' prisoners' rations", state=-1),
    Flow("settlements_t", "t", "state", "the special settlements' rations", state=-1),
    Flow("cotton_zones_t", "t", "state", "grain shipped to the cotton zones of Central Asia", state=-1),
    Flow("timber_construction_t", "t", "state", "rations of seasonal timber and construction workers", state=-1),
    Flow("state_seed_feed_t", "t", "state", "state seed and feed (sovkhozes, MTS, state horses)", state=-1),
    Flow("to_reserve_t", "t", "state", "grain put into (less taken out of) the untouchable reserve (an inner transfer)"),
    Flow("reserve_t", "t", "state", "the untouchable reserve at the month's end (nepfond, gosfond)"),
    Flow("loans_outstanding_t", "t", "state", "seed and food loans owed to the state at the month's end"),
    *(Flow(name, _industry_unit(name), "industry", f"industry: {name.replace('_', ' ')}")
      for name in INDUSTRY_RESULTS),
)


def rows(flows: tuple[Flow, ...], typename: str):
    """The first row of each flow, as a named tuple (a flow by herd takes four rows from it)."""
    first, at = {}, 0
    for f in flows:
        first[f.name] = at
        at += f.rows
    return namedtuple(typename, list(first))(**first), at


U, N_UNIT_OUT = rows(UNIT_FLOWS, "UnitRows")
S, N_SCALAR_OUT = rows(SCALAR_FLOWS, "ScalarRows")
UNIT_BY_NAME = {f.name: f for f in UNIT_FLOWS}
SCALAR_BY_NAME = {f.name: f for f in SCALAR_FLOWS}
S_INDUSTRY = S[len(SCALAR_FLOWS) - len(INDUSTRY_RESULTS)]  # where industry's results begin

# The grain balance: inflows and outflows of the households' stocks.
GRAIN_IN = tuple(U[i] for i, f in enumerate(UNIT_FLOWS) if f.kind == "grain_in")
GRAIN_OUT = tuple(U[i] for i, f in enumerate(UNIT_FLOWS) if f.kind == "grain_out")
# issue 15 (stategrain): the state's grain balance: flows into and out of its stock, by unit
# (rows of ``uo``) and economy-wide (rows of ``so``).
# (constant arrays: numba reads them as globals; an empty tuple would not type)
STATE_IN_UNIT = np.array([U[i] for i, f in enumerate(UNIT_FLOWS) if f.state > 0], np.int64)
STATE_OUT_UNIT = np.array([U[i] for i, f in enumerate(UNIT_FLOWS) if f.state < 0], np.int64)
STATE_IN_SCALAR = np.array([i for i, f in enumerate(SCALAR_FLOWS) if f.state > 0], np.int64)
STATE_OUT_SCALAR = np.array([i for i, f in enumerate(SCALAR_FLOWS) if f.state < 0], np.int64)
for _a in (STATE_IN_UNIT, STATE_OUT_UNIT, STATE_IN_SCALAR, STATE_OUT_SCALAR):
    _a.setflags(write=False)


def _check() -> None:
    for f in UNIT_FLOWS + SCALAR_FLOWS:
        if f.kind not in KINDS:
            raise ValueError(f"flow {f.name}: unknown kind {f.kind!r}")
    for flows in (UNIT_FLOWS, SCALAR_FLOWS):
        names = [f.name for f in flows]
        if len(set(names)) != len(names):
            raise ValueError(f"flows declared twice: {sorted({n for n in names if names.count(n) > 1})}")


_check()


def by_name(uo, so) -> tuple[dict, dict]:
    """The month's outputs by name: each unit flow's row (a flow by herd: its four rows), and
    each economy-wide number."""
    unit = {f.name: uo[U[i]] if f.rows == 1 else uo[U[i]:U[i] + f.rows]
            for i, f in enumerate(UNIT_FLOWS)}
    scalar = {f.name: float(so[i]) for i, f in enumerate(SCALAR_FLOWS)}
    return unit, scalar
