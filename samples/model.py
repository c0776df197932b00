"""Physics of the dark-neutrino model: widths, lifetimes, branching fractions, cross sections.

Units: masses and widths in GeV, cτ in mm, cross sections in pb.

Model (analysis spec §1; seed 003, Herwig et al., PRD 109 075049 (2024), arXiv:2310.13042):
a Dirac dark neutrino N_D mixing with ν_μ through |U_μ4|², and a dark photon Z_D kinetically
mixed with the photon (ε, quoted as αε²).

- Z_D: partial widths to leptons from spec §1 / seed 003 eq. (8) without the m_ℓ → 0
  limit; total width and branching fractions from the DarkCast v1 table shipped in
  ``samples/data/dark_photon_bfrac_darkcast_v1.csv`` (Ilten, Soreq, Williams, Xue, JHEP 06
  (2018) 004; provenance in ``samples/data/README_darkcast.md``), Γ(ε) = ε² Γ(ε = 1).
- N_D → ν Z_D: Γ = |V|² m_N³/(32π m_Z²)(1 − r²)²(1 + 2r²), r = m_Z/m_N, for the coupling
  ``L ⊃ V Z_D_μ ν̄ γ^μ P_L N + h.c.`` (the t → bW formula with g/√2 → V). Seed 003 eq. (6),
  Γ ≃ g_D²|U_μ4|² m_N³/(8π m_Z²), is its r → 0 limit with |V|² = 4 g_D² |U_μ4|²: that
  factor 4 is the seed's coupling normalisation (vector rather than left-handed current,
  and its own g_D), not a different physics result. N_D is prompt (cτ ~ nm) at every
  point of interest; the analysis only uses BR(N_D → ν Z_D) = 1.
- W → μ N_D: BR = |U_μ4|² · BR(W → μν) · f(x), x = m_N²/m_W², with the two-body V−A
  phase-space factor f(x) = (1 − x)²(1 + x/2) (derived below in :func:`w_phase_space_factor`).
"""

from __future__ import annotations

import functools
import logging
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from darknu.errors import ConfigError, ParameterError, check_range

log = logging.getLogger(__name__)

#: Reference |U_μ4|² at which signal samples are normalised (docs/interfaces.md).
U2_REF = 1e-4
#: W mass [GeV], PDG 2024 (RPP, "W boson" listing: 80.3692 ± 0.0133 GeV).
M_W_GEV = 80.3692
#: Z mass [GeV], PDG 2024.
M_Z_GEV = 91.1880
#: Lepton masses [GeV], PDG 2024.
M_E_GEV = 0.51099895e-3
M_MU_GEV = 0.1056583755
M_TAU_GEV = 1.77686
#: Fine-structure constant at q² = 0 (CODATA 2018; DarkCast v1 uses 1/137.036).
ALPHA_EM = 1.0 / 137.035999084
#: ħc [GeV mm] (CODATA 2018: 197.3269804 MeV fm).
HBARC_GEV_MM = 1.973269804e-13
#: Dark-sector couplings of the reference point (seed 003; spec §1).
ALPHA_EPS2_REF = 2e-10
G_D_REF = 0.25

_DARKCAST_FILE = "dark_photon_bfrac_darkcast_v1.csv"
_XSEC_FILE = "cross_sections.toml"


def _data_path(name: str) -> Path:
    return Path(str(resources.files("samples") / "data" / name))


# --------------------------------------------------------------------------- Z_D


@dataclass(frozen=True)
class _DarkcastTable:
    mass: np.ndarray
    br: dict[str, np.ndarray]
    gamma_eps1: np.ndarray


@functools.lru_cache(maxsize=1)
def _darkcast() -> _DarkcastTable:
    path = _data_path(_DARKCAST_FILE)
    data = np.genfromtxt(path, delimiter=",", names=True)
    return _DarkcastTable(
        mass=np.asarray(data["mass_GeV"]),
        br={
            "ee": np.asarray(data["BR_ee"]),
            "mumu": np.asarray(data["BR_mumu"]),
            "tautau": np.asarray(data["BR_tautau"]),
            "hadrons": np.asarray(data["BR_hadrons_light"]) + np.asarray(data["BR_ccbar_bbbar"]),
            "gamma3": np.asarray(data["BR_3gamma"]),
        },
        gamma_eps1=np.asarray(data["Gamma_eps1_GeV"]),
    )


