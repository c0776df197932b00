"""MiniBooNE ν-mode electron-like excess as pyhf channel ``miniboone_nu``, and the preferred region.

Data: official releases (fits/data/neutrino/README.md): 2020 (18.75e20 POT, PRD 103
052002) or 2018 (12.84e20 POT, PRL 121 221801); 11 E_QE bins 200–3000 MeV, the released
ν_e background prediction, ν_μ CCQE data/prediction and the 30×30 fractional covariance.

Covariance prescription (release README): absolute covariance = fractional × N_i N_j for
N = (signal, ν_e background, ν_μ prediction); here the oscillation-"signal" block is set
to zero (it describes the flux/cross-section errors of an oscillation signal, not of
coherent upscattering: the new-physics signal gets the flux normsys below instead). The
ν_μ constraint is applied by Gaussian conditioning of the (ν_e bkg, ν_μ) systematic
covariance on the observed ν_μ counts (ν_μ statistical variance added to its block):
b' = b + C_eμ (C_μμ + D_μ)⁻¹ (n_μ − p_μ), C' = C_ee − C_eμ (C_μμ + D_μ)⁻¹ C_μe.
pyhf has no full-covariance modifier: C' is decomposed into eigenvectors, C' = Σ λ_k v_k v_kᵀ,
and each λ_k > 1e-6 λ_max becomes a correlated ``histosys`` on the background with
up/down templates b' ± √λ_k v_k (a unit-Gaussian nuisance each). With the linear
interpolation of histosys this reproduces C' exactly; ν_e statistics are Poisson.

Signal: DarkNews ``miniboone_fhc`` (18.75e20 POT; scaled by POT for 2018), coherent and
incoherent (proton-elastic) upscattering (recoil protons are mostly below Cherenkov
threshold). The e⁺e⁻ pair is one electron-like ring if θ_ee < ``max_opening_rad``
(0.22 rad ≈ 13°, assumption). Efficiency: the official γ/e reconstruction + selection
efficiency vs energy (2012 release) evaluated at the pair energy. Resolution (memory,
MiniBooNE NIM A 599 (2009) 28): σ_E/E = 12%/√E, σ_θ = 3.8°. E_QE with the CCQE electron
formula (binding 34 MeV), as MiniBooNE reconstructs electron-like events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyhf

from darknu.errors import check_choice
from fits.recast.common import (
    as_list,
    normsys,
    pair_shower,
    poi_modifier,
    read_matrix,
    read_table,
    rng_for,
    smear_shower,
    workspace_spec,
)
from fits.recast.generate import EXPERIMENTS, SignalEvents

log = logging.getLogger(__name__)

RELEASES = {"2020": 18.75e20, "2018": 12.84e20}  #: POT of each ν-mode release
RES_STOCH = 0.12  #: σ_E/E·√E (memory)
SIGMA_THETA_RAD = np.deg2rad(3.8)  #: (memory)
FLUX_UNCERTAINTY = 0.10  #: BNB flux normalisation on the signal (our choice; PRD 79 072002 quotes ~9-15%)
M_N_GEV, M_P_GEV, E_BIND_GEV = 0.93956542, 0.93827209, 0.034


@dataclass(frozen=True)
class MiniBooNEData:
    edges_GeV: np.ndarray
    data: np.ndarray
    background: np.ndarray  #: ν_μ-constrained background
    covariance: np.ndarray  #: constrained systematic covariance of the background (events²)
    background_release: np.ndarray  #: background as released (before the ν_μ constraint)


def load_data(release: str = "2020") -> MiniBooNEData:
    """ν_e data, ν_μ-constrained background and its covariance for one ν-mode release."""
    check_choice("MiniBooNE release", release, list(RELEASES))
    nue = read_table(f"miniboone_{release}_numode_nue_release.csv")
    numu = read_table(f"miniboone_{release}_numode_numu_release.csv")
    frac = read_matrix(f"miniboone_{release}_numode_fractcov_30x30.csv")
    b, pm, nm = nue["bkg_pred_events"], numu["pred_events"], numu["data_events"]
    n = np.concatenate([np.zeros(11), b, pm])  # signal block zeroed
    cov = frac * np.outer(n, n)
    c_ee, c_em, c_mm = cov[11:22, 11:22], cov[11:22, 22:], cov[22:, 22:]
    gain = c_em @ np.linalg.inv(c_mm + np.diag(pm))
    b_con = b + gain @ (nm - pm)
    c_con = c_ee - gain @ c_em.T
    c_con = 0.5 * (c_con + c_con.T)
    edges = np.append(nue["E_QE_lo_MeV"], nue["E_QE_hi_MeV"][-1]) * 1e-3
    return MiniBooNEData(edges, nue["data_events"], b_con, c_con, b)


def e_qe(energy: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """CCQE energy (GeV) of an electron-like ring of energy E and angle θ (MiniBooNE formula).

    >>> round(float(e_qe(np.array([0.5]), np.array([0.0]))[0]), 4)
    0.5333
    """
    mn = M_N_GEV - E_BIND_GEV
    me = 0.51099895e-3
    p = np.sqrt(np.maximum(energy**2 - me**2, 0.0))
    return (2 * mn * energy - (mn**2 + me**2 - M_P_GEV**2)) / (2 * (mn - energy + p * np.cos(theta)))


def efficiency(e_GeV: np.ndarray) -> np.ndarray:
    """Official γ/e efficiency vs energy (linear interpolation; 0 outside the table)."""
    t = read_table("miniboone_nue_gamma_e_efficiency_release.csv")
    return np.interp(e_GeV * 1e3, t["E_generated_MeV"], t["efficiency"], left=0.0, right=0.0)


def signal_histogram(
    events: SignalEvents, *, release: str = "2020", max_opening_rad: float = 0.22, coherent_only: bool = False
) -> np.ndarray:
    """Expected signal per E_QE bin at the reference couplings and the release's POT."""
    d = load_data(release)
    sh = pair_shower(events.p_eplus, events.p_eminus)
    rng = rng_for(events.experiment, events.m_N, events.m_ZD, events.seed, "miniboone-smear")
    e, th = smear_shower(sh, rng, stochastic=RES_STOCH, sigma_theta_rad=SIGMA_THETA_RAD)
    sel = sh.opening < max_opening_rad
    if coherent_only:
        sel &= events.coherent
    w = events.weight * efficiency(sh.energy) * (RELEASES[release] / EXPERIMENTS["miniboone_nu"].pot)
    h, _ = np.histogram(e_qe(e, th)[sel], bins=d.edges_GeV, weights=w[sel])
    return h


