"""Mesa 3 beside the household engine: the same monthly household rule as agents (issue 3).

The rule is the household engine's core of a month for a household farming alone, written
three ways on the same households (sovsim's synthetic population of 1921) and the same
inputs (the shipped parameters; the historical scenario's instruments in force):

- ``Village`` / ``Household``: a Mesa 3 model, one ``mesa.Agent`` a household, its ``step``
  the rule in plain Python (the way an agent-based model is written);
- ``rule_numpy``: the rule over numpy columns (the reference the tests hold both to);
- ``rule_numba``: the rule compiled over the columns, in parallel (sovsim's way).

The rule, each month: **sowing** in April (spring crops) and September (winter crops), the
area that the household's workers, horses and hands can till, as far as its seed lasts;
the **harvest**, the standing crop set in July (area x its region's yield x the household's
yield shock) and brought in over July-September, less losses; the **delivery** in quota
months, a quota set in August on the planned harvest (area x planned yield x the individual
farms' quota factor), paid at the enforcement efficiency out of the grain in hand; and
**food**, the year's norm over twelve, as far as grain lasts.

``compare`` times the Mesa model (agent-months a second), the compiled rule
(household-months a second) and prints their ratio; ``sovsim bench --households N`` calls
it when Mesa is installed and sets beside it the household engine's own rate (its whole
month: the cell model, every flow, the draws, the alignment), a second ratio. The issue's aim
is 300x. Mesa is not a dependency of sovsim (``pip install mesa`` for this benchmark).
"""

from __future__ import annotations

import time

import numba
import numpy as np

N_STATE = 8  # columns of the state: see STATE
STATE = ("persons", "horses", "area", "area_last", "crop", "grain", "due", "yield_t_per_ha")
PERSONS, HORSES, AREA, AREA_LAST, CROP, GRAIN, DUE, YIELD = range(N_STATE)
START = "1932-01"  # the months run: a year of quotas (historical scenario)


def constants(months: int, start: str = START) -> tuple[np.ndarray, np.ndarray]:
    """The rule's constants from the shipped parameters, and its inputs month by month
    (calendar month, sowing season share, harvest share of the crop still standing, quota
    share, planned yield, enforcement efficiency) from the historical scenario."""
    from sovsim import calendar
    from sovsim.api import shipped_parameters
    from sovsim.mechanisms.policy import instruments_by_month
    from sovsim.scenario import load_scenario

    p = shipped_parameters()
    k = np.array([
        p["agriculture.workers_per_person"], p["agriculture.ha_per_worker"],
        p["agriculture.ha_per_horse"], p["agriculture.manual_ha_per_worker"],
        p["agriculture.seed_norm_t_per_ha"],
        p["procurement.food_norm_kg_per_person_year"] / 1000.0 / 12.0,
        p["agriculture.harvest_loss_share"], p["procurement.individual_quota_factor"],
    ])
    winter = p["agriculture.winter_crop_share"]
    july, august = p["agriculture.harvest_share_july"], p["agriculture.harvest_share_august"]
    ins = instruments_by_month(load_scenario("historical").timeline())
    first = calendar.parse_month(start)
    rows = []
    for m in range(first, first + months):
        cm = calendar.calendar_month(m)
        pol = ins[m % calendar.N_MONTHS]
        season = winter if cm == 9 else (1 - winter if cm == 4 else 0.0)
        harvest = {7: july, 8: august / (1 - july), 9: 1.0}.get(cm, 0.0)
        quota = pol["procurement_mode"] == "quota"
        share, planned = float(np.mean(pol["quota_share"])), float(
            np.mean(pol["planned_yield_t_per_ha"]))
        norm = float(np.mean(pol["delivery_norm_t_per_ha"]))  # issue 15 (measures)
        if norm > 0:  # a per-hectare delivery norm: the obligation is norm x area
            share, planned = 1.0, norm
        rows.append([cm, season, harvest, share if quota else 0.0, planned,
                     float(np.mean(pol["enforcement_efficiency"]))])
    return k, np.array(rows)


