"""THE monthly order, written once (model.md, "Mechanisms"). Each step calls one mechanism,
applies its flows to the state, and books them for the accounts. Nothing else changes state.

| # | step                | mechanism module         |
|---|---------------------|--------------------------|
| 1 | instruments         | mechanisms.policy        |
| 2 | free price          | mechanisms.prices        |
| 3 | sowing, harvest     | mechanisms.agriculture   |
| 4 | procurement, food   | mechanisms.procurement   |
| 5 | livestock           | mechanisms.agriculture   |
| 6 | state grain         | mechanisms.state_grain   |
| 7 | trade               | mechanisms.trade         |
| 8 | industry            | mechanisms.industry      |
| 9 | demography          | mechanisms.demography    |
|10 | accounts            | engine.accounts          |

The month is compiled (``month_step``, numba): at the coarse resolution its arrays have 45
units, and the same month as a few hundred numpy calls cost about 200 microseconds, nearly all
of it the calls' overhead; compiled it is one call (docs/design/0010-compiled-month.md). It
reads the state block ``h.values`` and changes it in place, reads parameters and instruments
as records (``engine.packed``), and writes the month's flows by unit into ``uo`` (rows
``U_*``) and its economy-wide numbers into ``so`` (``S_*``). ``step`` is the same month called
from Python, its flows returned by name (the household engine calls it).
"""

from __future__ import annotations

import numpy as np

from sovsim import calendar
from sovsim.compiled import kernel, total
from sovsim.engine import invariants
from sovsim.engine.packed import instrument_record, param_record
from sovsim.mechanisms import industry as ind_
from sovsim.mechanisms.agriculture import crop, harvest, livestock, sowing
from sovsim.mechanisms.context import Step
from sovsim.mechanisms.demography import (
    collectivize,
    deport,
    food_energy,
    kolkhoz_share,
    migration,
    return_migration,
    unit_labels,
    urban_vital,
    vital,
)
from sovsim.mechanisms.industry import goods_availability, produce
from sovsim.mechanisms.prices import free_price_ratio, smoothed_market_ratio, terms_of_trade
from sovsim.mechanisms.procurement import household_food, procure
from sovsim.mechanisms.state_grain import allocate
from sovsim.mechanisms.trade import machinery_imports
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.table import (
    AREA_LAST,
    CATTLE,
    CROP,
    DELIVERED,
    FOOD_RATIO,
    GRAIN,
    HERD_ROWS,
    HORSES,
    HOUSEHOLDS,
    N_EXTENSIVE,
    PERSONS,
    PIGS,
    RETAINED,
    SHEEP_GOATS,
    SOWN,
    move_totals,
)

START_YEAR = calendar.START_YEAR

# The month's flows by unit (rows of ``uo``); the herds take four rows each, in HERDS order.
UNIT_OUT = ("confiscated_t", "seed_t", "production_t", "area_harvested_ha", "harvest_t",
            "losses_t", "procured_t", "private_sales_t", "delivered_t", "food_t", "feed_t",
            "relief_t", "births", "deaths", "excess_deaths", "food_ratio", "kcal",
            "deported_persons", "migrants", "returners", "persons_before_moves",
            "persons_before_migration", "area_before")
(U_CONFISCATED, U_SEED, U_PRODUCTION, U_AREA_HARVESTED, U_HARVEST, U_LOSSES, U_PROCURED,
 U_PRIVATE, U_DELIVERED, U_FOOD, U_FEED, U_RELIEF, U_BIRTHS, U_DEATHS, U_EXCESS, U_FOOD_RATIO,
 U_KCAL, U_DEPORTED, U_MIGRANTS, U_RETURNERS, U_PERSONS_BEFORE_MOVES,
 U_PERSONS_BEFORE_MIGRATION, U_AREA_BEFORE) = range(len(UNIT_OUT))
U_HERDS_BEFORE = len(UNIT_OUT)
U_HERDS_AFTER = U_HERDS_BEFORE + 4
U_SLAUGHTER = U_HERDS_AFTER + 4
N_UNIT_OUT = U_SLAUGHTER + 4
# The month's economy-wide numbers (``so``); then industry's results (``industry.produce``).
SCALAR_OUT = ("army_t", "to_towns_t", "exports_t", "urban_grain_ratio", "urban_need_t",
              "urban_births", "urban_deaths", "urban_excess_deaths", "urban_kcal",
              "urban_food_ratio", "export_earnings_rub", "machinery_imports_rub", "credit_rub",
              "gdp_rub", "net_migrants", "births", "deaths", "terms_of_trade",
              "collectivize_copied")