def cos_theta_fraction_forward(events: SignalEvents, *, cos_min: float = 0.8) -> float:
    """Fraction of the signal with cos θ > ``cos_min`` (seed 000's angular argument)."""
    sh = pair_shower(events.p_eplus, events.p_eminus)
    w = events.weight * efficiency(sh.energy)
    return float(w[np.cos(sh.theta) > cos_min].sum() / w.sum())


def load_costheta() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, data, background) of the 2020 cos θ distribution (200 < E_QE < 1250 MeV, digitised)."""
    t = read_table("miniboone_2020_numode_costheta_digitized.csv")
    return np.append(t["costheta_lo"], t["costheta_hi"][-1]), t["data_events"], t["bkg_total_events"]


def signal_costheta_histogram(events: SignalEvents, *, max_opening_rad: float = 0.22) -> np.ndarray:
    """Expected signal per cos θ bin for 200 < E_QE < 1250 MeV (2020 POT, reference couplings)."""
    edges, _, _ = load_costheta()
    sh = pair_shower(events.p_eplus, events.p_eminus)
    rng = rng_for(events.experiment, events.m_N, events.m_ZD, events.seed, "miniboone-smear")
    e, th = smear_shower(sh, rng, stochastic=RES_STOCH, sigma_theta_rad=SIGMA_THETA_RAD)
    eqe = e_qe(e, th)
    sel = (sh.opening < max_opening_rad) & (eqe > 0.2) & (eqe < 1.25)
    w = events.weight * efficiency(sh.energy) * (RELEASES["2020"] / EXPERIMENTS["miniboone_nu"].pot)
    h, _ = np.histogram(np.cos(th)[sel], bins=edges, weights=w[sel])
    return h


def build_workspace(events: SignalEvents, *, release: str = "2020", observable: str = "E_QE") -> pyhf.Workspace:
    """Workspace with channel ``miniboone_nu`` (signal at |U_μ4|² = 1e-4, μ = 1).

    ``observable="E_QE"`` (default): the official release with its covariance (module doc).
    ``observable="costheta"``: the digitised 2020 cos θ distribution (20 bins, 200–1250
    MeV); no covariance is released for it, so the background gets one normalisation
    nuisance ``miniboone_nu_bkg_norm`` with the relative size of the constrained E_QE
    covariance summed over 200–1250 MeV (≈ 5%), fully correlated across cos θ — a
    simplification (the angular shape uncertainty is not modelled). Only one of the two
    may enter a likelihood: they are the same events.
    """
    check_choice("MiniBooNE observable", observable, ["E_QE", "costheta"])
    if observable == "costheta":
        check_choice("MiniBooNE release for cos theta", release, ["2020"])
        d = load_data("2020")
        rel = float(np.sqrt(d.covariance[:9, :9].sum()) / d.background[:9].sum())
        edges, data, bkg = load_costheta()
        sig = signal_costheta_histogram(events)
        log.info("miniboone_nu (cos theta) m_N=%g: signal %.4g at U2=1e-4; data %.0f, bkg %.0f (norm %.1f%%)",
                 events.m_N, sig.sum(), data.sum(), bkg.sum(), 100 * rel)  # fmt: skip
        channel = {
            "name": "miniboone_nu",
            "samples": [
                {"name": "signal", "data": as_list(sig),
                 "modifiers": [poi_modifier(), normsys("miniboone_nu_flux", FLUX_UNCERTAINTY)]},
                {"name": "background", "data": as_list(bkg), "modifiers": [normsys("miniboone_nu_bkg_norm", rel)]},
            ],
        }  # fmt: skip
        return pyhf.Workspace(workspace_spec([channel], [{"name": "miniboone_nu", "data": as_list(data)}]))
    d = load_data(release)
    sig = signal_histogram(events, release=release)
    lam, vec = np.linalg.eigh(d.covariance)
    keep = lam > 1e-6 * lam.max()
    mods: list[dict] = []
    for k in np.flatnonzero(keep)[::-1]:
        shift = np.sqrt(lam[k]) * vec[:, k]
        mods.append(
            {
                "name": f"miniboone_nu_cov_{len(mods)}",
                "type": "histosys",
                "data": {"hi_data": as_list(d.background + shift), "lo_data": as_list(d.background - shift)},
            }
        )
    log.info(
        "miniboone_nu (%s) m_N=%g: signal %.4g events at U2=1e-4; data %.0f, constrained bkg %.1f "
        "(release %.1f), %d covariance eigen-modes (dropped %d with lambda <= 1e-6 max)",
        release, events.m_N, sig.sum(), d.data.sum(), d.background.sum(), d.background_release.sum(),
        keep.sum(), (~keep).sum(),
    )  # fmt: skip
    channel = {
        "name": "miniboone_nu",
        "samples": [
            {"name": "signal", "data": as_list(sig), "modifiers": [poi_modifier(), normsys("miniboone_nu_flux", FLUX_UNCERTAINTY)]},
            {"name": "background", "data": as_list(d.background), "modifiers": mods},
        ],
    }
    return pyhf.Workspace(workspace_spec([channel], [{"name": "miniboone_nu", "data": as_list(d.data)}]))
