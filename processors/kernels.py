"""numba kernels of the processor's per-lepton bookkeeping (copies, gathers, subtractions).

Only exact operations (copies, dtype widening, one subtraction and one multiplication per
value, in the same order as the numpy code they replace), so results are bit-identical.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def interleave(n_a, n_b, a, b, out):  # type: ignore[no-untyped-def]
    """out = per event: the event's ``a`` entries, then its ``b`` entries (cast to out's dtype)."""
    ia = 0
    ib = 0
    k = 0
    for e in range(len(n_a)):
        for _ in range(n_a[e]):
            out[k] = a[ia]
            ia += 1
            k += 1
        for _ in range(n_b[e]):
            out[k] = b[ib]
            ib += 1
            k += 1
    return out


@numba.njit(cache=True, nogil=True)
def lepton_vertices(  # type: ignore[no-untyped-def]
    counts, keep, gen_idx, gcounts, gvx, gvy, gvz, pvx, pvy, pvz, scale
):
    """Production vertex (x scale) relative to the event's GenVtx of each lepton of the kept
    events; (0, 0, 0) and matched = False for an unmatched or non-finite one."""
    n_out = 0
    for e in range(len(counts)):
        if keep[e]:
            n_out += counts[e]
    out = np.zeros((n_out, 3), np.float64)
    ok = np.zeros(n_out, np.bool_)
    j = 0  # flat lepton index
    k = 0  # output row
    g0 = 0  # first gen particle of the event
    for e in range(len(counts)):
        c = counts[e]
        if keep[e]:
            for i in range(j, j + c):
                gi = gen_idx[i]
                if gi >= 0 and gi < gcounts[e]:
                    g = g0 + gi
                    x = np.float64(gvx[g]) - np.float64(pvx[e])
                    y = np.float64(gvy[g]) - np.float64(pvy[e])
                    z = np.float64(gvz[g]) - np.float64(pvz[e])
                    if np.isfinite(x) and np.isfinite(y) and np.isfinite(z):
                        out[k, 0] = x * scale
                        out[k, 1] = y * scale
                        out[k, 2] = z * scale
                        ok[k] = True
                k += 1
        j += c
        g0 += gcounts[e]
    return out, ok
