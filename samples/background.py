"""Background generation: W(→ℓν)+γ*, Z+γ*, tt̄+γ* with Pythia 8 and forced γ* → ℓℓ splitting.

Methods (``docs/background.md`` has the physics, the validation and the numbers):

- ``plain``: Pythia's simple shower as is (γ → ℓℓ inside the shower, unweighted).
- ``enhanced``: the same with ``Enhancements:doEnhance`` and ``fsr:A2LL`` × 20 (Pythia
  weights).
- ``forced`` (default): Pythia with its photon splitting switched off; every final-state
  photon with p_T > :data:`PHOTON_PT_MIN_GEV` is split into e⁺e⁻ and into μ⁺μ⁻ by
  :mod:`samples.background_forced` with Pythia's own kernel, the probability carried as a
  weight. One output event per (photon, flavour, try).
- ``sliced`` (W processes): phase-space slicing of the photon source
  (:mod:`samples.background_sliced`): initial-state photons above ``slice_pt`` from Pythia's
  q q̄′ → Wγ matrix element (sample H, every event has a hard photon), everything else
  from ``forced`` with those photons not split (sample S).
- ``sliced_fsr`` (W processes; experimental): ``sliced`` plus a forced photon emission off
  the W-decay lepton (:mod:`samples.background_fsr`, sample D) replacing the shower's
  lepton photons with energy fraction above ``X_CUT``.
- ``sliced_fsrq`` (W processes; experimental): ``sliced_fsr`` plus a forced photon
  emission off every final-state quark (sample Q, Pythia's QED dipole recoiler
  reconstructed from the event history) replacing the shower's quark photons with lab
  p_T above ``Q_PT_CUT`` (docs/background.md §8).
- ``reshower`` (W processes; experimental): as ``forced``, but the W decay leptons are
  not showered by the main Pythia instance (``TimeShower:QEDshowerByL = off``); a second
  instance re-showers the W → ℓν system ``reshowers`` times per W event
  (``forceTimeShower``), each version weighted 1/R, so energetic W-lepton photons are
  R times more frequent per CPU second.
- ``forced_unordered``: the same without the shower's p_T ordering of the splitting (the
  photon's production scale is ignored): the quasi-collinear Kroll–Wada factorisation
  γ* emission = real photon × (α/3π)(dm²/m²)(...), the second method for the m_ℓℓ shape.
- ``vincia``: Vincia's antenna shower with its QED shower (``PartonShowers:model = 2``),
  unweighted: the second method for the shape systematic.

Only events passing a loose generation filter (:func:`passes_gen_filter`: ≥ 3 final e/μ with
p_T > 1 GeV and |η| < 4, looser than every selection scenario of spec §4) are written. Each
file's ``xsec_pb`` is the inclusive cross section times the filter's weighted efficiency,
so that ``xsec_pb × L × Σw_sel / sum_genweight`` is the expected yield (``docs/interfaces.md`` §1).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from darknu.errors import ParameterError, check_choice
from darknu.parallel import ExecutorSpec, map_tasks
from samples.nanoaod import EVENT_GROUP_BRANCH

log = logging.getLogger(__name__)

#: Background processes (spec §2; seed 003 §IV). Values: description, Pythia settings,
#: cross-section table key and multiplier (number of lepton flavours generated).
_PROCESS_TABLE: dict[str, tuple[str, tuple[str, ...], str, float]] = {
    "W_munu_gstar": (
        "pp -> W -> mu nu, + gamma* -> ee/mumu from the shower's photons",
        ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 13"),
        "W_munu", 1.0,
    ),
    "W_enu_gstar": (
        "pp -> W -> e nu, + gamma* -> ee/mumu from the shower's photons",
        ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11"),
        "W_enu", 1.0,
    ),
    "Z_ll_gstar": (
        "pp -> Z/gamma* -> ee, mumu (66 < m < 116 GeV), + gamma* -> ee/mumu (4 leptons, one "
        "may be lost; the processor applies the 5% veto inefficiency)",
        ("WeakSingleBoson:ffbar2gmZ = on", "23:onMode = off", "23:onIfAny = 11 13",
         "PhaseSpace:mHatMin = 66.", "PhaseSpace:mHatMax = 116."),
        "Z_ll", 2.0,
    ),
    "ttbar_gstar": (
        "pp -> t tbar inclusive, + gamma* -> ee/mumu from the shower's photons",
        ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
        "ttbar", 1.0,
    ),
}
PROCESSES: tuple[str, ...] = tuple(_PROCESS_TABLE)
METHODS: tuple[str, ...] = ("forced", "sliced", "sliced_fsr", "sliced_fsrq", "reshower",
                             "forced_unordered", "enhanced", "plain", "vincia")
FORCED_METHODS = frozenset({"forced", "sliced", "sliced_fsr", "sliced_fsrq", "reshower",
                            "forced_unordered"})
#: Methods run by :func:`samples.background_sliced.run_sliced_job`.
SLICED_METHODS = ("sliced", "sliced_fsr", "sliced_fsrq")
#: Default number of W-decay re-showers per W event of the ``reshower`` method.
RESHOWERS = 20
#: ``sliced`` defaults (values and reasons in samples.background_sliced / docs §8).
SLICE_PT_GEV = 5.0
HARD_FRACTION = 0.02
#: ``sliced_fsr``: forced W-lepton photon emissions per W event (samples.background_fsr).
FSR_EMISSIONS = 4
#: ``sliced_fsrq``: forced photon emissions per final-state quark (samples.background_fsr).
QUARK_EMISSIONS = 1
#: Settings that differ per method from the JobTask defaults above. ``sliced_fsrq``: tuned
#: for the compiled engine (docs/background.md §8 "Tuning", §11): 8 W-decay configurations
#: per Pythia event (the original and 7 with redrawn decay angles), each with 6 forced
#: W-lepton emissions and 2 forced emissions per final-quark segment (48 and 16 per event);
#: 10% of the events in the q q̄′ → Wγ sample H, 8 splittings per H photon and 16 per
#: shower photon of sample S (split on the original configuration only). Σ W² of each
#: part falls with its count until the event-to-event variation of the W kinematics
#: dominates; an emission costs ~1 µs, a Pythia W event ~200–300 µs.
METHOD_DEFAULTS: dict[str, dict[str, int | float]] = {
    "sliced_fsrq": {"hard_fraction": 0.1, "fsr_emissions": 6, "quark_emissions": 2,
                    "oversample": 8, "oversample_soft": 16, "thin_keep": 0.2, "w_decays": 8},
}
_DEFAULTS: dict[str, int | float] = {"hard_fraction": HARD_FRACTION,
                                     "fsr_emissions": FSR_EMISSIONS,
                                     "quark_emissions": QUARK_EMISSIONS, "oversample": 1,
                                     "oversample_soft": 1, "thin_keep": 1.0, "w_decays": 1}


def method_default(method: str, name: str) -> int | float:
    """Default of setting ``name`` (``hard_fraction``, ``fsr_emissions``,
    ``quark_emissions``, ``oversample``, ``oversample_soft``, ``thin_keep``, ``w_decays``)
    for ``method``.

    >>> method_default("sliced_fsrq", "w_decays"), method_default("sliced", "oversample")
    (8, 1)
    """
    return METHOD_DEFAULTS.get(method, {}).get(name, _DEFAULTS[name])

#: Photons split by the forced method: p_T > 2 GeV (both leptons of a pair need
#: p_T > 1 GeV in the loosest selection scenario, spec §4).
PHOTON_PT_MIN_GEV = 2.0
#: Splitting scale used by ``forced_unordered`` (no ordering limit) [GeV].
UNORDERED_SCALE_GEV = 1.0e4
#: Generation filter: ≥ 3 final-state e/μ with p_T > 1 GeV, |η| < 4 (looser than spec §4's
#: scenarios: e p_T > 1 GeV, tracker |η| < 4 at the HL-LHC).
FILTER_PT_MIN_GEV = 1.0
FILTER_ETA_MAX = 4.0
FILTER_N_LEPTONS = 3
#: Core selection of the written copies (:func:`core_copy`): copies outside it are thinned
#: by the sliced methods (``thin_keep``). ≥ 3 e/μ with (e p_T > 3.5 GeV | μ p_T > 1.8 GeV)
#: and |η| < 4, the hardest above 20 GeV: the loosest preselection of the default detector
#: scenarios (run2: e 5, μ 3 GeV, |η| < 2.5; hllhc: e 5, μ 2 GeV, |η| < 4; leading 25 GeV;
#: smearing/data/scenarios.toml) with margins for the smearing (electron p_T resolution
#: ≤ 8%, muon ~2%: ≥ 3σ below each threshold). Only the 1 GeV-electron scenario and
#: looser studies select non-core copies; thinning never biases them, it costs variance.
CORE_E_PT_MIN_GEV = 3.5
CORE_MU_PT_MIN_GEV = 1.8
CORE_ETA_MAX = 4.0
CORE_LEAD_PT_MIN_GEV = 20.0
#: Tag of the forced splitting's random stream (``default_rng([seed, job, tag])``; the
#: sliced methods' tags are in samples.background_sliced).
RNG_FORCED = 0xBAC6
#: ``fsr:A2LL`` enhancement of the ``enhanced`` method (issue 2: weights of mean 1.000).
A2LL_ENHANCEMENT = 20.0

_COMMON = (
    "Next:numberCount = 0", "Next:numberShowEvent = 0", "Next:numberShowProcess = 0",
    "Next:numberShowInfo = 0", "Init:showChangedSettings = off", "Init:showProcesses = off",
    "Init:showChangedParticleData = off", "Init:showMultipartonInteractions = off",
    "Print:quiet = on",
)
#: Fast samples: no MPI, no hadronisation (decays stay on: τ from W/top decays), and the
#: QCD final-state shower stopped at 1 GeV instead of Pythia's 0.5 GeV: these partons are
#: never hadronised, and with Pythia's own photon-splitting recoilers no preselected
#: spectrum depends on it (σ_presel ×1.007 ± 0.005, every part and m_ℓℓ bin within
#: statistics, 600k ``sliced_fsrq`` events each), while Pythia and the engines run ~25%
#: faster (docs/background.md §13). ``Check:event = off``: Pythia's per-event consistency
#: check (charge, momentum, history) finds nothing in these parton-level events (no
#: failure in 320 000 ``sliced_fsrq`` events; identical preselected rows with and without
#: it for W, Z and tt̄) and took 6.5% of Pythia's time (docs/background.md §17); the full
#: samples keep it.
_FAST = ("PartonLevel:MPI = off", "HadronLevel:Hadronize = off", "TimeShower:pTmin = 1.0",
         "Check:event = off")
_FULL = ("PartonLevel:MPI = on", "HadronLevel:Hadronize = on")


def pythia_settings(process: str, *, method: str, sqrt_s_TeV: float, hadron_level: bool,
                    seed: int) -> list[str]:
    """All Pythia settings strings of one job (recorded in the file's metadata).

    >>> s = pythia_settings("W_munu_gstar", method="forced", sqrt_s_TeV=13.0,
    ...                     hadron_level=False, seed=5)
    >>> "TimeShower:QEDshowerByGamma = off" in s, "Random:seed = 5" in s
    (True, True)
    """
    check_choice("process", process, PROCESSES)
    check_choice("method", method, METHODS)
    out = [f"Beams:eCM = {1000.0 * sqrt_s_TeV:.1f}", *_PROCESS_TABLE[process][1], *_COMMON,
           *(_FULL if hadron_level else _FAST), "Random:setSeed = on", f"Random:seed = {seed}"]
    if method in FORCED_METHODS:
        out.append("TimeShower:QEDshowerByGamma = off")
    if method == "reshower":
        if not process.startswith("W_"):
            raise ParameterError(f"method 'reshower' is implemented for W processes only, not {process!r}")
        out.append("TimeShower:QEDshowerByL = off")
    elif method == "vincia":
        out.append("PartonShowers:model = 2")
    elif method == "enhanced":
        out += ["Enhancements:doEnhance = on",
                f"EnhancedSplittings:List = {{fsr:A2LL={A2LL_ENHANCEMENT:g}}}"]
    return out


# ----------------------------------------------------------------------------- truth helpers

Lepton = tuple[int, float, float, float, float]  # (pdgId, E, px, py, pz)


def _pt(p: Lepton) -> float:
    return math.hypot(p[2], p[3])


def _eta(p: Lepton) -> float:
    pt = _pt(p)
    if pt == 0.0:
        return math.copysign(1e9, p[4])
    return math.asinh(p[4] / pt)


def _mass(a: Lepton, b: Lepton) -> float:
    e, x, y, z = a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]
    return math.sqrt(max(0.0, e * e - x * x - y * y - z * z))


def passes_gen_filter(leptons: Sequence[Lepton]) -> bool:
    """Generation filter: at least 3 e/μ with p_T > 1 GeV and |η| < 4.

    >>> mu = (13, 50.0, 30.0, 0.0, 40.0); e1 = (11, 5.0, 3.0, 0.0, 4.0); e2 = (-11, 5.0, 0.0, 3.0, 4.0)
    >>> passes_gen_filter([mu, e1, e2]), passes_gen_filter([mu, e1])
    (True, False)
    """
    n = sum(1 for p in leptons if _pt(p) > FILTER_PT_MIN_GEV and abs(_eta(p)) < FILTER_ETA_MAX)
    return n >= FILTER_N_LEPTONS


def core_copy(leptons: Sequence[Lepton]) -> bool:
    """Core selection of a written copy (``CORE_*``): ≥ 3 e/μ with (e p_T > 3.5 GeV |
    μ p_T > 1.8 GeV) and |η| < 4, the hardest of them above 20 GeV. Every copy passing
    :func:`truth_preselection` passes it.

    >>> mu = (13, 50.0, 30.0, 0.0, 40.0); e1 = (11, 5.0, 4.0, 0.0, 3.0); e2 = (-11, 5.0, 0.0, 4.0, 3.0)
    >>> core_copy([mu, e1, e2]), core_copy([mu, e1, (-11, 3.0, 0.0, 2.0, 2.0)])
    (True, False)
    """
    good = [_pt(p) for p in leptons if abs(_eta(p)) < CORE_ETA_MAX
            and _pt(p) > (CORE_E_PT_MIN_GEV if abs(p[0]) == 11 else CORE_MU_PT_MIN_GEV)]
    return len(good) >= 3 and max(good) > CORE_LEAD_PT_MIN_GEV


def truth_preselection(leptons: Sequence[Lepton]) -> tuple[float, float, str] | None:
    """Seed 003 Table II preselection on truth leptons, without the H_T veto and efficiencies.

    Exactly three leptons with (e p_T > 5 GeV | μ p_T > 3 GeV) and |η| < 2.5; leading
    p_T > 25 GeV; the two lowest-p_T ones same flavour, opposite sign, m < 10 GeV.
    Returns (m_ℓℓ [GeV], leading p_T [GeV], "ee"|"mumu") or ``None``. A validation proxy:
    the analysis selection lives in ``selections/``.

    >>> mu = (13, 50.0, 30.0, 0.0, 40.0)
    >>> em = (11, 10.0, 6.0, 0.0, 8.0); ep = (-11, 10.0, 6.0, 0.3, 7.98)
    >>> r = truth_preselection([mu, em, ep]); (round(r[0], 3), r[1], r[2])
    (0.741, 30.0, 'ee')
    >>> truth_preselection([mu, em]) is None
    True
    """
    good = [p for p in leptons
            if abs(_eta(p)) < 2.5 and _pt(p) > (5.0 if abs(p[0]) == 11 else 3.0)]
    if len(good) != 3:
        return None
    good.sort(key=_pt, reverse=True)
    lead, a, b = good
    if _pt(lead) <= 25.0 or a[0] != -b[0]:
        return None
    m = _mass(a, b)
    if m >= 10.0:
        return None
    return m, _pt(lead), ("ee" if abs(a[0]) == 11 else "mumu")


def loose_pair(leptons: Sequence[Lepton], *, flavour: int = 11) -> bool:
    """Issue 2's raw-pair definition: an opposite-sign pair of ``flavour`` with both
    p_T > 1 GeV, |η| < 2.5 and 10 MeV < m < 10 GeV.

    >>> em = (11, 10.0, 6.0, 0.0, 8.0); ep = (-11, 10.0, 6.0, 0.3, 7.98)
    >>> loose_pair([em, ep]), loose_pair([em, ep], flavour=13)
    (True, False)
    """
    cand = [p for p in leptons if abs(p[0]) == flavour and _pt(p) > 1.0 and abs(_eta(p)) < 2.5]
    for i, a in enumerate(cand):
        for b in cand[i + 1:]:
            if a[0] == -b[0] and 0.010 < _mass(a, b) < 10.0:
                return True
    return False


# ----------------------------------------------------------------------------- one job


@dataclass(frozen=True)
class JobTask:
    """One generation job (picklable, so that every executor can run it)."""

    process: str
    method: str
    sqrt_s_TeV: float
    events: int
    seed: int
    job: int
    hadron_level: bool
    out_path: str | None  # None: statistics only (benchmarks, validation)
    #: Splittings per photon (``forced``; sample H of the sliced methods). ``None`` (here and
    #: below): the method's default, :func:`method_default`.
    oversample: int | None = None
    force: bool = False
    reshowers: int = RESHOWERS
    #: ``sliced`` only (samples.background_sliced): slicing p_T [GeV], fraction of the
    #: events spent on the q q̄′ → Wγ sample H, splittings per photon of sample S.
    slice_pt: float = SLICE_PT_GEV
    hard_fraction: float | None = None
    oversample_soft: int | None = None
    #: ``sliced_fsr`` only: forced W-lepton emissions per W event (sample D).
    fsr_emissions: int | None = None
    #: ``sliced_fsrq`` only: forced photon emissions per final-state quark (sample Q).
    quark_emissions: int | None = None
    #: ``sliced*`` only: survival probability of the written copies outside the core
    #: selection (:func:`core_copy`); kept ones get weight / ``thin_keep`` (unbiased
    #: Russian roulette, :class:`samples.background_sliced.CopyThinning`). 1: no thinning.
    thin_keep: float | None = None
    #: ``sliced*`` only: decay configurations per Pythia W event of sample S (the original
    #: and ``w_decays`` − 1 with redrawn W-decay angles, weight 1 / ``w_decays`` each;
    #: :mod:`samples.background_wdecay`); the emission and splitting counts are per
    #: configuration. 1: off. Compiled engine only.
    w_decays: int | None = None
    #: ``sliced*`` only: ``"compiled"`` (numba kernels on a numpy copy of each record) or
    #: ``"python"`` (the reference implementation); identical results
    #: (samples.background_compiled).
    engine: str = "compiled"

    def __post_init__(self) -> None:
        for name in _DEFAULTS:
            if getattr(self, name) is None:
                object.__setattr__(self, name, method_default(self.method, name))


def job_digest(task: JobTask) -> str:
    """Digest of everything a job's file depends on (not where it goes, not the engine,
    whose results are identical): a file with the same digest is that job's output."""
    from dataclasses import asdict

    from darknu import __version__
    from darknu.io import json_digest

    spec = {k: v for k, v in asdict(task).items() if k not in ("out_path", "force", "engine")}
    return json_digest({**spec, "darknu_version": __version__})