(S_ARMY, S_TO_TOWNS, S_EXPORTS, S_URBAN_GRAIN_RATIO, S_URBAN_NEED, S_URBAN_BIRTHS,
 S_URBAN_DEATHS, S_URBAN_EXCESS, S_URBAN_KCAL, S_URBAN_FOOD_RATIO, S_EARNINGS, S_IMPORTS,
 S_CREDIT, S_GDP, S_NET_MIGRANTS, S_BIRTHS, S_DEATHS, S_TOT, S_COPIED) = range(len(SCALAR_OUT))
S_INDUSTRY = len(SCALAR_OUT)
N_SCALAR_OUT = S_INDUSTRY + ind_.N_RESULTS


@kernel
def month_step(hv, lab, MA, ME, P, POL, pm, month, weather_class, world_price, first_year,
               micro, uo, so, fr_dep, fr_col, before_coll, err):
    """Advance the state one month (``POL[pm]`` in force); return 0, or the code of the
    invariant that failed (``invariants.GRAIN``, ``PEOPLE``, ``STATE``; details in ``err``).
    With ``micro`` also what the household engine needs (rows ``U_PERSONS_BEFORE_*``,
    ``U_AREA_BEFORE``, ``U_HERDS_*``, and ``before_coll``: the columns of the collectivized
    units before they moved)."""
    macro, mem, p, pol = MA[0], ME[0], P[0], POL[pm]
    cm = month % 12 + 1
    year = START_YEAR + month // 12
    to_harvest = (7 - cm) % 12
    if to_harvest == 0:
        to_harvest = 12
    weather = weather_class[year - first_year]
    uo[:] = 0.0
    grain_before, rural_before = invariants.stock_totals(hv[GRAIN], hv[PERSONS])
    people_before = rural_before + macro.urban_persons
    if cm == 7:
        mem.exported_in_year = 0.0
        mem.relief_in_year = 0.0
    share_r = kolkhoz_share(hv, lab)

    # 2 prices
    macro.free_price_ratio = free_price_ratio(macro.free_price_ratio, p, pol,
                                              max(1.0 - mem.market_ratio, 0.0))
    tot = terms_of_trade(macro.free_price_ratio, macro.goods_availability, p, pol)

    # 3 sowing and harvest
    sown = sowing(hv, lab, macro.tractors_hp, tot, p, cm)
    uo[U_SEED] = sown * p.agriculture_seed_norm_t_per_ha
    hv[GRAIN] -= uo[U_SEED]
    hv[SOWN] += sown
    if micro and cm == 7:
        uo[U_AREA_BEFORE] = hv[AREA_LAST]
    if cm == 7:
        standing = crop(hv, lab, p, pol, weather, year)
        hv[CROP] += standing
        uo[U_PRODUCTION] = standing
        uo[U_AREA_HARVESTED] = hv[SOWN]
        hv[AREA_LAST] = hv[SOWN]
        hv[SOWN] = 0.0
        mem.harvest_value_rub = total(standing) * p.accounts_grain_value_rub_per_t
    got, lost = harvest(hv, p, cm)
    hv[CROP] -= got
    hv[GRAIN] += got - lost
    uo[U_HARVEST] = got
    uo[U_LOSSES] = lost

    # 4 procurement, then household food and feed
    pr = procure(hv, lab, macro.free_price_ratio, tot, p, pol, cm, to_harvest, got)
    hv[GRAIN] -= pr[0] + pr[1]
    if cm == 7:  # a new agricultural year: deliveries count afresh
        hv[DELIVERED] = 0.0
    hv[DELIVERED] += pr[2]
    procured_t, private_t = total(pr[0]), total(pr[1])
    macro.state_grain_t = macro.state_grain_t + procured_t
    uo[U_PROCURED], uo[U_PRIVATE], uo[U_DELIVERED] = pr[0], pr[1], pr[2]
    fd = household_food(hv, macro.free_price_ratio, p, pol, cm, to_harvest)
    hv[GRAIN] -= fd[0] + fd[1]
    uo[U_FOOD], uo[U_FEED] = fd[0], fd[1]

    # 5 livestock
    lv = livestock(hv, lab, p, pol, cm, fd[1], share_r)
    herds = hv[HERD_ROWS:HERD_ROWS + 4]
    if micro:
        uo[U_HERDS_BEFORE:U_HERDS_BEFORE + 4] = herds
    herds += lv[0] - lv[1] - lv[2]
    herds[:] = np.maximum(herds, 0.0)
    uo[U_HERDS_AFTER:U_HERDS_AFTER + 4] = herds
    uo[U_SLAUGHTER:U_SLAUGHTER + 4] = lv[2]

    # 6 state grain
    army, to_towns, exports, relief_rows, release_rows, urban_grain_ratio, urban_need = allocate(
        hv, lab, macro.state_grain_t, macro.urban_persons, p, pol, cm, private_t,
        mem.exported_in_year, mem.relief_in_year)
    inflow = relief_rows + release_rows  # famine relief, and sales from surplus stocks
    spent = army + to_towns + exports + total(inflow)
    macro.state_grain_t = max(macro.state_grain_t - spent, 0.0)
    hv[GRAIN] += inflow
    uo[U_RELIEF] = inflow
    mem.exported_in_year += exports
    mem.relief_in_year += total(relief_rows)
    mem.market_ratio = smoothed_market_ratio(mem.market_ratio, procured_t + private_t,
                                             urban_need, p)

    # 7 trade
    earnings, imports, credit = machinery_imports(p, pol, world_price[year - first_year],
                                                  exports)

    # 8 industry (investment planned on last month's output)
    # Grain in hand for the towns: the smoothed marketings plus the stock, over the towns' need
    # and the reserve the state means to keep.
    annual_need = max(12 * urban_need, 1e-300)
    bread = ((mem.market_ratio + macro.state_grain_t / annual_need)
             / (1 + p.state_grain_reserve_months_of_town_supply / 12))
    ind = produce(macro, p, pol, year, cm, imports, mem.gdp_rub_month, bread)
    macro.utilisation = ind[ind_.UTILISATION]
    macro.capital_a_rub += ind[ind_.CAPITAL_A_ADDED] - ind[ind_.CAPITAL_A_RETIRED]
    macro.capital_b_rub += ind[ind_.CAPITAL_B_ADDED] - ind[ind_.CAPITAL_B_RETIRED]
    macro.tractors_hp += ind[ind_.TRACTORS_ADDED] - ind[ind_.TRACTORS_RETIRED]
    macro.goods_availability = goods_availability(p, ind[ind_.OUTPUT_B], total(hv[PERSONS]))

    # 9 demography
    kcal = food_energy(hv, lab, p, fd[0], lv[2])
    vt = vital(hv, lab, p, kcal)
    _scale(hv[HOUSEHOLDS], hv[PERSONS], hv[PERSONS] + vt[0] - vt[1])
    hv[FOOD_RATIO] = vt[3]
    ub, ud, ux, ukcal, uratio = urban_vital(macro.urban_persons, p, urban_grain_ratio)
    macro.urban_persons = macro.urban_persons + ub - ud
    if micro:
        uo[U_PERSONS_BEFORE_MOVES] = hv[PERSONS]
    _deport(hv, lab, macro, pol, uo, fr_dep)
    fr_col[:] = collectivize(lab, p, pol, share_r)
    so[S_COPIED] = 0.0
    if micro and (fr_col > 0).any():
        before_coll[:] = hv[:, lab.move_src]
        so[S_COPIED] = 1.0
    move_totals(hv[:N_EXTENSIVE], lab.move_src, lab.move_dst, fr_col)
    labour_gap = (ind[ind_.LABOUR_DEMAND] / p.industry_urban_labour_participation
                  - macro.urban_persons)
    mig = migration(hv, lab, p, pol, labour_gap, uratio, urban_grain_ratio)
    back = return_migration(macro.urban_persons, p, uratio)
    farming = lab.farming * hv[PERSONS]
    back_rows = back * farming / max(total(farming), 1e-300)
    uo[U_PERSONS_BEFORE_MIGRATION] = hv[PERSONS]
    _scale(hv[HOUSEHOLDS], hv[PERSONS], hv[PERSONS] - mig + back_rows)
    net_migrants = total(mig) - back
    macro.urban_persons += net_migrants
    macro.urban_food_ratio = uratio
    if cm == 1:  # after the main campaign: what members kept shapes next year's effort
        for unit in range(hv.shape[1]):
            persons = hv[PERSONS, unit]
            hv[RETAINED, unit] = hv[GRAIN, unit] * 1000.0 / persons if persons > 0 else 0.0
    uo[U_BIRTHS], uo[U_DEATHS], uo[U_EXCESS], uo[U_FOOD_RATIO] = vt[0], vt[1], vt[2], vt[3]
    uo[U_KCAL] = kcal
    uo[U_MIGRANTS], uo[U_RETURNERS] = mig, back_rows

    # 10 accounts inputs
    gdp = _gdp_month(hv, p, ind, mem.harvest_value_rub)
    mem.gdp_rub_month = gdp
    births = total(vt[0]) + ub
    deaths = total(vt[1]) + ud
    so[S_ARMY], so[S_TO_TOWNS], so[S_EXPORTS] = army, to_towns, exports
    so[S_URBAN_GRAIN_RATIO], so[S_URBAN_NEED] = urban_grain_ratio, urban_need
    so[S_URBAN_BIRTHS], so[S_URBAN_DEATHS], so[S_URBAN_EXCESS] = ub, ud, ux
    so[S_URBAN_KCAL], so[S_URBAN_FOOD_RATIO] = ukcal, uratio
    so[S_EARNINGS], so[S_IMPORTS], so[S_CREDIT] = earnings, imports, credit
    so[S_GDP], so[S_NET_MIGRANTS], so[S_BIRTHS], so[S_DEATHS] = gdp, net_migrants, births, deaths
    so[S_TOT] = terms_of_trade(macro.free_price_ratio, macro.goods_availability, p, pol)
    so[S_INDUSTRY:] = ind

    # invariants
    grain_after, rural_after = invariants.stock_totals(hv[GRAIN], hv[PERSONS])
    flows = invariants.grain_flow_totals(uo[U_HARVEST], uo[U_RELIEF], uo[U_SEED], uo[U_FEED],
                                         uo[U_FOOD], uo[U_PROCURED], uo[U_PRIVATE],
                                         uo[U_LOSSES], uo[U_CONFISCATED])
    return invariants.month_checks(hv, MA, grain_before, grain_after, flows, people_before,
                                   rural_after + macro.urban_persons, births, deaths, err)