#: Validity range of m_ZD [GeV]: the DarkCast table (1 MeV - 10 GeV) above the e⁺e⁻
#: threshold (the table's first grid point with an open e⁺e⁻ channel is 1.031 MeV).
M_ZD_MIN_GEV = 0.00104
M_ZD_MAX_GEV = 10.0


def _check_mzd(m_ZD_GeV: float) -> float:
    return check_range(
        "m_ZD",
        m_ZD_GeV,
        low=M_ZD_MIN_GEV,
        high=M_ZD_MAX_GEV,
        low_inclusive=True,
        high_inclusive=True,
        unit="GeV",
    )


def _check_alpha_eps2(alpha_eps2: float) -> float:
    # ε ≤ 1 means αε² ≤ α.
    return check_range("alpha_eps2", alpha_eps2, low=0.0, high=ALPHA_EM, high_inclusive=True)


def zd_width_ll_gev(m_ZD_GeV: float, alpha_eps2: float, *, lepton: str = "e") -> float:
    """Γ(Z_D → ℓ⁺ℓ⁻) [GeV] = (αε²/3) m (1 + 2m_ℓ²/m²) √(1 − 4m_ℓ²/m²) (spec §1; seed 003 eq. 8).

    >>> round(zd_width_ll_gev(0.03, 2e-10) / (2e-10 / 3 * 0.03), 6)   # m_e ≪ m: the seed's limit
    0.999999
    >>> zd_width_ll_gev(0.1, 2e-10, lepton="mu")   # below the μμ threshold
    0.0
    """
    m = _check_mzd(m_ZD_GeV)
    a = _check_alpha_eps2(alpha_eps2)
    masses = {"e": M_E_GEV, "mu": M_MU_GEV, "tau": M_TAU_GEV}
    if lepton not in masses:
        raise ParameterError(f"unknown lepton {lepton!r}; valid: e, mu, tau")
    r2 = (masses[lepton] / m) ** 2
    if 4 * r2 >= 1:
        return 0.0
    return a / 3 * m * (1 + 2 * r2) * math.sqrt(1 - 4 * r2)


def zd_total_width_gev(m_ZD_GeV: float, alpha_eps2: float) -> float:
    """Total Z_D width [GeV] from the DarkCast table: Γ = (ε²) Γ_ε=1, ε² = αε²/α.

    Interpolated linearly in (log m, log Γ) between grid points (exact for Γ ∝ m, the
    leptonic regime; the grid is fine enough near resonances, see the table README).

    >>> round(zd_total_width_gev(0.1, ALPHA_EM) / (ALPHA_EM * 0.1 / 3), 3)  # ε = 1, ee only
    1.0
    """
    m = _check_mzd(m_ZD_GeV)
    a = _check_alpha_eps2(alpha_eps2)
    t = _darkcast()
    log_g = np.interp(math.log(m), np.log(t.mass), np.log(t.gamma_eps1))
    return float(a / ALPHA_EM * math.exp(log_g))


def zd_ctau_mm(m_ZD_GeV: float, alpha_eps2: float) -> float:
    """Proper decay length cτ [mm] of the Z_D: ħc / Γ_tot.

    Check of spec §1 / seed 003 eq. (8): m = 30 MeV, αε² = 2e-10 → cτ ≈ 0.1 mm.

    >>> round(zd_ctau_mm(0.03, 2e-10), 4)
    0.0987
    """
    return HBARC_GEV_MM / zd_total_width_gev(m_ZD_GeV, alpha_eps2)


def zd_branching(m_ZD_GeV: float) -> dict[str, float]:
    """Branching fractions of the Z_D (independent of ε) from the DarkCast table.

    Keys ``ee``, ``mumu``, ``tautau``, ``hadrons`` (light VMD + perturbative c, b) and
    ``gamma3`` (only below 2 m_e, outside :data:`M_ZD_MIN_GEV`). Linear interpolation in
    mass, as the table README recommends.

    >>> b = zd_branching(0.03); (b["ee"], b["mumu"])
    (1.0, 0.0)
    >>> b = zd_branching(0.5); round(b["ee"] + b["mumu"] + b["hadrons"], 6)
    1.0
    """
    m = _check_mzd(m_ZD_GeV)
    t = _darkcast()
    return {k: float(np.interp(m, t.mass, v)) for k, v in t.br.items()}


