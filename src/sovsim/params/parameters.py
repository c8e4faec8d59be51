"""Model parameters: TOML files in ``data/parameters``, each value with unit and provenance.

Every parameter is one table::

    [agriculture.seed_norm_t_per_ha]
    value = 0.13                      # or: values = {ukraine = .., ...} (one per region)
    unit = "t/ha"
    min = 0.0                         # optional bounds, checked at load and on override
    max = 0.5
    source = "jasny_1949"             # a key of the bibliography, with location
    location = "Table 12, p. 230"
    # or  status = "calibrated", method = "...", fitted_to = ["grain_harvest_t"]
    # or  status = "assumption", reason = "why this value, and what it stands in for"
    prior = { dist = "uniform", lo = 0.1, hi = 0.2, reason = "why this spread" }

A ``prior`` (optional, scalar parameters) says how uncertain the value is, for ensembles,
sensitivity analysis and likelihood-free calibration: ``uniform`` (lo, hi), ``triangular``
(lo, mode, hi), ``normal`` (mean, sd; cut to the parameter's min/max) or ``lognormal``
(median, sigma; cut likewise), always with its ``reason`` (the spread of the sources, the
calibration's search range, ...). Draws never leave the parameter's min/max.

Nothing numeric about the economy is written in the code; mechanisms read parameters from here.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sovsim.errors import ParameterError
from sovsim.regions import REGIONS
from sovsim.tomlfile import read_toml

STATUSES = ("sourced", "calibrated", "assumption")
FIELDS = {"value", "values", "unit", "min", "max", "source", "location", "note", "status",
          "method", "fitted_to", "reason", "doc", "prior"}
PRIOR_SHAPES = {"uniform": ("lo", "hi"), "triangular": ("lo", "mode", "hi"),
                "normal": ("mean", "sd"), "lognormal": ("median", "sigma")}


@dataclass(frozen=True)
class Prior:
    """A distribution for one scalar parameter, with its reason; draws are cut to [lo, hi]
    (the parameter's bounds where the shape has none of its own)."""

    dist: str
    args: dict[str, float]
    reason: str
    lo: float
    hi: float

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Values at quantiles ``q`` in (0, 1) (inverse CDF, truncated to [lo, hi]): uniform
        numbers in, draws out, so any sampler (Monte Carlo, Sobol, Latin hypercube) can use it."""
        q = np.asarray(q, dtype=float)
        a = self.args
        if self.dist == "uniform":
            return a["lo"] + q * (a["hi"] - a["lo"])
        from scipy import stats  # (not for uniform priors: an ensemble need not import it)

        if self.dist == "triangular":
            c = (a["mode"] - a["lo"]) / (a["hi"] - a["lo"])
            return stats.triang.ppf(q, c, loc=a["lo"], scale=a["hi"] - a["lo"])
        dist = (stats.norm(a["mean"], a["sd"]) if self.dist == "normal"
                else stats.lognorm(a["sigma"], scale=a["median"]))
        lo_q, hi_q = dist.cdf(self.lo), dist.cdf(self.hi)
        return np.clip(dist.ppf(lo_q + q * (hi_q - lo_q)), self.lo, self.hi)

    def as_dict(self) -> dict[str, Any]:
        return {"dist": self.dist, **self.args, "reason": self.reason}


@dataclass(frozen=True)
class Parameter:
    """One parameter: a scalar, or one value per region (``REGIONS`` order)."""

    name: str
    value: float | np.ndarray
    unit: str
    status: str
    doc: str = ""
    source: str = ""
    location: str = ""
    method: str = ""
    fitted_to: tuple[str, ...] = ()
    reason: str = ""
    note: str = ""
    min: float | None = None
    max: float | None = None
    file: str = ""
    prior: Prior | None = None

    @property
    def regional(self) -> bool:
        return isinstance(self.value, np.ndarray)

    def provenance(self) -> str:
        if self.status == "sourced":
            return f"{self.source}" + (f", {self.location}" if self.location else "")
        if self.status == "calibrated":
            return f"calibrated ({self.method}; fitted to {', '.join(self.fitted_to)})"
        return f"assumption: {self.reason}"


@dataclass
class ParameterSet:
    """All parameters by dotted name; ``with_overrides`` gives a checked copy."""

    params: dict[str, Parameter] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float | np.ndarray:
        try:
            return self.params[name].value
        except KeyError:
            raise ParameterError("<parameters>", name, "no such parameter") from None

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def __iter__(self):
        return iter(self.params.values())

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> ParameterSet:
        if not overrides:
            return self
        new = dict(self.params)
        for name, val in overrides.items():
            if name not in new:
                raise ParameterError("<overrides>", name, "no such parameter",
                                     "a name listed by `sovsim params`")
            old = new[name]
            arr = np.asarray(val, dtype=float)
            if old.regional and arr.ndim == 0:
                arr = np.full(len(REGIONS), float(arr))
            if old.regional and arr.shape != (len(REGIONS),):
                raise ParameterError("<overrides>", name, "needs one value per region",
                                     ", ".join(REGIONS))
            value = arr if old.regional else float(arr)
            _check_range(name, value, old.min, old.max, "<overrides>")
            new[name] = Parameter(**{**old.__dict__, "value": value})
        return ParameterSet(new)

    def priors(self) -> dict[str, Prior]:
        """The parameters that have a prior, by name (file order)."""
        return {name: par.prior for name, par in self.params.items() if par.prior is not None}

    def draw(self, n: int, seed: int, names: Iterable[str] | None = None) -> list[dict[str, float]]:
        """``n`` overrides drawn from the priors (of ``names``, default all): member ``i``'s
        draw depends only on (seed, i), so members are the same whatever else is drawn or
        whoever draws them (a worker, a resumed ensemble)."""
        priors = self.priors()
        chosen = list(priors) if names is None else list(names)
        for name in chosen:
            if name not in priors:
                raise ParameterError("<priors>", name, "no prior for this parameter",
                                     ", ".join(priors) or "none")
        crcs = [zlib.crc32(name.encode()) for name in chosen]
        q = np.empty((n, len(chosen)))
        for i in range(n):
            for j, crc in enumerate(crcs):  # a stream per (seed, member, parameter)
                q[i, j] = np.random.default_rng([seed, i, crc]).random()
        # each prior's inverse CDF on every member at once (elementwise: the same values as
        # member by member, a third of the time of an ensemble's draws)
        values = [priors[name].ppf(q[:, j]).tolist() for j, name in enumerate(chosen)]
        return [{name: values[j][i] for j, name in enumerate(chosen)} for i in range(n)]

    def values(self) -> ParamValues:
        """A plain name -> value mapping for the hot loop (no provenance lookups)."""
        return ParamValues({name: par.value for name, par in self.params.items()})

    def digest(self) -> str:
        import hashlib

        h = hashlib.sha256()
        for name in sorted(self.params):
            value = self.params[name].value
            h.update(name.encode())
            h.update(struct.pack("d", value) if isinstance(value, float)
                     else np.asarray(value, dtype=float).tobytes())
        return h.hexdigest()[:16]


class ParamValues(dict):
    """Parameter values by name, as the mechanisms read them (``p["group.name"]``)."""

    def __missing__(self, name: str):
        raise ParameterError("<parameters>", name, "no such parameter")


def _check_range(name: str, value: Any, lo: float | None, hi: float | None, file: str) -> None:
    if isinstance(value, float):  # (the common case, checked without numpy: ensembles check
        bad = not math.isfinite(value)  # every drawn value of every member)
        out = (lo is not None and value < lo) or (hi is not None and value > hi)
    else:
        arr = np.asarray(value, dtype=float)
        bad = not np.all(np.isfinite(arr))
        out = (lo is not None and np.any(arr < lo)) or (hi is not None and np.any(arr > hi))
    if bad:
        raise ParameterError(file, name, "value is not a finite number")
    if out:
        raise ParameterError(file, name, f"value {value!r} out of range", f"{lo} to {hi}")


def _parse(name: str, spec: dict, file: str) -> Parameter:
    unknown = set(spec) - FIELDS
    if unknown:
        raise ParameterError(file, f"{name}.{sorted(unknown)[0]}", "unknown field",
                             ", ".join(sorted(FIELDS)))
    if "unit" not in spec:
        raise ParameterError(file, name, "missing unit")
    if ("value" in spec) == ("values" in spec):
        raise ParameterError(file, name, "give exactly one of value / values")
    if "values" in spec:
        vals = spec["values"]
        if not isinstance(vals, dict) or set(vals) != set(REGIONS):
            raise ParameterError(file, f"{name}.values", "needs one value per region",
                                 ", ".join(REGIONS))
        value: float | np.ndarray = np.array([float(vals[r]) for r in REGIONS])
    else:
        if isinstance(spec["value"], bool) or not isinstance(spec["value"], (int, float)):
            raise ParameterError(file, f"{name}.value", "expected a number")
        value = float(spec["value"])
    status = spec.get("status", "sourced" if "source" in spec else "")
    if status not in STATUSES:
        raise ParameterError(file, name, "no provenance: give source, or status",
                             "source = KEY | status = 'calibrated' | status = 'assumption'")
    if status == "sourced" and not spec.get("source"):
        raise ParameterError(file, name, "status sourced needs a source key")
    if status == "calibrated" and not (spec.get("method") and spec.get("fitted_to")):
        raise ParameterError(file, name, "a calibrated parameter needs method and fitted_to")
    if status == "assumption" and not spec.get("reason"):
        raise ParameterError(file, name, "an assumption needs a reason")
    _check_range(name, value, spec.get("min"), spec.get("max"), file)
    prior = _prior(name, spec, value, file) if "prior" in spec else None
    return Parameter(
        name=name, value=value, unit=spec["unit"], status=status, doc=spec.get("doc", ""),
        source=spec.get("source", ""), location=spec.get("location", ""),
        method=spec.get("method", ""), fitted_to=tuple(spec.get("fitted_to", ())),
        reason=spec.get("reason", ""), note=spec.get("note", ""),
        min=spec.get("min"), max=spec.get("max"), file=file, prior=prior,
    )


def _prior(name: str, spec: dict, value: Any, file: str) -> Prior:
    raw = spec["prior"]
    key = f"{name}.prior"
    if not isinstance(raw, dict):
        raise ParameterError(file, key, "expected a table {dist = ..., reason = ...}")
    if isinstance(value, np.ndarray):
        raise ParameterError(file, key, "priors are for scalar parameters; this one is regional")
    dist = raw.get("dist")
    if dist not in PRIOR_SHAPES:
        raise ParameterError(file, f"{key}.dist", f"unknown distribution {dist!r}",
                             ", ".join(PRIOR_SHAPES))
    need = PRIOR_SHAPES[dist]
    extra = set(raw) - set(need) - {"dist", "reason"}
    if extra:
        raise ParameterError(file, f"{key}.{sorted(extra)[0]}", f"not an argument of {dist}",
                             ", ".join(need))
    args = {}
    for arg in need:
        val = raw.get(arg)
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not np.isfinite(val):
            raise ParameterError(file, f"{key}.{arg}", "missing, or not a finite number")
        args[arg] = float(val)
    if not isinstance(raw.get("reason"), str) or not raw["reason"]:
        raise ParameterError(file, f"{key}.reason", "a prior needs its reason (where the spread "
                             "comes from)")
    lo = spec.get("min", -np.inf)
    hi = spec.get("max", np.inf)
    if dist in ("uniform", "triangular"):
        lo, hi = max(lo, args["lo"]), min(hi, args["hi"])
        if not args["lo"] < args["hi"]:
            raise ParameterError(file, key, "needs lo < hi")
        if dist == "triangular" and not args["lo"] <= args["mode"] <= args["hi"]:
            raise ParameterError(file, key, "needs lo <= mode <= hi")
        if args["lo"] < spec.get("min", -np.inf) or args["hi"] > spec.get("max", np.inf):
            raise ParameterError(file, key, "reaches beyond the parameter's min/max")
    elif (dist == "normal" and args["sd"] <= 0) or (dist == "lognormal" and (
            args["sigma"] <= 0 or args["median"] <= 0)):
        raise ParameterError(file, key, "needs a positive spread (and median)")
    if not lo <= float(value) <= hi:
        raise ParameterError(file, key, f"the value {value!r} lies outside the prior's support "
                             f"[{lo:g}, {hi:g}]")
    return Prior(dist, args, raw["reason"], float(lo), float(hi))


def _walk(prefix: str, table: dict, file: str, out: dict[str, Parameter]) -> None:
    for key, spec in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if not isinstance(spec, dict):
            raise ParameterError(file, name, "expected a table")
        if "unit" in spec or "value" in spec or "values" in spec:
            if name in out:
                raise ParameterError(file, name, f"defined twice (also in {out[name].file})")
            out[name] = _parse(name, spec, file)
        else:
            _walk(name, spec, file, out)


def parameter_files() -> list[Path]:
    root = resources.files("sovsim") / "data" / "parameters"
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml"))


def load_parameters(files: Iterable[Path] | None = None) -> ParameterSet:
    """Load and validate the parameter files (default: the shipped ones).

    A later file may not redefine a parameter; to change values use ``with_overrides``
    or a calibration file passed to ``sovsim.run(..., params=...)``.
    """
    out: dict[str, Parameter] = {}
    for path in files if files is not None else parameter_files():
        raw = read_toml(path, ParameterError)
        _walk("", raw, str(path), out)
    return ParameterSet(out)


def load_overrides(path: Path) -> dict[str, Any]:
    """Read a calibration result file: ``[values]`` name = value (or a region table)."""
    raw = read_toml(path, ParameterError)
    vals = raw.get("values")
    if not isinstance(vals, dict):
        raise ParameterError(str(path), "values", "missing table [values]")
    out = {}
    for k, given in vals.items():
        v = given
        if isinstance(v, dict):
            missing = [r for r in REGIONS if r not in v]
            if missing or set(v) - set(REGIONS):
                raise ParameterError(str(path), f"values.{k}", "a region table needs each "
                                     "region once", ", ".join(REGIONS))
            v = [v[r] for r in REGIONS]
        vs = v if isinstance(v, list) else [v]
        if not vs or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                             and math.isfinite(x) for x in vs):
            raise ParameterError(str(path), f"values.{k}", f"expected a finite number or a "
                                 f"table of one per region, got {type(v).__name__}")
        out[k] = v
    return out
