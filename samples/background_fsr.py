"""Forced photon emission off the W-decay lepton (experimental; sample D of ``sliced_fsr``).

In the ``sliced`` method the photons radiated by the W-decay lepton still come from
Pythia's shower, where only ~1.6% of W events have one hard enough for the preselection:
they carry ~65–70% of σ_presel and ~55–75% of Σ W² (``docs/background.md`` §8). Here the first
emission ℓ → ℓγ is *forced*: every W event gets ``k`` photons with energy fraction
x = 2E_γ/M_dip > :data:`X_CUT` in the ℓν dipole rest frame, sampled with the quasi-collinear
QED kernel of a p_T-ordered shower (Pythia's simple-shower variables):

    dP = (α_em(p_T²)/2π) (dp_T²/p_T²) dz [ (1 + z²)/(1 − z) − 2 z (1 − z) m_ℓ²/p_T² ],
    p_T² = z (1 − z) (Q² − m_ℓ²),   Q² = (p_ℓ + p_γ)²,   z = E_ℓ/(E_ℓ + E_γ),

with the neutrino as recoiler (kinematics in the dipole rest frame: the ℓγ system keeps
the lepton's direction, E_ℓ = z E_ℓγ; four-momentum is conserved exactly). The W–ℓ
eikonal factor (1 + cos θ_ℓγ)/2 (dipole rest frame) is applied as the matrix-element
correction: the W is charged and radiates too, which suppresses wide-angle photons
(without it the preselected rate is 1.4× the shower's; the factor was chosen after
seeing that, see docs). No Sudakov factor (an O(α) first-order emission). The emitted
photon's scale (for the ordered γ → ℓℓ splitting) is its p_T. Validated for W → μν
against the shower's W-lepton photons (``docs/background.md`` §8): σ_presel ratio
0.977 ± 0.032.

Sample Q of ``sliced_fsrq`` (experimental): forced q → qγ emission off every final-state
quark with Pythia's charged-dipole density (``SimpleTimeShower::pT2nextQED``), the QED
dipole recoiler rebuilt from the event history as ``setupQEDdip``/``update`` choose it
(:func:`quark_recoiler`; usually the W), each copy of the quark radiating in its own p_T
range (:func:`quark_copy_segments`); photons with lab p_T > :data:`Q_PT_CUT`. Validated
against the shower's quark photons: 0.94 ± 0.04 photons per event, σ_presel ratio
0.92 ± 0.10 (the copy-segment treatment was added after a blind version came out 27%
low; docs/background.md §8).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from samples.background_forced import FourVec, _boost, sq

#: Photon energy fraction x = 2E_γ/M_dip above which lepton photons come from the forced
#: emission (sample D) and are not split in the shower sample S.
X_CUT = 0.05
#: Lowest evolution p_T sampled [GeV] (below the muon's dead cone m_μ(1 − z); for W → eν
#: the electron's dead cone is lower: not validated).
PT_MIN_GEV = 1.0e-4


class Emission(NamedTuple):
    weight: float
    pt_evol: float
    x: float
    lepton: FourVec
    photon: FourVec
    recoiler: FourVec


def photon_fraction(lepton: FourVec, photon: FourVec, recoiler: FourVec) -> float:
    """x = 2E_γ/M of ``photon`` in the rest frame of lepton + photon + recoiler."""
    P = tuple(lepton[i] + photon[i] + recoiler[i] for i in range(4))
    m2 = sq(P[0]) - sq(P[1]) - sq(P[2]) - sq(P[3])
    if m2 <= 0.0:
        return 0.0
    # E_γ in the rest frame = p_γ · P / M.
    e = (photon[0] * P[0] - photon[1] * P[1] - photon[2] * P[2] - photon[3] * P[3]) / math.sqrt(m2)
    return 2.0 * e / math.sqrt(m2)


def _tilted(n: tuple[float, float, float], along: float, across: float,
            u_phi: float) -> tuple[float, ...]:
    """along·n + across·(cos φ e1 + sin φ e2), φ = 2π u_phi, with (e1, e2) a unit frame
    orthogonal to the unit vector n: the emitted photon's momentum around the emitter."""
    a = (1.0, 0.0, 0.0) if abs(n[0]) < 0.9 else (0.0, 1.0, 0.0)
    e1 = (n[1] * a[2] - n[2] * a[1], n[2] * a[0] - n[0] * a[2], n[0] * a[1] - n[1] * a[0])
    e1n = math.sqrt(sq(e1[0]) + sq(e1[1]) + sq(e1[2]))
    e1 = (e1[0] / e1n, e1[1] / e1n, e1[2] / e1n)
    e2 = (n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0])
    phi = 2.0 * math.pi * u_phi
    c, s = math.cos(phi), math.sin(phi)
    return tuple(along * n[i] + across * (c * e1[i] + s * e2[i]) for i in range(3))


