"""Compiled (numba) kernels of the ``sliced`` / ``sliced_fsr`` / ``sliced_fsrq`` methods.

Each kernel is a line-by-line port of the Python formulation that stays in the code as the
reference implementation (and is what the tests compare against, on the same inputs, to
the last bit):

=====================================  ============================================
kernel                                  reference (Python)
=====================================  ============================================
:func:`force_split`                     ``samples.background_forced.force_split``
:func:`no_split_probability`            ``samples.background_forced.no_split_probability``
:func:`force_emit`                      ``samples.background_fsr.force_emit``
:func:`force_emit_quark`                ``samples.background_fsr.force_emit_quark``
:func:`photon_fraction`                 ``samples.background_fsr.photon_fraction``
:func:`quark_recoiler`                  ``samples.background_fsr.quark_recoiler``
:func:`quark_copy_segments`             ``samples.background_fsr.quark_copy_segments``
:func:`photon_recoiler`                 ``samples.background._recoiler``
:func:`photon_origin`                   ``samples.background_sliced.photon_origin``
:func:`passes_gen_filter` …             ``samples.background.passes_gen_filter`` …
:func:`soft_event_decays`,               the per-event loops of ``run_sliced_job``
:func:`hard_event`                      (one decay configuration)
=====================================  ============================================

The physics (kernels, limits, Pythia source references) is documented in those modules
and in ``docs/background.md`` §2, §8, §9; here the point is to do exactly the same
arithmetic, in the same order, with the same random numbers: every draw happens at the
same place (``rng`` arguments are PCG64 state arrays of :mod:`samples.pcg64`, the job's
generators' states), floating-point expressions keep Python's evaluation order,
``math.hypot`` and ``x ** 2`` round as CPython's (:mod:`samples.cpython_math`), and
Pythia's ``alphaEM`` is re-evaluated from its source (:func:`alpha_em`, checked against
the Pythia instance when a job starts).

Four-vectors are tuples (E, px, py, pz) in GeV, as in the Python code. Event records are
:class:`samples.pythia_record.Record` tuples of arrays.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from samples.background_forced import (
    M_ELECTRON_GEV,
    M_MAX_GAMMA_GEV,
    M_MIN_PAIR_GEV,
    M_MUON_GEV,
    M_TAU_GEV,
    PT_MIN_CHG_Q_GEV,
)
from samples.background_fsr import PT_MIN_CHG_Q, PT_MIN_GEV, Q_PT_CUT, X_CUT
from samples.background_sliced import RECOIL_FINAL, RECOIL_INCOMING, RECOIL_W
from samples.background_wdecay import resampled_momenta
from samples.cpython_math import hypot, sq
from samples.jit import JIT, LEAF
from samples.nanoaod_kernels import (
    FINAL_HADRON,
    FINAL_LEPTON,
    column_plan,
    plan_columns_into,
)
from samples.pcg64 import random as _rand
from samples.pythia_record import Record, _copy_particles, bot_copy_id, is_ancestor, top_copy_id

_JIT, _LEAF = JIT, LEAF

# Photon origins (samples.background_sliced.ORIGIN_*).
ORIGIN_HARD, ORIGIN_ISR, ORIGIN_FSR_LEPTON, ORIGIN_FSR_OTHER = 0, 1, 2, 3
ORIGIN_FORCED_FSR, ORIGIN_FORCED_QUARK = 4, 5

#: Columns of the per-copy float rows returned by the event kernels.
C_W, C_BIAS, C_ORIGIN, C_PTG, C_SCALE, C_PART, C_PRESEL, C_MLL, C_LEAD, C_FLAV = range(10)
C_LM, C_LP, C_GSTAR, C_REC = 10, 14, 18, 22  # four-vectors of the split
C_MPAIR, C_PHOTON, C_PTEVOL, C_NU = 26, 27, 31, 32  # m_ℓℓ; forced photon; its scale; ν (D)
C_CORE = 36  # 1: the copy passes samples.background.core_copy (never thinned)
N_FCOLS = 37
#: Columns of the per-copy int rows: kind (0 split of a record photon, 1 sample D, 2 sample
#: Q), lepton id, photon/radiator index, splitting recoiler, ν index (D), moved range (Q).
I_KIND, I_LID, I_RAD, I_REC, I_NU, I_MOV0, I_MOV1 = range(7)
N_ICOLS = 7
#: Running totals (same summation order as the Python job): loose ee / μμ of S and H (the
#: written Σw and counts come from samples.background_sliced.CopyThinning).
T_LOOSE_E_S, T_LOOSE_MU_S, T_LOOSE_E_H, T_LOOSE_MU_H = range(4)
N_TOTALS = 4

_PHOTON_PT_MIN = 2.0  # samples.background.PHOTON_PT_MIN_GEV
_FILTER_PT_MIN, _FILTER_ETA_MAX, _FILTER_N = 1.0, 4.0, 3  # samples.background.FILTER_*
# samples.background.CORE_* (tests/samples/test_thinning.py checks they agree)
_CORE_E_PT, _CORE_MU_PT, _CORE_ETA, _CORE_LEAD = 3.5, 1.8, 4.0, 20.0

# ----------------------------------------------------------------------------- numerics


@numba.njit(**_LEAF)
def alpha_em(q2, tab):  # type: ignore[no-untyped-def]
    """Pythia's ``AlphaEM::alphaEM(scale2)`` (src/StandardModel.cc, 8.317): fixed for
    order 0 (α(0)) and −1 (α(m_Z)); else first-order running with thresholds. ``tab`` from
    :func:`alpha_em_table`."""
    order = tab[0]
    if order == 0:
        return tab[1]
    if order < 0:
        return tab[2]
    for i in range(4, -1, -1):
        if q2 > tab[3 + i]:
            return tab[8 + i] / (1.0 - tab[13 + i] * tab[8 + i] * math.log(q2 / tab[3 + i]))
    return tab[1]


def alpha_em_table(settings) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Constants of :func:`alpha_em` as ``AlphaEM::init`` computes them (Pythia 8.317
    src/StandardModel.cc: MZ = 91.188, Q2STEP, BRUNDEF; α(0), α(m_Z) from ``settings``;
    order = ``SigmaProcess:alphaEMorder``, the coupling of ``Pythia.coupSM``)."""
    order = float(settings.mode("SigmaProcess:alphaEMorder"))
    a0 = settings.parm("StandardModel:alphaEM0")
    amz = settings.parm("StandardModel:alphaEMmZ")
    mz2 = 91.188 * 91.188
    q2s = [0.26e-6, 0.011, 0.25, 3.5, 90.0]
    b = [0.1061, 0.2122, 0.460, 0.700, 0.725]
    st = [0.0] * 5
    st[4] = amz / (1.0 + amz * b[4] * math.log(mz2 / q2s[4]))
    st[3] = st[4] / (1.0 - st[4] * b[3] * math.log(q2s[3] / q2s[4]))
    st[0] = a0
    st[1] = st[0] / (1.0 - st[0] * b[0] * math.log(q2s[1] / q2s[0]))
    st[2] = st[1] / (1.0 - st[1] * b[1] * math.log(q2s[2] / q2s[1]))
    b[2] = (1.0 / st[3] - 1.0 / st[2]) / math.log(q2s[2] / q2s[3])
    return np.array([order, a0, amz, *q2s, *st, *b], dtype=np.float64)


def checked_alpha_em_table(pythia) -> np.ndarray:  # type: ignore[no-untyped-def]
    """:func:`alpha_em_table` of an initialised Pythia, verified against its
    ``coupSM.alphaEM`` on a grid spanning every threshold (raises ``RuntimeError`` on any
    difference: the compiled weights would not be Pythia's)."""
    tab = alpha_em_table(pythia.settings)
    for q2 in np.geomspace(1e-8, 1e6, 57):
        ref = pythia.coupSM.alphaEM(float(q2))
        got = alpha_em(float(q2), tab)
        if ref != got:
            raise RuntimeError(f"compiled alpha_em({q2:g}) = {got!r} differs from Pythia's "
                               f"{ref!r}: the AlphaEM port does not match this Pythia")
    return tab


@numba.njit(**_LEAF)
def boost(p, bx, by, bz):  # type: ignore[no-untyped-def]
    """``samples.background_forced._boost``: ``p`` boosted by velocity (bx, by, bz)."""
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return p
    g = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * p[1] + by * p[2] + bz * p[3]
    g2 = (g - 1.0) / b2
    return (g * (p[0] + bp),
            p[1] + g2 * bp * bx + g * bx * p[0],
            p[2] + g2 * bp * by + g * by * p[0],
            p[3] + g2 * bp * bz + g * bz * p[0])


@numba.njit(**_LEAF)
def _m2(p):  # type: ignore[no-untyped-def]
    return p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3]


@numba.njit(**_LEAF)
def _add(a, b):  # type: ignore[no-untyped-def]
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


@numba.njit(**_LEAF)
def _basis(n0, n1, n2):  # type: ignore[no-untyped-def]
    """Unit vectors e1, e2 orthogonal to n (the construction of the Python kernels)."""
    if abs(n0) < 0.9:
        a0, a1, a2 = 1.0, 0.0, 0.0
    else:
        a0, a1, a2 = 0.0, 1.0, 0.0
    e10 = n1 * a2 - n2 * a1
    e11 = n2 * a0 - n0 * a2
    e12 = n0 * a1 - n1 * a0
    return e10, e11, e12


@numba.njit(**_LEAF)
def _cross(n0, n1, n2, e10, e11, e12):  # type: ignore[no-untyped-def]
    return (n1 * e12 - n2 * e11, n2 * e10 - n0 * e12, n0 * e11 - n1 * e10)


@numba.njit(**_LEAF)
def _tilted(n0, n1, n2, along, across, u_phi):  # type: ignore[no-untyped-def]
    """along·n + across·(cos φ e1 + sin φ e2), φ = 2π u_phi, (e1, e2) the unit frame of
    :func:`_basis` normalised with ``sq`` (the photon of the forced emissions: longitudinal
    and transverse momentum around the emitter's direction n)."""
    e10, e11, e12 = _basis(n0, n1, n2)
    e1n = math.sqrt(sq(e10) + sq(e11) + sq(e12))
    e10, e11, e12 = e10 / e1n, e11 / e1n, e12 / e1n
    e20, e21, e22 = _cross(n0, n1, n2, e10, e11, e12)
    phi = 2.0 * math.pi * u_phi
    c, s = math.cos(phi), math.sin(phi)
    return (along * n0 + across * (c * e10 + s * e20), along * n1 + across * (c * e11 + s * e21),
            along * n2 + across * (c * e12 + s * e22))


# ----------------------------------------------------------------------------- γ → ℓℓ


#: Thresholds of :func:`no_split_probability` and their squares (computed by CPython's
#: ``**``, as the reference does).
_NS_THR = (M_ELECTRON_GEV / 2, M_MUON_GEV / 2, M_TAU_GEV / 2, PT_MIN_CHG_Q_GEV)
_NS_THR2 = tuple(t**2 for t in _NS_THR)
_NS_CHG2 = (1.0, 1.0, 1.0, 11.0 / 3.0)


@numba.njit(**_LEAF)
def no_split_probability(scale_gev, pt_gev, alpha):  # type: ignore[no-untyped-def]
    """``samples.background_forced.no_split_probability`` (approximate Sudakov factor).
    The squares ``scale**2``, ``pt**2`` and of the thresholds are evaluated once (the
    reference squares the same values per threshold)."""
    if pt_gev >= scale_gev:
        return 1.0
    expo = 0.0
    s2 = sq(scale_gev)
    p2 = sq(pt_gev)
    for k in range(4):
        m_thr, chg2 = _NS_THR[k], _NS_CHG2[k]
        lo = max(pt_gev, m_thr)
        lo2 = p2 if lo == pt_gev else _NS_THR2[k]
        if scale_gev > lo:
            expo += chg2 * (2.0 / 3.0) * math.log(s2 / lo2)
    return math.exp(-alpha / (2 * math.pi) * expo)