@dataclass
class JobResult:
    """What a job made, with the statistics that benchmarks and validation use.

    ``presel``: one row per event passing :func:`truth_preselection`:
    (m_ℓℓ, leading p_T, weight, index of the Pythia event, 0 = ee / 1 = μμ).
    Weights are per generated Pythia event (Pythia weight × splitting weight).
    """

    task: JobTask
    path: str | None
    n_generated: int
    n_failed: int
    sumw_generated: float
    sumw_written: float
    n_written: int
    cpu_seconds: float
    loose_ee: float = 0.0
    loose_mumu: float = 0.0
    presel: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    settings: list[str] = field(default_factory=list)
    #: ``sliced`` only: per ``presel`` row (photon origin, photon p_T, photon scale, sample
    #: 0 = S / 1 = H); and the job's extra metadata.
    presel_aux: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    extra: dict[str, Any] = field(default_factory=dict)


def _final_leptons(event: Any) -> list[tuple[int, Lepton]]:
    out = []
    for i in range(event.size()):
        p = event[i]
        if p.isFinal() and p.idAbs() in (11, 13):
            out.append((i, (p.id(), p.e(), p.px(), p.py(), p.pz())))
    return out


def _recoiler(event: Any, i_gamma: int) -> int | None:
    """Photon-splitting recoiler, as Pythia's shower chooses it.

    A photon radiated in the final-state shower by a charged particle (top copy status
    51–59) splits against its radiator: ``SimpleTimeShower::branch`` gives the new photon
    the dipole ``TimeDipoleEnd(iEmt, iRad, ...)``, and the recoiler follows the radiator's
    line; here its final copy. (Pythia's own γ → ℓℓ splittings in the ``enhanced`` shower:
    the recoiler is the radiator line for 317 of 317 quark photons and 3903 of 3903 lepton
    photons, docs/background.md §13.) Any other photon (hard process, initial-state
    shower) as in ``SimpleTimeShower::setupQEDdip``, but among the final-state charged
    particles only: the one with the smallest p_γ·p_j / chargeType_j² (leptons,
    chargeType 3, are strongly preferred over quarks). The sliced methods give those
    photons Pythia's full rule instead, incoming partons and the W included
    (``samples.background_sliced.hard_photon_recoiler``, ``shower_photon_recoiler``,
    docs/background.md §14); this one stays for the ``forced`` family."""
    i_rad = _fsr_radiator_final(event, i_gamma)
    if i_rad is not None:
        return i_rad
    g = event[i_gamma].p()
    best, best_pp = None, math.inf
    for i in range(event.size()):
        p = event[i]
        if i == i_gamma or not p.isFinal():
            continue
        ct = p.chargeType()
        if ct == 0:
            continue
        pp = (g * p.p()) / (ct * ct)
        if 0.0 < pp < best_pp:
            best, best_pp = i, pp
    return best