def force_emit(lepton: FourVec, recoiler: FourVec, *, m_lepton: float, rng: np.random.Generator,
               alpha_em, x_cut: float = X_CUT, me_correction: bool = True,
               charge2: float = 1.0, pt_min: float = PT_MIN_GEV,
               photon_pt_min: float = 0.0) -> Emission | None:
    """One forced f → fγ emission with x > ``x_cut`` (``None``: outside phase space).

    ``charge2``: squared charge of the radiator; ``pt_min``: shower cut-off (Pythia's
    ``TimeShower:pTminChgQ`` = 0.5 GeV for quarks); ``photon_pt_min``: lab-frame photon
    p_T below which the emission is rejected (the slicing variable for quark photons);
    ``me_correction``: the W–ℓ eikonal factor (lepton from the W decay only)."""
    P = tuple(lepton[i] + recoiler[i] for i in range(4))
    M2 = sq(P[0]) - sq(P[1]) - sq(P[2]) - sq(P[3])
    if M2 <= 0.0:
        return None
    M = math.sqrt(M2)
    pt_hi = 0.5 * M
    if pt_hi <= pt_min:
        return None
    l1 = 2.0 * math.log(pt_hi / pt_min)
    # 1 − z down to x_cut/2: x = (1 − z)(1 + Q²/M²) ≤ 2(1 − z) reaches x_cut from there.
    x_lo = 0.5 * x_cut
    l2 = math.log(1.0 / x_lo)
    u1, u2, u3 = rng.random(3)
    pt2 = sq(pt_min) * math.exp(l1 * u1)
    xg = x_lo * math.exp(l2 * u2)  # 1 − z (energy fraction of the photon in the ℓγ pair)
    z = 1.0 - xg
    if not 0.0 < z < 1.0:
        return None
    q2 = pt2 / (z * (1.0 - z)) + sq(m_lepton)
    if q2 >= M2:
        return None
    e_sys = (M2 + q2) / (2.0 * M)
    p_sys = (M2 - q2) / (2.0 * M)
    e_l, e_g = z * e_sys, (1.0 - z) * e_sys
    # The photon's energy fraction of the dipole, the slicing variable.
    x = 2.0 * e_g / M
    if x <= x_cut:
        return None
    # Massless kinematics: Q² = 2 E_ℓ E_γ (1 − cos θ) requires Q² ≤ 4 E_ℓ E_γ.
    qq = q2 - sq(m_lepton)
    if qq > 4.0 * e_l * e_g:
        return None
    pl2 = sq(e_l) - sq(m_lepton)
    if pl2 <= 0.0:
        return None
    pg_par = (sq(p_sys) + sq(e_g) - pl2) / (2.0 * p_sys)
    kt2 = sq(e_g) - sq(pg_par)
    if kt2 < 0.0:
        return None
    kt = math.sqrt(kt2)
    kernel = (1.0 + z * z) / (1.0 - z) - 2.0 * z * (1.0 - z) * sq(m_lepton) / pt2
    if kernel <= 0.0:
        return None
    # Dipole rest frame: lepton direction n.
    bvec = (P[1] / P[0], P[2] / P[0], P[3] / P[0])
    lr = _boost(lepton, (-bvec[0], -bvec[1], -bvec[2]))
    ln_ = math.sqrt(sq(lr[1]) + sq(lr[2]) + sq(lr[3]))
    n = (lr[1] / ln_, lr[2] / ln_, lr[3] / ln_)
    kv = _tilted(n, pg_par, kt, u3)
    g_rf = (e_g, *kv)
    pl = tuple(p_sys * n[i] - kv[i] for i in range(3))
    l_rf = (e_l, *pl)  # |pl|² = e_l² − m_ℓ² by construction: on shell, E and p conserved
    r_rf = (p_sys, -p_sys * n[0], -p_sys * n[1], -p_sys * n[2])
    alpha = alpha_em(pt2)
    w = charge2 * alpha / (2.0 * math.pi) * l1 * l2 * xg * kernel
    if me_correction:
        # Soft-photon ratio of the W-ℓ eikonal (the charged W radiates too, and interferes)
        # to the lepton-only collinear kernel, in the dipole rest frame: (1 + cos θ_ℓγ)/2.
        cos_t = (pl[0] * kv[0] + pl[1] * kv[1] + pl[2] * kv[2]) / (
            math.sqrt(sq(pl[0]) + sq(pl[1]) + sq(pl[2])) * e_g)
        w *= 0.5 * (1.0 + cos_t)
    photon = _boost(g_rf, bvec)
    if photon_pt_min > 0.0 and math.hypot(photon[1], photon[2]) <= photon_pt_min:
        return None
    return Emission(w, math.sqrt(pt2), x, _boost(l_rf, bvec), photon, _boost(r_rf, bvec))


