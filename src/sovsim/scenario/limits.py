"""The limits of a scenario, declared once: the command line's loader and the web app's request
model both read them, so a scenario file loads in both or is refused by both with the same
message (docs/scenarios.md, "Limits").

They bound what a hand-written or generated scenario needs with a wide margin (the shipped
``historical`` has 66 changes and is 11 kB), and keep a hostile file from costing memory or
time, or from naming a file outside the output directory.
"""

from __future__ import annotations

import re

MAX_FILE_BYTES = 200_000  # a scenario file (or an upload's TOML text), in bytes of UTF-8
MAX_CHANGES = 400  # a scenario's own changes ([[change]] tables)
MAX_EXTENDS_DEPTH = 16  # files in a chain of `extends`
MAX_NESTING = 32  # brackets and braces open at once in a file's TOML
# text fields: the longest accepted, in characters
MAX_TEXT = {"name": 80, "title": 200, "description": 4000, "source": 500, "note": 2000}
# one-line fields: no line breaks or tabs; the others may hold them (and no other control)
ONE_LINE = ("name", "title", "source")
MAX_FILE_STEM = 80  # an output file's name, from the scenario name

DATE = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)


# Characters a text field may not hold: control characters (line breaks and tabs allowed in
# the multi-line fields), the bidirectional overrides that make text read otherwise than it
# is, and lone surrogates (not text); a name may hold no path separator either.
_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
_LINE = "\\t\\n\\r"
# JSON-schema patterns of the text fields (the web app publishes them; Python's re reads them)
PATTERN = {key: "^[^" + _CONTROL + ("" if key not in ONE_LINE else _LINE)
           + ("/\\\\" if key == "name" else "") + "]*$" for key in MAX_TEXT}
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates (not in the patterns: the
# schema regex engines cannot name them)
_FORBIDDEN = {key: re.compile("[" + p[3:-3] + "]") for key, p in PATTERN.items()}


def text_problem(key: str, value: str) -> str | None:
    """What is wrong with a scenario's text field ``key`` (name, title, description, or a
    change's source or note), or None."""
    limit = MAX_TEXT[key]
    if len(value) > limit:
        return f"{len(value):,} characters, over the limit of {limit:,}"
    if key == "name" and not value:
        return "empty (a name is needed: it names the output files)"
    bad = _FORBIDDEN[key].search(value) or _SURROGATE.search(value)
    if bad is None:
        return None
    ch = bad.group()
    if ch in "/\\":
        return "may not contain '/' or '\\' (it names the output files)"
    return f"character U+{ord(ch):04X} at position {bad.start()} is not allowed (a control or " \
        "direction-override character)"


def date_problem(value: object) -> str | None:
    """What is wrong with the form of a date (``YYYY-MM`` in ASCII digits), or None; the
    calendar then checks the month and the span."""
    if not isinstance(value, str):
        return f"a date must be a string 'YYYY-MM', got {type(value).__name__} {value!r}"
    if not DATE.fullmatch(value):
        return f"bad date {value!r}: expected 'YYYY-MM' in ASCII digits"
    return None


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in TOML text outside strings (an upper bound:
    table headers count once); checked before the parser, whose recursion a deep file would
    exhaust."""
    depth = best = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return best


def file_stem(name: str) -> str:
    """A scenario name as the start of an output file's name: letters, digits, ``-``, ``_``
    and ``.`` kept, anything else (separators, control characters, spaces) as ``_``, no
    leading dot, at most :data:`MAX_FILE_STEM` characters; never empty.

    >>> file_stem("../../etc/x"), file_stem("НЭП 1928"), file_stem("")
    ('_.._etc_x', 'НЭП_1928', 'scenario')
    """
    out = "".join(ch if (ch.isalnum() or ch in "-_.") and ch.isprintable() else "_"
                  for ch in name)
    out = out.lstrip(".")[:MAX_FILE_STEM]
    return out or "scenario"