def shower_splittings(event: Any) -> list[tuple[int, int]]:
    """Pythia's own γ → ℓ⁺ℓ⁻ splittings in ``event`` (photon splitting on):
    (photon index, index of the entry right after the lepton pair). A final-state
    splitting appends the recoiler's new copy (status ±52) there; any other status means
    the recoiler made no final-state copy (an incoming parton)."""
    out = []
    for j in range(event.size() - 2):
        a, b = event[j], event[j + 1]
        if (a.idAbs() in (11, 13) and b.id() == -a.id() and abs(a.status()) == 51
                and a.mother1() == b.mother1() and event[a.mother1()].id() == 22):
            out.append((a.mother1(), j + 2))
    return out


def _fsr_radiator_final(event: Any, i_gamma: int) -> int | None:
    """Final copy of the charged particle that radiated photon ``i_gamma`` in the
    final-state shower (the radiator's copy after the emission, followed through its later
    branchings); None for other photons or if that copy is not final (e.g. a decayed τ)."""
    itop = event[i_gamma].iTopCopyId()
    top = event[itop]
    if not 51 <= abs(top.status()) <= 59:
        return None
    m = top.mother1()
    if m <= 0 or event[m].chargeType() == 0:
        return None
    for d in (event[m].daughter1(), event[m].daughter2()):
        if d > 0 and d != itop and event[d].id() == event[m].id():
            j = event[d].iBotCopyId()
            return j if event[j].isFinal() else None
    return None


