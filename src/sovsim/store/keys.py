"""What identifies a stored result: the code that computed it, the input data it read, its
parameters and scenario (docs/design/0011-columnar-store.md).

A run's id is the hash of its manifest's identifying keys. Every manifest carries
``code_hash`` (the package's Python sources) and ``data_hash`` (the package data files a run
reads: inputs such as the weather and world prices, the parameters, the initial population,
the scenarios), so changing any of them misses the store and computes afresh. Both hashes are
defined once, in ``sovsim.fingerprint`` (the same a Dask worker is checked against).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sovsim.fingerprint import code_hash, data_files, data_hash

__all__ = ["VOLATILE", "code_hash", "data_files", "data_hash", "default_dir", "identity",
           "keyed", "package_version", "run_id"]

# Manifest keys that describe but do not identify a result.
VOLATILE = ("created", "sovsim_version", "git_commit", "files", "manifest_sha256", "member",
            "label")


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("sovsim")
    except Exception:  # not installed: the source hash identifies the code
        return "unknown"


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
