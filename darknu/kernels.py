"""numba kernels of angles shared by ``smearing`` and ``selections``: exact operations only.

:func:`remainder` is numpy's float ``%`` (``np.remainder``, Python's convention: the
result has the sign of the divisor), written as numpy writes it (``npy_divmod`` in
numpy's ``npymath``): the C ``fmod``, whose result is exact (no rounding, so every correct
implementation gives the same bits), then one IEEE addition of the divisor when the signs
differ, and a zero taking the divisor's sign. :func:`fmod` computes that exact result by
exact arithmetic rather than calling the C library: LLVM speculates a library call
written in one branch, so a loop would call it for every element (~10 ns each), whereas
an angle within (-2 pi, 2 pi) needs no work and a larger one one exact subtraction per
binary digit of the quotient. Both give numpy's bits (tests/selections/test_kernels.py:
signed zeros, infinities, subnormals, huge quotients); a NaN result is NaN there too,
though its sign bit may differ (NaN sign and payload follow the compiler's operand order,
in numpy as here, and mean nothing; no NaN reaches the processor's outputs).

The kernels using :func:`remainder` live in this module too: numba's cache does not
notice a change of a function called from another module, so a cached caller elsewhere
could keep an outdated copy.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")  # 0/0 -> NaN, no exception
def fmod(a, b):  # type: ignore[no-untyped-def]
    """C ``fmod(a, b)``: ``a - n b`` with ``n = trunc(a / b)``, exactly (sign of ``a``).

    NaN as the C library makes it (``(a b) / (a b)``) for a NaN operand, an infinite ``a``
    or ``b == 0``. |a| < |b|: ``a`` itself. Otherwise long division: subtract from ``|a|``
    the largest ``|b| 2^k`` not above it until the rest is below ``|b|``; each ``r - s``
    with ``s <= r < 2 s`` is exact (Sterbenz) and ``|b| 2^k`` is exact (a power-of-two
    scaling), so the rest is the exact remainder.
    """
    if a != a or b != b or b == 0.0 or abs(a) == np.inf:
        p = a * b
        return p / p
    d = abs(b)
    r = abs(a)
    if r < d:
        return a
    while r >= d:
        s = d
        while s <= r - s:  # s * 2 <= r, without overflowing
            s = s * 2.0
        r = r - s
    return r if a > 0.0 else -r


@numba.njit(cache=True, nogil=True)
def remainder(a, b):  # type: ignore[no-untyped-def]
    """``a % b`` as numpy computes it for floats (``b == 0`` gives NaN, as there)."""
    mod = fmod(a, b)
    if b == 0.0:
        return mod
    if mod == 0.0:
        return np.copysign(0.0, b)
    if (b < 0.0) != (mod < 0.0):
        mod += b
    return mod


@numba.njit(cache=True, nogil=True)
def smear_phi_wrapped(phi, sigma, z, out):  # type: ignore[no-untyped-def]
    """out = ``(phi + sigma * z + pi) % (2 pi) - pi`` elementwise (the wrapped smeared phi)."""
    two_pi = 2 * np.pi
    for i in range(len(phi)):
        out[i] = remainder((phi[i] + sigma[i] * z[i]) + np.pi, two_pi) - np.pi
    return out


@numba.njit(cache=True, nogil=True)
def delta_phi_folded(phi1, phi2, out):  # type: ignore[no-untyped-def]
    """out = ``|phi1 - phi2| % (2 pi)`` folded into [0, pi] (``2 pi - d`` where d > pi)."""
    two_pi = 2 * np.pi
    for i in range(len(phi1)):
        d = remainder(abs(phi1[i] - phi2[i]), two_pi)
        out[i] = two_pi - d if d > np.pi else d
    return out
