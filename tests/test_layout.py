"""The architecture in the package tree, checked on the import graph and the source
(docs/design/0013-package-layout.md; the import graph itself: tests/test_imports.py).

The packages stand in layers; a module imports from its own layer or below, never above:

    interfaces    cli (the cli/ package), web
    services      ensemble, uncertainty, store, research, plots, docs, words (labels)
    entry         api
    outputs       results
    model         mechanisms, engine, state, inputs, population, households
    declarations  params, scenario, history
    base          errors, regions, calendar, compiled, _numba_cache, _version, fingerprint, tomlfile, markdown

and, within and across the layers, a few rules that say what a part of the model is:
the mechanisms are arithmetic on arrays, the state knows no mechanism, the model never reads
history, the research features are a quarantine, the store knows nothing of the model, and
the compiled model touches no file and prints nothing.

These rules replace a 450-line cap on modules, which forced splits with no concept behind
them (issue 14).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "sovsim"

LAYERS = {
    "base": ("errors", "regions", "calendar", "compiled", "_numba_cache", "_version",
             "fingerprint", "tomlfile", "markdown"),
    "declarations": ("params", "scenario", "history"),
    "model": ("mechanisms", "engine", "state", "inputs", "population", "households"),
    "outputs": ("results",),
    "entry": ("api",),
    "services": ("ensemble", "uncertainty", "store", "research", "plots", "docs", "words"),
    "interfaces": ("cli", "web"),
}
ORDER = list(LAYERS)


def part(module: str) -> str:
    """The top-level part of the package a module belongs to (``sovsim.cli.runs`` is
    ``cli``)."""
    return module.split(".")[1] if "." in module else "sovsim"


def layer(module: str) -> str | None:
    p = part(module)
    return next((name for name, parts in LAYERS.items() if p in parts), None)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(module: str) -> list[tuple[str, int]]:
    """Every sovsim module ``module`` imports, with its line (deferred imports included)."""
    out = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                     else node.module, node.lineno) for a in node.names]
    return [(m, line) for m, line in out if m.startswith("sovsim.")]


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT.parent)}:{line}"


def in_parts(module: str, *parts: str) -> bool:
    return part(module) in parts


def violations(rule) -> list[str]:
    return [f"{where(m, line)} imports {t}" for m in MODULES if m != "sovsim"
            for t, line in imports(m) if rule(m, t)]


def test_every_part_of_the_package_has_a_layer():
    """A new top-level module or package must be placed in a layer (and in the design note)."""
    assert [m for m in MODULES if m != "sovsim" and layer(m) is None] == []


def test_imports_go_down_the_layers():
    def upward(m, t):
        return layer(t) is not None and ORDER.index(layer(t)) > ORDER.index(layer(m))

    assert violations(upward) == []


def test_the_model_never_imports_results_services_or_interfaces_nor_reads_history():
    def rule(m, t):
        return layer(m) == "model" and in_parts(t, "results", "api", "history", *LAYERS["services"],
                                                *LAYERS["interfaces"])

    assert violations(rule) == []


def test_mechanisms_never_import_the_engine_or_the_households():
    def rule(m, t):
        return in_parts(m, "mechanisms") and in_parts(t, "engine", "households", "population")

    assert violations(rule) == []


def test_the_state_imports_no_mechanism():
    def rule(m, t):
        return in_parts(m, "state") and in_parts(t, "mechanisms", "engine", "households")

    assert violations(rule) == []


def test_the_builder_does_not_import_the_household_engine():
    """population/ draws households; households/ runs them: the engine uses the builder."""
    def rule(m, t):
        return in_parts(m, "population") and in_parts(t, "households")

    assert violations(rule) == []


def test_research_is_a_quarantine():
    """Only the interfaces reach the research features, so they can be taken out whole."""
    def rule(m, t):
        return in_parts(t, "research") and not in_parts(m, "research", "cli", "web")

    assert violations(rule) == []


# What the store may read besides itself and the base: the shape of what it keeps, that is how
# a run's monthly records become annual values and bands (``results``, ``ensemble.bands``),
# since an ensemble is stored as columns of annual values (docs/design/0011-columnar-store.md).
# It never runs, builds or declares the model.
STORE_MAY_READ = ("sovsim.results", "sovsim.ensemble.bands")


def test_the_store_knows_nothing_of_the_model():
    def rule(m, t):
        return (in_parts(m, "store") and layer(t) not in ("base", None)
                and not in_parts(t, "store")
                and not any(t == ok or t.startswith(ok + ".") for ok in STORE_MAY_READ))

    assert violations(rule) == []


def test_nothing_imports_the_interfaces():
    def rule(m, t):
        return in_parts(t, "cli", "web") and not in_parts(m, "cli", "web")

    assert violations(rule) == []


# The compiled model: arithmetic on arrays, run inside numba. It reads no file, writes none and
# prints nothing; its inputs come from the loaders (params, scenario, inputs, population.data).
COMPILED_MODEL = ["mechanisms/*.py", "engine/*.py", "state/*.py", "compiled.py", "calendar.py",
                  "households/engine_kernels.py", "population/kernel.py", "population/rng.py"]
IO_MODULES = {"csv", "json", "tomllib", "pathlib", "shutil", "pickle", "io", "builtins",
              "importlib.resources", "pandas", "pyarrow"}
IO_CALLS = {"open", "print", "read_text", "write_text", "read_bytes", "write_bytes", "to_csv",
            "to_parquet", "read_csv", "read_parquet", "savefig", "mkdir", "unlink"}


def compiled_model_files() -> list[Path]:
    return sorted({p for pattern in COMPILED_MODEL for p in ROOT.glob(pattern)})


@pytest.mark.parametrize("path", compiled_model_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_compiled_model_touches_no_file_and_prints_nothing(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            assert not {a.name for a in node.names} & IO_MODULES, f"{path}:{node.lineno}"
        elif isinstance(node, ast.ImportFrom) and not node.level:
            assert node.module not in IO_MODULES, f"{path}:{node.lineno}"
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            assert name not in IO_CALLS, f"{path}:{node.lineno} calls {name}"


@pytest.mark.parametrize("module, target, test", [
    ("sovsim.mechanisms.trade", "sovsim.engine.schedule", "test_mechanisms_never_import_the_engine_or_the_households"),
    ("sovsim.engine.schedule", "sovsim.results.validate", "test_imports_go_down_the_layers"),
    ("sovsim.engine.schedule", "sovsim.history", "test_the_model_never_imports_results_services_or_interfaces_nor_reads_history"),
    ("sovsim.state.table", "sovsim.mechanisms.trade", "test_the_state_imports_no_mechanism"),
    ("sovsim.population.build", "sovsim.households.engine", "test_the_builder_does_not_import_the_household_engine"),
    ("sovsim.uncertainty.calibrate", "sovsim.research.doctrine", "test_research_is_a_quarantine"),
    ("sovsim.store", "sovsim.engine.simulation", "test_the_store_knows_nothing_of_the_model"),
    ("sovsim.api", "sovsim.web.app", "test_nothing_imports_the_interfaces"),
])
def test_each_rule_fails_on_a_made_up_import(monkeypatch, module, target, test):
    real = imports
    monkeypatch.setitem(globals(), "imports",
                        lambda m: real(m) + ([(target, 1)] if m == module else []))
    with pytest.raises(AssertionError, match=target.replace(".", r"\.")):
        globals()[test]()
