"""Fast paths of the processor give bit-identical results to the formulations they replace."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from processors.fastio import flat, jagged
from processors.hists import CONTROL_BINS, MLL_EDGES, flow_index
from processors.kernels import lepton_vertices
from smearing.response import (
    ELECTRON_SETS,
    electron_resolutions,
    load_detector,
    smear_leptons,
    smear_leptons_variations,
)


def test_flow_index_equals_searchsorted():
    rng = np.random.default_rng(5)
    edge_sets = [MLL_EDGES, np.array([0.0, 1.0, 2.0]), np.sort(rng.normal(size=40))]
    edge_sets += [e for _, e in CONTROL_BINS.values()]
    for edges in edge_sets:
        x = np.concatenate([
            rng.uniform(edges[0] - 1, edges[-1] + 1, 20000),
            np.exp(rng.uniform(-8, 4, 20000)),
            edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
            [np.nan, np.inf, -np.inf, 0.0, -0.0],
        ])
        assert np.array_equal(flow_index(edges, x), np.searchsorted(edges, x, side="right"))


def _two_collections(rng, n_ev):
    """Random electrons and muons (float32/int32, as in the files; some non-finite), and
    the merged per-event order (electrons, then muons) built by awkward as the reference."""
    ne, nm = rng.integers(0, 4, n_ev), rng.integers(0, 3, n_ev)
    def coll(n):
        kin = {"pt": rng.exponential(6.0, n), "eta": rng.normal(0, 1.8, n),
               "phi": rng.uniform(-3, 3, n), "mass": rng.choice([0.000511, 0.1056584], n)}
        for x in kin.values():
            x[rng.random(n) < 0.01] = rng.choice([np.nan, np.inf, -np.inf])
        kin["pt"][::50] = 5.0  # exactly at the electron threshold
        kin["eta"][::70] = 2.5  # exactly at the acceptance edge
        out = {k: v.astype(np.float32) for k, v in kin.items()}
        out["charge"] = rng.choice([-1, 1], n).astype(np.int32)
        out["genPartIdx"] = rng.integers(-1, 7, n).astype(np.int32)
        return out
    e, m = coll(int(ne.sum())), coll(int(nm.sum()))
    merged = {
        f: ak.to_numpy(ak.flatten(ak.concatenate(
            [ak.unflatten(e[f], ne), ak.unflatten(m[f], nm)], axis=1)))
        for f in e
    }
    merged["is_e"] = ak.to_numpy(ak.flatten(ak.concatenate(
        [ak.unflatten(np.ones(len(e["pt"]), bool), ne),
         ak.unflatten(np.zeros(len(m["pt"]), bool), nm)], axis=1)))
    return ne, nm, e, m, merged


def test_merge_and_vertex_kernels_equal_numpy():
    from processors.kernels import merge_leptons, merged_index

    rng = np.random.default_rng(2)
    floats, ints = ("pt", "eta", "phi", "mass"), ("charge", "genPartIdx")
    for n_ev in (0, 1, 500):
        ne, nm, e, m, merged = _two_collections(rng, n_ev)
        counts = ne + nm
        event = np.repeat(np.arange(n_ev), counts)
        for keep in (np.ones(n_ev, bool), rng.random(n_ev) < 0.6):
            lk = np.flatnonzero(keep[event])
            assert np.array_equal(merged_index(ne, nm, keep), lk)
            out_f, out_i = np.empty((4, len(lk))), np.empty((3, len(lk)), np.int64)
            merge_leptons(ne, nm, keep, *(e[f] for f in floats + ints),
                          *(m[f] for f in floats + ints), 11, 13, out_f, out_i)
            for row, f in zip(out_f, floats, strict=True):
                assert row.tobytes() == merged[f][lk].astype(np.float64).tobytes(), f
            for row, f in zip(out_i[:2], ints, strict=True):
                assert row.tobytes() == merged[f][lk].astype(np.int64).tobytes(), f
            assert np.array_equal(out_i[2], np.where(merged["is_e"], 11, 13)[lk])

    n_ev = 500
    ne, nm, e, m, merged = _two_collections(rng, n_ev)
    counts = ne + nm
    gcounts = rng.integers(0, 6, n_ev)
    ng = int(gcounts.sum())
    gv = [rng.normal(size=ng).astype(np.float32) for _ in range(3)]
    gv[0][::17] = np.nan
    pv = [rng.normal(size=n_ev).astype(np.float32) for _ in range(3)]
    gen_idx = merged["genPartIdx"].astype(np.int64)
    keep = rng.random(n_ev) < 0.6
    event = np.repeat(np.arange(n_ev), counts)
    lk = keep[event]
    out, ok = lepton_vertices(counts, keep, gen_idx[lk], gcounts, *gv, *pv, 10.0)
    # reference: the numpy formulation
    ev, gi = event[lk], gen_idx[lk]
    goff = np.concatenate([[0], np.cumsum(gcounts)])[:-1]
    r_ok = (gi >= 0) & (gi < gcounts[ev])
    g = np.where(r_ok, goff[ev] + gi, 0)
    cols = [gv[k][g].astype(np.float64) - pv[k][ev].astype(np.float64) for k in range(3)]
    r_ok &= np.isfinite(cols[0]) & np.isfinite(cols[1]) & np.isfinite(cols[2])
    r_out = np.where(r_ok[:, None], np.stack(cols, axis=1) * 10.0, 0.0)
    assert np.array_equal(ok, r_ok) and np.array_equal(out, r_out)


def test_jagged_matches_flatten():
    arr = ak.zip(
        {"pt": ak.Array([[1.0, 2.0], [], [3.0]]), "eta": ak.Array([[0.1, 0.2], [], [0.3]])}
    )
    events = ak.Array({"Lep": arr, "w": [1.0, 2.0, 3.0]})
    for ev in (events, events[1:], events[[2, 0]]):
        counts, cols = jagged(ev, "Lep", ("pt", "eta"))
        assert counts.tolist() == ak.num(ev.Lep).tolist()
        assert cols["pt"].tolist() == ak.flatten(ev.Lep.pt).tolist()
        assert flat(ev, None, "w").tolist() == ev.w.tolist()


def test_smear_variations_equal_single_calls():
    model = load_detector("run2")
    rng = np.random.default_rng(9)
    n = 5000
    pt, eta, phi = rng.exponential(10, n) + 1, rng.normal(0, 1.5, n), rng.uniform(-3, 3, n)
    is_e = rng.random(n) < 0.6
    z = rng.standard_normal((n, 3))
    sig = {s: electron_resolutions(model, s, pt[is_e]) for s in ELECTRON_SETS}
    variations = {"nominal": ("optimistic", "nominal"), "res_up": ("pessimistic", "up"),
                  "res_down": ("optimistic", "down")}
    out = smear_leptons_variations(model, pt=pt, eta=eta, phi=phi, is_electron=is_e, z=z,
                                   variations=variations, electron_sigmas=sig)
    for name, (eset, muvar) in variations.items():
        ref = smear_leptons(model, pt=pt, eta=eta, phi=phi, is_electron=is_e, z=z,
                            electron_set=eset, muon_variation=muvar)
        for f in ("pt", "eta", "phi"):
            assert np.array_equal(getattr(out[name], f), getattr(ref, f))


def test_chunk_columns_equal_nanoevents_fields(tmp_path):
    """The direct batched read gives the values and counts of the NanoEvents fields."""
    import uproot
    from coffea.nanoevents import NanoEventsFactory

    from processors.fastio import chunk_columns, preload_branches
    from processors.processor import DarknuNanoSchema
    from processors.synthetic import toy_signal_file

    path, _ = toy_signal_file(tmp_path / "t.root", n_events=3000, seed=4, flavour=13)
    for start, stop in ((0, 3000), (700, 2100)):
        f = uproot.open({str(path): None})
        md = {"dataset": "d", "filename": str(path), "treename": "Events",
              "entrystart": start, "entrystop": stop}
        events = NanoEventsFactory.from_root(
            file=f, treepath="Events", schemaclass=DarknuNanoSchema, metadata=md,
            mode="virtual", entry_start=start, entry_stop=stop,
        ).events()
        cols = chunk_columns(events, preload_branches(signal=True))
        assert cols.arrays is not None  # the direct path
        # nothing left in the file's array cache: uproot's file objects sit in reference
        # cycles, so cached arrays would live until a full garbage collection
        assert len(f.file.array_cache) == 0
        for coll, fields in (("Electron", ("pt", "charge", "genPartIdx")),
                             ("Muon", ("pt", "eta", "phi", "mass", "charge", "genPartIdx")),
                             ("GenPart", ("vx", "vy", "vz")), ("ChargedHadron", ("pt", "eta"))):
            n_new, new = cols.jagged(coll, fields)
            n_ref, ref = jagged(events, coll, fields)
            assert np.array_equal(n_new, n_ref) and n_new.dtype == np.int64
            for fld in fields:
                assert new[fld].dtype == ref[fld].dtype, (coll, fld)
                assert new[fld].tobytes() == ref[fld].tobytes(), (coll, fld)
        for coll, fld in ((None, "genWeight"), ("GenVtx", "z"), ("ZD", "ctau")):
            a, b = cols.flat(coll, fld), flat(events, coll, fld)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes() and len(a) == stop - start
        f.close()


def test_columns_refuse_counts_that_disagree():
    from processors.fastio import Columns

    arrays = {"nX": ak.Array(np.array([1, 2], np.int32)), "X_a": ak.Array([[1.0], [2.0, 3.0]]),
              "X_b": ak.Array([[1.0, 2.0], [3.0]])}
    counts, vals = Columns(None, arrays).jagged("X", ("a",))
    assert counts.tolist() == [1, 2] and vals["a"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="X_b"):
        Columns(None, arrays).jagged("X", ("a", "b"))


def test_lepton_bookkeeping_kernels_equal_numpy():
    from processors.kernels import (
        drop_nonfinite,
        events_with_three,
        nonfinite_events,
        unsmeared_split,
    )

    rng = np.random.default_rng(41)
    kin = ("pt", "eta", "phi", "mass")
    for n_ev in (0, 1, 5000):
        ne, nm, e, m, merged = _two_collections(rng, n_ev)
        counts = ne + nm
        event_of = np.repeat(np.arange(n_ev), counts)
        flat = [merged[c].astype(np.float64) for c in kin]
        # the former numpy formulation, on the merged arrays
        ref_bad = (~np.all([np.isfinite(x) for x in flat], axis=0) if len(flat[0])
                   else np.zeros(0, bool))
        ref_kin = [np.where(ref_bad, 0.0, x) for x in flat]
        ref_bad_evt = np.bincount(event_of[ref_bad], minlength=n_ev) > 0
        bad_evt = nonfinite_events(ne, *(e[c] for c in kin)) | nonfinite_events(
            nm, *(m[c] for c in kin))
        assert np.array_equal(bad_evt, ref_bad_evt)
        new_kin = [x.copy() for x in flat]
        bad, bad_evt2 = drop_nonfinite(counts, *new_kin)
        assert np.array_equal(bad, ref_bad) and np.array_equal(bad_evt2, ref_bad_evt)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(new_kin, ref_kin, strict=True))

        good = ~bad_evt & (rng.random(n_ev) < 0.9)
        keep0 = (counts >= 3) & good
        lkeep = keep0[event_of]
        is_e = merged["is_e"]
        thr = np.where(is_e, 5.0, 3.0)
        ref_cand = lkeep & (ref_kin[0] > thr) & (np.abs(ref_kin[1]) < 2.5)
        ref_unsure = np.flatnonzero(lkeep & ~ref_cand)
        n_sure, pos, event, is_a, pt, eta = unsmeared_split(
            ne, nm, keep0, e["pt"], e["eta"], m["pt"], m["eta"], 5.0, 3.0, 2.5)
        assert np.array_equal(n_sure, np.bincount(event_of[ref_cand], minlength=n_ev))
        assert np.array_equal(pos, ref_unsure) and np.array_equal(event, event_of[ref_unsure])
        assert np.array_equal(is_a, is_e[ref_unsure])
        assert pt.tobytes() == ref_kin[0][ref_unsure].tobytes()
        assert eta.tobytes() == ref_kin[1][ref_unsure].tobytes()

        passes = rng.random(len(pos)) < 0.5
        cand = ref_cand.copy()
        cand[ref_unsure] = passes
        ref_keep = (np.bincount(event_of[cand & ~ref_bad], minlength=n_ev) >= 3) & good
        assert np.array_equal(events_with_three(n_sure, event, passes, good, 3), ref_keep)


def _possible_good_reference(kin, abs_pdgid, is_e, z, e_sigmas, model, cuts):
    """The former numpy formulation of the pre-filter's smeared bound."""
    pt, eta = kin[0], kin[1]
    n = len(pt)
    s_pt = np.full(n, max(model.muon_sigma_ptrel(v) for v in ("nominal", "up", "down")))
    s_cot = np.zeros(n)
    if e_sigmas:
        s_pt[is_e] = np.max([d["ptrel"] for d in e_sigmas.values()], axis=0)
        s_cot[is_e] = np.max([d["cottheta"] for d in e_sigmas.values()], axis=0)
    pt_max = pt * (1.0 + s_pt * np.maximum(z[:, 0], 0.0)) * (1 + 1e-9)
    thr = np.where(abs_pdgid == 11, cuts.electron_pt_min, cuts.muon_pt_min)
    sinh_min = np.abs(np.sinh(eta)) - s_cot * np.abs(z[:, 1])
    return (pt_max > thr) & (sinh_min < np.sinh(cuts.eta_max) * (1 + 1e-9) + 1e-12)


