"""Building a synthetic population of N households, in chunks.

N sample households stand for the real ones of the base year: each region gets a whole
number of sample households in proportion to its real households (largest remainders, at
least one each), and every household of region ``r`` carries the weight
``real households of r / sample households of r``. At N = the full population every region's
count equals its real households and every weight is 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from sovsim.errors import InputError
from sovsim.population.columns import POPULATION_COLUMNS
from sovsim.population.data import ATTRIBUTES, YEARS, Design, design
from sovsim.population.kernel import draw_households
from sovsim.population.rng import STREAMS, _mix_np, stream_key
from sovsim.regions import REGIONS

WHERE = "sovsim.population.build_population"
DEFAULT_CHUNK = 1 << 20
_KEY_ORDER = ("class", "wealth_a", "wealth_b", "size_a", "size_b", "horses_a", "horses_b",
              "cattle_a", "cattle_b", "sown_a", "sown_b")


@dataclass
class Population:
    """A synthetic population: numpy columns (``POPULATION_COLUMNS``), one row a household."""

    columns: dict[str, np.ndarray]
    year: int
    seed: int
    regions: tuple[str, ...]
    region_households: np.ndarray  # real households of each of ``regions``
    design: Design = field(repr=False)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return self.columns["household_id"].size

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.columns.values())


def full_size(year: int = 1928, regions: tuple[str, ...] | list[str] | None = None,
              params=None) -> int:
    """The real number of peasant households of ``year`` (in ``regions``, default all)."""
    return int(_region_totals(_design(year, params), _region_index(regions)).sum())


def _params(params):
    if params is None:
        from sovsim.params import load_parameters

        return load_parameters().values()
    from sovsim.params import ParameterSet

    return params.values() if isinstance(params, ParameterSet) else params


def _design(year: int, params) -> Design:
    if year not in YEARS:
        raise InputError(WHERE, "year", f"{year!r} is not a base year", ", ".join(map(str, YEARS)))
    return design(_params(params), year)


def _region_index(regions) -> np.ndarray:
    if regions is None:
        return np.arange(len(REGIONS))
    if isinstance(regions, str):
        regions = [regions]
    unknown = [r for r in regions if r not in REGIONS]
    if unknown or not regions:
        raise InputError(WHERE, "regions", f"unknown region {unknown[0]!r}" if unknown
                         else "no region given", ", ".join(REGIONS))
    return np.array(sorted({REGIONS.index(r) for r in regions}))


def _region_totals(d: Design, idx: np.ndarray) -> np.ndarray:
    """Whole real households of each region (largest remainders of the design's totals)."""
    real = d.region_households
    total = int(np.rint(real.sum()))
    whole = _apportion(total, real)
    return whole[idx]


def _apportion(n: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """``n`` split in proportion to ``weights`` by largest remainders; a part below
    ``minimum`` is raised to it, taking from the largest parts. Where ``weights`` are whole
    numbers summing to ``n`` the parts are ``weights`` exactly."""
    weights = np.asarray(weights, dtype=float)
    quota = n * weights / weights.sum()
    out = np.floor(quota).astype(np.int64)
    short = n - int(out.sum())
    order = np.argsort(-(quota - out), kind="stable")
    out[order[:short]] += 1
    while (out < minimum).any():
        lack = int(np.argmin(out))
        out[int(np.argmax(out))] -= 1
        out[lack] += 1
    return out


def _check_n(n, full: int, n_regions: int) -> int:
    if n is None:
        return full
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer, float)) \
            or not np.isfinite(n) or float(n) != int(n):
        raise InputError(WHERE, "n", f"{n!r} is not a whole number of households")
    n = int(n)
    if n < 1:
        raise InputError(WHERE, "n", f"{n} households: need at least one", f"1 to {full:,}")
    if n > full:
        raise InputError(WHERE, "n", f"{n:,} households is more than the {full:,} real ones",
                         f"1 to {full:,}")
    if n < n_regions:
        raise InputError(WHERE, "n", f"{n} households cannot cover {n_regions} regions "
                         "(each needs at least one)", f"{n_regions} to {full:,}")
    return n


def _cell_tables(d: Design):
    """Per-cell parameters of the marginal distributions."""
    size_lam = np.maximum(d.size_mean - 1.0, 0.0)
    horses_lam = np.where(d.horses_zero < 1, d.horses_mean / (1 - d.horses_zero) - 1, 0.0)
    cattle_lam = np.where(d.cattle_zero < 1, d.cattle_mean / (1 - d.cattle_zero) - 1, 0.0)
    sown_pos = d.sown_mean_ha / (1 - d.sown_zero)
    with np.errstate(divide="ignore"):
        sown_mu = np.log(sown_pos) - 0.5 * d.sown_log_sd ** 2
    return (size_lam, np.maximum(horses_lam, 0.0), np.maximum(cattle_lam, 0.0), sown_mu)


