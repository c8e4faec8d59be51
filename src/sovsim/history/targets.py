"""What calibration fits, declared (``data/calibration/targets.toml``), and the history view it
may read: the rows of the declared targets, chosen by grade. Everything else is out of sample.

Calibration reads history only through :func:`view` (a test poisons the other rows and finds
the loss unchanged); validation reports the fit on the targets and, separately, every usable
series and year never fitted (:func:`out_of_sample`).

Examples
--------
>>> [t.series for t in targets()][:2]
['grain_harvest_t', 'grain_procurement_t']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from sovsim import history
from sovsim.errors import DataError
from sovsim.tomlfile import read_toml

PATH = ("data", "calibration", "targets.toml")


@dataclass(frozen=True)
class Target:
    """A series fitted over ``first`` to ``last`` (years of the rows' periods)."""

    series: str
    region: str
    first: int
    last: int
    variants: str | tuple[str, ...]  # "best" or variant names
    weight: float
    why: str

    @property
    def key(self) -> tuple[str, str]:
        return self.series, self.region

    @property
    def rule(self) -> str:
        return "best-graded" if self.variants == "best" else "variants " + ", ".join(self.variants)


@dataclass(frozen=True)
class Band:
    """A total over ``model_years`` of the run that must lie in the band of published rows."""

    name: str
    series: str
    region: str
    first: int
    last: int
    model_first: int
    model_last: int
    variants: str | tuple[str, ...]
    weight: float
    why: str


def _path() -> Path:
    return Path(str(resources.files("sovsim").joinpath(*PATH)))


@cache
def declared() -> tuple[tuple[Target, ...], tuple[Band, ...]]:
    """The targets and bands of ``data/calibration/targets.toml``, checked."""
    path = _path()
    raw = read_toml(path)
    kinds = history.kinds()
    out_t, out_b = [], []
    for section, fields in (("target", ("series", "region", "years", "variants", "weight", "why")),
                            ("band", ("name", "series", "region", "years", "model_years",
                                      "variants", "weight", "why"))):
        for i, e in enumerate(raw.get(section, [])):
            where = f"{section}[{i}] ({e.get('series', '?')})"
            missing = [f for f in fields if f not in e]
            if missing:
                raise DataError(str(path), where, f"lacks {', '.join(missing)}")
            unknown = set(e) - set(fields)
            if unknown:
                raise DataError(str(path), where, f"unknown keys {sorted(unknown)}", ", ".join(fields))
            kind = kinds.get(e["series"])
            if kind is None:
                raise DataError(str(path), f"{where}.series", "series without a declared kind",
                                "a series of data/history/kinds.toml")
            if kind.kind == "plan":
                raise DataError(str(path), f"{where}.series", "a plan is an input, never a target")
            variants = e["variants"]
            if variants != "best" and not (isinstance(variants, list) and variants):
                raise DataError(str(path), f"{where}.variants", f"{variants!r}",
                                '"best" or a list of variant names')
            variants = "best" if variants == "best" else tuple(variants)
            first, last = (int(y) for y in e["years"])
            if first > last:
                raise DataError(str(path), f"{where}.years", f"{first} after {last}")
            if not float(e["weight"]) > 0:
                raise DataError(str(path), f"{where}.weight", f"{e['weight']}", "a positive number")
            if section == "target":
                out_t.append(Target(e["series"], e["region"], first, last, variants,
                                    float(e["weight"]), e["why"]))
            else:
                mf, ml = (int(y) for y in e["model_years"])
                out_b.append(Band(e["name"], e["series"], e["region"], first, last, mf, ml,
                                  variants, float(e["weight"]), e["why"]))
    keys = [t.key for t in out_t]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise DataError(str(path), "target", f"declared twice: {sorted(dup)}")
    return tuple(out_t), tuple(out_b)


def targets() -> tuple[Target, ...]:
    return declared()[0]


def bands() -> tuple[Band, ...]:
    return declared()[1]


def weights() -> dict[tuple[str, str], float]:
    """``{(series, region): weight}`` of the declared targets."""
    return {t.key: t.weight for t in targets()}


def _years(df: pd.DataFrame) -> pd.Series:
    return df["period"].str[:4].astype(int)


def _chosen(df: pd.DataFrame, variants, *, pooled: bool = False) -> pd.DataFrame:
    """Usable rows by the rule: named variants, or the best grade at each period (over the
    whole selection when ``pooled``)."""
    use = df[df["usable"]]
    if variants != "best":
        return use[use["variant"].isin(variants)]
    if not pooled:
        return history.best(use)
    if use.empty:
        return use
    top = use["grade"].map(history.RANK).min()
    return use[use["grade"].map(history.RANK) == top]


def target_rows(target: Target, df: pd.DataFrame) -> pd.DataFrame:
    sel = df[(df["series"] == target.series) & (df["region"] == target.region)]
    sel = sel[_years(sel).between(target.first, target.last)] if len(sel) else sel
    return _chosen(sel, target.variants)


def band_rows(band: Band, df: pd.DataFrame) -> pd.DataFrame:
    sel = df[(df["series"] == band.series) & (df["region"] == band.region)]
    sel = sel[_years(sel).between(band.first, band.last)] if len(sel) else sel
    return _chosen(sel, band.variants, pooled=True)


def view(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The history calibration may read: the chosen rows of every declared target and band,
    with a column ``target`` (``series:region`` or the band's name)."""
    df = history.load() if df is None else df
    parts = [target_rows(t, df).assign(target=f"{t.series}:{t.region}") for t in targets()]
    parts += [band_rows(b, df).assign(target=b.name) for b in bands()]
    parts = [p for p in parts if len(p)]
    if not parts:
        return df.iloc[0:0].assign(target="")
    return pd.concat(parts)


def band_range(band: Band, df: pd.DataFrame | None = None) -> tuple[float, float]:
    """The band's published range (lowest and highest chosen row)."""
    rows = band_rows(band, history.load() if df is None else df)
    if rows.empty:
        raise DataError("data/calibration/targets.toml", band.name, "no usable rows for the band")
    vals = rows["value"].astype(float)
    return float(vals.min()), float(vals.max())


def band(name: str) -> Band:
    for b in bands():
        if b.name == name:
            return b
    raise DataError("data/calibration/targets.toml", name, "no such band",
                    ", ".join(b.name for b in bands()))


def out_of_sample(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows never fitted: every best-graded usable row of a series compared with the model
    that no target or band reads."""
    df = history.load() if df is None else df
    kinds = history.kinds()
    compared = df[df["series"].map(lambda s: s in kinds and kinds[s].kind != "plan")]
    return history.best(compared).drop(index=view(df).index, errors="ignore")
