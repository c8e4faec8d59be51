"""Where numba keeps its compiled kernels: a directory keyed on the package's source.

numba's own cache is invalidated only when the file that defines a kernel changes, not when a
kernel it calls, or a constant it reads, changes in another file. The compiled month
(``engine.schedule``) calls the kernels of every mechanism module and reads the column
constants of ``state``, so a stale cache could run old arithmetic silently. The cache
therefore lives under a directory named by a hash of every source file of the package: any
change to any of them starts a fresh cache (one compilation, then cached again).

Set ``SOVSIM_NUMBA_CACHE`` to choose the parent directory (default: the user's cache
directory). A ``NUMBA_CACHE_DIR`` set by the user is respected as it is.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def source_hash() -> str:
    """A hash of the package's Python source files, their paths and contents."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def keyed_cache_dir() -> None:
    """Point numba's cache at the directory of this source, unless the user chose one. Runs
    before sovsim's kernels are compiled or loaded (``sovsim/__init__.py``)."""
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    parent = os.environ.get("SOVSIM_NUMBA_CACHE")
    if parent is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        parent = os.path.join(base, "sovsim", "numba")
    path = os.path.join(parent, source_hash())
    os.environ["NUMBA_CACHE_DIR"] = path
    numba = sys.modules.get("numba")
    if numba is not None:  # imported before sovsim: its settings were read already
        numba.config.CACHE_DIR = path
