"""Phase-space slicing of the photon source for W(→ℓν) + γ*(→ℓℓ): method ``sliced``.

The forced method (:mod:`samples.background_forced`) removes the γ → ℓℓ probability from the
cost, but only a few per cent of W events have a photon hard enough for the preselection,
and the photons radiated by the initial-state quarks (ISR) dominate Σ W². ``sliced``
generates those photons from the matrix element instead, so that every such event carries
a hard photon (``docs/background.md`` §8):

- sample **H**: Pythia's ``WeakBosonAndParton:ffbar2Wgm`` (q q̄′ → W γ at LO, photon off
  the quarks *and* the W, with the radiation zero; W → ℓν decayed by Pythia afterwards,
  so W-decay-lepton radiation is *not* in it) with ``PhaseSpace:pTHatMin = p_cut``. Only
  the hard-process photon is split (scale = its p_T at the hard process);
- sample **S**: the ``forced`` method on inclusive W → ℓν, except that photons emitted by
  the initial state (ISR, Pythia status 41–49 at production) with emission p_T
  (``Particle.scale()`` of the first copy) above ``p_cut`` are not split (they belong to
  H). Photons off the W-decay lepton (status 51, any p_T) and off final-state quarks keep
  being split.

Normalisation: both samples are W productions of the same Pythia set-up; weights are per
generated S event, H events carrying σ_H/σ_W · N_S/N_H with σ_H, σ_W Pythia's own LO
estimates (``Info.sigmaGen``) of the two processes, so the measured inclusive σ(W → ℓν)
of ``cross_sections.toml`` sets the scale of both (the LO K-factor cancels in the ratio).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

# Defaults (samples.background.SLICE_PT_GEV = 5 GeV, HARD_FRACTION = 0.02): initial-state
# photons above the slicing p_T come from the ME sample H; fraction of a job's events spent
# on H. Sample S dominates the variance (W-lepton photons); the optimum
# t_H/t_S = √(a_H/a_S) ≈ 0.016 (a = variance × CPU time of each part, measured;
# docs/background.md §8).

#: Photon origins (column ``origin`` of :attr:`JobResult.presel_aux`).
ORIGIN_HARD, ORIGIN_ISR, ORIGIN_FSR_LEPTON, ORIGIN_FSR_OTHER = 0, 1, 2, 3
#: ``sliced_fsr`` only: photon of the forced W-lepton emission (sample D, part 2).
ORIGIN_FORCED_FSR = 4
#: ``sliced_fsrq`` only: photon of the forced final-state-quark emission (sample Q, part 3).
ORIGIN_FORCED_QUARK = 5

#: Tags of the per-job random streams, ``numpy.random.default_rng([seed, job, tag])``: one
#: per purpose (the forced splitting of samples.background uses 0xBAC6); distinct, so that
#: no two streams of a job repeat each other's numbers (tests/samples/test_background_wdecay.py).
RNG_SPLIT, RNG_QUARK, RNG_THIN, RNG_WDECAY = 0xBAC7, 0xBAC8, 0xBAC9, 0xBACA

_W_CHANNEL = {"W_munu_gstar": "24:onIfAny = 13", "W_enu_gstar": "24:onIfAny = 11"}


def hard_settings(process: str, *, sqrt_s_TeV: float, hadron_level: bool, seed: int,
                  slice_pt: float) -> list[str]:
    """Pythia settings of sample H (q q̄′ → W γ, p_T(γ) > ``slice_pt``)."""
    from samples.background import _COMMON, _FAST, _FULL

    return [f"Beams:eCM = {1000.0 * sqrt_s_TeV:.1f}", "WeakBosonAndParton:ffbar2Wgm = on",
            "24:onMode = off", _W_CHANNEL[process], f"PhaseSpace:pTHatMin = {slice_pt:g}",
            *_COMMON, *(_FULL if hadron_level else _FAST), "TimeShower:QEDshowerByGamma = off",
            "Random:setSeed = on", f"Random:seed = {seed}"]


def soft_settings(task: Any) -> list[str]:
    """Pythia settings of sample S of a sliced job (inclusive W, the job's own seed)."""
    from samples import background as bg
    from samples.jobs import derive_seed

    seed = derive_seed(task.seed, task.job, stream=f"background:{task.process}:sliced")
    return bg.pythia_settings(task.process, method="forced", sqrt_s_TeV=task.sqrt_s_TeV,
                              hadron_level=task.hadron_level, seed=seed)


def check_sliced(process: str, slice_pt: float, hard_fraction: float, events: int) -> None:
    """Raise :class:`ParameterError` for a ``sliced`` request that cannot be generated."""
    from darknu.errors import ParameterError, check_range

    if process not in _W_CHANNEL:
        raise ParameterError(
            f"method 'sliced' is implemented for W processes only, not {process!r}")
    from samples.background import PHOTON_PT_MIN_GEV

    check_range("slice_pt", slice_pt, low=PHOTON_PT_MIN_GEV, high=1000.0, unit="GeV")
    check_range("hard_fraction", hard_fraction, low=0.0, high=1.0)
    n_hard = int(round(events * hard_fraction))
    if n_hard < 1 or events - n_hard < 1:
        raise ParameterError(f"method 'sliced' needs events in both samples: {events} events x "
                             f"hard_fraction {hard_fraction} gives {n_hard} in sample H")


#: Kinds of a photon-splitting recoiler (:func:`hard_photon_recoiler`,
#: :func:`shower_photon_recoiler`, :func:`photon_copies`).
RECOIL_FINAL, RECOIL_INCOMING, RECOIL_W = 0, 1, 2


def hard_photon_recoiler(ev: Any, ig: int) -> tuple[int, int] | None:
    """(index, kind) of the γ → ℓℓ recoiler of sample H's hard-process photon (final copy
    ``ig``), as Pythia 8.317's ``SimpleTimeShower`` sets it up and moves it:

    - ``setupQEDdip``, when the hard system starts showering: the charged member of the
      hard process with the smallest p_γ·p_j / chargeType_j² (hard-process momenta, record
      rows 3–6). With ``TimeShower:allowBeamRecoil = on`` (the default) the two incoming
      partons are candidates besides the W (chargeType 3); the photon has no flavour
      partner, so the chargeType-weighted search decides.
    - ``update`` after each initial-state branching on the recoiler's side
      (:func:`samples.background_fsr.follow_incoming_recoiler`): a charged new incoming
      parton takes over; at an uncharged one (a gluon) the emitted parton does, and the
      dipole is final-final from then on.

    Kinds: ``RECOIL_INCOMING`` (the last charged initiator of its side; the photon's
    dipole is final-initial), ``RECOIL_FINAL`` (a final parton's last copy),
    ``RECOIL_W`` (the W's last copy, the one that decays: its decay products follow
    it). The record is the one after the whole shower, so initial-state branchings below
    the splitting's p_T are included, an approximation (docs/background.md §14). ``None``
    if the record has no such recoiler."""
    from samples.background_fsr import _side_chain, follow_incoming_recoiler

    pg = ev[ev[ig].iTopCopyId()].p()
    best, best_pp = -1, math.inf
    for j in (3, 4, 5, 6):
        p = ev[j]
        ct = p.chargeType()
        if j == ev[ig].iTopCopyId() or ct == 0 or (j > 4 and p.idAbs() != 24):
            continue
        pp = (p.p() * pg) / (ct * ct)
        if pp < best_pp:
            best, best_pp = j, pp
    if best < 0:
        return None
    if best > 4:
        return ev[best].iBotCopyId(), RECOIL_W
    out = follow_incoming_recoiler(ev, _side_chain(ev, best), best)
    if out is None:
        return None
    return out[0], RECOIL_INCOMING if out[1] else RECOIL_FINAL


def split_tries(pg: Any, pr: Any, scale: float, over: int, *, rng: Any,
                alpha: Any) -> Any:
    """The forced splittings of photon momentum ``pg`` against recoiler momentum ``pr``
    (:func:`samples.background_forced.force_split`, production scale ``scale``): ``over``
    tries into e⁺e⁻, then ``over`` into μ⁺μ⁻. Yields (lepton id, split, weight / over) of
    the tries inside Pythia's phase space (the others are counted by the weights)."""
    from samples.background_forced import M_ELECTRON_GEV, M_MUON_GEV, force_split

    for lid, mlep in ((11, M_ELECTRON_GEV), (13, M_MUON_GEV)):
        for _ in range(over):
            sp = force_split(pg, pr, scale_gev=scale, m_lepton=mlep, rng=rng, alpha_em=alpha,
                             sudakov=True)
            if sp is not None:
                yield lid, sp, sp.weight / over


def hard_photon(ev: Any) -> tuple[int, float] | None:
    """Sample H's hard-process photon (status 23): (its final copy, its p_T at the hard
    process, i.e. p̂_T, the scale of its splitting), or ``None`` if that copy is not a
    final photon above ``PHOTON_PT_MIN_GEV``."""
    from samples.background import PHOTON_PT_MIN_GEV

    for j in range(ev.size()):
        if abs(ev[j].status()) == 23 and ev[j].id() == 22:
            ig = ev[j].iBotCopyId()
            if ev[ig].isFinal() and ev[ig].pT() > PHOTON_PT_MIN_GEV:
                return ig, ev[j].pT()
            return None
    return None


def photon_copies(ev: Any, ig: int, ir: int, kind: int, fl_all: list[Any], scale: float,
                  over: int, *, rng: Any, alpha: Any) -> Any:
    """The forced splittings (:func:`split_tries`) of final photon ``ig`` against recoiler
    ``ir`` of ``kind`` (``RECOIL_*``); ``fl_all``: the event's final leptons as
    :func:`samples.background._final_leptons`. A final recoiler takes the final-final
    kinematics' recoil (a lepton recoiler with its new momentum in the copy's lepton
    list); an incoming one (final-initial dipole) takes it as in
    ``SimpleTimeShower::branch`` (p_in → 2 p_in − p′), with Pythia's beam-recoil damping
    in the weight; a W recoiler's final descendants are boosted from the old to the new W
    frame. Yields (the copy's final leptons, lepton id, split with the recoiler's new
    momentum, weight, moved momenta by record index), before the generation filter."""
    from samples.background_forced import _boost

    pg, pr = _p4(ev[ig]), _p4(ev[ir])
    pt2_g = ev[ig].pT2()
    w_moved: list[int] = []
    if kind == RECOIL_W:
        w_moved = [j for j in range(ev.size()) if ev[j].isFinal() and ev[j].isAncestor(ir)]
        b_old = (-pr[1] / pr[0], -pr[2] / pr[0], -pr[3] / pr[0])
    for lid, sp, bias in split_tries(pg, pr, scale, over, rng=rng, alpha=alpha):
        moved: dict[int, tuple[float, ...]] = {}
        if kind == RECOIL_INCOMING:
            bias *= beam_recoil_damping(pt2_g, sp.m_pair)
            moved[ir] = tuple(2.0 * a - b for a, b in zip(pr, sp.recoiler, strict=True))
        elif kind == RECOIL_W:
            wn = sp.recoiler
            b_new = (wn[1] / wn[0], wn[2] / wn[0], wn[3] / wn[0])
            moved[ir] = wn
            for j in w_moved:
                moved[j] = _boost(_boost(_p4(ev[j]), b_old), b_new)
        else:
            moved[ir] = sp.recoiler
        new = [(lp[0], *moved[i]) if i in moved else lp for i, lp in fl_all]
        new.append((lid, *sp.lepton_minus))
        new.append((-lid, *sp.lepton_plus))
        yield new, lid, sp._replace(recoiler=moved[ir]), bias, moved


def shower_photon_recoiler(ev: Any, ig: int) -> tuple[int, int] | None:
    """(index, kind) of the γ → ℓℓ recoiler of a shower photon of sample S (final copy
    ``ig``). A photon of the initial-state shower (top copy status 41–49) gets its dipole
    when it is emitted (``SimpleTimeShower::update`` → ``setupQEDdip``, with the partons
    of that moment; no flavour partner, so the chargeType-weighted search decides), and
    an incoming recoiler then moves along its line: the rules of
    :func:`samples.background_fsr.quark_recoiler`, kinds as :func:`hard_photon_recoiler`.
    Any other photon: :func:`samples.background._recoiler` (final kind)."""
    from samples import background as bg
    from samples.background_fsr import quark_recoiler

    if 41 <= abs(ev[ev[ig].iTopCopyId()].status()) <= 49:
        rr = quark_recoiler(ev, ig)
        if rr is None:
            return None
        j, inc = rr
        if inc:
            return j, RECOIL_INCOMING
        return j, RECOIL_W if ev[j].idAbs() == 24 else RECOIL_FINAL
    ir = bg._recoiler(ev, ig)
    return None if ir is None else (ir, RECOIL_FINAL)


def beam_recoil_damping(pt2_photon: float, m_pair: float) -> float:
    """``TimeShower:dampenBeamRecoil = on`` (Pythia's default): a branching whose recoiler
    is an incoming parton is accepted with 4 p_T²(radiator) / (4 p_T² + m²)
    (``SimpleTimeShower::pT2nextQED``; p_T of the photon, m the pair mass, GeV).

    >>> beam_recoil_damping(100.0, 10.0)
    0.8
    """
    return 4.0 * pt2_photon / (4.0 * pt2_photon + m_pair * m_pair)


def photon_origin(ev: Any, ig: int) -> tuple[int, float]:
    """(origin code, production scale [GeV]) of final photon ``ig`` of a Pythia event.

    Hard process (status 21–29) → ``ORIGIN_HARD``; initial-state shower (41–49) →
    ``ORIGIN_ISR``; final-state shower off a charged lepton → ``ORIGIN_FSR_LEPTON``;
    anything else (FSR off quarks or resonances) → ``ORIGIN_FSR_OTHER``. The scale is the
    first copy's ``scale()``, the emission p_T of shower photons.
    """
    top = ev[ev[ig].iTopCopyId()]
    st = abs(top.status())
    if 21 <= st <= 29:
        return ORIGIN_HARD, top.scale()
    if 41 <= st <= 49:
        return ORIGIN_ISR, top.scale()
    if ev[top.mother1()].idAbs() in (11, 13, 15):
        return ORIGIN_FSR_LEPTON, top.scale()
    return ORIGIN_FSR_OTHER, top.scale()


def _p4(p: Any) -> tuple[float, float, float, float]:
    return (p.e(), p.px(), p.py(), p.pz())


def _w_decay_final(ev: Any) -> tuple[int, int]:
    """Final copies of the charged lepton and the neutrino of the (last) W decay."""
    for i in range(ev.size() - 1, 0, -1):
        if ev[i].idAbs() == 24:
            d1, d2 = ev[i].daughter1(), ev[i].daughter2()
            i_lep = d1 if ev[d1].isCharged() else d2
            i_nu = d2 if i_lep == d1 else d1
            return ev[i_lep].iBotCopyId(), ev[i_nu].iBotCopyId()
    raise ValueError("no W boson in the event")


def write_split_copy(buf: Any, ev: Any, ig: int, ir: int, lid: int, sp: Any, w: float,
                     bias: float, group: int,
                     moved: dict[int, tuple[float, ...]] | None = None) -> None:
    """Append to ``buf`` the copy of ``ev`` in which photon ``ig`` is split as ``sp`` (into
    ``lid``, recoiler ``ir`` taking ``sp.recoiler``; ``group``: the Pythia event's index);
    the entries of ``moved`` (other than ``ir``) take those momenta first (a W recoiler's
    decay products). ``ev`` is restored afterwards."""
    import pythia8mc

    g, r = ev[ig], ev[ir]
    pg = (g.e(), g.px(), g.py(), g.pz())
    pr = (r.e(), r.px(), r.py(), r.pz())
    status = g.status()
    from samples import background as bg

    others = {j: v for j, v in (moved or {}).items() if j != ir}
    saved = {j: ev[j].p() for j in others}
    try:
        for j, v in others.items():
            ev[j].p(pythia8mc.Vec4(v[1], v[2], v[3], v[0]))
        bg._apply_split(ev, ig, ir, lid, sp)
        try:
            buf.append_pythia(ev, weight=w, extra={"biasWeight": bias, "genEventGroup": group})
        finally:
            bg._undo_split(ev, ig, ir, pg, pr, status)
    finally:
        for j, v in saved.items():
            ev[j].p(v)


def write_lepton_emission_copy(buf: Any, ev: Any, i_lep: int, i_nu: int, lid: int, sp: Any,
                               photon: tuple[float, ...], pt_evol: float,
                               nu: tuple[float, ...], w: float, bias: float,
                               group: int) -> None:
    """Append to ``buf`` the copy of ``ev`` with a forced W-lepton photon (sample D): the
    lepton takes ``sp.recoiler``, the neutrino ``nu``, the photon (status 51, mother the
    lepton, scale ``pt_evol``) is split as ``sp``; ``ev`` is restored afterwards."""
    import pythia8mc

    from samples import background as bg

    n0 = ev.size()
    old_l, old_n = ev[i_lep].p(), ev[i_nu].p()
    try:
        e, x, y, z = sp.recoiler
        ev[i_lep].p(pythia8mc.Vec4(x, y, z, e))
        e, x, y, z = nu
        ev[i_nu].p(pythia8mc.Vec4(x, y, z, e))
        e, x, y, z = photon
        ig = ev.append(22, 51, i_lep, 0, 0, 0, 0, 0, x, y, z, e, 0.0)
        ev[ig].scale(pt_evol)
        bg._apply_split(ev, ig, i_lep, lid, sp)  # sets the lepton to sp.recoiler
        buf.append_pythia(ev, weight=w, extra={"biasWeight": bias, "genEventGroup": group})
    finally:
        while ev.size() > n0:
            ev.popBack()
        ev[i_lep].p(old_l)
        ev[i_nu].p(old_n)


def write_quark_emission_copy(buf: Any, ev: Any, iq: int, lid: int, sp: Any,
                              photon: tuple[float, ...], pt_evol: float,
                              moved: dict[int, tuple[float, ...]], w: float,
                              bias: float, group: int) -> None:
    """Append to ``buf`` the copy of ``ev`` with a forced final-state-quark photon (sample
    Q): the particles of ``moved`` take their new momenta, the photon (status 51, mother
    the quark, scale ``pt_evol``) is split as ``sp`` against the quark; ``ev`` is restored
    afterwards."""
    import pythia8mc

    from samples import background as bg

    n0 = ev.size()
    saved = {j: ev[j].p() for j in moved}
    try:
        for j, v in moved.items():
            ev[j].p(pythia8mc.Vec4(v[1], v[2], v[3], v[0]))
        e, x, y, z = photon
        ig = ev.append(22, 51, iq, 0, 0, 0, 0, 0, x, y, z, e, 0.0)
        ev[ig].scale(pt_evol)
        bg._apply_split(ev, ig, iq, lid, sp)
        buf.append_pythia(ev, weight=w, extra={"biasWeight": bias, "genEventGroup": group})
    finally:
        while ev.size() > n0:
            ev.popBack()
        for j, v in saved.items():
            ev[j].p(v)


class CopyThinning:
    """Russian roulette of the written copies outside the core selection.

    A copy passing :func:`samples.background.core_copy` is always written with its weight;
    any other copy is written with probability ``keep`` and weight / ``keep`` (one uniform
    draw of its own stream per such copy, in the order the copies are made), so every
    weighted distribution keeps its expectation under any selection. The core contains
    every copy the default detector scenarios can select, so their templates (and the
    truth preselection's statistics) are unchanged; the 1 GeV-electron scenario sees the
    thinned copies (variance, not bias). Both engines call it in the same order and
    write the same copies.
    """

    def __init__(self, keep: float, seed: int, job: int) -> None:
        self.keep = float(keep)
        self.boost = 1.0 / self.keep
        self.rng = np.random.default_rng([seed, job, RNG_THIN])
        self.kept = {False: [], True: []}  # written weights: S-like parts / sample H
        self.n_dropped = 0

    def factor(self, core: bool) -> float:
        """Weight factor of one copy: 1 (core, or no thinning), 1/keep, or 0 (dropped)."""
        return float(self.factors(np.array([core]))[0])

    def factors(self, core: np.ndarray) -> np.ndarray:
        """:meth:`factor` of several copies in their order (one draw per non-core copy:
        numpy draws the same numbers one by one or at once)."""
        out = np.ones(len(core))
        if self.keep < 1.0:
            nc = ~core
            u = self.rng.random(int(np.count_nonzero(nc)))
            drop = u >= self.keep
            out[nc] = np.where(drop, 0.0, self.boost)
            self.n_dropped += int(np.count_nonzero(drop))
        return out

    def written(self, weights: Any, hard: bool) -> None:
        """Record the weights of written copies (of sample H if ``hard``)."""
        self.kept[bool(hard)].append(np.array(weights, dtype=float, ndmin=1))

    def sums(self) -> tuple[float, float, int]:
        """(Σw written of S, D and Q; of H; number of copies written); exact sums
        (``math.fsum``), independent of the order."""
        s, h = (np.concatenate(self.kept[k]) if self.kept[k] else np.zeros(0)
                for k in (False, True))
        return math.fsum(s), math.fsum(h), len(s) + len(h)


#: Written copies per Pythia event expected when a job's buffer is sized: ≥ the 8.8 of the
#: ``sliced_fsrq`` defaults (docs/background.md §10, §15); a buffer that fills up grows.
COPIES_PER_EVENT = 12
#: At most this many copies are allocated up front (~4 GB of address space, not of RSS).
MAX_INITIAL_COPIES = 1 << 22


def expected_copies(task: Any) -> int:
    """The initial capacity in copies of the compiled engine's buffer for ``task``."""
    return int(min(max(COPIES_PER_EVENT * int(task.events), 1024), MAX_INITIAL_COPIES))


def run_sliced_job(task: Any) -> Any:
    """Generate one ``sliced`` job: S (forced, ISR photons above p_cut vetoed) then H.

    Diagnostics: ``hard_fraction = 0`` with a huge ``slice_pt`` is the ``forced`` method
    with the photon origin of every preselected copy in ``presel_aux`` (not reachable
    through :func:`samples.background.make_tasks`, which requires both samples).
    """
    import pythia8mc

    from samples import background as bg
    from samples.background_forced import M_ELECTRON_GEV, M_MUON_GEV, _boost, force_split, sq
    from samples.jobs import derive_seed
    from samples.nanoaod import ColumnBuffer, EventBuffer

    if task.process not in _W_CHANNEL:  # the full check is in make_tasks (check_sliced)
        raise bg.ParameterError(f"method 'sliced' is implemented for W processes only, "
                                f"not {task.process!r}")
    p_cut = float(task.slice_pt)
    n_hard = int(round(task.events * task.hard_fraction))
    n_soft = task.events - n_hard
    h_seed = derive_seed(task.seed, task.job, stream=f"background:{task.process}:sliced:H")
    s_settings = soft_settings(task)
    h_settings = hard_settings(task.process, sqrt_s_TeV=task.sqrt_s_TeV,
                               hadron_level=task.hadron_level, seed=h_seed, slice_pt=p_cut)

    def make(settings: list[str]) -> Any:
        py = pythia8mc.Pythia("", False)
        for s in settings:
            if not py.readString(s):
                raise bg.ParameterError(f"Pythia rejected setting {s!r}")
        if not py.init():
            raise bg.ParameterError(f"Pythia failed to initialise with {settings}")
        return py

    from samples.background_compiled import ENGINES, CompiledEngine

    bg.check_choice("engine", task.engine, ENGINES)
    if task.w_decays != 1 and task.engine != "compiled":
        raise bg.ParameterError(f"w_decays = {task.w_decays} needs the compiled engine (the "
                                f"reference engine {task.engine!r} has no W-decay resampling)")
    t0 = time.process_time()
    rng = np.random.default_rng([task.seed, task.job, RNG_SPLIT])
    rng_q = np.random.default_rng([task.seed, task.job, RNG_QUARK])
    buf: Any = None
    if task.out_path:  # the compiled engine's kernels write into numpy columns
        buf = (ColumnBuffer(hadron_level=task.hadron_level,
                            initial_copies=expected_copies(task))
               if task.engine == "compiled" else EventBuffer(hadron_level=task.hadron_level))
    loose = {(11, 0): 0.0, (13, 0): 0.0, (11, 1): 0.0, (13, 1): 0.0}
    presel: list[tuple[float, float, float, int, int]] = []
    # origin, photon pT, scale, part (0 S, 1 H, 2 D = forced W-lepton emission)
    aux: list[tuple[int, float, float, int]] = []
    hard_rows: list[int] = []  # presel rows of H (rescaled at the end)
    hard_buf: list[int] = []  # buffer entries of H
    thin = CopyThinning(task.thin_keep, task.seed, task.job)

    def record(leps: list[Any], w: float, iev: int, bias: float, origin: int,
               pt_g: float, scale: float, part: int) -> float:
        """Statistics of a copy that passed the generation filter; returns its thinning
        factor (0: not written; the file entry is written by the caller with weight × the
        factor, see :func:`write_split_copy`)."""
        for fl in (11, 13):
            if bg.loose_pair(leps, flavour=fl):
                loose[fl, int(part == 1)] += w
        r = bg.truth_preselection(leps)
        if r is not None:
            if part == 1:
                hard_rows.append(len(presel))
            presel.append((r[0], r[1], w, iev, 0 if r[2] == "ee" else 1))
            aux.append((origin, pt_g, scale, part))
        fac = thin.factor(bg.core_copy(leps))
        if fac:
            thin.written(w * fac, part == 1)
            if buf is not None and part == 1:
                hard_buf.append(len(buf))
        return fac

    def split(ev: Any, ig: int, rr: tuple[int, int] | None, fl_all: list[Any], w_ev: float,
              iev: int, scale: float, origin: int, over: int, part: int) -> None:
        """Split final photon ``ig`` against recoiler ``rr`` = (index, kind) (sample S:
        :func:`shower_photon_recoiler`; H: :func:`hard_photon_recoiler`): the copies of
        :func:`photon_copies`, filtered, recorded, written."""
        if rr is None:
            return
        pt_g = ev[ig].pT()
        for new, lid, sp, bias, moved in photon_copies(ev, ig, *rr, fl_all, scale, over,
                                                       rng=rng, alpha=alpha):
            if not bg.passes_gen_filter(new):
                continue
            fac = record(new, w_ev * bias, iev, bias, origin, pt_g, scale, part)
            if buf is not None and fac:
                write_split_copy(buf, ev, ig, rr[0], lid, sp, w_ev * bias * fac, bias * fac,
                                 iev, moved)

    def emit_split(ev: Any, i_lep: int, i_nu: int, em: Any, fl_all: list[Any], w_ev: float,
                   iev: int, origin: int = ORIGIN_FORCED_FSR) -> None:
        """Sample D: split the forced W-lepton photon ``em`` (recoiler: the new lepton)."""
        others = [lp for i, lp in fl_all if i != i_lep]
        lep_id = ev[i_lep].id()
        for lid, mlep in ((11, M_ELECTRON_GEV), (13, M_MUON_GEV)):
            sp = force_split(em.photon, em.lepton, scale_gev=em.pt_evol, m_lepton=mlep, rng=rng,
                             alpha_em=alpha, sudakov=True)
            if sp is None:
                continue
            bias = em.weight * sp.weight
            new = [*others, (lep_id, *sp.recoiler), (lid, *sp.lepton_minus),
                   (-lid, *sp.lepton_plus)]
            if not bg.passes_gen_filter(new):
                continue
            fac = record(new, w_ev * bias, iev, bias / task.fsr_emissions, origin,
                         math.hypot(em.photon[1], em.photon[2]), em.pt_evol, 2)
            if buf is not None and fac:
                write_lepton_emission_copy(buf, ev, i_lep, i_nu, lid, sp, em.photon,
                                           em.pt_evol, em.recoiler, w_ev * bias * fac,
                                           bias / task.fsr_emissions * fac, iev)

    def emit_split_quark(ev: Any, iq: int, ir: int, r_in: bool, em: Any, q_old: Any,
                         r_old: Any, fl_all: list[Any], w_ev: float, iev: int,
                         w_moved: list[int]) -> None:
        """Sample Q: split the forced quark photon ``em`` (emitted off the quark copy of
        momentum ``q_old`` with recoiler momentum ``r_old`` at the emission p_T). The final
        quark and a final-state recoiler take the emission's momentum change; a W
        recoiler's decay products are boosted from the old to the new W frame. The
        photon splits against the quark that radiated it (its final copy after the
        emission), as Pythia's shower sets up the dipole of an emitted photon
        (``SimpleTimeShower::branch``: ``TimeDipoleEnd(iEmt, iRad, ...)``)."""
        dq = [em.quark[k] - q_old[k] for k in range(4)]
        qf = [a + b for a, b in zip(_p4(ev[iq]), dq)]
        p3 = math.sqrt(sq(qf[1]) + sq(qf[2]) + sq(qf[3]))
        if qf[0] <= p3:  # later gluon emissions took more than the quark's new energy
            qf[0] = math.sqrt(p3 * p3 + sq(ev[iq].m()))
        moved: dict[int, tuple[float, float, float, float]] = {iq: tuple(qf)}
        if not r_in:
            if ev[ir].idAbs() == 24:
                b_old = (-r_old[1] / r_old[0], -r_old[2] / r_old[0], -r_old[3] / r_old[0])
                wn = em.recoiler
                b_new = (wn[1] / wn[0], wn[2] / wn[0], wn[3] / wn[0])
                for j in (ir, *w_moved):
                    moved[j] = _boost(_boost(_p4(ev[j]), b_old), b_new)
            else:
                moved[ir] = tuple(a + b - c for a, b, c in zip(_p4(ev[ir]), em.recoiler, r_old))
        # Recoiler of the photon splitting: the radiating quark.
        pg = em.photon
        p_sr = moved[iq]
        for lid, mlep in ((11, M_ELECTRON_GEV), (13, M_MUON_GEV)):
            sp = force_split(pg, p_sr, scale_gev=em.pt_evol, m_lepton=mlep, rng=rng,
                             alpha_em=alpha, sudakov=True)
            if sp is None:
                continue
            bias = em.weight * sp.weight
            # The leptons (the quark that takes the splitting's recoil is not one).
            new = [(lp[0], *moved[i]) if i in moved else lp for i, lp in fl_all]
            new.append((lid, *sp.lepton_minus))
            new.append((-lid, *sp.lepton_plus))
            if not bg.passes_gen_filter(new):
                continue
            pt_g = math.hypot(pg[1], pg[2])
            fac = record(new, w_ev * bias, iev, bias / task.quark_emissions,
                         ORIGIN_FORCED_QUARK, pt_g, em.pt_evol, 3)
            if buf is not None and fac:
                write_quark_emission_copy(buf, ev, iq, lid, sp, pg, em.pt_evol, moved,
                                          w_ev * bias * fac,
                                          bias / task.quark_emissions * fac, iev)

    # ---- sample S: inclusive W, forced splitting, ISR photons above p_cut vetoed.
    py = make(s_settings)
    alpha = py.coupSM.alphaEM
    info = py.infoPython()
    n_fail = 0
    sumw_gen = 0.0
    t_s0 = time.process_time()
    forced_fsr = task.method in ("sliced_fsr", "sliced_fsrq")
    forced_q = task.method == "sliced_fsrq"
    if forced_fsr:
        from samples.background_fsr import X_CUT, force_emit, photon_fraction
    if forced_q:
        from samples.background_fsr import (Q_PT_CUT, _latest_copy_before, force_emit_quark,
                                            quark_copy_segments, quark_recoiler)
    m_wlep = M_MUON_GEV if task.process == "W_munu_gstar" else M_ELECTRON_GEV
    engine = None
    if task.engine == "compiled":
        engine = CompiledEngine(task, rng=rng, rng_q=rng_q, buf=buf, m_wlep=m_wlep,
                                presel=presel, aux=aux, hard_rows=hard_rows, hard_buf=hard_buf,
                                thin=thin)
        engine.use(py)
    for iev in range(n_soft):
        if not py.next():
            n_fail += 1
            continue
        w_py = info.weight()
        sumw_gen += w_py
        ev = py.event
        if engine is not None:
            engine.soft_event(ev, w_py, iev)
            continue
        fl_all = bg._final_leptons(ev)
        if forced_fsr:
            i_lep, i_nu = _w_decay_final(ev)
            p_lep = _p4(ev[i_lep])
            p_nu = _p4(ev[i_nu])
        for ig in range(ev.size()):
            p = ev[ig]
            if not (p.isFinal() and p.id() == 22 and p.pT() > bg.PHOTON_PT_MIN_GEV):
                continue
            if ev[ev[p.iTopCopyId()].mother1()].isHadron():
                continue
            origin, scale = photon_origin(ev, ig)
            if origin == ORIGIN_ISR and scale > p_cut:
                continue  # in sample H
            if forced_fsr and origin == ORIGIN_FSR_LEPTON \
                    and photon_fraction(p_lep, _p4(p), p_nu) > X_CUT:
                continue  # in sample D
            if forced_q and origin == ORIGIN_FSR_OTHER and p.pT() > Q_PT_CUT:
                continue  # in sample Q
            split(ev, ig, shower_photon_recoiler(ev, ig), fl_all, w_py, iev, scale, origin,
                  task.oversample_soft, 0)
        if forced_fsr:
            for _ in range(task.fsr_emissions):
                em = force_emit(p_lep, p_nu, m_lepton=m_wlep, rng=rng, alpha_em=alpha)
                if em is None:
                    continue
                emit_split(ev, i_lep, i_nu, em, fl_all, w_py / task.fsr_emissions, iev)
        if forced_q:
            # One pass over the record: final quarks and the final non-partons (W-decay
            # candidates) for the W-recoil boost.
            quarks, nonpartons, i_wb = [], [], 0
            for j in range(ev.size()):
                pj = ev[j]
                aid = pj.idAbs()
                if not pj.isFinal():
                    if aid == 24:
                        i_wb = j  # the last W copy (the one that decays)
                    continue
                if 1 <= aid <= 5:
                    quarks.append(j)
                elif aid != 21:
                    nonpartons.append(j)
            w_moved = [j for j in nonpartons if ev[j].isAncestor(i_wb)] if quarks else []
            for iq in quarks:
                rr = quark_recoiler(ev, iq)
                if rr is None:
                    continue
                ir, r_in = rr
                q = ev[iq]
                chg2 = sq(q.chargeType() / 3.0)
                for ic, lo, hi in quark_copy_segments(ev, iq):
                    # Recoiler copy alive when quark copy ``ic`` was (created before its
                    # successor); incoming recoilers: their final momentum.
                    nxt = ev[ic].daughter1() if ic != iq else ev.size()
                    irc = ir if r_in else _latest_copy_before(ev, ir, nxt)
                    q_old, r_old = _p4(ev[ic]), _p4(ev[irc])
                    for _ in range(task.quark_emissions):
                        em = force_emit_quark(q_old, r_old, m_quark=q.m(), m_rec=ev[irc].m(),
                                              rec_incoming=r_in, charge2=chg2, pt_max=hi,
                                              pt_min=lo, rng=rng_q, alpha_em=alpha)
                        if em is None:
                            continue
                        emit_split_quark(ev, iq, ir, r_in, em, q_old, r_old, fl_all,
                                         w_py / task.quark_emissions, iev, w_moved)
    sigma_w_mb, sigma_w_err_mb = py.infoPython().sigmaGen(), py.infoPython().sigmaErr()
    cpu_s = time.process_time() - t_s0

    # ---- sample H: q q̄' -> W gamma, pT(gamma) > p_cut; only the hard photon is split.
    t_h0 = time.process_time()
    sumw_h = 0.0
    n_fail_h = 0
    if n_hard > 0:
        ph = make(h_settings)
        alpha = ph.coupSM.alphaEM
        if engine is not None:
            engine.use(ph)
        hinfo = ph.infoPython()  # weight() only: its sigmaGen()/pTHat() are not updated
        for k in range(n_hard):
            if not ph.next():
                n_fail_h += 1
                continue
            w_h = hinfo.weight()
            sumw_h += w_h
            ev = ph.event
            if engine is not None:
                engine.hard_event(ev, w_h, n_soft + k)
                continue
            hp = hard_photon(ev)
            if hp is None:
                continue
            ig, pt_hat = hp
            split(ev, ig, hard_photon_recoiler(ev, ig), bg._final_leptons(ev), w_h, n_soft + k,
                  pt_hat, ORIGIN_HARD, task.oversample, 1)
        sigma_h_mb, sigma_h_err_mb = ph.infoPython().sigmaGen(), ph.infoPython().sigmaErr()
    else:
        sigma_h_mb = sigma_h_err_mb = 0.0
    cpu_h = time.process_time() - t_h0
    if engine is not None:
        engine.fill(loose)
    sumw_written_s, sumw_written_h, n_written = thin.sums()

    # H weights per generated S event: (σ_H/σ_W) · ΣwS / ΣwH.
    factor = (sigma_h_mb / sigma_w_mb) * sumw_gen / sumw_h if sumw_h > 0 else 0.0
    presel_arr = np.array(presel, dtype=float).reshape(-1, 5)
    if hard_rows:
        presel_arr[hard_rows, 2] *= factor
    if buf is not None:
        buf.scale_weights(hard_buf, factor)  # H weights known only at the end
    sumw_written = sumw_written_s + factor * sumw_written_h
    cpu = time.process_time() - t0
    settings = [*s_settings, "# sample H:", *h_settings]
    extra_meta = {
        "slice_pt_GeV": p_cut, "hard_fraction": task.hard_fraction,
        "n_generated_H": n_hard - n_fail_h, "n_generated_S": n_soft - n_fail,
        "sigma_pythia_W_mb": sigma_w_mb, "sigma_pythia_W_err_mb": sigma_w_err_mb,
        "sigma_pythia_H_mb": sigma_h_mb, "sigma_pythia_H_err_mb": sigma_h_err_mb,
        "weight_factor_H": factor, "cpu_seconds_S": cpu_s, "cpu_seconds_H": cpu_h,
        "oversample_soft": task.oversample_soft, "w_decays": task.w_decays,
        "thin_keep": task.thin_keep, "n_thinned_away": thin.n_dropped,
        "thinning": "copies failing the core selection (>= 3 e/mu with e pT > "
                    f"{bg.CORE_E_PT_MIN_GEV} | mu pT > {bg.CORE_MU_PT_MIN_GEV} GeV, |eta| < "
                    f"{bg.CORE_ETA_MAX}, hardest > {bg.CORE_LEAD_PT_MIN_GEV} GeV) written with "
                    "probability thin_keep and weight / thin_keep",
    }
    if forced_fsr:
        from samples.background_fsr import X_CUT as _xc

        extra_meta.update(fsr_emissions=task.fsr_emissions, fsr_x_cut=_xc)
    if forced_q:
        extra_meta.update(quark_emissions=task.quark_emissions, quark_photon_pt_cut_GeV=Q_PT_CUT)
    path = None
    if buf is not None and len(buf) > 0:
        # Per-part CPU times stay out of the file (they vary between identical regenerations).
        file_meta = {k: v for k, v in extra_meta.items() if not k.startswith("cpu_seconds")}
        path = bg._write(task, buf, settings, sumw_gen=sumw_gen, n_gen=n_soft - n_fail,
                         cpu=cpu, extra_meta=file_meta)
    return bg.JobResult(task=task, path=path, n_generated=task.events - n_fail - n_fail_h,
                        n_failed=n_fail + n_fail_h, sumw_generated=sumw_gen,
                        sumw_written=sumw_written, n_written=n_written, cpu_seconds=cpu,
                        loose_ee=loose[11, 0] + factor * loose[11, 1],
                        loose_mumu=loose[13, 0] + factor * loose[13, 1], presel=presel_arr,
                        settings=settings,
                        presel_aux=np.array(aux, dtype=float).reshape(-1, 4),
                        extra=extra_meta)


def slice_summary(res: Any) -> dict[str, float]:
    """σ_presel contributions [fraction of Σw] by photon origin and sample of a sliced (or
    forced-with-aux) result: keys ``S_isr``, ``S_fsr_lepton``, ``S_fsr_other``, ``H``."""
    p, a = res.presel, res.presel_aux
    tot = p[:, 2].sum() if len(p) else 0.0
    out = {}
    for name, sel in (("S_isr", (a[:, 3] == 0) & (a[:, 0] == ORIGIN_ISR)),
                      ("S_fsr_lepton", (a[:, 3] == 0) & (a[:, 0] == ORIGIN_FSR_LEPTON)),
                      ("S_fsr_other", (a[:, 3] == 0) & (a[:, 0] == ORIGIN_FSR_OTHER)),
                      ("H", a[:, 3] == 1)):
        out[name] = float(p[sel, 2].sum() / tot) if tot > 0 else math.nan
    return out