def run_job(task: JobTask) -> JobResult:
    """Generate one job: Pythia events, forced splitting, filter, write (if ``out_path``)."""
    if task.method in SLICED_METHODS:
        from samples.background_sliced import run_sliced_job

        return run_sliced_job(task)
    import pythia8mc

    from samples.background_forced import M_ELECTRON_GEV, M_MUON_GEV, force_split
    from samples.jobs import derive_seed
    from samples.nanoaod import EventBuffer

    pseed = derive_seed(task.seed, task.job, stream=f"background:{task.process}:{task.method}")
    settings = pythia_settings(task.process, method=task.method, sqrt_s_TeV=task.sqrt_s_TeV,
                               hadron_level=task.hadron_level, seed=pseed)
    t0 = time.process_time()
    py = pythia8mc.Pythia("", False)
    for s in settings:
        if not py.readString(s):
            raise ParameterError(f"Pythia rejected setting {s!r}")
    if not py.init():
        raise ParameterError(f"Pythia failed to initialise with {settings}")
    info = py.infoPython()
    py_dec = _decay_shower_pythia(derive_seed(task.seed, task.job, stream=f"decay:{task.process}")) \
        if task.method == "reshower" else None
    rng = np.random.default_rng([task.seed, task.job, RNG_FORCED])
    buf = EventBuffer(hadron_level=task.hadron_level) if task.out_path else None
    alpha = py.coupSM.alphaEM
    n_fail = 0
    sumw_gen = sumw_written = 0.0
    n_written = 0
    loose = {11: 0.0, 13: 0.0}
    presel: list[tuple[float, float, float, int, int]] = []

    def record(leps: list[Lepton], w: float, iev: int, ev: Any, bias: float) -> None:
        nonlocal sumw_written, n_written
        if not passes_gen_filter(leps):
            return
        for fl in (11, 13):
            if loose_pair(leps, flavour=fl):
                loose[fl] += w
        r = truth_preselection(leps)
        if r is not None:
            presel.append((r[0], r[1], w, iev, 0 if r[2] == "ee" else 1))
        sumw_written += w
        n_written += 1
        if buf is not None:
            buf.append_pythia(ev, weight=w, extra={"biasWeight": bias, "genEventGroup": iev})

    def shower_photons(ev: Any) -> list[int]:
        # Shower photons only: photons from hadron decays (π⁰ → γγ, ...) are made after
        # the shower and are never split by it (their Dalitz pairs come from the decay
        # tables of hadron-level samples).
        return [i for i in range(ev.size())
                if ev[i].isFinal() and ev[i].id() == 22 and ev[i].pT() > PHOTON_PT_MIN_GEV
                and not ev[ev[ev[i].iTopCopyId()].mother1()].isHadron()]

    def split_photons(ev: Any, fl_all: list[tuple[int, Lepton]], w_ev: float, iev: int,
                      photons: list[int] | None = None, recoiler: int | None = None) -> None:
        """Force-split shower photons of ``ev`` (p_T > 2 GeV) into e⁺e⁻ and μ⁺μ⁻."""
        for ig in shower_photons(ev) if photons is None else photons:
            if ev[ig].pT() <= PHOTON_PT_MIN_GEV:
                continue
            ir = _recoiler(ev, ig) if recoiler is None else recoiler
            if ir is None:
                continue
            g, r = ev[ig], ev[ir]
            pg = (g.e(), g.px(), g.py(), g.pz())
            pr = (r.e(), r.px(), r.py(), r.pz())
            # Evolution starts at the production scale of the first copy (a photon used as
            # recoiler by later emissions is copied with a lower scale).
            scale = ev[g.iTopCopyId()].scale() if ordered else UNORDERED_SCALE_GEV
            for lid, mlep in ((11, M_ELECTRON_GEV), (13, M_MUON_GEV)):
                for _ in range(task.oversample):
                    sp = force_split(pg, pr, scale_gev=scale, m_lepton=mlep, rng=rng,
                                     alpha_em=alpha, sudakov=ordered)
                    if sp is None:
                        continue
                    bias = sp.weight / task.oversample
                    new = [lp for i, lp in fl_all if i != ir]
                    if r.idAbs() in (11, 13):
                        new.append((r.id(), *sp.recoiler))
                    new.append((lid, *sp.lepton_minus))
                    new.append((-lid, *sp.lepton_plus))
                    if not passes_gen_filter(new):
                        continue
                    if buf is None:
                        record(new, w_ev * bias, iev, None, bias)
                        continue
                    status = g.status()
                    _apply_split(ev, ig, ir, lid, sp)
                    try:
                        record(new, w_ev * bias, iev, ev, bias)
                    finally:
                        _undo_split(ev, ig, ir, pg, pr, status)

    # forced_unordered: no p_T ordering, hence no shower Sudakov (first-order Kroll-Wada).
    ordered = task.method != "forced_unordered"
    for iev in range(task.events):
        if not py.next():
            n_fail += 1
            continue
        w_py = info.weight()
        sumw_gen += w_py
        ev = py.event
        fl_all = _final_leptons(ev)
        leps = [lp for _, lp in fl_all]
        if task.method not in FORCED_METHODS:
            record(leps, w_py, iev, ev, w_py)
            continue
        if task.method == "reshower":
            # Photons of the main event (ISR / quarks; its leptons do not radiate) are split
            # once with the event weight; the W-lepton photons of each of the R re-showers
            # with weight 1/R (recoiler: the W lepton, as in Pythia's W-decay system).
            n_main = ev.size()
            main_photons = shower_photons(ev)

            def per_reshower(e: Any, fl: list[tuple[int, Lepton]], w: float, f_lep: int,
                             first: bool, _i: int = iev) -> None:
                if first and main_photons:
                    split_photons(e, fl, w_py, _i, photons=main_photons)
                split_photons(e, fl, w_py * w, _i, photons=list(range(n_main, e.size())),
                              recoiler=f_lep)

            _reshower_event(py_dec, ev, task.reshowers, per_reshower)
        else:
            split_photons(ev, fl_all, w_py, iev)
    cpu = time.process_time() - t0
    path = None
    if buf is not None and len(buf) > 0:
        path = _write(task, buf, settings, sumw_gen=sumw_gen, n_gen=task.events - n_fail,
                      cpu=cpu)
    elif buf is not None:
        log.warning("job %d of %s wrote no events (none passed the generation filter)",
                    task.job, task.process)
    return JobResult(task=task, path=path, n_generated=task.events - n_fail, n_failed=n_fail,
                     sumw_generated=sumw_gen, sumw_written=sumw_written, n_written=n_written,
                     cpu_seconds=cpu, loose_ee=loose[11], loose_mumu=loose[13],
                     presel=np.array(presel, dtype=float).reshape(-1, 5), settings=settings)