def _prefilter_reference(lep, counts, is_e, bad_lep, good_evt, z, model, cuts):
    """The former numpy pre-filter of DarkNuProcessor.process."""
    _possible_good = _possible_good_reference

    n_ev = len(counts)
    event_of = np.repeat(np.arange(n_ev), counts)
    flat_kin = [lep[c] for c in ("pt", "eta", "phi", "mass")]
    keep = (counts >= 3) & good_evt
    lkeep = keep[event_of]
    thr = np.where(is_e, cuts.electron_pt_min, cuts.muon_pt_min)
    cand = lkeep & (flat_kin[0] > thr) & (np.abs(flat_kin[1]) < cuts.eta_max)
    unsure = np.flatnonzero(lkeep & ~cand)
    if len(unsure):
        e_u = is_e[unsure]
        e_sig_u = {
            s: electron_resolutions(model, s, flat_kin[0][unsure][e_u], ("cottheta", "ptrel"))
            for s in ELECTRON_SETS
        }
        cand[unsure] = _possible_good(
            [x[unsure] for x in flat_kin], lep["abs_pdgid"][unsure], e_u,
            np.take(z, unsure, axis=0), e_sig_u, model, cuts,
        )
    cand &= ~bad_lep
    return (np.bincount(event_of[cand], minlength=n_ev) >= 3) & good_evt