_ZERO4 = (0.0, 0.0, 0.0, 0.0)


@numba.njit(**_LEAF)
def force_split(photon, recoiler, scale_gev, m_lepton, rng, atab,  # type: ignore[no-untyped-def]
                m_min_gev=M_MIN_PAIR_GEV, m_max_gev=M_MAX_GAMMA_GEV, sudakov=True):
    """``samples.background_forced.force_split`` (Pythia's γ → ℓ⁺ℓ⁻ kernel of
    ``SimpleTimeShower::pT2nextQED`` as a weight; the formula is documented there).
    Returns (ok, weight, m_pair, z, ℓ⁻, ℓ⁺, γ*, recoiler); ok = False is the reference's
    ``None`` (a try outside the phase space, random numbers consumed the same way)."""
    s = _m2(_add(photon, recoiler))
    m_rec2 = max(0.0, _m2(recoiler))
    m_rec = math.sqrt(m_rec2)
    if s <= m_rec2:
        return False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4, _ZERO4
    sqrt_s = math.sqrt(s)
    m2_dip_corr = sq(sqrt_s - m_rec)
    m_lo = max(m_min_gev, 2.0 * m_lepton * (1.0 + 1e-12))
    m_hi = min(m_max_gev, sqrt_s - m_rec)
    if m_hi <= m_lo:
        return False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4, _ZERO4
    log_range = 2.0 * math.log(m_hi / m_lo)
    u_m = _rand(rng)
    z = _rand(rng)
    u_phi = _rand(rng)
    m2 = (m_lo * m_lo) * math.exp(log_range * u_m)
    m = math.sqrt(m2)
    pt2 = z * (1.0 - z) * m2
    if pt2 >= scale_gev * scale_gev or 4.0 * pt2 >= m2_dip_corr:
        return False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4, _ZERO4
    z_min = 0.5 - math.sqrt(0.25 - pt2 / m2_dip_corr)
    if not (z_min < z < 1.0 - z_min):
        return False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4, _ZERO4
    if m2 * s >= z * (1.0 - z) * sq(s + m2 - m_rec2):
        return False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4, _ZERO4
    rho = m2 / m2_dip_corr
    r = m_lepton * m_lepton / m2
    beta_l = math.sqrt(max(0.0, 1.0 - 4.0 * r))
    zc = ((1.0 + rho) * z - rho) / (1.0 - rho)
    kernel = beta_l * (zc * zc + sq(1 - zc) + 8 * r * zc * (1 - zc)) * (1 + rho) * sq(1 - rho)
    if kernel <= 0.0:
        return False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4, _ZERO4
    ptot = _add(photon, recoiler)
    bx, by, bz = ptot[1] / ptot[0], ptot[2] / ptot[0], ptot[3] / ptot[0]
    k_rest = boost(photon, -bx, -by, -bz)
    kn = math.sqrt(sq(k_rest[1]) + sq(k_rest[2]) + sq(k_rest[3]))
    n0, n1, n2 = k_rest[1] / kn, k_rest[2] / kn, k_rest[3] / kn
    lam = max(0.0, s * s + m2 * m2 + m_rec2 * m_rec2 - 2 * s * m2 - 2 * s * m_rec2
              - 2 * m2 * m_rec2)
    q = math.sqrt(lam) / (2.0 * sqrt_s)
    e_star = (s + m2 - m_rec2) / (2.0 * sqrt_s)
    e_rec = (s - m2 + m_rec2) / (2.0 * sqrt_s)
    # samples.background_forced.force_split: cos θ* = (2z − 1)/β*, β* = q/E*.
    cos_t = max(-1.0, min(1.0, (2.0 * z - 1.0) * e_star / q))
    sin_t = math.sqrt(1.0 - cos_t * cos_t)
    phi = 2.0 * math.pi * u_phi
    e10, e11, e12 = _basis(n0, n1, n2)
    e1n = math.sqrt(e10 * e10 + e11 * e11 + e12 * e12)
    e10, e11, e12 = e10 / e1n, e11 / e1n, e12 / e1n
    e20, e21, e22 = _cross(n0, n1, n2, e10, e11, e12)
    pl = 0.5 * m * beta_l
    cp, sp = math.cos(phi), math.sin(phi)
    d0 = cos_t * n0 + sin_t * (cp * e10 + sp * e20)
    d1 = cos_t * n1 + sin_t * (cp * e11 + sp * e21)
    d2 = cos_t * n2 + sin_t * (cp * e12 + sp * e22)
    l1_rf = (0.5 * m, pl * d0, pl * d1, pl * d2)
    l2_rf = (0.5 * m, -pl * d0, -pl * d1, -pl * d2)
    gx, gy, gz = q / e_star * n0, q / e_star * n1, q / e_star * n2
    l1 = boost(boost(l1_rf, gx, gy, gz), bx, by, bz)
    l2 = boost(boost(l2_rf, gx, gy, gz), bx, by, bz)
    gstar = boost((e_star, q * n0, q * n1, q * n2), bx, by, bz)
    rec = boost((e_rec, -q * n0, -q * n1, -q * n2), bx, by, bz)
    alpha = alpha_em(pt2, atab)
    no_split = no_split_probability(scale_gev, math.sqrt(pt2), alpha) if sudakov else 1.0
    weight = alpha / (2.0 * math.pi) * log_range * kernel * no_split
    return True, weight, m, z, l1, l2, gstar, rec


# ----------------------------------------------------------------------------- ℓ → ℓγ, q → qγ


@numba.njit(**_LEAF)
def photon_fraction(lepton, photon, recoiler):  # type: ignore[no-untyped-def]
    """``samples.background_fsr.photon_fraction``: x = 2E_γ/M in the ℓ + γ + recoiler frame."""
    P = (lepton[0] + photon[0] + recoiler[0], lepton[1] + photon[1] + recoiler[1],
         lepton[2] + photon[2] + recoiler[2], lepton[3] + photon[3] + recoiler[3])
    m2 = sq(P[0]) - sq(P[1]) - sq(P[2]) - sq(P[3])
    if m2 <= 0.0:
        return 0.0
    e = (photon[0] * P[0] - photon[1] * P[1] - photon[2] * P[2] - photon[3] * P[3]) / math.sqrt(m2)
    return 2.0 * e / math.sqrt(m2)


@numba.njit(**_LEAF)
def force_emit(lepton, recoiler, m_lepton, rng, atab, x_cut=X_CUT,  # type: ignore[no-untyped-def]
               me_correction=True, charge2=1.0, pt_min=PT_MIN_GEV, photon_pt_min=0.0):
    """``samples.background_fsr.force_emit`` (forced W-lepton photon emission, quasi-
    collinear kernel × W–ℓ eikonal factor). Returns (ok, weight, pt_evol, x, ℓ, γ, ν)."""
    fail = (False, 0.0, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4)
    ml2 = sq(m_lepton)  # the reference's m_lepton**2, evaluated once
    P = _add(lepton, recoiler)
    M2 = sq(P[0]) - sq(P[1]) - sq(P[2]) - sq(P[3])
    if M2 <= 0.0:
        return fail
    M = math.sqrt(M2)
    pt_hi = 0.5 * M
    if pt_hi <= pt_min:
        return fail
    l1 = 2.0 * math.log(pt_hi / pt_min)
    x_lo = 0.5 * x_cut
    l2 = math.log(1.0 / x_lo)
    u1 = _rand(rng)
    u2 = _rand(rng)
    u3 = _rand(rng)
    pt2 = sq(pt_min) * math.exp(l1 * u1)
    xg = x_lo * math.exp(l2 * u2)
    z = 1.0 - xg
    if not 0.0 < z < 1.0:
        return fail
    q2 = pt2 / (z * (1.0 - z)) + ml2
    if q2 >= M2:
        return fail
    e_sys = (M2 + q2) / (2.0 * M)
    p_sys = (M2 - q2) / (2.0 * M)
    e_l, e_g = z * e_sys, (1.0 - z) * e_sys
    x = 2.0 * e_g / M
    if x <= x_cut:
        return fail
    qq = q2 - ml2
    if qq > 4.0 * e_l * e_g:
        return fail
    pl2 = sq(e_l) - ml2
    if pl2 <= 0.0:
        return fail
    pg_par = (sq(p_sys) + sq(e_g) - pl2) / (2.0 * p_sys)
    kt2 = sq(e_g) - sq(pg_par)
    if kt2 < 0.0:
        return fail
    kt = math.sqrt(kt2)
    kernel = (1.0 + z * z) / (1.0 - z) - 2.0 * z * (1.0 - z) * ml2 / pt2
    if kernel <= 0.0:
        return fail
    bx, by, bz = P[1] / P[0], P[2] / P[0], P[3] / P[0]
    lr = boost(lepton, -bx, -by, -bz)
    ln_ = math.sqrt(sq(lr[1]) + sq(lr[2]) + sq(lr[3]))
    n0, n1, n2 = lr[1] / ln_, lr[2] / ln_, lr[3] / ln_
    k0, k1, k2 = _tilted(n0, n1, n2, pg_par, kt, u3)
    g_rf = (e_g, k0, k1, k2)
    q0, q1, q2_ = p_sys * n0 - k0, p_sys * n1 - k1, p_sys * n2 - k2
    l_rf = (e_l, q0, q1, q2_)
    r_rf = (p_sys, -p_sys * n0, -p_sys * n1, -p_sys * n2)
    alpha = alpha_em(pt2, atab)
    w = charge2 * alpha / (2.0 * math.pi) * l1 * l2 * xg * kernel
    if me_correction:
        cos_t = (q0 * k0 + q1 * k1 + q2_ * k2) / (math.sqrt(sq(q0) + sq(q1) + sq(q2_)) * e_g)
        w *= 0.5 * (1.0 + cos_t)
    photon = boost(g_rf, bx, by, bz)
    if photon_pt_min > 0.0 and hypot(photon[1], photon[2]) <= photon_pt_min:
        return fail
    return (True, w, math.sqrt(pt2), x, boost(l_rf, bx, by, bz), photon,
            boost(r_rf, bx, by, bz))


