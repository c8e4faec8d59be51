"""HouseholdTable and MacroState, and the initial state at a chosen resolution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from sovsim.compiled import kernel
from sovsim.params import ParameterSet
from sovsim.regions import CLASSES, REGIONS, TENURES
from sovsim.state.schema import HOUSEHOLD_COLUMNS, MACRO_COLUMNS

EXTENSIVE = tuple(c.name for c in HOUSEHOLD_COLUMNS if c.extensive)
LABEL_COLUMNS = tuple(c.name for c in HOUSEHOLD_COLUMNS if c.dtype == "int64")
# The float columns, extensive first, so that the extensive ones are one slice of the block.
FLOAT_COLUMNS = EXTENSIVE + tuple(c.name for c in HOUSEHOLD_COLUMNS
                                  if c.dtype == "float64" and not c.extensive)
ROW = {name: i for i, name in enumerate(FLOAT_COLUMNS)}
_EXT = slice(0, len(EXTENSIVE))
N_EXTENSIVE = len(EXTENSIVE)
# The rows of the block by name, for the compiled month (``hv[PERSONS]`` is ``h["persons"]``).
(HOUSEHOLDS, PERSONS, SOWN, AREA_LAST, CROP, HORSES, CATTLE, PIGS, SHEEP_GOATS, GRAIN,
 DELIVERED, FOOD_RATIO, RETAINED, DEPLETION) = (ROW[name] for name in (
    "households", "persons", "sown_area_ha", "area_last_ha", "crop_t", "horses", "cattle",
    "pigs", "sheep_goats", "grain_t", "delivered_t", "food_ratio", "retained_kg",
    "famine_depletion"))
# issue 15 (births): the three trimesters of the food factor of conception (``FECUNDITY + k``)
FECUNDITY = ROW["fecundity_1"]
HERD_ROWS = HORSES  # the four herds are rows HORSES .. HORSES + 3, in HERDS order


class HouseholdTable:
    """Numpy columns, one row per household unit.

    The float columns are the rows of one (columns, units) block, ``values``, so that what
    is done to every column (moving households between units, the checks of the invariants)
    is one numpy call, not one per column; ``h[name]`` is a view of its row, and assigning
    ``h[name] = x`` writes ``x`` into that row. The labels (region, class, tenure) are int
    columns; a unit never changes its labels (moving households moves totals between units),
    so masks such as ``h.is_tenure(KOL)`` are kept once made.
    """

    __slots__ = ("_masks", "cols", "values")

    def __init__(self, cols: dict[str, np.ndarray]) -> None:
        self.values = np.array([np.asarray(cols[name], dtype=float) for name in FLOAT_COLUMNS])
        self.cols = {name: np.asarray(cols[name], dtype=np.int64) for name in LABEL_COLUMNS}
        self.cols.update((name, self.values[i]) for i, name in enumerate(FLOAT_COLUMNS))
        self._masks: dict = {}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        row = ROW.get(name)
        if row is None:  # a label column: replaced, and the masks made from it dropped
            self.cols[name] = np.asarray(value, dtype=np.int64)
            self._masks.clear()
        elif value is not self.cols[name]:  # (``h[name] += x`` has already written the row)
            self.values[row] = value

    def __len__(self) -> int:
        return self.values.shape[1]

    def copy(self) -> HouseholdTable:
        return self.with_values(self.values.copy())

    def with_values(self, values: np.ndarray) -> HouseholdTable:
        """A table of the same units (labels, and what was made of them, shared) holding
        ``values`` (a float block of the same shape, not copied)."""
        new = HouseholdTable.__new__(HouseholdTable)
        new.values = values
        new.cols = dict(self.cols)
        new.cols.update((name, values[i]) for i, name in enumerate(FLOAT_COLUMNS))
        new._masks = self._masks
        return new

    def is_tenure(self, tenure: int) -> np.ndarray:
        """Boolean mask of the units of ``tenure`` (an index into TENURES); kept once made."""
        return self._mask("tenure", tenure)

    def is_class(self, klass: int) -> np.ndarray:
        """Boolean mask of the units of class ``klass`` (an index into CLASSES)."""
        return self._mask("klass", klass)

    def labelled(self, make: Callable[[HouseholdTable], Any]) -> Any:
        """``make(self)``: a value of the label columns alone (such as the rows of kulak
        households), made once and kept while the labels stand."""
        value = self._masks.get(make)
        if value is None:
            value = self._masks[make] = make(self)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)  # shared by every caller
        return value

    def _mask(self, column: str, code: int) -> np.ndarray:
        key = (column, code)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks[key] = self.cols[column] == code
            mask.setflags(write=False)
        return mask

    def move(self, src: np.ndarray, dst: np.ndarray, frac: np.ndarray) -> None:
        """Move share ``frac`` of each unit ``src`` (all its totals) to unit ``dst``."""
        move_totals(self.values[_EXT], src, dst, frac)  # every extensive column at once


@kernel
def move_totals(totals, src, dst, frac):
    """Move share ``frac`` of each unit ``src`` (every row of ``totals``) to unit ``dst``."""
    amount = totals[:, src] * frac
    for col in range(totals.shape[0]):
        for k in range(src.size):  # one at a time, so a unit may appear twice
            totals[col, src[k]] -= amount[col, k]
        for k in range(dst.size):
            totals[col, dst[k]] += amount[col, k]
        for unit in range(totals.shape[1]):
            # Guard rounding below zero (tiny, never material); an ``if``, not ``max``, so
            # that a NaN stays for the invariant check to find.
            if totals[col, unit] < 0.0:  # noqa: PLR1730
                totals[col, unit] = 0.0


MACRO_DTYPE = np.dtype([(c.name, "f8") for c in MACRO_COLUMNS])


class MacroState:
    """The macro state: one record (``values[0]``, fields as in MACRO_COLUMNS) that the
    compiled month reads and writes in place; ``macro[name]`` reads a field as a float."""

    __slots__ = ("values",)

    def __init__(self, values: np.recarray | None = None) -> None:
        self.values = (np.zeros(1, MACRO_DTYPE).view(np.recarray) if values is None
                       else values)

    def __getitem__(self, name: str) -> float:
        return float(self.values[name][0])

    def __setitem__(self, name: str, value: float) -> None:
        self.values[name][0] = float(value)

    def items(self):
        return ((name, self[name]) for name in MACRO_DTYPE.names)

    def copy(self) -> MacroState:
        return MacroState(self.values.copy())


class Labels(NamedTuple):
    """What the compiled month needs of the label columns, made once per table (a unit never
    changes its labels): masks, and the units that deportation and collectivization move."""

    region: np.ndarray
    tenure: np.ndarray
    individual: np.ndarray  # bool masks ...
    kolkhoz: np.ndarray
    deported: np.ndarray
    kulak: np.ndarray
    middle: np.ndarray
    farming: np.ndarray  # 1.0 where the unit farms (all but the deported), else 0.0
    kulak_units: np.ndarray  # individual kulak units (whom dekulakization deports) ...
    settlement_units: np.ndarray  # ... the deported unit of each (same region and class) ...
    settlement_kolkhoz: np.ndarray  # ... and the kolkhoz unit that gets their land
    move_src: np.ndarray  # units entering kolkhozy, then kolkhoz units (leaving, if allowed)
    move_dst: np.ndarray
    n_entering: int


def cell_index(region: int, klass: int, tenure: int) -> int:
    return (region * len(CLASSES) + klass) * len(TENURES) + tenure


def initial_state(p: ParameterSet) -> tuple[HouseholdTable, MacroState]:
    """The economy of January 1921 at cell resolution, from the initial-state parameters."""
    n_r, n_k, n_t = len(REGIONS), len(CLASSES), len(TENURES)
    n = n_r * n_k * n_t
    idx = np.arange(n)
    region = idx // (n_k * n_t)
    klass = (idx // n_t) % n_k
    tenure = idx % n_t
    indiv = (tenure == 0).astype(float)

    rural = p["initial.population_persons"] * (1 - p["initial.urban_share"])
    rural_r = rural * p["initial.rural_population_region_share"]
    class_share = np.array([p[f"initial.{k}_household_share"] for k in CLASSES])
    size = np.array([p[f"initial.{k}_household_size_persons"] for k in CLASSES])
    # households of class k in region r: persons split by class share x size
    persons_share = class_share * size / (class_share * size).sum()
    persons = rural_r[region] * persons_share[klass] * indiv
    households = persons / size[klass]
    per_hh = {
        "horses": np.array([p[f"initial.horses_per_household_{k}"] for k in CLASSES]),
        "cattle": np.array([p[f"initial.cattle_per_household_{k}"] for k in CLASSES]),
        "sown_area_ha": np.array([p[f"initial.sown_area_per_household_{k}_ha"] for k in CLASSES]),
    }
    cols = {
        "region": region.astype(np.int64),
        "klass": klass.astype(np.int64),
        "tenure": tenure.astype(np.int64),
        "households": households,
        "persons": persons,
    }
    for name, arr in per_hh.items():
        cols[name] = households * arr[klass] * p[f"initial.{name}_region_factor"][region]
    # Pigs, sheep and goats: the 1921 totals spread by region share, within region by cattle.
    for name in ("pigs", "sheep_goats"):
        total_r = p[f"initial.{name}_head"] * p[f"initial.{name}_region_share"]
        cattle_r = np.bincount(region, weights=cols["cattle"], minlength=n_r)
        cols[name] = total_r[region] * cols["cattle"] / cattle_r[region]
    # In January the winter crops sown last autumn stand in the fields; spring sowing adds the rest.
    cols["sown_area_ha"] = cols["sown_area_ha"] * p["agriculture.winter_crop_share"]
    cols["area_last_ha"] = cols["sown_area_ha"] / p["agriculture.winter_crop_share"]
    cols["crop_t"] = np.zeros(n)
    cols["grain_t"] = persons * p["initial.grain_stock_kg_per_person"] / 1000.0
    cols["delivered_t"] = np.zeros(n)
    cols["food_ratio"] = np.ones(n)
    cols["retained_kg"] = np.full(n, p["initial.grain_stock_kg_per_person"])
    cols["famine_depletion"] = np.zeros(n)
    for k in (1, 2, 3):  # issue 15 (births): conceptions of 1920 at full fecundity
        cols[f"fecundity_{k}"] = np.ones(n)
    table = HouseholdTable(cols)
    macro = MacroState()
    macro["urban_persons"] = p["initial.population_persons"] * p["initial.urban_share"]
    macro["state_grain_t"] = p["initial.state_grain_t"]
    macro["capital_a_rub"] = p["industry.capital_1928_rub"] * p["industry.group_a_capital_share_1928"] * p["initial.capital_1921_relative_to_1928"]
    macro["capital_b_rub"] = p["industry.capital_1928_rub"] * (1 - p["industry.group_a_capital_share_1928"]) * p["initial.capital_1921_relative_to_1928"]
    macro["utilisation"] = p["initial.utilisation"]
    macro["tractors_hp"] = p["initial.tractors_hp"]
    macro["free_price_ratio"] = 1.0
    macro["urban_food_ratio"] = 1.0
    macro["goods_availability"] = p["initial.utilisation"]
    return table, macro
