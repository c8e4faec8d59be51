"""Load and validate scenario TOML files; resolve ``extends``; build instrument timelines.

A scenario file::

    name = "mine"
    extends = "historical"      # a shipped scenario, or a path relative to this file
    diverge = "1928-01"         # keep the parent's changes before this month only
    [[change]]
    date = "1928-01"
    instrument = "procurement_mode"
    value = "market"
    source = "reasoning or a source key"

Everything is checked before anything runs; an error names the file, the key and what is
allowed.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sovsim import calendar
from sovsim.errors import ScenarioError
from sovsim.regions import REGIONS
from sovsim.scenario import limits
from sovsim.scenario.instruments import catalogue

TOP_KEYS = {"name", "title", "description", "extends", "diverge", "change"}
CHANGE_KEYS = {"date", "instrument", "value", "region", "source", "note"}


@dataclass(frozen=True)
class PolicyChange:
    """From ``month`` on, ``instrument`` takes ``value`` (in ``region``, or everywhere)."""

    month: int
    instrument: str
    value: Any
    region: str | None = None
    source: str = ""
    note: str = ""
    origin: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = {"date": calendar.label(self.month), "instrument": self.instrument, "value": self.value}
        for key in ("region", "source", "note"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        return d


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: its own and inherited changes, in the order they apply."""

    name: str
    title: str
    description: str
    changes: tuple[PolicyChange, ...]
    parent: str | None = None
    diverge: int | None = None
    path: str = ""
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def content_hash(self) -> str:
        """Hash of what the scenario does (its resolved changes), not of its file's text."""
        def make() -> str:
            blob = json.dumps([c.as_dict() for c in self.changes], sort_keys=True, default=str)
            return hashlib.sha256(blob.encode()).hexdigest()[:16]
        return self.cached("content_hash", make)

    def timeline(self) -> dict[str, np.ndarray]:
        """Each instrument as a float array (month, region); choices as their index."""
        if "timeline" not in self._cache:
            cat = catalogue()
            out = {}
            for name, inst in cat.items():
                out[name] = np.full((calendar.N_MONTHS, len(REGIONS)), inst.encode(inst.default))
            for ch in self.changes:
                cols = [REGIONS.index(ch.region)] if ch.region else slice(None)
                out[ch.instrument][ch.month :, cols] = cat[ch.instrument].encode(ch.value)
            for arr in out.values():
                arr.setflags(write=False)
            self._cache["timeline"] = out
        return self._cache["timeline"]

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """A value derived from this scenario alone (such as its instruments month by month),
        made on first use and kept: a scenario does not change once loaded."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def to_toml(self) -> str:
        """The resolved scenario as a self-contained TOML file (no ``extends``)."""
        lines = [f"name = {json.dumps(self.name)}", f"title = {json.dumps(self.title)}"]
        lines.append(f"description = {json.dumps(self.description)}")
        for ch in self.changes:
            lines.append("\n[[change]]")
            for key, val in ch.as_dict().items():
                lines.append(f"{key} = {json.dumps(val)}")
        return "\n".join(lines) + "\n"


def to_toml_text(raw: dict[str, Any]) -> str:
    """Write the content of a scenario file (as :func:`scenario_from_dict` takes it) as TOML,
    ``extends`` kept: the inverse of :func:`load_scenario_text`."""
    lines = []
    for key in ("name", "title", "description", "extends", "diverge"):
        if raw.get(key) is not None:
            lines.append(f"{key} = {_toml_value(raw[key])}")
    for ch in raw.get("change", []):
        lines.append("\n[[change]]")
        for key in ("date", "instrument", "value", "region", "source", "note"):
            if ch.get(key) not in (None, ""):
                lines.append(f"{key} = {_toml_value(ch[key])}")
    return "\n".join(lines) + "\n"


def _toml_value(val: Any) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, (int, float)):
        return repr(float(val)) if isinstance(val, float) else str(val)
    return json.dumps(str(val), ensure_ascii=False)


def shipped_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios shipped in the package."""
    root = resources.files("sovsim") / "data" / "scenarios"
    return {p.name[:-5]: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def load_scenario(spec: str | Path, *, base_dir: Path | None = None) -> Scenario:
    """Load a shipped scenario by name, or a scenario file by path, and validate it.

    Examples
    --------
    >>> s = load_scenario("nep")
    >>> s.parent
    'historical'
    """
    return _load(spec, base_dir, stack=())


def _resolve_path(spec: str | Path, base_dir: Path | None, referrer: str) -> Path:
    shipped = shipped_scenarios()
    text = str(spec)
    if text in shipped and not text.endswith(".toml"):
        return shipped[text]
    if "\0" in text:
        raise ScenarioError(referrer, "extends" if base_dir else "scenario",
                            f"a NUL character in the path {text!r}")
    path = Path(text)
    if base_dir is not None:  # `extends` in a file: inside that file's directory tree
        inside = (base_dir / path).resolve()
        if path.is_absolute() or not inside.is_relative_to(base_dir.resolve()):
            raise ScenarioError(referrer, "extends", f"{text!r} is outside the directory "
                                f"of this file ({base_dir})", "the name of a shipped scenario "
                                "or a path relative to this file, inside its directory")
        path = base_dir / path
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(referrer, "extends" if base_dir else "scenario",
                                f"no scenario file {str(path)!r}")
        return path
    raise ScenarioError(referrer, "extends" if base_dir else "scenario",
                        f"unknown scenario {text!r}", ", ".join(sorted(shipped)) + ", or a .toml path")


def load_scenario_text(text: str, *, label: str = "<upload>") -> Scenario:
    """Load a scenario from TOML text (an upload), with the checks of a file.

    Such a scenario may only extend a shipped scenario by name: it never names a path, so
    text from outside (a web request) cannot make the loader open a file of its choosing.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.MAX_FILE_BYTES:
        raise ScenarioError(label, "(file)", f"{size:,} bytes, over the limit of "
                            f"{limits.MAX_FILE_BYTES:,} bytes for a scenario file")
    return scenario_from_dict(_parse_toml(text, label), label=label)


def scenario_from_dict(raw: Any, *, label: str = "<request>") -> Scenario:
    """Build a scenario from the parsed content of a scenario file (a dict with the keys of
    the file: name, title, description, extends, diverge, change), with the checks of a file.
    ``extends`` may only name a shipped scenario."""
    if not isinstance(raw, dict):
        raise ScenarioError(label, "(scenario)", "expected a table of scenario keys",
                            ", ".join(sorted(TOP_KEYS)))
    ext = raw.get("extends")
    if ext is not None and (not isinstance(ext, str) or ext not in shipped_scenarios()):
        raise ScenarioError(label, "extends", f"unknown scenario {ext!r}",
                            "the name of a shipped scenario: " + ", ".join(sorted(shipped_scenarios())))
    return _from_raw(raw, label, None, (), default_name="uploaded")


def _parse_toml(text: str, file: str) -> dict:
    depth = limits.nesting_depth(text)
    if depth > limits.MAX_NESTING:
        raise ScenarioError(file, "(file)", f"brackets nested {depth} deep, over the limit of "
                            f"{limits.MAX_NESTING}")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, "(file)", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(file, "(file)", "nested too deeply to read") from None
    if not raw:
        raise ScenarioError(file, "(file)", "empty: a scenario file needs at least a name, "
                            "an extends or a [[change]]", ", ".join(sorted(TOP_KEYS)))
    return raw


def _load(spec: str | Path, base_dir: Path | None, stack: tuple[Path, ...]) -> Scenario:
    referrer = str(stack[-1]) if stack else "<command line>"
    path = _resolve_path(spec, base_dir, referrer).resolve()
    if path in stack:
        cycle = " -> ".join(str(p) for p in (*stack, path))
        raise ScenarioError(str(path), "extends", f"cycle of extends: {cycle}")
    if len(stack) >= limits.MAX_EXTENDS_DEPTH:
        raise ScenarioError(referrer, "extends", f"a chain of more than "
                            f"{limits.MAX_EXTENDS_DEPTH} files")
    try:
        stat = path.stat()
        if stat.st_size > limits.MAX_FILE_BYTES:
            raise ScenarioError(str(path), "(file)", f"{stat.st_size:,} bytes, over the limit "
                                f"of {limits.MAX_FILE_BYTES:,} bytes for a scenario file")
        raw = _read(path, stat.st_mtime_ns)
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), "(file)", f"not UTF-8 text ({exc.reason} at byte "
                            f"{exc.start})") from None
    except OSError as exc:
        raise ScenarioError(str(path), "(file)", f"cannot read: {exc.strerror or exc}") from None
    return _from_raw(raw, str(path), path, stack, default_name=limits.file_stem(path.stem))


@lru_cache(maxsize=64)
def _read(path: Path, version: int) -> dict:
    """A scenario file's parsed content, read once per version of the file (never mutated)."""
    with path.open("rb") as fh:  # at most the limit (a file may grow after its stat)
        data = fh.read(limits.MAX_FILE_BYTES + 1)
    if len(data) > limits.MAX_FILE_BYTES:
        raise ScenarioError(str(path), "(file)", f"over the limit of "
                            f"{limits.MAX_FILE_BYTES:,} bytes for a scenario file")
    return _parse_toml(data.decode("utf-8"), str(path))


def _from_raw(raw: dict, file: str, path: Path | None, stack: tuple[Path, ...], *,
              default_name: str) -> Scenario:
    """Validate a parsed scenario; ``path`` is its file (None for uploads: no relative
    ``extends``)."""
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ScenarioError(file, sorted(unknown)[0], "unknown key", ", ".join(sorted(TOP_KEYS)))
    name = _text(raw, "name", file, default=default_name)
    parent = None
    inherited: list[PolicyChange] = []
    diverge = None
    if "diverge" in raw:
        diverge = _month(raw["diverge"], file, "diverge")
        if "extends" not in raw:
            raise ScenarioError(file, "diverge", "diverge needs extends")
    if "extends" in raw:
        ext = raw["extends"]
        if not isinstance(ext, str) or not ext:
            raise ScenarioError(file, "extends", "expected a scenario name or a path")
        here = (*stack, path) if path is not None else stack
        parent_sc = _load(ext, path.parent if path is not None else None, here)
        parent = parent_sc.name
        inherited = [c for c in parent_sc.changes if diverge is None or c.month < diverge]
    own = _changes(raw.get("change", []), file)
    if len(own) > limits.MAX_CHANGES:
        raise ScenarioError(file, "change", f"{len(own):,} changes, over the limit of "
                            f"{limits.MAX_CHANGES} in one scenario")
    # Stable sort by month: at equal months, the extending file's change comes last and wins.
    ordered = sorted(sorted(inherited, key=lambda c: c.month) + sorted(own, key=lambda c: c.month),
                     key=lambda c: c.month)
    return Scenario(
        name=name,
        title=_text(raw, "title", file, default=name),
        description=_text(raw, "description", file, default=""),
        changes=tuple(ordered),
        parent=parent,
        diverge=diverge,
        path=file,
    )


def _text(raw: dict, key: str, file: str, default: str) -> str:
    val = raw.get(key, default)
    if not isinstance(val, str):
        raise ScenarioError(file, key, f"expected a string, got {type(val).__name__}")
    problem = limits.text_problem(key, val)
    if problem:
        raise ScenarioError(file, key, problem)
    return val


def _month(val: Any, file: str, key: str) -> int:
    problem = limits.date_problem(val)
    if problem:
        raise ScenarioError(file, key, problem, "'YYYY-MM' from 1921-01 to 1940-12")
    try:
        return calendar.parse_month(val)
    except ValueError as exc:
        raise ScenarioError(file, key, str(exc), "'YYYY-MM' from 1921-01 to 1940-12") from None


def _changes(items: Any, file: str) -> list[PolicyChange]:
    if not isinstance(items, list):
        raise ScenarioError(file, "change", "expected an array of tables [[change]]")
    if len(items) > limits.MAX_CHANGES:  # before checking each one
        raise ScenarioError(file, "change", f"{len(items):,} changes, over the limit of "
                            f"{limits.MAX_CHANGES} in one scenario")
    cat = catalogue()
    out = []
    for i, item in enumerate(items):
        where = f"change[{i}]"
        if not isinstance(item, dict):
            raise ScenarioError(file, where, "expected a table")
        unknown = set(item) - CHANGE_KEYS
        if unknown:
            raise ScenarioError(file, f"{where}.{sorted(unknown)[0]}", "unknown key",
                                ", ".join(sorted(CHANGE_KEYS)))
        for req in ("date", "instrument", "value"):
            if req not in item:
                raise ScenarioError(file, f"{where}.{req}", "missing")
        month = _month(item["date"], file, f"{where}.date")
        name = item["instrument"]
        if name not in cat:
            raise ScenarioError(file, f"{where}.instrument", f"unknown instrument {name!r}",
                                ", ".join(sorted(cat)))
        inst = cat[name]
        problem = inst.check(item["value"])
        if problem:
            raise ScenarioError(file, f"{where}.value ({name})", problem, inst.allowed())
        region = item.get("region")
        if region is not None:
            if not inst.regional:
                raise ScenarioError(file, f"{where}.region", f"{name} is not regional",
                                    "no region key for this instrument")
            if region not in REGIONS:
                raise ScenarioError(file, f"{where}.region", f"unknown region {region!r}",
                                    ", ".join(REGIONS))
        for key in ("source", "note"):
            if key in item:
                if not isinstance(item[key], str):
                    raise ScenarioError(file, f"{where}.{key}", "expected a string")
                problem = limits.text_problem(key, item[key])
                if problem:
                    raise ScenarioError(file, f"{where}.{key}", problem)
        value = float(item["value"]) if inst.kind == "float" else item["value"]
        out.append(PolicyChange(month, name, value, region, item.get("source", ""),
                                item.get("note", ""), file))
    return out
