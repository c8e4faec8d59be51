"""Compiled kernels: the arithmetic of a mechanism over the unit columns, compiled by numba.

At the coarse resolution a column has 45 units, so a numpy call costs far more in overhead
than in arithmetic, and a month makes hundreds of them. A *kernel* is a function of arrays
and numbers only, written in numpy's array syntax; numba compiles it once (cached on disk),
so a month's equations of one mechanism cost one call. The same function runs unchanged as
plain numpy where numba is not installed, or with ``NUMBA_DISABLE_JIT=1`` (for debugging);
the numbers are the same either way, since numba keeps numpy's order of operations
(no fast-math), and the sums over units are left to numpy outside the kernels.

A kernel reads no constant, and calls no kernel, of another module: numba's disk cache is
keyed on the kernel's own file, so a change elsewhere (say, to the order of TENURES) would not
be seen. Such constants are passed as arguments, and results of other modules' kernels too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None


def kernel(fn: F) -> F:
    """Compile ``fn`` with numba (no Python objects inside; division by zero as in numpy)."""
    if numba is None:
        return fn
    return numba.njit(cache=True, error_model="numpy")(fn)


def parallel_kernel(fn: F) -> F:
    """``kernel`` whose outer ``prange`` loop runs on numba's threads (independent runs of a
    batch: each writes only its own rows, so the numbers do not depend on the threads)."""
    if numba is None:
        return fn
    return numba.njit(cache=True, parallel=True, error_model="numpy")(fn)


def prange(*args):  # replaced by numba.prange inside compiled kernels
    return range(*args)


if numba is not None:
    prange = numba.prange  # noqa: F811


@kernel
def total(values):
    """The sum of a 1-d array, element by element in order: numba's ``.sum()`` sums so, numpy's
    pairwise; kernels call ``total`` so that a run gives the same numbers with and without the
    compiler (tests/test_compiled.py)."""
    acc = 0.0
    for v in values:
        acc += v
    return acc
