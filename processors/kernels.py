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


@numba.njit(cache=True, nogil=True)
def drop_nonfinite(counts, pt, eta, phi, mass):  # type: ignore[no-untyped-def]
    """Leptons with a non-finite pT, eta, phi or mass (``bad``) and the events holding one
    (``bad_event``); the four kinematics of a bad lepton are set to 0 in place (so it is
    never selected). Only ``isfinite`` tests and copies."""
    n_ev = len(counts)
    bad = np.zeros(len(pt), np.bool_)
    bad_event = np.zeros(n_ev, np.bool_)
    j = 0
    for e in range(n_ev):
        for i in range(j, j + counts[e]):
            if not (
                np.isfinite(pt[i]) and np.isfinite(eta[i])
                and np.isfinite(phi[i]) and np.isfinite(mass[i])
            ):
                bad[i] = True
                bad_event[e] = True
                pt[i] = 0.0
                eta[i] = 0.0
                phi[i] = 0.0
                mass[i] = 0.0
        j += counts[e]
    return bad, bad_event


@numba.njit(cache=True, nogil=True)
def sure_leptons(counts, keep, is_e, pt, eta, e_pt_min, mu_pt_min, eta_max):  # type: ignore[no-untyped-def]
    """Leptons of the ``keep`` events passing threshold (``e_pt_min`` or ``mu_pt_min``)
    and acceptance unsmeared (``sure``), and the flat indices of the other leptons of
    those events (``unsure``, ascending). Comparisons only."""
    sure = np.zeros(len(pt), np.bool_)
    unsure = np.empty(len(pt), np.int64)
    n_unsure = 0
    j = 0
    for e in range(len(counts)):
        if keep[e]:
            for i in range(j, j + counts[e]):
                thr = e_pt_min if is_e[i] else mu_pt_min
                if pt[i] > thr and abs(eta[i]) < eta_max:
                    sure[i] = True
                else:
                    unsure[n_unsure] = i
                    n_unsure += 1
        j += counts[e]
    return sure, unsure[:n_unsure].copy()


@numba.njit(cache=True, nogil=True)
def events_with_candidates(counts, candidate, bad, good_event, n_min):  # type: ignore[no-untyped-def]
    """Valid events (``good_event``) with at least ``n_min`` candidate leptons that are not
    ``bad``. Counting only."""
    keep = np.zeros(len(counts), np.bool_)
    j = 0
    for e in range(len(counts)):
        n = 0
        for i in range(j, j + counts[e]):
            if candidate[i] and not bad[i]:
                n += 1
        keep[e] = good_event[e] and n >= n_min
        j += counts[e]
    return keep


@numba.njit(cache=True, nogil=True)
def kept_lepton_index(counts, keep):  # type: ignore[no-untyped-def]
    """Flat indices (ascending) of the leptons of the ``keep`` events."""
    n = 0
    for e in range(len(counts)):
        if keep[e]:
            n += counts[e]
    out = np.empty(n, np.int64)
    k = 0
    j = 0
    for e in range(len(counts)):
        if keep[e]:
            for i in range(j, j + counts[e]):
                out[k] = i
                k += 1
        j += counts[e]
    return out


@numba.njit(cache=True, nogil=True)
def interleave_codes(n_a, n_b, code_a, code_b, out):  # type: ignore[no-untyped-def]
    """out = per event: ``code_a`` for each of its ``a`` entries, then ``code_b`` for each
    ``b`` entry (as :func:`interleave` of two constant arrays)."""
    k = 0
    for e in range(len(n_a)):
        for _ in range(n_a[e]):
            out[k] = code_a
            k += 1
        for _ in range(n_b[e]):
            out[k] = code_b
            k += 1
    return out


@numba.njit(cache=True, nogil=True)
def offsets_match_counts(offsets, counts):  # type: ignore[no-untyped-def]
    """True if ``np.diff(offsets)`` equals ``counts`` (same length, same entries)."""
    if len(offsets) != len(counts) + 1:
        return False
    for e in range(len(counts)):
        if offsets[e + 1] - offsets[e] != counts[e]:
            return False
    return True