# --------------------------------------------------------------------------- N_D


def nd_width_gev(m_N_GeV: float, m_ZD_GeV: float, *, V2: float) -> float:
    """Γ(N_D → ν Z_D) [GeV] = |V|² m_N³/(32π m_Z²) (1 − r²)² (1 + 2r²), r = m_Z/m_N.

    ``V2`` = |V|² of ``L ⊃ V Z_D_μ ν̄ γ^μ P_L N + h.c.``; seed 003 eq. (6) corresponds to
    ``V2 = 4 g_D² |U_μ4|²`` (see the module docstring). Seed 003 quotes cτ = 45 nm / g_D²
    for |U|² = 1e-7, m_N = 100 MeV, m_Z = 30 MeV in the r → 0 limit:

    >>> g = nd_width_gev(0.1, 0.03, V2=4 * 1e-7)   # g_D = 1
    >>> r2 = 0.09
    >>> round(HBARC_GEV_MM / (g / ((1 - r2) ** 2 * (1 + 2 * r2))) * 1e6, 1)  # nm, r → 0 form
    44.6
    """
    m_n = check_range("m_N", m_N_GeV, low=0.0, unit="GeV")
    m_z = check_range("m_ZD", m_ZD_GeV, low=0.0, high=m_n, unit="GeV")
    v2 = check_range("V2", V2, low=0.0)
    r2 = (m_z / m_n) ** 2
    return v2 * m_n**3 / (32 * math.pi * m_z**2) * (1 - r2) ** 2 * (1 + 2 * r2)


def nd_ctau_mm(
    m_N_GeV: float, m_ZD_GeV: float, *, U2: float = U2_REF, g_D: float = G_D_REF
) -> float:
    """N_D proper decay length [mm] in the seed-003 convention, |V|² = 4 g_D² |U_μ4|²."""
    return HBARC_GEV_MM / nd_width_gev(m_N_GeV, m_ZD_GeV, V2=4 * g_D**2 * U2)


# --------------------------------------------------------------------------- W → μ N


def w_phase_space_factor(m_N_GeV: float, *, m_W_GeV: float = M_W_GEV) -> float:
    """Γ(W → ℓN)/(|U|² Γ(W → ℓν)) for a massive N and massless ℓ: (1 − x)²(1 + x/2).

    Derivation: for W → f₁f̄₂ through (g/√2) f̄₁γ^μ P_L f₂ W_μ, the polarisation-averaged
    width is Γ = g² m_W/(48π) λ^½(1, x₁, x₂) [1 − (x₁ + x₂)/2 − (x₁ − x₂)²/2], x_i = m_i²/m_W²
    (e.g. Atre, Han, Pascoli, Zhang, JHEP 05 (2009) 030, arXiv:0901.3589, appendix). With
    x₁ = 0, x₂ = x: λ^½ = 1 − x and the bracket is 1 − x/2 − x²/2 = (1 − x)(1 + x/2).
    The change of the total W width (O(|U|²)) is neglected.

    >>> w_phase_space_factor(0.0)
    1.0
    >>> round(w_phase_space_factor(40.0), 4)    # x = 0.2477: 0.5659 × 1.1239
    0.636
    """
    m = check_range("m_N", m_N_GeV, low=0.0, high=m_W_GeV, low_inclusive=True, unit="GeV")
    x = (m / m_W_GeV) ** 2
    return (1 - x) ** 2 * (1 + x / 2)


# --------------------------------------------------------------------------- cross sections


@dataclass(frozen=True)
class CrossSection:
    """One entry of ``samples/data/cross_sections.toml``: value [pb] and its source."""

    process: str
    sqrt_s_TeV: float
    xsec_pb: float
    source: str


@functools.lru_cache(maxsize=4)
def _xsec_table(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"cross-section table {p} does not exist")
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: {exc}") from exc


