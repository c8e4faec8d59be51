"""THE monthly order, written once (model.md, "Mechanisms"). Each step calls one mechanism,
applies its flows to the state, and writes them, by name, to the month's outputs. Nothing
else changes state.

| # | step (``STEPS``)    | mechanism module         |
|---|---------------------|--------------------------|
| 1 | start of month      | (instruments: ``POL[t.pm]``, packed.instrument_records) |
| 2 | free price          | mechanisms.prices        |
| 3 | sowing, harvest     | mechanisms.agriculture   |
| 4 | procurement, food   | mechanisms.procurement   |
| 5 | livestock           | mechanisms.agriculture   |
| 6 | state grain         | mechanisms.state_grain   |
| 7 | trade               | mechanisms.trade         |
| 8 | industry            | mechanisms.industry      |
| 9 | demography          | mechanisms.demography    |
|10 | accounts inputs     | engine.schedule          |
|11 | invariants          | engine.invariants        |

The month is compiled (``month_step``, numba): at the coarse resolution its arrays have 45
units, and the same month as a few hundred numpy calls cost about 200 microseconds, nearly all
of it the calls' overhead; compiled it is one call (docs/design/0010-compiled-month.md).

Every step takes the same few bundles (docs/design/0012-declared-month.md): the state
(``State``: the block ``h.values``, changed in place, the macro and memory records), the
labels, the parameters and instruments as records (``engine.packed``), the month's scratch
(``Scratch``: the flows by unit ``uo`` and economy-wide ``so``, in the rows that
``engine.flows`` declares and names, ``uo[U.seed_t]``), and the month (``Clock``). The steps
hand each other the flows through the scratch. ``STEPS`` is the order as data
(``sovsim run --profile`` times each). ``step`` is the same month called from Python, its
flows returned by name (the household engine calls it).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from sovsim import calendar
from sovsim.compiled import kernel, lap, step_kernel, tick, total
from sovsim.engine import invariants
from sovsim.engine.flows import (
    GRAIN_IN,
    GRAIN_OUT,
    N_SCALAR_OUT,
    N_UNIT_OUT,
    S_INDUSTRY,
    STATE_IN_SCALAR,
    STATE_IN_UNIT,
    STATE_OUT_SCALAR,
    STATE_OUT_UNIT,
    S,
    U,
    by_name,
)
from sovsim.engine.packed import param_record
from sovsim.mechanisms import industry as ind_
from sovsim.mechanisms.agriculture import (
    crop,
    harvest,
    hunger_slaughter,
    individual_effort,
    livestock,
    settled_share_step,
    sowing,
)
from sovsim.mechanisms.allen_migration import allen_migration  # issue 17 (respond)
from sovsim.mechanisms.context import Step
from sovsim.mechanisms.demography import (
    collectivize,
    conceive,
    conceive_urban,
    deport,
    fecundity_of,
    flight,
    food_energy,
    kolkhoz_share,
    meat_kcal_per_head,
    migration,
    return_migration,
    unit_labels,
    urban_vital,
    vital,
)
from sovsim.mechanisms.industry import goods_availability, produce
from sovsim.mechanisms.measures import blacklist_fines, potato_fine_kcal
from sovsim.mechanisms.prices import free_price_ratio, smoothed_market_ratio, terms_of_trade
from sovsim.mechanisms.procurement import household_food, procure
from sovsim.mechanisms.state_grain import allocate
from sovsim.mechanisms.trade import machinery_imports
from sovsim.regions import REGIONS
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.table import (
    AREA_LAST,
    CATTLE,
    CROP,
    DELIVERED,
    DEPLETION,
    FECUNDITY,
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
N_REGIONS = len(REGIONS)


# The bundles a step takes (numba passes a named tuple of arrays as one argument).
class State(NamedTuple):
    """What a month changes: the units' state block, the economy's (one record), and what the
    schedule carries from month to month (``packed.MEMORY_DTYPE``, one record)."""

    hv: np.ndarray
    MA: np.ndarray
    ME: np.ndarray


class Scratch(NamedTuple):
    """What a month writes besides the state, reused month by month: its flows by unit
    (``uo``, rows ``flows.U``) and economy-wide (``so``, ``flows.S``), the shares moved by
    deportation and collectivization, the collectivized units' columns before they moved
    (``micro`` only), the failed check's figures, the kolkhoz share by region at the start
    of the month, what one step hands the next beside the flows (``carry``, ``C``), and the
    cycles each step took when the run is profiled (``engine.profile``)."""

    uo: np.ndarray
    so: np.ndarray
    fr_dep: np.ndarray
    fr_col: np.ndarray
    before_coll: np.ndarray
    err: np.ndarray
    share_r: np.ndarray
    carry: np.ndarray
    ticks: np.ndarray  # cycles by step (``STEPS``, then the ledger) when profiled; else empty


class Clock(NamedTuple):
    """The month and its calendar facts, its weather and world price, and the row of the
    instruments in force (``pm``); ``micro``: keep what the household engine needs."""

    month: int
    pm: int
    cm: int
    year: int
    to_harvest: int
    weather: np.ndarray
    world_price: float
    micro: bool


# ``carry``: the stocks the month's balances start from, and the terms of trade in force.
Carry = namedtuple("Carry", "grain_before people_before tot state_before")
C = Carry(0, 1, 2, 3)


@kernel
def clock(month, pm, weather_class, world_price, first_year, micro):
    """The :class:`Clock` of ``month`` (the instruments of row ``pm``)."""
    cm = month % 12 + 1
    year = START_YEAR + month // 12
    to_harvest = (7 - cm) % 12
    if to_harvest == 0:
        to_harvest = 12
    return Clock(month, pm, cm, year, to_harvest, weather_class[year - first_year],
                 world_price[year - first_year], micro)


@kernel
def month_step(st, lab, P, POL, sc, t):
    """Advance the state one month (``POL[t.pm]`` in force): the steps of ``STEPS``, in
    their order. Returns 0, or the code of the invariant that failed (``invariants.GRAIN``,
    ``PEOPLE``, ``STATE``; details in ``sc.err``). With ``t.micro`` also what the household
    engine needs (rows ``U.persons_before_*``, ``U.area_before``, ``U.herds_before``, and
    ``sc.before_coll``: the columns of the collectivized units before they moved)."""
    c = tick(sc.ticks)  # (``lap``: the cycles of each step, when profiled; else nothing)
    step_start(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 0, c)
    step_prices(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 1, c)
    step_sowing_harvest(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 2, c)
    step_procurement_food(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 3, c)
    step_livestock(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 4, c)
    step_state_grain(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 5, c)
    step_trade(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 6, c)
    step_industry(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 7, c)
    step_demography(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 8, c)
    step_accounts(st, lab, P, POL, sc, t)
    c = lap(sc.ticks, 9, c)
    code = step_checks(st, lab, P, POL, sc, t)
    lap(sc.ticks, 10, c)
    return code


# The steps. Each takes the same bundles (state, labels, parameters, instruments, scratch,
# clock), so that the order is data (``STEPS``) that a profile can walk step by step.
@step_kernel
def step_start(st, lab, P, POL, sc, t):
    """1 The month begins: outputs cleared, the stocks the balances start from kept, the
    agricultural year's sums reset in July, the kolkhoz share by region taken."""
    hv, macro, mem = st.hv, st.MA[0], st.ME[0]
    sc.uo[:] = 0.0
    grain_before, rural_before = invariants.stock_totals(hv[GRAIN], hv[PERSONS])
    sc.carry[C.grain_before] = grain_before
    sc.carry[C.people_before] = rural_before + macro.urban_persons
    sc.carry[C.state_before] = macro.state_grain_t  # issue 15 (stategrain): its balance
    if t.cm == 7:
        mem.exported_in_year = 0.0
        mem.relief_in_year = 0.0
    sc.share_r[:] = kolkhoz_share(hv, lab)


