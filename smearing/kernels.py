"""numba kernels of the smearing: the same IEEE operations, in the same order, as numpy.

No transcendental functions here (numpy's SIMD versions and the C library's may differ in
the last bit); only copies, comparisons, additions and multiplications, so the results
are bit-identical to the numpy expressions they replace (tests/smearing/
test_smearing.py). The phi wrapping is in :mod:`darknu.kernels`.
"""

from __future__ import annotations

import numba
import numpy as np



@numba.njit(cache=True, nogil=True)
def by_flavour(is_electron, electron_values, other):  # type: ignore[no-untyped-def]
    """Per lepton: the next of ``electron_values`` (one per electron, in order) for an
    electron, ``other`` otherwise (as ``np.full(n, other)`` then ``out[is_e] = values``)."""
    n_e = 0
    for i in range(len(is_electron)):
        if is_electron[i]:
            n_e += 1
    if n_e != len(electron_values):
        raise ValueError("one value per electron expected")
    out = np.empty(len(is_electron))
    k = 0
    for i in range(len(is_electron)):
        if is_electron[i]:
            out[i] = electron_values[k]
            k += 1
        else:
            out[i] = other
    return out


@numba.njit(cache=True, nogil=True)
def smear_pt_floored(pt, sigma, z, floor, out):  # type: ignore[no-untyped-def]
    """out = ``np.maximum(pt * (1 + sigma * z), floor)`` elementwise (NaN propagates)."""
    for i in range(len(pt)):
        x = pt[i] * (1.0 + sigma[i] * z[i])
        out[i] = x if (x >= floor or x != x) else floor
    return out


@numba.njit(cache=True, nogil=True)
def add_product(u, sigma, z):  # type: ignore[no-untyped-def]
    """u += sigma * z in place (one rounding for the product, one for the sum)."""
    for i in range(len(u)):
        u[i] = u[i] + sigma[i] * z[i]
    return u


@numba.njit(cache=True, nogil=True)
def unchanged_where_zero(smeared, sigma, value):  # type: ignore[no-untyped-def]
    """smeared[i] = value[i] where sigma[i] == 0, in place (``np.where(sigma == 0, value,
    smeared)``)."""
    for i in range(len(smeared)):
        if sigma[i] == 0:
            smeared[i] = value[i]
    return smeared
