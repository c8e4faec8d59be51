"""The two-sector neoclassical growth model with wedges of Cheremukhin, Golosov, Guriev and
Tsyvinski (NBER WP 19425, 2013), with PLACEHOLDER calibration.

Two sectors, farming (``a``) and the rest (``m``, which also makes the investment good)::

    Y_a = X_a K_a^alpha_k_a L_a^alpha_l_a          (land, fixed, takes the remaining share)
    Y_m = X_m K_m^alpha_k_m L_m^(1 - alpha_k_m)
    Y_a = N c_a,    Y_m = N c_m + K' - (1 - delta) K

Households value ``eta_a log(c_a - gamma_a) + (1 - eta_a) log(c_m)`` per head, discounted at
``beta``. Three wedges stand between the allocation and the undistorted one::

    MPL_m = (1 + tau_l) p MPL_a                    labour wedge (intersectoral)
    MPK_m = (1 + tau_k) p MPK_a                    capital wedge (intersectoral)
    u_m(t) = beta (1 - tau_i(t+1)) u_m(t+1) (1 - delta + MPK_m(t+1))   intertemporal wedge

where ``p`` is the price of the farm good, the households' marginal rate of substitution.
Given the paths of population, TFPs and wedges, ``solve`` finds the perfect-foresight path;
``welfare_change`` measures one path against another as a consumption equivalent.

The functional forms are our reading of "a two-sector neoclassical growth model" with "wedges
in the capital, labor and product markets" (the paper's abstract); the paper's own equations,
calibration (its appendix Table 1), measured wedges and TFPs were NOT reached. Every number
used here is a PLACEHOLDER from ``data/published/cggt.toml``; ``reproduce()`` reports the
published figures and never passes a placeholder result off as a reproduction.

Examples
--------
>>> cal, econ = placeholder_economy("tsarist", horizon=30)
>>> path = solve(cal, econ)
>>> bool(path.converged and (path.labour_share_farm > 0).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, root

from sovsim.errors import ParameterError
from sovsim.research.published.table import Row, cite, load_toml

DATA = "cggt.toml"
WHERE = "data/published/cggt.toml"
START_YEAR = 1928
SCENARIOS = ("tsarist", "stalin", "nep")


@dataclass(frozen=True)
class Calibration:
    beta: float
    delta: float
    eta_a: float
    gamma_a: float
    alpha_k_a: float
    alpha_l_a: float
    alpha_k_m: float


@dataclass(frozen=True)
class Economy:
    """Exogenous paths, one value a year from ``years[0]``; ``capital_0`` is K in year 0."""

    years: np.ndarray
    population: np.ndarray
    tfp_a: np.ndarray
    tfp_m: np.ndarray
    tau_l: np.ndarray
    tau_k: np.ndarray
    tau_i: np.ndarray
    capital_0: float


@dataclass(frozen=True)
class Solution:
    years: np.ndarray
    capital: np.ndarray
    labour_share_farm: np.ndarray
    c_a: np.ndarray
    c_m: np.ndarray
    output_m: np.ndarray
    converged: bool


def _static(cal: Calibration, K: float, N: float, inv: float, xa: float, xm: float,
            tl: float, tk: float) -> tuple[float, float, float, float]:
    """The within-year allocation: labour share in farming ``l_a`` solving the labour wedge, the
    capital share following from the ratio of the two wedges. Returns (l_a, c_a, c_m, Y_m)."""
    ak, al, mk = cal.alpha_k_a, cal.alpha_l_a, cal.alpha_k_m
    rho = (1 + tk) / (1 + tl) * (ak / al) * ((1 - mk) / mk)

    def parts(l_a: float) -> tuple[float, ...]:
        k = rho * l_a / (rho * l_a + 1 - l_a)
        ya = xa * (k * K) ** ak * (l_a * N) ** al
        ym = xm * ((1 - k) * K) ** mk * ((1 - l_a) * N) ** (1 - mk)
        return ya, ym, ya / N, (ym - inv) / N

    def resid(l_a: float) -> float:
        ya, ym, ca, cm = parts(l_a)
        if ca <= cal.gamma_a:
            return -1e3                      # farm good short of subsistence: p infinite
        if cm <= 0:
            return 1e3                       # nothing left of the other good: p <= 0
        p = (cal.eta_a / (ca - cal.gamma_a)) / ((1 - cal.eta_a) / cm)
        mpl_m = (1 - mk) * ym / ((1 - l_a) * N)
        mpl_a = al * ya / (l_a * N)
        return float(np.log(mpl_m) - np.log((1 + tl) * p * mpl_a))

    l_a = brentq(resid, 1e-9, 1 - 1e-9, xtol=1e-14)
    _, ym, ca, cm = parts(l_a)
    return l_a, ca, cm, ym


def _path(cal: Calibration, econ: Economy, k_next: np.ndarray) -> tuple[np.ndarray, ...]:
    K = np.concatenate([[econ.capital_0], k_next])
    T = len(econ.years)
    K_ext = np.append(K, K[-1] ** 2 / K[-2])          # terminal: capital keeps its last growth
    out = np.empty((4, T))
    for t in range(T):
        inv = K_ext[t + 1] - (1 - cal.delta) * K_ext[t]
        out[:, t] = _static(cal, K_ext[t], econ.population[t], inv, econ.tfp_a[t],
                            econ.tfp_m[t], econ.tau_l[t], econ.tau_k[t])
    return K, out[0], out[1], out[2], out[3]


def _euler(cal: Calibration, econ: Economy, log_k: np.ndarray) -> np.ndarray:
    k_next = np.exp(log_k)
    try:
        K, l_a, _, cm, ym = _path(cal, econ, k_next)
    except ValueError:                                 # no feasible within-year allocation
        return np.full_like(log_k, 1e3)
    k_m = K[1:] * (1 - _capital_share_farm(cal, econ, l_a)[1:])
    mpk_m = cal.alpha_k_m * ym[1:] / k_m
    lhs = np.log((1 - cal.eta_a) / cm[:-1])
    rhs = np.log(cal.beta * (1 - econ.tau_i[1:]) * (1 - cal.delta + mpk_m)
                 * (1 - cal.eta_a) / cm[1:])
    return lhs - rhs


def _capital_share_farm(cal: Calibration, econ: Economy, l_a: np.ndarray) -> np.ndarray:
    rho = ((1 + econ.tau_k) / (1 + econ.tau_l) * (cal.alpha_k_a / cal.alpha_l_a)
           * ((1 - cal.alpha_k_m) / cal.alpha_k_m))
    return rho * l_a / (rho * l_a + 1 - l_a)


def solve(cal: Calibration, econ: Economy) -> Solution:
    """The perfect-foresight path: capital in years 1..T-1 such that every Euler equation
    (with the intertemporal wedge) holds; the last year's capital grows as in the year before."""
    T = len(econ.years)
    guess = np.log(econ.capital_0) + 0.03 * np.arange(1, T)
    sol = root(lambda x: _euler(cal, econ, x), guess, method="hybr", tol=1e-11)
    K, l_a, ca, cm, ym = _path(cal, econ, np.exp(sol.x))
    ok = bool(sol.success and np.max(np.abs(_euler(cal, econ, sol.x))) < 1e-8)
    return Solution(econ.years, K, l_a, ca, cm, ym, ok)


