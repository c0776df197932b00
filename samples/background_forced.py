"""Forced photon splitting γ → γ*(→ ℓ⁺ℓ⁻): weighted pairs from every shower photon.

Pythia's simple shower makes the e⁺e⁻ / μ⁺μ⁻ pairs of the W + γ* background in two steps:
a charged particle radiates a photon (``TimeShower:QEDshowerByL/Q``, ISR photons from
quarks), and later in the p_T-ordered evolution the photon splits, γ → ℓ⁺ℓ⁻
(``TimeShower:QEDshowerByGamma``). The second step is rare (a few per mille per photon), so
almost every generated W event is wasted. Here the first step is left to Pythia, with its
own splitting switched off, and the second step is *forced*: every final-state photon is
split into a lepton pair with the probability density of Pythia's own kernel carried as a
weight. This is exact importance sampling of the same first-order splitting probability
Pythia uses (``SimpleTimeShower::pT2nextQED``, ``weightGluonToQuark = 4``, Pythia 8.317):

    dP = (α_em(p_T²) / 2π) (dp_T² / p_T²) dz  w(z, m),     p_T² = z (1 − z) m²,
    w  = β [z_c² + (1 − z_c)² + 8 r z_c (1 − z_c)] (1 + ρ)(1 − ρ)²,
    r = m_ℓ²/m², β = √(1 − 4r), ρ = m²/m²_dip,corr, z_c = ((1 + ρ) z − ρ)/(1 − ρ),

with p_T below the photon's production scale (``Particle.scale()``, the ordering of the
shower), m < ``TimeShower:mMaxGamma`` = 10 GeV, and Pythia's dipole phase-space limits.
At fixed z, dp_T²/p_T² = dm²/m², so integrating z gives the textbook γ* emission density
(α/3π)(dm²/m²)(1 + 2m_ℓ²/m²)√(1 − 4m_ℓ²/m²) when ρ → 0 (Kroll–Wada; see
``docs/background.md``). Sampling uses ln m² and z uniform; the weight is the density
divided by the sampling density, times the Sudakov factor for the photon not having split
earlier (:func:`no_split_probability`).

Neglected (documented in ``docs/background.md``): QED radiation off the new leptons, and
second-order terms (two pairs from one photon), both O(α) relative corrections.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

#: Lepton masses [GeV] (PDG 2024).
M_ELECTRON_GEV = 0.51099895e-3
M_MUON_GEV = 0.1056583755
M_TAU_GEV = 1.77686

#: Pythia 8.317 defaults used by the kernel (``TimeShower:mMaxGamma`` [GeV],
#: ``TimeShower:pTminChgQ`` [GeV]).
M_MAX_GAMMA_GEV = 10.0
PT_MIN_CHG_Q_GEV = 0.5

#: Lowest pair mass generated [GeV] (spec §2: m_ℓℓ > 10 MeV).
M_MIN_PAIR_GEV = 0.010

FourVec = tuple[float, float, float, float]  # (E, px, py, pz) in GeV


def sq(x: float) -> float:
    """``x * x``: how the reference squares, as the compiled kernels do
    (:func:`samples.cpython_math.sq`). CPython's ``x ** 2`` calls libm ``pow``, which
    differs from ``x * x`` in the last bit for ~0.1% of the values and costs ~20 ns per
    call in the kernels (docs/background.md §16)."""
    return x * x


class Split(NamedTuple):
    """One forced splitting: weight (probability per photon) and the new momenta."""

    weight: float
    m_pair: float
    z: float
    lepton_minus: FourVec
    lepton_plus: FourVec
    gstar: FourVec
    recoiler: FourVec


def kroll_wada_density(m: float, m_lepton: float, alpha: float = 1 / 137.035999) -> float:
    """dP/dm [1/GeV] of γ* → ℓ⁺ℓ⁻ per photon: (2α/3π m)(1 + 2m_ℓ²/m²)√(1 − 4m_ℓ²/m²).

    The quasi-collinear factorisation of virtual-photon emission (Kroll & Wada, Phys. Rev.
    98 (1955) 1355) without any ordering limit; used to cross-check the kernel.

    >>> round(kroll_wada_density(0.1, M_ELECTRON_GEV), 5)
    0.01549
    >>> kroll_wada_density(0.2, M_MUON_GEV)
    0.0
    """
    if m <= 2 * m_lepton:
        return 0.0
    r = sq(m_lepton / m)
    return 2 * alpha / (3 * math.pi * m) * (1 + 2 * r) * math.sqrt(1 - 4 * r)


def no_split_probability(scale_gev: float, pt_gev: float, alpha: float) -> float:
    """Approximate Sudakov factor: probability that a photon produced at p_T = ``scale_gev``
    has not split (into any lepton or quark pair) above ``pt_gev``.

    Uses the massless z-integral 2/3 per unit squared charge, with thresholds at p_T = m_f/2
    for leptons and ``TimeShower:pTminChgQ`` for quarks (Σ 3 e_q² = 11/3 for 5 flavours), as
    in Pythia's photon evolution. A correction of a few per cent.

    >>> 0.93 < no_split_probability(30.0, 0.001, 1 / 132) < 0.96
    True
    >>> no_split_probability(1.0, 2.0, 1 / 137)
    1.0
    """
    if pt_gev >= scale_gev:
        return 1.0
    expo = 0.0
    for m_thr, chg2 in ((M_ELECTRON_GEV / 2, 1.0), (M_MUON_GEV / 2, 1.0), (M_TAU_GEV / 2, 1.0),
                        (PT_MIN_CHG_Q_GEV, 11.0 / 3.0)):
        lo = max(pt_gev, m_thr)
        if scale_gev > lo:
            expo += chg2 * (2.0 / 3.0) * math.log(sq(scale_gev) / sq(lo))
    return math.exp(-alpha / (2 * math.pi) * expo)


def _lambda(a: float, b: float, c: float) -> float:
    return max(0.0, a * a + b * b + c * c - 2 * a * b - 2 * a * c - 2 * b * c)


def _boost(p: FourVec, b: tuple[float, float, float]) -> FourVec:
    """Boost four-vector ``p`` by velocity ``b`` (from the rest frame to the moving frame)."""
    bx, by, bz = b
    b2 = bx * bx + by * by + bz * bz
    if b2 <= 0.0:
        return p
    g = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * p[1] + by * p[2] + bz * p[3]
    g2 = (g - 1.0) / b2
    return (
        g * (p[0] + bp),
        p[1] + g2 * bp * bx + g * bx * p[0],
        p[2] + g2 * bp * by + g * by * p[0],
        p[3] + g2 * bp * bz + g * bz * p[0],
    )


def _m2(p: FourVec) -> float:
    return p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3]


def force_split(
    photon: FourVec,
    recoiler: FourVec,
    *,
    scale_gev: float,
    m_lepton: float,
    rng: np.random.Generator,
    alpha_em: Callable[[float], float],
    m_min_gev: float = M_MIN_PAIR_GEV,
    m_max_gev: float = M_MAX_GAMMA_GEV,
    sudakov: bool = True,
) -> Split | None:
    """Split ``photon`` into ℓ⁻ℓ⁺ (lepton mass ``m_lepton``), recoiling against ``recoiler``.

    Returns ``None`` if the sampled point is outside Pythia's phase space (weight zero;
    such points are part of the importance sampling and must be counted as tries).
    ``alpha_em(Q2)``: the running coupling at the splitting's p_T² (Pythia's
    ``coupSM.alphaEM``). ``scale_gev``: the photon's production scale (p_T ordering).
    ``sudakov``: include the no-earlier-splitting factor (off only for tests of the kernel).
    """
    s = _m2((photon[0] + recoiler[0], photon[1] + recoiler[1], photon[2] + recoiler[2],
             photon[3] + recoiler[3]))
    m_rec2 = max(0.0, _m2(recoiler))
    m_rec = math.sqrt(m_rec2)
    if s <= m_rec2:
        return None
    sqrt_s = math.sqrt(s)
    m2_dip_corr = sq(sqrt_s - m_rec)
    m_lo = max(m_min_gev, 2.0 * m_lepton * (1.0 + 1e-12))
    m_hi = min(m_max_gev, sqrt_s - m_rec)
    if m_hi <= m_lo:
        return None
    log_range = 2.0 * math.log(m_hi / m_lo)  # range of ln m²
    u_m, z, u_phi = rng.random(3)
    m2 = (m_lo * m_lo) * math.exp(log_range * u_m)
    m = math.sqrt(m2)
    pt2 = z * (1.0 - z) * m2
    # Ordering and Pythia's phase-space limits (SimpleTimeShower::pT2nextQED).
    if pt2 >= scale_gev * scale_gev or 4.0 * pt2 >= m2_dip_corr:
        return None
    z_min = 0.5 - math.sqrt(0.25 - pt2 / m2_dip_corr)
    if not (z_min < z < 1.0 - z_min):
        return None
    if m2 * s >= z * (1.0 - z) * sq(s + m2 - m_rec2):
        return None
    rho = m2 / m2_dip_corr
    r = m_lepton * m_lepton / m2
    beta_l = math.sqrt(max(0.0, 1.0 - 4.0 * r))
    zc = ((1.0 + rho) * z - rho) / (1.0 - rho)
    kernel = beta_l * (zc * zc + sq(1 - zc) + 8 * r * zc * (1 - zc)) * (1 + rho) * sq(1 - rho)
    if kernel <= 0.0:
        return None

    # Kinematics in the dipole rest frame: γ* (mass m) and recoiler back to back along the
    # original directions; the lepton takes energy fraction z of the γ*.
    ptot = (photon[0] + recoiler[0], photon[1] + recoiler[1], photon[2] + recoiler[2],
            photon[3] + recoiler[3])
    bvec = (ptot[1] / ptot[0], ptot[2] / ptot[0], ptot[3] / ptot[0])
    k_rest = _boost(photon, (-bvec[0], -bvec[1], -bvec[2]))
    kn = math.sqrt(sq(k_rest[1]) + sq(k_rest[2]) + sq(k_rest[3]))
    n = (k_rest[1] / kn, k_rest[2] / kn, k_rest[3] / kn)
    q = math.sqrt(_lambda(s, m2, m_rec2)) / (2.0 * sqrt_s)
    e_star = (s + m2 - m_rec2) / (2.0 * sqrt_s)
    e_rec = (s - m2 + m_rec2) / (2.0 * sqrt_s)
    # Kinematics as SimpleTimeShower::branch: z is the lepton's energy fraction of the γ*
    # in the dipole rest frame (massless leptons; pT2corr there), i.e. the decay angle in
    # the γ* rest frame, relative to the γ* direction in the dipole frame, has
    # cos θ* = (2z − 1)/β*, β* = q/E* the γ* velocity. The phase-space check above is
    # exactly |2z − 1| < β*. Lepton masses: the same angle, momentum β_ℓ m/2 (as Pythia's
    # massive reduction). (cos θ* = 2z − 1 until 2026-12-01: docs/background.md §14.)
    cos_t = max(-1.0, min(1.0, (2.0 * z - 1.0) * e_star / q))
    sin_t = math.sqrt(1.0 - cos_t * cos_t)
    phi = 2.0 * math.pi * u_phi
    # Orthonormal basis (n, e1, e2).
    a = (1.0, 0.0, 0.0) if abs(n[0]) < 0.9 else (0.0, 1.0, 0.0)
    e1 = (n[1] * a[2] - n[2] * a[1], n[2] * a[0] - n[0] * a[2], n[0] * a[1] - n[1] * a[0])
    e1n = math.sqrt(sum(c * c for c in e1))
    e1 = (e1[0] / e1n, e1[1] / e1n, e1[2] / e1n)
    e2 = (n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0])
    pl = 0.5 * m * beta_l
    dirl = tuple(cos_t * n[i] + sin_t * (math.cos(phi) * e1[i] + math.sin(phi) * e2[i])
                 for i in range(3))
    l1_rf: FourVec = (0.5 * m, pl * dirl[0], pl * dirl[1], pl * dirl[2])
    l2_rf: FourVec = (0.5 * m, -pl * dirl[0], -pl * dirl[1], -pl * dirl[2])
    bg = (q / e_star * n[0], q / e_star * n[1], q / e_star * n[2])
    to_lab = bvec
    l1 = _boost(_boost(l1_rf, bg), to_lab)
    l2 = _boost(_boost(l2_rf, bg), to_lab)
    gstar = _boost((e_star, q * n[0], q * n[1], q * n[2]), to_lab)
    rec = _boost((e_rec, -q * n[0], -q * n[1], -q * n[2]), to_lab)
    alpha = alpha_em(pt2)
    no_split = no_split_probability(scale_gev, math.sqrt(pt2), alpha) if sudakov else 1.0
    weight = alpha / (2.0 * math.pi) * log_range * kernel * no_split
    return Split(weight, m, z, l1, l2, gstar, rec)


def integrated_probability(
    photon: FourVec,
    recoiler: FourVec,
    *,
    scale_gev: float,
    m_lepton: float,
    alpha_em: Callable[[float], float],
    n: int = 20000,
    seed: int = 1,
    m_min_gev: float = M_MIN_PAIR_GEV,
    m_max_gev: float = M_MAX_GAMMA_GEV,
) -> float:
    """Monte Carlo estimate of the total splitting probability of one photon (mean weight).

    >>> ph, rec = (50.0, 0.0, 0.0, 50.0), (50.0, 0.0, 0.0, -50.0)
    >>> p = integrated_probability(ph, rec, scale_gev=40.0, m_lepton=M_ELECTRON_GEV,
    ...                            alpha_em=lambda q2: 1 / 137.036, n=4000)
    >>> bool(0.0095 < p < 0.0110)  # (α/3π) ln(m_max²/m_min²) = 0.0107, minus Sudakov, ρ terms
    True
    """
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(n):
        sp = force_split(photon, recoiler, scale_gev=scale_gev, m_lepton=m_lepton, rng=rng,
                         alpha_em=alpha_em, m_min_gev=m_min_gev, m_max_gev=m_max_gev)
        if sp is not None:
            total += sp.weight
    return total / n