def test_prefilter_equals_former_formulation():
    from processors.kernels import nonfinite_events
    from processors.processor import _prefilter
    from selections.cuts import Table2Cuts

    rng = np.random.default_rng(42)
    model = load_detector("run2")
    kin = ("pt", "eta", "phi", "mass")
    for cuts in (Table2Cuts(), Table2Cuts(electron_pt_min=1.0)):
        ne, nm, e, m, merged = _two_collections(rng, 20000)
        counts = ne + nm
        good = ~(nonfinite_events(ne, *(e[c] for c in kin)) | nonfinite_events(
            nm, *(m[c] for c in kin)))
        lep = {c: merged[c].astype(np.float64) for c in kin}
        bad = ~np.all([np.isfinite(x) for x in lep.values()], axis=0)
        lep = {c: np.where(bad, 0.0, x) for c, x in lep.items()}
        lep["abs_pdgid"] = np.where(merged["is_e"], 11, 13)
        z = rng.standard_normal((len(lep["pt"]), 3)) * 3
        keep = _prefilter({"Electron": (ne, e), "Muon": (nm, m)}, good, z, model, cuts)
        ref = _prefilter_reference(lep, counts, merged["is_e"], bad, good, z, model, cuts)
        assert np.array_equal(keep, ref)
        assert 0 < keep.sum() < len(keep)


