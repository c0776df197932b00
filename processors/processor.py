"""The coffea processor: smear the truth leptons, apply Table II, fill m_ll and control histograms.

One :class:`DarkNuProcessor` call handles one chunk. It keeps no state between chunks;
its output is a plain nested dict keyed by the chunk (dataset, file, entry range), so the
caller can merge chunks in a fixed order and get bit-identical sums whatever the executor
(``processors.run.run_processor`` does this).

Per event (weights: spec §2, interfaces §2):
  w = genWeight * xsec_pb * 1000 * lumi_ref_fb / sum_genweight
      * eff^3 (lepton efficiency, 85 +- 5 %)        * veto (1, or 5 % for a 4th lepton)
      * ht_veto_efficiency (only when the file has no hadron-level content)
      * lifetime weight (signal, per alpha*eps^2 hypothesis).
MC-statistical variance per bin: Σ w² over entries, except for files whose metadata names an
``event_group_branch`` (the forced-splitting backgrounds' ``genEventGroup``): their copies
of one generated event are correlated, and each run of consecutive copies contributes
(Σ w in the bin)² (``processors.hists.FlowCounts.fill``). A run cut by a chunk boundary
counts as two groups (slightly low variance for that one event).
Random numbers: one generator per chunk (smearing.chunk_rng), drawn in a fixed order
(3 normals per lepton in file order, then 3 per event for the vertex), shared by every
systematic variation.

Speed (benchmarks/bench_processor.py): the branches are read in one batched request from
the file coffea opened (``processors.fastio.chunk_columns``; no per-field NanoEvents
access, no uproot array cache); events that cannot have three good leptons in any
variation are dropped exactly before the per-lepton work (multiplicity first, then the
drawn smearing), straight on the electron and muon columns, and only the kept events'
leptons are merged; the per-lepton bookkeeping (merging, gen-vertex gathers, H_T, the
pre-filter counts, the choice of the three leptons, four-vector sums, histogram bin
search and filling) runs in small numba kernels of exact operations, while functions
whose last bit depends on the library (sinh, cos, sin, log, hypot, arctan2, arcsinh)
stay in numpy; eta and phi smearing and sinh/cos/sin of the smeared angles are shared by
the variations with the same electron set; histogram contents travel as plain arrays
(``processors.hists.FlowCounts``) and become ``hist.Hist`` once, in ``run_processor``.
All of it is bit-identical to the plain numpy formulation.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from coffea import processor
from coffea.nanoevents import NanoAODSchema

from darknu.errors import ConfigError, check_choice, check_range
from processors.fastio import Columns, chunk_columns, preload_branches
from processors.kernels import (
    candidate_vertex,
    drop_nonfinite,
    events_with_three,
    lepton_vertices,
    merge_leptons,
    merged_index,
    nonfinite_events,
    smeared_bound_passes,
    unsmeared_split,
)
from processors.hists import (
    CHANNELS,
    CONTROL_BINS,
    REGIONS,
    FlowCounts,
)
from selections.cuts import (
    ELECTRON_PDGID,
    MUON_PDGID,
    Table2Cuts,
    charged_ht_flat,
    good_lepton_mask,
    vertex_displacement_mm,
)
from selections.table2 import (
    angle_functions,
    build_selection,
    cumulative_masks,
    cutflow,
    event_variables,
    slot_block_shape,
    three_leptons_flat,
)
from smearing.response import (
    ELECTRON_SETS,
    chunk_rng,
    electron_resolutions,
    load_detector,
    smear_leptons_variations,
)

log = logging.getLogger(__name__)

#: Resolution variations: (electron set, muon mass-resolution variation). Up = the
#: pessimistic electron set and 3 % di-muon resolution; down = optimistic and 1 %
#: (seed 003 §V B: "e optimistic vs pessimistic", "mu 2 +- 1 %").
RES_VARIATIONS = {"res_up": ("pessimistic", "up"), "res_down": ("optimistic", "down")}
CM_TO_MM = 10.0
DEFAULT_ALPHA_EPS2 = (2e-9, 2e-10, 2e-11)  # spec §1 scan (c)


class DarknuNanoSchema(NanoAODSchema):
    """NanoAODSchema without warnings about CMS collections our files do not carry."""

    warn_missing_crossrefs = False


@dataclass(frozen=True)
class ProcessorConfig:
    """Run options of the processor (all physics numbers come from the scenario files)."""

    detector: str = "run2"
    electron_set: str = "optimistic"
    electron_pt_min: float = 5.0
    alpha_eps2_values: tuple[float, ...] = DEFAULT_ALPHA_EPS2
    displacement: str = "3d"
    lumi_ref_fb: float = 1.0
    cuts_overrides: tuple[tuple[str, float], ...] = field(default=())
    prefilter: bool = True  # exact skip of events that cannot have three good leptons

    def __post_init__(self) -> None:
        from smearing.response import scenarios

        if not self.detector.endswith(".json"):  # a scenario name, or a user's scenario file
            check_choice("detector scenario", self.detector, scenarios())
        else:
            load_detector(self.detector)
        check_choice("electron set", self.electron_set, ELECTRON_SETS)
        check_choice("displacement definition", self.displacement, ("3d", "lxy"))
        check_range(
            "electron_pt_min",
            self.electron_pt_min,
            low=0.0,
            high=100.0,
            low_inclusive=True,
            unit="GeV",
        )
        check_range("lumi_ref_fb", self.lumi_ref_fb, low=0.0, unit="fb^-1")
        for v in self.alpha_eps2_values:
            check_range("alpha_eps2", v, low=0.0, high=1e-2)

    def cuts(self) -> Table2Cuts:
        model = load_detector(self.detector)
        base = Table2Cuts(
            electron_pt_min=self.electron_pt_min,
            muon_pt_min=model.muon_pt_min,
            eta_max=model.eta_max,
        )
        return (
            base
            if not self.cuts_overrides
            else Table2Cuts(**{**base.__dict__, **dict(self.cuts_overrides)})
        )


def sample_name(dataset: str) -> str:
    """Fileset key -> sample name (``<sample>__nominal`` -> ``<sample>``)."""
    return dataset[: -len("__nominal")] if dataset.endswith("__nominal") else dataset


def entry_names(
    dataset: str, metadata: dict[str, Any], config: ProcessorConfig
) -> dict[str, float | None]:
    """Output entries of one dataset: signal -> one per alpha*eps^2 (value), else {sample: None}."""
    s = sample_name(dataset)
    if metadata.get("kind") == "signal":
        return {f"{s}__aeps2_{v:g}": float(v) for v in config.alpha_eps2_values}
    return {s: None}


def lifetime_weights(
    dataset: str, md: dict[str, Any], zd_ctau_mm: np.ndarray, alpha_eps2: float
) -> np.ndarray:
    """Per-event weights taking the dataset's generated Z_D lifetime(s) to ``alpha_eps2``.

    A dataset generated as a lifetime mixture (metadata ``lifetime_mix``, from
    ``samples.generate_signal(lifetime_mix=...)``) is reweighted with
    :func:`samples.reweight.mixture_lifetime_weight`; a single-lifetime one (``ctau_ZD_mm``
    at ``alpha_eps2``) with :func:`samples.reweight.lifetime_weight`. Γ(Z_D) ∝ αε² at fixed
    mass (spec §1), so cτ scales as 1/αε².
    """
    from samples.reweight import lifetime_weight, mixture_lifetime_weight

    try:
        if md.get("lifetime_mix"):
            comps = [(float(c["ctau_ZD_mm"]), float(c["fraction"]), float(c["alpha_eps2"])) for c in md["lifetime_mix"]]
            ctau_new = comps[0][0] * comps[0][2] / alpha_eps2
            return mixture_lifetime_weight(zd_ctau_mm, [(c, f) for c, f, _ in comps], ctau_new)
        ctau_gen = float(md["ctau_ZD_mm"])
        aeps_gen = float(md["alpha_eps2"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"signal dataset {dataset!r}: metadata lacks a valid {exc}") from None
    if alpha_eps2 == aeps_gen:
        return np.ones(len(zd_ctau_mm))
    return lifetime_weight(zd_ctau_mm, ctau_gen, ctau_gen * aeps_gen / alpha_eps2)


def _norm_weight(md: dict[str, Any], gen_weight: np.ndarray, lumi_ref_fb: float) -> np.ndarray:
    try:
        xsec = float(md["xsec_pb"])
        sumw = float(md["sum_genweight"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"dataset {md.get('dataset')!r}: metadata lacks a valid {exc}") from None
    return gen_weight * (xsec * 1000.0 * lumi_ref_fb / sumw)


def _ht_factor(md: dict[str, Any]) -> float:
    if md.get("hadron_level", True):
        return 1.0
    if "ht_veto_efficiency" not in md:
        raise ConfigError(
            f"dataset {md.get('dataset')!r} has hadron_level=false but no "
            "'ht_veto_efficiency' in its metadata"
        )
    return float(md["ht_veto_efficiency"])


#: Lepton fields the processor reads (processor name -> branch field name).
LEPTON_FIELDS = {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass", "charge": "charge",
                 "gen_idx": "genPartIdx"}


def _collections(cols: Columns) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Electron and muon columns of the chunk: ``{coll: (counts, {field: flat values})}``."""
    return {
        coll: cols.jagged(coll, tuple(LEPTON_FIELDS.values())) for coll in ("Electron", "Muon")
    }