def _apply_split(ev: Any, ig: int, ir: int, lid: int, sp: Any) -> None:
    """Turn photon ``ig`` into a γ* decaying to the pair; update the recoiler, in place."""
    import pythia8mc

    ev.saveSize()
    e, x, y, z = sp.lepton_minus
    i1 = ev.append(lid, 91, ig, 0, 0, 0, 0, 0, x, y, z, e, _lmass(lid))
    e, x, y, z = sp.lepton_plus
    i2 = ev.append(-lid, 91, ig, 0, 0, 0, 0, 0, x, y, z, e, _lmass(lid))
    g = ev[ig]
    e, x, y, z = sp.gstar
    g.p(pythia8mc.Vec4(x, y, z, e))
    g.m(sp.m_pair)
    g.status(-91)
    g.daughters(i1, i2)
    e, x, y, z = sp.recoiler
    ev[ir].p(pythia8mc.Vec4(x, y, z, e))


def _undo_split(ev: Any, ig: int, ir: int, pg: tuple[float, ...], pr: tuple[float, ...],
                status: int) -> None:
    import pythia8mc

    ev.restoreSize()
    g = ev[ig]
    g.p(pythia8mc.Vec4(pg[1], pg[2], pg[3], pg[0]))
    g.m(0.0)
    g.status(status)
    g.daughters(0, 0)
    ev[ir].p(pythia8mc.Vec4(pr[1], pr[2], pr[3], pr[0]))


def _lmass(lid: int) -> float:
    from samples.background_forced import M_ELECTRON_GEV, M_MUON_GEV

    return M_ELECTRON_GEV if abs(lid) == 11 else M_MUON_GEV


def _ht_veto(process: str, sqrt_s_TeV: float) -> tuple[float, float, str] | None:
    """Measured H_T-veto efficiency for fast samples (``samples/data/background_ht_veto.toml``)."""
    import tomllib

    p = Path(__file__).with_name("data") / "background_ht_veto.toml"
    if not p.is_file():
        return None
    data = tomllib.loads(p.read_text())
    rec = data.get(process, {}).get(f"{sqrt_s_TeV:g}")
    if not rec:
        return None
    return float(rec["efficiency"]), float(rec["error"]), str(rec["source"])


def _write(task: JobTask, buf: Any, settings: list[str], *, sumw_gen: float, n_gen: int,
           cpu: float, extra_meta: dict[str, Any] | None = None) -> str:
    from samples.model import cross_section
    from samples.nanoaod import write_nanoaod

    import darknu

    desc, _, key, mult = _PROCESS_TABLE[task.process]
    xs = cross_section(key, task.sqrt_s_TeV)
    filt_eff = buf.sum_genweight / sumw_gen
    meta: dict[str, Any] = {
        "process": task.process,
        "kind": "background",
        "description": desc,
        "sqrt_s_TeV": task.sqrt_s_TeV,
        "xsec_pb": xs.xsec_pb * mult * filt_eff,
        "xsec_source": f"{xs.source}; x {mult:g} lepton flavour(s); x generation-filter "
                       "efficiency (weighted) of this file",
        "xsec_inclusive_pb": xs.xsec_pb * mult,
        "gen_filter": f">= {FILTER_N_LEPTONS} final e/mu with pT > {FILTER_PT_MIN_GEV} GeV "
                      f"and |eta| < {FILTER_ETA_MAX}",
        "gen_filter_efficiency": filt_eff,
        "sum_genweight_generated": sumw_gen,
        "n_generated": n_gen,
        "method": task.method,
        "oversample": task.oversample,
        "reshowers": task.reshowers if task.method == "reshower" else None,
        "photon_pt_min_GeV": PHOTON_PT_MIN_GEV,
        "seed": task.seed,
        "job": task.job,
        "generator": ["pythia8mc 8.317", *settings],
        "hadron_level": task.hadron_level,
        "cpu_seconds": cpu,
        "darknu_version": getattr(darknu, "__version__", "unknown"),
        "job_digest": job_digest(task),
        "event_group_branch": EVENT_GROUP_BRANCH,
        **(extra_meta or {}),
    }
    if not task.hadron_level:
        ht = _ht_veto(task.process, task.sqrt_s_TeV)
        if ht is not None:
            (meta["ht_veto_efficiency"], meta["ht_veto_efficiency_error"],
             meta["ht_veto_efficiency_source"]) = ht
        else:
            log.warning("no measured H_T-veto efficiency for %s at %g TeV in "
                        "samples/data/background_ht_veto.toml", task.process, task.sqrt_s_TeV)
    assert task.out_path is not None
    write_nanoaod(task.out_path, buf, meta, overwrite=task.force)
    return task.out_path


# ----------------------------------------------------------------------------- public API


def check_process(process: str) -> str:
    """Return ``process`` if known, else raise :class:`ParameterError` listing the valid ones.

    >>> check_process("W_munu_gstar")
    'W_munu_gstar'
    >>> check_process("Wjets")
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: unknown process 'Wjets'; valid: W_enu_gstar, W_munu_gstar, Z_ll_gstar, ttbar_gstar
    """
    return check_choice("process", process, PROCESSES)


