"""numba kernels of the processor's per-lepton bookkeeping (copies, gathers, subtractions).

Only exact operations (copies, dtype widening, one subtraction and one multiplication per
value, in the same order as the numpy code they replace), so results are bit-identical.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def merged_index(n_a, n_b, keep):  # type: ignore[no-untyped-def]
    """Positions (ascending) in the merged order (per event its ``a`` entries, then its
    ``b`` entries, all events) of the entries of the ``keep`` events."""
    n = 0
    for e in range(len(n_a)):
        if keep[e]:
            n += n_a[e] + n_b[e]
    out = np.empty(n, np.int64)
    j = 0
    k = 0
    for e in range(len(n_a)):
        c = n_a[e] + n_b[e]
        if keep[e]:
            for i in range(j, j + c):
                out[k] = i
                k += 1
        j += c
    return out


@numba.njit(cache=True, nogil=True)
def lepton_vertices(  # type: ignore[no-untyped-def]
    counts, keep, gen_idx, gcounts, gvx, gvy, gvz, pvx, pvy, pvz, scale
):
    """Production vertex (x scale) relative to the event's GenVtx of each lepton of the kept
    events (``gen_idx``: their genPartIdx, ``counts``: leptons of every event); (0, 0, 0)
    and matched = False for an unmatched or non-finite one."""
    out = np.zeros((len(gen_idx), 3), np.float64)
    ok = np.zeros(len(gen_idx), np.bool_)
    k = 0  # kept lepton
    g0 = 0  # first gen particle of the event
    for e in range(len(counts)):
        if keep[e]:
            for _ in range(counts[e]):
                gi = gen_idx[k]
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
        g0 += gcounts[e]
    return out, ok


@numba.njit(cache=True, nogil=True)
def nonfinite_events(counts, pt, eta, phi, mass):  # type: ignore[no-untyped-def]
    """Events holding a lepton with a non-finite pT, eta, phi or mass (read only)."""
    bad = np.zeros(len(counts), np.bool_)
    j = 0
    for e in range(len(counts)):
        for i in range(j, j + counts[e]):
            if not (
                np.isfinite(pt[i]) and np.isfinite(eta[i])
                and np.isfinite(phi[i]) and np.isfinite(mass[i])
            ):
                bad[e] = True
        j += counts[e]
    return bad


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
def _split_collection(  # type: ignore[no-untyped-def]
    e, start, stop, first, flavour_a, pts, etas, thr, eta_max,
    n_sure, pos, event, is_a, pt, eta, n,
):
    for i in range(start, stop):
        p = np.float64(pts[i])
        h = np.float64(etas[i])
        if p > thr and abs(h) < eta_max:
            n_sure[e] += 1
        else:
            pos[n], event[n], is_a[n], pt[n], eta[n] = first + (i - start), e, flavour_a, p, h
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def unsmeared_split(  # type: ignore[no-untyped-def]
    n_a, n_b, keep, a_pt, a_eta, b_pt, b_eta, a_pt_min, b_pt_min, eta_max
):
    """Leptons of the ``keep`` events, in the merged order (per event its ``a`` entries
    (electrons), then its ``b`` entries (muons)): per event the number passing threshold
    (``a_pt_min`` / ``b_pt_min``) and acceptance unsmeared, and for the others their
    merged position, event, flavour (True for ``a``), pT and eta (as float64).
    Comparisons and copies only."""
    n_ev = len(n_a)
    n_sure = np.zeros(n_ev, np.int64)
    n_max = 0
    for e in range(n_ev):
        if keep[e]:
            n_max += n_a[e] + n_b[e]
    pos = np.empty(n_max, np.int64)
    event = np.empty(n_max, np.int64)
    is_a = np.empty(n_max, np.bool_)
    pt = np.empty(n_max)
    eta = np.empty(n_max)
    n = 0
    ia = 0
    ib = 0
    j = 0  # merged position of the event's first lepton
    for e in range(n_ev):
        if keep[e]:
            n = _split_collection(e, ia, ia + n_a[e], j, True, a_pt, a_eta, a_pt_min,
                                  eta_max, n_sure, pos, event, is_a, pt, eta, n)
            n = _split_collection(e, ib, ib + n_b[e], j + n_a[e], False, b_pt, b_eta,
                                  b_pt_min, eta_max, n_sure, pos, event, is_a, pt, eta, n)
        ia += n_a[e]
        ib += n_b[e]
        j += n_a[e] + n_b[e]
    return n_sure, pos[:n].copy(), event[:n].copy(), is_a[:n].copy(), pt[:n].copy(), eta[:n].copy()


@numba.njit(cache=True, nogil=True)
def events_with_three(n_sure, event, passes, good_event, n_min):  # type: ignore[no-untyped-def]
    """Valid events with at least ``n_min`` candidate leptons: ``n_sure`` per event plus
    the ``passes`` of the other leptons (``event``: their events). Counting only."""
    n = n_sure.copy()
    for k in range(len(event)):
        if passes[k]:
            n[event[k]] += 1
    keep = np.zeros(len(n_sure), np.bool_)
    for e in range(len(n_sure)):
        keep[e] = good_event[e] and n[e] >= n_min
    return keep


@numba.njit(cache=True, nogil=True)
def offsets_match_counts(offsets, counts):  # type: ignore[no-untyped-def]
    """True if ``np.diff(offsets)`` equals ``counts`` (same length, same entries)."""
    if len(offsets) != len(counts) + 1:
        return False
    for e in range(len(counts)):
        if offsets[e + 1] - offsets[e] != counts[e]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _copy_event(  # type: ignore[no-untyped-def]
    out_f, out_i, k, start, stop, pt, eta, phi, mass, charge, gen_idx, code
):
    for i in range(start, stop):
        out_f[0, k] = pt[i]
        out_f[1, k] = eta[i]
        out_f[2, k] = phi[i]
        out_f[3, k] = mass[i]
        out_i[0, k] = charge[i]
        out_i[1, k] = gen_idx[i]
        out_i[2, k] = code
        k += 1
    return k


@numba.njit(cache=True, nogil=True)
def merge_leptons(  # type: ignore[no-untyped-def]
    n_a, n_b, keep, a_pt, a_eta, a_phi, a_mass, a_charge, a_gen_idx,
    b_pt, b_eta, b_phi, b_mass, b_charge, b_gen_idx, code_a, code_b, out_f, out_i,
):
    """All lepton fields merged in one pass: per ``keep`` event its ``a``
    leptons (electrons) then its ``b`` leptons (muons), into ``out_f`` rows (pt, eta, phi,
    mass; cast to float64) and ``out_i`` rows (charge, gen_idx, flavour code; int64).
    Copies only."""
    ia = 0
    ib = 0
    k = 0
    for e in range(len(n_a)):
        if keep[e]:
            k = _copy_event(out_f, out_i, k, ia, ia + n_a[e], a_pt, a_eta, a_phi, a_mass,
                            a_charge, a_gen_idx, code_a)
            k = _copy_event(out_f, out_i, k, ib, ib + n_b[e], b_pt, b_eta, b_phi, b_mass,
                            b_charge, b_gen_idx, code_b)
        ia += n_a[e]
        ib += n_b[e]
    return out_f, out_i


@numba.njit(cache=True, nogil=True)
def candidate_vertex(vtx, i1, i2, z, sigma_xy, sigma_z):  # type: ignore[no-untyped-def]
    """Smeared Z_D-candidate vertex per event: ``0.5 * (vtx[i1] + vtx[i2]) + sigma * z``
    per coordinate (``sigma_xy`` for x, y; ``sigma_z`` for z), as the numpy expressions
    ``0.5 * (a + b)`` then ``d + sigma * z[:, c]``; zeros for the mean when ``vtx`` is
    empty. Returns (dx, dy, dz)."""
    n = len(i1)
    dx = np.empty(n)
    dy = np.empty(n)
    dz = np.empty(n)
    empty = len(vtx) == 0
    for k in range(n):
        if empty:
            mx = my = mz = 0.0
        else:
            a, b = i1[k], i2[k]
            mx = 0.5 * (vtx[a, 0] + vtx[b, 0])
            my = 0.5 * (vtx[a, 1] + vtx[b, 1])
            mz = 0.5 * (vtx[a, 2] + vtx[b, 2])
        dx[k] = mx + sigma_xy * z[k, 0]
        dy[k] = my + sigma_xy * z[k, 1]
        dz[k] = mz + sigma_z * z[k, 2]
    return dx, dy, dz


@numba.njit(cache=True, nogil=True)
def smeared_bound_passes(  # type: ignore[no-untyped-def]
    pt, sinh_eta, is_e, sigma_pt_e, sigma_cot_e, sigma_pt_mu, z, pt_min_e, pt_min_mu,
    sinh_eta_max,
):
    """Leptons that may pass threshold and acceptance after smearing (the pre-filter bound):
    ``pt (1 + s_pt max(z0, 0)) (1 + 1e-9) > threshold`` and ``|sinh eta| - s_cot |z1| <
    sinh(eta_max) (1 + 1e-9) + 1e-12`` (``sinh_eta_max`` = that right-hand side), with the
    largest resolutions of any variation (electrons: ``sigma_*_e``, one per electron in
    order; muons: ``sigma_pt_mu`` and no angular smearing). The numpy formulation's
    operations in its order."""
    out = np.empty(len(pt), np.bool_)
    k = 0
    for i in range(len(pt)):
        if is_e[i]:
            s_pt, s_cot, thr = sigma_pt_e[k], sigma_cot_e[k], pt_min_e
            k += 1
        else:
            s_pt, s_cot, thr = sigma_pt_mu, 0.0, pt_min_mu
        z0 = z[i, 0]
        zp = z0 if (z0 >= 0.0 or z0 != z0) else 0.0  # np.maximum(z0, 0)
        pt_max = pt[i] * (1.0 + s_pt * zp) * (1 + 1e-9)
        sinh_min = abs(sinh_eta[i]) - s_cot * abs(z[i, 1])
        out[i] = pt_max > thr and sinh_min < sinh_eta_max
    return out