def _kept_leptons(
    leptons: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]], keep: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Electrons then muons of each ``keep`` event as flat numpy arrays, and their
    positions among all the chunk's leptons in that order (the rows of the drawn normals).

    Fields ``pt, eta, phi, mass`` (float64), ``charge``, ``gen_idx`` and ``abs_pdgid``
    (int64); merged in one pass by a numba kernel (copies), into one float and one
    integer block (two allocations instead of seven: fresh memory costs page faults),
    for the kept events only (the pre-filter typically drops two thirds of the leptons).
    """
    (ne, e), (nm, m) = leptons["Electron"], leptons["Muon"]
    index = merged_index(ne, nm, keep)
    floats, ints = ("pt", "eta", "phi", "mass"), ("charge", "gen_idx", "abs_pdgid")
    fblock = np.empty((len(floats), len(index)))
    iblock = np.empty((len(ints), len(index)), np.int64)
    src = [LEPTON_FIELDS[f] for f in floats + ints[:-1]]
    merge_leptons(ne, nm, keep, *(e[f] for f in src), *(m[f] for f in src),
                  ELECTRON_PDGID, MUON_PDGID, fblock, iblock)
    return dict(zip(floats + ints, [*fblock, *iblock], strict=True)), index


def _lepton_vertices_mm(
    cols: Columns, gen_idx: np.ndarray, counts: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Production vertex (mm, relative to GenVtx) of each kept lepton's matched gen particle.

    ``gen_idx``: genPartIdx (event-local) of the leptons of the ``keep`` events, ``counts``
    leptons per event (all events).
    Returns ((n_leptons, 3) displacement, matched flag). Unmatched leptons (index < 0, out
    of range, or a non-finite vertex) count as produced at the primary vertex.
    """
    gcounts, gp = cols.jagged("GenPart", ("vx", "vy", "vz"))
    keep = np.asarray(keep, dtype=bool)
    pv = [cols.flat("GenVtx", c) for c in ("x", "y", "z")]
    # one pass over the kept events' leptons (numba): gather, widen to float64, subtract
    # the primary vertex, scale to mm -- the same operations as the numpy formulation
    return lepton_vertices(
        np.asarray(counts, dtype=np.int64), keep, np.asarray(gen_idx, dtype=np.int64),
        np.asarray(gcounts, dtype=np.int64), *(gp[c] for c in ("vx", "vy", "vz")), *pv,
        CM_TO_MM,
    )


