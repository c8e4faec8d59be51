"""The command line's layout (issue 14): a package of one module per command group, helpers
defined once in ``cli/common.py``, no import cycle between its modules (imports inside
functions count), and no module importing the package root ``sovsim``."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "sovsim" / "cli"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    mods = {f"sovsim.cli.{p.stem}": p for p in CLI.glob("*.py") if p.stem != "__main__"}
    return {m: {i for i in _imports(p) if i in mods and i != m} for m, p in mods.items()}


def test_no_import_cycle_between_cli_modules():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, "cycle: " + " -> ".join([*path, m, n])
            if n not in state:
                visit(n, [*path, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_no_cli_module_imports_the_package_root():
    for path in CLI.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name != "sovsim" for a in node.names), path
            if isinstance(node, ast.ImportFrom) and node.module == "sovsim":
                assert all(a.name not in ("run", "load_scenario", "compare") for a in node.names), path


def test_helpers_are_defined_once():
    for name in ("def fail", "def _fail", "Console(", "def json_default", "HEADLINE = ("):
        where = [p.name for p in CLI.glob("*.py") if name in p.read_text()]
        assert where in ([], ["common.py"]), (name, where)


def test_console_script_and_module_entry():
    from sovsim.cli import app as via_package
    from sovsim.cli.main import app

    assert via_package is app
    text = (CLI.parents[2] / "pyproject.toml").read_text()
    assert 'sovsim = "sovsim.cli.main:app"' in text