@kernel
def _scale(households, persons, new_persons):
    """Households shrink and grow with their members (household size is kept)."""
    ratio = np.where(persons > 0, new_persons / np.maximum(persons, 1e-300), 0.0)
    households[:] = households * ratio
    persons[:] = np.maximum(new_persons, 0.0)


@kernel
def _deport(hv, lab, macro, pol, uo, fr_dep):
    """Dekulakization: move households to special settlements; grain to the state, animals and
    land to the kolkhoz of their region. Books persons deported by unit of origin and the
    grain confiscated; ``fr_dep``: the fraction of each kulak unit deported."""
    fr_dep[:] = deport(lab, pol)
    if not (fr_dep > 0).any():
        return
    src, dst, kolkhoz = lab.kulak_units, lab.settlement_units, lab.settlement_kolkhoz
    for k in range(src.size):
        uo[U_DEPORTED, src[k]] = hv[PERSONS, src[k]] * fr_dep[k]
    move_totals(hv[:N_EXTENSIVE], src, dst, fr_dep)
    for row in range(SOWN, SHEEP_GOATS + 1):  # land, standing crop and animals
        moved = hv[row, dst]  # (a copy: taken before any is added)
        for k in range(dst.size):
            hv[row, kolkhoz[k]] += moved[k]
        hv[row, dst] = 0.0
    taken = 0.0
    for k in range(dst.size):
        uo[U_CONFISCATED, dst[k]] = hv[GRAIN, dst[k]]
        taken += hv[GRAIN, dst[k]]
        hv[GRAIN, dst[k]] = 0.0
        hv[DELIVERED, dst[k]] = 0.0
    macro.state_grain_t = macro.state_grain_t + taken


