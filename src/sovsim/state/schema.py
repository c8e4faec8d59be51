"""The column schema, declared once: name, dtype, unit, doc."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    unit: str
    doc: str
    extensive: bool = True  # totals that move with households (False: per-person intensities)


HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column("region", "int64", "index into REGIONS", "region of the unit", False),
    Column("klass", "int64", "index into CLASSES", "poor / middle / kulak (Soviet criteria)", False),
    Column("tenure", "int64", "index into TENURES", "individual / kolkhoz / deported", False),
    Column("households", "float64", "households", "real households the unit stands for (weight)"),
    Column("persons", "float64", "persons", "members"),
    Column("sown_area_ha", "float64", "ha", "area sown for the coming harvest"),
    Column("area_last_ha", "float64", "ha", "area harvested at the last harvest"),
    Column("crop_t", "float64", "t", "standing crop not yet harvested"),
    Column("horses", "float64", "head", "horses"),
    Column("cattle", "float64", "head", "cattle"),
    Column("pigs", "float64", "head", "pigs"),
    Column("sheep_goats", "float64", "head", "sheep and goats"),
    Column("grain_t", "float64", "t", "grain stock held by the households"),
    Column("delivered_t", "float64", "t", "grain delivered against quotas this agricultural year"),
    Column("food_ratio", "float64", "share", "last month's food energy against need", False),
    Column("retained_kg", "float64", "kg per person", "grain left per person after last campaign", False),
    # issue 15 (calendar): hunger's toll carried from month to month
    Column("famine_depletion", "float64", "share of lethal depletion",
           "body reserves used up by hunger (0 fed, 1 the depletion that kills)", False),
    # issue 15 (births): the food factor of conception carried through pregnancy, by trimester
    # (mechanisms.demography.conceive); births come from the third.
    Column("fecundity_1", "float64", "share", "food factor of conceptions now in trimester 1", False),
    Column("fecundity_2", "float64", "share", "food factor of conceptions now in trimester 2", False),
    Column("fecundity_3", "float64", "share", "food factor of conceptions now in trimester 3", False),
)

MACRO_COLUMNS: tuple[Column, ...] = (
    Column("urban_persons", "float64", "persons", "town population"),
    Column("state_grain_t", "float64", "t", "state grain stocks"),
    Column("capital_a_rub", "float64", "rub (1926/27 prices)", "Group A fixed capital"),
    Column("capital_b_rub", "float64", "rub (1926/27 prices)", "Group B fixed capital"),
    Column("utilisation", "float64", "share", "capacity in use (post-civil-war restoration)"),
    Column("tractors_hp", "float64", "hp", "tractor power (MTS and sovkhozy)"),
    Column("free_price_ratio", "float64", "ratio", "free-market grain price over the state price"),
    Column("urban_food_ratio", "float64", "share", "urban food energy against need"),
    Column("goods_availability", "float64", "index, 1926/27 = 1", "consumer goods per rural person"),
)
