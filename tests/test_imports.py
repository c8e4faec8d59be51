"""The package's import graph, read from the source (every import, deferred ones included):
no cycles, and no module inside the package imports the package root (``import sovsim``,
``from sovsim import run``); they import the defining module (``from sovsim.api import run``).
docs/design/0013-package-layout.md."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "sovsim"

def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, int]]:
    """The package modules ``name`` imports, with line numbers: ``from a import b`` names the
    module ``a.b`` when there is one, else ``a``; relative imports are resolved."""
    path = MODULES[name]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                module = ".".join(pkg[: len(pkg) - node.level + 1] + ([module] if module else []))
            out += [(f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module,
                     node.lineno) for a in node.names]
    return [(m, line) for m, line in out if m.split(".")[0] == "sovsim"]


def graph() -> dict[str, set[str]]:
    return {m: {t for t, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-loops."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def root_imports() -> list[str]:
    return [f"{MODULES[m].relative_to(ROOT.parent)}:{line}"
            for m in MODULES if m != "sovsim" for t, line in imports(m) if t == "sovsim"]


def test_the_graph_is_read_right():
    """The reader sees deferred and relative imports and ``from package import module``."""
    g = graph()
    assert "sovsim.engine.schedule" in g["sovsim.engine.simulation"]
    assert "sovsim.uncertainty.abc_rm" in g["sovsim.uncertainty.abc_smc"]  # a deferred import
    assert "sovsim.households.engine_kernels" in g["sovsim.households.engine"]  # from pkg import mod
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_no_module_imports_the_package_root():
    assert root_imports() == []


def test_the_root_imports_nothing_at_import():
    """``import sovsim`` loads only the version: the public names come on first use."""
    tree = ast.parse(MODULES["sovsim"].read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) for n in top} <= {
        "importlib", "sovsim._version"}
