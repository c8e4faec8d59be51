"""What identifies a stored result: the code that computed it, the input data it read, its
parameters and scenario (docs/design/0011-columnar-store.md).

A run's id is the hash of its manifest's identifying keys. Every manifest carries
``code_hash`` (the package's Python sources) and ``data_hash`` (the package data files a run
reads: inputs such as the weather and world prices, the parameters, the initial population,
the scenarios), so changing any of them misses the store and computes afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent
# The package data a run reads (the history, published models and sources are only compared
# with its results, and do not change them).
DATA_ROOT = PACKAGE / "data"
DATA_PARTS = ("inputs", "parameters", "population", "scenarios", "instruments.toml")

# Manifest keys that describe but do not identify a result.
VOLATILE = ("created", "sovsim_version", "git_commit", "files", "manifest_sha256", "member",
            "label")


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("sovsim")
    except Exception:  # not installed: the source hash identifies the code
        return "unknown"


@lru_cache(maxsize=1)
def code_hash() -> str:
    """A hash of the code that computes: every Python source of the package (paths and
    contents), in a checkout or an installed wheel alike; for an install without sources
    (byte code only), the version and a hash of its files."""
    h = hashlib.sha256()
    sources = sorted(PACKAGE.rglob("*.py"))
    if not sources:  # pragma: no cover - a byte-code-only install
        sources = sorted(PACKAGE.rglob("*.pyc"))
        h.update(package_version().encode())
    for path in sources:
        h.update(str(path.relative_to(PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def data_files(root: Path | None = None) -> list[Path]:
    """The data files a run reads, sorted."""
    root = DATA_ROOT if root is None else Path(root)
    out: list[Path] = []
    for part in DATA_PARTS:
        p = root / part
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
    return sorted(out)


def data_hash(root: Path | None = None) -> str:
    """A hash of the input data files (``DATA_PARTS`` under ``root``, default the package's
    data): recomputed when any of them changes (size or modification time), so an edited
    weather or price file is seen by the next request of the same process."""
    root = DATA_ROOT if root is None else Path(root)
    files = data_files(root)
    sig = tuple((str(f), *_stat(f)) for f in files)
    return _data_hash(str(root), sig)


def _stat(f: Path) -> tuple[int, int]:
    st = f.stat()
    return st.st_size, st.st_mtime_ns


@lru_cache(maxsize=8)
def _data_hash(root: str, sig: tuple) -> str:
    h = hashlib.sha256()
    for name, *_ in sig:
        path = Path(name)
        h.update(os.path.relpath(path, root).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def identity(manifest: Mapping[str, Any]) -> dict:
    """The identifying keys of a manifest. The cell model draws no random numbers, so a cell
    run's (or an ensemble member's) seed and member number do not identify it: identical cell
    runs with different seeds are one stored result."""
    ident = {k: v for k, v in manifest.items() if k not in VOLATILE}
    if manifest.get("resolution") == "cells" and manifest.get("kind") != "ensemble":
        ident.pop("seed", None)
    return ident


def run_id(manifest: Mapping[str, Any]) -> str:
    """The id of a manifest: a hash of its identifying keys (sorted JSON)."""
    blob = json.dumps(identity(manifest), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def keyed(manifest: Mapping[str, Any]) -> dict:
    """``manifest`` with the code and data hashes that belong in every key."""
    return {**manifest, "code_hash": code_hash(), "data_hash": data_hash()}


def default_dir() -> Path:
    """``$SOVSIM_STORE``, else ``$XDG_DATA_HOME/sovsim/store`` (``~/.local/share/sovsim/store``)."""
    if os.environ.get("SOVSIM_STORE"):
        return Path(os.environ["SOVSIM_STORE"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "sovsim" / "store"
