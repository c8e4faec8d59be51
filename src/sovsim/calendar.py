"""Months: the one time type of sovsim (model.md, "Time and units").

A month is an integer index from 1921-01 (index 0) to 1940-12 (index 239). The agricultural
year runs July-June and is labelled by its harvest year (1932/33 -> 1932).
"""

from __future__ import annotations

import re

START_YEAR = 1921
END_YEAR = 1940
N_MONTHS = (END_YEAR - START_YEAR + 1) * 12
_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """Return the month index of ``"YYYY-MM"``; ValueError names what is wrong.

    Examples
    --------
    >>> parse_month("1921-01"), parse_month("1930-03")
    (0, 110)
    """
    if not isinstance(text, str):
        raise ValueError(f"a date must be a string 'YYYY-MM', got {text!r}")
    m = _PATTERN.match(text.strip())
    if not m:
        raise ValueError(f"bad date {text!r}: expected 'YYYY-MM'")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"bad date {text!r}: month must be 01-12")
    if not START_YEAR <= year <= END_YEAR:
        raise ValueError(f"bad date {text!r}: the model runs {START_YEAR}-01 to {END_YEAR}-12")
    return (year - START_YEAR) * 12 + month - 1


def label(index: int) -> str:
    """``"YYYY-MM"`` of a month index.

    >>> label(110)
    '1930-03'
    """
    return f"{year_of(index)}-{index % 12 + 1:02d}"


def year_of(index: int) -> int:
    return START_YEAR + index // 12


def calendar_month(index: int) -> int:
    """1..12."""
    return index % 12 + 1


def harvest_year(index: int) -> int:
    """Agricultural year (July-June) labelled by its harvest year: 1933-02 -> 1932."""
    y = year_of(index)
    return y if calendar_month(index) >= 7 else y - 1


def months_to_harvest(index: int) -> int:
    """Months until the next harvest starts (July), counting this month; 1..12."""
    cm = calendar_month(index)
    return (7 - cm) % 12 or 12


def decimal_year(period: str, annual: float = 0.5) -> float:
    """A period label as a point in time for charts: 'YYYY-MM' (or 'YYYY-MM-DD') is the month's
    start, 'YYYY' is ``annual`` into the year (mid-year by default). Raises ValueError."""
    year = int(period[:4])
    if len(period) >= 7:
        return year + (int(period[5:7]) - 1) / 12.0
    if len(period) != 4:
        raise ValueError(f"not a period label: {period!r}")
    return year + annual
