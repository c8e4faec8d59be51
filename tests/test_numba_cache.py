"""numba's cache lives under a directory keyed on the package's source (sovsim._numba_cache)."""

import os
import subprocess
import sys

from sovsim._numba_cache import source_hash


def test_the_cache_directory_is_keyed_on_the_source(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["SOVSIM_NUMBA_CACHE"] = str(tmp_path)
    code = "import os, sovsim; print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == os.path.join(str(tmp_path), source_hash())
    # numba imported first (its settings read before sovsim set the directory)
    first = "import numba, sovsim.engine.simulation, numba.core.config as c; print(c.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", first], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == os.path.join(str(tmp_path), source_hash())
    # a directory the user chose is theirs
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == str(tmp_path / "mine")


def test_the_hash_follows_every_source_file(tmp_path, monkeypatch):
    import sovsim._numba_cache as nc

    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "_numba_cache.py").write_text("")
    (pkg / "sub" / "kernels.py").write_text("X = 1\n")
    monkeypatch.setattr(nc, "__file__", str(pkg / "_numba_cache.py"))
    first = nc.source_hash()
    (pkg / "sub" / "kernels.py").write_text("X = 2\n")  # a constant another module reads
    assert nc.source_hash() != first