# ----------------------------------------------------------------------------- quark photons
#: Lab-frame photon p_T [GeV] above which photons off final-state quarks come from the
#: forced quark emission (sample Q of ``sliced_fsrq``) and are not split in sample S.
Q_PT_CUT = 4.0
#: Pythia 8.317 ``TimeShower:pTminChgQ`` [GeV] (QED cut-off of quark dipoles).
PT_MIN_CHG_Q = 0.5


def _dot(a: FourVec, b: FourVec) -> float:
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def _side_chain(ev, i_hard_in: int) -> list[int]:
    """Initiators of one beam side, newest (the hard-process incoming parton) first: the
    hard incoming (status −21), then the ISR initiators (−41) and the copies an initiator
    gets when the other side branches (−42), by increasing age, stopping before the
    primordial-k_T copy (−61) and the beam. (Without the −42 copies the walk stopped at
    the first one, missing the older initiators: until 2026-12-01, docs/background.md
    §14.)"""
    chain, i = [], i_hard_in
    while i > 2 and abs(ev[i].status()) in (21, 41, 42):
        chain.append(i)
        i = ev[i].mother1()
    return chain


def _latest_copy_before(ev, i: int, limit: int) -> int:
    """Last copy of particle ``i``'s line with an event-record index below ``limit``."""
    j = ev[i].iTopCopyId()
    while True:
        d1, d2 = ev[j].daughter1(), ev[j].daughter2()
        if d1 > 0 and (d2 == d1 or d2 == 0) and ev[d1].id() == ev[j].id() and d1 < limit:
            j = d1
        else:
            return j