@step_kernel
def step_prices(st, lab, P, POL, sc, t):
    """2 The free price, and the peasants' terms of trade."""
    macro, mem, p, pol = st.MA[0], st.ME[0], P[0], POL[t.pm]
    macro.free_price_ratio = free_price_ratio(macro.free_price_ratio, p, pol,
                                              max(1.0 - mem.market_ratio, 0.0))
    sc.carry[C.tot] = terms_of_trade(macro.free_price_ratio, macro.goods_availability, p, pol)


@step_kernel
def step_sowing_harvest(st, lab, P, POL, sc, t):
    """3 Sowing, the crop set in July, and the harvest brought in."""
    hv, macro, mem, p, pol, uo = st.hv, st.MA[0], st.ME[0], P[0], POL[t.pm], sc.uo
    sown = sowing(hv, lab, macro.tractors_hp, sc.carry[C.tot], p, pol, t.cm)
    uo[U.seed_t] = sown * p.agriculture_seed_norm_t_per_ha
    hv[GRAIN] -= uo[U.seed_t]
    hv[SOWN] += sown
    if t.micro and t.cm == 7:
        uo[U.area_before] = hv[AREA_LAST]
    if t.cm == 7:
        standing = crop(hv, lab, p, pol, t.weather, t.year)
        standing *= individual_effort(lab, p, sc.carry[C.tot])  # issue 17 (respond)
        hv[CROP] += standing
        uo[U.production_t] = standing
        uo[U.area_harvested_ha] = hv[SOWN]
        hv[AREA_LAST] = hv[SOWN]
        hv[SOWN] = 0.0
        mem.harvest_value_rub = total(standing) * p.accounts_grain_value_rub_per_t
    got = harvest(hv, p, t.cm)
    hv[CROP] -= got.harvest_t
    hv[GRAIN] += got.harvest_t - got.losses_t
    uo[U.harvest_t] = got.harvest_t
    uo[U.losses_t] = got.losses_t


