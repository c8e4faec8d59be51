"""G. A. Feldman's two-sector growth model (1928), as E. Domar formulated it (1957) and as
R. C. Allen restated it in discrete time (*Farm to Factory*, 2003, ch. 3).

The economy has two sectors. The investment-goods sector ("heavy industry", Marx's
Department I) turns its capital ``K_k`` into investment goods ``I = K_k / v_k``; the
consumer-goods sector turns ``K_c`` into consumer goods ``C = K_c / v_c``. Capital is
sector-specific once installed. The planner's one choice is ``gamma``: the share of the output
of investment goods that is reinvested in the investment-goods sector; the rest,
``1 - gamma``, equips the consumer-goods sector. Domar's two equations::

    dK_k/dt = gamma * I          dK_c/dt = (1 - gamma) * I

have the closed-form solution (for gamma > 0)::

    I(t) = I0 * exp(gamma * t / v_k)
    C(t) = C0 + (1 - gamma) / gamma * (v_k / v_c) * I0 * (exp(gamma * t / v_k) - 1)

so a larger ``gamma`` lowers consumption at first and raises it later: the Soviet argument for
building heavy industry first. Allen's discrete version (his eqs 1-8) writes ``y_p = a k_p``,
``y_c = b k_c``, invests ``e y_p`` in heavy industry and ``(1 - e) y_p`` in light industry, and
depreciates both stocks at ``d``; Domar's case is ``a = 1/v_k``, ``b = 1/v_c``, ``e = gamma``,
``d = 0`` taken to continuous time.

Sources and what was read: ``data/published/feldman_domar.toml``; the page
``docs/published/feldman.md`` gives the mapping and the deviations.

Examples
--------
>>> p = FeldmanDomar(gamma=0.3, v_k=2.5, v_c=2.0, investment_0=10.0, consumption_0=50.0)
>>> path = simulate(p, years=10)
>>> i, c = closed_form(p, 10.0)
>>> bool(abs(path.investment[-1] / i - 1) < 1e-8 and abs(path.consumption[-1] / c - 1) < 1e-8)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sovsim.errors import ParameterError
from sovsim.research.published.table import Row, load_toml

WHERE = "sovsim.research.published.feldman"


@dataclass(frozen=True)
class FeldmanDomar:
    """Domar's parameters: the reinvested share and the two capital-output ratios.

    Parameters
    ----------
    gamma : share of investment-goods output reinvested in the investment-goods sector, [0, 1].
    v_k, v_c : capital-output ratios of the investment- and consumer-goods sectors (years).
    investment_0, consumption_0 : outputs of the two sectors at t = 0.
    """

    gamma: float
    v_k: float
    v_c: float
    investment_0: float
    consumption_0: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise ParameterError(WHERE, "gamma", f"{self.gamma} is outside", "0 <= gamma <= 1")
        for name in ("v_k", "v_c", "investment_0"):
            if getattr(self, name) <= 0:
                raise ParameterError(WHERE, name, f"{getattr(self, name)} is not positive")
        if self.consumption_0 < 0:
            raise ParameterError(WHERE, "consumption_0", "is negative")


@dataclass(frozen=True)
class Path:
    """A simulated path: time (years) and the four series, one value per time point."""

    t: np.ndarray
    capital_investment_sector: np.ndarray
    capital_consumer_sector: np.ndarray
    investment: np.ndarray
    consumption: np.ndarray


def closed_form(p: FeldmanDomar, t: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Domar's closed-form investment and consumption at time ``t`` (years)."""
    t = np.asarray(t, dtype=float)
    rate = p.gamma / p.v_k
    investment = p.investment_0 * np.exp(rate * t)
    if p.gamma == 0.0:  # the limit gamma -> 0: investment constant, consumption linear
        consumption = p.consumption_0 + p.investment_0 * t / p.v_c
    else:
        consumption = p.consumption_0 + ((1.0 - p.gamma) / p.gamma * (p.v_k / p.v_c)
                                         * p.investment_0 * np.expm1(rate * t))
    return investment, consumption


def _derivatives(p: FeldmanDomar, capital: np.ndarray) -> np.ndarray:
    investment = capital[0] / p.v_k
    return np.array([p.gamma * investment, (1.0 - p.gamma) * investment])


