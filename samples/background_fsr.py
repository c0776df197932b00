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
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from samples.background_forced import FourVec, _boost

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
    m2 = P[0] ** 2 - P[1] ** 2 - P[2] ** 2 - P[3] ** 2
    if m2 <= 0.0:
        return 0.0
    # E_γ in the rest frame = p_γ · P / M.
    e = (photon[0] * P[0] - photon[1] * P[1] - photon[2] * P[2] - photon[3] * P[3]) / math.sqrt(m2)
    return 2.0 * e / math.sqrt(m2)


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
    M2 = P[0] ** 2 - P[1] ** 2 - P[2] ** 2 - P[3] ** 2
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
    pt2 = pt_min**2 * math.exp(l1 * u1)
    xg = x_lo * math.exp(l2 * u2)  # 1 − z (energy fraction of the photon in the ℓγ pair)
    z = 1.0 - xg
    if not 0.0 < z < 1.0:
        return None
    q2 = pt2 / (z * (1.0 - z)) + m_lepton**2
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
    qq = q2 - m_lepton**2
    if qq > 4.0 * e_l * e_g:
        return None
    pl2 = e_l**2 - m_lepton**2
    if pl2 <= 0.0:
        return None
    pg_par = (p_sys**2 + e_g**2 - pl2) / (2.0 * p_sys)
    kt2 = e_g**2 - pg_par**2
    if kt2 < 0.0:
        return None
    kt = math.sqrt(kt2)
    kernel = (1.0 + z * z) / (1.0 - z) - 2.0 * z * (1.0 - z) * m_lepton**2 / pt2
    if kernel <= 0.0:
        return None
    # Dipole rest frame: lepton direction n.
    bvec = (P[1] / P[0], P[2] / P[0], P[3] / P[0])
    lr = _boost(lepton, (-bvec[0], -bvec[1], -bvec[2]))
    ln_ = math.sqrt(lr[1] ** 2 + lr[2] ** 2 + lr[3] ** 2)
    n = (lr[1] / ln_, lr[2] / ln_, lr[3] / ln_)
    a = (1.0, 0.0, 0.0) if abs(n[0]) < 0.9 else (0.0, 1.0, 0.0)
    e1 = (n[1] * a[2] - n[2] * a[1], n[2] * a[0] - n[0] * a[2], n[0] * a[1] - n[1] * a[0])
    e1n = math.sqrt(e1[0] ** 2 + e1[1] ** 2 + e1[2] ** 2)
    e1 = (e1[0] / e1n, e1[1] / e1n, e1[2] / e1n)
    e2 = (n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0])
    phi = 2.0 * math.pi * u3
    c, s = math.cos(phi), math.sin(phi)
    kv = tuple(pg_par * n[i] + kt * (c * e1[i] + s * e2[i]) for i in range(3))
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
            math.sqrt(pl[0] ** 2 + pl[1] ** 2 + pl[2] ** 2) * e_g)
        w *= 0.5 * (1.0 + cos_t)
    photon = _boost(g_rf, bvec)
    if photon_pt_min > 0.0 and math.hypot(photon[1], photon[2]) <= photon_pt_min:
        return None
    return Emission(w, math.sqrt(pt2), x, _boost(l_rf, bvec), photon, _boost(r_rf, bvec))