def make_tasks(process: str, *, sqrt_s_TeV: float, events: int, seed: int, jobs: int,
               hadron_level: bool, method: str, out_dir: str | Path | None,
               oversample: int | None = None, force: bool = False,
               reshowers: int = RESHOWERS, slice_pt: float = SLICE_PT_GEV,
               hard_fraction: float | None = None, fsr_emissions: int | None = None,
               quark_emissions: int | None = None,
               oversample_soft: int | None = None,
               thin_keep: float | None = None,
               w_decays: int | None = None) -> list[JobTask]:
    """Validate the parameters and split the request into jobs (nothing is generated).
    Settings left ``None`` take the method's default (:func:`method_default`)."""
    from darknu.errors import check_range
    from samples.jobs import SEED_MAX, check_count, split_events
    from samples.model import cross_section

    check_process(process)
    check_choice("method", method, METHODS)
    s = check_range("sqrt_s_TeV", sqrt_s_TeV, low=0.0, unit="TeV")
    cross_section(_PROCESS_TABLE[process][2], s)  # raises for an energy without a cross section
    seed = check_count("seed", seed, low=0, high=SEED_MAX)
    d = {k: method_default(method, k) for k in _DEFAULTS}
    oversample = d["oversample"] if oversample is None else oversample
    hard_fraction = d["hard_fraction"] if hard_fraction is None else hard_fraction
    fsr_emissions = d["fsr_emissions"] if fsr_emissions is None else fsr_emissions
    quark_emissions = d["quark_emissions"] if quark_emissions is None else quark_emissions
    oversample_soft = d["oversample_soft"] if oversample_soft is None else oversample_soft
    thin_keep = d["thin_keep"] if thin_keep is None else thin_keep
    w_decays = d["w_decays"] if w_decays is None else w_decays
    oversample = check_count("oversample", oversample, low=1, high=1000)
    oversample_soft = check_count("oversample_soft", oversample_soft, low=1, high=1000)
    reshowers = check_count("reshowers", reshowers, low=1, high=10000)
    fsr_emissions = check_count("fsr_emissions", fsr_emissions, low=1, high=1000)
    quark_emissions = check_count("quark_emissions", quark_emissions, low=1, high=1000)
    w_decays = check_count("w_decays", w_decays, low=1, high=1000)
    if method == "reshower" and not process.startswith("W_"):
        raise ParameterError(f"method 'reshower' is implemented for W processes only, not {process!r}")
    per_job = split_events(events, jobs)
    if method in SLICED_METHODS:
        from samples.background_sliced import check_sliced

        slice_pt = check_range("slice_pt", slice_pt, low=0.0, unit="GeV")
        hard_fraction = check_range("hard_fraction", hard_fraction, low=0.0, high=1.0)
        thin_keep = check_range("thin_keep", thin_keep, low=0.0, high=1.0,
                                high_inclusive=True)
        for n in per_job:
            check_sliced(process, slice_pt, hard_fraction, n)
    else:
        for name, value, off in (("thin_keep", thin_keep, 1.0), ("w_decays", w_decays, 1)):
            if value != off:
                raise ParameterError(f"{name} applies to the sliced methods "
                                     f"{SLICED_METHODS}, not {method!r}")
    tasks = []
    for j, n in enumerate(per_job):
        out = None
        if out_dir is not None:
            tag = f"{method}_hadrons" if hadron_level else method
            out = str(Path(out_dir) / f"{process}_{tag}_s{seed}_j{j}.root")
        tasks.append(JobTask(process, method, s, n, seed, j, bool(hadron_level), out,
                             oversample, force, reshowers, slice_pt=slice_pt,
                             hard_fraction=hard_fraction, fsr_emissions=fsr_emissions,
                             quark_emissions=quark_emissions, oversample_soft=oversample_soft,
                             thin_keep=thin_keep, w_decays=w_decays))
    return tasks


def generate_background(
    process: str,
    *,
    sqrt_s_TeV: float = 13.0,
    events: int,
    seed: int,
    out_dir: str | Path,
    jobs: int = 1,
    executor: ExecutorSpec | None = None,
    hadron_level: bool = False,
    method: str = "forced",
    oversample: int | None = None,
    reshowers: int = RESHOWERS,
    force: bool = False,
    slice_pt: float = SLICE_PT_GEV,
    hard_fraction: float | None = None,
    fsr_emissions: int | None = None,
    quark_emissions: int | None = None,
    oversample_soft: int | None = None,
    thin_keep: float | None = None,
    w_decays: int | None = None,
) -> list[Path]:
    """Generate ``events`` Pythia events of ``process`` in ``jobs`` jobs; write ROOT files
    and the fileset entry ``<process>__nominal`` (``<process>_hadrons__nominal`` for
    ``hadron_level``) in ``out_dir/fileset.json``. Returns the files written.

    ``events`` counts Pythia events (W/Z/tt̄ productions), not written events: the forced
    method writes about (photons with p_T > 2 GeV) × 2 flavours × ``oversample`` × filter
    efficiency per event. Reproducible per (seed, job). ``method="sliced"`` (W only):
    a fraction ``hard_fraction`` of the events is q q̄′ → Wγ with p_T(γ) > ``slice_pt``
    [GeV], the rest inclusive W with initial-state photons above ``slice_pt`` not split
    (:mod:`samples.background_sliced`); ``oversample`` applies to sample H there.
    ``method="sliced_fsr"`` (experimental) adds ``fsr_emissions`` forced W-lepton photon
    emissions per event (:mod:`samples.background_fsr`); ``method="sliced_fsrq"``
    (experimental) also ``quark_emissions`` forced photon emissions per final-state quark;
    ``oversample_soft``: splittings per shower photon of sample S; ``thin_keep`` (sliced
    methods): survival probability of the written copies outside the core selection
    (:func:`core_copy`; weight / ``thin_keep`` when kept); ``w_decays`` (sliced methods,
    W → ℓν events of sample S): decay configurations per Pythia event, the original and
    ``w_decays`` − 1 with redrawn decay angles (:mod:`samples.background_wdecay`; emission
    and splitting counts are per configuration). Settings left ``None``
    take the method's default (:data:`METHOD_DEFAULTS`, else the module constants).
    """
    from darknu.io import prepare_output_dir
    from samples.fileset import update_fileset

    tasks = make_tasks(process, sqrt_s_TeV=sqrt_s_TeV, events=events, seed=seed, jobs=jobs,
                       hadron_level=hadron_level, method=method, out_dir=out_dir,
                       oversample=oversample, force=force, reshowers=reshowers,
                       slice_pt=slice_pt, hard_fraction=hard_fraction,
                       fsr_emissions=fsr_emissions, quark_emissions=quark_emissions,
                       oversample_soft=oversample_soft, thin_keep=thin_keep,
                       w_decays=w_decays)
    out = prepare_output_dir(out_dir, force=force, resume=True)
    done: dict[int, JobResult] = {}  # resume: jobs whose file is already there
    for t in tasks:
        if t.out_path and Path(t.out_path).exists() and not force:
            done[t.job] = _finished_job(t)
    todo = [t for t in tasks if t.job not in done]
    if done:
        log.info("%s: %d of %d jobs already written with matching settings; skipped",
                 process, len(done), len(tasks))
    ran = map_tasks(run_job, todo, executor=executor or ExecutorSpec(workers=jobs),
                    desc=f"generate {process}")
    by_job = {**done, **{r.task.job: r for r in ran}}
    results = [by_job[t.job] for t in tasks]
    files = [Path(r.path) for r in results if r.path]
    if not files:
        log.warning("%s: no event passed the generation filter; nothing written", process)
        return []
    from samples.nanoaod import read_metadata

    metas = [read_metadata(f) for f in files]
    sumw_gen = sum(r.sumw_generated for r in results)
    sumw_written = sum(m["sum_genweight"] for m in metas)
    ds_meta = dict(metas[0])
    for k in ("job", "cpu_seconds", "cpu_seconds_S", "cpu_seconds_H", "weight_factor_H",
              "n_generated_H", "n_generated_S", "sigma_pythia_W_mb", "sigma_pythia_W_err_mb",
              "sigma_pythia_H_mb", "sigma_pythia_H_err_mb"):
        ds_meta.pop(k, None)  # per-job quantities (kept in each file's metadata)
    ds_meta.update(
        xsec_pb=metas[0]["xsec_inclusive_pb"] * sumw_written / sumw_gen,
        xsec_source=metas[0]["xsec_source"].replace("of this file", "of all jobs"),
        sum_genweight=sumw_written,
        n_events=sum(m["n_events"] for m in metas),
        gen_filter_efficiency=sumw_written / sumw_gen,
        sum_genweight_generated=sumw_gen,
        n_generated=sum(r.n_generated for r in results),
        jobs=len(tasks),
    )
    name = f"{process}_hadrons" if hadron_level else process
    fs = update_fileset(out / "fileset.json", {f"{name}__nominal": {
        "files": {str(f): "Events" for f in files}, "metadata": ds_meta}}, force=force)
    log.info("wrote %d files (%d events) of %s to %s; fileset %s", len(files),
             ds_meta["n_events"], process, out, fs)
    return files


