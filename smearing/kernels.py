"""numba kernels of the smearing: the same IEEE operations, in the same order, as numpy.

No transcendental functions here (numpy's SIMD versions and the C library's may differ in
the last bit); only additions, multiplications and :func:`darknu.kernels.remainder`, so
the results are bit-identical to the numpy expressions they replace
(tests/smearing/test_smearing.py).
"""

from __future__ import annotations

import numba
import numpy as np

from darknu.kernels import remainder


@numba.njit(cache=True, nogil=True)
def smear_phi_wrapped(phi, sigma, z, out):  # type: ignore[no-untyped-def]
    """out = ``(phi + sigma * z + pi) % (2 pi) - pi`` elementwise (the wrapped smeared phi)."""
    two_pi = 2 * np.pi
    for i in range(len(phi)):
        out[i] = remainder((phi[i] + sigma[i] * z[i]) + np.pi, two_pi) - np.pi
    return out