def simulate(p: FeldmanDomar, years: float, steps_per_year: int = 200) -> Path:
    """Integrate Domar's two capital equations (classical Runge-Kutta), independently of the
    closed form, so that a test can hold one against the other."""
    if years <= 0 or steps_per_year < 1:
        raise ParameterError(WHERE, "years/steps_per_year", "must be positive")
    n = round(years * steps_per_year)
    h = years / n
    k = np.empty((n + 1, 2))
    k[0] = (p.investment_0 * p.v_k, p.consumption_0 * p.v_c)
    for s in range(n):
        k1 = _derivatives(p, k[s])
        k2 = _derivatives(p, k[s] + 0.5 * h * k1)
        k3 = _derivatives(p, k[s] + 0.5 * h * k2)
        k4 = _derivatives(p, k[s] + h * k3)
        k[s + 1] = k[s] + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    t = np.linspace(0.0, years, n + 1)
    return Path(t, k[:, 0], k[:, 1], k[:, 0] / p.v_k, k[:, 1] / p.v_c)


# ---- Allen's discrete restatement (Farm to Factory, ch. 3) -----------------------------------

def allen_discrete(a: float, b: float, e: float, d: float, k_p0: float, k_c0: float,
                   periods: int) -> dict[str, np.ndarray]:
    """Allen's Feldman model, period by period.

    ``y_p = a k_p`` (his eq. 1), ``y_c = b k_c`` (eq. 2); heavy industry gets ``e y_p``, light
    industry ``(1 - e) y_p``; both stocks depreciate at ``d``. Returns the stocks and outputs
    for periods ``0..periods``.
    """
    if not 0.0 <= e <= 1.0 or not 0.0 <= d < 1.0 or a <= 0 or b <= 0:
        raise ParameterError(WHERE, "a/b/e/d", f"a={a}, b={b}, e={e}, d={d}",
                             "a, b > 0; 0 <= e <= 1; 0 <= d < 1")
    k_p = np.empty(periods + 1)
    k_c = np.empty(periods + 1)
    k_p[0], k_c[0] = k_p0, k_c0
    for t in range(periods):
        y_p = a * k_p[t]
        k_p[t + 1] = (1.0 - d) * k_p[t] + e * y_p
        k_c[t + 1] = (1.0 - d) * k_c[t] + (1.0 - e) * y_p
    return {"k_p": k_p, "k_c": k_c, "y_p": a * k_p, "y_c": b * k_c}


def allen_closed_form(a: float, b: float, e: float, d: float, k_p0: float, k_c0: float,
                      t: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """The solution of Allen's recursions: heavy-industry capital grows at ``e a - d``; light
    industry's capital is its own depreciated stock plus the spill-over from heavy industry
    (the second term is what Allen's eq. 8 describes)."""
    t = np.asarray(t, dtype=float)
    g = 1.0 - d + e * a
    k_p = k_p0 * g ** t
    if e == 0.0:
        spill = (1.0 - e) * a * k_p0 * t * (1.0 - d) ** np.maximum(t - 1.0, 0.0)
    else:
        spill = (1.0 - e) * a * k_p0 * (g ** t - (1.0 - d) ** t) / (e * a)
    return k_p, k_c0 * (1.0 - d) ** t + spill


def reproduce() -> list[Row]:
    """For the illustrative case of ``data/published/feldman_domar.toml``: Domar's closed form
    (the 'published' column: his formula evaluated, no printed number) against the simulation.
    """
    ill = load_toml("feldman_domar.toml")["illustration"]
    p = FeldmanDomar(ill["gamma"], ill["v_k"], ill["v_c"], ill["investment_0"],
                     ill["consumption_0"])
    path = simulate(p, years=max(ill["years"]))
    src = ("Domar (1957), ch. IX, closed form restated (chapter not read); evaluated for an "
           "illustrative case, not a printed figure")
    rows = []
    for year in ill["years"]:
        i, c = closed_form(p, float(year))
        at = int(np.argmin(np.abs(path.t - year)))
        for q, pub, rep in (("investment_goods_output", i, path.investment[at]),
                            ("consumer_goods_output", c, path.consumption[at])):
            rows.append(Row(q, f"illustration gamma={p.gamma}", year, float(pub), float(rep),
                            "output units (illustrative)", src,
                            "simulation (Runge-Kutta) against the closed form"))
    return rows