def quark_recoiler(ev, i_rad: int) -> tuple[int, bool] | None:
    """(recoiler index, recoiler is incoming) of the QED dipole of final quark ``i_rad`` in
    a W event, reconstructed from the event history as ``SimpleTimeShower`` (Pythia 8.317)
    sets it up and updates it:

    - a quark emitted by the initial-state shower gets its dipole when it is emitted
      (``update`` → ``setupQEDdip``), with the partons of system 0 *at that moment*:
      (1) nearest incoming parton of the same flavour or outgoing parton of the opposite
      flavour; (2) else the nearest charged parton, incoming or outgoing, by
      (p_i·p_j − m_i m_j)/chargeType_j² — the W (chargeType 3, an outgoing member of
      system 0 until its interleaved decay) usually wins; (3) else the nearest outgoing
      parton. ``TimeShower:allowBeamRecoil = on``: incoming partons are candidates.
    - later initial-state emissions on the recoiler's side (``update``): an incoming
      recoiler is replaced by the new incoming parton if that is charged, else by the
      newly emitted parton (the dipole becomes final-final). Outgoing recoilers only move.
    - a quark from a final-state g → q q̄ splitting: its antiquark partner (rule 1).

    Kinematics are then taken from the final record (the recoiler's last copy before its
    decay, the W's included): an approximation of the configuration at emission time."""
    rad = ev[i_rad]
    itop = rad.iTopCopyId()
    top = ev[itop]
    x = rad.id()
    st = abs(top.status())
    if 51 <= st <= 59:
        m = top.mother1()
        for j in (ev[m].daughter1(), ev[m].daughter2()):
            if j > 0 and j != itop and ev[j].id() == -x:
                return ev[j].iBotCopyId(), False
        return None
    if not 41 <= st <= 49:
        return None
    chains = [_side_chain(ev, 3), _side_chain(ev, 4)]
    # Incoming partons when the quark was emitted: on each side the newest initiator
    # created before it (its own mother on its side).
    inc_now = []
    for ch in chains:
        older = [i for i in ch if i < itop]
        if older:
            inc_now.append(max(older))
    out_now = []
    for j in range(5, itop):
        p = ev[j]
        if j == itop or p.iTopCopyId() != j:
            continue
        if p.idAbs() == 24 or (abs(p.status()) in (43, 44, 51, 52, 53) and p.idAbs() in
                               (1, 2, 3, 4, 5, 21)):
            out_now.append(_latest_copy_before(ev, j, itop))
    pr = top.p()
    mr = top.m()

    def pp(i: int) -> float:
        return ev[i].p() * pr - ev[i].m() * mr

    best, best_pp, inc = None, math.inf, False
    for i in inc_now:
        if ev[i].id() == x and pp(i) < best_pp:
            best, best_pp, inc = i, pp(i), True
    for i in out_now:
        if ev[i].id() == -x and pp(i) < best_pp:
            best, best_pp, inc = i, pp(i), False
    if best is None:
        for i, is_in in [(i, True) for i in inc_now] + [(i, False) for i in out_now]:
            ct = ev[i].chargeType()
            if ct != 0 and pp(i) / (ct * ct) < best_pp:
                best, best_pp, inc = i, pp(i) / (ct * ct), is_in
    if best is None:
        for i in out_now:
            if pp(i) < best_pp:
                best, best_pp, inc = i, pp(i), False
    if best is None:
        return None
    if inc:
        return follow_incoming_recoiler(ev, next(c for c in chains if best in c), best)
    return ev[best].iBotCopyId(), False


def follow_incoming_recoiler(ev, chain: list[int], i_in: int) -> tuple[int, bool] | None:
    """Where an incoming recoiler ``i_in`` (an initiator of side ``chain``,
    :func:`_side_chain`) ends up after the later initial-state branchings on its side, as
    ``SimpleTimeShower::update`` moves it: to each new incoming parton while that is
    charged; to the newly emitted parton (final copy; the dipole becomes final-final) at
    the first uncharged one. (recoiler index, still incoming), or ``None``."""
    best = i_in
    for i_new in sorted(i for i in chain if i > i_in):
        if ev[i_new].chargeType() != 0:
            best = i_new
            continue
        emitted = [j for j in (ev[i_new].daughter1(), ev[i_new].daughter2())
                   if j > 0 and j not in chain]
        if not emitted:
            return None
        return ev[emitted[0]].iBotCopyId(), False
    return best, True