@step_kernel
def step_procurement_food(st, lab, P, POL, sc, t):
    """4 Procurement, then the households' food and feed."""
    hv, macro, p, pol, uo = st.hv, st.MA[0], P[0], POL[t.pm], sc.uo
    pr = procure(hv, lab, macro.free_price_ratio, sc.carry[C.tot], p, pol, t.cm, t.to_harvest,
                 uo[U.harvest_t])
    hv[GRAIN] -= pr.procured_t + pr.private_sales_t
    if t.cm == 7:  # a new agricultural year: deliveries count afresh
        hv[DELIVERED] = 0.0
    hv[DELIVERED] += pr.delivered_t
    macro.state_grain_t = macro.state_grain_t + total(pr.procured_t)
    uo[U.procured_t], uo[U.private_sales_t] = pr.procured_t, pr.private_sales_t
    uo[U.delivered_t] = pr.delivered_t
    fd = household_food(hv, lab, macro.free_price_ratio, p, pol, t.cm, t.to_harvest)
    hv[GRAIN] -= fd.food_t + fd.feed_t
    uo[U.food_t], uo[U.feed_t] = fd.food_t, fd.feed_t


@step_kernel
def step_livestock(st, lab, P, POL, sc, t):
    """5 Livestock: births, deaths, slaughter, the state's meat and livestock procurement;
    the sedentarization plan settles nomadic households."""
    hv, mem, p, pol, uo = st.hv, st.ME[0], P[0], POL[t.pm], sc.uo
    mem.settled_share[:] = settled_share_step(mem.settled_share, pol)
    lv = livestock(hv, lab, p, pol, t.cm, uo[U.feed_t], sc.share_r, mem.settled_share)
    herds = hv[HERD_ROWS:HERD_ROWS + 4]
    if t.micro:
        uo[U.herds_before:U.herds_before + 4] = herds
    herds += lv.births - lv.deaths - lv.slaughter - lv.procured
    herds[:] = np.maximum(herds, 0.0)
    # issue 15 (measures): blacklisted villages' meat fines, taken as live animals
    if pol.blacklist_share.max() > 0.0:
        fined = blacklist_fines(hv, lab, p, pol)
        herds -= fined
        uo[U.fined_lu] = (fined[1] + p.accounts_small_animal_unit * (fined[2] + fined[3]))
    # Herders short of food eat their animals (issue 15, kazakh: the pastoral diet).
    uo[U.slaughter:U.slaughter + 4] = lv.slaughter
    if (p.livestock_hunger_slaughter_share > 0).any():
        kcal = food_energy(hv, lab, p, uo[U.food_t], lv.slaughter)
        eaten = hunger_slaughter(hv[PERSONS], herds, lab.region, kcal, p, meat_kcal_per_head(p))
        herds -= eaten
        herds[:] = np.maximum(herds, 0.0)
        uo[U.slaughter:U.slaughter + 4] += eaten
    uo[U.herds_after:U.herds_after + 4] = herds
    uo[U.livestock_procured:U.livestock_procured + 4] = lv.procured


