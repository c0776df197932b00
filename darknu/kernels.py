"""numba helpers shared by ``smearing`` and ``selections``: exact scalar operations only.

:func:`remainder` is numpy's float ``%`` (``np.remainder``, Python's convention: the
result has the sign of the divisor), written as numpy writes it (``npy_divmod`` in
numpy's ``npymath``): the C ``fmod``, whose result is exact (no rounding, so every correct
implementation gives the same bits), then one IEEE addition of the divisor when the signs
differ, and a zero taking the divisor's sign. Bit-identical to ``np.remainder``
(tests/selections/test_kernels.py checks it, including signed zeros, NaN and infinities)
and several times faster in a compiled loop.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def remainder(a, b):  # type: ignore[no-untyped-def]
    """``a % b`` as numpy computes it for floats (``b == 0`` gives NaN, as there)."""
    # C99: fmod(a, b) == a exactly when |a| < |b| (also for signed zeros), so the
    # library call is skipped for the common case of an angle already within range
    mod = a if abs(a) < abs(b) else np.fmod(a, b)
    if b == 0.0:
        return np.fmod(a, b)
    if mod == 0.0:
        return np.copysign(0.0, b)
    if (b < 0.0) != (mod < 0.0):
        mod += b
    return mod
