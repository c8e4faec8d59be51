"""``sovsim run --households`` and ``sovsim bench --households``: the household engine on the
command line (a progress bar over months, Ctrl-C, the benchmark's figures)."""

from __future__ import annotations

import json
import sys
import time

import typer
from rich.progress import Progress

from sovsim.cli.common import console, err
from sovsim.cli.common import fail as _fail
from sovsim.cli.ensemble import _progress_columns
from sovsim.errors import SovsimError


def household_run(scenario, households, panel, heterogeneity, seed, params_file):
    """A household run with a progress bar over months once it has taken a second; Ctrl-C
    stops it between months with nothing written."""
    from sovsim.api import run


    bar = Progress(*_progress_columns(), console=err, transient=True)
    t0 = time.perf_counter()
    state = {"task": None}

    def progress(done: int, total: int) -> None:
        if state["task"] is None:
            if time.perf_counter() - t0 < 1.0:
                return
            bar.start()
            state["task"] = bar.add_task("months", total=total)
        bar.update(state["task"], completed=done)

    try:
        return run(scenario, seed=seed, params_file=params_file, households=households,
                          panel=panel, heterogeneity=heterogeneity, progress=progress)
    except KeyboardInterrupt:
        bar.stop()
        err.print("interrupted: the run stopped between two months; nothing was written")
        raise typer.Exit(code=130) from None
    finally:
        bar.stop()


def bench_households(households: list[int], months: int, heterogeneity: bool, as_json: bool,
                     repeat: int = 1, mesa_agents: int = 0) -> None:
    from sovsim.households import bench

    try:
        out = bench.bench_households(households[0] if len(households) == 1 else households,
                                     months, heterogeneity=heterogeneity, repeat=repeat,
                                     mesa_agents=mesa_agents)
    except SovsimError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
        return
    gib = 1024 ** 3
    for one in out.get("sizes", [out]):
        console.print(
            f"household engine: {one['households']:,} households x {one['months']} months\n"
            f"  wall {one['wall_s']:.1f} s (population {one['build_s']:.1f} s, months "
            f"{one['run_s']:.1f} s), {one['household_months_per_s'] / 1e6:.1f} million "
            f"household-months/s on {one['threads']} threads"
            + (f" (fastest of {one['repeat']}: months "
               + ", ".join(f"{t:.2f}" for t in one["run_s_all"]) + " s)" if one["repeat"] > 1
               else "") + "\n"
            f"  table {one['table_bytes'] / gib:.2f} GiB; "
            f"{one['bytes_per_household_month']:.1f} bytes a household-month; triad "
            f"bandwidth {one['triad_bytes_per_s'] / 1e9:.1f} GB/s; roofline ratio "
            f"{one['roofline_ratio']:.2f} (1 = as fast as memory allows)")
    console.print(f"peak memory {out['peak_rss_bytes'] / gib:.2f} GiB")
    if "flatness" in out:
        console.print(f"throughput, lowest over highest across the sizes: {out['flatness']:.2f} "
                      "(the sizes were run in rounds, the fastest of each kept)")
    mesa = out.get("mesa")
    if mesa and "skipped" in mesa:
        console.print(f"Mesa comparison skipped: {mesa['skipped']}")
    elif mesa:
        console.print(
            f"Mesa {mesa['mesa_version']}, the sowing, harvest, delivery and food rule: "
            f"{mesa['agents']:,} agents x {mesa['months']} months, "
            f"{mesa['mesa_agent_months_per_s'] / 1e6:.2f} million agent-months/s\n"
            f"  the same rule compiled: {mesa['rule_household_months_per_s'] / 1e6:.0f} million"
            f" household-months/s, {mesa['rule_speedup']:.0f}x Mesa\n"
            f"  the household engine's whole month (lowest rate above): "
            f"{mesa['engine_speedup']:.0f}x Mesa (aim: {mesa['aim']}x)")


def print_summary(tables) -> None:
    """What only households give, in brief: grain per head in June 1933 by class, and the
    deaths and deportees of 1930-1933 by class (USSR); the rest is written with --out."""
    from rich.table import Table

    g = tables["household_grain_per_head"]
    g = g[(g["region"] == "USSR") & (g["period"] == "1933-06")]
    f = tables["household_flows"]
    f = f[f["year"].between(1930, 1933)].groupby(["class", "variable"])["value"].sum()
    t = Table(title="households, USSR: grain per head in June 1933 (kg; persons weighted) and "
              "1930-1933 totals")
    for col in ("class", "p10", "median", "p90", "without grain", "deaths", "deported"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for klass in ("poor", "middle", "kulak", "all"):
        row = g[g["class"] == klass]
        if row.empty:
            continue
        r = row.iloc[0]
        deaths = f.loc[:, "deaths"].sum() if klass == "all" else f.get((klass, "deaths"), 0.0)
        dep = (f.loc[:, "deported_persons"].sum() if klass == "all"
               else f.get((klass, "deported_persons"), 0.0))
        t.add_row(klass, f"{r.p10_kg:,.0f}", f"{r.p50_kg:,.0f}", f"{r.p90_kg:,.0f}",
                  f"{r.share_without_grain:.1%}", f"{deaths:,.0f}", f"{dep:,.0f}")
    console.print(t)
