"""Resampled W-decay angles: several decay configurations per Pythia W event.

Why. In ``sliced_fsrq`` the forced W-lepton emissions (sample D, ~70% of σ_presel) have
reached their per-event floor: once a Pythia event is made, every copy shares its W-lepton
kinematics, and the event-to-event variation of those kinematics dominates Σ W²
(``docs/background.md`` §9–§11). The decay angles are the part of that variation that can
be redrawn exactly, without a second Pythia event.

What Pythia does (8.317; checked numerically, ``tests/samples/test_background_wdecay.py``):

1. The process record has q(3) q̄′(4) → W(5) → f(6) f̄′(7) with 3 along +z (beam A) and the
   W at zero p_T; the decay angle is drawn with ``Sigma1ffbar2W::weightDecay``
   (SigmaEW.cc): w = (1 + β ε cos θ)² − (r₁ − r₂)², cos θ the angle of f(6) to the +z axis
   in the W rest frame, ε = +1 if id(3)·id(6) > 0 else −1, r_i = m_i²/ŝ,
   β = √((1 − r₁ − r₂)² − 4 r₁ r₂).
2. Initial-state showers and the beam remnants (primordial k_T) change the W momentum but
   never see the decay products: they are appended to the event record after them
   (``PartonLevel::resonanceShowers``), boosted by Pythia's ``RotBstMatrix::bst(p_W^proc,
   p_W^final)``, the single pure boost taking the process-record W momentum to the final
   one. (It is *not* the composition of the rest-frame boosts: the two differ by a Wigner
   rotation of up to 2 rad in 1% of the events, so the beam axis of the final W's rest
   frame is *not* the hard-process axis.)
3. The decay products are then showered inside the W system (QED off the charged lepton;
   Σ of the W's final descendants = p_W to 3e-9 GeV), by an algorithm built on invariants
   with uniform azimuths: rotation covariant in the W rest frame.

So, given everything else in the event, the decay direction n of f(6) in the hard frame
H = B_z(p_W^proc)⁻¹ · Λ⁻¹ (Λ the boost of 2., B_z the boost of the process-record W along
z) has density w(n·ẑ) (uniform azimuth), independent of the rest; and the decay shower
given n is rotation covariant. Replacing n by a fresh n′ drawn from w, and moving every
descendant of the W by U = T R T⁻¹ (T = Λ B_z, R any rotation with R n = n′), gives an
event with exactly Pythia's distribution. ``w_decays`` = R configurations per Pythia event
(the original one and R − 1 redrawn), each with weight 1/R, are all correlated through the
rest of the event: the copies keep one ``genEventGroup`` (the processor's grouped variance
treats them as one event). U leaves the W momentum and every invariant inside the W system
unchanged; momenta outside the W system (quarks, gluons, ISR photons) are untouched.

Limits: this holds for Pythia's ``ffbar2W`` (the W processes of :mod:`samples.background`).
Sample H (q q̄′ → Wγ) has another decay correlation (``Sigma2ffbar2Wgm::weightDecay``) and is
not resampled.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from samples.jit import JIT, LEAF
from samples.pcg64 import random as _rand
from samples.pythia_record import is_ancestor

_JIT, _LEAF = JIT, LEAF
#: ``Sigma1ffbar2W::weightDecay``'s maximum (its ``wtMax``).
WT_MAX = 4.0


@numba.njit(**_LEAF)
def pythia_bst_velocity(p1, p2):  # type: ignore[no-untyped-def]
    """Velocity of ``RotBstMatrix::bst(p1, p2)`` (Pythia 8 Basics.cc): the pure boost
    taking ``p1`` to ``p2`` (equal masses); four-vectors (E, px, py, pz)."""
    e_sum = p1[0] + p2[0]
    bx = (p2[1] - p1[1]) / e_sum
    by = (p2[2] - p1[2]) / e_sum
    bz = (p2[3] - p1[3]) / e_sum
    fac = 2.0 / (1.0 + bx * bx + by * by + bz * bz)
    return bx * fac, by * fac, bz * fac


@numba.njit(**_LEAF)
def _boost(p, bx, by, bz):  # type: ignore[no-untyped-def]
    """``samples.background_kernels.boost`` for array rows as well as tuples (that one returns
    its argument unboosted, so it needs tuples; and it cannot be imported here: the kernels
    import this module)."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return p[0], p[1], p[2], p[3]
    g = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * p[1] + by * p[2] + bz * p[3]
    g2 = (g - 1.0) / b2
    return (g * (p[0] + bp), p[1] + g2 * bp * bx + g * bx * p[0],
            p[2] + g2 * bp * by + g * by * p[0], p[3] + g2 * bp * bz + g * bz * p[0])


