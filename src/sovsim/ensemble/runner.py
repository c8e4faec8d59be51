"""Running ensembles (and single runs) through the results store.

Member ``i`` of an ensemble with seed ``s`` gets the draw ``ParameterSet.draw`` gives for
(s, i), and the weather drawn for (s, i, year): the same for every scenario of the call
(common random numbers), whoever runs it (this process, a local worker process, a Dask
worker) and however often it is resumed. Members are independent tasks; they are stored in
batches as they complete (one part file of the ensemble's columnar dataset a batch), so an
ensemble killed midway resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sovsim import calendar
from sovsim.ensemble.bands import annualize, band_table
from sovsim.ensemble.draws import PRIORS, member_weather, parameter_draws, weather_first_year
from sovsim.ensemble.result import Ensemble
from sovsim.ensemble.workers import execute
from sovsim.errors import SovsimError
from sovsim.params import ParameterSet, load_overrides
from sovsim.results import Results
from sovsim.scenario import Scenario, load_scenario

HOUSEHOLD_SUMMARY = "household_summary"  # a member's table in the store (households > 0)
# Upper bounds, refused by name before any work (docs/ensembles.md, "Limits"). A member's
# parameter draw and manifest take about 2 KB while the ensemble runs, and its stored annual
# values about 20 KB: a million members is 2 GB of memory and 20 GB of disk.
MAX_MEMBERS = 1_000_000
# Local worker processes: each holds the compiled model (about 200 MB), so 256 is 50 GB.
MAX_WORKERS = 256
# Coarse members are written to the store in one part file every FLUSH_MEMBERS members
# (``$SOVSIM_STORE_FLUSH`` to change it) or FLUSH_SECONDS, whichever comes first.
FLUSH_MEMBERS = int(os.environ.get("SOVSIM_STORE_FLUSH", "512"))
FLUSH_SECONDS = 5.0
# An ensemble computed whole keeps its coarse members' annual values in memory for its bands
# up to HOLD_BYTES (a member's are about ANNUAL_BYTES_PER_MEMBER: 42 variables x 20 years x
# up to 7 columns x 8 bytes): about 12,000 members; a larger one reads its parts back.
ANNUAL_BYTES_PER_MEMBER = 42 * 20 * 6 * 8
HOLD_BYTES = 5e8


def check_members(members: Any) -> int:
    if not isinstance(members, (int, np.integer)) or isinstance(members, bool) or members < 1:
        raise SovsimError(f"--members {members!r}: an ensemble needs at least 1 member")
    if members > MAX_MEMBERS:
        raise SovsimError(f"--members {members:,}: at most {MAX_MEMBERS:,} members per "
                          "scenario (split a larger study into several seeds)")
    return int(members)


class _MemberWriter:
    """Buffers an ensemble's coarse members and writes them as part files, every
    FLUSH_MEMBERS members or FLUSH_SECONDS, and whatever is left on ``flush``."""

    def __init__(self, store, eid: str, scenario: str, freq: str):
        self.store, self.eid, self.scenario, self.freq = store, eid, scenario, freq
        self.rows: list[tuple] = []
        self.links: dict[int, str] = {}  # members stored by themselves (household runs)
        self.last = time.monotonic()

    def add(self, member: int, rid: str, manifest: dict, values: dict) -> None:
        self.rows.append((member, rid, manifest, values))
        if len(self.rows) >= FLUSH_MEMBERS or time.monotonic() - self.last > FLUSH_SECONDS:
            self.flush()

    def link(self, member: int, rid: str) -> None:
        self.links[member] = rid
        if len(self.links) >= FLUSH_MEMBERS or time.monotonic() - self.last > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.rows or self.links:
            rows, links, self.rows, self.links = self.rows, self.links, [], {}
            self.store.put_members(self.eid, self.scenario, rows, freq=self.freq, links=links)
        self.last = time.monotonic()


def run(scenarios: str | Path | Scenario | Iterable[str | Path | Scenario], *, members: int,
        seed: int = 0, households: int = 0, workers: int = 1, scheduler: Any = None,
        store: Any = None, params: ParameterSet | None = None,
        params_file: str | Path | None = None, names: Iterable[str] | None = None,
        draw_weather: bool = False, weather_from: int | None = None, monthly: bool = False,
        draws_from: str | Path = "posterior",
        progress: Callable[[int, int], None] | None = None) -> Ensemble:
    """Run an ensemble of ``members`` for each scenario, on common random numbers.

    Parameters
    ----------
    scenarios : one scenario (name, path or Scenario) or several.
    members : how many members (1 .. MAX_MEMBERS); member ``i`` gets draw ``i`` of ``seed``.
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
    names : the parameters to draw from their priors (``[]``: none, every member at the
        central values); default: what ``draws_from`` says.
    draws_from : ``"posterior"`` (the default): the shipped calibrated posterior
        (``params.posterior``), the parameters it fitted drawn together, the others at their
        central values; ``"priors"``: every parameter with a prior drawn from it, independently
        (the wide ranges of the parameter files, not a calibration); or the path of a
        posterior sample (``sovsim calibrate --method abc-rm`` writes one). What the members
        were drawn from is in every manifest (``drawn_from``).
    draw_weather : draw the weather from the historical record from ``weather_from`` (default:
        the first harvest after the earliest divergence among ``scenarios``).
    monthly : store coarse members' monthly values (twelve times the bytes), not only their
        annual ones; needed for :meth:`Ensemble.member` of a coarse member.
    progress : called as ``progress(done, total)`` after each member.
    """
    from sovsim.api import _git_commit, _shipped_parameters
    from sovsim.store.keys import code_hash, data_hash, package_version, run_id
    from sovsim.store.parts import StoredAnnual
    from sovsim.store.store import Store

    members, seed = check_options(members=members, households=households, workers=workers,
                                  seed=seed, scheduler=scheduler)
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
    drawn, draws, drawn_from = parameter_draws(base, members, seed, names, draws_from)
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
    freq = "monthly" if monthly or households else "annual"
    common = {"resolution": "households" if households else "cells",
              "households": int(households), "freq": freq, "code_hash": code_hash(),
              "data_hash": data_hash(), "sovsim_version": package_version(),
              "git_commit": _git_commit()}
    # Members' manifests name their stored runs: made only when there is a store.
    # A member's parameters are the central set's and its drawn values: hashed together
    # (building each member's ParameterSet here would cost a millisecond a member).
    central = base.digest()
    member_hash = [hashlib.sha256((central + json.dumps(d, sort_keys=True)).encode()
                                  ).hexdigest()[:16] for d in draws] if st is not None else []
    weather_hash = [None if w is None else hashlib.sha256(w.tobytes()).hexdigest()[:16]
                    for w in weathers]
    if drawn_from["from"] in (PRIORS, "none"):
        priors = base.priors()
        priors_hash = hashlib.sha256(json.dumps({n: priors[n].as_dict() for n in drawn},
                                                sort_keys=True).encode()).hexdigest()[:16]
    else:
        priors_hash = drawn_from["sample_hash"]  # (the posterior sample's, then)

    ens = Ensemble(labels, members, seed, {}, store=st)
    todo: list[tuple[int, int]] = []  # (scenario index, member)
    manifests: dict[tuple[int, int], dict] = {}
    stacks: dict[str, list] = {}
    writers: dict[str, _MemberWriter] = {}
    done = 0
    total = members * len(scs)
    if progress:
        progress(0, total)
    for k, sc in enumerate(scs):
        em = {"kind": "ensemble", "scenario": sc.name, "scenario_hash": sc.content_hash,
              "parameters_hash": base.digest(), "priors_hash": priors_hash, "drawn": len(drawn),
              "drawn_from": drawn_from, "seed": seed, "members": members, "weather": weather_spec, **common}
        ens.manifests[sc.name] = em
        if st is None:
            stacks[sc.name] = [None] * members
            todo += [(k, i) for i in range(members)]
            continue
        mids = []
        for i in range(members):
            mm = {"kind": "member", "scenario": sc.name, "scenario_hash": sc.content_hash,
                  "parameters_hash": member_hash[i], "seed": seed, "member": i,
                  "weather": weather_spec, "weather_hash": weather_hash[i], **common}
            if households:
                mm["household_seed"] = member_seed(seed, i)
            manifests[k, i] = mm
            mids.append(run_id(mm))
        ens.member_ids[sc.name] = mids
        eid = st.begin_ensemble(em)
        ens.ids[sc.name] = eid
        writers[sc.name] = _MemberWriter(st, eid, sc.name, freq)
        have = st.check_runs(mids)  # stored, in files that pass their checksum
        linked = st.members(eid)
        new_links = {i: r for i, r in enumerate(mids) if r in have and linked.get(i) != r}
        st.link(eid, new_links, sc.name)
        for i, rid in enumerate(mids):
            if rid in have:
                if households:
                    ens.household.setdefault(sc.name, [None] * members)[i] = st.table(
                        rid, HOUSEHOLD_SUMMARY)
                done += 1
            else:
                todo.append((k, i))
        entry = st.get(eid)
        if not any(kk == k for kk, _ in todo) and entry.status == "complete":
            try:
                st.bands(eid)
            except SovsimError as exc:  # a corrupt band table: made again below
                st.drop_files([st.rel(st.path(eid) / "bands.parquet")], str(exc))
    if progress:
        progress(done, total)

    annual_back = freq == "annual"  # coarse members need send back only annual values
    # Coarse annual members computed here are kept in memory too, while they fit, so that the
    # bands of an ensemble computed whole are made without reading its parts back.
    held: dict[str, dict[str, np.ndarray]] = {}
    hold = (st is not None and annual_back and not households
            and members * ANNUAL_BYTES_PER_MEMBER <= HOLD_BYTES)
    filled = {labels[k]: 0 for k in range(len(scs))}

    def on_result(key: tuple[int, int], result: Any) -> None:
        nonlocal done
        k, i = key
        name = labels[k]
        if households:
            records, summary = result
            ens.household.setdefault(name, [None] * members)[i] = summary
        else:
            records, summary = result, None
        if st is None:
            # (coarse members without a store come back as annual values already)
            stacks[name][i] = records if annual_back and not households else annualize(records)
        elif households:
            rid = st.put_run(manifests[k, i], records, kind="member",
                             ensemble=(ens.ids[name], i), tables={HOUSEHOLD_SUMMARY: summary})
            writers[name].link(i, rid)  # recorded in a part too, for a rebuilt index
        else:
            writers[name].add(i, ens.member_ids[name][i], manifests[k, i], records)
            if hold:
                arrays = held.setdefault(name, {})
                for v, arr in records.items():
                    if v not in arrays:
                        arrays[v] = np.empty((members, *arr.shape))
                    arrays[v][i] = arr
                filled[name] += 1
        done += 1
        if progress:
            progress(done, total)

    tasks = [((k, i), k, draws[i], weathers[i],
              (int(households), member_seed(seed, i)) if households else None)
             for k, i in todo]
    for k in range(len(scs)):
        ens.computed.setdefault(labels[k], sum(1 for kk, _ in todo if kk == k))
    try:
        if tasks:
            execute(tasks, scs, base, workers=workers, scheduler=scheduler,
                    on_result=on_result, annual=annual_back)
    finally:  # interrupted or not, what was computed is kept
        for w in writers.values():
            w.flush()
    for name in labels:
        if st is None:
            rows = stacks[name]
            ens.annual[name] = {v: np.stack([r[v] for r in rows]) for v in rows[0]}
            continue
        eid = ens.ids[name]
        ens.annual[name] = StoredAnnual(st, eid, members)
        if hold and filled[name] == members:  # every member computed now: no read back
            ens.annual[name].hold(held.pop(name))
        entry = st.get(eid)
        if entry.status != "complete" or st.sha256(st.rel(st.path(eid) / "bands.parquet")) is None:
            st.finish_ensemble(eid, band_table(name, ens.annual[name]))
    return ens


def _check_households(households: Any) -> None:
    from sovsim.population.build import full_size

    real = full_size(1921)
    if isinstance(households, bool) or not isinstance(households, (int, np.integer)) or not (
            5 <= households <= real):
        raise SovsimError(f"--households {households!r}: household rows per member, from 5 "
                          f"to {real:,} (every household of 1921); 0 runs the cell model")


def check_options(*, members: Any, households: Any = 0, workers: Any = 1, seed: Any = 0,
                  scheduler: Any = None) -> tuple[int, int]:
    """(members, seed) once the sizes of an ensemble are within their bounds (MAX_MEMBERS,
    MAX_WORKERS, the households of 1921); a SovsimError naming the option otherwise. The
    command line calls it before it shows anything, ``run`` before any work."""
    if households:
        _check_households(households)
    members = check_members(members)
    if scheduler is None and (not isinstance(workers, (int, np.integer))
                              or isinstance(workers, bool) or not 1 <= workers <= MAX_WORKERS):
        raise SovsimError(f"--workers {workers!r}: from 1 to {MAX_WORKERS} local worker "
                          "processes")
    seed = int(seed)
    if seed < 0:
        raise SovsimError(f"--seed {seed}: a seed is a whole number >= 0")
    return members, seed


def member_seed(seed: int, member: int) -> int:
    """The household engine's seed of member ``member``: addressed by (seed, member), so a
    member's households are the same whatever the order or place it runs."""
    from sovsim.population.rng import stream_key

    return int(stream_key(seed, 300, member) >> np.uint64(33))


# -- single runs through the store ----------------------------------------------------------
def stored_run(scenario: str | Path | Scenario, *, store: Any = None, seed: int = 0,
               params_file: str | Path | None = None) -> tuple[Results, bool]:
    """``sovsim.run`` recorded in the store; an identical manifest (same code, input data,
    parameters and scenario) returns the stored result without running. Returns (results,
    True if it came from the store)."""
    from sovsim import api
    from sovsim.store.keys import keyed, run_id
    from sovsim.store.store import Store

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    p = api._shipped_parameters()
    if params_file is not None:
        p = p.with_overrides(load_overrides(Path(params_file)))
    st = store if isinstance(store, Store) else Store(store)
    probe = keyed(api.results_of(sc, p, {}, seed=seed).manifest)
    rid = run_id(probe)
    if rid in st.check_runs([rid]):
        entry = st.get(rid)
        try:
            return Results(sc.name, st.records(rid), entry.manifest), True
        except SovsimError as exc:  # failed its check since: computed again
            st.drop_files([entry.location], str(exc))
    res = api.run(sc, seed=seed, params=p)
    res.manifest.update(keyed(res.manifest))
    st.put_run(res.manifest, res.records, kind="run")
    return res, False
