"""numba's cache lives under a directory keyed on the sources the kernels are compiled from
(sovsim._numba_cache): a change to compiled code starts a fresh cache, a change elsewhere (the
command line, the docs, the store) keeps it, and importing sovsim does nothing of the kind."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sovsim import _numba_cache as nc

SRC = nc.ROOT
SCHEDULE = Path("engine/schedule.py")  # the compiled month
HOUSEHOLDS = Path("households/engine_kernels.py")  # the household engine's passes


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "SOVSIM_NUMBA_CACHE")}
    env["PYTHONPATH"] = str(SRC.parent) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _python(code: str, env) -> str:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=300).stdout.strip()


@pytest.fixture
def tree(tmp_path):
    """A copy of the package's Python sources, to edit."""
    root = tmp_path / "sovsim"
    shutil.copytree(SRC, root, ignore=shutil.ignore_patterns("data", "__pycache__", "static"))
    return root


def _touch(path: Path, text: str = "\n# an edit\n") -> None:
    path.write_text(path.read_text() + text)


def test_import_sovsim_has_no_side_effects(tmp_path):
    env = _env(SOVSIM_NUMBA_CACHE=str(tmp_path / "cache"))
    code = ("import os, sys; before = dict(os.environ); import sovsim; "
            "print(os.environ == before, 'numba' in sys.modules, 'sovsim.api' in sys.modules)")
    assert _python(code, env) == "True False False"
    assert not (tmp_path / "cache").exists()
    # the public names still come on first use
    assert _python("import sovsim; print(sovsim.run.__module__)", env) == "sovsim.api"


def test_a_change_outside_the_compiled_sources_keeps_the_key(tree):
    kernels = [tree / SCHEDULE, tree / HOUSEHOLDS, tree / "compiled.py"]
    before = [nc.cache_key(k, tree) for k in kernels]
    elsewhere = [p for p in tree.rglob("*.py")
                 if p.relative_to(tree).parts[0].startswith(("cli", "docs", "store", "web"))]
    assert any(p.name.startswith("cli") or p.parent.name == "cli" for p in elsewhere)
    for path in elsewhere:  # the command line, its help strings, the docs, the store, the web
        _touch(path, '\nHELP = "a help string changed"\n')
    assert [nc.cache_key(k, tree) for k in kernels] == before


@pytest.mark.parametrize("edited, kernel", [
    ("mechanisms/procurement.py", SCHEDULE),  # a kernel the month calls, in another file
    ("state/schema.py", SCHEDULE),            # constants the month reads
    ("calendar.py", SCHEDULE),
    ("engine/schedule.py", SCHEDULE),         # the kernel's own file
    ("population/rng.py", HOUSEHOLDS),        # a helper the household passes inline
])
def test_a_change_to_a_compiled_source_changes_the_key(tree, edited, kernel):
    before = nc.cache_key(tree / kernel, tree)
    _touch(tree / edited, "\nX_ADDED = 2\n")
    assert nc.cache_key(tree / kernel, tree) != before


def test_deferred_imports_count(tree):
    helper = tree / "mechanisms" / "_helper_for_test.py"
    helper.write_text("Y = 1\n")
    _touch(tree / "mechanisms" / "trade.py",
           "\n\ndef _late():\n    from sovsim.mechanisms._helper_for_test import Y\n    return Y\n")
    before = nc.cache_key(tree / SCHEDULE, tree)
    helper.write_text("Y = 2\n")
    assert nc.cache_key(tree / SCHEDULE, tree) != before


KERNEL = ("import numpy as np; from sovsim.compiled import total; total(np.ones(3)); "
          "from sovsim._numba_cache import cache_dir; import sovsim.compiled as c; "
          "print(cache_dir(c.__file__))")


@pytest.mark.parametrize("numba_first", [False, True])
def test_the_cache_is_written_under_the_key(tmp_path, numba_first):
    env = _env(SOVSIM_NUMBA_CACHE=str(tmp_path))
    code = ("import numba; " if numba_first else "") + KERNEL
    key_dir = Path(_python(code, env))
    assert key_dir == tmp_path / nc.cache_key(SRC / "compiled.py")
    assert list(key_dir.rglob("compiled.total-*.nbi")), "no cache index under the key"


def test_a_cache_directory_the_user_chose_is_the_parent(tmp_path):
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    key_dir = Path(_python("import numba; " + KERNEL, env))
    assert key_dir.parent == tmp_path / "mine"
    assert list(key_dir.rglob("compiled.total-*.nbi"))


def test_kernels_outside_the_package_are_left_to_numba(tmp_path):
    nc.install()
    other = tmp_path / "elsewhere.py"
    other.write_text("def f():\n    return 1\n")
    locator = nc._LOCATOR
    assert locator.from_function(lambda: 1, str(other)) is None
    assert locator.from_function(nc.install, str(SRC / "_numba_cache.py")) is not None