def initial_state(households: int, seed: int = 0) -> np.ndarray:
    """(households, N_STATE): sovsim's synthetic households of 1921, their grain by the
    initial stock per person, their yield their region's base yield times a log-normal shock
    (``households.yield_shock_sd``)."""
    from sovsim.api import shipped_parameters
    from sovsim.population.build import build_population

    p = shipped_parameters()
    pop = build_population(households, year=1921, seed=seed)
    x = np.zeros((len(pop), N_STATE))
    x[:, PERSONS] = pop["persons"]
    x[:, HORSES] = pop["horses"]
    x[:, AREA_LAST] = pop["sown_area_ha"]
    x[:, GRAIN] = pop["persons"] * p["initial.grain_stock_kg_per_person"] / 1000.0
    shock = np.random.default_rng([seed, 0x3E5A]).lognormal(
        0.0, p["households.yield_shock_sd"], len(pop))
    x[:, YIELD] = p["agriculture.base_yield_t_per_ha"][pop["region"]] * shock
    return x


def _month(x, k, m):
    """The rule for one household (``x``: its state, a list or a row) in a month (``m``: the
    month's inputs); returns nothing, changes ``x``. Plain Python: the Mesa agents call it."""
    cm, season, harvest, quota_share, planned_yield, eff = m
    wpp, ha_worker, ha_horse, manual, seed_norm, food_month, loss, quota_factor = k
    if season > 0.0:  # sowing, as far as the seed lasts
        workers = x[PERSONS] * wpp
        can = min(workers * ha_worker, x[HORSES] * ha_horse + workers * manual) * season
        sown = min(can, x[GRAIN] / seed_norm)
        x[AREA] += sown
        x[GRAIN] -= sown * seed_norm
    if cm == 7:  # the crop of the year stands
        x[CROP] = x[AREA] * x[YIELD]
        x[AREA_LAST] = x[AREA]
        x[AREA] = 0.0
    if harvest > 0.0:
        got = x[CROP] * harvest
        x[CROP] -= got
        x[GRAIN] += got * (1.0 - loss)
    if cm == 8:  # the quota, on the planned harvest
        x[DUE] = quota_share * x[AREA_LAST] * planned_yield * quota_factor
    if x[DUE] > 0.0:
        paid = min(x[DUE], eff * x[GRAIN])
        x[DUE] -= paid
        x[GRAIN] -= paid
    x[GRAIN] -= min(x[GRAIN], x[PERSONS] * food_month)


