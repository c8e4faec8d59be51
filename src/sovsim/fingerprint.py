"""What a process computes with, besides its inputs: sovsim's version, a hash of the package's
Python sources, a hash of its data files, and the versions of the numerical libraries.

Two processes with the same fingerprint and environment compute the same numbers for the same
inputs. A Dask worker whose fingerprint differs from the caller's is refused before it runs
anything (``ensemble.cluster``); a store can record the fingerprint in its manifests.

The hashes cover every ``*.py`` file of the package and every file under ``sovsim/data``
(relative path and content), whatever the file does: stricter than needed (a changed
docstring changes the code hash), never looser. They are computed once per process.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DATA = PACKAGE / "data"


def _tree_hash(root: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _skipped(path: Path) -> bool:
    return "__pycache__" in path.parts or path.name.startswith(".")


@lru_cache(maxsize=1)
def code_hash() -> str:
    """A hash of every Python source file of the package (relative paths and contents)."""
    return _tree_hash(PACKAGE, [p for p in PACKAGE.rglob("*.py")
                                if not _skipped(p.relative_to(PACKAGE))])


@lru_cache(maxsize=1)
def data_hash() -> str:
    """A hash of every file under the package's ``data`` directory (paths and contents)."""
    return _tree_hash(DATA, [p for p in DATA.rglob("*")
                             if p.is_file() and not _skipped(p.relative_to(DATA))])


def version() -> str:
    """sovsim's version (``sovsim.__version__``) without importing the package root anew."""
    try:
        from sovsim._version import __version__  # type: ignore[import-not-found]
    except ImportError:  # before the version had a module of its own
        __version__ = sys.modules["sovsim"].__version__
    return str(__version__)


def fingerprint() -> dict[str, str]:
    """{"sovsim": version, "code": hash of the sources, "data": hash of the data files}."""
    return {"sovsim": version(), "code": code_hash(), "data": data_hash()}


def environment() -> dict[str, str]:
    """The versions of what the numbers also depend on: Python and the numerical libraries."""
    import numba
    import numpy
    import pandas

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "pandas": pandas.__version__}


def describe() -> dict[str, str]:
    """The fingerprint and the environment in one mapping (what a worker is asked for)."""
    return {**fingerprint(), **environment()}
