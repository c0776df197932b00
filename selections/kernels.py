"""numba kernels for the exact parts of Table II (indices, comparisons, copies, arithmetic).

Only comparisons, copies, IEEE additions and multiplications in numpy's order and
``sqrt`` (correctly rounded) happen here; functions whose last bit may depend on the
library (sinh, cos, sin, hypot, arctan2, arcsinh) stay in numpy (the delta-phi folding
is in :mod:`darknu.kernels`). So the results are bit-identical to the numpy/awkward
formulations they replace (tests/selections/test_kernels.py).
"""

from __future__ import annotations

import numba
import numpy as np



@numba.njit(cache=True, nogil=True)
def three_lepton_slots(
    counts: np.ndarray, good: np.ndarray, pt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per event: number of good leptons and the flat indices of the three analysis leptons.

    The good leptons of each event are ordered by descending ``pt`` (ties keep input
    order, as a stable sort of -pT does); three good leptons -> ranks 0, 1, 2; four ->
    ranks 0, 2, 3 (the second-hardest is the lost one); otherwise the indices are 0.
    """
    n_ev = len(counts)
    n_good = np.zeros(n_ev, np.int64)
    take = np.zeros((3, n_ev), np.int64)
    buf = np.empty(4, np.int64)
    start = 0
    for e in range(n_ev):
        c = counts[e]
        k = 0
        for j in range(start, start + c):
            if good[j]:
                if k < 4:
                    # insertion: move past every earlier lepton with pT >= this one's
                    p = pt[j]
                    i = k
                    while i > 0 and pt[buf[i - 1]] < p:
                        buf[i] = buf[i - 1]
                        i -= 1
                    buf[i] = j
                k += 1
        n_good[e] = k
        if k == 3:
            take[0, e], take[1, e], take[2, e] = buf[0], buf[1], buf[2]
        elif k == 4:
            take[0, e], take[1, e], take[2, e] = buf[0], buf[2], buf[3]
        start += c
    return n_good, take


@numba.njit(cache=True, nogil=True)
def segment_sum_selected(
    counts: np.ndarray, values: np.ndarray, selected: np.ndarray
) -> np.ndarray:
    """Per event: sum of ``values`` where ``selected``, added in order in the dtype of
    ``values`` (as ``ak.sum`` does of ``ak.where(selected, values, 0.0)``)."""
    n_ev = len(counts)
    out = np.zeros(n_ev, values.dtype)
    start = 0
    for e in range(n_ev):
        for j in range(start, start + counts[e]):
            if selected[j]:
                out[e] += values[j]
        start += counts[e]
    return out


@numba.njit(cache=True, nogil=True)
def gather_slots(take_t, has, src, fill, out):  # type: ignore[no-untyped-def]
    """out[s, e] = src[take_t[s, e]] where ``has[e]``, else ``fill`` (slot-major (3, n_ev)).

    A copy (cast to ``out``'s dtype) per value: the same as ``np.take`` followed by
    filling the events without three leptons.
    """
    for s in range(take_t.shape[0]):
        for e in range(take_t.shape[1]):
            out[s, e] = src[take_t[s, e]] if has[e] else fill
    return out


@numba.njit(cache=True, nogil=True)
def three_lepton_sums(  # type: ignore[no-untyped-def]
    pt, mass, index, has, sinh_eta, cos_phi, sin_phi
):
    """Four-vector sums of the slots: Z_D candidate l2 + l3 and l1 + l2 + l3.

    ``pt``, ``mass``: (n_ev, 3) slot arrays; the angle functions are per-lepton arrays
    read at ``index`` (n_ev, 3) for the ``has`` events, and their values at zero angle
    (sinh 0 = 0, cos 0 = 1, sin 0 = 0: a missing slot's zero-filled angles) elsewhere.
    Per slot ``pz = pt sinh(eta)``, ``E = sqrt(pt^2 + pz^2 + m^2)``, ``px = pt cos(phi)``,
    ``py = pt sin(phi)``; sums ``(l2 + l3)`` then ``(l2 + l3) + l1``; masses
    ``sqrt(max(E^2 - px^2 - py^2 - pz^2, 0))``. The operations and their order are those
    of ``selections.cuts.P4`` (``from_ptetaphim``, ``+``, ``mass``), IEEE-rounded one by
    one (no fused multiply-add without fastmath), and ``sqrt`` is correctly rounded, so
    every value equals the numpy result bit for bit.
    Returns (zd_px, zd_py, zd_pz, m_ll, three_px, three_py, m_3l).
    """
    n = pt.shape[0]
    zd_px = np.empty(n)
    zd_py = np.empty(n)
    zd_pz = np.empty(n)
    mll = np.empty(n)
    t_px = np.empty(n)
    t_py = np.empty(n)
    m3l = np.empty(n)
    e_ = np.empty(3)
    px_ = np.empty(3)
    py_ = np.empty(3)
    pz_ = np.empty(3)
    for k in range(n):
        for i in range(3):
            if has[k]:
                j = index[k, i]
                sh, co, si = sinh_eta[j], cos_phi[j], sin_phi[j]
            else:
                sh, co, si = 0.0, 1.0, 0.0
            p = pt[k, i]
            pz = p * sh
            m = mass[k, i]
            e_[i] = np.sqrt((p * p + pz * pz) + m * m)
            px_[i] = p * co
            py_[i] = p * si
            pz_[i] = pz
        ze, zx, zy, zz = e_[1] + e_[2], px_[1] + px_[2], py_[1] + py_[2], pz_[1] + pz_[2]
        te, tx, ty, tz = ze + e_[0], zx + px_[0], zy + py_[0], zz + pz_[0]
        zd_px[k], zd_py[k], zd_pz[k], t_px[k], t_py[k] = zx, zy, zz, tx, ty
        mll[k] = np.sqrt(_max0(((ze * ze - zx * zx) - zy * zy) - zz * zz))
        m3l[k] = np.sqrt(_max0(((te * te - tx * tx) - ty * ty) - tz * tz))
    return zd_px, zd_py, zd_pz, mll, t_px, t_py, m3l


@numba.njit(cache=True, nogil=True)
def _max0(x):  # type: ignore[no-untyped-def]
    """``np.maximum(x, 0.0)``: x if x >= 0 or x is NaN, else 0 (numpy's rule)."""
    return x if (x >= 0.0 or x != x) else 0.0


@numba.njit(cache=True, nogil=True)
def min_pt_of_flavour(pt, abs_pdgid, flavour):  # type: ignore[no-untyped-def]
    """Per event (rows of (n_ev, 3) arrays): smallest pT of the slots with |pdgId| ==
    ``flavour``, +inf if none; ``np.minimum``'s rule (NaN wins), comparisons only."""
    n = pt.shape[0]
    out = np.empty(n)
    for k in range(n):
        m = np.inf
        for i in range(3):
            v = pt[k, i] if abs_pdgid[k, i] == flavour else np.inf
            m = m if (m <= v or m != m) else v
        out[k] = m
    return out