def cross_section(
    process: str, sqrt_s_TeV: float, *, table: str | Path | None = None
) -> CrossSection:
    """Look up ``process`` at ``sqrt_s_TeV`` in the cross-section table (default: shipped one).

    >>> cross_section("W_munu", 13).xsec_pb
    20600.0
    >>> cross_section("W_munu", 8)
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: sqrt_s_TeV = 8 has no W_munu cross section; valid: 13, 14
    """
    path = Path(table) if table is not None else _data_path(_XSEC_FILE)
    data = _xsec_table(str(path))
    if process not in data:
        raise ParameterError(f"unknown process {process!r}; valid: {', '.join(sorted(data))}")
    entry = data[process]
    s = check_range("sqrt_s_TeV", sqrt_s_TeV, low=0.0, unit="TeV")
    key = f"{s:g}"
    energies = sorted(k for k, v in entry.items() if isinstance(v, dict))
    if key not in energies:
        raise ParameterError(
            f"sqrt_s_TeV = {sqrt_s_TeV:g} has no {process} cross section; "
            f"valid: {', '.join(energies)}"
        )
    rec = entry[key]
    try:
        value = float(rec["xsec_pb"])
        source = str(rec["source"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: [{process}.{key}] needs xsec_pb (number) and source ({exc})"
        ) from exc
    return CrossSection(process=process, sqrt_s_TeV=s, xsec_pb=value, source=source)


def cross_section_pb(process: str, sqrt_s_TeV: float, *, table: str | Path | None = None) -> float:
    """Cross section [pb] of ``process`` at ``sqrt_s_TeV`` (see :func:`cross_section`)."""
    return cross_section(process, sqrt_s_TeV, table=table).xsec_pb


# --------------------------------------------------------------------------- signal point


@dataclass(frozen=True)
class SignalPoint:
    """A validated signal model point (masses in GeV)."""

    m_N: float
    m_ZD: float
    alpha_eps2: float = ALPHA_EPS2_REF
    g_D: float = G_D_REF
    sqrt_s_TeV: float = 13.0

    def __post_init__(self) -> None:
        m_n = check_range("m_N", self.m_N, low=0.0, high=M_W_GEV, unit="GeV")
        m_z = _check_mzd(self.m_ZD)
        if m_z >= m_n:
            raise ParameterError(
                f"m_ZD = {self.m_ZD} GeV must be < m_N = {self.m_N} GeV "
                "(N_D -> nu Z_D must be open)"
            )
        _check_alpha_eps2(self.alpha_eps2)
        check_range("g_D", self.g_D, low=0.0, high=math.sqrt(4 * math.pi), high_inclusive=True)
        cross_section("W_munu", self.sqrt_s_TeV)  # validates sqrt_s
        for f in ("m_N", "m_ZD", "alpha_eps2", "g_D", "sqrt_s_TeV"):
            object.__setattr__(self, f, float(getattr(self, f)))

    @property
    def sample_name(self) -> str:
        """AGC sample name, ``signal_mN{m_N:g}_mZD{m_ZD:g}`` (docs/interfaces.md §1)."""
        return f"signal_mN{self.m_N:g}_mZD{self.m_ZD:g}"


def signal_cross_section_pb(
    m_N_GeV: float, m_ZD_GeV: float, *, U2: float = U2_REF, sqrt_s_TeV: float = 13.0
) -> float:
    """σ(pp → W → μ N_D → μ ν Z_D → μ ν ℓℓ) [pb], ℓ = e, μ.

    = σ(pp → W → μν) · |U_μ4|² · f(m_N²/m_W²) · BR(N_D → ν Z_D) · BR(Z_D → ee + μμ), with
    BR(N_D → ν Z_D) = 1 (its only channel for m_N < m_W in this model, spec §1).

    >>> round(signal_cross_section_pb(10.0, 0.03), 4)   # 20.6 nb × 1e-4 × f(x)
    2.0122
    """
    point = SignalPoint(m_N=m_N_GeV, m_ZD=m_ZD_GeV, sqrt_s_TeV=sqrt_s_TeV)
    u2 = check_range("U2", U2, low=0.0, high=1.0, high_inclusive=True)
    br = zd_branching(point.m_ZD)
    return (
        cross_section_pb("W_munu", point.sqrt_s_TeV)
        * u2
        * w_phase_space_factor(point.m_N)
        * (br["ee"] + br["mumu"])
    )
