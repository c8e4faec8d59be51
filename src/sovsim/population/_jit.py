"""numba decorators for the population kernels (plain Python where numba is absent).

Unlike ``sovsim.compiled.kernel`` these kernels loop over millions of households, so the
loop over households may run on several threads (``parallel=True``); every household's draws
are addressed by its id (``rng``), so the numbers do not depend on the thread count.
"""

from __future__ import annotations

try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None
else:  # the package's kernels are cached under a key of their sources
    from sovsim._numba_cache import install

    install()


def jit(fn):
    """Compile a scalar helper (inlined into the kernels that call it)."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, error_model="numpy")(fn)


def inline_jit(fn):
    """Compile a helper that is inlined into its callers in numba's own IR, before LLVM: a
    helper returning a tuple of many values costs a call and a boxing otherwise."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, error_model="numpy", inline="always")(fn)


# LLVM's fast-math flags that let a loop's float sums be reordered (and so vectorised) and a
# division become a multiplication by a reciprocal; not the flags that assume no NaN or inf
# (the checks for those stay). The reordering is fixed by the compiled code, so the sums are
# still the same bits on any number of threads; on another CPU (with or without fused
# multiply-add) the last bits may differ.
FAST_MATH = frozenset({"reassoc", "contract", "nsz", "arcp"})


def parallel_fast_jit(fn):
    """``parallel_jit`` with ``FAST_MATH``: for the household engine's monthly pass."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, parallel=True, error_model="numpy", fastmath=set(FAST_MATH))(fn)


def fast_jit(fn):
    """A serial kernel with ``FAST_MATH`` (the loops ``parallel_fast_jit`` kernels call once a
    block: compiled on their own, so that LLVM vectorises them as it would not inside the
    parallel loop's body)."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, error_model="numpy", fastmath=set(FAST_MATH))(fn)


def parallel_jit(fn):
    """Compile a kernel whose outer loop is ``prange`` over households."""
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, parallel=True, error_model="numpy")(fn)


def threads() -> int:
    """The threads a parallel kernel runs on (1 without numba)."""
    return 1 if numba is None else int(numba.get_num_threads())


def prange(*args):  # pragma: no cover - replaced by numba.prange inside compiled kernels
    return range(*args)


if numba is not None:
    prange = numba.prange
