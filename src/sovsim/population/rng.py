"""Addressed random numbers: a draw is a function of (seed, stream, month, household id).

layout.md, "Randomness is addressed, not drawn". Nothing is drawn in sequence: the uniform of
household ``i`` in a stream is a hash of the stream's key and ``i``, so it does not depend on
which chunk the household falls in, on the chunk size, on the thread count, or on how many
other households are generated. The hash is the 64-bit finaliser of splitmix64 (Steele, Lea
and Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA), used here as a
counter-based generator in the manner of Salmon et al. (2011, "Parallel random numbers: as
easy as 1, 2, 3"): the counter is the household id, the key is derived from (seed, stream,
month). It is not a cryptographic generator and is not meant to be one.

The numpy functions here and the numba helpers (``mix64``, ``unit_uniform``) compute the
same bits; a test checks that they agree.

Examples
--------
>>> key = stream_key(seed=1, stream=STREAMS["class"])
>>> u = uniforms(key, np.arange(3))
>>> bool(((u >= 0) & (u < 1)).all())
True
>>> bool((uniforms(key, np.array([2])) == u[2:]).all())
True
"""

from __future__ import annotations

import numpy as np

from sovsim.population._jit import jit

# Named streams: one stream per attribute, so that changing how one attribute is drawn does
# not move the draws of another. A later engine adds its own (yield shocks, labelling...).
STREAMS: dict[str, int] = {
    "class": 1,
    "wealth_a": 2,
    "wealth_b": 3,
    "size_a": 4,
    "size_b": 5,
    "horses_a": 6,
    "horses_b": 7,
    "cattle_a": 8,
    "cattle_b": 9,
    "sown_a": 10,
    "sown_b": 11,
}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def _mix_np(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def stream_key(seed: int, stream: int, month: int = 0) -> np.uint64:
    """The 64-bit key of one stream (and month) under ``seed``."""
    if seed < 0 or stream < 0 or month < 0:
        raise ValueError(f"seed, stream and month must be >= 0 (got {seed}, {stream}, {month})")
    with np.errstate(over="ignore"):
        z = _mix_np(np.array([seed], dtype=np.uint64))
        z = _mix_np(z ^ (np.uint64(stream) * _GOLDEN + np.uint64(1)))
        z = _mix_np(z ^ (np.uint64(month) * _M1 + np.uint64(2)))
    return np.uint64(z[0])


def uniforms(key: np.uint64, ids: np.ndarray) -> np.ndarray:
    """Uniforms on [0, 1) of the households ``ids`` in the stream ``key`` (53-bit)."""
    ids = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = _mix_np(np.uint64(key) + (ids + np.uint64(1)) * _GOLDEN)
    return (z >> _S11).astype(np.float64) * _TO_UNIT


@jit
def mix64(z):
    """splitmix64's finaliser (numba; ``z`` a uint64)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@jit
def unit_uniform(key, hid):
    """The uniform on [0, 1) of household ``hid`` (int64) in stream ``key`` (uint64)."""
    z = mix64(key + (np.uint64(hid) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit
def uniforms_jit(key, ids):
    """``uniforms`` compiled: the test of agreement with the numpy version calls it."""
    out = np.empty(ids.size)
    for i in range(ids.size):
        out[i] = unit_uniform(key, ids[i])
    return out
