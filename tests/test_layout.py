"""The architecture rules of layout.md, checked on the import graph."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "sovsim"


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_mechanisms_never_import_engine_results_cli_or_io():
    for path in (ROOT / "mechanisms").glob("*.py"):
        for mod in imports(path):
            assert not mod.startswith(("sovsim.engine", "sovsim.results", "sovsim.cli",
                                       "sovsim.web", "sovsim.history", "sovsim.plots")), (path, mod)
            assert mod not in ("csv", "json", "pathlib", "tomllib", "builtins"), (path, mod)


def test_state_imports_no_mechanism():
    for path in (ROOT / "state").glob("*.py"):
        assert not any(m.startswith("sovsim.mechanisms") for m in imports(path)), path


def test_mechanisms_do_not_print_or_open_files():
    for path in (ROOT / "mechanisms").glob("*.py"):
        text = path.read_text()
        assert "print(" not in text and "open(" not in text, path


# numba caches a compiled kernel by its own file's time stamp and cannot see a change to a
# helper it inlines from another file, so the household kernels that share ``_household`` and
# ``start_values`` stay in one file (docs/design/0005-speed.md, "numba: cost and rules"); the
# monthly pass is several loops compiled apart so that the simple ones vectorise, and the draws
# of who dies and leaves are inlined into them (0009).
KERNEL_FILES = {ROOT / "population" / "engine_kernels.py": 1200}


def test_modules_stay_small():
    for path in ROOT.rglob("*.py"):
        n = len(path.read_text().splitlines())
        assert n < KERNEL_FILES.get(path, 450), f"{path} has {n} lines"
