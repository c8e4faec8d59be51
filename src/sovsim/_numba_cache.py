"""Where numba keeps sovsim's compiled kernels: a directory keyed on the sources they are
compiled from.

numba's own cache is invalidated only when the file that defines a kernel changes, not when a
kernel it calls, or a constant it reads, changes in another file. The compiled month
(``engine.schedule``) calls the kernels of every mechanism module and reads the column
constants of ``state``, so a stale cache could run old arithmetic silently.

A kernel's cache therefore lives under a directory named by a hash of its *compiled sources*:
the file that defines it and every sovsim module that file imports, transitively (read from
the source text, deferred imports included). A change to any of them starts a fresh cache (one
compilation, then cached again); a change to the command line, the docs, the store or any
module no kernel file imports leaves the key, and the cache, as they were.

The key is applied by a numba cache locator (``SovsimCacheLocator``), registered by
``install()`` when a module that compiles kernels is first loaded (``sovsim.compiled``,
``sovsim.population._jit``). Nothing happens on ``import sovsim``: no file is hashed and no
environment variable is set; numba may be imported before or after sovsim.

The parent directory is numba's ``NUMBA_CACHE_DIR`` when the user set one, else
``SOVSIM_NUMBA_CACHE``, else the user's cache directory (``~/.cache/sovsim/numba``); the key
directory is made inside it. Kernels of files outside the package are left to numba.
"""

from __future__ import annotations

import ast
import hashlib
import os
from functools import cache
from pathlib import Path

PACKAGE = "sovsim"
ROOT = Path(__file__).resolve().parent


def _module_file(name: str, root: Path) -> Path | None:
    """The file of module ``name`` (``sovsim.a.b``) under the package directory ``root``."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def imported_files(path: Path, root: Path = ROOT) -> frozenset[Path]:
    """The package's files that ``path`` imports, anywhere in it (deferred imports included):
    ``from sovsim.a import b`` names ``a/b.py`` when ``b`` is a module, else ``a``'s file."""
    st = path.stat()
    return _imported_files(path, root, st.st_mtime_ns, st.st_size)


@cache
def _imported_files(path: Path, root: Path, mtime_ns: int, size: int) -> frozenset[Path]:
    # read once per version of the file (the month's closure shares most files with the
    # closures of the mechanisms, each computed when its kernels are defined)
    name = _module_name(path, root)
    out: set[Path] = set()
    for node in _statements(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                module = ".".join(pkg + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = []
            for a in node.names:
                sub = f"{module}.{a.name}"
                targets.append(sub if _module_file(sub, root) else module)
        else:
            continue
        for target in targets:
            file = _module_file(target, root)
            if file is not None and file != path:
                out.add(file)
    return frozenset(out)


def _statements(tree: ast.AST):
    """Every statement of a module, nested ones included (imports are statements: walking the
    statements alone, not the expressions in them, is several times faster than ast.walk)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            todo.extend(s for s in getattr(node, name, ()) if isinstance(s, ast.AST))


def compiled_sources(path: Path, root: Path = ROOT) -> list[Path]:
    """``path`` and every package file it imports, transitively, sorted."""
    seen = {path}
    todo = [path]
    while todo:
        for dep in imported_files(todo.pop(), root):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return sorted(seen)


@cache
def _digest(path: Path, mtime_ns: int, size: int) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def cache_key(path: Path | str, root: Path = ROOT) -> str:
    """A hash of the compiled sources of the kernels defined in ``path``: their paths within
    the package and their contents."""
    path = Path(path).resolve()
    h = hashlib.sha256()
    for dep in compiled_sources(path, root):
        st = dep.stat()
        h.update(str(dep.relative_to(root)).encode())
        h.update(b"\0")
        h.update(_digest(dep, st.st_mtime_ns, st.st_size))
    return h.hexdigest()[:16]


@cache
def _cached_key(path: str, size: int, mtime_ns: int) -> str:
    # one key per kernel file and version of it (each of its kernels asks)
    return cache_key(path)


def cache_parent() -> str:
    """The directory the key directories are made in."""
    from numba.core import config

    if config.CACHE_DIR:  # NUMBA_CACHE_DIR, set by the user (read when numba was imported)
        return str(config.CACHE_DIR)
    parent = os.environ.get("SOVSIM_NUMBA_CACHE")
    if parent:
        return parent
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "sovsim", "numba")


def cache_dir(py_file: str | Path) -> str:
    """The directory that holds the cache of the kernels defined in ``py_file``."""
    st = os.stat(py_file)
    return os.path.join(cache_parent(), _cached_key(str(Path(py_file).resolve()), st.st_size,
                                                    st.st_mtime_ns))


_LOCATOR = None


def install() -> None:
    """Register ``SovsimCacheLocator`` first among numba's cache locators (once)."""
    global _LOCATOR  # noqa: PLW0603  (one registration per process)
    if _LOCATOR is not None:
        return
    from numba.core import caching

    class SovsimCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        """numba's cache locator for the package's kernels: the cache directory is keyed on
        the kernel file's compiled sources (``cache_key``); the source stamp is that key."""

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._key_dir = cache_dir(py_file)
            self._cache_path = os.path.join(self._key_dir,
                                            self.get_suitable_cache_subpath(py_file))

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            return os.path.basename(self._key_dir)

        @classmethod
        def from_function(cls, py_func, py_file):
            try:
                Path(py_file).resolve().relative_to(ROOT)
            except (ValueError, OSError):
                return None  # not sovsim's: numba's own locators take it
            return super().from_function(py_func, py_file)

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in numba 0.61
    impl._locator_classes.insert(0, SovsimCacheLocator)
    _LOCATOR = SovsimCacheLocator