@numba.njit(**_LEAF)
def force_emit_quark(quark, recoiler, m_quark, m_rec, rec_incoming,  # type: ignore[no-untyped-def]
                     charge2, pt_max, rng, atab, photon_pt_min=Q_PT_CUT,
                     pt_min=PT_MIN_CHG_Q):
    """``samples.background_fsr.force_emit_quark`` (q → qγ with the charged-dipole density
    of ``SimpleTimeShower::pT2nextQED``). Returns (ok, weight, pt_evol, q, γ, recoiler)."""
    fail = (False, 0.0, 0.0, _ZERO4, _ZERO4, _ZERO4)
    pmin2 = sq(pt_min)  # the reference's pt_min**2, evaluated once
    P = _add(quark, recoiler)
    if rec_incoming:
        m_rec = 0.0
    m2dip = _m2(P)
    if m2dip <= 0.0:
        return fail
    mdip = math.sqrt(m2dip)
    m2q, m2r = sq(m_quark), sq(m_rec)
    m2corr = sq(mdip - m_rec) - m2q
    if m2corr <= 4.0 * pmin2:
        return fail
    pt_hi2 = min(sq(pt_max), 0.25 * m2corr)
    if pt_hi2 <= pmin2:
        return fail
    z_abs = 0.5 - math.sqrt(max(0.0, 0.25 - pmin2 / m2corr))
    if z_abs < 1e-8:
        z_abs = pmin2 / m2corr
    l1 = math.log(pt_hi2 / pmin2)
    l2 = math.log((1.0 - z_abs) / z_abs)
    u1 = _rand(rng)
    u2 = _rand(rng)
    u3 = _rand(rng)
    pt2 = pmin2 * math.exp(l1 * u1)
    omz = z_abs * math.exp(l2 * u2)
    z = 1.0 - omz
    z_min = 0.5 - math.sqrt(max(0.0, 0.25 - pt2 / m2corr))
    if z_min < 1e-8:
        z_min = pt2 / m2corr
    if not z_min < z < 1.0 - z_min:
        return fail
    m2 = m2q + pt2 / (z * omz)
    if not m2 * m2dip < z * omz * sq(m2dip + m2 - m2r):
        return fail
    w = charge2 * alpha_em(pt2, atab) / (2.0 * math.pi) * (1.0 + z * z) * l1 * l2
    bx, by, bz = P[1] / P[0], P[2] / P[0], P[3] / P[0]
    e_rec = 0.0
    if rec_incoming:
        f = (m2 - m2q) / (m2dip - m2q)
        rec_new = ((1.0 + f) * recoiler[0], (1.0 + f) * recoiler[1],
                   (1.0 + f) * recoiler[2], (1.0 + f) * recoiler[3])
        sys = (quark[0] + f * recoiler[0], quark[1] + f * recoiler[1],
               quark[2] + f * recoiler[2], quark[3] + f * recoiler[3])
        pt24 = 4.0 * (sq(quark[1]) + sq(quark[2]))
        w *= pt24 / (pt24 + m2)
        Q = _add(sys, rec_new)
        bx, by, bz = Q[1] / Q[0], Q[2] / Q[0], Q[3] / Q[0]
        s_rf = boost(sys, -bx, -by, -bz)
        e_sys = s_rf[0]
        p_sys = math.sqrt(sq(s_rf[1]) + sq(s_rf[2]) + sq(s_rf[3]))
        n0, n1, n2 = s_rf[1] / p_sys, s_rf[2] / p_sys, s_rf[3] / p_sys
        r_out = rec_new
    else:
        lam = max(0.0, sq(m2dip - m2 - m2r) - 4.0 * m2 * m2r)
        p_sys = math.sqrt(lam) / (2.0 * mdip)
        e_sys = (m2dip + m2 - m2r) / (2.0 * mdip)
        e_rec = (m2dip - m2 + m2r) / (2.0 * mdip)
        qr = boost(quark, -bx, -by, -bz)
        qn = math.sqrt(sq(qr[1]) + sq(qr[2]) + sq(qr[3]))
        n0, n1, n2 = qr[1] / qn, qr[2] / qn, qr[3] / qn
        r_out = _ZERO4
    e_q, e_g = z * e_sys, omz * e_sys
    pq2 = sq(e_q) - m2q
    if pq2 <= 0.0 or p_sys <= 0.0:
        return fail
    pg_par = (sq(p_sys) + sq(e_g) - pq2) / (2.0 * p_sys)
    kt2 = sq(e_g) - sq(pg_par)
    if kt2 < 0.0:
        return fail
    kt = math.sqrt(kt2)
    k0, k1, k2 = _tilted(n0, n1, n2, pg_par, kt, u3)
    photon = boost((e_g, k0, k1, k2), bx, by, bz)
    if hypot(photon[1], photon[2]) <= photon_pt_min:
        return fail
    q_out = boost((e_q, p_sys * n0 - k0, p_sys * n1 - k1, p_sys * n2 - k2), bx, by, bz)
    if not rec_incoming:
        r_out = boost((e_rec, -p_sys * n0, -p_sys * n1, -p_sys * n2), bx, by, bz)
    return True, w, math.sqrt(pt2), q_out, photon, r_out


# ----------------------------------------------------------------------------- event history


@numba.njit(**_LEAF)
def _p4(rec, i):  # type: ignore[no-untyped-def]
    return (rec.p[i, 0], rec.p[i, 1], rec.p[i, 2], rec.p[i, 3])


@numba.njit(**_LEAF)
def _pt(rec, i):  # type: ignore[no-untyped-def]
    """Pythia's ``Particle::pT()`` (``Vec4::pT``: sqrt(px² + py²))."""
    return math.sqrt(rec.p[i, 1] * rec.p[i, 1] + rec.p[i, 2] * rec.p[i, 2])


@numba.njit(**_LEAF)
def _vdot(rec, i, p):  # type: ignore[no-untyped-def]
    """Pythia's ``Vec4 * Vec4`` of particle ``i`` with ``p`` (tt·tt − xx·xx − yy·yy − zz·zz)."""
    return rec.p[i, 0] * p[0] - rec.p[i, 1] * p[1] - rec.p[i, 2] * p[2] - rec.p[i, 3] * p[3]


@numba.njit(**_LEAF)
def top_copy(rec, i):  # type: ignore[no-untyped-def]
    return top_copy_id(i, rec.id, rec.status, rec.mother1, rec.mother2)


@numba.njit(**_LEAF)
def bot_copy(rec, i):  # type: ignore[no-untyped-def]
    return bot_copy_id(i, rec.id, rec.status, rec.mother1, rec.daughter1, rec.daughter2)


@numba.njit(**_LEAF)
def fsr_radiator_final(rec, ig):  # type: ignore[no-untyped-def]
    """``samples.background._fsr_radiator_final`` (−1 for None)."""
    top = top_copy(rec, ig)
    if not 51 <= abs(rec.status[top]) <= 59:
        return -1
    m = rec.mother1[top]
    if m <= 0 or rec.ctype[m] == 0:
        return -1
    for t in range(2):
        d = rec.daughter1[m] if t == 0 else rec.daughter2[m]
        if d > 0 and d != top and rec.id[d] == rec.id[m]:
            j = bot_copy(rec, d)
            return j if rec.status[j] > 0 else -1
    return -1


@numba.njit(**_LEAF)
def photon_recoiler(rec, ig):  # type: ignore[no-untyped-def]
    """``samples.background._recoiler``: the final copy of a final-state-shower photon's
    radiator; else the final charged particle j ≠ ``ig`` with the smallest positive
    p_γ·p_j/chargeType_j² (``SimpleTimeShower::setupQEDdip``); −1 if none."""
    j = fsr_radiator_final(rec, ig)
    if j >= 0:
        return j
    g = _p4(rec, ig)
    best, best_pp = -1, math.inf
    for i in range(len(rec.id)):
        if i == ig or rec.status[i] <= 0:
            continue
        ct = rec.ctype[i]
        if ct == 0:
            continue
        pp = _vdot(rec, i, g) / (ct * ct)
        if 0.0 < pp < best_pp:
            best, best_pp = i, pp
    return best


@numba.njit(**_LEAF)
def photon_origin(rec, ig):  # type: ignore[no-untyped-def]
    """``samples.background_sliced.photon_origin``: (origin code, first copy's scale)."""
    top = top_copy(rec, ig)
    st = abs(rec.status[top])
    if 21 <= st <= 29:
        return ORIGIN_HARD, rec.scale[top]
    if 41 <= st <= 49:
        return ORIGIN_ISR, rec.scale[top]
    ma = abs(rec.id[rec.mother1[top]])
    if ma == 11 or ma == 13 or ma == 15:
        return ORIGIN_FSR_LEPTON, rec.scale[top]
    return ORIGIN_FSR_OTHER, rec.scale[top]


@numba.njit(**_LEAF)
def w_decay_final(rec):  # type: ignore[no-untyped-def]
    """``samples.background_sliced._w_decay_final``: final copies (ℓ, ν) of the last W's
    decay products; (−1, −1) without a W."""
    for i in range(len(rec.id) - 1, 0, -1):
        if abs(rec.id[i]) == 24:
            d1, d2 = rec.daughter1[i], rec.daughter2[i]
            i_lep = d1 if rec.ctype[d1] != 0 else d2
            i_nu = d2 if i_lep == d1 else d1
            return bot_copy(rec, i_lep), bot_copy(rec, i_nu)
    return -1, -1


@numba.njit(**_LEAF)
def latest_copy_before(rec, i, limit):  # type: ignore[no-untyped-def]
    """``samples.background_fsr._latest_copy_before``."""
    j = top_copy(rec, i)
    while True:
        d1, d2 = rec.daughter1[j], rec.daughter2[j]
        if d1 > 0 and (d2 == d1 or d2 == 0) and rec.id[d1] == rec.id[j] and d1 < limit:
            j = d1
        else:
            return j


@numba.njit(**_LEAF)
def _side_chain(rec, i_hard_in, out):  # type: ignore[no-untyped-def]
    """``samples.background_fsr._side_chain`` into ``out``; returns its length."""
    n, i = 0, i_hard_in
    while i > 2 and (abs(rec.status[i]) == 21 or abs(rec.status[i]) == 41
                     or abs(rec.status[i]) == 42):
        out[n] = i
        n += 1
        i = rec.mother1[i]
    return n


@numba.njit(**_LEAF)
def _in(a, n, v):  # type: ignore[no-untyped-def]
    for k in range(n):
        if a[k] == v:
            return True
    return False


@numba.njit(**_JIT)
def quark_recoiler(rec, i_rad):  # type: ignore[no-untyped-def]
    """``samples.background_fsr.quark_recoiler`` (QED dipole partner of final quark
    ``i_rad`` as ``SimpleTimeShower::setupQEDdip``/``update`` choose it, rebuilt from the
    history; rules documented there). Returns (index, incoming); index −1 for ``None``."""
    itop = top_copy(rec, i_rad)
    x = rec.id[i_rad]
    st = abs(rec.status[itop])
    if 51 <= st <= 59:
        m = rec.mother1[itop]
        for k in range(2):
            j = rec.daughter1[m] if k == 0 else rec.daughter2[m]
            if j > 0 and j != itop and rec.id[j] == -x:
                return bot_copy(rec, j), False
        return -1, False
    if not 41 <= st <= 49:
        return -1, False
    n = len(rec.id)
    chains = np.empty((2, n), np.int64)
    nch = np.empty(2, np.int64)
    nch[0] = _side_chain(rec, 3, chains[0])
    nch[1] = _side_chain(rec, 4, chains[1])
    inc_now = np.empty(2, np.int64)
    n_inc = 0
    for c in range(2):
        best_old = -1
        for k in range(nch[c]):
            i = chains[c, k]
            if i < itop and i > best_old:
                best_old = i
        if best_old >= 0:
            inc_now[n_inc] = best_old
            n_inc += 1
    out_now = np.empty(max(itop, 1), np.int64)
    n_out = 0
    for j in range(5, itop):
        if j == itop or top_copy(rec, j) != j:
            continue
        aj = abs(rec.id[j])
        sj = abs(rec.status[j])
        if aj == 24 or ((sj == 43 or sj == 44 or sj == 51 or sj == 52 or sj == 53)
                        and (1 <= aj <= 5 or aj == 21)):
            out_now[n_out] = latest_copy_before(rec, j, itop)
            n_out += 1
    pr = _p4(rec, itop)
    mr = rec.m[itop]
    best, best_pp, inc = -1, math.inf, False
    for k in range(n_inc):
        i = inc_now[k]
        v = _vdot(rec, i, pr) - rec.m[i] * mr
        if rec.id[i] == x and v < best_pp:
            best, best_pp, inc = i, v, True
    for k in range(n_out):
        i = out_now[k]
        v = _vdot(rec, i, pr) - rec.m[i] * mr
        if rec.id[i] == -x and v < best_pp:
            best, best_pp, inc = i, v, False
    if best < 0:
        for k in range(n_inc + n_out):
            i = inc_now[k] if k < n_inc else out_now[k - n_inc]
            ct = rec.ctype[i]
            if ct != 0:
                v = (_vdot(rec, i, pr) - rec.m[i] * mr) / (ct * ct)
                if v < best_pp:
                    best, best_pp, inc = i, v, k < n_inc
    if best < 0:
        for k in range(n_out):
            i = out_now[k]
            v = _vdot(rec, i, pr) - rec.m[i] * mr
            if v < best_pp:
                best, best_pp, inc = i, v, False
    if best < 0:
        return -1, False
    if inc:
        c = 0 if _in(chains[0], nch[0], best) else 1
        return follow_incoming_recoiler(rec, chains[c], nch[c], best)
    return bot_copy(rec, best), False


