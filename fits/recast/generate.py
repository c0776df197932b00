"""DarkNews-generated weighted signal events per neutrino experiment, cached on disk.

Events are generated once per (experiment, m_N, m_Z', seed, neval) at the reference
couplings (|U_μ4|² = 1e-4, α_D = 0.25, αε² = 2e-10, Dirac N, ``UD4 = 1``) with
``enforce_prompt=True`` and scaled with :func:`fits.recast.model.rate_scale`. Weights
(``w_event_rate`` of DarkNews) are expected events for the exposure of the DarkNews
detector definition (POT and fiducial mass in the detector file, listed in
:data:`EXPERIMENTS`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from darknu.errors import InputFileError, ParameterError, check_choice, check_range
from darknu.io import atomic_path, atomic_write_json
from fits.recast.model import REFERENCE, Couplings, rate_scale

log = logging.getLogger(__name__)

_DETECTOR_DIR = Path(str(files("fits") / "data" / "neutrino" / "detectors"))


@dataclass(frozen=True)
class ExperimentSetup:
    """How DarkNews is run for one experiment."""

    darknews_experiment: str  #: name of a shipped detector file, or a path to ours
    nu_flavor: str  #: DarkNews projectile name
    pot: float  #: POT of the detector definition
    note: str


EXPERIMENTS: dict[str, ExperimentSetup] = {
    "minerva_le": ExperimentSetup(
        "minerva_le_fhc", "nu_mu", 3.43e20, "DarkNews minerva_le_fhc.txt: CH, 6.10 t, NuMI LE FHC flux"
    ),
    "minerva_me": ExperimentSetup(
        "minerva_me_fhc", "nu_mu", 1.16e21, "DarkNews minerva_me_fhc.txt: CH, 6.10 t, NuMI ME FHC flux"
    ),
    "charm2_nu": ExperimentSetup(
        str(_DETECTOR_DIR / "charm2_fhc.txt"),
        "nu_mu",
        1.5e19,
        "fits/data/neutrino/detectors/charm2_fhc.txt (glass, 574 t, DarkNews CHARMII_FHC flux); "
        "exposure renormalised on nu-e",
    ),
    "charm2_nubar": ExperimentSetup(
        str(_DETECTOR_DIR / "charm2_rhc.txt"),
        "nu_mu_bar",
        1.5e19,
        "fits/data/neutrino/detectors/charm2_rhc.txt; exposure renormalised on nubar-e",
    ),
    "miniboone_nu": ExperimentSetup(
        "miniboone_fhc", "nu_mu", 18.75e20, "DarkNews miniboone_fhc.txt: CH2, 818 t, BNB nu mode"
    ),
    "microboone": ExperimentSetup(
        "microboone", "nu_mu", 6.8e20, "DarkNews microboone.txt: Ar, 170 t, BNB (6.8e20 POT)"
    ),
}


@dataclass(frozen=True)
class DetectorExposure:
    """Exposure of a DarkNews detector definition, as DarkNews reads it."""

    fluxfile: str  #: flux table (DarkNews ``include/fluxes``)
    flux_norm: float  #: factor DarkNews applies to the table (to ν / cm² / GeV / POT)
    mass_t: float  #: total fiducial mass in tonnes (sum over nuclear targets)
    pot: float  #: protons on target


def detector_exposure(experiment: str) -> DetectorExposure:
    """Flux table, flux normalisation, mass and POT of ``experiment``'s DarkNews detector file.

    Parsed with DarkNews' own parser, so the ν–e normalisation of the recasts uses exactly
    the exposure the signal events were generated with (nothing duplicated by hand).
    """
    check_choice("experiment", experiment, list(EXPERIMENTS))
    name = EXPERIMENTS[experiment].darknews_experiment
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)  # DarkNews' pyparsing calls
            from DarkNews.AssignmentParser import AssignmentParser
            from DarkNews.detector import Detector

            parser = AssignmentParser({})
            if Path(name).is_file():
                src = Path(name)
            else:
                src = files("DarkNews.include.detectors").joinpath(Detector.KEYWORDS[name])
            with src.open(encoding="utf8") as f:  # a path given to DarkNews' parser is never closed
                parser.parse_file(file=f, comments="#")
        par = parser.parameters
        return DetectorExposure(
            fluxfile=str(par["fluxfile"]),
            flux_norm=float(par["flux_norm"]),
            mass_t=float(sum(par["fiducial_mass_per_target"])),
            pot=float(par["POTs"]),
        )
    except (OSError, KeyError) as exc:
        raise InputFileError(f"cannot read the DarkNews detector file {name!r} of {experiment}: {exc}") from exc


@dataclass(frozen=True)
class SignalEvents:
    """Weighted DarkNews events at the reference couplings (energies in GeV, beam along +z)."""

    experiment: str
    m_N: float
    m_ZD: float
    seed: int
    neval: int
    weight: np.ndarray  #: expected events per MC event at :data:`REFERENCE` couplings
    p_eplus: np.ndarray  #: (n, 4) four-momenta (E, px, py, pz) of e⁺
    p_eminus: np.ndarray  #: (n, 4) of e⁻
    coherent: np.ndarray  #: bool, scattering regime is coherent
    couplings: Couplings = REFERENCE

    @property
    def total(self) -> float:
        """Total expected events at the reference couplings (all scattering regimes)."""
        return float(self.weight.sum())

    def weights_at(self, couplings: Couplings) -> np.ndarray:
        """Event weights scaled to ``couplings`` (exact for prompt decays, see model)."""
        return self.weight * rate_scale(couplings, reference=self.couplings)


def _cache_name(experiment: str, m_N: float, m_ZD: float, seed: int, neval: int) -> str:
    return f"{experiment}__mN{m_N:g}_mZD{m_ZD:g}_seed{seed}_neval{neval}"


def generate(
    experiment: str,
    *,
    m_N: float,
    m_ZD: float = 0.03,
    seed: int = 1,
    neval: int = 20000,
    cache_dir: str | Path | None = None,
    force: bool = False,
    couplings: Couplings = REFERENCE,
) -> SignalEvents:
    """Return DarkNews events for ``experiment`` (cached in ``cache_dir`` when given).

    ``couplings`` other than the reference are only for tests of the scaling: the recasts
    always generate at :data:`REFERENCE` and scale.
    """
    check_choice("experiment", experiment, list(EXPERIMENTS))
    m_N = check_range("m_N", m_N, low=0.0, high=20.0, unit="GeV")
    m_ZD = check_range("m_ZD", m_ZD, low=0.0011, high=m_N, unit="GeV")
    if int(neval) < 100:
        raise ParameterError(f"neval = {neval} is too small for VEGAS; use >= 100")
    name = _cache_name(experiment, m_N, m_ZD, seed, neval)
    if couplings != REFERENCE:
        name += f"_U2{couplings.U2:g}_aD{couplings.alpha_D:g}_ae{couplings.alpha_eps2:g}"
    if cache_dir is not None and not force:
        cached = Path(cache_dir) / f"{name}.npz"
        if cached.exists():
            log.debug("reusing cached DarkNews events %s", cached)
            return _load(cached)
    ev = _run_darknews(experiment, m_N=m_N, m_ZD=m_ZD, seed=seed, neval=int(neval), couplings=couplings)
    if cache_dir is not None:
        _save(Path(cache_dir) / f"{name}.npz", ev)
    return ev


def _run_darknews(
    experiment: str, *, m_N: float, m_ZD: float, seed: int, neval: int, couplings: Couplings
) -> SignalEvents:
    setup = EXPERIMENTS[experiment]
    log.info("DarkNews: %s m_N=%g GeV m_ZD=%g GeV seed=%d neval=%d", experiment, m_N, m_ZD, seed, neval)
    tmp = tempfile.mkdtemp(prefix="darknu_darknews_")
    try:
        with warnings.catch_warnings():
            # DarkNews 0.4.8 calls deprecated pyparsing and pandas APIs (its detector-file parser,
            # its MultiIndex DataFrame); those warnings are about DarkNews, not about darknu.
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message="Setting a new column on a DataFrame with a MultiIndex")
            from DarkNews import GenLauncher

            gen = GenLauncher(
                m4=m_N,
                mzprime=m_ZD,
                Umu4=float(np.sqrt(couplings.U2)),
                UD4=1.0,
                alphaD=couplings.alpha_D,
                alpha_epsilon2=couplings.alpha_eps2,
                HNLtype="dirac",
                experiment=setup.darknews_experiment,
                nu_flavors=[setup.nu_flavor],
                decay_product="e+e-",
                enforce_prompt=True,
                neval=neval,
                nint=10,
                neval_warmup=max(neval // 10, 100),
                nint_warmup=5,
                seed=seed,
                loglevel="WARNING",
                pandas=False,  # we keep the returned DataFrame; DarkNews' pickle writer leaks a file handle
                path=str(Path(tmp) / "run"),
            )
            df = gen.run(loglevel="WARNING", overwrite_path=str(Path(tmp) / "run"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(df) == 0:
        raise InputFileError(f"DarkNews produced no events for {experiment} at m_N={m_N} GeV")

    def four(col: str) -> np.ndarray:
        return np.stack([df[(col, str(i))].to_numpy(dtype=float) for i in range(4)], axis=1)

    return SignalEvents(
        experiment=experiment,
        m_N=m_N,
        m_ZD=m_ZD,
        seed=seed,
        neval=neval,
        weight=df["w_event_rate"].to_numpy(dtype=float).ravel(),
        p_eplus=four("P_decay_ell_plus"),
        p_eminus=four("P_decay_ell_minus"),
        coherent=(df["scattering_regime"].to_numpy().ravel() == "coherent"),
        couplings=couplings,
    )


def _save(path: Path, ev: SignalEvents) -> None:
    meta = {
        "experiment": ev.experiment,
        "m_N": ev.m_N,
        "m_ZD": ev.m_ZD,
        "seed": ev.seed,
        "neval": ev.neval,
        "couplings": [ev.couplings.U2, ev.couplings.alpha_D, ev.couplings.alpha_eps2],
        "darknews_setup": EXPERIMENTS[ev.experiment].note,
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                weight=ev.weight,
                p_eplus=ev.p_eplus,
                p_eminus=ev.p_eminus,
                coherent=ev.coherent,
                meta=np.array(json.dumps(meta)),
            )
    atomic_write_json(path.with_suffix(".json"), meta)


def _load(path: Path) -> SignalEvents:
    try:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            return SignalEvents(
                experiment=meta["experiment"],
                m_N=meta["m_N"],
                m_ZD=meta["m_ZD"],
                seed=meta["seed"],
                neval=meta["neval"],
                weight=z["weight"],
                p_eplus=z["p_eplus"],
                p_eminus=z["p_eminus"],
                coherent=z["coherent"],
                couplings=Couplings(*meta["couplings"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InputFileError(f"cannot read cached DarkNews events {path}: {exc}") from exc
