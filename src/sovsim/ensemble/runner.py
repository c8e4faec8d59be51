"""Ensembles: many runs of a scenario with parameters drawn from their priors (and, when asked,
weather drawn from the historical record after the scenario's divergence), summarised as
bands; differences between scenarios member by member (docs/ensembles.md).

Member ``i`` of an ensemble with seed ``s`` gets the draw ``ParameterSet.draw`` gives for
(s, i), and the weather drawn for (s, i, year): the same for every scenario of the call
(common random numbers), whoever runs it (this process, a local worker process, a Dask
worker) and however often it is resumed. Members are independent tasks; each is stored as
it completes, so an ensemble killed midway resumes where it stopped.

>>> import sovsim
>>> ens = sovsim.ensemble.run("historical", members=2, store=False)
>>> sorted(ens.bands().columns)
['period', 'quantile', 'region', 'scenario', 'unit', 'value', 'variable']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sovsim import __version__, calendar
from sovsim.ensemble.bands import QUANTILES, REGION_LABELS, YEARS, annualize, band_table
from sovsim.ensemble.draws import divergence_month, member_weather, weather_first_year
from sovsim.ensemble.workers import connect, execute, simulate_member
from sovsim.errors import SovsimError
from sovsim.params import ParameterSet, load_overrides
from sovsim.results import Results
from sovsim.scenario import Scenario, load_scenario


@dataclass
class Ensemble:
    """What an ensemble produced: for each scenario, every member's annual values, and the
    store ids (when stored)."""

    scenarios: list[str]
    members: int
    seed: int
    annual: dict[str, dict[str, np.ndarray]]  # scenario -> variable -> (members, years, cols)
    manifests: dict[str, dict] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    member_ids: dict[str, list[str]] = field(default_factory=dict)
    computed: dict[str, int] = field(default_factory=dict)  # members run by this call
    store: Any = None
    # With households: scenario -> each member's household summary (population.tables.
    # member_summary: period, region, class, measure, value).
    household: dict[str, list[pd.DataFrame]] = field(default_factory=dict)

    def household_bands(self, scenario: str | None = None) -> pd.DataFrame:
        """Bands across members of what only households give (an ensemble run with
        ``households``): scenario, period, region, class, measure, quantile, value."""
        names = self.scenarios if scenario is None else [self._name(scenario)]
        if not all(n in self.household for n in names):
            raise SovsimError("this ensemble was run without households: no household bands")
        return pd.concat([household_band_table(n, self.household[n]) for n in names],
                         ignore_index=True)

    def bands(self, scenario: str | None = None) -> pd.DataFrame:
        """Tidy bands: scenario, period, variable, region, quantile, value, unit."""
        names = self.scenarios if scenario is None else [self._name(scenario)]
        return pd.concat([band_table(n, self.annual[n]) for n in names], ignore_index=True)

    def difference(self, a: str, b: str) -> pd.DataFrame:
        """Bands of ``b - a`` computed member by member (common random numbers): member i of
        ``b`` minus member i of ``a``, then the quantiles across members."""
        a, b = self._name(a), self._name(b)
        stack = {v: self.annual[b][v] - self.annual[a][v] for v in self.annual[a]}
        return band_table(f"{b} - {a}", stack)

    def values(self, scenario: str, variable: str, region: str = "USSR") -> np.ndarray:
        """(members, years) annual values of one variable and region."""
        arr = self.annual[self._name(scenario)]
        if variable not in arr:
            raise SovsimError(f"no variable {variable!r}; known: {', '.join(arr)}")
        if region not in REGION_LABELS:
            raise SovsimError(f"no region {region!r}; known: {', '.join(REGION_LABELS)}")
        return arr[variable][:, :, REGION_LABELS.index(region)]

    def member(self, scenario: str, i: int) -> Results:
        """Member ``i`` of ``scenario`` as a Results (from the store)."""
        name = self._name(scenario)
        if self.store is None:
            raise SovsimError("this ensemble was run with store=False: only its annual "
                              "values were kept; run it with a store to get member tables")
        if not 0 <= i < self.members:
            raise SovsimError(f"member {i}: this ensemble has members 0..{self.members - 1}")
        rid = self.member_ids[name][i]
        manifest = json.loads((self.store.path(rid) / "manifest.json").read_text())
        return Results(name, self.store.records(rid), manifest)

    def write(self, out_dir: Path, fmt: str = "csv") -> list[Path]:
        """Bands of every scenario, the member-by-member differences from the first, and the
        manifests, in ``out_dir`` (nothing half-written)."""
        from sovsim.store import atomic_write, atomic_write_text

        if fmt not in ("csv", "parquet"):
            raise SovsimError(f"--format: unknown {fmt!r} (allowed: csv, parquet)")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        tables = {f"{n}_bands": self.bands(n) for n in self.scenarios}
        for n in self.household:
            tables[f"{n}_household_bands"] = self.household_bands(n)
        for other in self.scenarios[1:]:
            tables[f"{other}-minus-{self.scenarios[0]}_difference_bands"] = \
                self.difference(self.scenarios[0], other)
        for stem, table in tables.items():
            target = out_dir / f"{stem}.{fmt}"
            written.append(atomic_write(target, lambda p, t=table: (
                t.to_csv(p, index=False) if fmt == "csv" else t.to_parquet(p, index=False))))
        written.append(atomic_write_text(out_dir / "ensemble_manifest.json",
                                         json.dumps({"ids": self.ids, "manifests": self.manifests},
                                                    indent=1)))
        return written

    def _name(self, scenario: str) -> str:
        if scenario not in self.annual:
            raise SovsimError(f"scenario {scenario!r} is not in this ensemble "
                              f"({', '.join(self.scenarios)})")
        return scenario


# -- running --------------------------------------------------------------------------------
def run(scenarios: str | Path | Scenario | Iterable[str | Path | Scenario], *, members: int,
        seed: int = 0, households: int = 0, workers: int = 1, scheduler: Any = None,
        store: Any = None, params: ParameterSet | None = None,
        params_file: str | Path | None = None, names: Iterable[str] | None = None,
        draw_weather: bool = False, weather_from: int | None = None,
        progress: Callable[[int, int], None] | None = None) -> Ensemble:
    """Run an ensemble of ``members`` for each scenario, on common random numbers.

    Parameters
    ----------
    scenarios : one scenario (name, path or Scenario) or several.
    members : how many members (>= 1); member ``i`` gets draw ``i`` of ``seed``.
    seed : the seed of the draws.
    households : 0: the cell model; N: every member runs the household engine with N
        household rows (seeded by member), and the ensemble also gives bands of what only
        households give (:meth:`Ensemble.household_bands`); each member's summary is stored
        beside its records (``household_summary``).
    workers : local worker processes (1: run in this process); ignored with ``scheduler``.
    scheduler : a Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``:
        the members go to that cluster as independent tasks.
    store : a directory (or a :class:`sovsim.store.Store`); None: the default store
        (``$SOVSIM_STORE`` or ``~/.local/share/sovsim/store``); False: keep nothing.
    params, params_file : the central parameter set (default: the shipped one) and a
        calibration file of values on top of it.
    names : the parameters to draw (default: every parameter with a prior).
    draw_weather : draw the weather from the historical record from ``weather_from`` (default:
        the first harvest after the earliest divergence among ``scenarios``).
    progress : called as ``progress(done, total)`` after each member.
    """
    from sovsim.api import _git_commit, _shipped_parameters
    from sovsim.store import Store, run_id

    if households:
        _check_households(households)
    if not isinstance(members, (int, np.integer)) or isinstance(members, bool) or members < 1:
        raise SovsimError(f"--members {members!r}: an ensemble needs at least 1 member")
    if scheduler is None and (not isinstance(workers, int) or workers < 1):
        raise SovsimError(f"--workers {workers!r}: needs at least 1 worker process")
    members, seed = int(members), int(seed)
    if seed < 0:
        raise SovsimError(f"--seed {seed}: a seed is a whole number >= 0")
    if isinstance(scenarios, (str, Path, Scenario)):
        scenarios = [scenarios]
    scs = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    if not scs:
        raise SovsimError("no scenario given")
    labels = [sc.name for sc in scs]
    if len(set(labels)) != len(labels):
        raise SovsimError(f"a scenario is given twice: {', '.join(labels)}")
    base = params or _shipped_parameters()
    if params_file is not None:
        base = base.with_overrides(load_overrides(Path(params_file)))
    drawn = list(base.priors()) if names is None else list(names)
    draws = base.draw(members, seed, drawn)
    if draw_weather:
        first = weather_from if weather_from is not None else weather_first_year(scs)
        if not calendar.START_YEAR <= first <= calendar.END_YEAR:
            raise SovsimError(f"--weather-from {first}: outside {calendar.START_YEAR}-"
                              f"{calendar.END_YEAR}")
        weathers = [member_weather(seed, i, first) for i in range(members)]
        weather_spec: Any = {"drawn_from": int(first), "record": "weather.csv main, whole years "
                             "1921-1940 with replacement"}
    else:
        weathers = [None] * members
        weather_spec = "main"
    if store is False:
        st = None
    elif isinstance(store, Store):
        st = store
    else:
        st = Store(store)
    common = {"resolution": "households" if households else "cells",
              "households": int(households), "sovsim_version": __version__,
              "git_commit": _git_commit()}
    # Members' manifests name their stored runs: made only when there is a store.
    member_hash = [base.with_overrides(d).digest() for d in draws] if st is not None else []
    weather_hash = [None if w is None else hashlib.sha256(w.tobytes()).hexdigest()[:16]
                    for w in weathers]
    priors = base.priors()
    priors_hash = hashlib.sha256(json.dumps({n: priors[n].as_dict() for n in drawn},
                                            sort_keys=True).encode()).hexdigest()[:16]

    ens = Ensemble(labels, members, seed, {}, store=st)
    todo: list[tuple[int, int]] = []  # (scenario index, member)
    manifests: dict[tuple[int, int], dict] = {}
    stacks: dict[str, list] = {}
    done = 0
    total = members * len(scs)
    for k, sc in enumerate(scs):
        em = {"kind": "ensemble", "scenario": sc.name, "scenario_hash": sc.content_hash,
              "parameters_hash": base.digest(), "priors_hash": priors_hash, "drawn": len(drawn),
              "seed": seed, "members": members, "weather": weather_spec, **common}
        ens.manifests[sc.name] = em
        stacks[sc.name] = [None] * members
        if st is None:
            todo += [(k, i) for i in range(members)]
            continue
        mids = []
        for i in range(members):
            mm = {"scenario": sc.name, "scenario_hash": sc.content_hash,
                  "parameters_hash": member_hash[i], "seed": seed, "member": i,
                  "weather": weather_spec, "weather_hash": weather_hash[i], **common}
            manifests[k, i] = mm
            mids.append(run_id(mm))
        ens.member_ids[sc.name] = mids
        eid = st.begin_ensemble(em)
        ens.ids[sc.name] = eid
        entry = st.get(eid)
        if entry is not None and entry.status == "complete" and _has_annual(st, eid):
            ens.annual[sc.name] = _read_annual(st, eid, members)
            if households:
                ens.household[sc.name] = [st.table(r, HOUSEHOLD_SUMMARY) for r in mids]
            ens.computed[sc.name] = 0
            done += members
            continue
        have = st.have(mids)
        st.link(eid, {i: r for i, r in enumerate(mids) if r in have})
        for i, rid in enumerate(mids):
            if rid in have:
                stacks[sc.name][i] = annualize(st.records(rid))
                if households:
                    ens.household.setdefault(sc.name, [None] * members)[i] = st.table(
                        rid, HOUSEHOLD_SUMMARY)
                done += 1
            else:
                todo.append((k, i))
    if progress:
        progress(done, total)

    annual_back = st is None  # nothing to store: members need send back only annual values

    def on_result(key: tuple[int, int], result: Any) -> None:
        nonlocal done
        k, i = key
        name = labels[k]
        if households:
            records, summary = result
            ens.household.setdefault(name, [None] * members)[i] = summary
        else:
            records, summary = result, None
        if st is not None:
            st.put_run(manifests[k, i], records, kind="member", ensemble=(ens.ids[name], i),
                       tables=None if summary is None else {HOUSEHOLD_SUMMARY: summary})
        # (coarse members without a store come back as annual values already)
        stacks[name][i] = records if annual_back and not households else annualize(records)
        done += 1
        if progress:
            progress(done, total)

    tasks = [((k, i), k, draws[i], weathers[i],
              (int(households), member_seed(seed, i)) if households else None)
             for k, i in todo]
    for k in range(len(scs)):
        ens.computed.setdefault(labels[k], sum(1 for kk, _ in todo if kk == k))
    if tasks:
        execute(tasks, scs, base, workers=workers, scheduler=scheduler, on_result=on_result,
                annual=annual_back)
    for name in labels:
        if name in ens.annual:
            continue
        rows = stacks[name]
        ens.annual[name] = {v: np.stack([r[v] for r in rows]) for v in rows[0]}
        if st is not None:
            _write_annual(st, ens.ids[name], ens.annual[name])
            st.finish_ensemble(ens.ids[name], band_table(name, ens.annual[name]))
    return ens


HOUSEHOLD_SUMMARY = "household_summary"  # a member's table in the store (households > 0)


def _check_households(households: Any) -> None:
    from sovsim.population.build import full_size

    real = full_size(1921)
    if isinstance(households, bool) or not isinstance(households, (int, np.integer)) or not (
            5 <= households <= real):
        raise SovsimError(f"--households {households!r}: household rows per member, from 5 "
                          f"to {real:,} (every household of 1921); 0 runs the cell model")


def member_seed(seed: int, member: int) -> int:
    """The household engine's seed of member ``member``: addressed by (seed, member), so a
    member's households are the same whatever the order or place it runs."""
    from sovsim.population.rng import stream_key

    return int(stream_key(seed, 300, member) >> np.uint64(33))


