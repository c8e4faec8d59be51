"""Plain words for readers (the web page, the charts): instruments by a human label in the units a teacher reads
(the internal name stays on hover), and source variants by author and year."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# instrument: label, display unit, display scale (display value = value / scale)
INSTRUMENTS: dict[str, tuple[str, str, float]] = {
    "procurement_mode": ("how the state gets grain", "", 1.0),
    "tax_in_kind_share": ("tax in kind", "share of the harvest", 1.0),
    "state_grain_price_index": ("state grain price", "index, 1926/27 = 1", 1.0),
    "industrial_price_index": ("price of manufactures in the village", "index, 1926/27 = 1", 1.0),
    "procurement_plan_t": ("grain procurement plan", "million tonnes a year", 1e6),
    "regional_procurement_plan_t": ("a region's procurement plan", "million tonnes a year", 1e6),
    "quota_share": ("delivery quota", "share of the planned harvest", 1.0),
    "planned_yield_t_per_ha": ("planned grain yield", "tonnes per hectare", 1.0),
    "procurement_floor_kg_per_person_year": ("grain left to each villager at least",
                                             "kg per person a year", 1.0),
    "enforcement_efficiency": ("force of collection",
                               "share of what is owed collected a month", 1.0),
    "collectivization_target_share": ("collectivization target",
                                      "share of peasant households", 1.0),
    "collectivization_pace_per_month": ("pace of collectivization",
                                        "share of the gap closed a month", 1.0),
    "voluntary_exit": ("peasants may leave the kolkhoz", "yes or no", 1.0),
    "dekulakization_rate_per_month": ("dekulakization", "share of kulak households a month",
                                      1.0),
    "investment_share": ("investment", "share of GDP", 1.0),
    "feldman_share": ("heavy industry's part of investment", "share of industrial investment",
                      1.0),
    "grain_export_target_t": ("grain export plan", "million tonnes a year", 1e6),
    "foreign_credit_rub_per_year": ("foreign credit", "million roubles (1926/27 prices) a year",
                                    1e6),
    "private_trade": ("private trade allowed", "yes or no", 1.0),
    "rationing": ("rationing in the towns", "yes or no", 1.0),
    "passports": ("internal passports", "yes or no", 1.0),
    "famine_relief_t": ("famine relief", "million tonnes a year", 1e6),
    "kolkhoz_private_plots": ("private plots for kolkhozniki", "yes or no", 1.0),
    "soft_budget": ("soft budget for state firms", "yes or no", 1.0),
    # issue 15 (measures)
    "delivery_norm_t_per_ha": ("grain delivery norm", "centners per hectare", 0.1),
    "blacklist_share": ("villages on the black boards", "share of villages", 1.0),
    "mobility_ban": ("ban on leaving the region", "share of flight stopped", 1.0),
    # issue 15 (stategrain)
    "seed_loan_t_per_month": ("state seed loans to a region", "thousand tonnes a month", 1e3),
    "food_loan_t_per_month": ("state food loans to a region", "thousand tonnes a month", 1e3),
    "loan_repayment_share": ("loans repaid from the next harvest", "share of what is owed",
                             1.0),
    "gulag_persons": ("prisoners in the camps", "thousand persons", 1e3),
    "state_reserve_target_t": ("the state's untouchable grain reserve", "million tonnes", 1e6),
    "cotton_zones_grain_t_per_year": ("grain shipped to the cotton zones",
                                      "million tonnes a year", 1e6),
    "timber_construction_grain_t_per_year": ("rations of timber and construction workers",
                                             "million tonnes a year", 1e6),
    "state_seed_feed_t_per_year": ("state seed and feed", "million tonnes a year", 1e6),
}


def instrument_words(name: str, unit: str) -> dict[str, Any]:
    """The label, display unit and scale of an instrument (its name, its unit and 1 for one
    not listed: a new instrument is shown, if not yet in plain words)."""
    label, shown, scale = INSTRUMENTS.get(name, (name.replace("_", " "), unit, 1.0))
    return {"label": label, "display_unit": shown, "scale": scale}


_PERSON = re.compile(r"(?:[A-Z]\.\s*|[A-Z][a-z'-]+\s+){1,3}([A-Z][a-z][\w'-]*)")


def _surnames(author: str, key: str) -> str:
    """'S. G. Wheatcroft and R. W. Davies' -> 'Wheatcroft & Davies'; a body by its name
    ('TsUNKhU Gosplana SSSR'); an unnamed author ('not recorded', 'unattributed ...') by the
    source's key in words."""
    text = re.split(r"[(;:]", author)[0].strip()
    if not text or not text[0].isupper():
        return " ".join(w for w in key.split("_") if not w.isdigit()).capitalize()
    people = [p.strip() for p in re.split(r",| and | & ", text) if p.strip()[:1].isupper()]
    names = []
    for p in people:
        m = _PERSON.fullmatch(p)
        names.append(m.group(1) if m else p)
    if len(names) > 2:
        return f"{names[0]} et al."
    out = " & ".join(names)
    return out if len(out) <= 40 else out[:39] + "…"


def variant_label(variant: str, sources: set[str], bibliography: dict[str, dict]) -> str:
    """A readable label of a source variant: 'Davies & Wheatcroft 2004, high' when all its
    points have one source; else the variant in words with its number of sources."""
    words = variant.replace("_", " ")
    if len(sources) != 1:
        return f"{words} ({len(sources)} sources)"
    key = next(iter(sources))
    entry = bibliography.get(key)
    if not entry:
        return f"{words} ({key.replace('_', ' ')})"
    who = _surnames(str(entry.get("author", "")), key)
    year = entry.get("year", "")
    year = "" if str(year) == "n.d." else year
    known = {w.lower() for w in re.findall(r"\w+", who)} | {str(year)}
    rest = [w for w in variant.split("_") if w.lower() not in known]
    return f"{who} {year}".strip() + (f", {' '.join(rest)}" if rest else "")


def chart_text(text: str) -> str:
    """User text (a scenario name) as matplotlib draws it literally: ``$`` not read as the
    start of mathematics, and characters the font has no glyph for (an emoji) as ``?``
    (matplotlib would warn of each)."""
    glyphs = _font_glyphs()
    out = "".join(ch if ord(ch) < 128 or ord(ch) in glyphs else "?" for ch in text)
    return out.replace("$", r"\$")


@cache
def _font_glyphs() -> frozenset[int]:
    from matplotlib import font_manager, ft2font, rcParams

    path = font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"]))
    return frozenset(ft2font.FT2Font(path).get_charmap())