def _possible_good(
    kin: list[np.ndarray],
    is_e: np.ndarray,
    z: np.ndarray,
    e_sigmas: dict[str, dict[str, np.ndarray]],
    model: Any,
    cuts: Table2Cuts,
) -> np.ndarray:
    """Leptons that pass acceptance and threshold after smearing in at least one variation.

    ``kin``: (pT, eta). Uses the drawn normals ``z`` and the largest resolution of any
    variation, with a small margin against rounding, so it is a strict superset of the
    good leptons of every pass (``processors.kernels.smeared_bound_passes``).
    """
    pt, eta = (np.ascontiguousarray(x, dtype=np.float64) for x in kin[:2])
    n_e = int(np.count_nonzero(is_e))
    s_pt_e = np.zeros(n_e)
    s_cot_e = np.zeros(n_e)
    if e_sigmas:
        s_pt_e = np.max([d["ptrel"] for d in e_sigmas.values()], axis=0)
        s_cot_e = np.max([d["cottheta"] for d in e_sigmas.values()], axis=0)
    s_mu = max(model.muon_sigma_ptrel(v) for v in ("nominal", "up", "down"))
    return smeared_bound_passes(
        pt, np.sinh(eta), np.ascontiguousarray(is_e, dtype=bool),
        np.ascontiguousarray(s_pt_e, dtype=np.float64),
        np.ascontiguousarray(s_cot_e, dtype=np.float64), float(s_mu),
        np.ascontiguousarray(z, dtype=np.float64), float(cuts.electron_pt_min),
        float(cuts.muon_pt_min), float(np.sinh(cuts.eta_max) * (1 + 1e-9) + 1e-12),
    )


