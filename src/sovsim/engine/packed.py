"""The run's inputs as numpy records, for the compiled month (``engine.schedule``).

The compiled month reads parameters and instruments by name, as attributes of a record:
``p.procurement_food_norm_kg_per_person_year`` is the parameter
``procurement.food_norm_kg_per_person_year`` (the group's dot becomes an underscore), and
``pol.procurement_mode`` the instrument of that name in the month. numba compiles an attribute
to a fixed offset, so reading a parameter costs what reading an array element costs.

- ``param_record(pv)``: the parameter values as one record (regional ones as sub-arrays);
- ``instrument_records(timeline)``: the scenario's instruments, one record per month, for the
  cell run and the household engine alike; a choice keeps the timeline's code, its place
  among the instrument's choices in instruments.toml, which is the kernels' code too
  (``CHOICE_CODES``: checked when the layout is made), a switch is a bool;
- ``memory()``: what the schedule carries from month to month beside the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from functools import lru_cache

import numpy as np

from sovsim.mechanisms.allen_migration import RULES
from sovsim.mechanisms.procurement import MODES
from sovsim.regions import REGIONS
from sovsim.scenario.instruments import catalogue

# What the schedule carries from month to month beside the state (running sums).
MEMORY_DTYPE = np.dtype([
    ("market_ratio", "f8"),  # smoothed marketings over the towns' need
    ("exported_in_year", "f8"),  # this agricultural year's grain exports (t)
    ("relief_in_year", "f8"),  # and famine relief (t)
    ("gdp_rub_month", "f8"),  # last month's gross output
    ("harvest_value_rub", "f8"),  # the year's harvest at 1926/27 prices
    # issue 15 (kazakh): the share of each region's nomadic households settled so far
    ("settled_share", "f8", (len(REGIONS),)),
    # issue 15 (stategrain): the untouchable reserve within the state's stock (t), and the
    # seed and food loans each region owes the state (t)
    ("reserve_t", "f8"),
    ("loans_outstanding_t", "f8", (len(REGIONS),)),
    # issue 15 (births): the towns' food factor of conception, by trimester of pregnancy
    # (mechanisms.demography.conceive; the villages' is in the state, rows fecundity_1..3)
    ("urban_fecundity_1", "f8"),
    ("urban_fecundity_2", "f8"),
    ("urban_fecundity_3", "f8"),
])


def memory() -> np.recarray:
    """A fresh memory (one record): market ratio 1, the sums 0."""
    mem = np.zeros(1, MEMORY_DTYPE).view(np.recarray)
    mem.market_ratio[0] = 1.0
    for k in (1, 2, 3):  # issue 15 (births): full fecundity at the start
        mem[f"urban_fecundity_{k}"][0] = 1.0
    return mem


def field_name(parameter: str) -> str:
    """``group.name`` -> ``group_name``: the record field of a parameter."""
    return parameter.replace(".", "_")


@lru_cache(maxsize=8)
def _param_dtype(layout: tuple[tuple[str, tuple[int, ...]], ...]) -> np.dtype:
    fields = [(field_name(name), "f8", shape) if shape else (field_name(name), "f8")
              for name, shape in layout]
    names = [f[0] for f in fields]
    if len(set(names)) != len(names):
        clash = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"parameters whose names differ only by '.' and '_': {clash}")
    return np.dtype(fields)


def param_record(pv: Mapping) -> np.recarray:
    """The parameter values ``pv`` (name -> number or array) as one record, kept on ``pv``
    (a ``ParamValues``) once made."""
    made = getattr(pv, "_record", None)
    if made is not None:
        return made
    layout = tuple((name, () if isinstance(value, float) else np.shape(value))
                   for name, value in pv.items())
    dtype = _param_dtype(layout)
    flat: list[float] = []
    for value in pv.values():  # (a list first: numpy per value costs more than the run's month)
        if isinstance(value, float):
            flat.append(value)
        else:
            flat.extend(np.asarray(value, dtype=float).ravel().tolist())
    rec = np.array(flat).view(dtype).view(np.recarray)  # (every field a float: one row of them)
    rec.setflags(write=False)
    with suppress(AttributeError):  # a plain dict: not kept
        pv._record = rec
    return rec


# The kernels' codes of each choice instrument: the place of a choice in the tuple.
CHOICE_CODES = {"procurement_mode": MODES,
                "migration_rule": RULES}  # issue 17 (respond)


@lru_cache(maxsize=1)
def _instrument_layout() -> tuple[np.dtype, tuple]:
    fields, order = [], []
    for name, inst in catalogue().items():
        if inst.regional:
            fields.append((name, "f8", (len(REGIONS),)))
        elif inst.kind == "choice":
            if tuple(inst.choices) != CHOICE_CODES.get(name):
                raise ValueError(
                    f"instruments.toml: the choices of {name} {tuple(inst.choices)} are not the "
                    f"kernels' codes {CHOICE_CODES.get(name)} (engine.packed.CHOICE_CODES)")
            fields.append((name, "i8"))
        elif inst.kind == "bool":
            fields.append((name, "?"))
        else:
            fields.append((name, "f8"))
        order.append((name, inst))
    return np.dtype(fields), tuple(order)


def instrument_records(timeline: Mapping[str, np.ndarray]) -> np.recarray:
    """The instruments of every month of ``timeline`` (name -> (months, k) values, as
    ``Scenario.timeline``), one record per month."""
    dtype, order = _instrument_layout()
    months = len(next(iter(timeline.values())))
    out = np.zeros(months, dtype).view(np.recarray)
    for name, inst in order:
        col = np.asarray(timeline[name])
        if inst.regional:
            out[name] = col
        elif inst.kind == "choice":  # the timeline's code is the kernels'
            out[name] = col[:, 0].astype(np.int64)
        elif inst.kind == "bool":
            out[name] = col[:, 0] != 0
        else:
            out[name] = col[:, 0]
    out.setflags(write=False)
    return out
