"""CHARM-II ν–e recast (ν and ν̄ beams) as pyhf channels ``charm2_nu`` / ``charm2_nubar``.

Seed 000: the Eθ² distribution of Vilain et al. (CHARM-II), PLB 335 (1994) 246 (no dE/dx
cut), digitised (fits/data/neutrino/README.md: 16 bins uniform in √(Eθ²) from 0 to
0.0721 GeV, an inference from the bin marks). Flux 4% shared by signal, ν–e and
background (seed 000). Two statistical treatments (``treatment``):

- ``"rate"`` (default, seed 000): one counting bin, the signal region Eθ² < 30 MeV rad²
  (the bins below the 30–60 MeV rad² sideband; with the inferred binning 0–28.2 MeV rad²).
  The sideband is *not* in the likelihood: seed 000 uses it to fix the background
  normalisation in the signal region "at the level of 3%" and raises that to 10% for the
  background-shape extrapolation (conservative); ``bkg_uncertainty`` is that signal-region
  uncertainty. Seed 000's χ² is "similar to the one used in the MINERvA analysis" (rate-only
  with normalisation nuisances), and its authors' per-mass outputs hold only a total rate and
  one efficiency (docs/recasts.md).
- ``"shape"``: all 16 bins with one background normalisation (same prior) shared between
  the signal region and the sideband. The digitised background *shape* is then taken as
  exact and ~50 000 sideband and signal-free events pin its normalisation to ~0.5%, so the
  limit rests on the statistical precision of the first 3–5 bins; it is 9–13× stronger than
  ``"rate"`` and nearly insensitive to ``bkg_uncertainty`` (docs/recasts.md). Kept as an
  exploratory option: the digitisation reproduces the ν–e peak only to 10–15% there.

ν–e prediction: ν beam = digitised fit − background (``fit_total_per_MeV`` column); ν̄
beam has no digitised fit, so its ν–e prediction is the ν-beam shape scaled by the ratio
of the published ν̄_μ e / ν_μ e signal counts 2752/2677 (Vilain et al. 1994, quoted from
memory in the data README) — an assumption, stated in docs/recasts.md.

Signal normalisation: DarkNews with the shipped CHARMII fluxes, a SiO2 target of 574 t and
1.5e19 POT (our detector files) is *renormalised* so that the SM ν_μ e (ν̄_μ e) rate for
3 < E_e < 24 GeV computed with the same flux, flux normalisation, mass and POT (read from
the detector file) equals the ν–e events of the channel: exposure, efficiency and flux
normalisation then cancel between signal and ν–e. The factor is logged.

Resolution (CHARM-II NIM A 325 (1993) 92, from memory — not in the seeds): σ_E/E =
23%/√E, σ_θ = 16 mrad/√E per projected angle. Coherent upscattering only (as MINERvA).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyhf

from darknu.errors import InputFileError, ParameterError, check_choice
from fits.recast.common import (
    as_list,
    normsys,
    nu_e_elastic_events,
    pair_shower,
    poi_modifier,
    read_table,
    rng_for,
    smear_shower,
    workspace_spec,
)
from fits.recast.generate import SignalEvents, detector_exposure
from fits.recast.model import REFERENCE, Couplings

log = logging.getLogger(__name__)

E_RANGE_GEV = (3.0, 24.0)  #: electron-energy range of the CHARM-II ν–e sample (figure axis)
RES_STOCH = 0.23  #: σ_E/E stochastic term, CHARM-II (memory)
SIGMA_THETA_STOCH_RAD = 0.016  #: σ_θ·√E, CHARM-II (memory)
FLUX_UNCERTAINTY = 0.04  #: seed 000
NUE_PUBLISHED = {"charm2_nu": 2677.0, "charm2_nubar": 2752.0}  #: Vilain 1994 (memory)
Z_OVER_A = 30.0 / 60.08  #: SiO2, electrons per nucleon of the target in our detector files
#: upper edge of the signal region in GeV rad²: seed 000's sideband is 30 < Eθ² < 60 MeV rad²
#: (its authors' code, mhostert/dark-neutrinos-at-T2K dark_news/const.py: CH_ETHETA2 = 0.03 GeV)
SIGNAL_REGION_MAX = 0.030
TREATMENTS = ("rate", "shape")

_FILES = {"charm2_nu": "charmII_nu_beam_Etheta2_digitized.csv", "charm2_nubar": "charmII_nubar_beam_Etheta2_digitized.csv"}
_FLUX = {"charm2_nu": ("CHARMII_FHC.dat", "nu_mu"), "charm2_nubar": ("CHARMII_RHC.dat", "nu_mu_bar")}


@dataclass(frozen=True)
class Charm2Data:
    edges: np.ndarray  #: Eθ² bin edges in GeV rad²
    data: np.ndarray
    nue: np.ndarray
    background: np.ndarray


def load_data(experiment: str) -> Charm2Data:
    """Events per Eθ² bin (bin hypothesis of the README)."""
    check_choice("CHARM-II sample", experiment, list(_FILES))
    t = read_table(_FILES[experiment])
    lo, hi = t["Etheta2_lo_MeV_hypothesis"], t["Etheta2_hi_MeV_hypothesis"]
    edges = np.append(lo, hi[-1]) * 1e-3
    tn = read_table(_FILES["charm2_nu"])
    w = tn["Etheta2_hi_MeV_hypothesis"] - tn["Etheta2_lo_MeV_hypothesis"]
    nue_nu = np.clip(tn["fit_total_per_MeV"] - tn["bkg_total_per_MeV_interp"], 0.0, None) * w
    nue = nue_nu if experiment == "charm2_nu" else nue_nu * NUE_PUBLISHED["charm2_nubar"] / NUE_PUBLISHED["charm2_nu"]
    return Charm2Data(edges=edges, data=t["data_events_in_bin_hypothesis"], nue=nue, background=t["bkg_events_in_bin_hypothesis"])


def nu_e_expected(experiment: str) -> float:
    """SM ν_μ e (ν̄_μ e) events with 3 < E_e < 24 GeV for the exposure of the DarkNews detector file.

    Flux table, flux normalisation, fiducial mass and POT are read from the detector file the
    signal is generated with (574 t SiO2, 1.5e19 POT, flux_norm 1e-4 per m² → per cm²).
    """
    check_choice("CHARM-II sample", experiment, list(_FILES))
    fname, flavour = _FLUX[experiment]
    exp = detector_exposure(experiment)
    if exp.fluxfile != fname:
        raise InputFileError(f"{experiment}: the detector file uses flux {exp.fluxfile}, the nu-e normalisation {fname}")
    return nu_e_elastic_events(
        fname, flavour, flux_norm=exp.flux_norm, mass_t=exp.mass_t, z_over_a=Z_OVER_A,
        pot=exp.pot, e_range_GeV=E_RANGE_GEV,
    )  # fmt: skip


def exposure_factor(experiment: str) -> float:
    """Factor applied to the DarkNews signal: (ν–e events in the channel) / (SM ν–e computed)."""
    return float(load_data(experiment).nue.sum() / nu_e_expected(experiment))


def signal_histogram(
    events: SignalEvents, *, edges: np.ndarray, coherent_only: bool = True, couplings: Couplings = REFERENCE
) -> np.ndarray:
    """DarkNews signal (raw exposure of the detector file) per Eθ² bin after smearing and E cut."""
    sh = pair_shower(events.p_eplus, events.p_eminus)
    rng = rng_for(events.experiment, events.m_N, events.m_ZD, events.seed, "charm2-smear")
    e, th = smear_shower(sh, rng, stochastic=RES_STOCH, sigma_theta_stochastic_rad=SIGMA_THETA_STOCH_RAD)
    sel = (e > E_RANGE_GEV[0]) & (e < E_RANGE_GEV[1])
    if coherent_only:
        sel &= events.coherent
    h, _ = np.histogram((e * th**2)[sel], bins=edges, weights=events.weights_at(couplings)[sel])
    return h


def signal_region(edges: np.ndarray, *, upper: float = SIGNAL_REGION_MAX) -> np.ndarray:
    """Mask of the Eθ² bins entirely below ``upper`` (GeV rad²): the seed-000 signal region.

    >>> int(signal_region(np.array([0.0, 0.01, 0.02, 0.03, 0.04])).sum())
    3
    """
    edges = np.asarray(edges, dtype=float)
    mask = edges[1:] <= upper * (1 + 1e-9)
    if not mask.any():
        raise ParameterError(f"no E theta^2 bin lies below {upper:g} GeV rad^2")
    return mask


def build_workspace(
    experiment: str,
    events: SignalEvents,
    *,
    bkg_uncertainty: float = 0.03,
    flux_uncertainty: float = FLUX_UNCERTAINTY,
    treatment: str = "rate",
) -> pyhf.Workspace:
    """One-channel workspace ``charm2_nu`` or ``charm2_nubar`` (signal at |U_μ4|² = 1e-4).

    ``treatment`` ``"rate"`` (default, seed 000): one bin, Eθ² < :data:`SIGNAL_REGION_MAX`,
    ``bkg_uncertainty`` = background normalisation uncertainty in that region (3% nominal,
    10% conservative, seed 000). ``"shape"``: the 16 Eθ² bins including the sideband with a
    shared background normalisation (see the module doc for why this is not the default).
    """
    check_choice("CHARM-II sample", experiment, list(_FILES))
    check_choice("CHARM-II treatment", treatment, list(TREATMENTS))
    d = load_data(experiment)
    k = exposure_factor(experiment)
    sig = k * signal_histogram(events, edges=d.edges)
    data, nue, bkg = d.data, d.nue, d.background
    if treatment == "rate":
        sr = signal_region(d.edges)
        outside = float(sig[~sr].sum() / sig.sum()) if sig.sum() > 0 else 0.0
        if outside > 0.01:
            log.warning(
                "%s m_N=%g: %.1f%% of the signal lies above E theta^2 = %g GeV rad^2 (outside the "
                "signal region; in the sideband it would also pull the background)",
                experiment, events.m_N, 100 * outside, d.edges[1:][sr][-1],
            )  # fmt: skip
        data, nue, bkg, sig = (np.array([x[sr].sum()]) for x in (d.data, d.nue, d.background, sig))
    log.info(
        "%s m_N=%g (%s): signal %.4g events at U2=1e-4 (exposure factor %.3g from nu-e); "
        "data %.0f, bkg %.0f, nu-e %.0f in channel",
        experiment, events.m_N, treatment, sig.sum(), k, data.sum(), bkg.sum(), nue.sum(),
    )  # fmt: skip
    flux = normsys(f"{experiment}_flux", flux_uncertainty)
    channel = {
        "name": experiment,
        "samples": [
            {"name": "signal", "data": as_list(sig), "modifiers": [poi_modifier(), flux]},
            {"name": "nu_e", "data": as_list(nue), "modifiers": [flux]},
            {
                "name": "background",
                "data": as_list(bkg),
                "modifiers": [flux, normsys(f"{experiment}_bkg_norm", bkg_uncertainty)],
            },
        ],
    }
    return pyhf.Workspace(workspace_spec([channel], [{"name": experiment, "data": as_list(data)}]))
