"""Compose the Table II cuts: pick the three leptons, build event variables, pack the cuts.

``three_leptons`` chooses the analysis leptons from the smeared, accepted ones;
``event_variables`` computes everything Table II cuts on; ``build_selection`` collects the
cuts as named boolean masks (:class:`CutMasks`, the part of coffea's ``PackedSelection``
used here); ``cumulative_masks`` gives the running AND along ``CUTFLOW``; ``cutflow`` gives
the cumulative (sum of weights, raw count) after each cut of ``CUTFLOW``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
from selections.kernels import (
    gather_slots,
    min_pt_of_flavour,
    three_lepton_slots,
    three_lepton_sums,
)
from selections.cuts import (
    ELECTRON_PDGID,
    MUON_PDGID,
    Table2Cuts,
    delta_phi,
    displaced_region,
    dphi_cut,
    dr_cut,
    ht_cut,
    lead_pt_cut,
    m3l_cut,
    mll_cut,
    prompt_region,
    pt3l_cut,
    zd_sfos,
)

CHANNELS = {"ee": ELECTRON_PDGID, "mumu": MUON_PDGID}
#: Cumulative cut order of the cutflow (before the displacement bins); ``sfos`` is
#: channel-specific (``sfos_ee`` / ``sfos_mumu``).
CUTFLOW = ("all", "three_leptons", "lead_pt", "sfos", "mll", "ht", "dphi", "dr", "m3l", "pt3l")
REGIONS = ("prompt", "displaced")
SLOT_FIELDS = ("pt", "eta", "phi", "mass", "charge", "abs_pdgid", "slot_index")
#: Functions of the lepton angles that :func:`event_variables` needs per slot:
#: name -> (angle field, ufunc). Taken per lepton from the caller when it has them
#: (:func:`angle_functions`: shared by variations with the same angles), else computed.
ANGLE_FUNCTIONS = {
    "sinh_eta": ("eta", np.sinh),
    "cos_phi": ("phi", np.cos),
    "sin_phi": ("phi", np.sin),
}


@dataclass(frozen=True)
class ThreeLeptons:
    """The three analysis leptons per event, pT-ordered (flat arrays, index 0 = l1).

    ``n_good``: accepted leptons in the event; ``veto_weight``: 1 for exactly three, the
    extra-lepton-veto inefficiency for four (the second-hardest lepton is the one lost:
    a Z -> 4l daughter radiating the soft pair, seed 003 §V), 0 otherwise.
    ``fields[name]`` is an (n_events, 3) array, zero-filled where there is no lepton;
    ``index`` says which input lepton fills each slot.
    """

    n_good: np.ndarray
    veto_weight: np.ndarray
    fields: dict[str, np.ndarray]
    #: (n_events, 3): position in the input arrays of each slot's lepton (0 if none)
    index: np.ndarray

    @property
    def has_three(self) -> np.ndarray:
        return self.veto_weight > 0


def three_leptons(leptons: ak.Array, good: ak.Array, *, veto_inefficiency: float) -> ThreeLeptons:
    """Select the analysis leptons from a jagged lepton record array.

    ``leptons`` needs fields ``pt, eta, phi, mass, charge, abs_pdgid`` and ``slot_index``
    (any per-lepton integer the caller wants back, e.g. its position in the input).

    >>> lep = ak.zip({"pt": [[40.0, 30.0, 6.0, 5.5]], "eta": [[0.0] * 4], "phi": [[0.0] * 4],
    ...   "mass": [[0.0] * 4], "charge": [[1, -1, 1, -1]], "abs_pdgid": [[11] * 4],
    ...   "slot_index": [[0, 1, 2, 3]]})
    >>> t = three_leptons(lep, lep.pt > 0, veto_inefficiency=0.05)
    >>> t.fields["pt"].tolist(), t.veto_weight.tolist()
    ([[40.0, 6.0, 5.5]], [0.05])
    """
    counts = ak.to_numpy(ak.num(leptons, axis=1)).astype(np.int64)
    flat = {f: np.asarray(ak.to_numpy(ak.flatten(leptons[f], axis=1))) for f in SLOT_FIELDS}
    good_flat = np.asarray(ak.to_numpy(ak.flatten(good, axis=1)), dtype=bool)
    return three_leptons_flat(flat, counts, good_flat, veto_inefficiency=veto_inefficiency)


def three_leptons_flat(
    flat: dict[str, np.ndarray],
    counts: np.ndarray,
    good: np.ndarray,
    *,
    veto_inefficiency: float,
    out: np.ndarray | None = None,
) -> ThreeLeptons:
    """:func:`three_leptons` on flat per-lepton numpy arrays plus per-event ``counts``.

    Sorting is by descending pT among the good leptons of each event; with four good
    leptons l1 and the two softest are kept (the second-hardest is the lost one).
    ``out``: optional float64 block of shape ``slot_block_shape(len(counts))`` to gather
    the float fields into (the processor reuses one for its systematic variations; the
    returned fields are views of it, valid until it is written again).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_ev = len(counts)
    good = np.ascontiguousarray(good, dtype=bool)
    # Per-event pT ranking of the good leptons over the offsets (numba; ties keep input
    # order, as a stable argsort of -pT does): slot-major (3, n_ev) flat indices.
    n_good, take_t = three_lepton_slots(
        counts, good, np.ascontiguousarray(flat["pt"], dtype=np.float64)
    )
    veto = np.where(n_good == 3, 1.0, np.where(n_good == 4, float(veto_inefficiency), 0.0))
    has = veto > 0
    # Gather slot-major (3, n_ev) and hand out the (n_ev, 3) transpose: each slot column
    # (``fields[f][:, i]``) is then contiguous, which the per-slot arithmetic downstream likes.
    # Events without three leptons get zeros. The float fields share one block: one
    # allocation instead of one per field (fresh memory costs a page fault per 4 KiB; a
    # block this large gets huge pages).
    floats = [f for f in SLOT_FIELDS if f != "slot_index"]
    shape = slot_block_shape(n_ev)
    if out is not None and (out.shape != shape or out.dtype != np.float64
                            or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}")
    block = np.empty(shape) if out is None else out
    fields = {}
    for f in SLOT_FIELDS:
        if f == "slot_index":
            out, fill = np.empty((3, n_ev), np.int64), np.int64(0)
        else:
            out, fill = block[floats.index(f)], np.float64(0.0)
        fields[f] = gather_slots(take_t, has, np.ascontiguousarray(flat[f]), fill, out).T
    return ThreeLeptons(n_good=n_good, veto_weight=veto, fields=fields, index=take_t.T)


