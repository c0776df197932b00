"""Dark-neutrino model quantities for the neutrino-experiment recasts (widths, decay lengths, scaling).

Conventions (spec §1; interfaces "Reference model point"):

- The N_D – ν – Z_D vertex has coupling V with |V|² = g_D² |U_μ4|² (|U_D4| = 1, the
  DarkNews ``UD4 = 1`` setting used for generation), g_D² = 4π α_D. On the neutrino side
  α_D = 0.25 (seeds 000, 004), i.e. g_D ≈ 1.77, not the LHC-side g_D = 0.25.
- Γ(N_D → ν Z_D) = |V|² m_N³ / (32π m_Z²) (1 − r²)² (1 + 2r²), r = m_Z/m_N (spec §1).
  DarkNews 0.4.8 ``gamma_Ni_to_Nj_V`` is smaller than this by (m_N/m_Z)², so it is not used.
- Γ(Z_D → ℓℓ) = (αε²/3) m (1 + 2m_ℓ²/m²) √(1 − 4m_ℓ²/m²) (spec §1), only e⁺e⁻ and μ⁺μ⁻
  (the recasts use m_Z' ≲ 0.2 GeV, below the hadronic threshold; above 2 m_π the hadronic
  width is missing and :func:`ctau_zd_mm` refuses).
- The recast signal rate is ∝ |U_μ4|² · α_D · αε² (upscattering via Z_D exchange,
  BR(N_D → ν Z_D) = BR(Z_D → e⁺e⁻) = 1 for m_N > m_Z' and m_Z' < 2 m_μ). The scaling is
  exact while both decays are prompt on the detector scale: :func:`decays_are_prompt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from darknu.errors import ParameterError, check_range

#: ħc in GeV·mm (PDG 2024).
HBARC_GEV_MM = 1.973269804e-13
#: electron and muon masses in GeV (PDG 2024).
M_E_GEV = 0.51099895e-3
M_MU_GEV = 0.1056583755
#: charged-pion mass in GeV (PDG): above 2 m_π the Z_D has hadronic decays not modelled here.
M_PI_GEV = 0.13957039

#: |U_μ4|² at which signal samples are normalised (interfaces, "Reference model point").
U2_REF = 1e-4
#: neutrino-side benchmark (spec §1, seeds 000/004): m_Z' = 30 MeV, α_D = 0.25, αε² = 2e-10.
ALPHA_D_REF = 0.25
ALPHA_EPS2_REF = 2e-10
M_ZD_REF_GEV = 0.03


@dataclass(frozen=True)
class Couplings:
    """Couplings of one model point: |U_μ4|², α_D (= g_D²/4π) and αε²."""

    U2: float = U2_REF
    alpha_D: float = ALPHA_D_REF
    alpha_eps2: float = ALPHA_EPS2_REF

    def __post_init__(self) -> None:
        check_range("|U_mu4|^2", self.U2, low=0.0, low_inclusive=True, high=1.0, high_inclusive=True)
        check_range("alpha_D", self.alpha_D, low=0.0, low_inclusive=True)
        check_range("alpha_eps2", self.alpha_eps2, low=0.0, low_inclusive=True)


REFERENCE = Couplings()


def rate_scale(couplings: Couplings, *, reference: Couplings = REFERENCE) -> float:
    """Factor by which a yield generated at ``reference`` scales to ``couplings``.

    Rate ∝ |U_μ4|² α_D αε² (prompt decays, BRs = 1):

    >>> rate_scale(Couplings(U2=2e-4))
    2.0
    >>> round(rate_scale(Couplings(alpha_D=0.5, alpha_eps2=1e-10)), 12)
    1.0
    """
    return (
        (couplings.U2 / reference.U2)
        * (couplings.alpha_D / reference.alpha_D)
        * (couplings.alpha_eps2 / reference.alpha_eps2)
    )


def width_n_to_nu_zd(m_N: float, m_ZD: float, *, U2: float, alpha_D: float) -> float:
    """Γ(N_D → ν Z_D) in GeV, spec §1, with |V|² = 4π α_D |U_μ4|².

    >>> g = width_n_to_nu_zd(0.2, 0.03, U2=1e-4, alpha_D=0.25)
    >>> round(g / (math.pi * 1e-4 * 0.2**3 / (32 * math.pi * 0.03**2)), 4)  # (1-r²)²(1+2r²)
    0.9985
    """
    m_N = check_range("m_N", m_N, low=0.0, unit="GeV")
    m_ZD = check_range("m_ZD", m_ZD, low=0.0, unit="GeV")
    if m_ZD >= m_N:
        raise ParameterError(f"N_D -> nu Z_D needs m_N > m_ZD; got m_N = {m_N} GeV, m_ZD = {m_ZD} GeV")
    r2 = (m_ZD / m_N) ** 2
    v2 = 4.0 * math.pi * alpha_D * U2
    return v2 * m_N**3 / (32.0 * math.pi * m_ZD**2) * (1.0 - r2) ** 2 * (1.0 + 2.0 * r2)


def width_zd_to_ll(m_ZD: float, m_l: float, *, alpha_eps2: float) -> float:
    """Γ(Z_D → ℓ⁺ℓ⁻) in GeV (spec §1); zero below threshold.

    >>> round(HBARC_GEV_MM / width_zd_to_ll(0.03, M_E_GEV, alpha_eps2=2e-10), 4)  # cτ ≈ 0.1 mm
    0.0987
    """
    if m_ZD <= 2 * m_l:
        return 0.0
    x = (m_l / m_ZD) ** 2
    return alpha_eps2 / 3.0 * m_ZD * (1.0 + 2.0 * x) * math.sqrt(1.0 - 4.0 * x)


def ctau_n_mm(m_N: float, m_ZD: float, *, U2: float, alpha_D: float) -> float:
    """Proper decay length cτ of N_D in mm from the analytic width."""
    return HBARC_GEV_MM / width_n_to_nu_zd(m_N, m_ZD, U2=U2, alpha_D=alpha_D)


def ctau_zd_mm(m_ZD: float, *, alpha_eps2: float) -> float:
    """Proper decay length cτ of Z_D in mm (leptonic widths only; refuses above 2 m_π)."""
    m_ZD = check_range("m_ZD", m_ZD, low=2 * M_E_GEV, high=2 * M_PI_GEV, unit="GeV")
    gamma = width_zd_to_ll(m_ZD, M_E_GEV, alpha_eps2=alpha_eps2) + width_zd_to_ll(
        m_ZD, M_MU_GEV, alpha_eps2=alpha_eps2
    )
    return HBARC_GEV_MM / gamma


def br_zd_ee(m_ZD: float) -> float:
    """BR(Z_D → e⁺e⁻) for 2 m_e < m_ZD < 2 m_π (leptons only)."""
    ee = width_zd_to_ll(m_ZD, M_E_GEV, alpha_eps2=1.0)
    mm = width_zd_to_ll(m_ZD, M_MU_GEV, alpha_eps2=1.0)
    return ee / (ee + mm)


def decays_are_prompt(
    m_N: float,
    m_ZD: float,
    couplings: Couplings,
    *,
    max_momentum_GeV: float,
    detector_scale_mm: float = 2000.0,
    max_fraction: float = 0.05,
) -> bool:
    """True if N_D and Z_D decay lengths (βγcτ at ``max_momentum_GeV``) are < ``max_fraction`` of the detector.

    ``detector_scale_mm`` is the smallest fiducial dimension (MINERvA ≈ 2 m; CHARM-II and
    MiniBooNE are larger). A Z_D flying a few cm before converting changes neither the
    acceptance nor the shower variables of these calorimeters.

    Under this condition the yield is exactly linear in |U_μ4|² and in α_D·αε²; otherwise
    the decay-in-volume probability depends on the couplings as well.

    >>> decays_are_prompt(0.2, 0.03, REFERENCE, max_momentum_GeV=20.0)
    True
    """
    l_n = max_momentum_GeV / m_N * ctau_n_mm(m_N, m_ZD, U2=couplings.U2, alpha_D=couplings.alpha_D)
    l_z = max_momentum_GeV / m_ZD * ctau_zd_mm(m_ZD, alpha_eps2=couplings.alpha_eps2)
    return max(l_n, l_z) < max_fraction * detector_scale_mm


def prompt_fraction(
    p_zd: np.ndarray,
    weights: np.ndarray,
    *,
    m_N: float,
    m_ZD: float,
    couplings: Couplings,
    detector_scale_mm: float,
    max_fraction: float = 0.05,
) -> float:
    """Weighted fraction of events whose lab-frame N_D + Z_D flight (mean βγcτ) is < ``max_fraction`` of the detector.

    ``p_zd`` are the Z_D three-momenta in GeV ((n, 3); N_D's momentum is bounded by the same
    scale). When this is ≈ 1 the yield scales exactly linearly with the couplings.

    >>> prompt_fraction(np.array([[0, 0, 5.0]]), np.ones(1), m_N=0.2, m_ZD=0.03,
    ...                 couplings=REFERENCE, detector_scale_mm=2000.0)
    1.0
    """
    p = np.linalg.norm(np.asarray(p_zd, dtype=float), axis=1)
    l_z = p / m_ZD * ctau_zd_mm(m_ZD, alpha_eps2=couplings.alpha_eps2)
    l_n = p / m_N * ctau_n_mm(m_N, m_ZD, U2=couplings.U2, alpha_D=couplings.alpha_D)
    ok = (l_z + l_n) < max_fraction * detector_scale_mm
    return float(np.sum(weights[ok]) / np.sum(weights))