def _finished_job(task: JobTask) -> JobResult:
    """The result of a job whose file exists, if it was made with the same settings
    (:func:`job_digest`); otherwise :class:`OutputExistsError` (use ``force``)."""
    from darknu.errors import DarknuError, OutputExistsError
    from samples.nanoaod import read_metadata

    assert task.out_path is not None
    try:
        meta = read_metadata(task.out_path)
    except DarknuError:
        meta = {}
    if meta.get("job_digest") != job_digest(task):
        raise OutputExistsError(
            f"{task.out_path} exists but was made with other settings (or by an older darknu); "
            "pass force=True / --force"
        )
    log.info("job %d: %s exists with matching settings; skipped", task.job, task.out_path)
    return JobResult(task=task, path=task.out_path, n_generated=int(meta["n_generated"]), n_failed=0,
                     sumw_generated=float(meta["sum_genweight_generated"]),
                     sumw_written=float(meta["sum_genweight"]), n_written=int(meta["n_events"]),
                     cpu_seconds=0.0, settings=list(meta.get("generator", []))[1:])


def register_cli(generate_subparsers: Any) -> None:
    """Add ``darknu generate background`` to the ``generate`` sub-command group."""
    p = generate_subparsers.add_parser(
        "background", help="W+gamma*, Z+gamma*, ttbar+gamma* backgrounds (Pythia 8)")
    p.add_argument("--process", required=True, help=f"one of {', '.join(PROCESSES)} or 'all'")
    p.add_argument("--events", type=int, required=True, help="Pythia events per process")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--executor", default="futures", choices=["iterative", "futures", "dask"])
    p.add_argument("--scheduler", default=None, help="dask scheduler address tcp://HOST:PORT")
    p.add_argument("--sqrt-s", type=float, default=13.0, dest="sqrt_s", help="TeV")
    p.add_argument("--method", default="forced", choices=list(METHODS))
    p.add_argument("--oversample", type=int, default=None,
                   help="forced splittings per photon (sliced methods: per photon of sample H); "
                        "default 1, sliced_fsrq 8")
    p.add_argument("--oversample-soft", type=int, default=None, dest="oversample_soft",
                   help="sliced methods: splittings per shower photon of sample S; default 1, "
                        f"sliced_fsrq {METHOD_DEFAULTS['sliced_fsrq']['oversample_soft']}")
    p.add_argument("--reshowers", type=int, default=RESHOWERS,
                   help="W-decay re-showers per W event (method reshower)")
    p.add_argument("--slice-pt", type=float, default=SLICE_PT_GEV, dest="slice_pt",
                   help="method sliced: photon pT [GeV] above which initial-state photons come "
                        "from q qbar' -> W gamma")
    p.add_argument("--hard-fraction", type=float, default=None, dest="hard_fraction",
                   help="method sliced: fraction of the events generated as q qbar' -> W gamma "
                        f"(default {HARD_FRACTION}, sliced_fsrq "
                        f"{METHOD_DEFAULTS['sliced_fsrq']['hard_fraction']})")
    p.add_argument("--fsr-emissions", type=int, default=None, dest="fsr_emissions",
                   help="method sliced_fsr: forced W-lepton photon emissions per event (per "
                        "W-decay configuration) "
                        f"(default {FSR_EMISSIONS}, sliced_fsrq "
                        f"{METHOD_DEFAULTS['sliced_fsrq']['fsr_emissions']})")
    p.add_argument("--quark-emissions", type=int, default=None,
                   dest="quark_emissions",
                   help="method sliced_fsrq: forced photon emissions per final-state quark "
                        "(per W-decay configuration) "
                        f"(default {METHOD_DEFAULTS['sliced_fsrq']['quark_emissions']})")
    p.add_argument("--thin-keep", type=float, default=None, dest="thin_keep",
                   help="sliced methods: probability to write a copy outside the core "
                        "selection of the default detector scenarios (weight / it when "
                        "written; default 1, sliced_fsrq "
                        f"{METHOD_DEFAULTS['sliced_fsrq']['thin_keep']})")
    p.add_argument("--w-decays", type=int, default=None, dest="w_decays",
                   help="sliced methods: W-decay configurations per Pythia event (the "
                        "original and the rest with redrawn decay angles; default 1, "
                        f"sliced_fsrq {METHOD_DEFAULTS['sliced_fsrq'].get('w_decays', 1)})")
    p.add_argument("--hadron-level", action="store_true",
                   help="MPI + hadronisation (for H_T-veto / isolation efficiencies)")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cli)


def _cli(args: Any) -> int:
    procs = list(PROCESSES) if args.process == "all" else [check_process(args.process)]
    spec = ExecutorSpec(kind=args.executor, workers=args.jobs, scheduler=args.scheduler)
    n = 0
    for proc in procs:
        n += len(generate_background(
            proc, sqrt_s_TeV=args.sqrt_s, events=args.events, seed=args.seed, out_dir=args.out,
            jobs=args.jobs, executor=spec, hadron_level=args.hadron_level, method=args.method,
            oversample=args.oversample, reshowers=args.reshowers, force=args.force,
            slice_pt=args.slice_pt, hard_fraction=args.hard_fraction,
            fsr_emissions=args.fsr_emissions, quark_emissions=args.quark_emissions,
            oversample_soft=args.oversample_soft, thin_keep=args.thin_keep,
            w_decays=args.w_decays))
    print(f"wrote {n} background files and {args.out / 'fileset.json'}")
    return 0


