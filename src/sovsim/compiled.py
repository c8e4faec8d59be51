"""Compiled kernels: the arithmetic of the model, compiled by numba.

At the coarse resolution a column has 45 units, so a numpy call costs far more in overhead
than in arithmetic. A *kernel* is a function of arrays, numbers and numpy records only,
written in numpy's array syntax or as loops; numba compiles it once (cached on disk). The
mechanisms are kernels, and so is the month that calls them (``engine.schedule.month_step``)
and the run that calls the month (docs/design/0010-compiled-month.md).

The same functions run unchanged as plain Python and numpy where numba is not installed, or
with ``NUMBA_DISABLE_JIT=1`` (for debugging). The numbers are the same either way to 1e-12
(tests/test_compiled.py): numba keeps numpy's order of operations (no fast-math), and sums
over units go through ``total``, in order, in both.

Kernels call kernels and read constants of other modules freely: numba's cache would not see
such a change, so the cache lives in a directory keyed on the sources the kernels are compiled
from (``sovsim._numba_cache``, installed here before any kernel is defined).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None
else:  # the package's kernels are cached under a key of their sources
    from sovsim._numba_cache import install

    install()


def kernel(fn: F) -> F:
    """Compile ``fn`` with numba (no Python objects inside; division by zero as in numpy)."""
    if numba is None:
        return fn
    return numba.njit(cache=True, error_model="numpy")(fn)


def step_kernel(fn: F) -> F:
    """``kernel`` for a step of the month (``engine.schedule.STEPS``): numba inlines it into
    the month at the level of its own IR, so the bundles a step takes are not passed and
    unpacked at every call (about 10 % of a run's time when they were)."""
    if numba is None:
        return fn
    return numba.njit(cache=True, error_model="numpy", inline="always")(fn)


def parallel_kernel(fn: F) -> F:
    """``kernel`` whose outer ``prange`` loop runs on numba's threads (independent runs of a
    batch: each writes only its own rows, so the numbers do not depend on the threads)."""
    if numba is None:
        return fn
    return numba.njit(cache=True, parallel=True, error_model="numpy")(fn)


def prange(*args):  # replaced by numba.prange inside compiled kernels
    return range(*args)


if numba is not None:
    prange = numba.prange


@kernel
def total(values):
    """The sum of a 1-d array, element by element in order: numba's ``.sum()`` sums so, numpy's
    pairwise; kernels call ``total`` so that a run gives the same numbers with and without the
    compiler (tests/test_compiled.py)."""
    acc = 0.0
    for v in values:
        acc += v
    return acc


def _cycles_python() -> int:
    return time.perf_counter_ns()


def _make_cycles():
    """``cycles()``: the processor's cycle counter (LLVM's ``readcyclecounter``; rdtsc on
    x86), read inside compiled kernels for ``sovsim run --profile``; the nanosecond clock
    when nothing is compiled. Only differences of it mean anything."""
    if numba is None or numba.config.DISABLE_JIT:
        return _cycles_python
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def cycles(typingctx):
        def codegen(context, builder, signature, args):
            fnty = ir.FunctionType(ir.IntType(64), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
            return builder.call(fn, [])
        return types.int64(), codegen

    return cycles


cycles = _make_cycles()


@kernel
def lap(ticks, i, since):
    """Add the cycles since ``since`` to ``ticks[i]`` and return the counter now; nothing (0)
    when ``ticks`` is empty (a run that is not profiled pays one test)."""
    if ticks.size == 0:
        return 0
    now = cycles()
    ticks[i] += now - since
    return now


@kernel
def tick(ticks):
    """The cycle counter now, if ``ticks`` is kept (see ``lap``); else 0."""
    if ticks.size == 0:
        return 0
    return cycles()
