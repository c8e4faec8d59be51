"""A short narrative per regime, built from a run's numbers by templates.

The periods are those historians use for the era, named by what happened in history (a
scenario's own policy in each is stated in its first sentence); the sentences fill in the
run's own figures, the historical run's beside them,
and the policy the scenario had in force. No sentence is written unless its numbers are.
"""

from __future__ import annotations

import math

import numpy as np

from sovsim import calendar
from sovsim.scenario import catalogue
from sovsim.scenario.loader import Scenario

REGIMES: tuple[tuple[str, int, int], ...] = (
    ("War Communism's end and early NEP", 1921, 1923),
    ("NEP", 1924, 1927),
    ("The Great Turn and the First Five-Year Plan", 1928, 1932),
    ("Famine and the Second Five-Year Plan", 1933, 1937),
    ("The Third Five-Year Plan", 1938, 1940),
)


FIRST = 1921  # index 0 of the annual arrays


def _mean(values: np.ndarray, y0: int, y1: int) -> float:
    return float(np.mean(values[y0 - FIRST:y1 - FIRST + 1]))


def _total(values: np.ndarray, y0: int, y1: int) -> float:
    return float(np.sum(values[y0 - FIRST:y1 - FIRST + 1]))


def _policy(sc: Scenario, y0: int, y1: int) -> str:
    """The policy in force in the middle of a regime, in words."""
    tl = sc.timeline()
    cat = catalogue()
    month = calendar.parse_month(f"{(y0 + y1) // 2}-07")
    mode = cat["procurement_mode"].choices[int(tl["procurement_mode"][month, 0])]
    words = {"market": "market purchases", "tax_in_kind": "a tax in kind",
             "requisition": "requisition", "extraordinary": "extraordinary measures",
             "quota": "compulsory quotas"}.get(mode, mode)
    parts = [f"grain procured by {words}"]
    parts.append("private trade legal" if tl["private_trade"][month, 0] else "private trade banned")
    target = float(tl["collectivization_target_share"][month, 0])
    if target > 0:
        parts.append(f"a collectivization target of {target:.0%}")
    dek = float(tl["dekulakization_rate_per_month"][month, 0])
    if dek > 0:
        parts.append("dekulakization under way")
    parts.append(f"investment at {float(tl['investment_share'][month, 0]):.0%} of output")
    exports = float(tl["grain_export_target_t"][month, 0])
    decided = any(c.instrument == "grain_export_target_t" and c.month <= month
                  for c in sc.changes)
    if exports > 0:
        parts.append(f"grain exports planned at {_tonnes(exports)} a year")
    elif decided:
        parts.append("no grain exports planned")
    else:  # the instrument's default: no plan in the sources for these years
        parts.append("no grain export plan found for these years")
    return ", ".join(parts)


def _tonnes(t: float) -> str:
    """Tonnes in words a reader takes in: '1.6 million t', '450 thousand t'."""
    if t >= 0.95e6:
        return f"{t / 1e6:.1f} million t"
    if t >= 1e3:
        return f"{t / 1e3:.0f} thousand t"
    return f"{t:.0f} t"


def _people(n: float) -> str:
    if n >= 0.95e6:
        return f"{n / 1e6:.1f} million"
    if n >= 1e3:
        return f"{round(n, -3) / 1e3:.0f} thousand"
    return "fewer than a thousand" if n >= 1 else "none"


def change_words(start: float, end: float, rising: str, falling: str, what: str) -> str:
    """'grew from 20.1 to 25.7 million', 'shrank from ...', or 'stayed at about ...': the verb
    agrees with the numbers as printed (within 1 %, 'stayed')."""
    if not (math.isfinite(start) and math.isfinite(end)):
        return ""
    if abs(end - start) <= 0.01 * max(abs(start), 1e-9) or f"{start:.1f}" == f"{end:.1f}":
        return f"{what} stayed at about {end:.1f}"
    verb = rising if end > start else falling
    return f"{what} {verb} from {start:.1f} to {end:.1f}"


def famine_text(deaths: float, low: float, high: float, historical_policy: bool) -> str:
    """The run's excess deaths of 1930-34 beside the published estimates: which were made of
    what happened under the historical policy, so a run of other policies is set beside them,
    not against them."""
    run = f"Excess deaths 1930–34 in this run: {_people(deaths)}."
    record = (f"published estimates for what happened in the USSR range from {_people(low)} "
              f"to {_people(high)}")
    if historical_policy:
        where = ("inside" if low <= deaths <= high else "below" if deaths < low else "above")
        return f"{run} It is {where} the range of {record[0].upper() + record[1:]}."
    return (f"{run} This run's policies differ from history's, so it shows what they would "
            f"have brought; under the policies actually followed, {record}.")


def _versus(value: float, other: float, unit_fmt: str) -> str:
    if not math.isfinite(other) or abs(value - other) <= 0.02 * max(abs(other), 1e-9):
        return ""
    return f" (historical run: {unit_fmt.format(other)})"


def narrative(sc: Scenario, res, hist_series: dict) -> list[dict]:
    """One paragraph per regime: figures of this run, the historical run's where they differ."""
    hist = {k: np.array([np.nan if x is None else x for x in v], dtype=float)
            for k, v in hist_series.items()}
    compulsory, procured = res.values("compulsory_procurement_t"), res.values("grain_procurement_t")
    out = []
    for title, y0, y1 in REGIMES:
        harvest = _mean(res.values("grain_harvest_t"), y0, y1) / 1e6
        proc = _mean(res.values("grain_procurement_t"), y0, y1) / 1e6
        deaths = _total(res.values("excess_deaths_persons"), y0, y1)
        u0 = res.values("urban_population_persons")[y0 - FIRST] / 1e6
        u1 = res.values("urban_population_persons")[y1 - FIRST] / 1e6
        industry = res.values("industrial_output_index")[y1 - FIRST]
        kolkhoz = res.values("collectivized_share")[y1 - FIRST]
        taken = _total(procured, y0, y1)
        compulsion = _total(compulsory, y0, y1) / taken if taken > 0 else math.nan
        text = [f"Policy: {_policy(sc, y0, y1)}."]
        text.append(f"Harvests averaged {harvest:.1f} million t a year"
                    + _versus(harvest, _mean(hist["grain_harvest_t"], y0, y1), "{:.1f}") + "; "
                    f"the state procured {proc:.1f} million t a year"
                    + _versus(proc, _mean(hist["grain_procurement_t"], y0, y1), "{:.1f}")
                    + (f", {compulsion:.0%} of it by compulsion." if math.isfinite(compulsion) else "."))
        hist_deaths = _total(hist["excess_deaths_persons"], y0, y1) * 1e3
        if deaths >= 1e5:
            text.append(f"Hunger killed about {_people(deaths)} people above normal "
                        "mortality" + _versus(deaths / 1e6, hist_deaths / 1e6, "{:.1f} million") + ".")
        else:
            text.append("There was no famine of note"
                        + (f" (the historical run: {_people(hist_deaths)} excess deaths)"
                           if hist_deaths >= 1e5 else "") + ".")
        text.append(change_words(u0, u1, "grew", "shrank", "The towns")
                    + f" million people; industrial output "
                    f"stood at {industry:.0f} (1928 = 100) in {y1}"
                    + _versus(industry, hist["industrial_output_index"][y1 - FIRST], "{:.0f}") + ".")
        if kolkhoz >= 0.01:
            text.append(f"By {y1}, {kolkhoz:.0%} of peasant households were in kolkhozy.")
        out.append({"regime": title, "years": [y0, y1], "text": " ".join(text)})
    return out