@step_kernel
def step_state_grain(st, lab, P, POL, sc, t):
    """6 The state's grain: the army, the towns, the camps and settlements, the other state
    users, the loans and relief to the villages and their repayment, exports, the reserve."""
    hv, macro, mem, p, pol, uo, so = st.hv, st.MA[0], st.ME[0], P[0], POL[t.pm], sc.uo, sc.so
    procured_t, private_t = total(uo[U.procured_t]), total(uo[U.private_sales_t])
    al = allocate(hv, lab, macro.state_grain_t, macro.urban_persons, p, pol, t.cm,
                  t.to_harvest, private_t, mem)
    hv[GRAIN] += al.relief_t + al.seed_loan_t + al.food_loan_t - al.loan_repaid_t
    uo[U.relief_t], uo[U.seed_loan_t], uo[U.food_loan_t] = al.relief_t, al.seed_loan_t, \
        al.food_loan_t
    uo[U.loan_repaid_t] = al.loan_repaid_t
    to_towns = al.rations_workers_t + al.rations_dependants_t + al.commercial_sales_t
    so[S.army_t], so[S.to_towns_t], so[S.exports_t] = al.army_t, to_towns, al.exports_t
    so[S.rations_workers_t], so[S.rations_dependants_t] = (al.rations_workers_t,
                                                          al.rations_dependants_t)
    so[S.commercial_sales_t], so[S.gulag_t] = al.commercial_sales_t, al.gulag_t
    so[S.settlements_t], so[S.cotton_zones_t] = al.settlements_t, al.cotton_zones_t
    so[S.timber_construction_t] = al.timber_construction_t
    so[S.state_seed_feed_t], so[S.to_reserve_t] = al.state_seed_feed_t, al.to_reserve_t
    so[S.reserve_t], so[S.loans_outstanding_t] = mem.reserve_t, total(mem.loans_outstanding_t)
    # The stock moves by the declared flows only (``flows.STATE_*``; checked each month).
    after = macro.state_grain_t + state_net(uo, so)
    # (a stock drawn to nothing may come out a rounding below it: that noise, far inside the
    # balance's tolerance, is zero; anything larger fails the month's checks)
    macro.state_grain_t = 0.0 if -1e-6 < after < 0.0 else after
    mem.market_ratio = smoothed_market_ratio(mem.market_ratio, procured_t + private_t,
                                             al.urban_need_t, p)
    so[S.urban_grain_ratio], so[S.urban_need_t] = al.urban_grain_ratio, al.urban_need_t


@kernel
def state_net(uo, so):
    """The change the state grain step makes in the state's stock: the loans repaid, less
    every use it books (the flows marked ``state`` in ``engine.flows``, but procurement and
    confiscation, which are booked where they happen)."""
    net = np.sum(uo[U.loan_repaid_t])
    for r in STATE_OUT_UNIT:
        net -= np.sum(uo[r])
    for i in STATE_OUT_SCALAR:
        net -= so[i]
    return net


@step_kernel
def step_trade(st, lab, P, POL, sc, t):
    """7 Trade: export earnings and credit buy machinery."""
    so = sc.so
    tr = machinery_imports(P[0], POL[t.pm], t.world_price, so[S.exports_t])
    so[S.export_earnings_rub] = tr.export_earnings_rub
    so[S.machinery_imports_rub] = tr.machinery_imports_rub
    so[S.credit_rub] = tr.credit_rub


