"""What each policy cost: a difference between two runs split among groups of instruments by
exact Shapley values.

A scenario S and a reference R differ in some instruments. Group them (exports; procurement
plans and norms; ...). For a coalition C of groups, the *hybrid* run follows S in the
instruments of C and R in every other: hybrid(no group) is R, hybrid(all groups) is S. The
outcome of the hybrid, v(C), is a number (excess deaths in Ukraine over 1932-34, say). The
Shapley value of group i is its marginal effect v(C + i) - v(C), averaged over every order in
which the groups could be switched on one after another:

    phi_i = sum over C not holding i of |C|! (k - |C| - 1)! / k! * (v(C + i) - v(C))

It is the only split that adds up to v(all) - v(none) (efficiency), gives a group that changes
nothing zero (null player), treats groups that act alike alike (symmetry), and depends on no
order of the groups. Interactions (the exports matter more when the harvest was taken by the
quotas) are shared equally between the groups that interact. Exact: every one of the 2^k
coalitions is run, so k is bounded (``MAX_GROUPS``).

A share is a statement about the model: what the model's mechanisms make of the instruments'
difference, not a verdict on history (docs/attribution.md).

The weather can be one of the groups: with ``normal_weather_from=YEAR`` the reference has
normal weather (class 0 in every region) from that year on, and the group ``weather`` switches
the record's weather in.

With ``members`` each share gets a band: member m draws the parameters from their priors
(``ParameterSet.draw``, addressed by (seed, m)) and runs all 2^k coalitions with that one draw
(common random numbers), so the band is the spread of each group's share over parameter
uncertainty, not noise between runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.engine.accounts import BY_NAME
from sovsim.errors import SovsimError
from sovsim.params import ParameterSet
from sovsim.regions import REGIONS, USSR
from sovsim.scenario import Scenario
from sovsim.scenario.instruments import catalogue
from sovsim.tomlfile import read_toml

MAX_GROUPS = 10  # 2^10 = 1,024 runs a member
MAX_MEMBERS = 1000
WEATHER = "weather"
OTHER = "other"
COLUMNS = ["group", "share", "value", "unit", "low", "high"]
_FLOW_RULES = ("sum", "harvest_year_sum")


@dataclass(frozen=True)
class Group:
    """A named set of instruments switched together."""

    name: str
    label: str
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """A number read from a run: ``variable`` in ``region``, summed over the years of
    ``period`` for a flow (deaths, procurement), averaged over them for anything else."""

    variable: str
    region: str
    first_year: int
    last_year: int

    @property
    def unit(self) -> str:
        return BY_NAME[self.variable].unit

    @property
    def how(self) -> str:
        span = (str(self.first_year) if self.first_year == self.last_year
                else f"{self.first_year}-{self.last_year}")
        verb = "sum" if BY_NAME[self.variable].annual in _FLOW_RULES else "mean"
        return f"{self.variable}, {self.region}, {verb} over {span}"

    def of(self, stacked: Mapping[str, np.ndarray]) -> np.ndarray:
        """The outcome of each run of a stacked batch (runs,)."""
        from sovsim.results.results import Results

        annual = Results._annualize(self.variable, stacked[self.variable])
        col = (USSR, *REGIONS).index(self.region)
        rows = slice(self.first_year - calendar.START_YEAR,
                     self.last_year - calendar.START_YEAR + 1)
        vals = annual[:, rows, col]
        if BY_NAME[self.variable].annual in _FLOW_RULES:
            return vals.sum(axis=1)
        return vals.mean(axis=1)


def outcome(variable: str, region: str = USSR, period: str | None = None) -> Outcome:
    """Check and build an :class:`Outcome`. ``period``: ``YYYY`` or ``YYYY-YYYY`` (default:
    every year, 1921-1940)."""
    if variable not in BY_NAME:
        raise SovsimError(f"--outcome: no variable {variable!r} (the names: docs/variables.md)")
    if region not in (USSR, *REGIONS):
        raise SovsimError(f"--region: no region {region!r}; allowed: {', '.join((USSR, *REGIONS))}")
    if region != USSR and not BY_NAME[variable].regional:
        raise SovsimError(f"--region: {variable} is kept for the USSR only")
    first, last = calendar.START_YEAR, calendar.END_YEAR
    if period:
        parts = period.split("-")
        if len(parts) > 2 or not all(p.isascii() and p.isdigit() and len(p) == 4 for p in parts):
            raise SovsimError(f"--period: {period!r} is not YYYY or YYYY-YYYY")
        first, last = int(parts[0]), int(parts[-1])
        if not calendar.START_YEAR <= first <= last <= calendar.END_YEAR:
            raise SovsimError(f"--period: {period!r} must lie within "
                              f"{calendar.START_YEAR}-{calendar.END_YEAR}, first year first")
    return Outcome(variable, region, first, last)


def default_groups_path() -> Path:
    return Path(str(resources.files("sovsim") / "data" / "attribution" / "groups.toml"))


def load_groups(path: str | Path | None = None) -> list[Group]:
    """The groups of a TOML file (default: the shipped ``data/attribution/groups.toml``)::

        [[group]]
        name = "exports"
        label = "grain exports"
        instruments = ["grain_export_target_t"]

    Each instrument must exist and belong to one group at most."""
    file = Path(path) if path is not None else default_groups_path()
    raw = read_toml(file, missing="no such groups file")
    items = raw.get("group")
    if not isinstance(items, list) or not items:
        raise SovsimError(f"{file}: needs one or more [[group]] tables")
    cat = catalogue()
    seen: dict[str, str] = {}
    groups = []
    for i, item in enumerate(items):
        where = f"{file}: group {i + 1}"
        if not isinstance(item, dict) or set(item) - {"name", "label", "instruments", "note"}:
            raise SovsimError(f"{where}: keys allowed: name, label, instruments, note")
        name, insts = item.get("name"), item.get("instruments")
        if not isinstance(name, str) or not name or name in (OTHER, WEATHER):
            raise SovsimError(f"{where}.name: a non-empty text other than {OTHER!r} and "
                              f"{WEATHER!r} (those two are made by sovsim)")
        if any(g.name == name for g in groups):
            raise SovsimError(f"{where}.name: {name!r} named twice")
        if not isinstance(insts, list) or not insts or not all(isinstance(x, str) for x in insts):
            raise SovsimError(f"{where}.instruments: a non-empty list of instrument names")
        for inst in insts:
            if inst not in cat:
                raise SovsimError(f"{where}.instruments: no instrument {inst!r} "
                                  "(docs/instruments.md lists them)")
            if inst in seen:
                raise SovsimError(f"{where}.instruments: {inst!r} is in group {seen[inst]!r} "
                                  "already; an instrument belongs to one group")
            seen[inst] = name
        label = item.get("label", name)
        groups.append(Group(name, label if isinstance(label, str) else name, tuple(insts)))
    return groups


def changed_instruments(scenario: Scenario, reference: Scenario) -> list[str]:
    """The instruments whose month-by-month values differ between the two (catalogue
    order)."""
    a, b = scenario.timeline(), reference.timeline()
    return [name for name in a if not np.array_equal(a[name], b[name])]


def hybrid(scenario: Scenario, reference: Scenario, instruments: set[str]) -> Scenario:
    """The reference, with ``instruments`` following ``scenario``: each instrument's timeline
    is made from its own changes alone, so taking them instrument by instrument is exact."""
    changes = tuple(c for c in reference.changes if c.instrument not in instruments)
    changes += tuple(c for c in scenario.changes if c.instrument in instruments)
    # an instrument's changes apply in month order, the later one winning; keep each
    # scenario's own order within a month (sorted() is stable)
    changes = tuple(sorted(changes, key=lambda c: c.month))
    tag = "+".join(sorted(instruments)) or "none"
    return Scenario(name=f"{reference.name}<{scenario.name}:{tag}", title="", description="",
                    changes=changes, parent=None, diverge=None, path="")


def shapley_weights(k: int) -> np.ndarray:
    """Weight of a coalition of size s (not holding the player) in a k-player game."""
    return np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
                     for s in range(k)])


def shapley(values: np.ndarray, k: int) -> np.ndarray:
    """Exact Shapley values of a k-player game. ``values[..., mask]`` is v of the coalition
    whose members are the set bits of ``mask`` (2^k entries on the last axis; leading axes are
    separate games, e.g. members). Returns (..., k)."""
    values = np.asarray(values, dtype=float)
    if values.shape[-1] != 1 << k:
        raise ValueError(f"need 2^{k} coalition values, got {values.shape[-1]}")
    w = shapley_weights(k)
    out = np.zeros((*values.shape[:-1], k))
    for i in range(k):
        bit = 1 << i
        for mask in range(1 << k):
            if mask & bit:
                continue
            out[..., i] += w[bin(mask).count("1")] * (values[..., mask | bit] - values[..., mask])
    return out


@dataclass
class Attribution:
    """The split of ``scenario - reference`` in ``outcome`` among ``groups``."""

    scenario: str
    reference: str
    outcome: Outcome
    groups: list[Group]
    instruments: dict[str, list[str]]  # group -> the changed instruments it switches
    scenario_value: float
    reference_value: float
    values: np.ndarray  # (groups,) at the shipped parameters
    member_values: np.ndarray | None = None  # (members, groups)
    unchanged: list[str] = field(default_factory=list)  # groups whose instruments never differ

    @property
    def total(self) -> float:
        return self.scenario_value - self.reference_value

    def table(self) -> pd.DataFrame:
        """Tidy: ``group, share, value, unit, low, high`` (``share``: of the total difference;
        ``low``/``high``: the 5 and 95 % points over the members, where there are members)."""
        rows = []
        for j, g in enumerate(self.groups):
            low = high = np.nan
            if self.member_values is not None and len(self.member_values):
                low, high = np.quantile(self.member_values[:, j], [0.05, 0.95])
            share = self.values[j] / self.total if self.total != 0 else np.nan
            rows.append((g.name, share, self.values[j], self.outcome.unit, low, high))
        for name in self.unchanged:
            rows.append((name, 0.0 if self.total != 0 else np.nan, 0.0, self.outcome.unit,
                         np.nan, np.nan))
        return pd.DataFrame(rows, columns=COLUMNS)

    def sentence(self, scale: float = 1e6, unit_word: str = "million") -> str:
        """One line in words, e.g. for the classroom."""
        parts = [f"{g.label} {v / scale:+.2f}" for g, v in zip(self.groups, self.values)]
        return (f"Of the difference of {self.total / scale:+.2f} {unit_word} in "
                f"{self.outcome.how} between {self.scenario} and {self.reference}, the model "
                f"attributes: " + "; ".join(parts) + f" {unit_word}.")


def attribute(scenario: Scenario, reference: Scenario, out: Outcome, *,
              groups: Sequence[Group] | None = None, params: ParameterSet | None = None,
              members: int = 0, seed: int = 0, normal_weather_from: int | None = None,
              threads: bool = True) -> Attribution:
    """Split ``out``'s difference between ``scenario`` and ``reference`` among ``groups``
    (default: the shipped groups) by exact Shapley values; see the module's docstring."""
    from sovsim.api import shipped_parameters
    from sovsim.engine.simulation import simulate_stacked
    from sovsim.inputs import load_inputs

    if not 0 <= members <= MAX_MEMBERS:
        raise SovsimError(f"--members: {members} is not in 0..{MAX_MEMBERS}")
    groups = list(groups) if groups is not None else load_groups()
    changed = changed_instruments(scenario, reference)
    grouped = {inst for g in groups for inst in g.instruments}
    active: list[Group] = []
    switch: dict[str, list[str]] = {}
    unchanged = []
    for g in groups:
        own = [i for i in g.instruments if i in changed]
        if own:
            active.append(g)
            switch[g.name] = own
        else:
            unchanged.append(g.name)
    rest = [i for i in changed if i not in grouped]
    if rest:
        active.append(Group(OTHER, "other instruments", tuple(rest)))
        switch[OTHER] = rest
    inputs = load_inputs("main")
    record = np.asarray(inputs.weather_class, dtype=float)
    normal = None
    if normal_weather_from is not None:
        if not calendar.START_YEAR <= normal_weather_from <= calendar.END_YEAR:
            raise SovsimError(f"--normal-weather-from: {normal_weather_from} is not in "
                              f"{calendar.START_YEAR}..{calendar.END_YEAR}")
        normal = record.copy()
        normal[normal_weather_from - calendar.START_YEAR:] = 0.0
        if np.array_equal(normal, record):
            unchanged.append(WEATHER)
            normal = None
        else:
            active.append(Group(WEATHER, f"weather from {normal_weather_from}", ()))
            switch[WEATHER] = []
    k = len(active)
    if k > MAX_GROUPS:
        raise SovsimError(f"{k} groups of changed instruments: at most {MAX_GROUPS} "
                          f"({1 << MAX_GROUPS} runs a member); merge some in a --groups file")
    base = params or shipped_parameters()
    draws = base.draw(members, seed) if members else []
    ps = [base] + [base.with_overrides(d) for d in draws]
    values = np.empty((len(ps), 1 << k))
    for mask in range(1 << k):
        on = [active[i] for i in range(k) if mask >> i & 1]
        insts = {x for g in on for x in switch[g.name]}
        sc = hybrid(scenario, reference, insts)
        weather = None
        if normal is not None:
            weather = record if any(g.name == WEATHER for g in on) else normal
        rec = simulate_stacked(sc, ps, [weather] * len(ps), inputs, threads)
        values[:, mask] = out.of(rec)
    phi = shapley(values, k)
    ref_name = reference.name
    if normal is not None:
        ref_name += f" (normal weather from {normal_weather_from})"
    return Attribution(scenario.name, ref_name, out, active, switch,
                       float(values[0, -1]), float(values[0, 0]), phi[0],
                       phi[1:] if members else None, unchanged)


def plot(att: Attribution, path: str | Path) -> Path:
    """A bar a group, with its 5-95 % band where there are members; written to ``path``
    (the format from its suffix), by matplotlib's object API (no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = att.table()
    t = t[t["group"].isin([g.name for g in att.groups])]
    labels = [g.label for g in att.groups]
    fig = Figure(figsize=(7.5, 0.6 * len(labels) + 1.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(len(labels))
    ax.barh(y, t["value"], color=["#b03a2e" if v > 0 else "#2e86c1" for v in t["value"]])
    if att.member_values is not None:
        lo, hi = t["low"].to_numpy(), t["high"].to_numpy()
        ax.errorbar((lo + hi) / 2, y, xerr=(hi - lo) / 2, fmt="none", ecolor="black",
                    capsize=3, label="5-95 % over the parameter priors")
        ax.legend(loc="best", fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()  # the first group on top, as in the table
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"{att.outcome.how} ({att.outcome.unit})")
    ax.set_title(f"{att.scenario} minus {att.reference}: {att.total:,.0f} {att.outcome.unit}, "
                 "by group (Shapley)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path