def utility(cal: Calibration, c_a: np.ndarray, c_m: np.ndarray) -> np.ndarray:
    return cal.eta_a * np.log(c_a - cal.gamma_a) + (1 - cal.eta_a) * np.log(c_m)


def welfare_change(cal: Calibration, policy: Solution, reference: Solution,
                   population: np.ndarray, years: slice) -> float:
    """Consumption equivalent: the ``lam`` with which the reference path's consumption,
    scaled by ``1 + lam`` in every year of ``years``, gives the policy path's welfare there
    (negative: the policy is worse)."""
    w = cal.beta ** np.arange(len(population))[years] * population[years]
    target = np.sum(w * utility(cal, policy.c_a[years], policy.c_m[years]))

    def gap(lam: float) -> float:
        return np.sum(w * utility(cal, (1 + lam) * reference.c_a[years],
                                  (1 + lam) * reference.c_m[years])) - target

    lo = cal.gamma_a / np.min(reference.c_a[years]) - 1 + 1e-9
    return float(brentq(gap, lo, 10.0, xtol=1e-12))


def placeholder_economy(scenario: str, horizon: int | None = None) -> tuple[Calibration, Economy]:
    """The PLACEHOLDER calibration and the wedge paths of a scenario: ``tsarist`` (pre-1913
    wedges throughout), ``stalin`` (Stalin's wedges 1928-1940, then the projected ones) or
    ``nep``."""
    if scenario not in SCENARIOS:
        raise ParameterError(WHERE, "scenario", repr(scenario), ", ".join(SCENARIOS))
    ph = load_toml(DATA)["placeholder"]
    cal = Calibration(**{f: float(ph[f]) for f in Calibration.__dataclass_fields__})
    T = int(horizon or ph["horizon_years"])
    years = START_YEAR + np.arange(T)
    t = np.arange(T)
    w = ph["wedges"]
    if scenario == "stalin":
        early = years <= 1940
        tau = {k: np.where(early, w["stalin_1928_1940"][k], w["stalin_after_1940"][k])
               for k in ("tau_l", "tau_k", "tau_i")}
    else:
        tau = {k: np.full(T, float(w[scenario][k])) for k in ("tau_l", "tau_k", "tau_i")}
    growth = (1 + ph["tfp_growth"]) ** t
    econ = Economy(years, ph["population_0"] * (1 + ph["population_growth"]) ** t,
                   ph["tfp_a_0"] * growth, ph["tfp_m_0"] * growth, tau["tau_l"],
                   tau["tau_k"], tau["tau_i"], float(ph["capital_0"]))
    return cal, econ