@numba.njit(**_JIT)
def follow_incoming_recoiler(rec, chain, nch, best):  # type: ignore[no-untyped-def]
    """``samples.background_fsr.follow_incoming_recoiler`` for the side ``chain[:nch]``:
    (index, still incoming); index −1 for ``None``."""
    # Initiators of that side newer than the recoiler, in index order.
    newer = np.sort(chain[:nch])
    for i_new in newer:
        if i_new <= best:
            continue
        if rec.ctype[i_new] != 0:
            best = i_new
            continue
        for k in range(2):
            j = rec.daughter1[i_new] if k == 0 else rec.daughter2[i_new]
            if j > 0 and not _in(chain, nch, j):
                return bot_copy(rec, j), False
        return -1, False
    return best, True


@numba.njit(**_JIT)
def hard_photon_recoiler(rec, ig):  # type: ignore[no-untyped-def]
    """``samples.background_sliced.hard_photon_recoiler``: (index, kind); index −1 for
    ``None``."""
    itop = top_copy(rec, ig)
    pg = _p4(rec, itop)
    best, best_pp = -1, math.inf
    for j in range(3, 7):
        ct = rec.ctype[j]
        if j == itop or ct == 0 or (j > 4 and abs(rec.id[j]) != 24):
            continue
        pp = _vdot(rec, j, pg) / (ct * ct)
        if pp < best_pp:
            best, best_pp = j, pp
    if best < 0:
        return -1, RECOIL_FINAL
    if best > 4:
        return bot_copy(rec, best), RECOIL_W
    chain = np.empty(len(rec.id), np.int64)
    nch = _side_chain(rec, best, chain)
    j, inc = follow_incoming_recoiler(rec, chain, nch, best)
    return j, RECOIL_INCOMING if inc else RECOIL_FINAL


@numba.njit(**_JIT)
def shower_photon_recoiler(rec, ig):  # type: ignore[no-untyped-def]
    """``samples.background_sliced.shower_photon_recoiler``: (index, kind); index −1 for
    ``None``."""
    if 41 <= abs(rec.status[top_copy(rec, ig)]) <= 49:
        j, inc = quark_recoiler(rec, ig)
        if j < 0 or inc:
            return j, RECOIL_INCOMING
        return j, RECOIL_W if abs(rec.id[j]) == 24 else RECOIL_FINAL
    return photon_recoiler(rec, ig), RECOIL_FINAL


@numba.njit(**_JIT)
def quark_copy_segments(rec, i_final, pt_min=PT_MIN_CHG_Q):  # type: ignore[no-untyped-def]
    """``samples.background_fsr.quark_copy_segments``: rows (copy index, p_T low, p_T high)
    of the copies of final quark ``i_final`` (each radiates in its own p_T range)."""
    n = len(rec.id)
    chain = np.empty(n, np.int64)
    chain[0] = top_copy(rec, i_final)
    nc = 1
    while nc < n:
        c = chain[nc - 1]
        d1, d2 = rec.daughter1[c], rec.daughter2[c]
        if d1 > 0 and (d2 == d1 or d2 == 0) and rec.id[d1] == rec.id[c]:
            chain[nc] = d1
            nc += 1
        else:
            break
    seg_i = np.empty(nc, np.int64)
    seg_lo = np.empty(nc)
    seg_hi = np.empty(nc)
    ns = 0
    hi = rec.scale[chain[0]]
    for k in range(nc):
        ic = chain[k]
        if k > 0:
            hi = min(hi, rec.scale[ic])
        lo = rec.scale[chain[k + 1]] if k + 1 < nc else pt_min
        lo = max(lo, pt_min)
        if hi > lo:
            seg_i[ns], seg_lo[ns], seg_hi[ns] = ic, lo, hi
            ns += 1
    return seg_i[:ns], seg_lo[:ns], seg_hi[:ns]


# ----------------------------------------------------------------------------- lepton lists
# A lepton list is an (n, 5) array of rows (pdgId, E, px, py, pz), as the tuples of
# samples.background.


@numba.njit(**_LEAF)
def lepton_pt(lep, k):  # type: ignore[no-untyped-def]
    return hypot(lep[k, 2], lep[k, 3])


@numba.njit(**_LEAF)
def lepton_eta(lep, k):  # type: ignore[no-untyped-def]
    pt = lepton_pt(lep, k)
    if pt == 0.0:
        return math.copysign(1e9, lep[k, 4])
    return math.asinh(lep[k, 4] / pt)


@numba.njit(**_LEAF)
def _pair_mass(lep, a, b):  # type: ignore[no-untyped-def]
    e = lep[a, 1] + lep[b, 1]
    x = lep[a, 2] + lep[b, 2]
    y = lep[a, 3] + lep[b, 3]
    z = lep[a, 4] + lep[b, 4]
    return math.sqrt(max(0.0, e * e - x * x - y * y - z * z))


@numba.njit(**_LEAF)
def lepton_kinematics(lep, n, pt, eta):  # type: ignore[no-untyped-def]
    """p_T and η (``samples.background._pt`` / ``_eta``) of the first ``n`` rows, computed
    once per copy for the filter, the preselection and the loose pairs."""
    for i in range(n):
        pt[i] = lepton_pt(lep, i)
        eta[i] = math.copysign(1e9, lep[i, 4]) if pt[i] == 0.0 else math.asinh(lep[i, 4] / pt[i])


@numba.njit(**_LEAF)
def _filter(pt, eta, n):  # type: ignore[no-untyped-def]
    k = 0
    for i in range(n):
        if pt[i] > _FILTER_PT_MIN and abs(eta[i]) < _FILTER_ETA_MAX:
            k += 1
    return k >= _FILTER_N


@numba.njit(**_LEAF)
def _core(lep, n, pt, eta):  # type: ignore[no-untyped-def]
    """``samples.background.core_copy`` (p_T, η from :func:`lepton_kinematics`)."""
    k = 0
    lead = 0.0
    for i in range(n):
        if abs(eta[i]) < _CORE_ETA and pt[i] > (_CORE_E_PT if abs(lep[i, 0]) == 11
                                                else _CORE_MU_PT):
            k += 1
            lead = max(lead, pt[i])
    return k >= 3 and lead > _CORE_LEAD


@numba.njit(**_JIT)
def core_copy(lep, n):  # type: ignore[no-untyped-def]
    """``samples.background.core_copy`` of the first ``n`` rows."""
    pt, eta = np.empty(n), np.empty(n)
    lepton_kinematics(lep, n, pt, eta)
    return _core(lep, n, pt, eta)


@numba.njit(**_LEAF)
def _preselection(lep, n, pt, eta):  # type: ignore[no-untyped-def]
    g0 = g1 = g2 = -1
    ng = 0
    for i in range(n):
        if abs(eta[i]) < 2.5 and pt[i] > (5.0 if abs(lep[i, 0]) == 11 else 3.0):
            if ng == 0:
                g0 = i
            elif ng == 1:
                g1 = i
            elif ng == 2:
                g2 = i
            else:
                return False, 0.0, 0.0, 0
            ng += 1
    if ng != 3:
        return False, 0.0, 0.0, 0
    # Stable sort by decreasing p_T (Python's sort(key=_pt, reverse=True)).
    if pt[g0] < pt[g1]:
        g0, g1 = g1, g0
    if pt[g1] < pt[g2]:
        g1, g2 = g2, g1
        if pt[g0] < pt[g1]:
            g0, g1 = g1, g0
    a, b = g1, g2
    if pt[g0] <= 25.0 or lep[a, 0] != -lep[b, 0]:
        return False, 0.0, 0.0, 0
    m = _pair_mass(lep, a, b)
    if m >= 10.0:
        return False, 0.0, 0.0, 0
    return True, m, pt[g0], 0 if abs(lep[a, 0]) == 11 else 1


@numba.njit(**_LEAF)
def _loose_pair(lep, n, pt, eta, flavour):  # type: ignore[no-untyped-def]
    for i in range(n):
        if not (abs(lep[i, 0]) == flavour and pt[i] > 1.0 and abs(eta[i]) < 2.5):
            continue
        for j in range(i + 1, n):
            if not (abs(lep[j, 0]) == flavour and pt[j] > 1.0 and abs(eta[j]) < 2.5):
                continue
            if lep[i, 0] == -lep[j, 0]:
                m = _pair_mass(lep, i, j)
                if 0.010 < m < 10.0:
                    return True
    return False


@numba.njit(**_JIT)
def passes_gen_filter(lep, n):  # type: ignore[no-untyped-def]
    """``samples.background.passes_gen_filter`` of the first ``n`` rows."""
    pt, eta = np.empty(n), np.empty(n)
    lepton_kinematics(lep, n, pt, eta)
    return _filter(pt, eta, n)


@numba.njit(**_JIT)
def truth_preselection(lep, n):  # type: ignore[no-untyped-def]
    """``samples.background.truth_preselection``: (passes, m_ℓℓ, leading p_T, 0 ee / 1 μμ)."""
    pt, eta = np.empty(n), np.empty(n)
    lepton_kinematics(lep, n, pt, eta)
    return _preselection(lep, n, pt, eta)


@numba.njit(**_JIT)
def loose_pair(lep, n, flavour):  # type: ignore[no-untyped-def]
    """``samples.background.loose_pair`` of the first ``n`` rows."""
    pt, eta = np.empty(n), np.empty(n)
    lepton_kinematics(lep, n, pt, eta)
    return _loose_pair(lep, n, pt, eta, flavour)


# ----------------------------------------------------------------------------- per-event drivers


@numba.njit(**_JIT)
def _final_leptons(rec):  # type: ignore[no-untyped-def]
    """``samples.background._final_leptons``: (indices, lepton rows) of final e/μ."""
    n = 0
    for i in range(len(rec.id)):
        a = abs(rec.id[i])
        if rec.status[i] > 0 and (a == 11 or a == 13):
            n += 1
    idx = np.empty(n, np.int64)
    lep = np.empty((n, 5))
    k = 0
    for i in range(len(rec.id)):
        a = abs(rec.id[i])
        if rec.status[i] > 0 and (a == 11 or a == 13):
            idx[k] = i
            lep[k, 0] = rec.id[i]
            for c in range(4):
                lep[k, 1 + c] = rec.p[i, c]
            k += 1
    return idx, lep


@numba.njit(**_LEAF)
def _set4(row, col, p):  # type: ignore[no-untyped-def]
    row[col], row[col + 1], row[col + 2], row[col + 3] = p[0], p[1], p[2], p[3]


@numba.njit(**_LEAF)
def _set_lep(new, k, lid, p):  # type: ignore[no-untyped-def]
    new[k, 0] = lid
    new[k, 1], new[k, 2], new[k, 3], new[k, 4] = p[0], p[1], p[2], p[3]


@numba.njit(**_JIT)
def _room(f, i, k, need):  # type: ignore[no-untyped-def]
    """Rows arrays (first ``k`` rows used) with room for ``need`` rows: themselves, or
    copies of at least twice the size. Hot paths call it only when short: a call costs the
    reference counting of its arrays."""
    if need <= f.shape[0]:
        return f, i
    cap = max(2 * f.shape[0], need)
    f2 = np.empty((cap, f.shape[1]))
    i2 = np.zeros((cap, i.shape[1]), np.int64)
    f2[:k] = f[:k]
    i2[:k] = i[:k]
    return f2, i2


@numba.njit(**_JIT)
def _room_moved(mv_i, mv_p, n_mv, need):  # type: ignore[no-untyped-def]
    """:func:`_room` for the moved-particle arrays (first ``n_mv`` rows used)."""
    if need <= mv_i.shape[0]:
        return mv_i, mv_p
    cap = max(2 * mv_i.shape[0], need)
    mi2 = np.empty(cap, np.int64)
    mp2 = np.empty((cap, 4))
    mi2[:n_mv] = mv_i[:n_mv]
    mp2[:n_mv] = mv_p[:n_mv]
    return mi2, mp2


