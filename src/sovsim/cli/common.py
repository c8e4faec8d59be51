"""What every command of the command line shares, defined once: the consoles, the one-line
error, checks of paths and options made before any work starts, and the headline variables.

Errors print user text literally (never as Rich markup), with control characters escaped, on
one line: ``error: FILE: KEY: what is wrong (allowed: ...)``, exit code 2.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.text import Text

# Wide tables stay readable when output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)

MAX_MESSAGE = 600  # characters of an error line; a longer one is cut, with a mark
# Local worker processes of any command (as sovsim.ensemble.runner.MAX_WORKERS): each holds
# the compiled model, about 200 MB, so 256 of them are 50 GB.
MAX_WORKERS = 256

# The headline variables: name, display scale, label (Mt: million tonnes).
HEADLINE = (
    ("grain_harvest_t", 1e6, "harvest, Mt"),
    ("grain_procurement_t", 1e6, "procurement, Mt"),
    ("grain_exports_t", 1e6, "exports, Mt"),
    ("horses_head", 1e6, "horses, million"),
    ("cattle_head", 1e6, "cattle, million"),
    ("urban_population_persons", 1e6, "urban pop., million"),
    ("collectivized_share", 0.01, "collectivized, %"),
    ("industrial_output_index", 1, "industry, 1928=100"),
    ("gdp_per_capita_index", 1, "GDP/head, 1928=100"),
    ("excess_deaths_persons", 1e3, "excess deaths, thousand"),
    ("food_kcal_per_person_day", 1, "food, kcal/day"),
)
HEADLINE_YEARS = ("1928", "1932", "1933", "1937", "1940")

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plain(text: object) -> str:
    """``text`` as one printable line: control characters escaped, long text cut."""
    s = str(text)
    s = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in s)
    if len(s) > MAX_MESSAGE:
        s = s[:MAX_MESSAGE] + f"... ({len(s) - MAX_MESSAGE:,} more characters)"
    return s


def fail(exc: object) -> NoReturn:
    """Print ``error: <exc>`` on stderr, literally, and exit with code 2."""
    line = Text("error:", style="bold red")
    line.append(" " + plain(exc))
    err.print(line, soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


def say(text: object) -> None:
    """Print a line of output that holds user text (a path, a scenario name) literally."""
    console.print(Text(plain(text)), soft_wrap=True, highlight=False)


def check_out_dir(path: Path | None, option: str = "--out") -> None:
    """Refuse, before any work, an output directory that cannot be written: an existing file
    (``/dev/null`` included), or a directory (or the nearest existing parent of a new one)
    that is not writable."""
    if path is None:
        return
    if "\0" in str(path):
        fail(f"{option} {str(path)!r}: a NUL character in the path")
    if path.exists() and not path.is_dir():
        fail(f"{option} {path}: exists and is not a directory")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        fail(f"{option} {path}: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        fail(f"{option} {path}: {probe} is not writable")


def check_plot(path: Path | None, option: str = "--plot") -> None:
    """Refuse, before any work, a chart path with an unknown format or that cannot be
    written."""
    if path is None:
        return
    if path.suffix.lower() not in PLOT_SUFFIXES:
        fail(f"{option} {path}: unknown chart format {path.suffix or '(none)'!r} "
             f"(allowed: {', '.join(PLOT_SUFFIXES)})")
    if path.is_dir():
        fail(f"{option} {path}: a directory; give a file name ending in .png, .svg or .pdf")
    check_out_dir(path.parent, option=f"{option} {path}: its directory")


def check_params(path: Path | None) -> None:
    """Refuse, before any work, a parameter file that cannot be read or holds a wrong value
    (the same checks as the run makes)."""
    if path is None:
        return
    from sovsim.api import shipped_parameters
    from sovsim.errors import SovsimError
    from sovsim.params import load_overrides

    try:
        shipped_parameters().with_overrides(load_overrides(path))
    except SovsimError as exc:
        fail(f"--params: {exc}")


def check_count(option: str, value: int | None, *, least: int = 0,
                most: int | None = None) -> None:
    """Refuse an integer option below ``least`` (or above ``most``)."""
    if value is None:
        return
    if value < least or (most is not None and value > most):
        top = f" to {most:,}" if most is not None else " or more"
        fail(f"{option}: {value:,} is out of range (allowed: {least:,}{top})")


def check_number(option: str, value: float, *, least: float = 0.0) -> None:
    """Refuse NaN, infinity, and values below ``least``."""
    if not math.isfinite(value) or value < least:
        fail(f"{option}: {value} is not allowed (allowed: a finite number >= {least:g})")


def json_default(obj):
    """numpy scalars in JSON output (``json.dumps(..., default=json_default)``)."""
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj)}")