class QuarkEmission(NamedTuple):
    weight: float
    pt_evol: float
    quark: FourVec
    photon: FourVec
    recoiler: FourVec


def force_emit_quark(quark: FourVec, recoiler: FourVec, *, m_quark: float, m_rec: float,
                     rec_incoming: bool, charge2: float, pt_max: float,
                     rng: np.random.Generator, alpha_em, photon_pt_min: float = Q_PT_CUT,
                     pt_min: float = PT_MIN_CHG_Q) -> QuarkEmission | None:
    """One forced q → qγ emission with Pythia's simple-shower density (``pT2nextQED``,
    charged dipole end, no ME correction):

        dP = (α_em(p_T²)/2π) e_q² (dp_T²/p_T²) dz (1 + z²)/(1 − z),

    p_T in (``pt_min`` = pTminChgQ, ``pt_max``), z in (z_min, 1 − z_min) with
    z_min = ½ − √(¼ − p_T²/m²_DipCorr), m²_DipCorr = (m_dip − m_rec)² − m_q², and
    m² m²_dip < z(1 − z)(m²_dip + m² − m²_rec)², m² = m_q² + p_T²/(z(1 − z)); sampled with
    ln p_T² and ln(1 − z) uniform. Kinematics (final-final): in the dipole rest frame the
    qγ system (mass m) and the recoiler keep their directions, E_q = z E_qγ. Incoming
    recoiler (final-initial): the recoiler's momentum grows by (m² − m_q²)/(m²_dip − m_q²)
    (Pythia's x_new/x_old) and the qγ system takes the difference; the dampening factor
    4p_T,q²/(4p_T,q² + m²) (``TimeShower:dampenBeamRecoil = on``) is applied, the PDF
    ratio min(1, f(x_new)/f(x_old)) is not (an overestimate for these rare dipoles).
    Returns ``None`` outside phase space or for a lab photon p_T ≤ ``photon_pt_min``."""
    if rec_incoming:
        P = tuple(quark[i] + recoiler[i] for i in range(4))
        m_rec = 0.0
    else:
        P = tuple(quark[i] + recoiler[i] for i in range(4))
    m2dip = _dot(P, P)
    if m2dip <= 0.0:
        return None
    mdip = math.sqrt(m2dip)
    m2q, m2r = sq(m_quark), sq(m_rec)
    m2corr = sq(mdip - m_rec) - m2q
    if m2corr <= 4.0 * sq(pt_min):
        return None
    pt_hi2 = min(sq(pt_max), 0.25 * m2corr)
    if pt_hi2 <= sq(pt_min):
        return None
    z_abs = 0.5 - math.sqrt(max(0.0, 0.25 - sq(pt_min) / m2corr))
    if z_abs < 1e-8:
        z_abs = sq(pt_min) / m2corr
    l1 = math.log(pt_hi2 / sq(pt_min))
    l2 = math.log((1.0 - z_abs) / z_abs)
    u1, u2, u3 = rng.random(3)
    pt2 = sq(pt_min) * math.exp(l1 * u1)
    omz = z_abs * math.exp(l2 * u2)
    z = 1.0 - omz
    z_min = 0.5 - math.sqrt(max(0.0, 0.25 - pt2 / m2corr))
    if z_min < 1e-8:
        z_min = pt2 / m2corr
    if not z_min < z < 1.0 - z_min:
        return None
    m2 = m2q + pt2 / (z * omz)
    if not m2 * m2dip < z * omz * sq(m2dip + m2 - m2r):
        return None
    w = charge2 * alpha_em(pt2) / (2.0 * math.pi) * (1.0 + z * z) * l1 * l2
    bvec = (P[1] / P[0], P[2] / P[0], P[3] / P[0])
    if rec_incoming:
        # Final-initial: recoiler scaled by (1 + f); the qγ system is quark + f·recoiler.
        f = (m2 - m2q) / (m2dip - m2q)
        rec_new = tuple((1.0 + f) * recoiler[i] for i in range(4))
        sys = tuple(quark[i] + f * recoiler[i] for i in range(4))
        pt24 = 4.0 * (sq(quark[1]) + sq(quark[2]))
        w *= pt24 / (pt24 + m2)
        # Split sys in the rest frame of sys + new recoiler (massless recoiler).
        Q = tuple(sys[i] + rec_new[i] for i in range(4))
        bvec = (Q[1] / Q[0], Q[2] / Q[0], Q[3] / Q[0])
        s_rf = _boost(sys, (-bvec[0], -bvec[1], -bvec[2]))
        e_sys = s_rf[0]
        p_sys = math.sqrt(sq(s_rf[1]) + sq(s_rf[2]) + sq(s_rf[3]))
        n = (s_rf[1] / p_sys, s_rf[2] / p_sys, s_rf[3] / p_sys)
        r_out = rec_new
    else:
        lam = max(0.0, sq(m2dip - m2 - m2r) - 4.0 * m2 * m2r)
        p_sys = math.sqrt(lam) / (2.0 * mdip)
        e_sys = (m2dip + m2 - m2r) / (2.0 * mdip)
        e_rec = (m2dip - m2 + m2r) / (2.0 * mdip)
        qr = _boost(quark, (-bvec[0], -bvec[1], -bvec[2]))
        qn = math.sqrt(sq(qr[1]) + sq(qr[2]) + sq(qr[3]))
        n = (qr[1] / qn, qr[2] / qn, qr[3] / qn)
        r_out = None
    e_q, e_g = z * e_sys, omz * e_sys
    pq2 = sq(e_q) - m2q
    if pq2 <= 0.0 or p_sys <= 0.0:
        return None
    pg_par = (sq(p_sys) + sq(e_g) - pq2) / (2.0 * p_sys)
    kt2 = sq(e_g) - sq(pg_par)
    if kt2 < 0.0:
        return None
    kt = math.sqrt(kt2)
    kv = _tilted(n, pg_par, kt, u3)
    photon = _boost((e_g, *kv), bvec)
    if math.hypot(photon[1], photon[2]) <= photon_pt_min:
        return None
    q_out = _boost((e_q, *(p_sys * n[i] - kv[i] for i in range(3))), bvec)
    if r_out is None:
        r_out = _boost((e_rec, *(-p_sys * n[i] for i in range(3))), bvec)
    return QuarkEmission(w, math.sqrt(pt2), q_out, photon, r_out)


def quark_copy_segments(ev, i_final: int, pt_min: float = PT_MIN_CHG_Q) -> list[tuple[int, float, float]]:
    """(copy index, p_T low, p_T high) of the copies of final quark ``i_final``: copy k of
    the quark's line existed for evolution p_T between the scale of the next copy (the
    branching that replaced it) and its own scale (the top copy: its production scale,
    the ``pTmax`` of its QED dipole). A photon at evolution p_T is emitted off the copy
    alive then (p_T ordering), with that copy's momentum."""
    chain = [ev[i_final].iTopCopyId()]
    while True:
        c = ev[chain[-1]]
        d1, d2 = c.daughter1(), c.daughter2()
        if d1 > 0 and (d2 == d1 or d2 == 0) and ev[d1].id() == c.id():
            chain.append(d1)
        else:
            break
    out = []
    hi = ev[chain[0]].scale()
    for k, ic in enumerate(chain):
        if k > 0:
            hi = min(hi, ev[ic].scale())
        lo = ev[chain[k + 1]].scale() if k + 1 < len(chain) else pt_min
        lo = max(lo, pt_min)
        if hi > lo:
            out.append((ic, lo, hi))
    return out