class Scratch(NamedTuple):
    """Per-event work arrays of the copy helpers (:func:`_scratch`), so that these need
    no allocation and no reference counting (``LEAF``). ``mom`` holds moved momenta per
    record index, a NaN in column 0 marking an unmoved entry; the helpers leave it all
    NaN in column 0."""

    mom: np.ndarray  # (n, 4)
    moved: np.ndarray  # (n,) int64: a W recoiler's final descendants (_w_moved_into)
    order: np.ndarray  # (n + 2,) int64: moved entries of a quark emission, in order
    new: np.ndarray  # (n_leptons + 3, 5): a copy's leptons
    pt: np.ndarray  # (n_leptons + 3,)
    eta: np.ndarray  # (n_leptons + 3,)
    pn: np.ndarray  # (4,): a recoiler's new momentum


@numba.njit(**_JIT)
def _scratch(n, nl):  # type: ignore[no-untyped-def]
    """:class:`Scratch` for a record of ``n`` entries with ``nl`` final leptons."""
    return Scratch(np.full((n, 4), np.nan), np.empty(n, np.int64), np.empty(n + 2, np.int64),
                   np.empty((nl + 3, 5)), np.empty(nl + 3), np.empty(nl + 3), np.empty(4))


@numba.njit(**_LEAF)
def _record(f, irow, k, new, n, pt, eta, w, bias, origin, pt_g, scale, part, tot):  # type: ignore[no-untyped-def]
    """``record`` of ``run_sliced_job`` for a copy that passed the generation filter (its
    leptons ``new``, with ``pt``/``eta`` from :func:`lepton_kinematics`): loose pairs into
    ``tot`` (in the reference's order), preselection and core selection into row ``k``."""
    for fl in (11, 13):
        if _loose_pair(new, n, pt, eta, fl):
            if part == 1:
                tot[T_LOOSE_E_H if fl == 11 else T_LOOSE_MU_H] += w
            else:
                tot[T_LOOSE_E_S if fl == 11 else T_LOOSE_MU_S] += w
    ok, mll, lead, flav = _preselection(new, n, pt, eta)
    row = f[k]
    row[C_W], row[C_BIAS], row[C_ORIGIN], row[C_PTG] = w, bias, origin, pt_g
    row[C_SCALE], row[C_PART] = scale, part
    row[C_PRESEL], row[C_MLL], row[C_LEAD], row[C_FLAV] = (1.0 if ok else 0.0), mll, lead, flav
    row[C_CORE] = 1.0 if _core(new, n, pt, eta) else 0.0


@numba.njit(**_LEAF)
def _append_moved(mv_i, mv_p, n_mv, idx, n_idx, mom):  # type: ignore[no-untyped-def]
    """Append rows (record index j, momentum ``mom[j]``) for j in ``idx[:n_idx]`` to the
    moved-particle arrays (room for them made by the caller, :func:`_room_moved`);
    returns their new length."""
    for t in range(n_idx):
        j = idx[t]
        mv_i[n_mv] = j
        for c in range(4):
            mv_p[n_mv, c] = mom[j, c]
        n_mv += 1
    return n_mv


@numba.njit(**_LEAF)
def _w_moved_into(rec, ir, moved):  # type: ignore[no-untyped-def]
    """The final descendants of the W recoiler ``ir`` into ``moved``; returns their
    number (at most ``len(rec)``)."""
    n_wm = 0
    for j in range(len(rec.id)):
        if rec.status[j] > 0 and is_ancestor(j, ir, rec.status, rec.mother1, rec.mother2):
            moved[n_wm] = j
            n_wm += 1
    return n_wm


@numba.njit(**_LEAF)
def _split_photon(rec, ig, ir, kind, l_idx, leps, w_ev, scale, origin, over, part, rng,  # type: ignore[no-untyped-def]
                  atab, tot, f, irow, k, mv_i, mv_p, n_mv, n_wm, sc):
    """``split`` of ``run_sliced_job`` (``photon_copies``): force-split record photon
    ``ig`` against recoiler ``ir`` of ``kind`` (``RECOIL_*``), ``over`` tries per flavour
    (sample S: :func:`shower_photon_recoiler`; sample H: :func:`hard_photon_recoiler`). The
    recoiler's new momentum goes to ``C_REC`` (an incoming parton's: 2 p_in − p′, with the
    beam-recoil damping in the weight), a lepton recoiler's also into the copy's lepton
    list; a W recoiler's final descendants (``sc.moved[:n_wm]``, :func:`_w_moved_into`;
    ``n_wm`` = 0 for other kinds) are boosted, into rows [``I_MOV0``, ``I_MOV1``) of
    ``mv_*``. The caller makes room for 2 ``over`` rows and 2 ``over`` ``n_wm`` moved
    rows; returns (rows, moved rows) used."""
    pg = _p4(rec, ig)
    pr = _p4(rec, ir)
    # As Pythia's pT2() and pT() (products, not CPython's ** 2) of the reference.
    pt2_g = rec.p[ig, 1] * rec.p[ig, 1] + rec.p[ig, 2] * rec.p[ig, 2]
    pt_g = _pt(rec, ig)
    mom, w_moved, new, pt, eta, pn = sc.mom, sc.moved, sc.new, sc.pt, sc.eta, sc.pn
    nl = len(l_idx)
    for fl in range(2):
        lid = 11 if fl == 0 else 13
        mlep = M_ELECTRON_GEV if fl == 0 else M_MUON_GEV
        for _ in range(over):
            ok, wsp, mp, _z, lm, lp, gs, rr = force_split(pg, pr, scale, mlep, rng, atab)
            if not ok:
                continue
            bias = wsp / over
            if kind == RECOIL_INCOMING:
                bias *= 4.0 * pt2_g / (4.0 * pt2_g + mp * mp)  # beam_recoil_damping
                for c in range(4):
                    pn[c] = 2.0 * pr[c] - rr[c]
            else:
                for c in range(4):
                    pn[c] = rr[c]
            m0 = n_mv
            if kind == RECOIL_W:
                bo0, bo1, bo2 = -pr[1] / pr[0], -pr[2] / pr[0], -pr[3] / pr[0]
                bn0, bn1, bn2 = rr[1] / rr[0], rr[2] / rr[0], rr[3] / rr[0]
                for t in range(n_wm):
                    j = w_moved[t]
                    v = boost(boost(_p4(rec, j), bo0, bo1, bo2), bn0, bn1, bn2)
                    mom[j, 0], mom[j, 1], mom[j, 2], mom[j, 3] = v[0], v[1], v[2], v[3]
            for c in range(4):
                mom[ir, c] = pn[c]
            for a in range(nl):  # the leptons, moved ones with their new momenta
                i = l_idx[a]
                new[a, 0] = leps[a, 0]
                for c in range(4):
                    new[a, 1 + c] = leps[a, 1 + c] if math.isnan(mom[i, 0]) else mom[i, c]
            _set_lep(new, nl, lid, lm)
            _set_lep(new, nl + 1, -lid, lp)
            n = nl + 2
            lepton_kinematics(new, n, pt, eta)
            for c in range(4):
                mom[ir, c] = np.nan
            if not _filter(pt, eta, n):
                for t in range(n_wm):
                    mom[w_moved[t], 0] = np.nan
                continue
            if kind == RECOIL_W:
                n_mv = _append_moved(mv_i, mv_p, n_mv, w_moved, n_wm, mom)
                for t in range(n_wm):
                    mom[w_moved[t], 0] = np.nan
            _record(f, irow, k, new, n, pt, eta, w_ev * bias, bias, origin, pt_g, scale, part,
                    tot)
            irow[k, I_KIND], irow[k, I_LID], irow[k, I_RAD], irow[k, I_REC] = 0, lid, ig, ir
            irow[k, I_MOV0], irow[k, I_MOV1] = m0, n_mv
            _set4(f[k], C_LM, lm)
            _set4(f[k], C_LP, lp)
            _set4(f[k], C_GSTAR, gs)
            _set4(f[k], C_REC, pn)
            f[k, C_MPAIR] = mp
            k += 1
    return k, n_mv


@numba.njit(**_JIT)
def _split_photon_room(rec, ig, ir, kind, l_idx, leps, w_ev, scale, origin, over, part,  # type: ignore[no-untyped-def]
                       rng, atab, tot, f, irow, k, mv_i, mv_p, n_mv, sc):
    """:func:`_split_photon` after making the room it needs (a W recoiler's final
    descendants from :func:`_w_moved_into`): the row and moved-particle arrays (grown or
    not) and the rows and moved rows used."""
    n_wm = _w_moved_into(rec, ir, sc.moved) if kind == RECOIL_W else 0
    if k + 2 * over > len(f):
        f, irow = _room(f, irow, k, k + 2 * over)
    if n_mv + 2 * over * n_wm > len(mv_i):
        mv_i, mv_p = _room_moved(mv_i, mv_p, n_mv, n_mv + 2 * over * n_wm)
    k, n_mv = _split_photon(rec, ig, ir, kind, l_idx, leps, w_ev, scale, origin, over, part,
                            rng, atab, tot, f, irow, k, mv_i, mv_p, n_mv, n_wm, sc)
    return f, irow, k, mv_i, mv_p, n_mv


@numba.njit(**_LEAF)
def _emit_split(rec, i_lep, i_nu, em, l_idx, leps, w_ev, fsr_emissions, rng, atab, tot,  # type: ignore[no-untyped-def]
                f, irow, k, sc):
    """``emit_split`` of ``run_sliced_job`` (sample D): split the forced W-lepton photon
    ``em`` with the new lepton as recoiler. The caller makes room for 2 rows; returns the
    rows used."""
    _ok, w_em, pt_evol, _x, e_lep, e_ph, e_nu = em
    nl = len(l_idx)
    new, pt, eta = sc.new, sc.pt, sc.eta
    lep_id = rec.id[i_lep]
    pt_g = hypot(e_ph[1], e_ph[2])
    for fl in range(2):
        lid = 11 if fl == 0 else 13
        mlep = M_ELECTRON_GEV if fl == 0 else M_MUON_GEV
        ok, wsp, mp, _z, lm, lp, gs, rr = force_split(e_ph, e_lep, pt_evol, mlep, rng, atab)
        if not ok:
            continue
        bias = w_em * wsp
        n = 0
        for a in range(nl):
            if l_idx[a] != i_lep:
                for c in range(5):
                    new[n, c] = leps[a, c]
                n += 1
        _set_lep(new, n, lep_id, rr)
        _set_lep(new, n + 1, lid, lm)
        _set_lep(new, n + 2, -lid, lp)
        n += 3
        lepton_kinematics(new, n, pt, eta)
        if not _filter(pt, eta, n):
            continue
        _record(f, irow, k, new, n, pt, eta, w_ev * bias, bias / fsr_emissions,
                ORIGIN_FORCED_FSR, pt_g, pt_evol, 2, tot)
        irow[k, I_KIND], irow[k, I_LID], irow[k, I_RAD], irow[k, I_REC] = 1, lid, i_lep, i_lep
        irow[k, I_NU] = i_nu
        _set4(f[k], C_LM, lm)
        _set4(f[k], C_LP, lp)
        _set4(f[k], C_GSTAR, gs)
        _set4(f[k], C_REC, rr)
        f[k, C_MPAIR] = mp
        _set4(f[k], C_PHOTON, e_ph)
        f[k, C_PTEVOL] = pt_evol
        _set4(f[k], C_NU, e_nu)
        k += 1
    return k