class _Plan:
    """What every chunk of one population shares: design, counts, keys and cell tables."""

    def __init__(self, n, year, seed, regions, params):
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
                or seed < 0:
            raise InputError(WHERE, "seed", f"{seed!r}: need a whole number >= 0")
        self.design = _design(year, params)
        self.idx = _region_index(regions)
        self.real = _region_totals(self.design, self.idx)
        self.n = _check_n(n, int(self.real.sum()), self.idx.size)
        self.year, self.seed = year, int(seed)
        self.counts = _apportion(self.n, self.real, minimum=1)
        self.region_start = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)
        self.weight_r = self.real / self.counts
        self.keys = np.array([stream_key(self.seed, STREAMS[s]) for s in _KEY_ORDER],
                             dtype=np.uint64)
        with np.errstate(over="ignore"):
            self.class_offset = _mix_np(self.keys[0] + self.idx.astype(np.uint64))
        d = self.design
        cum = np.cumsum(d.class_share[self.idx], axis=1)
        cum[:, -1] = 1.0
        self.class_cum = cum
        def sub(a):
            return np.ascontiguousarray(a[self.idx])

        size_lam, horses_lam, cattle_lam, sown_mu = _cell_tables(d)
        self.cells = (sub(size_lam), sub(d.horses_zero), sub(horses_lam), sub(d.cattle_zero),
                      sub(cattle_lam), sub(d.sown_zero), sub(sown_mu), float(d.sown_log_sd),
                      np.asarray(d.loadings, dtype=float), np.asarray(d.group_upper_ha))

    def empty(self, size: int) -> dict[str, np.ndarray]:
        return {c.name: np.empty(size, dtype=c.dtype) for c in POPULATION_COLUMNS}

    def fill(self, cols: dict[str, np.ndarray], lo: int, hi: int, base: int) -> None:
        draw_households(lo, hi, base, self.keys, self.region_start, self.class_offset,
                        self.class_cum, self.weight_r, *self.cells,
                        cols["region"], cols["klass"], cols["weight"], cols["persons"],
                        cols["horses"], cols["cattle"], cols["sown_area_ha"], cols["sown_group"])
        cols["household_id"][lo - base:hi - base] = np.arange(lo, hi, dtype=np.int64)
        cols["tenure"][lo - base:hi - base] = 0  # everyone farms individually at the start
        # ``region`` is drawn as a position among the chosen regions: name it in REGIONS
        cols["region"][lo - base:hi - base] = self.idx[cols["region"][lo - base:hi - base]]

    def population(self, cols) -> Population:
        return Population(cols, self.year, self.seed, tuple(REGIONS[i] for i in self.idx),
                          self.real.astype(float), self.design)


def build_population(n: int | None = None, *, year: int = 1928, seed: int = 0,
                     regions=None, chunk_size: int = DEFAULT_CHUNK, params=None) -> Population:
    """A synthetic population of ``n`` households (default: all real ones) at ``year``.

    Parameters
    ----------
    n : int, optional
        Sample households, 1 (at least one per region) to the real number
        (``full_size(year, regions)``); ``None`` builds every real household (weights 1).
    year : {1921, 1928}
        1921: the coarse model's January-1921 households; 1928: the 1928 total
        (``distributions.csv``) with the same structure.
    seed : int
        The generator's seed; the same (seed, year, regions, n) gives the same households
        whatever ``chunk_size`` or thread count.
    regions : sequence of str, optional
        A subset of ``sovsim.regions.REGIONS``.
    chunk_size : int
        Households drawn per call of the compiled kernel.
    params : ParameterSet or its values, optional
        The parameters of the coarse initial state (default: the shipped ones).

    Examples
    --------
    >>> pop = build_population(1000, year=1921, seed=3)
    >>> len(pop), sorted(set(pop["region"].tolist())) == [0, 1, 2, 3, 4]
    (1000, True)
    """
    plan = _Plan(n, year, seed, regions, params)
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InputError(WHERE, "chunk_size", f"{chunk_size!r}: need a whole number >= 1")
    cols = plan.empty(plan.n)
    for lo in range(0, plan.n, int(chunk_size)):
        plan.fill(cols, lo, min(lo + int(chunk_size), plan.n), 0)
    return plan.population(cols)


def iter_population(n: int | None = None, *, year: int = 1928, seed: int = 0, regions=None,
                    chunk_size: int = DEFAULT_CHUNK, params=None) -> Iterator[Population]:
    """The same households as ``build_population``, one chunk at a time (memory of a chunk)."""
    plan = _Plan(n, year, seed, regions, params)
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InputError(WHERE, "chunk_size", f"{chunk_size!r}: need a whole number >= 1")
    for lo in range(0, plan.n, int(chunk_size)):
        hi = min(lo + int(chunk_size), plan.n)
        cols = plan.empty(hi - lo)
        plan.fill(cols, lo, hi, lo)
        yield plan.population(cols)


__all__ = ["ATTRIBUTES", "Population", "build_population", "full_size", "iter_population"]