@step_kernel
def step_industry(st, lab, P, POL, sc, t):
    """8 Industry (investment planned on last month's output)."""
    hv, macro, mem, p, pol, so = st.hv, st.MA[0], st.ME[0], P[0], POL[t.pm], sc.so
    # Grain in hand for the towns: the smoothed marketings plus the stock, over the towns' need
    # and the reserve the state means to keep.
    annual_need = max(12 * so[S.urban_need_t], 1e-300)
    bread = ((mem.market_ratio + (macro.state_grain_t - mem.reserve_t) / annual_need)
             / (1 + p.state_grain_reserve_months_of_town_supply / 12))
    ind = produce(macro, p, pol, t.year, t.cm, so[S.machinery_imports_rub], mem.gdp_rub_month,
                  bread)
    macro.utilisation = ind[ind_.UTILISATION]
    macro.capital_a_rub += ind[ind_.CAPITAL_A_ADDED] - ind[ind_.CAPITAL_A_RETIRED]
    macro.capital_b_rub += ind[ind_.CAPITAL_B_ADDED] - ind[ind_.CAPITAL_B_RETIRED]
    macro.tractors_hp += ind[ind_.TRACTORS_ADDED] - ind[ind_.TRACTORS_RETIRED]
    macro.goods_availability = goods_availability(p, ind[ind_.OUTPUT_B], total(hv[PERSONS]))
    so[S_INDUSTRY:] = ind


@step_kernel
def step_demography(st, lab, P, POL, sc, t):
    """9 Demography: food energy, births and deaths, deportation, collectivization,
    migration."""
    hv, macro, p, pol, uo, so = st.hv, st.MA[0], P[0], POL[t.pm], sc.uo, sc.so
    kcal = food_energy(hv, lab, p, uo[U.food_t], uo[U.slaughter:U.slaughter + 4])
    # issue 15 (measures): blacklisted villages' potato fines, from the non-grain food
    if pol.blacklist_share.max() > 0.0:
        fine_kcal = np.minimum(potato_fine_kcal(lab, p, pol), kcal)
        kcal = kcal - fine_kcal
        uo[U.fined_food_kcal] = fine_kcal * hv[PERSONS] * (365.0 / 12.0)
    vt = vital(hv, lab, p, kcal)
    _scale(hv[HOUSEHOLDS], hv[PERSONS], hv[PERSONS] + vt.births - vt.deaths)
    hv[FOOD_RATIO] = vt.food_ratio
    hv[DEPLETION] = vt.depletion  # issue 15 (calendar)
    uv = urban_vital(macro.urban_persons, p, so[S.urban_grain_ratio],
                     st.ME[0].urban_fecundity_3)
    macro.urban_persons = macro.urban_persons + uv.births - uv.deaths
    # issue 15 (births): this month's conceptions, at this month's food, enter pregnancy
    conceive(hv[FECUNDITY:FECUNDITY + 3], fecundity_of(vt.food_ratio, p),
             p.demography_gestation_months, hv[PERSONS])
    conceive_urban(st.ME[0], p, uv.food_ratio)
    _deport(hv, lab, macro, pol, uo, sc.fr_dep)
    sc.fr_col[:] = collectivize(lab, p, pol, sc.share_r)
    so[S.collectivize_copied] = 0.0
    if t.micro and (sc.fr_col > 0).any():
        sc.before_coll[:] = hv[:, lab.move_src]
        so[S.collectivize_copied] = 1.0
    # issue 15 (calendar): the used-up reserves move with the people (a mean by persons)
    depleted = np.empty((1, hv.shape[1]))
    depleted[0] = hv[DEPLETION] * hv[PERSONS]
    move_totals(depleted, lab.move_src, lab.move_dst, sc.fr_col)
    move_totals(hv[:N_EXTENSIVE], lab.move_src, lab.move_dst, sc.fr_col)
    for unit in range(hv.shape[1]):
        persons = hv[PERSONS, unit]
        hv[DEPLETION, unit] = min(depleted[0, unit] / persons, 1.0) if persons > 0 else 0.0
    labour_gap = (so[S_INDUSTRY + ind_.LABOUR_DEMAND] / p.industry_urban_labour_participation
                  - macro.urban_persons)
    mig = migration(hv, lab, p, pol, labour_gap, uv.food_ratio, so[S.urban_grain_ratio])
    mig = allen_migration(mig, hv, lab, p, pol, uv.food_ratio, macro.goods_availability)  # issue 17 (respond)
    back = return_migration(macro.urban_persons, p, uv.food_ratio)
    fled = flight(hv, lab, p, pol)  # issue 15 (kazakh): within the USSR to the towns; abroad out
    farming = lab.farming * hv[PERSONS]
    back_rows = back * farming / max(total(farming), 1e-300)
    uo[U.persons_before_migration] = hv[PERSONS]
    _scale(hv[HOUSEHOLDS], hv[PERSONS],
           hv[PERSONS] - mig - fled.within_ussr - fled.abroad + back_rows)
    net_migrants = total(mig) - back
    macro.urban_persons += net_migrants + total(fled.within_ussr)
    uo[U.fled_within_ussr], uo[U.fled_abroad] = fled.within_ussr, fled.abroad
    macro.urban_food_ratio = uv.food_ratio
    if t.cm == 1:  # after the main campaign: what members kept shapes next year's effort
        for unit in range(hv.shape[1]):
            persons = hv[PERSONS, unit]
            hv[RETAINED, unit] = hv[GRAIN, unit] * 1000.0 / persons if persons > 0 else 0.0
    uo[U.births], uo[U.deaths] = vt.births, vt.deaths
    uo[U.excess_deaths] = vt.excess_deaths
    uo[U.kcal] = kcal
    uo[U.migrants], uo[U.returners] = mig, back_rows
    so[S.urban_births], so[S.urban_deaths] = uv.births, uv.deaths
    so[S.urban_excess_deaths], so[S.urban_kcal] = uv.excess_deaths, uv.kcal
    so[S.urban_food_ratio], so[S.net_migrants] = uv.food_ratio, net_migrants