@numba.njit(**_LEAF)
def _emit_split_quark(rec, iq, ir, r_in, em, q_old, r_old, l_idx, leps, w_ev,  # type: ignore[no-untyped-def]
                      quark_emissions, w_moved, n_wm, rng, atab, tot,
                      f, irow, k, mv_i, mv_p, n_mv, sc):
    """``emit_split_quark`` of ``run_sliced_job`` (sample Q): the final quark (and a final
    recoiler, or a W recoiler's decay products, boosted) take the emission's momentum
    change; the forced photon is split against the radiating quark (its final copy after
    the emission). Moved momenta go to rows [m0, m1) of ``mv_*``. The caller makes room
    for 2 rows and ``n_wm`` + 2 moved rows; returns (rows, moved rows) used."""
    _ok, w_em, pt_evol, e_q, pg, e_rec = em
    qf0 = rec.p[iq, 0] + (e_q[0] - q_old[0])
    qf1 = rec.p[iq, 1] + (e_q[1] - q_old[1])
    qf2 = rec.p[iq, 2] + (e_q[2] - q_old[2])
    qf3 = rec.p[iq, 3] + (e_q[3] - q_old[3])
    p3 = math.sqrt(sq(qf1) + sq(qf2) + sq(qf3))
    if qf0 <= p3:
        qf0 = math.sqrt(p3 * p3 + sq(rec.m[iq]))
    # Moved particles: momentum per record index (NaN = not moved), and their order.
    mom, order, new, pt, eta = sc.mom, sc.order, sc.new, sc.pt, sc.eta
    n_o = 0
    mom[iq, 0], mom[iq, 1], mom[iq, 2], mom[iq, 3] = qf0, qf1, qf2, qf3
    order[n_o] = iq
    n_o += 1
    if not r_in:
        if abs(rec.id[ir]) == 24:
            bo0, bo1, bo2 = -r_old[1] / r_old[0], -r_old[2] / r_old[0], -r_old[3] / r_old[0]
            bn0, bn1, bn2 = e_rec[1] / e_rec[0], e_rec[2] / e_rec[0], e_rec[3] / e_rec[0]
            for t in range(n_wm + 1):
                j = ir if t == 0 else w_moved[t - 1]
                v = boost(boost(_p4(rec, j), bo0, bo1, bo2), bn0, bn1, bn2)
                if math.isnan(mom[j, 0]):
                    order[n_o] = j
                    n_o += 1
                mom[j, 0], mom[j, 1], mom[j, 2], mom[j, 3] = v[0], v[1], v[2], v[3]
        else:
            for c in range(4):
                mom[ir, c] = rec.p[ir, c] + e_rec[c] - r_old[c]
            order[n_o] = ir
            n_o += 1
    p_sr = (qf0, qf1, qf2, qf3)  # the photon splits against its quark
    m0 = n_mv
    n_mv = _append_moved(mv_i, mv_p, n_mv, order, n_o, mom)
    nl = len(l_idx)
    pt_g = hypot(pg[1], pg[2])
    for fl in range(2):
        lid = 11 if fl == 0 else 13
        mlep = M_ELECTRON_GEV if fl == 0 else M_MUON_GEV
        ok, wsp, mp, _z, lm, lp, gs, rr = force_split(pg, p_sr, pt_evol, mlep, rng, atab)
        if not ok:
            continue
        bias = w_em * wsp
        for a in range(nl):  # the leptons (the quark that takes the recoil is not one)
            i = l_idx[a]
            new[a, 0] = leps[a, 0]
            if not math.isnan(mom[i, 0]):
                for c in range(4):
                    new[a, 1 + c] = mom[i, c]
            else:
                for c in range(4):
                    new[a, 1 + c] = leps[a, 1 + c]
        _set_lep(new, nl, lid, lm)
        _set_lep(new, nl + 1, -lid, lp)
        n = nl + 2
        lepton_kinematics(new, n, pt, eta)
        if not _filter(pt, eta, n):
            continue
        _record(f, irow, k, new, n, pt, eta, w_ev * bias, bias / quark_emissions,
                ORIGIN_FORCED_QUARK, pt_g, pt_evol, 3, tot)
        irow[k, I_KIND], irow[k, I_LID], irow[k, I_RAD], irow[k, I_REC] = 2, lid, iq, iq
        irow[k, I_MOV0], irow[k, I_MOV1] = m0, n_mv
        _set4(f[k], C_LM, lm)
        _set4(f[k], C_LP, lp)
        _set4(f[k], C_GSTAR, gs)
        _set4(f[k], C_REC, rr)
        f[k, C_MPAIR] = mp
        _set4(f[k], C_PHOTON, pg)
        f[k, C_PTEVOL] = pt_evol
        k += 1
    for t in range(n_o):  # leave mom unmoved (NaN) for the next call
        for c in range(4):
            mom[order[t], c] = np.nan
    return k, n_mv


@numba.njit(**_LEAF)
def _w_leptons(rec, forced_fsr):  # type: ignore[no-untyped-def]
    """(ℓ index, ν index, p_ℓ, p_ν) of the W decay for the forced-emission methods."""
    if not forced_fsr:
        return -1, -1, _ZERO4, _ZERO4
    i_lep, i_nu = w_decay_final(rec)
    if i_lep < 0:
        raise ValueError("no W boson in the event")
    return i_lep, i_nu, _p4(rec, i_lep), _p4(rec, i_nu)


@numba.njit(**_JIT)
def _soft_photons(rec, w_py, p_cut, over, forced_fsr, forced_q, p_lep, p_nu, l_idx, leps,  # type: ignore[no-untyped-def]
                  rng, atab, tot, f, irow, k, mv_i, mv_p, n_mv, sc):
    """Sample S of :func:`soft_event_decays`: split the record's shower photons except those the
    other samples replace."""
    for ig in range(len(rec.id)):
        if not (rec.status[ig] > 0 and rec.id[ig] == 22 and _pt(rec, ig) > _PHOTON_PT_MIN):
            continue
        if rec.hadron[rec.mother1[top_copy(rec, ig)]]:
            continue
        origin, scale = photon_origin(rec, ig)
        if origin == ORIGIN_ISR and scale > p_cut:
            continue  # in sample H
        if forced_fsr and origin == ORIGIN_FSR_LEPTON \
                and photon_fraction(p_lep, _p4(rec, ig), p_nu) > X_CUT:
            continue  # in sample D
        if forced_q and origin == ORIGIN_FSR_OTHER and _pt(rec, ig) > Q_PT_CUT:
            continue  # in sample Q
        ir, kind = shower_photon_recoiler(rec, ig)
        if ir >= 0:
            f, irow, k, mv_i, mv_p, n_mv = _split_photon_room(
                rec, ig, ir, kind, l_idx, leps, w_py, scale, origin, over, 0, rng, atab, tot,
                f, irow, k, mv_i, mv_p, n_mv, sc)
    return f, irow, k, mv_i, mv_p, n_mv


@numba.njit(**_LEAF)
def _lepton_emissions(rec, i_lep, i_nu, p_lep, p_nu, l_idx, leps, w_py, fsr_emissions,  # type: ignore[no-untyped-def]
                      m_wlep, rng, atab, tot, f, irow, k, sc):
    """Sample D of :func:`soft_event_decays`: ``fsr_emissions`` forced W-lepton emissions
    (the caller makes room for 2 ``fsr_emissions`` rows); returns the rows used."""
    for _ in range(fsr_emissions):
        em = force_emit(p_lep, p_nu, m_wlep, rng, atab)
        if not em[0]:
            continue
        k = _emit_split(rec, i_lep, i_nu, em, l_idx, leps, w_py / fsr_emissions,
                        fsr_emissions, rng, atab, tot, f, irow, k, sc)
    return k


@numba.njit(**_JIT)
def _quark_setup(rec):  # type: ignore[no-untyped-def]
    """The final quarks and the W's final non-parton descendants of sample Q (indices
    only: the same for every W-decay configuration)."""
    n = len(rec.id)
    quarks = np.empty(n, np.int64)
    nonpartons = np.empty(n, np.int64)
    nq = nnp = 0
    i_wb = 0
    for j in range(n):
        aid = abs(rec.id[j])
        if rec.status[j] <= 0:
            if aid == 24:
                i_wb = j
            continue
        if 1 <= aid <= 5:
            quarks[nq] = j
            nq += 1
        elif aid != 21:
            nonpartons[nnp] = j
            nnp += 1
    w_moved = np.empty(n, np.int64)
    n_wm = 0
    if nq > 0:
        for t in range(nnp):
            j = nonpartons[t]
            if is_ancestor(j, i_wb, rec.status, rec.mother1, rec.mother2):
                w_moved[n_wm] = j
                n_wm += 1
    return quarks[:nq], w_moved, n_wm


@numba.njit(**_JIT)
def _quark_plan(rec, quarks):  # type: ignore[no-untyped-def]
    """The emitters of sample Q, one row per (final quark, copy segment) in the order of
    the reference: (quark, recoiler, recoiler incoming, quark copy, p_T low, p_T high,
    recoiler copy) and the squared charges. Only partons before each quark's production,
    the W and the incoming partons enter: the same for every W-decay configuration."""
    n = len(rec.id)
    ints = np.empty((0, 5), np.int64)
    flts = np.empty((0, 3))
    for t in range(len(quarks)):
        iq = quarks[t]
        ir, r_in = quark_recoiler(rec, iq)
        if ir < 0:
            continue
        chg2 = sq(rec.ctype[iq] / 3.0)
        seg_i, seg_lo, seg_hi = quark_copy_segments(rec, iq)
        m = len(seg_i)
        ii = np.empty((m, 5), np.int64)
        ff = np.empty((m, 3))
        for s in range(m):
            ic = seg_i[s]
            nxt = rec.daughter1[ic] if ic != iq else n
            irc = ir if r_in else latest_copy_before(rec, ir, nxt)
            ii[s, 0], ii[s, 1], ii[s, 2], ii[s, 3], ii[s, 4] = iq, ir, 1 if r_in else 0, ic, irc
            ff[s, 0], ff[s, 1], ff[s, 2] = seg_lo[s], seg_hi[s], chg2
        ints = np.concatenate((ints, ii))
        flts = np.concatenate((flts, ff))
    return ints, flts


@numba.njit(**_LEAF)
def _quark_emissions(rec, plan_i, plan_f, w_moved, n_wm, l_idx, leps,  # type: ignore[no-untyped-def]
                     w_py, quark_emissions, rng, rng_q, atab, tot, f, irow, k, mv_i, mv_p,
                     n_mv, sc):
    """Sample Q of :func:`soft_event_decays`: ``quark_emissions`` forced photon emissions per
    row of the plan (:func:`_quark_plan`). The caller makes room for 2 rows and
    ``n_wm`` + 2 moved rows per emission; returns (rows, moved rows) used."""
    for s in range(len(plan_i)):
        iq, ir, r_in, ic, irc = (plan_i[s, 0], plan_i[s, 1], plan_i[s, 2] != 0, plan_i[s, 3],
                                 plan_i[s, 4])
        lo, hi, chg2 = plan_f[s, 0], plan_f[s, 1], plan_f[s, 2]
        q_old = _p4(rec, ic)
        r_old = _p4(rec, irc)
        for _ in range(quark_emissions):
            em = force_emit_quark(q_old, r_old, rec.m[iq], rec.m[irc], r_in, chg2, hi,
                                  rng_q, atab, Q_PT_CUT, lo)
            if not em[0]:
                continue
            k, n_mv = _emit_split_quark(
                rec, iq, ir, r_in, em, q_old, r_old, l_idx, leps,
                w_py / quark_emissions, quark_emissions, w_moved, n_wm,
                rng, atab, tot, f, irow, k, mv_i, mv_p, n_mv, sc)
    return k, n_mv


@numba.njit(**_JIT)
def _new_outputs():  # type: ignore[no-untyped-def]
    return (np.empty((8, N_FCOLS)), np.zeros((8, N_ICOLS), np.int64), np.empty(8, np.int64),
            np.empty((8, 4)))


@numba.njit(**_JIT)
def hard_event(rec, w_h, over, rng, atab, tot):  # type: ignore[no-untyped-def]
    """One event of sample H of ``run_sliced_job``: split only the hard-process photon
    (scale: its p_T at the hard process). Returns (float rows, int rows, moved indices,
    moved momenta) of the copies, as :func:`soft_event_decays`."""
    f, irow, mv_i, mv_p = _new_outputs()
    k = n_mv = 0
    ig, pt_hat = -1, 0.0
    for j in range(len(rec.id)):
        if abs(rec.status[j]) == 23 and rec.id[j] == 22:
            ig, pt_hat = bot_copy(rec, j), _pt(rec, j)
            break
    if ig >= 0 and rec.status[ig] > 0 and _pt(rec, ig) > _PHOTON_PT_MIN:
        ir, kind = hard_photon_recoiler(rec, ig)
        if ir >= 0:
            l_idx, leps = _final_leptons(rec)
            f, irow, k, mv_i, mv_p, n_mv = _split_photon_room(
                rec, ig, ir, kind, l_idx, leps, w_h, pt_hat, ORIGIN_HARD, over, 1, rng, atab,
                tot, f, irow, k, mv_i, mv_p, n_mv, _scratch(len(rec.id), len(l_idx)))
    return f[:k], irow[:k], mv_i[:n_mv], mv_p[:n_mv]