@numba.njit(**_LEAF)
def decay_frame(rec):  # type: ignore[no-untyped-def]
    """The W-decay frame of a Pythia ``ffbar2W`` event record ``rec``
    (:class:`samples.pythia_record.Record`): (index of the last W copy, of its first
    daughter f(6), Λ velocity (3), z velocity of the process-record W, ε, β, (r₁ − r₂)²).
    Index −1 when the record is not such an event (no W at entry 5 with two daughters)."""
    n = len(rec.id)
    if n < 8 or abs(rec.id[5]) != 24:
        return -1, -1, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0
    iw = -1
    for i in range(n - 1, 4, -1):
        if abs(rec.id[i]) == 24:
            iw = i
            break
    d1, d2 = rec.daughter1[iw], rec.daughter2[iw]
    if d1 <= iw or d2 != d1 + 1:
        return -1, -1, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0
    p0 = rec.p[5]
    p1 = rec.p[iw]
    bx, by, bz = pythia_bst_velocity(p0, p1)
    bz0 = p0[3] / p0[0]
    s_hat = p0[0] * p0[0] - p0[3] * p0[3] - p0[1] * p0[1] - p0[2] * p0[2]
    r1 = rec.m[d1] ** 2 / s_hat
    r2 = rec.m[d2] ** 2 / s_hat
    beta = math.sqrt(max(0.0, (1.0 - r1 - r2) ** 2 - 4.0 * r1 * r2))
    eps = 1.0 if rec.id[3] * rec.id[d1] > 0 else -1.0
    return iw, d1, bx, by, bz, bz0, eps, beta, (r1 - r2) ** 2


@numba.njit(**_LEAF)
def to_hard_frame(p, bx, by, bz, bz0):  # type: ignore[no-untyped-def]
    """Lab four-vector → the hard-process W rest frame (T⁻¹ = B_z⁻¹ Λ⁻¹)."""
    q = _boost(p, -bx, -by, -bz)
    return _boost(q, 0.0, 0.0, -bz0)


@numba.njit(**_LEAF)
def from_hard_frame(q, bx, by, bz, bz0):  # type: ignore[no-untyped-def]
    """Hard-process W rest frame → lab (T = Λ B_z)."""
    p = _boost(q, 0.0, 0.0, bz0)
    return _boost(p, bx, by, bz)


@numba.njit(**_LEAF)
def decay_weight(cos_t, eps, beta, dr2):  # type: ignore[no-untyped-def]
    """``Sigma1ffbar2W::weightDecay`` (before its division by ``wtMax`` = 4)."""
    return (1.0 + beta * eps * cos_t) ** 2 - dr2


@numba.njit(**_LEAF)
def draw_cos_theta(eps, beta, dr2, st):  # type: ignore[no-untyped-def]
    """cos θ of f(6) to +z drawn from :func:`decay_weight` (accept–reject against
    ``WT_MAX``, as Pythia; two uniforms of the PCG64 state ``st`` per try)."""
    while True:
        c = 2.0 * _rand(st) - 1.0
        if WT_MAX * _rand(st) < decay_weight(c, eps, beta, dr2):
            return c