def test_offsets_check():
    from processors.kernels import offsets_match_counts

    ne = np.random.default_rng(43).integers(0, 4, 3000)
    off = np.concatenate([[0], np.cumsum(ne)])
    assert offsets_match_counts(off, ne) and offsets_match_counts(off + 7, ne)
    bad = ne.copy()
    bad[-1] += 1
    assert not offsets_match_counts(off, bad) and not offsets_match_counts(off[:-1], ne)


def test_candidate_vertex_equals_numpy():
    from processors.kernels import candidate_vertex
    from smearing.response import smear_vertex

    rng = np.random.default_rng(44)
    model = load_detector("run2")
    for n_lep in (0, 5000):
        vtx = rng.normal(0, 3, (n_lep, 3))
        n = 2000
        i1, i2 = rng.integers(0, max(n_lep, 1), n), rng.integers(0, max(n_lep, 1), n)
        z = rng.standard_normal((n, 3))
        zv = (0.5 * (np.take(vtx, i1, axis=0) + np.take(vtx, i2, axis=0)) if n_lep
              else np.zeros((n, 3)))
        ref = smear_vertex(model, zv[:, 0], zv[:, 1], zv[:, 2], z)
        got = candidate_vertex(vtx, i1, i2, z, model.vertex_sigma_xy_mm, model.vertex_sigma_z_mm)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(got, ref, strict=True))


def test_smeared_bound_equals_former_formulation():
    from processors.processor import _possible_good
    from selections.cuts import Table2Cuts

    rng = np.random.default_rng(45)
    model = load_detector("run2")
    n = 50000
    pt, eta = rng.exponential(3.0, n), rng.normal(0, 2.0, n)
    pt[::37] = 5.0 / (1 + 1e-9)  # right at a bound
    is_e = rng.random(n) < 0.7
    z = rng.standard_normal((n, 3)) * 2
    sig = {s: electron_resolutions(model, s, pt[is_e], ("cottheta", "ptrel"))
           for s in ELECTRON_SETS}
    for cuts in (Table2Cuts(), Table2Cuts(electron_pt_min=1.0, eta_max=2.4)):
        got = _possible_good([pt, eta], is_e, z, sig, model, cuts)
        ref = _possible_good_reference([pt, eta], np.where(is_e, 11, 13), is_e, z, sig, model, cuts)
        assert np.array_equal(got, ref) and 0 < got.sum() < n
