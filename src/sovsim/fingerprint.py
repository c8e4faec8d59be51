"""What a process computes with, besides its inputs: sovsim's version, a hash of the package's
Python sources, a hash of the data files a run reads, and the versions of the numerical
libraries. The one definition of the code and data hashes: the results store keys every
manifest on them (``store.keys``), and a Dask worker whose fingerprint differs from the
caller's is refused before it runs anything (``ensemble.cluster``).

Two processes with the same fingerprint and environment compute the same numbers for the same
inputs. The code hash covers every ``*.py`` file of the package (relative path and content),
whatever the file does: stricter than needed (a changed docstring changes it), never looser.
The data hash covers every file under ``sovsim/data`` but those a run never reads (the
history, published models, sources and the reports' texts, which are only compared with or
set beside results: ``NOT_READ_BY_A_RUN``), so a new data directory counts until it is
declared unread.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DATA = PACKAGE / "data"
# Package data that no run reads: editing them changes no result, so they are not hashed.
NOT_READ_BY_A_RUN = ("attribution", "calibration", "doctrine", "essay", "grades.toml",
                     "history", "published", "sources")
DIGITS = 20  # hex digits kept of a SHA-256


def _tree_hash(root: Path, files: list[Path], salt: str = "") -> str:
    h = hashlib.sha256(salt.encode())
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:DIGITS]


def _skipped(path: Path) -> bool:
    return "__pycache__" in path.parts or any(p.startswith(".") for p in path.parts)


@lru_cache(maxsize=1)
def code_hash() -> str:
    """A hash of every Python source file of the package (relative paths and contents), in a
    checkout or an installed wheel alike; for an install without sources (byte code only),
    the version and its byte code."""
    sources = [p for p in PACKAGE.rglob("*.py") if not _skipped(p.relative_to(PACKAGE))]
    if sources:
        return _tree_hash(PACKAGE, sources)
    compiled = list(PACKAGE.rglob("*.pyc"))  # pragma: no cover - a byte-code-only install
    return _tree_hash(PACKAGE, compiled, salt=version())  # pragma: no cover


def data_files(root: Path | None = None) -> list[Path]:
    """The data files a run reads (under ``root``, default the package's data), sorted."""
    root = DATA if root is None else Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not _skipped(rel := p.relative_to(root))
                  and rel.parts[0] not in NOT_READ_BY_A_RUN)


def data_hash(root: Path | None = None) -> str:
    """A hash of the data files a run reads (``data_files``: paths and contents), computed
    again when any of them changes (size or modification time), so an edited weather or
    price file is seen by the next request of the same process."""
    root = DATA if root is None else Path(root)
    files = data_files(root)
    return _data_hash(str(root), tuple((str(f), *_stat(f)) for f in files))


def _stat(f: Path) -> tuple[int, int]:
    st = f.stat()
    return st.st_size, st.st_mtime_ns


@lru_cache(maxsize=8)
def _data_hash(root: str, sig: tuple) -> str:
    return _tree_hash(Path(root), [Path(name) for name, *_ in sig])


def version() -> str:
    """sovsim's version (``sovsim.__version__``) without importing the package root anew."""
    try:
        from sovsim._version import __version__  # type: ignore[import-not-found]
    except ImportError:  # before the version had a module of its own
        __version__ = sys.modules["sovsim"].__version__
    return str(__version__)


def fingerprint() -> dict[str, str]:
    """{"sovsim": version, "code": hash of the sources, "data": hash of the data files a run
    reads}."""
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