def _angle_functions_per_variation(
    smeared: dict[str, Any],
) -> dict[str, dict[str, np.ndarray]]:
    """sinh(eta), cos(phi), sin(phi) of each variation's smeared leptons
    (``selections.table2.angle_functions``), evaluated once per distinct angle: variations
    sharing the angle arrays (same electron set) share the result, and the others
    evaluate only the leptons whose angles differ from the first variation's (the
    electrons: muon angles are not smeared)."""
    done: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []
    out = {}
    for name, sm in smeared.items():
        same = [d for d in done if d[0] is sm.eta and d[1] is sm.phi]
        if same:
            out[name] = same[0][2]
            continue
        out[name] = angle_functions(sm.eta, sm.phi, reuse=done[0] if done else None)
        done.append((sm.eta, sm.phi, out[name]))
    return out


def _prefilter(
    leptons: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]],
    good_evt: np.ndarray,
    z_lep: np.ndarray,
    model: Any,
    cuts: Table2Cuts,
) -> np.ndarray:
    """Exact pre-filter: the events to process (a superset of those that can matter).

    Keeps valid events with >= 3 leptons that can pass acceptance and thresholds for
    *some* resolution variation given the drawn ``z_lep`` (rows: all leptons, electrons
    then muons per event), a superset of the events with three good leptons in any
    pass, so the result is unchanged (the multiplicity cut comes first). A lepton passing
    threshold and acceptance unsmeared counts without evaluating the resolutions
    (keeping more events never changes the result); only the others go through the
    smeared bound of :func:`_possible_good`. Valid events have finite lepton kinematics.
    """
    (ne, e), (nm, m) = leptons["Electron"], leptons["Muon"]
    keep = (ne + nm >= 3) & good_evt
    n_sure, pos, event, is_e, pt_u, eta_u = unsmeared_split(
        ne, nm, keep, e["pt"], e["eta"], m["pt"], m["eta"],
        cuts.electron_pt_min, cuts.muon_pt_min, cuts.eta_max,
    )
    passes = np.zeros(len(pos), bool)
    if len(pos):
        # the pre-filter needs the pT and cot(theta) resolutions only
        e_sig_u = {
            s: electron_resolutions(model, s, pt_u[is_e], ("cottheta", "ptrel"))
            for s in ELECTRON_SETS
        }
        passes = _possible_good(
            [pt_u, eta_u], is_e, np.take(z_lep, pos, axis=0), e_sig_u, model, cuts
        )
    return events_with_three(n_sure, event, passes, good_evt, 3)