# ----------------------------------------------------------------------------- H_T veto


class HTVetoEfficiency(NamedTuple):
    """Charged-hadron H_T-veto efficiency measured on a full (MPI + hadronisation) sample."""

    efficiency: float
    error: float
    n_events: int
    cpu_seconds: float


#: Charged-hadron H_T veto of the preselection (seed 003 Table II): Σ p_T of charged hadrons
#: with p_T > 2 GeV and |η| < 2.5 below 30 GeV.
HT_TRACK_PT_MIN_GEV = 2.0
HT_TRACK_ETA_MAX = 2.5
HT_MAX_GEV = 30.0


def measure_ht_veto_efficiency(process: str, *, events: int, seed: int,
                               sqrt_s_TeV: float = 13.0) -> HTVetoEfficiency:
    """Fraction of full-simulation events (MPI + hadronisation, plain Pythia) that pass the
    H_T veto, among events whose hardest truth e/μ has p_T > 25 GeV and |η| < 2.5.

    The veto is a property of the hadronic activity (ISR, MPI, remnants), which does not
    depend on the soft γ* → ℓℓ splitting at O(α), so it factorises from the m_ℓℓ shape:
    N(presel) = N_fast(presel without H_T veto) × this efficiency (``docs/background.md``).
    """
    import pythia8mc

    from samples.jobs import check_count, derive_seed

    check_process(process)
    events = check_count("events", events)
    pseed = derive_seed(seed, 0, stream=f"htveto:{process}")
    settings = pythia_settings(process, method="plain", sqrt_s_TeV=sqrt_s_TeV,
                               hadron_level=True, seed=pseed)
    t0 = time.process_time()
    py = pythia8mc.Pythia("", False)
    for s in settings:
        py.readString(s)
    if not py.init():
        raise ParameterError(f"Pythia failed to initialise with {settings}")
    n_acc = n_pass = 0
    for _ in range(events):
        if not py.next():
            continue
        ev = py.event
        lead = 0.0
        ht = 0.0
        for i in range(ev.size()):
            p = ev[i]
            if not p.isFinal():
                continue
            aid = p.idAbs()
            if aid in (11, 13):
                if abs(p.eta()) < 2.5 and p.pT() > lead:
                    lead = p.pT()
            elif p.isHadron() and p.isCharged() and p.pT() > HT_TRACK_PT_MIN_GEV \
                    and abs(p.eta()) < HT_TRACK_ETA_MAX:
                ht += p.pT()
        if lead > 25.0:
            n_acc += 1
            n_pass += ht < HT_MAX_GEV
    eff = n_pass / n_acc if n_acc else float("nan")
    err = math.sqrt(eff * (1 - eff) / n_acc) if n_acc else float("nan")
    return HTVetoEfficiency(eff, err, n_acc, time.process_time() - t0)


# ----------------------------------------------------------------------------- re-shower


def _decay_shower_pythia(seed: int) -> Any:
    """A Pythia instance that only showers user-given W → ℓν systems (``forceTimeShower``)."""
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for s in ("ProcessLevel:all = off", "HadronLevel:all = off", "PartonLevel:MPI = off",
              *_COMMON, "Random:setSeed = on", f"Random:seed = {seed}"):
        py.readString(s)
    if not py.init():
        raise ParameterError("the W-decay shower Pythia instance failed to initialise")
    return py


def _reshower_event(py_dec: Any, ev: Any, reshowers: int, callback: Any) -> None:
    """Shower the W → ℓν decay of ``ev`` ``reshowers`` times (QED, Pythia's own shower).

    The main Pythia instance runs with ``TimeShower:QEDshowerByL = off``, so its W decay
    leptons are unshowered. Each re-shower replaces the final ℓ and ν momenta of ``ev`` by
    the re-showered ones and appends the photons (status 51, mother = the lepton), calls
    ``callback(ev, final_leptons, 1/reshowers, index_of_lepton, is_first)`` and restores
    ``ev``. The re-shower
    is the shower Pythia applies to the W decay (decay products at scale m_W, dipole ℓ–ν;
    validated in docs/background.md §4).
    """
    import pythia8mc

    iw = -1
    for i in range(ev.size() - 1, 0, -1):
        if ev[i].idAbs() == 24:
            iw = i
            break
    if iw < 0:
        raise ParameterError("reshower: no W boson in the event")
    w = ev[iw]
    d1, d2 = w.daughter1(), w.daughter2()
    i_lep = d1 if ev[d1].isCharged() else d2
    i_nu = d2 if i_lep == d1 else d1
    f_lep, f_nu = ev[i_lep].iBotCopyId(), ev[i_nu].iBotCopyId()
    lep0 = ev[f_lep].p()
    nu0 = ev[f_nu].p()
    others = [(i, lp) for i, lp in _final_leptons(ev) if i != f_lep]
    mw = w.m()
    n0 = ev.size()
    for r in range(reshowers):
        e = py_dec.event
        e.reset()
        e.append(w.id(), -22, 0, 0, 2, 3, 0, 0, w.px(), w.py(), w.pz(), w.e(), mw)
        for i in (i_lep, i_nu):
            q = ev[i]
            e.append(q.id(), 23, 1, 0, 0, 0, 0, 0, q.px(), q.py(), q.pz(), q.e(), q.m())
        e[2].scale(mw)
        e[3].scale(mw)
        py_dec.forceTimeShower(2, 3, mw)
        lep_new = nu_new = None
        photons = []
        for j in range(4, e.size()) if e.size() > 4 else ():
            p = e[j]
            if not p.isFinal():
                continue
            if p.id() == 22:
                photons.append(j)
            elif p.id() == ev[i_lep].id():
                lep_new = j
            elif p.id() == ev[i_nu].id():
                nu_new = j
        pl = e[lep_new].p() if lep_new is not None else e[2].p()
        pn = e[nu_new].p() if nu_new is not None else e[3].p()
        ev[f_lep].p(pythia8mc.Vec4(pl.px(), pl.py(), pl.pz(), pl.e()))
        ev[f_nu].p(pythia8mc.Vec4(pn.px(), pn.py(), pn.pz(), pn.e()))
        for j in photons:
            p = e[j]
            k = ev.append(22, 51, f_lep, 0, 0, 0, 0, 0, p.px(), p.py(), p.pz(), p.e(), 0.0)
            ev[k].scale(e[j].scale())
        fl = [*others, (f_lep, (ev[f_lep].id(), pl.e(), pl.px(), pl.py(), pl.pz()))]
        try:
            callback(ev, fl, 1.0 / reshowers, f_lep, r == 0)
        finally:
            while ev.size() > n0:
                ev.popBack()
            ev[f_lep].p(lep0)
            ev[f_nu].p(nu0)