def slot_block_shape(n_events: int) -> tuple[int, int, int]:
    """Shape of the float block :func:`three_leptons_flat` gathers into."""
    return (len(SLOT_FIELDS) - 1, 3, n_events)


def angle_functions(
    eta: np.ndarray,
    phi: np.ndarray,
    *,
    reuse: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """The :data:`ANGLE_FUNCTIONS` of flat per-lepton ``eta``, ``phi`` (for
    :func:`event_variables`, which reads them for the slots' leptons).

    ``reuse = (eta, phi, functions)`` of another variation: leptons whose angles are the
    same there take its values, and only the others are evaluated. numpy's ufuncs compute
    each element from its input alone (SIMD loops finish with partial loads of the same
    routine), so the values are those of evaluating every lepton.
    """
    eta, phi = np.asarray(eta, np.float64), np.asarray(phi, np.float64)
    angles = {"eta": eta, "phi": phi}
    if reuse is not None and reuse[0] is eta and reuse[1] is phi:
        return reuse[2]
    out = {}
    for name, (angle, fn) in ANGLE_FUNCTIONS.items():
        x = angles[angle]
        if reuse is None:
            out[name] = fn(x)
            continue
        differ = np.flatnonzero(x != {"eta": reuse[0], "phi": reuse[1]}[angle])
        vals = reuse[2][name].copy()
        vals[differ] = fn(x[differ])
        out[name] = vals
    return out


@dataclass(frozen=True)
class EventVariables:
    """Everything Table II cuts on, one entry per event (GeV, rad)."""

    pt1: np.ndarray
    mll: np.ndarray
    dphi: np.ndarray
    dr: np.ndarray
    m3l: np.ndarray
    pt3l: np.ndarray
    min_muon_pt: np.ndarray
    min_electron_pt: np.ndarray


def event_variables(
    t: ThreeLeptons, angles: dict[str, np.ndarray] | None = None
) -> EventVariables:
    """Z_D candidate = l2 + l3 (the two lowest-pT leptons); l1 the leading one.

    ``angles``: :func:`angle_functions` of the leptons ``t`` was selected from (read at
    ``t.index``); without them they are computed from the slots' angles, slot by slot.
    The four-vector sums and masses run in one numba loop (``three_lepton_sums``: the
    operations of :class:`selections.cuts.P4` in its order, bit-identical); hypot,
    arctan2 and arcsinh stay in numpy.
    """
    f = t.fields
    if angles is not None:
        index, has = np.ascontiguousarray(t.index), t.has_three
        fns = [np.ascontiguousarray(angles[a], dtype=np.float64) for a in ANGLE_FUNCTIONS]
    else:  # per slot: slot i of event k is element i * n + k of the (3, n) blocks
        n = len(t.n_good)
        index = np.arange(3 * n, dtype=np.int64).reshape(3, n).T.copy()
        has = np.ones(n, bool)
        fns = [_slot_function(f, a).T.ravel() for a in ANGLE_FUNCTIONS]
    zd_px, zd_py, zd_pz, mll, three_px, three_py, m3l = three_lepton_sums(
        f["pt"], f["mass"], index, has, *fns
    )
    # as P4.eta and P4.phi of the candidate
    zd_pt = np.hypot(zd_px, zd_py)
    zd_eta = np.arcsinh(np.divide(zd_pz, zd_pt, out=np.zeros_like(zd_pt), where=zd_pt > 0))
    zd_phi = np.arctan2(zd_py, zd_px)
    pt, pdg = f["pt"], f["abs_pdgid"]
    dphi = delta_phi(f["phi"][:, 0], zd_phi)
    return EventVariables(
        pt1=pt[:, 0],
        mll=mll,
        dphi=dphi,
        dr=np.hypot(f["eta"][:, 0] - zd_eta, dphi),  # = delta_r(eta1, phi1, zd_eta, zd_phi)
        m3l=m3l,
        pt3l=np.hypot(three_px, three_py),
        min_muon_pt=min_pt_of_flavour(pt, pdg, MUON_PDGID),
        min_electron_pt=min_pt_of_flavour(pt, pdg, ELECTRON_PDGID),
    )


def _slot_function(fields: dict[str, np.ndarray], name: str) -> np.ndarray:
    """ANGLE_FUNCTIONS[name] of each slot's angle, slot by slot (as (n_ev, 3))."""
    angle, fn = ANGLE_FUNCTIONS[name]
    x = fields[angle]
    out = np.empty((3, len(x)))
    for i in range(3):
        out[i] = fn(x[:, i])
    return out.T


class CutMasks:
    """Named boolean event masks: the part of coffea's ``PackedSelection`` Table II needs.

    ``add``, ``all`` and ``names`` behave as in ``PackedSelection`` (``all()`` without
    names requires every cut; repeated or unknown names and non-boolean or mis-shaped
    masks are errors). The masks are kept as numpy bool arrays, without
    ``PackedSelection``'s per-call awkward type checks (~1 ms per ``add``, twelve adds per
    systematic variation and chunk). AND of booleans is exact, so every mask is the one
    ``PackedSelection`` gives (tests/selections/test_kernels.py).

    >>> sel = CutMasks()
    >>> sel.add("a", np.array([True, True, False]))
    >>> sel.add("b", np.array([True, False, False]))
    >>> sel.all("a").tolist(), sel.all().tolist(), sel.names
    ([True, True, False], [True, False, False], ['a', 'b'])
    """

    def __init__(self) -> None:
        self._masks: dict[str, np.ndarray] = {}

    @property
    def names(self) -> list[str]:
        return list(self._masks)

    def add(self, name: str, mask: np.ndarray) -> None:
        if name in self._masks:
            raise ValueError(f"selection {name!r} already exists")
        m = np.array(mask, copy=True)
        if m.dtype != bool or m.ndim != 1:
            raise ValueError(f"selection {name!r}: expected a flat boolean array, got {m.dtype}")
        if self._masks and len(m) != len(next(iter(self._masks.values()))):
            raise ValueError(f"selection {name!r} has a different length than the others")
        self._masks[name] = m

    def all(self, *names: str) -> np.ndarray:
        """Events passing every named cut (every cut if none is named)."""
        names = names or tuple(self._masks)
        unknown = [n for n in names if n not in self._masks]
        if unknown or not names:
            raise ValueError(f"unknown selection(s) {unknown} (known: {self.names})")
        out = self._masks[names[0]].copy()
        for n in names[1:]:
            out &= self._masks[n]
        return out


def build_selection(
    t: ThreeLeptons,
    v: EventVariables,
    ht: np.ndarray,
    displacement_mm: np.ndarray,
    *,
    cuts: Table2Cuts,
    selection: Callable[[], Any] = CutMasks,
) -> Any:
    """Every Table II cut as a named mask (CUTFLOW[1:] with sfos_ee/sfos_mumu, REGIONS).

    ``selection`` makes the container: :class:`CutMasks` (default, what the processor
    uses) or ``coffea.analysis_tools.PackedSelection`` (same ``add``/``all`` interface,
    same masks: tests/selections/test_selections.py), for composing further cuts the
    coffea way.
    """
    sel = selection()
    f = t.fields
    sel.add("three_leptons", t.has_three)
    sel.add("lead_pt", lead_pt_cut(v.pt1, cuts=cuts))
    for ch, pdg in CHANNELS.items():
        sel.add(
            f"sfos_{ch}",
            zd_sfos(
                f["abs_pdgid"][:, 1],
                f["abs_pdgid"][:, 2],
                f["charge"][:, 1],
                f["charge"][:, 2],
                flavour=pdg,
            ),
        )
    sel.add("mll", mll_cut(v.mll, cuts=cuts))
    sel.add("ht", ht_cut(ht, cuts=cuts))
    sel.add("dphi", dphi_cut(v.dphi, cuts=cuts))
    sel.add("dr", dr_cut(v.dr, cuts=cuts))
    sel.add("m3l", m3l_cut(v.m3l, cuts=cuts))
    sel.add("pt3l", pt3l_cut(v.pt3l, cuts=cuts))
    sel.add("prompt", prompt_region(displacement_mm, cuts=cuts))
    sel.add(
        "displaced", displaced_region(displacement_mm, v.min_muon_pt, v.min_electron_pt, cuts=cuts)
    )
    return sel


def cut_names(channel: str, upto: str) -> list[str]:
    """PackedSelection names of the cumulative cuts up to and including ``upto``."""
    names = []
    for c in CUTFLOW[1:] + REGIONS:
        if c in REGIONS and c != upto:
            continue
        names.append(f"sfos_{channel}" if c == "sfos" else c)
        if c == upto:
            break
    return names


def cumulative_masks(
    sel: CutMasks, channel: str, *, valid: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """``{cut: sel.all(*cut_names(channel, cut)) & valid}`` for each cut of ``CUTFLOW[1:]``
    and each region, from one running AND along the cut order (11 ANDs instead of ~70).

    ``valid`` (optional) marks the events that count at all. Booleans, so exact.
    """
    chain = cut_names(channel, CUTFLOW[-1])
    running = sel.all(chain[0])
    if valid is not None:
        running &= np.asarray(valid, bool)
    out = {CUTFLOW[1]: running}
    for cut, name in zip(CUTFLOW[2:], chain[1:], strict=True):
        running = running & sel.all(name)
        out[cut] = running
    for region in REGIONS:
        out[region] = running & sel.all(region)
    return out


def cutflow(
    sel: CutMasks,
    *,
    channel: str,
    weight_all: np.ndarray,
    weight: np.ndarray,
    valid: np.ndarray | None = None,
    masks: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Cumulative ``[sum of weights, raw count]`` after each cut (and each region).

    ``weight_all`` is the normalisation weight alone (for ``all``); ``weight`` includes
    lepton efficiencies, the veto inefficiency and the H_T-veto factor (for the rest).
    ``valid`` marks the events that count at all (the processor drops events with
    non-finite inputs and reports them separately). ``masks``: the
    :func:`cumulative_masks` of ``sel`` for ``channel`` and ``valid``, if already at hand.
    """
    ok = np.ones(len(weight_all), bool) if valid is None else np.asarray(valid, bool)
    if masks is None:
        masks = cumulative_masks(sel, channel, valid=ok)
    out = {"all": np.array([float(np.sum(weight_all[ok])), float(np.count_nonzero(ok))])}
    for c in CUTFLOW[1:] + REGIONS:
        m = masks[c]
        out[c] = np.array([float(np.sum(weight[m])), float(np.count_nonzero(m))])
    return out