def household_band_table(name: str, summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Quantiles across members of each household measure (5, 25, 50, 75, 95 %)."""
    keys = ["period", "region", "class", "measure"]
    allm = pd.concat([d.assign(member=i) for i, d in enumerate(summaries)], ignore_index=True)
    q = allm.groupby(keys, sort=False)["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    out = q.rename("value").reset_index().rename(columns={f"level_{len(keys)}": "quantile"})
    out.insert(0, "scenario", name)
    return out


def _has_annual(st, eid: str) -> bool:
    return (st.path(eid) / "members_annual.parquet").exists()


def _write_annual(st, eid: str, annual: dict[str, np.ndarray]) -> None:
    """Every member's annual values in one table (a row per variable and region, members x
    years values), so a stored ensemble loads in one read."""
    from sovsim.store import write_records

    flat = {v: a.reshape(-1, a.shape[2]) for v, a in annual.items()}
    write_records(st.path(eid) / "members_annual.parquet", flat)


def _read_annual(st, eid: str, members: int) -> dict[str, np.ndarray]:
    from sovsim.store import read_records

    flat = read_records(st.path(eid) / "members_annual.parquet")
    return {v: a.reshape(members, len(YEARS), a.shape[1]) for v, a in flat.items()}


# -- single runs through the store ----------------------------------------------------------
def stored_run(scenario: str | Path | Scenario, *, store: Any = None, seed: int = 0,
               params_file: str | Path | None = None) -> tuple[Results, bool]:
    """``sovsim.run`` recorded in the store; an identical manifest returns the stored result
    without running. Returns (results, True if it came from the store)."""
    import sovsim
    from sovsim.api import _git_commit, _shipped_parameters
    from sovsim.store import Store, run_id

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    p = _shipped_parameters()
    if params_file is not None:
        p = p.with_overrides(load_overrides(Path(params_file)))
    st = store if isinstance(store, Store) else Store(store)
    manifest = {"scenario": sc.name, "scenario_hash": sc.content_hash,
                "parameters_hash": p.digest(), "seed": seed, "resolution": "cells",
                "weather": "main", "sovsim_version": __version__, "git_commit": _git_commit()}
    rid = run_id(manifest)
    entry = st.get(rid)
    if entry is not None:
        return Results(sc.name, st.records(rid), entry.manifest), True
    res = sovsim.run(sc, seed=seed, params=p)
    st.put_run(res.manifest, res.records, kind="run")
    return res, False


__all__ = [
    "QUANTILES",
    "YEARS",
    "Ensemble",
    "annualize",
    "band_table",
    "connect",
    "divergence_month",
    "execute",
    "member_weather",
    "run",
    "simulate_member",
    "stored_run",
    "weather_first_year",
]
