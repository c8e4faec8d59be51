"""The compiled kernel that draws households ``lo .. hi-1`` of a population.

Every attribute of household ``i`` is a function of the design and of uniforms addressed by
(seed, stream, ``i``) (``rng``), so households can be drawn in any chunks, on any number of
threads, with the same result.

Within a (region, class) cell the attributes are tied by one latent factor (a Gaussian
copula): ``z0`` is the household's "wealth", and attribute ``a``'s latent normal is
``z_a = l_a z0 + sqrt(1 - l_a**2) e_a`` with ``e_a`` its own normal; ``u_a = Phi(z_a)`` is
then uniform, and the attribute is the inverse of its marginal distribution at ``u_a``:

* household size: ``1 + Poisson(mean - 1)``;
* horses, cattle: zero with the cell's share of households without any, otherwise
  ``1 + Poisson(lam)``, ``lam = mean / (1 - zero) - 1`` so that the cell mean is the coarse
  model's;
* grain area: zero with the cell's share without sown area, otherwise log-normal with the
  mean ``mean / (1 - zero)`` and the log standard deviation of the data file.
"""

from __future__ import annotations

import math

import numpy as np

from sovsim.population._jit import jit, parallel_jit, prange
from sovsim.population.rng import unit_uniform

_SQRT2 = math.sqrt(2.0)


@jit
def _normal(key_a, key_b, hid):
    """A standard normal of household ``hid`` from two streams (Box-Muller)."""
    u1 = 1.0 - unit_uniform(key_a, hid)  # in (0, 1]
    u2 = unit_uniform(key_b, hid)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit
def _phi(z):
    return 0.5 * math.erfc(-z / _SQRT2)


@jit
def _ndtri(p):
    """Inverse of the standard normal distribution (Acklam's rational approximation,
    refined by one Halley step: relative error near machine precision)."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    a1, a2, a3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a4, a5, a6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b1, b2, b3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b4, b5 = 6.680131188771972e01, -1.328068155288572e01
    c1, c2, c3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c4, c5, c6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    d1, d2, d3, d4 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, \
        3.754408661907416e00
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / \
            ((((d1 * q + d2) * q + d3) * q + d4) * q + 1.0)
    elif p <= 1.0 - 0.02425:
        q = p - 0.5
        r = q * q
        x = (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q / \
            (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1.0)
    else:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        x = -(((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / \
            ((((d1 * q + d2) * q + d3) * q + d4) * q + 1.0)
    e = _phi(x) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@jit
def _poisson_inv(u, lam):
    """Smallest k with P(Poisson(lam) <= k) > u."""
    k = 0
    p = math.exp(-lam)
    cdf = p
    while u >= cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@jit
def _hurdle(u, zero, lam):
    """0 with probability ``zero``, otherwise 1 + Poisson(lam), at the uniform ``u``."""
    if u < zero:
        return 0.0
    return 1.0 + _poisson_inv((u - zero) / (1.0 - zero), lam)


@jit
def _latent(z0, loading, key_a, key_b, hid):
    return loading * z0 + math.sqrt(1.0 - loading * loading) * _normal(key_a, key_b, hid)


@parallel_jit
def draw_households(lo, hi, base, keys, region_start, class_offset, class_cum, weight_r,
                    size_lam, horses_zero, horses_lam, cattle_zero, cattle_lam,
                    sown_zero, sown_mu, sown_sd, loadings, group_upper,
                    region, klass, weight, persons, horses, cattle, sown, group):
    """Fill rows ``i - base`` of the output columns with households ``lo <= i < hi``.

    ``keys`` are the stream keys in the order class, wealth a/b, size a/b, horses a/b,
    cattle a/b, sown a/b; ``region_start`` the first id of each region (and the total);
    ``class_offset`` a uint64 per region that starts its class sequence.
    """
    n_r = region_start.size - 1
    n_k = class_cum.shape[1]
    for t in prange(hi - lo):
        i = lo + t
        r = 0
        while r < n_r - 1 and i >= region_start[r + 1]:
            r += 1
        j = i - region_start[r]
        # Class by a Weyl sequence: the class shares hold to within a household or two in
        # every region, and neighbouring ids are spread over the classes.
        w = np.uint64(j + 1) * np.uint64(0x9E3779B97F4A7C15) + class_offset[r]
        v = np.float64(w >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        k = 0
        while k < n_k - 1 and v >= class_cum[r, k]:
            k += 1
        z0 = _normal(keys[1], keys[2], i)
        u_size = _phi(_latent(z0, loadings[0], keys[3], keys[4], i))
        u_horses = _phi(_latent(z0, loadings[1], keys[5], keys[6], i))
        u_cattle = _phi(_latent(z0, loadings[2], keys[7], keys[8], i))
        u_sown = _phi(_latent(z0, loadings[3], keys[9], keys[10], i))
        o = i - base
        region[o] = r
        klass[o] = k
        weight[o] = weight_r[r]
        persons[o] = 1.0 + _poisson_inv(u_size, size_lam[r, k])
        horses[o] = _hurdle(u_horses, horses_zero[r, k], horses_lam[r, k])
        cattle[o] = _hurdle(u_cattle, cattle_zero[r, k], cattle_lam[r, k])
        if u_sown < sown_zero[r, k]:
            area = 0.0
            g = 0
        else:
            z = _ndtri((u_sown - sown_zero[r, k]) / (1.0 - sown_zero[r, k]))
            area = math.exp(sown_mu[r, k] + sown_sd * z)
            g = 1
            while g <= group_upper.size and area > group_upper[g - 1]:
                g += 1
        sown[o] = area
        group[o] = g
