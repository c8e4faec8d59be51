"""State grain (mechanisms.state_grain): the army, the towns, the other state users, exports,
the reserve, the loans and their repayment."""

import numpy as np
import pytest

from sovsim.engine.packed import memory
from sovsim.mechanisms.state_grain import allocate, repayments
from sovsim.regions import REGIONS
from sovsim.state.table import FOOD_RATIO, GRAIN

USES = ("army_t", "rations_workers_t", "rations_dependants_t", "commercial_sales_t", "gulag_t",
        "settlements_t", "cotton_zones_t", "timber_construction_t", "state_seed_feed_t",
        "exports_t")
UNIT_USES = ("relief_t", "seed_loan_t", "food_loan_t")


def _allocate(world, pol, stock=5e6, cm=3, hungry=False, mem=None, hv=None):
    hv = world.hv() if hv is None else hv
    if hungry:
        hv[FOOD_RATIO, : hv.shape[1] // 2] = 0.5
    mem = memory() if mem is None else mem
    to_harvest = (7 - cm) % 12 or 12
    return allocate(hv, world.lab, stock, world.macro.values[0].urban_persons, world.p, pol,
                    cm, to_harvest, 0.0, mem[0]), mem


def _spent(al):
    return (sum(getattr(al, k) for k in USES) + sum(getattr(al, k).sum() for k in UNIT_USES)
            + al.to_reserve_t)


def _region_units(world, name):
    return np.asarray(world.h["region"]) == REGIONS.index(name)


def test_a_higher_export_target_exports_more(world):
    low, _ = _allocate(world, world.pol("1930-09", grain_export_target_t=1e6), cm=9)
    high, _ = _allocate(world, world.pol("1930-09", grain_export_target_t=5e6), cm=9)
    assert high.exports_t > low.exports_t


def test_relief_goes_to_the_hungry(world):
    """Famine relief is shared by the food deficit: units that eat enough get none."""
    pol = world.pol("1933-03", famine_relief_t=1e6)
    al, _ = _allocate(world, pol, hungry=True)
    n = al.relief_t.size
    assert al.relief_t[: n // 2].sum() > 0
    assert al.relief_t[n // 2:].sum() == 0


def test_the_army_is_fed_first(world):
    """With little grain the army's ration comes before the towns'."""
    pol = world.pol("1925-03")
    al, _ = _allocate(world, pol, stock=world.p.state_grain_army_t_per_year / 24)
    assert al.army_t > 0 and al.rations_workers_t + al.commercial_sales_t == 0


@pytest.mark.parametrize("stock", [0.0, 1e4, 3e5, 2e6, 5e7])
def test_the_stock_never_goes_negative_and_uses_add_up(world, stock):
    """Whatever the claims (loans, relief, exports, the camps, a reserve to fill), the month
    never spends more than the stock; each use is non-negative."""
    pol = world.pol("1933-03", famine_relief_t=5e6, grain_export_target_t=1e7,
                    gulag_persons=2e6, state_reserve_target_t=3e6,
                    seed_loan_t_per_month=np.full(len(REGIONS), 4e5),
                    food_loan_t_per_month=np.full(len(REGIONS), 4e5))
    al, mem = _allocate(world, pol, stock=stock, hungry=True)
    spent = _spent(al)
    assert spent <= stock * (1 + 1e-12) + 1e-9
    for k in USES:
        assert getattr(al, k) >= 0
    for k in UNIT_USES:
        assert (getattr(al, k) >= 0).all()
    assert mem[0].reserve_t == pytest.approx(al.to_reserve_t)


def test_the_reserve_is_not_drawn_on(world):
    """Grain in the untouchable reserve feeds no ration, loan or export."""
    mem = memory()
    mem[0].reserve_t = 3e6
    pol = world.pol("1933-03", grain_export_target_t=1e7, state_reserve_target_t=3e6,
                    food_loan_t_per_month=np.full(len(REGIONS), 1e6))
    al, mem = _allocate(world, pol, stock=3e6, mem=mem)
    assert _spent(al) == pytest.approx(0.0, abs=1e-6)
    assert mem[0].reserve_t == pytest.approx(3e6)
    # lowering the decided size releases it to the working stock (used from the next month)
    al, mem = _allocate(world, world.pol("1933-03", state_reserve_target_t=0.0), stock=3e6,
                        mem=mem)
    assert al.to_reserve_t == pytest.approx(-3e6)
    assert mem[0].reserve_t == pytest.approx(0.0)
    al, mem = _allocate(world, world.pol("1933-04", state_reserve_target_t=0.0), stock=3e6,
                        mem=mem)
    assert al.army_t > 0


def test_a_loan_goes_to_its_region_and_is_owed(world):
    loans = np.zeros(len(REGIONS))
    loans[REGIONS.index("kazakhstan")] = 1e5
    al, mem = _allocate(world, world.pol("1933-03", seed_loan_t_per_month=loans), stock=5e6)
    kaz = _region_units(world, "kazakhstan")
    assert al.seed_loan_t[kaz].sum() == pytest.approx(1e5)
    assert al.seed_loan_t[~kaz].sum() == 0
    assert mem[0].loans_outstanding_t[REGIONS.index("kazakhstan")] == pytest.approx(1e5)


def test_a_loan_is_repaid_from_the_next_harvest(world):
    """What a region owes is collected in August-October from its villages' grain above the
    floor, and only there; a deferral (share 0) collects nothing."""
    r = REGIONS.index("ukraine")
    owed = np.zeros(len(REGIONS))
    owed[r] = 2e5
    hv = world.hv()
    hv[GRAIN] += 1e6  # a good harvest in every village
    paid = 0.0
    for cm in (7, 8, 9, 10, 11):
        pol = world.pol(f"1933-{cm:02d}")
        rows = repayments(hv, world.lab, world.p, pol, cm, (7 - cm) % 12 or 12, owed)
        ukr = _region_units(world, "ukraine")
        assert rows[~ukr].sum() == 0
        if cm in (7, 11):
            assert rows.sum() == 0
        owed[r] -= rows.sum()
        paid += rows.sum()
    assert paid == pytest.approx(2e5)
    assert owed[r] == pytest.approx(0.0, abs=1e-6)
    owed[r] = 2e5
    deferred = world.pol("1933-08", loan_repayment_share=np.zeros(len(REGIONS)))
    assert repayments(hv, world.lab, world.p, deferred, 8, 11, owed).sum() == 0


def test_repayment_is_bounded_by_the_villages_grain(world):
    """A region with no grain above the floor repays nothing; the debt stays owed."""
    hv = world.hv()
    hv[GRAIN] = 0.0
    owed = np.full(len(REGIONS), 1e5)
    assert repayments(hv, world.lab, world.p, world.pol("1933-09"), 9, 10, owed).sum() == 0