@step_kernel
def step_accounts(st, lab, P, POL, sc, t):
    """10 What the accounts need besides the flows: gross output, all births and deaths, the
    terms of trade at the month's end."""
    hv, macro, mem, p, pol, uo, so = st.hv, st.MA[0], st.ME[0], P[0], POL[t.pm], sc.uo, sc.so
    gdp = _gdp_month(hv, p, so[S_INDUSTRY:], mem.harvest_value_rub)
    mem.gdp_rub_month = gdp
    so[S.gdp_rub] = gdp
    so[S.births] = total(uo[U.births]) + so[S.urban_births]
    so[S.deaths] = total(uo[U.deaths]) + so[S.urban_deaths]
    so[S.terms_of_trade] = terms_of_trade(macro.free_price_ratio, macro.goods_availability, p,
                                          pol)


@step_kernel
def step_checks(st, lab, P, POL, sc, t):
    """The month's invariants: grain balance, people, a valid state (``month_checks``)."""
    hv, macro, so = st.hv, st.MA[0], sc.so
    grain_after, rural_after = invariants.stock_totals(hv[GRAIN], hv[PERSONS])
    inflow, outflow = invariants.grain_flow_totals(sc.uo, GRAIN_IN, GRAIN_OUT)
    code = invariants.month_checks(hv, st.MA, sc.carry[C.grain_before], grain_after, inflow,
                                   outflow, sc.carry[C.people_before],
                                   rural_after + macro.urban_persons, so[S.births],
                                   so[S.deaths], total(sc.uo[U.fled_abroad]), sc.err)
    if code != 0:
        return code
    # issue 15 (stategrain): the state's grain balance, from the declared flows
    s_in, s_out = invariants.state_flow_totals(sc.uo, so, STATE_IN_UNIT, STATE_OUT_UNIT,
                                               STATE_IN_SCALAR, STATE_OUT_SCALAR)
    return invariants.state_grain_check(sc.carry[C.state_before], macro.state_grain_t, s_in,
                                        s_out, st.ME[0].reserve_t, sc.err)


class Phase(NamedTuple):
    name: str
    kernel: Callable
    mechanism: str  # the module of the mechanism it calls