def rule_numpy(x: np.ndarray, k: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """The rule over numpy columns, month by month; returns the new state."""
    x = x.copy()
    wpp, ha_worker, ha_horse, manual, seed_norm, food_month, loss, quota_factor = k
    for cm, season, harvest, quota_share, planned_yield, eff in inputs:
        if season > 0.0:
            workers = x[:, PERSONS] * wpp
            can = np.minimum(workers * ha_worker, x[:, HORSES] * ha_horse + workers * manual)
            sown = np.minimum(can * season, x[:, GRAIN] / seed_norm)
            x[:, AREA] += sown
            x[:, GRAIN] -= sown * seed_norm
        if cm == 7:
            x[:, CROP] = x[:, AREA] * x[:, YIELD]
            x[:, AREA_LAST] = x[:, AREA]
            x[:, AREA] = 0.0
        if harvest > 0.0:
            got = x[:, CROP] * harvest
            x[:, CROP] -= got
            x[:, GRAIN] += got * (1.0 - loss)
        if cm == 8:
            x[:, DUE] = quota_share * x[:, AREA_LAST] * planned_yield * quota_factor
        paid = np.where(x[:, DUE] > 0.0, np.minimum(x[:, DUE], eff * x[:, GRAIN]), 0.0)
        x[:, DUE] -= paid
        x[:, GRAIN] -= paid
        x[:, GRAIN] -= np.minimum(x[:, GRAIN], x[:, PERSONS] * food_month)
    return x


# (not cached on disk: this file is loaded by path, and numba's cache of a parallel kernel
# names its module, which must then be importable)
@numba.njit(parallel=True, error_model="numpy")
def rule_numba(x, k, inputs):
    """The rule compiled, in place: month by month (as the household engine goes), the
    households of a month in parallel."""
    for t in range(inputs.shape[0]):
        cm, season, harvest = inputs[t, 0], inputs[t, 1], inputs[t, 2]
        quota_share, planned_yield, eff = inputs[t, 3], inputs[t, 4], inputs[t, 5]
        for i in numba.prange(x.shape[0]):
            if season > 0.0:
                workers = x[i, PERSONS] * k[0]
                can = min(workers * k[1], x[i, HORSES] * k[2] + workers * k[3]) * season
                sown = min(can, x[i, GRAIN] / k[4])
                x[i, AREA] += sown
                x[i, GRAIN] -= sown * k[4]
            if cm == 7.0:
                x[i, CROP] = x[i, AREA] * x[i, YIELD]
                x[i, AREA_LAST] = x[i, AREA]
                x[i, AREA] = 0.0
            if harvest > 0.0:
                got = x[i, CROP] * harvest
                x[i, CROP] -= got
                x[i, GRAIN] += got * (1.0 - k[6])
            if cm == 8.0:
                x[i, DUE] = quota_share * x[i, AREA_LAST] * planned_yield * k[7]
            if x[i, DUE] > 0.0:
                paid = min(x[i, DUE], eff * x[i, GRAIN])
                x[i, DUE] -= paid
                x[i, GRAIN] -= paid
            x[i, GRAIN] -= min(x[i, GRAIN], x[i, PERSONS] * k[5])


def village(x: np.ndarray, k: np.ndarray, seed: int = 0):
    """The Mesa model of the households ``x`` (each agent holds its state as a list)."""
    import mesa

    class Household(mesa.Agent):
        def __init__(self, model, state):
            super().__init__(model)
            self.state = state

        def step(self):
            _month(self.state, self.model.k, self.model.inputs)

    class Village(mesa.Model):
        def __init__(self):
            super().__init__(seed=seed)
            self.k = tuple(float(v) for v in k)
            self.inputs = None
            for row in x:
                Household(self, [float(v) for v in row])

        def step(self):
            self.agents.do("step")

    return Village()


def run_mesa(x: np.ndarray, k: np.ndarray, inputs: np.ndarray) -> tuple[np.ndarray, float]:
    """Run the Mesa model over ``inputs``' months; returns the final state and the seconds
    of the months (building the agents not counted)."""
    model = village(x, k)
    t0 = time.perf_counter()
    for row in inputs:
        model.inputs = tuple(float(v) for v in row)
        model.step()
    seconds = time.perf_counter() - t0
    return np.array([a.state for a in model.agents]), seconds


def compare(households: int = 100_000, months: int = 12, seed: int = 0, repeat: int = 20
            ) -> dict:
    """Time the Mesa model and the compiled rule on the same households and months."""
    import mesa

    k, inputs = constants(months)
    x = initial_state(households, seed)
    mesa_state, mesa_s = run_mesa(x, k, inputs)
    y = x.copy()
    rule_numba(y, k, inputs)  # load (or compile) the kernel
    best = np.inf
    for _ in range(repeat):
        y = x.copy()
        t0 = time.perf_counter()
        rule_numba(y, k, inputs)
        best = min(best, time.perf_counter() - t0)
    if not np.allclose(mesa_state, y, rtol=1e-9, atol=1e-9):
        raise AssertionError("the Mesa agents and the compiled rule disagree")
    hm = x.shape[0] * months
    return {"mesa_version": mesa.__version__, "agents": x.shape[0], "months": months,
            "mesa_s": mesa_s, "mesa_agent_months_per_s": hm / mesa_s,
            "rule_s": best, "rule_household_months_per_s": hm / best,
            "rule_speedup": mesa_s / best}


if __name__ == "__main__":
    import json

    print(json.dumps(compare(), indent=1))
