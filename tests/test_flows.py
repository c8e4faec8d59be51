"""The month's flows are declared once (``engine.flows``); everything that names them agrees
with the declaration (issue 14, "The month is declared once")."""

import numpy as np

from sovsim.engine import accounts, flows, schedule
from sovsim.engine.flows import GRAIN_IN, GRAIN_OUT, SCALAR_FLOWS, UNIT_FLOWS, U
from sovsim.engine.packed import CHOICE_CODES, param_record
from sovsim.households import engine_kernels as K
from sovsim.mechanisms.demography import unit_labels
from sovsim.params import load_parameters
from sovsim.scenario.instruments import catalogue
from sovsim.state import initial_state

UNIT = {f.name: f for f in UNIT_FLOWS}


def test_rows_are_generated_from_the_declaration():
    at = 0
    for i, f in enumerate(UNIT_FLOWS):
        assert U[i] == getattr(U, f.name) == at
        at += f.rows
    assert at == flows.N_UNIT_OUT
    assert len(SCALAR_FLOWS) == flows.N_SCALAR_OUT
    assert schedule.scratch(3, _labels()).uo.shape == (at, 3)


def test_grain_balance_terms_are_the_declared_grain_flows():
    names_in = {f.name for f in UNIT_FLOWS if f.kind == "grain_in"}
    names_out = {f.name for f in UNIT_FLOWS if f.kind == "grain_out"}
    assert names_in == {"harvest_t", "relief_t", "seed_loan_t", "food_loan_t"}
    assert names_out == {"seed_t", "feed_t", "food_t", "procured_t", "private_sales_t",
                         "losses_t", "confiscated_t", "loan_repaid_t"}
    assert set(GRAIN_IN) == {U._asdict()[n] for n in names_in}
    assert set(GRAIN_OUT) == {U._asdict()[n] for n in names_out}


def test_every_flow_is_used():
    """A declared flow that nothing reads is dead weight: each is a term of the grain balance,
    booked by the accounts, read by the household engine's per-cell inputs, or read by name
    in the household flows (``month_inputs.cell_flows``)."""
    read_by_cells = {name for c in K.CELL_INPUTS for name in c.reads}
    booked_by_hand = {"kcal", "area_harvested_ha"}  # (accounts.book_month: weighted, filtered)
    cell_flows = {"births", "deaths", "migrants", "returners", "deported_persons",
                  "confiscated_t", "harvest_t", "losses_t", "relief_t", "procured_t"}
    for f in UNIT_FLOWS:
        used = (f.kind in ("grain_in", "grain_out") or f.ledger or f.name in read_by_cells
                or f.name in booked_by_hand or f.name in cell_flows)
        assert used, f"flow {f.name} is declared but nothing reads it"


def test_household_inputs_read_declared_flows():
    for c in K.CELL_INPUTS:
        for name in c.reads:
            assert name in UNIT, f"cell input {c.name} reads {name}, not a declared flow"
    assert sum(c.width for c in K.CELL_INPUTS) == K.N_CP
    assert K.CP.sh == K.N_CP - 1


def test_accounts_book_each_flow_into_its_declared_series():
    """Each flow with a ``ledger`` is summed by region into those series, and nothing else
    of the month's flows goes there: a flow of 1 in every unit books each unit once."""
    pv = load_parameters().values()
    h, macro = initial_state(pv)
    lab = h.labelled(unit_labels)
    n_units = len(h)
    for i, f in enumerate(UNIT_FLOWS):
        if not f.ledger:
            continue
        uo = np.zeros((flows.N_UNIT_OUT, n_units))
        uo[U[i]] = 1.0
        regional = np.zeros((len(accounts.REGIONAL_SERIES), len(np.unique(h["region"]))))
        scalars = np.zeros(len(accounts.SCALAR_SERIES))
        base = regional.copy()
        accounts.book_month(base, scalars, h.values, lab, macro.values, param_record(pv),
                            np.zeros_like(uo), np.zeros(flows.N_SCALAR_OUT))
        accounts.book_month(regional, scalars, h.values, lab, macro.values, param_record(pv),
                            uo, np.zeros(flows.N_SCALAR_OUT))
        changed = {accounts.REGIONAL_SERIES[k] for k in np.flatnonzero(
            np.abs(regional - base).sum(axis=1) > 0)}
        by_hand = {"area_harvested_ha": {"individual_area_ha"}}.get(f.name, set())
        assert set(f.ledger) <= changed <= set(f.ledger) | by_hand, f.name
        for series in f.ledger:
            k = accounts.REGIONAL_SERIES.index(series)
            assert (regional[k] - base[k]).sum() == n_units


def test_accounts_scalars_are_flows_or_state():
    for name in accounts.SCALAR_SERIES:
        assert name in flows.SCALAR_BY_NAME or name in accounts._FROM_MACRO


def test_kinds_are_declared():
    for f in UNIT_FLOWS + SCALAR_FLOWS:
        assert f.kind in flows.KINDS and f.doc and f.unit


def test_choices_are_coded_in_the_catalogue_order():
    """One code space: the timeline codes a choice by its place in instruments.toml, and the
    kernels read the same codes (no translation on the way)."""
    for name, inst in catalogue().items():
        if inst.kind == "choice":
            assert tuple(inst.choices) == CHOICE_CODES[name]


def _labels():
    h, _ = initial_state(load_parameters().values())
    return h.labelled(unit_labels)