# THE order, as data (``month_step`` calls them in this order; ``engine.profile`` walks it).
STEPS: tuple[Phase, ...] = (
    Phase("start of month", step_start, "mechanisms.demography (kolkhoz share)"),
    Phase("free price", step_prices, "mechanisms.prices"),
    Phase("sowing, harvest", step_sowing_harvest, "mechanisms.agriculture"),
    Phase("procurement, food", step_procurement_food, "mechanisms.procurement"),
    Phase("livestock", step_livestock, "mechanisms.agriculture"),
    Phase("state grain", step_state_grain, "mechanisms.state_grain"),
    Phase("trade", step_trade, "mechanisms.trade"),
    Phase("industry", step_industry, "mechanisms.industry"),
    Phase("demography", step_demography, "mechanisms.demography"),
    Phase("accounts inputs", step_accounts, "engine.schedule"),
    Phase("invariants", step_checks, "engine.invariants"),
)
N_STEPS = len(STEPS)


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
        uo[U.deported_persons, src[k]] = hv[PERSONS, src[k]] * fr_dep[k]
    move_totals(hv[:N_EXTENSIVE], src, dst, fr_dep)
    for row in range(SOWN, SHEEP_GOATS + 1):  # land, standing crop and animals
        moved = hv[row, dst]  # (a copy: taken before any is added)
        for k in range(dst.size):
            hv[row, kolkhoz[k]] += moved[k]
        hv[row, dst] = 0.0
    taken = 0.0
    for k in range(dst.size):
        uo[U.confiscated_t, dst[k]] = hv[GRAIN, dst[k]]
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


def scratch(n_units: int, lab, micro: bool = False, n_rows: int = 0, profiled: bool = False
            ) -> Scratch:
    """Scratch arrays of a month for a table of ``lab``'s units (reused month by month);
    with ``micro`` room for the collectivized units' ``n_rows`` columns; ``profiled``: count
    each step's cycles."""
    return Scratch(np.zeros((N_UNIT_OUT, n_units)), np.zeros(N_SCALAR_OUT),
                   np.zeros(lab.kulak_units.size), np.zeros(lab.move_src.size),
                   np.zeros((n_rows, lab.move_src.size)) if micro else np.zeros((0, 0)),
                   np.zeros(4), np.zeros(N_REGIONS), np.zeros(len(C)),
                   np.zeros(N_STEPS + 1 if profiled else 0, dtype=np.int64))


class Month(NamedTuple):
    """A month's outputs by name (``step``), for Python callers."""

    flows: dict  # each flow of ``flows.UNIT_FLOWS`` by unit (a flow by herd: (herds, units))
    scalars: dict  # each number of ``flows.SCALAR_FLOWS``
    moves: tuple  # (from, to, share) of deportation, then of collectivization
    before_collectivize: np.ndarray | None  # (``micro``) the moved units' columns before
    july: bool  # the crop was set this month (``flows["area_before"]`` is meaningful)
    scratch: Scratch  # the same, as arrays (``accounts.Ledger.book``)


def step(h: HouseholdTable, macro: MacroState, s: Step, mem: np.recarray,
         micro: bool = False) -> Month:
    """Advance one month from Python (``month_step``, with the instruments of row
    ``s.month`` of ``s.POL``, the scenario's ``packed.instrument_records``, as the cell run
    reads them); return the month's flows by name. With ``micro`` also what the household engine needs to share the month
    among households."""
    lab = h.labelled(unit_labels)
    sc = scratch(len(h), lab, micro, h.values.shape[0])
    P = s.per_run(param_record)
    t = clock(s.month, s.month, s.inputs.weather_class, s.inputs.world_grain_price,
              s.inputs.first_year, micro)
    code = month_step(State(h.values, macro.values, mem), lab, P, s.POL, sc, t)
    invariants.raise_for(code, sc.err, s.month, h, macro)
    unit, scalar = by_name(sc.uo, sc.so)
    return Month(unit, scalar, ((lab.kulak_units, lab.settlement_units, sc.fr_dep),
                                (lab.move_src, lab.move_dst, sc.fr_col)),
                 sc.before_coll if micro and sc.so[S.collectivize_copied] else None,
                 s.cm == 7, sc)