@kernel
def _gdp_month(hv, p, ind, harvest_value_rub):
    """Gross output of the month in 1926/27 rubles: industry, agriculture, other branches."""
    livestock_units = (total(hv[HORSES] + hv[CATTLE]) + p.accounts_small_animal_unit
                       * total(hv[PIGS] + hv[SHEEP_GOATS]))
    agri = (harvest_value_rub / 12.0
            + livestock_units * p.accounts_livestock_value_rub_per_unit_year / 12.0)
    other = (ind[ind_.EMPLOYMENT]
             * (1 - p.industry_industrial_share_of_nonagricultural_employment)
             * p.accounts_other_output_rub_per_worker_year / 12.0)
    return ind[ind_.OUTPUT_A] + ind[ind_.OUTPUT_B] + agri + other


class Outputs:
    """Scratch arrays of a month's outputs for a table of ``lab``'s units (reused month by
    month)."""

    def __init__(self, n_units: int, lab) -> None:
        self.uo = np.zeros((N_UNIT_OUT, n_units))
        self.so = np.zeros(N_SCALAR_OUT)
        self.fr_dep = np.zeros(lab.kulak_units.size)
        self.fr_col = np.zeros(lab.move_src.size)
        self.err = np.zeros(4)


def step(h: HouseholdTable, macro: MacroState, s: Step, mem: np.recarray, micro: bool = False
         ) -> dict:
    """Advance one month from Python (``month_step``); return the month's booked flows and
    outcomes (by unit or scalar), by name. With ``micro`` also what the household engine needs
    to share the month among households (``out["micro"]``)."""
    lab = h.labelled(unit_labels)
    o = Outputs(len(h), lab)
    before = np.zeros((h.values.shape[0], lab.move_src.size)) if micro else np.zeros((0, 0))
    P = s.per_run(param_record)
    POL = instrument_record(s.pol)
    code = month_step(h.values, lab, macro.values, mem, P, POL, 0, s.month,
                      s.inputs.weather_class, s.inputs.world_grain_price, s.inputs.first_year,
                      micro, o.uo, o.so, o.fr_dep, o.fr_col, before, o.err)
    invariants.raise_for(code, o.err, s.month, h, macro)
    return outputs_by_name(o, lab, before if micro else None, s.cm)


