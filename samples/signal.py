"""Signal generation: pp → W → μ N_D, N_D → ν Z_D, Z_D → e⁺e⁻ / μ⁺μ⁻ with Pythia 8.

The whole chain runs inside Pythia so the displaced Z_D decay vertex propagates to its
leptons (and their FSR). Settings (issue 2; tested with pythia8mc 8.317.2):

- N_D is a fresh id, ``9990014`` (``9900014`` is predefined and its width calculator
  overrides what is set), spin ½ Dirac (``N_D N_Dbar``), one channel ν_μ Z_D, prompt
  (cτ ~ nm, :func:`samples.model.nd_ctau_mm`).
- Z_D is ``4900023`` with the full ``new`` line (its default has mMin = 100 GeV), cτ from
  :func:`samples.model.zd_ctau_mm`, channels e⁺e⁻ and μ⁺μ⁻ in the ratio of their
  DarkCast branching fractions (only e⁺e⁻ below 2 m_μ). Other Z_D decays (hadrons, ττ)
  are not generated; the sample's cross section carries BR(Z_D → ee + μμ).
- ``24:addChannel = 1 1e-3 100 -13 9990014`` with every other W channel off: W⁺ → μ⁺ N_D
  and, by Pythia's automatic charge conjugation, W⁻ → μ⁻ N̄_D (both appear; tested).
  The channel's branching ratio is irrelevant (it is the only open one); the rate comes
  from :func:`samples.model.signal_cross_section_pb`.
- **V−A**: ``meMode 100`` means the channel has no matrix element of its own, but the
  W decay angle is still reweighted by the production process (Pythia's
  ``Sigma1ffbar2W::weightDecay``, (1 ± cos θ*)²): measured with 4000 events at
  m_N = 10 GeV, ⟨cos² θ*⟩ = 0.395 ± 0.005 for W → μ N_D vs 0.397 for SM W → μν, against
  1/3 for flat angles. So the V−A angular correlation is kept (for a massless ν; the
  O(m_N²/m_W²) change of the angular distribution for a massive N_D is neglected).
- ``HadronLevel:Hadronize = off`` and ``PartonLevel:MPI = off`` by default (the m_ℓℓ and
  displacement shapes need neither; ~25× faster); ``hadron_level=True`` turns both on
  for the H_T-veto / isolation efficiencies. (``HadronLevel:all = off`` would also switch
  off particle decays, the Z_D's included.)

Lifetimes: one sample serves an αε² scan by reweighting in the Z_D proper decay length.
``generate_signal(..., lifetime_mix=[αε²_1, ...])`` generates the jobs round-robin at the
scan's lifetimes and records the mixture in the dataset metadata (``lifetime_mix``:
αε², cτ and generator-weight fraction of each component); the processor reweights with
:func:`samples.reweight.mixture_lifetime_weight`, bounded by 1/f_k at each scan value and
populated at every one. (A single sample at the longest cτ, reweighted with
:func:`samples.reweight.lifetime_weight`, has bounded weights too but almost no prompt
decays at light Z_D: 4 of 2000 events below 1 mm at m_N = 10 GeV, m_ZD = 30 MeV.)
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darknu import __version__
from darknu.errors import DarknuError, OutputExistsError, ParameterError
from darknu.io import json_digest, prepare_output_dir, progress
from darknu.parallel import ExecutorSpec, map_tasks
from samples import fileset as fs
from samples.jobs import SEED_MAX, check_count, derive_seed, split_events
from samples.model import (
    U2_REF,
    SignalPoint,
    cross_section,
    nd_ctau_mm,
    signal_cross_section_pb,
    w_phase_space_factor,
    zd_branching,
    zd_ctau_mm,
)
from samples.nanoaod import ND_ID, ZD_ID, EventBuffer, read_metadata, write_nanoaod

log = logging.getLogger(__name__)

SIGNAL_STREAM = "signal"


def pythia_settings(
    point: SignalPoint, *, ctau_mm: float, pythia_seed: int, hadron_level: bool = False
) -> list[str]:
    """The Pythia 8 ``readString`` lines for ``point`` (recorded in each file's metadata)."""
    br = zd_branching(point.m_ZD)
    lep = br["ee"] + br["mumu"]
    if not lep > 0:
        raise ParameterError(f"m_ZD = {point.m_ZD} GeV: BR(Z_D -> ee + mumu) = 0, no signal")
    on = "on" if hadron_level else "off"
    lines = [
        f"Beams:eCM = {point.sqrt_s_TeV * 1000.0:.1f}",
        "WeakSingleBoson:ffbar2W = on",
        "24:onMode = off",
        f"{ND_ID}:new = N_D N_Dbar 2 0 0 {point.m_N!r} 0.0 0.0 0.0 0.0",
        f"{ND_ID}:isResonance = off",
        f"{ND_ID}:mayDecay = on",
        f"{ND_ID}:oneChannel = 1 1.0 0 14 {ZD_ID}",
        f"{ZD_ID}:new = Z_D void 3 0 0 {point.m_ZD!r} 0.0 0.0 0.0 {ctau_mm!r}",
        f"{ZD_ID}:isResonance = off",
        f"{ZD_ID}:mayDecay = on",
        f"{ZD_ID}:oneChannel = 1 {br['ee'] / lep!r} 0 11 -11",
    ]
    if br["mumu"] > 0:
        lines.append(f"{ZD_ID}:addChannel = 1 {br['mumu'] / lep!r} 0 13 -13")
    lines += [
        f"24:addChannel = 1 1e-3 100 -13 {ND_ID}",
        f"HadronLevel:Hadronize = {on}",
        f"PartonLevel:MPI = {on}",
        "Random:setSeed = on",
        f"Random:seed = {pythia_seed}",
        "Print:quiet = on",
    ]
    return lines


def make_pythia(settings: list[str]) -> Any:
    """A Pythia 8 instance initialised with ``settings`` (raises if one is rejected)."""
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in settings:
        if not pythia.readString(line):
            raise DarknuError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise DarknuError("Pythia initialisation failed; settings: " + "; ".join(settings))
    return pythia


def generate_buffer(
    point: SignalPoint, *, events: int, seed: int, job: int = 0, hadron_level: bool = False
) -> tuple[EventBuffer, list[str]]:
    """Generate ``events`` signal events of job ``job`` in this process; no file written."""
    events = check_count("events", events)
    settings = pythia_settings(
        point,
        ctau_mm=zd_ctau_mm(point.m_ZD, point.alpha_eps2),
        pythia_seed=derive_seed(seed, job, stream=SIGNAL_STREAM),
        hadron_level=hadron_level,
    )
    pythia = make_pythia(settings)
    info = pythia.infoPython()
    buf = EventBuffer(hadron_level=hadron_level, with_zd=True)
    failures = 0
    bar = progress(desc=f"signal job {job}", total=events, unit="ev")
    while len(buf) < events:
        if not pythia.next():
            failures += 1
            if failures > max(10, events // 10):
                raise DarknuError(f"Pythia failed {failures} times in job {job}; giving up")
            continue
        buf.append_pythia(pythia.event, weight=info.weight())
        if len(buf) % 100 == 0:
            bar.update(100)
    bar.update(len(buf) % 100)
    bar.close()
    if failures:
        log.info("job %d: %d Pythia failures skipped (events regenerated)", job, failures)
    return buf, settings


#: Charged-hadron H_T veto of the preselection (spec §4): Σ p_T of charged hadrons with
#: p_T > 2 GeV and |η| < 2.5 must stay below 30 GeV.
HT_HADRON_PT_MIN_GEV = 2.0
HT_HADRON_ETA_MAX = 2.5
HT_MAX_GEV = 30.0
_HT_TABLE = "ht_veto_efficiency.toml"


@dataclass(frozen=True)
class Efficiency:
    """A binomial efficiency with its statistical uncertainty."""

    value: float
    error: float
    n_pass: int
    n_total: int


def ht_veto_efficiency(arrays: dict[str, Any]) -> Efficiency:
    """Fraction of events passing the charged-hadron H_T veto, from ``ChargedHadron``.

    Only meaningful for hadron-level samples. (The selection stage applies the veto to
    the data; this is the inclusive efficiency quoted for parton-level samples.)
    """
    import awkward as ak
    import numpy as np

    ch = arrays["ChargedHadron"]
    sel = (ch.pt > HT_HADRON_PT_MIN_GEV) & (abs(ch.eta) < HT_HADRON_ETA_MAX)
    ht = ak.to_numpy(ak.sum(ch.pt[sel], axis=1))
    n, k = len(ht), int(np.sum(ht < HT_MAX_GEV))
    p = k / n
    return Efficiency(value=p, error=math.sqrt(max(p * (1 - p), 1.0 / n) / n), n_pass=k, n_total=n)


def measure_ht_veto_efficiency(point: SignalPoint, *, events: int, seed: int) -> Efficiency:
    """Generate ``events`` hadron-level (MPI + hadronisation) events and measure the veto."""
    buf, _ = generate_buffer(point, events=events, seed=seed, hadron_level=True)
    return ht_veto_efficiency(buf.to_arrays())


def tabulated_ht_veto_efficiency() -> tuple[float, str]:
    """The signal H_T-veto efficiency measured on full samples (``samples/data``) and its source."""
    import tomllib
    from importlib import resources

    text = (resources.files("samples") / "data" / _HT_TABLE).read_text()
    rec = tomllib.loads(text)["signal"]
    source = (
        f"{rec['source']}; {rec['value']:.4f} +- {rec['error']:.4f} (stat), "
        f"{rec['n_events']} hadron-level events"
    )
    return float(rec["value"]), source


@dataclass(frozen=True)
class SignalJob:
    """Everything one generation job needs (picklable, sent to workers)."""

    point: SignalPoint
    events: int
    seed: int
    job: int
    hadron_level: bool
    path: str
    force: bool

    def metadata(self) -> dict[str, Any]:
        """File metadata known before generation (docs/interfaces.md §1)."""
        p = self.point
        ctau = zd_ctau_mm(p.m_ZD, p.alpha_eps2)
        br = zd_branching(p.m_ZD)
        xs = cross_section("W_munu", p.sqrt_s_TeV)
        settings = pythia_settings(
            p,
            ctau_mm=ctau,
            pythia_seed=derive_seed(self.seed, self.job, stream=SIGNAL_STREAM),
            hadron_level=self.hadron_level,
        )
        meta: dict[str, Any] = {
            "process": p.sample_name,
            "kind": "signal",
            "sqrt_s_TeV": p.sqrt_s_TeV,
            "xsec_pb": signal_cross_section_pb(p.m_N, p.m_ZD, U2=U2_REF, sqrt_s_TeV=p.sqrt_s_TeV),
            "xsec_source": (
                f"sigma(pp->W->mu nu) = {xs.xsec_pb:g} pb [{xs.source}] x U2_ref x "
                f"(1-x)^2(1+x/2) = {w_phase_space_factor(p.m_N):.6g} x BR(Z_D->ee+mumu) "
                "(DarkCast v1 table); samples.model.signal_cross_section_pb"
            ),
            "n_events": self.events,
            "seed": self.seed,
            "job": self.job,
            "generator": {"name": "pythia8mc", "settings": settings},
            "hadron_level": self.hadron_level,
            "darknu_version": __version__,
            "m_N_GeV": p.m_N,
            "m_ZD_GeV": p.m_ZD,
            "alpha_eps2": p.alpha_eps2,
            "g_D": p.g_D,
            "U2_ref": U2_REF,
            "ctau_ZD_mm": ctau,
            "ctau_N_mm": nd_ctau_mm(p.m_N, p.m_ZD, U2=U2_REF, g_D=p.g_D),
            "br_ZD_ee": br["ee"],
            "br_ZD_mumu": br["mumu"],
        }
        if not self.hadron_level:
            eff, eff_source = tabulated_ht_veto_efficiency()
            meta["ht_veto_efficiency"] = eff
            meta["ht_veto_efficiency_source"] = eff_source
        meta["job_digest"] = json_digest({k: v for k, v in meta.items() if k != "darknu_version"})
        return meta


@dataclass(frozen=True)
class JobResult:
    path: str
    metadata: dict[str, Any]
    skipped: bool


def run_signal_job(task: SignalJob) -> JobResult:
    """Run one job (module-level so process pools and dask can pickle it)."""
    meta = task.metadata()
    path = Path(task.path)
    if path.exists() and not task.force:
        try:
            old = read_metadata(path)
        except DarknuError:
            old = {}
        if old.get("job_digest") == meta["job_digest"]:
            log.info("job %d: %s exists with matching metadata; skipped", task.job, path)
            return JobResult(str(path), old, skipped=True)
        raise OutputExistsError(
            f"{path} exists but was made with other settings; pass force=True / --force"
        )
    buf, _ = generate_buffer(
        task.point, events=task.events, seed=task.seed, job=task.job, hadron_level=task.hadron_level
    )
    meta["sum_genweight"] = buf.sum_genweight
    write_nanoaod(path, buf, meta, overwrite=True)
    return JobResult(str(path), read_metadata(path), skipped=False)


def generate_signal(
    *,
    m_N: float,
    m_ZD: float,
    alpha_eps2: float = 2e-10,
    g_D: float = 0.25,
    sqrt_s_TeV: float = 13.0,
    events: int,
    seed: int,
    out_dir: str | os.PathLike[str],
    jobs: int = 1,
    executor: ExecutorSpec | None = None,
    hadron_level: bool = False,
    force: bool = False,
    lifetime_mix: Sequence[float] | None = None,
) -> list[Path]:
    """Generate a signal sample as ``jobs`` ROOT files in ``out_dir``; update its fileset.

    ``lifetime_mix``: αε² values (same m_ZD) whose lifetimes the jobs cycle through
    (``max(jobs, len(lifetime_mix))`` jobs; ``alpha_eps2`` is then ignored); the fileset
    entry's ``lifetime_mix`` lists each component's αε², cτ_ZD [mm] and fraction of the
    summed generator weight, for :func:`samples.reweight.mixture_lifetime_weight`.

    Every parameter is validated before anything runs (:class:`ParameterError` names
    it). Job ``j`` is seeded from ``(seed, j)`` only, so results are identical on any
    executor. A job whose file exists with matching metadata is skipped (resume); a file
    made with other settings needs ``force``. The entry ``signal_mN{m_N:g}_mZD{m_ZD:g}__nominal``
    of ``<out_dir>/fileset.json`` lists the files, with ``xsec_pb`` (at ``U2_REF``) and
    the summed ``sum_genweight`` / ``n_events``.
    """
    mix = sorted({float(a) for a in lifetime_mix}) if lifetime_mix else [alpha_eps2]
    points = [
        SignalPoint(m_N=m_N, m_ZD=m_ZD, alpha_eps2=a, g_D=g_D, sqrt_s_TeV=sqrt_s_TeV) for a in mix
    ]
    point = points[0]
    events = check_count("events", events)
    seed = check_count("seed", seed, low=0, high=SEED_MAX)
    jobs = check_count("jobs", jobs, high=events)
    jobs = max(jobs, len(points))
    if jobs > events:
        raise ParameterError(f"events = {events} is fewer than the {len(points)} lifetimes of lifetime_mix")
    if not isinstance(hadron_level, bool):
        raise ParameterError(f"hadron_level must be True or False, got {hadron_level!r}")
    spec = executor or ExecutorSpec(kind="iterative")
    out = prepare_output_dir(out_dir, force=force, resume=True)
    def tag(p: SignalPoint) -> str:
        return (
            f"{p.sample_name}_aeps2_{p.alpha_eps2:g}_{p.sqrt_s_TeV:g}TeV"
            f"{'_had' if hadron_level else ''}_seed{seed}"
        )

    tasks = [
        SignalJob(
            point=points[j % len(points)],
            events=n,
            seed=seed,
            job=j,
            hadron_level=hadron_level,
            path=str(out / f"{tag(points[j % len(points)])}_job{j}.root"),
            force=force,
        )
        for j, n in enumerate(split_events(events, jobs))
    ]
    log.info("signal %s: %d events in %d job(s) on %s", point.sample_name, events, jobs, spec.kind)
    results = map_tasks(run_signal_job, tasks, executor=spec, desc=f"generate {point.sample_name}")
    n_skipped = sum(r.skipped for r in results)
    if n_skipped:
        log.info("%d of %d jobs were already done and skipped", n_skipped, len(results))
    meta = {k: v for k, v in results[0].metadata.items() if k not in ("job", "job_digest")}
    generator = dict(meta["generator"])
    generator["settings_job0"] = generator.pop("settings")  # jobs differ in Random:seed (and Z_D tau0 in a mix)
    meta["generator"] = generator
    meta["n_events"] = sum(int(r.metadata["n_events"]) for r in results)
    meta["sum_genweight"] = math.fsum(float(r.metadata["sum_genweight"]) for r in results)
    meta["n_jobs"] = len(results)
    if lifetime_mix:
        sumw = {a: 0.0 for a in mix}
        for r in results:
            sumw[float(r.metadata["alpha_eps2"])] += float(r.metadata["sum_genweight"])
        meta["lifetime_mix"] = [
            {"alpha_eps2": a, "ctau_ZD_mm": zd_ctau_mm(m_ZD, a), "fraction": sumw[a] / meta["sum_genweight"]}
            for a in mix
        ]
    fs.update_fileset(
        out / "fileset.json",
        {
            f"{point.sample_name}__nominal": {
                "files": {r.path: fs.TREE_NAME for r in results},
                "metadata": meta,
            }
        },
        force=force,
    )
    return [Path(r.path) for r in results]