class DarkNuProcessor(processor.ProcessorABC):
    """Smearing + Table II + histogramming for one chunk (see module docstring)."""

    def __init__(self, config: ProcessorConfig | None = None) -> None:
        self.config = config or ProcessorConfig()

    def process(self, events: Any) -> dict[str, Any]:
        cfg = self.config
        md = dict(events.metadata)
        dataset = md["dataset"]
        start, stop = int(md.get("entrystart", 0)), int(md.get("entrystop", len(events)))
        file_id = md.get("fileuuid") or os.path.basename(str(md.get("filename", "")))
        chunk_key = f"{dataset}|{file_id}|{start:012d}-{stop:012d}"
        rng = chunk_rng(dataset, file_id, start, stop)
        model = load_detector(cfg.detector)
        cuts = cfg.cuts()
        n_ev = len(events)
        is_signal = md.get("kind") == "signal"
        # every branch of the chunk in one batched read (processors.fastio)
        # Background copies of one generated event share an id (samples.nanoaod
        # EVENT_GROUP_BRANCH): their weights are summed per bin before squaring.
        group_branch = md.get("event_group_branch")
        branches = preload_branches(signal=is_signal) + ([group_branch] if group_branch else [])
        cols = chunk_columns(events, branches)
        group = (
            np.asarray(cols.flat(None, group_branch), dtype=np.int64) if group_branch else None
        )

        leptons = _collections(cols)
        (ne, e_cols), (nm, m_cols) = leptons["Electron"], leptons["Muon"]
        counts = ne + nm
        z_lep = rng.standard_normal((int(counts.sum()), 3))
        z_vtx = rng.standard_normal((n_ev, 3))

        gen_w = np.asarray(cols.flat(None, "genWeight"), dtype=np.float64)
        # events with a non-finite lepton are dropped and counted
        kin = ("pt", "eta", "phi", "mass")
        bad_evt = nonfinite_events(ne, *(e_cols[c] for c in kin)) | nonfinite_events(
            nm, *(m_cols[c] for c in kin)
        )
        bad_evt |= ~np.isfinite(gen_w)
        if is_signal:  # proper decay length for lifetime reweighting [mm]
            zd_ctau = np.asarray(cols.flat("ZD", "ctau"), dtype=np.float64)
            bad_evt |= ~np.isfinite(zd_ctau) | (zd_ctau < 0)
            zd_ctau = np.where(bad_evt, 0.0, zd_ctau)
        stats = {
            "n_events": n_ev,
            "n_nonfinite_dropped": int(bad_evt.sum()),
            "n_negative_weight": int(np.count_nonzero(gen_w < 0)),
            "sum_genweight_processed": float(np.sum(np.where(np.isfinite(gen_w), gen_w, 0.0))),
        }
        good_evt = ~bad_evt
        norm = np.where(
            good_evt, _norm_weight(md, np.where(good_evt, gen_w, 0.0), cfg.lumi_ref_fb), 0.0
        )
        ht = charged_ht_flat(*cols.jagged("ChargedHadron", ("pt", "eta")), cuts=cuts)
        ht_factor = _ht_factor(md)

        # Lifetime hypotheses.
        names = entry_names(dataset, md, cfg)
        life_w: dict[str, np.ndarray] = {}
        for name, aeps in names.items():
            life_w[name] = (
                np.ones(n_ev) if aeps is None else lifetime_weights(dataset, md, zd_ctau, aeps)
            )

        eff = {v: model.lepton_efficiency(v) for v in ("nominal", "up", "down")}
        out_entries = {
            name: {
                "mll": FlowCounts("mll"),
                "control": {c: FlowCounts(f"control/{c}") for c in CONTROL_BINS},
                "cutflow": {},
                "stats": dict(stats),
            }
            for name in names
        }

        res_sets = {"nominal": (cfg.electron_set, "nominal"), **RES_VARIATIONS}
        keep = (
            _prefilter(leptons, good_evt, z_lep, model, cuts)
            if cfg.prefilter
            else np.ones(n_ev, bool)
        )
        all_sumw = {name: float(np.sum((norm * life_w[name])[good_evt])) for name in names}
        n_valid = float(np.count_nonzero(good_evt))
        lep_k, lk = _kept_leptons(leptons, keep)  # lk: rows of z_lep
        counts_k = counts[keep]
        # Non-finite leptons (only in events already dropped, or without the pre-filter)
        # become pT = 0: never selected.
        bad_lep_k, _ = drop_nonfinite(counts_k, *(lep_k[c] for c in kin))
        kin_k = [lep_k[c] for c in kin]
        is_e_k = lep_k["abs_pdgid"] == ELECTRON_PDGID
        e_sig_k = {s: electron_resolutions(model, s, kin_k[0][is_e_k]) for s in ELECTRON_SETS}
        z_lep_k = np.take(z_lep, lk, axis=0)  # np.take: a row gather faster than fancy indexing
        z_vtx_k = np.take(z_vtx, np.flatnonzero(keep), axis=0)
        lep_vtx_k, _ = _lepton_vertices_mm(cols, lep_k["gen_idx"], counts, keep)
        flat_k = {f: lep_k[f] for f in ("charge", "abs_pdgid")}
        flat_k["slot_index"] = np.arange(len(lep_vtx_k))  # three_leptons returns these indices
        norm_k, good_k, ht_k = norm[keep], good_evt[keep], ht[keep]
        group_k = None if group is None else group[keep]
        life_k = {name: w[keep] for name, w in life_w.items()}
        smeared = smear_leptons_variations(  # angles shared by variations of one electron set
            model,
            pt=kin_k[0],
            eta=kin_k[1],
            phi=kin_k[2],
            is_electron=is_e_k,
            z=z_lep_k,
            variations=res_sets,
            electron_sigmas=e_sig_k,
        )
        angles = _angle_functions_per_variation(smeared)
        slot_block = np.empty(slot_block_shape(len(counts_k)))  # reused by every variation
        for res_name in res_sets:
            sm = smeared[res_name]
            good = good_lepton_mask(sm.pt, sm.eta, flat_k["abs_pdgid"], cuts=cuts) & ~bad_lep_k
            t = three_leptons_flat(
                {**flat_k, "pt": sm.pt, "eta": sm.eta, "phi": sm.phi, "mass": kin_k[3]},
                counts_k,
                good,
                veto_inefficiency=model.veto_inefficiency,
                out=slot_block,
            )
            v = event_variables(t, angles[res_name])
            # Z_D-candidate vertex: mean of the l2, l3 production vertices (the same point for a
            # true Z_D decay). Events without three leptons get index 0 and are cut anyway.
            # Smeared with the vertex resolution (one numba loop: smearing.smear_vertex's sums).
            iz = t.fields["slot_index"]
            dx, dy, dz = candidate_vertex(
                lep_vtx_k, np.ascontiguousarray(iz[:, 1]), np.ascontiguousarray(iz[:, 2]),
                z_vtx_k, model.vertex_sigma_xy_mm, model.vertex_sigma_z_mm,
            )
            disp = vertex_displacement_mm(dx, dy, dz, definition=cfg.displacement)
            sel = build_selection(t, v, ht_k, disp, cuts=cuts)
            base = norm_k * t.veto_weight * ht_factor * good_k
            systs = (
                {
                    "nominal": eff["nominal"] ** 3,
                    "eff_up": eff["up"] ** 3,
                    "eff_down": eff["down"] ** 3,
                }
                if res_name == "nominal"
                else {res_name: eff["nominal"] ** 3}
            )
            # events passing each cumulative cut (valid events only), per channel
            masks = {ch: cumulative_masks(sel, ch, valid=good_k) for ch in CHANNELS}
            for name in names:
                entry = out_entries[name]
                wbase = base * life_k[name]
                w_syst = {syst: wbase * effw for syst, effw in systs.items()}
                for ch in CHANNELS:
                    for region in REGIONS:
                        m = masks[ch][region]
                        if not m.any():
                            continue
                        entry["mll"].fill_masked(v.mll, [
                            ({"channel": ch, "region": region, "syst": syst}, m, w)
                            for syst, w in w_syst.items()
                        ], group=group_k)
                    if "nominal" in w_syst:
                        w = w_syst["nominal"]
                        entry["cutflow"][ch] = cutflow(
                            sel,
                            channel=ch,
                            weight_all=norm_k * life_k[name],
                            weight=w,
                            valid=good_k,
                            masks=masks[ch],
                        )
                        # 'all' counts every valid event of the chunk, pre-filtered or not
                        entry["cutflow"][ch]["all"] = np.array([all_sumw[name], n_valid])
                        self._fill_control(
                            entry["control"], masks[ch], ch, v, t, disp, w, group_k
                        )
        return {"chunks": {chunk_key: out_entries}}

    @staticmethod
    def _fill_control(control, masks, ch, v, t, disp, w, group) -> None:  # type: ignore[no-untyped-def]
        values = {
            "pt1": t.fields["pt"][:, 0],
            "pt2": t.fields["pt"][:, 1],
            "pt3": t.fields["pt"][:, 2],
            "dphi": v.dphi,
            "dr": v.dr,
            "m3l": v.m3l,
            "pt3l": v.pt3l,
            "mll": v.mll,
            "displacement": disp,
        }
        # ``masks``: cumulative_masks of the channel (valid events only)
        pre, sr = masks["ht"], masks["pt3l"]
        if not pre.any():
            return
        for name, x in values.items():
            control[name].fill_masked(x, [
                ({"channel": ch, "stage": "preselection"}, pre, w),
                ({"channel": ch, "stage": "signal_region"}, sr, w),
            ], group=group)

    def postprocess(self, accumulator: Any) -> Any:
        return accumulator