@numba.njit(**_JIT)
def hard_event_at(addr, n, size, keys, ctypes_, hadrons, w_h, over, rng, atab,  # type: ignore[no-untyped-def]
                  tot):
    """:func:`hard_event` on the record copied from ``addr`` (see
    :meth:`samples.pythia_record.RecordReader.locate`): one call per event. Returns its
    outputs, the record (for the written copies) and ``False``, or empty outputs and
    ``True`` (nothing drawn) when an id is missing from the id table."""
    rec, miss = record_at(addr, n, size, keys, ctypes_, hadrons)
    if miss:
        f, irow, mv_i, mv_p = _empty_outputs()
        return f, irow, mv_i, mv_p, rec, True
    f, irow, mv_i, mv_p = hard_event(rec, w_h, over, rng, atab, tot)
    return f, irow, mv_i, mv_p, rec, False


@numba.njit(**_JIT)
def thin_copies(f, keep, st):  # type: ignore[no-untyped-def]
    """``samples.background_sliced.CopyThinning.factors`` on the rows ``f`` (same draws
    from the thinning stream's state ``st``: one per non-core row, in order): (indices of
    the kept rows, their weight factors 1 or 1/``keep``, number dropped)."""
    n = len(f)
    idx = np.empty(n, np.int64)
    fac = np.empty(n)
    boost = 1.0 / keep
    m = nd = 0
    for i in range(n):
        if f[i, C_CORE] != 0:
            idx[m], fac[m] = i, 1.0
            m += 1
        elif _rand(st) >= keep:
            nd += 1
        else:
            idx[m], fac[m] = i, boost
            m += 1
    return idx[:m], fac[:m], nd


@numba.njit(**_JIT)
def _with_p(rec, p):  # type: ignore[no-untyped-def]
    """``rec`` with momenta ``p`` (the other arrays shared, not copied)."""
    return Record(rec.id, rec.status, rec.mother1, rec.mother2, rec.daughter1, rec.daughter2,
                  p, rec.m, rec.scale, rec.ctype, rec.hadron, rec.v)


@numba.njit(**_JIT)
def soft_event_decays(rec, n_dec, st_w, w_py, p_cut, over, forced_fsr, forced_q,  # type: ignore[no-untyped-def]
                      fsr_emissions, quark_emissions, m_wlep, rng, rng_q, atab, tot):
    """One event of sample S of ``run_sliced_job`` (with samples D and Q for ``sliced_fsr``
    / ``sliced_fsrq``) on ``n_dec`` decay configurations: the record as it is and
    ``n_dec`` − 1 with redrawn W-decay angles
    (:func:`samples.background_wdecay.resampled_momenta`, stream ``st_w``). Sample S (the
    record's shower photons, except those the other samples replace) is split on the first
    configuration only, with the event's weight ``w_py``; the forced W-lepton (D) and
    final-quark (Q) emissions on every configuration, with ``w_py`` / ``n_dec`` (either
    is an unbiased estimate of the event's expectation). With ``n_dec`` = 1 this is the
    reference's loop, draw for draw. Returns the copies that passed the generation filter
    in the order the reference records them (float rows, int rows, moved indices, moved
    momenta), each copy's configuration index, and the momenta of every configuration
    (n_dec, len(rec), 4)."""
    n = len(rec.id)
    ps = np.empty((n_dec, n, 4))
    ps[0] = rec.p
    if n_dec > 1:
        moved, _cos = resampled_momenta(rec, n_dec - 1, st_w)
        ps[1:] = moved
    f, irow, mv_i, mv_p = _new_outputs()
    cfg = np.empty(8, np.int64)
    k = n_mv = 0
    l_idx, leps = _final_leptons(rec)
    sc = _scratch(n, len(l_idx))
    w_moved = np.empty(0, np.int64)
    n_wm = 0
    plan_i, plan_f = np.empty((0, 5), np.int64), np.empty((0, 3))
    if forced_q:
        quarks, w_moved, n_wm = _quark_setup(rec)
        plan_i, plan_f = _quark_plan(rec, quarks)
    w = w_py / n_dec
    for r in range(n_dec):
        rec_r = _with_p(rec, ps[r])
        k0 = k
        if r > 0:
            for a in range(len(l_idx)):
                for c in range(4):
                    leps[a, 1 + c] = ps[r, l_idx[a], c]
        i_lep, i_nu, p_lep, p_nu = _w_leptons(rec_r, forced_fsr)
        if r == 0:
            f, irow, k, mv_i, mv_p, n_mv = _soft_photons(
                rec_r, w_py, p_cut, over, forced_fsr, forced_q, p_lep, p_nu, l_idx, leps, rng,
                atab, tot, f, irow, k, mv_i, mv_p, n_mv, sc)
        if forced_fsr:
            if k + 2 * fsr_emissions > len(f):
                f, irow = _room(f, irow, k, k + 2 * fsr_emissions)
            k = _lepton_emissions(rec_r, i_lep, i_nu, p_lep, p_nu, l_idx, leps, w,
                                  fsr_emissions, m_wlep, rng, atab, tot, f, irow, k, sc)
        if forced_q:
            n_em = quark_emissions * len(plan_i)
            if k + 2 * n_em > len(f):
                f, irow = _room(f, irow, k, k + 2 * n_em)
            if n_mv + (n_wm + 2) * n_em > len(mv_i):
                mv_i, mv_p = _room_moved(mv_i, mv_p, n_mv, n_mv + (n_wm + 2) * n_em)
            k, n_mv = _quark_emissions(
                rec_r, plan_i, plan_f, w_moved, n_wm, l_idx, leps, w,
                quark_emissions, rng, rng_q, atab, tot, f, irow, k, mv_i, mv_p, n_mv, sc)
        if len(cfg) < len(f):
            c2 = np.empty(len(f), np.int64)
            c2[:k0] = cfg[:k0]
            cfg = c2
        cfg[k0:k] = r
    return f[:k], irow[:k], mv_i[:n_mv], mv_p[:n_mv], cfg[:k], ps


#: Columns of the preselected rows returned by :func:`soft_event_into`.
PRESEL_COLS = (C_MLL, C_LEAD, C_W, C_FLAV, C_ORIGIN, C_PTG, C_SCALE, C_PART)


@numba.njit(**_JIT)
def soft_event_into(rec, n_dec, st_w, keep, st_t, write, w_py, p_cut, over, forced_fsr,  # type: ignore[no-untyped-def]
                    forced_q, fsr_emissions, quark_emissions, m_wlep, rng, rng_q, atab, tot,
                    out, pos, iev):
    """One event of sample S, from the copies to what the job keeps, in one call:
    :func:`soft_event_decays` (``n_dec`` = 1: :func:`soft_event`'s rows, bit for bit),
    then the preselected rows (columns :data:`PRESEL_COLS`), the Russian roulette of the
    non-core copies (:func:`thin_copies` on the thinning stream's state ``st_t``,
    ``keep`` < 1), and the written copies into the buffer arrays ``out`` from the fill
    positions ``pos`` (:class:`samples.nanoaod.ColumnBuffer`; :func:`_write_copies`:
    weights always, NanoAOD columns if ``write``). Returns (preselected rows, number
    thinned away, grow): the same numbers, in the same order, as the Python
    ``CompiledEngine._collect`` path of sample H.

    ``grow`` is (0, 0, 0, 0, 0) when the event was written; otherwise the buffer lacked
    room, ``grow`` holds the capacities the event needs, and the random-number states and
    ``tot`` are restored as they were at the call (no row returned, nothing written): the
    same call with a larger buffer then gives what this one would have."""
    saved = (st_w.copy(), st_t.copy(), rng.copy(), rng_q.copy(), tot.copy())
    f, irow, mv_i, mv_p, cfg, ps = soft_event_decays(
        rec, n_dec, st_w, w_py, p_cut, over, forced_fsr, forced_q, fsr_emissions,
        quark_emissions, m_wlep, rng, rng_q, atab, tot)
    n_sel = 0
    for i in range(len(f)):
        if f[i, C_PRESEL] != 0:
            n_sel += 1
    sel = np.empty((n_sel, len(PRESEL_COLS)))
    j = 0
    for i in range(len(f)):
        if f[i, C_PRESEL] != 0:
            for c in range(len(PRESEL_COLS)):
                sel[j, c] = f[i, PRESEL_COLS[c]]
            j += 1
    n_drop = 0
    if keep < 1.0 and len(f) > 0:
        kept, fac, n_drop = thin_copies(f, keep, st_t)
        f, irow, cfg = f[kept], irow[kept], cfg[kept]
        for i in range(len(f)):
            f[i, C_W] *= fac[i]
            f[i, C_BIAS] *= fac[i]
    grow = _write_copies(rec, f, irow, mv_i, mv_p, ps, cfg, out, pos, iev, 0, write)
    if grow[4] > 0:
        st_w[:] = saved[0]
        st_t[:] = saved[1]
        rng[:] = saved[2]
        rng_q[:] = saved[3]
        tot[:] = saved[4]
        return sel[:0], 0, grow
    return sel, n_drop, grow


@numba.njit(**_JIT)
def soft_event_into_at(addr, n, size, keys, ctypes_, hadrons, n_dec, st_w, keep, st_t,  # type: ignore[no-untyped-def]
                       write, w_py, p_cut, over, forced_fsr, forced_q, fsr_emissions,
                       quark_emissions, m_wlep, rng, rng_q, atab, tot, out, pos, iev):
    """:func:`soft_event_into` on the record copied from ``addr`` (see
    :meth:`samples.pythia_record.RecordReader.locate`): its outputs and ``False``, or
    empty outputs and ``True`` (nothing drawn or written) when an id is missing from the
    id table."""
    rec, miss = record_at(addr, n, size, keys, ctypes_, hadrons)
    if miss:
        z = np.int64(0)
        return np.empty((0, len(PRESEL_COLS))), 0, (z, z, z, z, z), True
    sel, n_drop, grow = soft_event_into(
        rec, n_dec, st_w, keep, st_t, write, w_py, p_cut, over, forced_fsr, forced_q,
        fsr_emissions, quark_emissions, m_wlep, rng, rng_q, atab, tot, out, pos, iev)
    return sel, n_drop, grow, False


@numba.njit(**_JIT)
def record_at(addr, n, size, keys, ctypes_, hadrons):  # type: ignore[no-untyped-def]
    """(Record, number of ids missing from the table) of the particles at ``addr``."""
    i0, i1, i2, i3, i4, i5, p, m, scale, ct, had, v, miss = _copy_particles(
        addr, n, size, keys, ctypes_, hadrons)
    return Record(i0, i1, i2, i3, i4, i5, p, m, scale, ct, had, v), miss


@numba.njit(**_JIT)
def _empty_outputs():  # type: ignore[no-untyped-def]
    return (np.empty((0, N_FCOLS)), np.zeros((0, N_ICOLS), np.int64), np.empty(0, np.int64),
            np.empty((0, 4)))


# ----------------------------------------------------------------------------- written copies


