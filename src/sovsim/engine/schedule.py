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
"""

from __future__ import annotations

import numpy as np

from sovsim.compiled import kernel
from sovsim.engine import invariants
from sovsim.mechanisms import (
    agriculture,
    demography,
    industry,
    prices,
    procurement,
    state_grain,
    trade,
)
from sovsim.mechanisms.agriculture import HERDS
from sovsim.mechanisms.context import Step
from sovsim.mechanisms.demography import POOR
from sovsim.regions import TENURES
from sovsim.state import HouseholdTable, MacroState
from sovsim.state.table import cell_index

KOL = TENURES.index("kolkhoz")
# What deported households leave to the kolkhoz of their region (stored side by side).
LAND_AND_ANIMALS = ("sown_area_ha", "area_last_ha", "crop_t", *HERDS)
GRAIN_FLOWS = ("harvest_t", "relief_t", "seed_t", "feed_t", "food_t", "procured_t",
               "private_sales_t", "losses_t", "confiscated_t")


class Memory:
    """What the schedule carries from month to month beside the state (running sums)."""

    def __init__(self) -> None:
        self.market_ratio = 1.0  # smoothed marketings over the towns' need
        self.exported_in_year = 0.0
        self.relief_in_year = 0.0
        self.gdp_rub_month = 0.0
        self.harvest_value_rub = 0.0


def step(h: HouseholdTable, macro: MacroState, s: Step, mem: Memory, micro: bool = False
         ) -> dict:
    """Advance one month; return the month's booked flows and outcomes (by unit or scalar).
    With ``micro`` also what the household engine needs to share the month among households
    (``out["micro"]``: copies a cell run does not pay for)."""
    p = s.p
    n = len(h)
    book: dict = {"confiscated_t": np.zeros(n)}  # the other flows are booked as they happen
    grain_before, rural_before = invariants.stock_totals(h["grain_t"], h["persons"])
    people_before = rural_before + macro["urban_persons"]
    if s.cm == 7:
        mem.exported_in_year = mem.relief_in_year = 0.0
    share_r = demography.kolkhoz_share(h)

    # 2 prices
    macro["free_price_ratio"] = prices.free_price_ratio(macro, s, max(1.0 - mem.market_ratio, 0.0))

    # 3 sowing and harvest
    sow = agriculture.sowing(h, macro, s)
    h["grain_t"] -= sow["seed_t"]
    h["sown_area_ha"] += sow["sown_ha"]
    book["seed_t"] = sow["seed_t"]
    book["production_t"] = np.zeros(n)
    book["area_harvested_ha"] = np.zeros(n)
    area_before = h["area_last_ha"].copy() if micro and s.cm == 7 else None
    if s.cm == 7:
        crop = agriculture.crop(h, s)
        h["crop_t"] += crop
        book["production_t"] = crop
        book["area_harvested_ha"] = h["sown_area_ha"].copy()
        h["area_last_ha"] = h["sown_area_ha"].copy()
        h["sown_area_ha"] = np.zeros(n)
        mem.harvest_value_rub = crop.sum() * p["accounts.grain_value_rub_per_t"]
    hv = agriculture.harvest(h, s)
    h["crop_t"] -= hv["harvest_t"]
    h["grain_t"] += hv["harvest_t"] - hv["losses_t"]
    book["harvest_t"], book["losses_t"] = hv["harvest_t"], hv["losses_t"]

    # 4 procurement, then household food and feed
    pr = procurement.procure(h, macro, s, hv["harvest_t"])
    h["grain_t"] -= pr["procured_t"] + pr["private_sales_t"]
    if s.cm == 7:  # a new agricultural year: deliveries count afresh
        h["delivered_t"] = np.zeros(n)
    h["delivered_t"] += pr["delivered_t"]
    procured_t, private_t = pr["procured_t"].sum(), pr["private_sales_t"].sum()
    macro["state_grain_t"] = macro["state_grain_t"] + procured_t
    book["procured_t"], book["private_sales_t"] = pr["procured_t"], pr["private_sales_t"]
    book["delivered_t"] = pr["delivered_t"]
    fd = procurement.household_food(h, macro, s)
    h["grain_t"] -= fd["food_t"] + fd["feed_t"]
    book["food_t"], book["feed_t"] = fd["food_t"], fd["feed_t"]

    # 5 livestock
    lv = agriculture.livestock(h, s, fd["feed_t"], share_r)
    herds = h.rows(HERDS)
    herds_before = herds.copy() if micro else None
    herds += lv["births"] - lv["deaths"] - lv["slaughter"]
    np.maximum(herds, 0.0, out=herds)
    herds_after = herds.copy() if micro else None

    # 6 state grain
    al = state_grain.allocate(h, macro, s, private_t, mem.exported_in_year, mem.relief_in_year)
    inflow = al["relief_t"] + al["released_t"]  # famine relief, and sales from surplus stocks
    spent = al["army_t"] + al["to_towns_t"] + al["exports_t"] + inflow.sum()
    macro["state_grain_t"] = max(macro["state_grain_t"] - spent, 0.0)
    h["grain_t"] += inflow
    book["relief_t"] = inflow
    mem.exported_in_year += al["exports_t"]
    mem.relief_in_year += al["relief_t"].sum()
    marketed = procured_t + private_t
    mem.market_ratio = prices.smoothed_market_ratio(mem.market_ratio, marketed, al["urban_need_t"], s)

    # 7 trade
    tr = trade.machinery_imports(s, al["exports_t"])

    # 8 industry (investment planned on last month's output)
    # Grain in hand for the towns: the smoothed marketings plus the stock, over the towns' need
    # and the reserve the state means to keep.
    annual_need = max(12 * al["urban_need_t"], 1e-300)
    bread = ((mem.market_ratio + macro["state_grain_t"] / annual_need)
             / (1 + p["state_grain.reserve_months_of_town_supply"] / 12))
    ind = industry.produce(macro, s, tr["machinery_imports_rub"], mem.gdp_rub_month, bread)
    macro["utilisation"] = ind["utilisation"]
    for g in ("a", "b"):
        macro[f"capital_{g}_rub"] += ind[f"capital_{g}_added"] - ind[f"capital_{g}_retired"]
    macro["tractors_hp"] += ind["tractors_hp_added"] - ind["tractors_hp_retired"]
    rural_persons = h["persons"].sum()
    macro["goods_availability"] = industry.goods_availability(s, ind["output_b_rub"], rural_persons)

    # 9 demography
    kcal = demography.food_energy(h, s, fd["food_t"], lv["slaughter"])
    vt = demography.vital(h, s, kcal)
    _scale_households(h, h["persons"] + vt["births"] - vt["deaths"])
    h["food_ratio"] = vt["food_ratio"]
    urban = demography.urban_vital(macro["urban_persons"], s, al["urban_grain_ratio"])
    macro["urban_persons"] = macro["urban_persons"] + urban["births"] - urban["deaths"]
    persons_before_moves = h["persons"].copy() if micro else None
    deported_persons, deport_move = _deport(h, macro, s, book)
    src, dst, frac = demography.collectivize(h, s, share_r)
    before_collectivize = h.values[:, src].copy() if micro and (frac > 0).any() else None
    h.move(src, dst, frac)
    labour_gap = ind["labour_demand_persons"] / p["industry.urban_labour_participation"] - macro["urban_persons"]
    mig = demography.migration(h, s, labour_gap, urban["food_ratio"], al["urban_grain_ratio"])
    back = demography.return_migration(macro["urban_persons"], s, urban["food_ratio"])
    farming = h.labelled(demography.farming_units) * h["persons"]
    back_rows = back * farming / max(farming.sum(), 1e-300)
    persons_before_migration = h["persons"].copy() if micro else None
    _scale_households(h, h["persons"] - mig + back_rows)
    net_migrants = mig.sum() - back
    macro["urban_persons"] += net_migrants
    macro["urban_food_ratio"] = urban["food_ratio"]
    if s.cm == 1:  # after the main campaign: what members kept shapes next year's effort
        h["retained_kg"] = np.divide(h["grain_t"] * 1000.0, h["persons"], out=np.zeros(n),
                                     where=h["persons"] > 0)

    # invariants
    flows = dict(zip(GRAIN_FLOWS, invariants.grain_flow_totals(*[book[k] for k in GRAIN_FLOWS])))
    grain_after, rural_after = invariants.stock_totals(h["grain_t"], h["persons"])
    invariants.check_grain_balance(s.month, grain_before, grain_after, flows, "rural")
    births = vt["births"].sum() + urban["births"]
    deaths = vt["deaths"].sum() + urban["deaths"]
    invariants.check_people(s.month, people_before, rural_after + macro["urban_persons"],
                            births, deaths)
    invariants.check_state(s.month, h, macro)

    # 10 accounts inputs
    gdp = _gdp_month(h, s, ind, mem)
    mem.gdp_rub_month = gdp
    return {
        "book": book, "vital": vt, "kcal": kcal, "urban": urban, "state": al, "trade": tr,
        "industry": ind, "gdp_rub": gdp, "deported_persons": deported_persons,
        "net_migrants": net_migrants, "births": births, "deaths": deaths,
        # What the household engine (sovsim.population.engine) needs to share the month's
        # changes among the households of each unit: the moves and the stocks they acted on.
        "micro": None if not micro else {
            "herds_before": herds_before, "herds_after": herds_after, "area_before": area_before,
            "persons_before_moves": persons_before_moves,
            "moves": (deport_move, (src, dst, frac)),
            "before_collectivize": before_collectivize,  # float columns of the rows src
            "migrants": mig, "returners": back_rows,
            "slaughter": lv["slaughter"],  # (herds, units), HERDS order
            "persons_before_migration": persons_before_migration,
        },
    }


def _scale_households(h: HouseholdTable, new_persons: np.ndarray) -> None:
    """Households shrink and grow with their members (household size is kept)."""
    _scale(h["households"], h["persons"], new_persons)


@kernel
def _scale(households, persons, new_persons):
    ratio = np.where(persons > 0, new_persons / np.maximum(persons, 1e-300), 0.0)
    households[:] = households * ratio
    persons[:] = np.maximum(new_persons, 0.0)


def _deport(h: HouseholdTable, macro: MacroState, s: Step, book: dict
            ) -> tuple[np.ndarray, tuple]:
    """Dekulakization: move households to special settlements; grain to the state, animals and
    land to the kolkhoz of their region. Returns persons deported by unit of origin, and the
    move (src, dst, fraction)."""
    src, dst, frac = demography.deport(h, s)
    deported = np.zeros(len(h))
    if not (frac > 0).any():
        return deported, (src, dst, frac)
    deported[src] = h["persons"][src] * frac
    h.move(src, dst, frac)
    kolkhoz_rows = cell_index(h["region"][dst], POOR, KOL)
    land_and_animals = h.rows(LAND_AND_ANIMALS)
    np.add.at(land_and_animals, (slice(None), kolkhoz_rows), land_and_animals[:, dst])
    land_and_animals[:, dst] = 0.0
    book["confiscated_t"] = np.zeros(len(h))
    book["confiscated_t"][dst] = h["grain_t"][dst]
    macro["state_grain_t"] = macro["state_grain_t"] + h["grain_t"][dst].sum()
    h["grain_t"][dst] = 0.0
    h["delivered_t"][dst] = 0.0
    return deported, (src, dst, frac)


def _gdp_month(h: HouseholdTable, s: Step, ind: dict, mem: Memory) -> float:
    """Gross output of the month in 1926/27 rubles: industry, agriculture, other branches."""
    p = s.p
    livestock_units = (h["horses"] + h["cattle"]).sum() + p["accounts.small_animal_unit"] * (
        h["pigs"] + h["sheep_goats"]).sum()
    agri = mem.harvest_value_rub / 12.0 + livestock_units * p["accounts.livestock_value_rub_per_unit_year"] / 12.0
    other = (ind["nonagricultural_employment_persons"]
             * (1 - p["industry.industrial_share_of_nonagricultural_employment"])
             * p["accounts.other_output_rub_per_worker_year"] / 12.0)
    return ind["output_a_rub"] + ind["output_b_rub"] + agri + other