def placeholder_welfare(horizon: int | None = None) -> dict[tuple[str, str], float]:
    """Welfare of Stalin's path against the tsarist-wedge path and against the NEP path, by
    period, computed with the PLACEHOLDER calibration (not reproductions)."""
    paths = {}
    for name in SCENARIOS:
        cal, econ = placeholder_economy(name, horizon)
        paths[name] = solve(cal, econ)
    n_early = np.count_nonzero(econ.years <= 1940)
    periods = {"1928-1940": slice(0, n_early), "1941-": slice(n_early, None),
               "born 1928": slice(None)}
    return {(f"stalin vs {ref}", label): welfare_change(cal, paths["stalin"], paths[ref],
                                                         econ.population, sl)
            for ref in ("tsarist", "nep") for label, sl in periods.items()}


def reproduce(horizon: int | None = None) -> list[Row]:
    """The published headline figures; ``reproduced`` stays empty (the calibration is a
    placeholder) and the note gives the placeholder model's number, marked as such."""
    data = load_toml(DATA)
    src = data["source"]
    model = placeholder_welfare(horizon)
    rows = []
    for fig in data["figure"]:
        ref = "nep" if "nep" in fig["scenario"] else "tsarist"
        ph = model.get((f"stalin vs {ref}", fig["year"]))
        note = ("not reproduced: CGGT's calibration, wedges and TFPs were not reached. "
                f"PLACEHOLDER calibration gives {ph:+.3f} (meaningless as a reproduction)"
                if ph is not None else "not reproduced: nothing to compare")
        published = float(fig["value"]) if "value" in fig else None
        where = {**fig, "url": f"{src['url']} ({src['series']})"}
        rows.append(Row(fig["quantity"], fig["scenario"], fig["year"], published, None,
                        fig["unit"], cite(where, src["author"], src["title"], src["year"]),
                        note))
    return rows