@numba.njit(**_JIT)
def _with_room(rec, extra):  # type: ignore[no-untyped-def]
    """A copy of ``rec`` with ``extra`` zeroed entries appended."""
    n = len(rec.id)
    N = n + extra
    ids, st, m1, m2 = (np.zeros(N, np.int64), np.zeros(N, np.int64), np.zeros(N, np.int64),
                       np.zeros(N, np.int64))
    d1, d2 = np.zeros(N, np.int64), np.zeros(N, np.int64)
    ids[:n], st[:n], m1[:n], m2[:n] = rec.id, rec.status, rec.mother1, rec.mother2
    d1[:n], d2[:n] = rec.daughter1, rec.daughter2
    p, m, scale = np.zeros((N, 4)), np.zeros(N), np.zeros(N)
    p[:n], m[:n], scale[:n] = rec.p, rec.m, rec.scale
    ct, had, v = np.zeros(N, np.int64), np.zeros(N, np.bool_), np.zeros((N, 3))
    ct[:n], had[:n], v[:n] = rec.ctype, rec.hadron, rec.v
    return Record(ids, st, m1, m2, d1, d2, p, m, scale, ct, had, v)


@numba.njit(**_JIT)
def copy_record(rec, row, ir, mv_i, mv_p):  # type: ignore[no-untyped-def]
    """The record of one written copy: the edits that ``write_split_copy``,
    ``write_lepton_emission_copy`` and ``write_quark_emission_copy`` (samples.
    background_sliced, via ``samples.background._apply_split``) make to the Pythia event,
    applied to a copy of ``rec`` (float row ``row``, int row ``ir`` of the event kernels)."""
    out = _with_room(rec, 2 if ir[I_KIND] == 0 else 3)
    _edit_copy(out, len(rec.id), row, ir, mv_i, mv_p)
    return out


@numba.njit(**_LEAF)
def _edit_copy(out, n, row, ir, mv_i, mv_p):  # type: ignore[no-untyped-def]
    """Apply the edits of :func:`copy_record` in place to ``out``: a record whose first
    ``n`` entries are the event's and whose entries ``n``, ``n + 1`` (, ``n + 2``) are
    zeroed room for the appended ones. Returns (entries used, the edited base photon of a
    splitting copy or −1)."""
    kind, lid = ir[I_KIND], ir[I_LID]
    n_used = n + (2 if kind == 0 else 3)
    p = out.p
    edited = -1
    if kind == 0:
        ig, i_rec = ir[I_RAD], ir[I_REC]
        edited = ig
        for j in range(ir[I_MOV0], ir[I_MOV1]):  # a W recoiler's decay products
            for c in range(4):
                p[mv_i[j], c] = mv_p[j, c]
    else:
        if kind == 1:
            for c in range(4):
                p[ir[I_RAD], c] = row[C_REC + c]
                p[ir[I_NU], c] = row[C_NU + c]
        else:
            for j in range(ir[I_MOV0], ir[I_MOV1]):
                for c in range(4):
                    p[mv_i[j], c] = mv_p[j, c]
        ig, i_rec = n, ir[I_REC]
    i1 = n_used - 2
    mlep = M_ELECTRON_GEV if abs(lid) == 11 else M_MUON_GEV
    # Event::append(id, status, mother1, 0, 0, 0, 0, 0, p, m) (then scale(...)) of the
    # emitted photon (kinds 1, 2) and the pair; chargeType of e/μ/γ from the id.
    for j in range(n, n_used):
        if j < i1:
            pid, status, mother, c0, mass, scale = 22, 51, ir[I_RAD], C_PHOTON, 0.0, row[C_PTEVOL]
        elif j == i1:
            pid, status, mother, c0, mass, scale = lid, 91, ig, C_LM, mlep, 0.0
        else:
            pid, status, mother, c0, mass, scale = -lid, 91, ig, C_LP, mlep, 0.0
        out.id[j], out.status[j], out.mother1[j] = pid, status, mother
        for c in range(4):
            p[j, c] = row[c0 + c]
        out.m[j], out.scale[j] = mass, scale
        out.ctype[j] = 0 if pid == 22 else (-3 if pid > 0 else 3)
    for c in range(4):
        p[ig, c] = row[C_GSTAR + c]
        p[i_rec, c] = row[C_REC + c]
    out.m[ig] = row[C_MPAIR]
    out.status[ig] = -91
    out.daughter1[ig], out.daughter2[ig] = i1, i1 + 1
    return n_used, edited


@numba.njit(**_JIT)
def _trimmed(rec, n):  # type: ignore[no-untyped-def]
    """The first ``n`` entries of ``rec`` (views)."""
    return Record(rec.id[:n], rec.status[:n], rec.mother1[:n], rec.mother2[:n],
                  rec.daughter1[:n], rec.daughter2[:n], rec.p[:n], rec.m[:n], rec.scale[:n],
                  rec.ctype[:n], rec.hadron[:n], rec.v[:n])


@numba.njit(**_JIT)
def _columns_need(plan, irow, n):  # type: ignore[no-untyped-def]
    """Upper bounds of the (GenPart, Electron, Muon, ChargedHadron) rows that the copies
    ``irow`` of a record of ``n`` entries take in :func:`_write_copies` (a copy through
    the per-record path: its ``n`` + 3 entries each)."""
    n_lep = n_had = 0
    for i in plan.cand:
        n_lep += (plan.cls[i] & FINAL_LEPTON) != 0
        n_had += (plan.cls[i] & FINAL_HADRON) != 0
    g = lep = h = 0
    for c in range(len(irow)):
        if irow[c, I_KIND] == 0 and plan.has_child[irow[c, I_RAD]]:
            g += n + 3
            lep += n + 3
            h += n + 3
        else:
            g += len(plan.cand) + 4
            lep += n_lep + 2
            h += n_had
    return g, lep, h


@numba.njit(**_JIT)
def _write_copies(rec, f, irow, mv_i, mv_p, ps, cfg, out, pos, iev, hard, write):  # type: ignore[no-untyped-def]
    """Write the copies ``f``/``irow`` of one event into the buffer arrays ``out`` from
    the fill positions ``pos`` (:class:`samples.nanoaod.ColumnBuffer`): per copy its
    weight, bias weight, event group ``iev`` and ``hard`` flag, and if ``write`` its
    NanoAOD columns (:func:`samples.nanoaod_kernels.event_columns` of the copy's record),
    its MET and GenVtx. Copy c is made from the record with momenta ``ps[cfg[c]]`` (the
    decay configurations of :func:`soft_event_decays`; one, ``rec.p``, for sample H).
    Returns (0, 0, 0, 0, 0), or, writing nothing, the capacities (GenPart, Electron,
    Muon, ChargedHadron, copies) the event needs when one is short.

    The copies are edited in place in one scratch record, and what the columns need from
    the history (pruning classes, ancestry, statusFlags) is computed once per event
    (:func:`samples.nanoaod_kernels.column_plan`): a copy then costs its ~20 written
    entries, not the ~50–100 of the record. A splitting copy whose photon has descendants
    (never seen) takes the per-record path."""
    gen_f, gen_i, ele_f, ele_i, mu_f, mu_i, had_f, had_i, ev_f, ev_i = out
    k = len(f)
    z = np.int64(0)  # the type of the capacities
    if k == 0:
        return z, z, z, z, z
    n = len(rec.id)
    cap = n + 3
    g = lep = h = z
    if write:
        work = _with_room(rec, 3)
        plan = column_plan(work, n, 8 * n)
        g, lep, h = _columns_need(plan, irow, n)
    need = (pos[0] + g, pos[1] + lep, pos[2] + lep, pos[3] + h, pos[4] + k)
    if (need[4] > len(ev_f) or need[0] > len(gen_f) or need[1] > len(ele_f)
            or need[2] > len(mu_f) or need[3] > len(had_f)):
        return need
    r0 = pos[4]
    for c in range(k):
        ev_f[r0 + c, 5] = f[c, C_W]
        ev_f[r0 + c, 6] = f[c, C_BIAS]
        ev_i[r0 + c, 4] = iev
        ev_i[r0 + c, 5] = hard
        for a in range(5):
            ev_f[r0 + c, a] = 0.0
        for a in range(4):
            ev_i[r0 + c, a] = 0
    pos[4] += k
    if not write:
        return z, z, z, z, z
    o = pos[:4]
    for c in range(k):
        work.p[:n] = ps[cfg[c]]
        n_used, edited = _edit_copy(work, n, f[c], irow[c], mv_i, mv_p)
        if edited >= 0 and plan.has_child[edited]:
            # The per-record path (event_columns of this copy), into the same outputs.
            one = _trimmed(work, n_used)
            nums, mt, vx = plan_columns_into(one, n_used, column_plan(one, n_used, 0), -1, -1,
                                             gen_f, gen_i, ele_f, ele_i, mu_f, mu_i, had_f,
                                             had_i, o)
        else:
            # The edited entries' history: that of a splitting copy (kind 0) is fixed by
            # its photon and lepton id, that of an emission copy by its radiator and id.
            lid = irow[c, I_LID]
            key = ((1 if edited >= 0 else 0) * n + irow[c, I_RAD]) * 4 + (
                (0 if abs(lid) == 11 else 2) + (0 if lid > 0 else 1))
            nums, mt, vx = plan_columns_into(work, n_used, plan, edited, key, gen_f, gen_i,
                                             ele_f, ele_i, mu_f, mu_i, had_f, had_i, o)
        r = r0 + c
        for a in range(4):
            ev_i[r, a] = nums[a]
        ev_f[r, 0], ev_f[r, 1] = mt
        ev_f[r, 2], ev_f[r, 3], ev_f[r, 4] = vx
        # Undo the edits (in this loop: a compiled helper taking the two records would
        # cost ~1 µs per copy in reference counting).
        if edited >= 0:
            work.status[edited] = rec.status[edited]
            work.daughter1[edited], work.daughter2[edited] = (rec.daughter1[edited],
                                                              rec.daughter2[edited])
            work.m[edited] = rec.m[edited]
        for j in range(n, cap):
            work.id[j] = work.status[j] = work.mother1[j] = work.mother2[j] = 0
            work.daughter1[j] = work.daughter2[j] = work.ctype[j] = 0
            work.m[j] = work.scale[j] = 0.0
            for q in range(4):
                work.p[j, q] = 0.0
    return z, z, z, z, z


@numba.njit(**_JIT)
def copies_columns_into(rec, f, irow, mv_i, mv_p, ps, cfg, out, pos, iev, hard):  # type: ignore[no-untyped-def]
    """:func:`_write_copies` with the columns (the written copies of sample H)."""
    return _write_copies(rec, f, irow, mv_i, mv_p, ps, cfg, out, pos, iev, hard, True)


def write_copies(buf, rec, f, irow, mv_i, mv_p, ps, cfg, iev, *, hard):  # type: ignore[no-untyped-def]
    """:func:`copies_columns_into` the :class:`samples.nanoaod.ColumnBuffer` ``buf``,
    growing it when the copies do not fit (the kernel then wrote nothing)."""
    while True:
        grow = copies_columns_into(rec, f, irow, mv_i, mv_p, ps, cfg, buf.arrays, buf.pos,
                                   iev, int(hard))
        if not grow[4]:
            return
        buf.reserve(grow)


def copies_columns(rec, f, irow, mv_i, mv_p, ps, cfg):  # type: ignore[no-untyped-def]
    """The NanoAOD columns of the written copies of one event (:func:`write_copies` into
    a fresh :class:`samples.nanoaod.ColumnBuffer`), concatenated: (GenPart floats, ints,
    Electron floats, ints, Muon floats, ints, ChargedHadron floats, pdgIds, per-copy
    counts (k, 4) of these four collections, MET (k, 2), GenVtx (k, 3)); per particle at
    the file's float32/int32, per copy in double precision. For tests and inspection."""
    from samples.nanoaod import ColumnBuffer

    buf = ColumnBuffer(hadron_level=False, initial_copies=1)
    write_copies(buf, rec, f, irow, mv_i, mv_p, ps, cfg, 0, hard=False)
    p = buf.pos
    a = buf.arrays
    ev_f, ev_i = a[8][:p[4]], a[9][:p[4]]
    return (a[0][:p[0]], a[1][:p[0]], a[2][:p[1]], a[3][:p[1]], a[4][:p[2]], a[5][:p[2]],
            a[6][:p[3]], a[7][:p[3]], ev_i[:, :4], ev_f[:, :2], ev_f[:, 2:5])
