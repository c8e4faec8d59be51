"""``sovsim attribute``: what each policy cost. The difference in one outcome between two
scenarios split among groups of instruments by exact Shapley values
(``sovsim.research.attribution``, docs/attribution.md)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.table import Table

from sovsim.cli.common import check_count, check_plot, console, json_default, say
from sovsim.cli.common import fail as _fail
from sovsim.errors import SovsimError


def attribute(
    scenario: str = typer.Argument(..., help="a shipped name or a .toml path"),
    against: str = typer.Option(..., "--against", help="the reference scenario"),
    outcome: str = typer.Option(..., "--outcome", help="an output variable, e.g. excess_deaths_persons"),
    region: str = typer.Option("USSR", "--region", help="USSR or a region code"),
    period: str | None = typer.Option(None, "--period", help="YYYY or YYYY-YYYY (flows summed, "
                                      "others averaged over the years)"),
    groups: Path | None = typer.Option(None, "--groups", help="a TOML file of group tables "
                                       "(default: data/attribution/groups.toml)"),
    members: int = typer.Option(0, "--members", help="parameter draws from the priors for "
                                "5-95 % bands (common draws across the runs of a member)"),
    seed: int = typer.Option(0, "--seed"),
    normal_weather_from: int | None = typer.Option(None, "--normal-weather-from", help="give "
                                                    "the reference normal weather from this "
                                                    "year and make the weather a group"),
    as_json: bool = typer.Option(False, "--json", help="the table as JSON records"),
    plot: Path | None = typer.Option(None, "--plot", help="a bar chart (PNG/SVG/PDF)"),
) -> None:
    """Split the difference in an outcome between SCENARIO and --against among groups of
    instruments, by exact Shapley values over the groups (2^groups runs a member). A share is
    a statement about the model, not a verdict (docs/attribution.md)."""
    from sovsim.research import attribution as A
    from sovsim.research.attribution import MAX_MEMBERS
    from sovsim.scenario import load_scenario

    check_count("--members", members, least=0, most=MAX_MEMBERS)
    check_count("--seed", seed, least=0)
    check_plot(plot)
    try:
        out = A.outcome(outcome, region, period)
        grp = A.load_groups(groups) if groups is not None else None
        att = A.attribute(load_scenario(scenario), load_scenario(against), out, groups=grp,
                          members=members, seed=seed, normal_weather_from=normal_weather_from)
    except SovsimError as exc:
        _fail(exc)
    table = att.table()
    if as_json:
        payload = {"scenario": att.scenario, "reference": att.reference, "outcome": out.how,
                   "unit": out.unit, "scenario_value": att.scenario_value,
                   "reference_value": att.reference_value, "total": att.total,
                   "members": members, "seed": seed,
                   "groups": {g.name: {"label": g.label, "instruments": att.instruments[g.name]}
                              for g in att.groups},
                   "rows": [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                             for k, v in row.items()} for row in table.to_dict("records")]}
        sys.stdout.write(json.dumps(payload, indent=1, default=json_default) + "\n")
    else:
        t = Table(title=f"{out.how}: {att.scenario} {att.scenario_value:,.0f} minus "
                        f"{att.reference} {att.reference_value:,.0f} = {att.total:,.0f} "
                        f"{out.unit}, by group (Shapley)")
        for col in ("group", "share", "value", *(("5 %", "95 %") if members else ())):
            t.add_column(col, justify="left" if col == "group" else "right")
        labels = {g.name: g.label for g in att.groups}
        for row in table.itertuples(index=False):
            share = "n/a" if math.isnan(row.share) else f"{row.share:.1%}"
            cells = [labels.get(row.group, f"{row.group} (unchanged)"), share, f"{row.value:,.0f}"]
            if members:
                cells += ["" if math.isnan(row.low) else f"{row.low:,.0f}",
                          "" if math.isnan(row.high) else f"{row.high:,.0f}"]
            t.add_row(*cells)
        console.print(t)
        if members:
            say(f"bands: {members} parameter draws from the priors (seed {seed}), all "
                f"{2 ** len(att.groups)} runs of a member with one draw")
        say("a share is what the model's mechanisms make of the instruments' difference, "
            "not a verdict on history (docs/attribution.md)")
    if plot is not None:
        A.plot(att, plot)
        say(f"wrote {plot}")