@numba.njit(**_LEAF)
def _rotate(v0, v1, v2, n, m):  # type: ignore[no-untyped-def]
    """The rotation taking unit vector n to unit vector m (about n × m), applied to v."""
    c = n[0] * m[0] + n[1] * m[1] + n[2] * m[2]
    if c < -1.0 + 1e-12:  # antiparallel: π about an axis ⊥ n
        a0, a1, a2 = (1.0, 0.0, 0.0) if abs(n[0]) < 0.9 else (0.0, 1.0, 0.0)
        k0, k1, k2 = n[1] * a2 - n[2] * a1, n[2] * a0 - n[0] * a2, n[0] * a1 - n[1] * a0
        kn = math.sqrt(k0 * k0 + k1 * k1 + k2 * k2)
        k0, k1, k2 = k0 / kn, k1 / kn, k2 / kn
        kv = k0 * v0 + k1 * v1 + k2 * v2
        return 2.0 * kv * k0 - v0, 2.0 * kv * k1 - v1, 2.0 * kv * k2 - v2
    w0, w1, w2 = n[1] * m[2] - n[2] * m[1], n[2] * m[0] - n[0] * m[2], n[0] * m[1] - n[1] * m[0]
    x0, x1, x2 = w1 * v2 - w2 * v1, w2 * v0 - w0 * v2, w0 * v1 - w1 * v0
    f = (w0 * v0 + w1 * v1 + w2 * v2) / (1.0 + c)
    return c * v0 + x0 + f * w0, c * v1 + x1 + f * w1, c * v2 + x2 + f * w2


@numba.njit(**_JIT)
def w_descendants(rec, iw):  # type: ignore[no-untyped-def]
    """Indices after ``iw`` whose ancestor chain reaches record entry ``iw``."""
    n = len(rec.id)
    out = np.empty(n, np.int64)
    k = 0
    for j in range(iw + 1, n):
        if is_ancestor(j, iw, rec.status, rec.mother1, rec.mother2):
            out[k] = j
            k += 1
    return out[:k]


@numba.njit(**_JIT)
def resampled_momenta(rec, n_new, st):  # type: ignore[no-untyped-def]
    """``n_new`` redrawn decay configurations of the W of ``rec``: an array
    (n_new, len(rec), 4) of the record's momenta with every descendant of the last W copy
    moved by U = T R T⁻¹ (module docstring), and the drawn cos θ of f(6) (n_new,). Raises
    ``ValueError`` for a record without a Pythia ``ffbar2W`` decay."""
    iw, d1, bx, by, bz, bz0, eps, beta, dr2 = decay_frame(rec)
    if iw < 0:
        raise ValueError("W-decay resampling needs a Pythia ffbar2W event (W at entry 5 "
                         "decaying into two adjacent daughters)")
    desc = w_descendants(rec, iw)
    q = to_hard_frame(rec.p[d1], bx, by, bz, bz0)
    qn = math.sqrt(q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    nvec = np.array([q[1] / qn, q[2] / qn, q[3] / qn])
    n = len(rec.id)
    out = np.empty((n_new, n, 4))
    cos_new = np.empty(n_new)
    hard = np.empty((len(desc), 4))
    for t in range(len(desc)):
        h = to_hard_frame(rec.p[desc[t]], bx, by, bz, bz0)
        hard[t, 0], hard[t, 1], hard[t, 2], hard[t, 3] = h
    mvec = np.empty(3)
    for r in range(n_new):
        c = draw_cos_theta(eps, beta, dr2, st)
        phi = 2.0 * math.pi * _rand(st)
        s = math.sqrt(max(0.0, 1.0 - c * c))
        mvec[0], mvec[1], mvec[2] = s * math.cos(phi), s * math.sin(phi), c
        cos_new[r] = c
        out[r] = rec.p
        for t in range(len(desc)):
            v0, v1, v2 = _rotate(hard[t, 1], hard[t, 2], hard[t, 3], nvec, mvec)
            p = from_hard_frame((hard[t, 0], v0, v1, v2), bx, by, bz, bz0)
            j = desc[t]
            out[r, j, 0], out[r, j, 1], out[r, j, 2], out[r, j, 3] = p
    return out, cos_new


@numba.njit(**_LEAF)
def hard_frame_cos_theta(rec):  # type: ignore[no-untyped-def]
    """ε · cos θ of f(6) in the hard frame (for tests and validation); NaN without W."""
    iw, d1, bx, by, bz, bz0, eps, _beta, _dr2 = decay_frame(rec)
    if iw < 0:
        return np.nan
    q = to_hard_frame(rec.p[d1], bx, by, bz, bz0)
    return eps * q[3] / math.sqrt(q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