def outputs_by_name(o: Outputs, lab, before_coll: np.ndarray | None, cm: int) -> dict:
    """The month's outputs by name (``step``'s dict)."""
    uo, so = o.uo, o.so
    u = {name: uo[i] for i, name in enumerate(UNIT_OUT)}
    book = {k: u[k] for k in ("confiscated_t", "seed_t", "production_t", "area_harvested_ha",
                              "harvest_t", "losses_t", "procured_t", "private_sales_t",
                              "delivered_t", "food_t", "feed_t", "relief_t")}
    sc = {name: float(so[i]) for i, name in enumerate(SCALAR_OUT)}
    industry = {name: float(so[S_INDUSTRY + i]) for i, name in enumerate(ind_.RESULTS)}
    out = {
        "book": book,
        "vital": {k: u[k] for k in ("births", "deaths", "excess_deaths", "food_ratio")},
        "kcal": u["kcal"],
        "urban": {"births": sc["urban_births"], "deaths": sc["urban_deaths"],
                  "excess_deaths": sc["urban_excess_deaths"], "kcal": sc["urban_kcal"],
                  "food_ratio": sc["urban_food_ratio"]},
        "state": {k: sc[k] for k in ("army_t", "to_towns_t", "exports_t", "urban_grain_ratio",
                                     "urban_need_t")},
        "trade": {k: sc[k] for k in ("export_earnings_rub", "machinery_imports_rub",
                                     "credit_rub")},
        "industry": industry, "gdp_rub": sc["gdp_rub"],
        "deported_persons": u["deported_persons"], "net_migrants": sc["net_migrants"],
        "births": sc["births"], "deaths": sc["deaths"], "terms_of_trade": sc["terms_of_trade"],
        "micro": None,
        "outputs": o,  # the same, as arrays (accounts.Ledger.book)
    }
    if before_coll is not None:
        # What the household engine (sovsim.households.engine) needs to share the month's
        # changes among the households of each unit: the moves and the stocks they acted on.
        out["micro"] = {
            "herds_before": uo[U_HERDS_BEFORE:U_HERDS_BEFORE + 4],
            "herds_after": uo[U_HERDS_AFTER:U_HERDS_AFTER + 4],
            "area_before": u["area_before"] if cm == 7 else None,
            "persons_before_moves": u["persons_before_moves"],
            "moves": ((lab.kulak_units, lab.settlement_units, o.fr_dep),
                      (lab.move_src, lab.move_dst, o.fr_col)),
            "before_collectivize": before_coll if so[S_COPIED] else None,
            "migrants": u["migrants"], "returners": u["returners"],
            "slaughter": uo[U_SLAUGHTER:U_SLAUGHTER + 4],  # (herds, units), HERDS order
            "persons_before_migration": u["persons_before_migration"],
        }
    return out
