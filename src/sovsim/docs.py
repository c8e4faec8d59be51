"""Reference pages generated from the single declarations (instruments, parameters, output
variables), so the docs cannot drift: ``python -m sovsim.docs`` rewrites them and a test fails
when the committed pages differ."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sovsim.engine.accounts import VARIABLES
from sovsim.params import load_parameters
from sovsim.scenario import catalogue


def instruments_markdown() -> str:
    lines = ["# Instruments", "", "Generated from `src/sovsim/data/instruments.toml` by "
             "`python -m sovsim.docs`; do not edit by hand.", "",
             "| instrument | kind | unit | allowed | default | regional | meaning |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for inst in catalogue().values():
        lines.append(f"| `{inst.name}` | {inst.kind} | {inst.unit} | {inst.allowed()} | "
                     f"{inst.default} | {'yes' if inst.regional else ''} | {inst.doc} |")
    return "\n".join(lines) + "\n"


def parameters_markdown() -> str:
    lines = ["# Parameters", "", "Generated from `src/sovsim/data/parameters/*.toml` by "
             "`python -m sovsim.docs`; do not edit by hand. Status: `sourced` (a source key of "
             "the bibliography, `sovsim data --sources`), `calibrated` (fitted across years, "
             "docs/calibration.md) or `assumption` (with its reason).", "",
             "| parameter | value | unit | status | provenance |", "| --- | --- | --- | --- | --- |"]
    for p in load_parameters():
        val = ", ".join(f"{x:g}" for x in np.atleast_1d(p.value))
        lines.append(f"| `{p.name}` | {val} | {p.unit} | {p.status} | {p.provenance()} |")
    return "\n".join(lines) + "\n"


def variables_markdown() -> str:
    lines = ["# Output variables", "", "Generated from `engine/accounts.py` by "
             "`python -m sovsim.docs`; do not edit by hand.", "",
             "| variable | unit | annual value | by region | meaning |", "| --- | --- | --- | --- | --- |"]
    for v in VARIABLES:
        lines.append(f"| `{v.name}` | {v.unit} | {v.annual} | {'yes' if v.regional else ''} | {v.doc} |")
    return "\n".join(lines) + "\n"


PAGES = {"instruments.md": instruments_markdown, "parameters.md": parameters_markdown,
         "variables.md": variables_markdown}


def main(root: Path) -> None:
    for name, make in PAGES.items():
        (root / name).write_text(make())


if __name__ == "__main__":  # pragma: no cover
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs"))
