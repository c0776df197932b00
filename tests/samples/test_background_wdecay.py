"""Redrawn W-decay angles (samples.background_wdecay): the frame is Pythia's, the drawn
angles follow Pythia's decay weight, the moved records conserve the W system, and jobs
with several decay configurations per event are consistent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from samples import background as bg
from samples import background_wdecay as WD
from samples import pcg64
from samples.pythia_record import RecordReader


@pytest.fixture(scope="module")
def events():
    """400 W → μν events of the forced methods' Pythia: (record, process-record rows of
    q(3), W(5), f(6), f̄′(7) as (id, E, px, py, pz))."""
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for s in bg.pythia_settings("W_munu_gstar", method="forced", sqrt_s_TeV=13.0,
                                hadron_level=False, seed=41):
        assert py.readString(s)
    assert py.init()
    reader = RecordReader(py)
    out = []
    for _ in range(400):
        assert py.next()
        pr = py.process
        rows = {i: (pr[i].id(), pr[i].e(), pr[i].px(), pr[i].py(), pr[i].pz())
                for i in (3, 5, 6, 7)}
        out.append((reader.read(py.event), rows))
    return out


def _boost(p, b):
    return np.array(WD._boost(tuple(p), *b))


def _m2(p):
    return p[0] ** 2 - p[1] ** 2 - p[2] ** 2 - p[3] ** 2


def test_decay_products_are_the_process_ones_moved_by_pythias_bst(events):
    """The assumption of the method (Pythia 8.317's resonanceShowers): the W's daughters in
    the event record are the process-record ones boosted by RotBstMatrix::bst(p_W^proc,
    p_W^final); the rest-frame boosts alone would differ by a Wigner rotation."""
    worst = worst_naive = 0.0
    for rec, rows in events:
        iw, d1 = WD.decay_frame(rec)[:2]
        assert iw > 5 and rec.daughter2[iw] == d1 + 1
        p0 = np.array(rows[5][1:])
        np.testing.assert_allclose(rec.p[5], p0, rtol=0, atol=1e-9)  # entry 5 = process W
        b = WD.pythia_bst_velocity(p0, rec.p[iw])
        for j, k in ((d1, 6), (d1 + 1, 7)):
            assert rec.id[j] == rows[k][0]
            worst = max(worst, np.abs(_boost(rows[k][1:], b) - rec.p[j]).max())
        # Rest frame of the final W reached by its own pure boost: not the hard frame.
        pw = rec.p[iw]
        naive = _boost(rec.p[d1], -pw[1:] / pw[0])
        hard = _boost(rows[6][1:], (0.0, 0.0, -p0[3] / p0[0]))
        worst_naive = max(worst_naive, np.abs(naive - hard).max())
    assert worst < 1e-8
    assert worst_naive > 1e-3


def test_hard_frame_angle_is_the_process_records(events):
    """ε cos θ of f(6) in the hard frame rebuilt from the event record equals the one of
    Sigma1ffbar2W::weightDecay computed from the process record."""
    for rec, rows in events:
        p0 = np.array(rows[5][1:])
        q = _boost(rows[6][1:], (0.0, 0.0, -p0[3] / p0[0]))
        eps = 1.0 if rows[3][0] * rows[6][0] > 0 else -1.0
        assert WD.hard_frame_cos_theta(rec) == pytest.approx(
            eps * q[3] / np.linalg.norm(q[1:]), abs=1e-10)


def test_moved_configurations_conserve_the_w_system(events):
    """Redrawn configurations: only the W's descendants move; their sum stays p_W, every
    mass and every invariant between two of them is unchanged (a Lorentz transformation),
    and the hard-frame angle is the drawn one."""
    st = pcg64.state_of(np.random.default_rng(3))
    for rec, _rows in events[:150]:
        iw, d1 = WD.decay_frame(rec)[:2]
        eps = WD.decay_frame(rec)[6]
        desc = WD.w_descendants(rec, iw)
        assert d1 in desc and d1 + 1 in desc
        final = [j for j in desc if rec.status[j] > 0]
        others = np.setdiff1d(np.arange(len(rec.id)), desc)
        moved, cos_new = WD.resampled_momenta(rec, 3, st)
        for r in range(3):
            p = moved[r]
            np.testing.assert_array_equal(p[others], rec.p[others])
            np.testing.assert_allclose(p[final].sum(axis=0), rec.p[iw], atol=1e-8)
            for a in final:
                assert _m2(p[a]) == pytest.approx(_m2(rec.p[a]), abs=1e-6 * max(1, p[a][0]))
                for b in final:
                    if b > a:
                        assert _m2(p[a] + p[b]) == pytest.approx(_m2(rec.p[a] + rec.p[b]),
                                                                 rel=1e-9, abs=1e-7)
            rec_r = rec._replace(p=p)
            assert WD.hard_frame_cos_theta(rec_r) == pytest.approx(eps * cos_new[r], abs=1e-9)


def test_drawn_angles_follow_pythias_decay_weight():
    """cos θ from draw_cos_theta against (1 + β ε cos θ)² − (r₁ − r₂)², both signs of ε:
    χ² of 20 bins below the 99.9% quantile, the mean within 4σ of its expectation (1/2 ε β
    for massless products); the azimuth of the redrawn direction is uniform."""
    from scipy import stats

    st = pcg64.state_of(np.random.default_rng(11))
    n = 40_000
    edges = np.linspace(-1.0, 1.0, 21)
    for eps in (1.0, -1.0):
        c = np.array([WD.draw_cos_theta(eps, 1.0, 0.0, st) for _ in range(n)])
        cdf = (1.0 + eps * edges) ** 3 / 8.0 if eps > 0 else 1.0 - (1.0 - edges) ** 3 / 8.0
        expected = n * np.abs(np.diff(cdf))
        h, _ = np.histogram(c, edges)
        assert ((h - expected) ** 2 / expected).sum() < stats.chi2.ppf(0.999, 19)
        # <c> = ε/2 and var(c) = 1/5 − 1/4 + ... for (1 + εc)²: E[c²] = 2/5, var = 3/20.
        assert abs(c.mean() - eps / 2) < 4 * math.sqrt(0.15 / n)


def test_redrawn_azimuths_are_uniform(events):
    """The redrawn f(6) directions in the hard frame: uniform azimuth (Rayleigh test on the
    first harmonic, 4σ) and ε cos θ with mean 1/2 (4σ)."""
    st = pcg64.state_of(np.random.default_rng(5))
    cos_all, phis = [], []
    for rec, _rows in events:
        iw, d1, bx, by, bz, bz0, eps = WD.decay_frame(rec)[:7]
        moved, _c = WD.resampled_momenta(rec, 10, st)
        for r in range(10):
            q = WD.to_hard_frame(moved[r, d1], bx, by, bz, bz0)
            phis.append(math.atan2(q[2], q[1]))
            cos_all.append(eps * q[3] / math.sqrt(q[1] ** 2 + q[2] ** 2 + q[3] ** 2))
    phis, cos_all = np.array(phis), np.array(cos_all)
    n = len(phis)
    assert abs(np.cos(phis).mean()) < 4 * math.sqrt(0.5 / n)
    assert abs(np.sin(phis).mean()) < 4 * math.sqrt(0.5 / n)
    assert abs(cos_all.mean() - 0.5) < 4 * math.sqrt(0.15 / n)


def test_w_decays_need_the_compiled_engine():
    """The reference engine has no W-decay resampling: asking it for w_decays > 1 is an
    error before generation (range checks: tests/samples/test_thinning.py)."""
    t = bg.JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 50, 1, 0, False, None,
                   w_decays=3, engine="python")
    with pytest.raises(bg.ParameterError, match="compiled engine"):
        bg.run_job(t)


def test_job_with_redrawn_decays_writes_one_group_per_event(tmp_path):
    """A sliced_fsrq job with w_decays = 4 writes its setting into the metadata and the
    copies of one Pythia event consecutively, with one genEventGroup."""
    import awkward as ak
    import uproot

    from samples.nanoaod import read_metadata

    path = tmp_path / "w.root"
    t = bg.JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 300, 7, 0, False, str(path),
                   w_decays=4, fsr_emissions=6, quark_emissions=2, oversample_soft=4)
    r = bg.run_job(t)
    assert read_metadata(str(path))["w_decays"] == 4
    with uproot.open(path) as f:
        g = ak.to_numpy(f["Events"]["genEventGroup"].array())
    assert r.n_written == len(g) > 0
    assert np.all(np.diff(g) >= 0)


def test_shower_photons_are_split_on_the_first_configuration_only(events):
    """With the forced emissions off, soft_event_decays on four configurations gives the
    rows of one configuration (the shower photons are split once, with the event's weight;
    the one-configuration kernel is the reference's loop, tested against it job by job in
    tests/samples/test_background_compiled.py)."""
    import pythia8mc

    from samples import background_kernels as K

    atab = K.alpha_em_table(pythia8mc.Pythia("", False).settings)
    sts = [pcg64.state_of(np.random.default_rng(s)) for s in (1, 2, 3, 1, 2, 3)]
    tot_a, tot_b = np.zeros(K.N_TOTALS), np.zeros(K.N_TOTALS)
    n_rows = 0
    # Columns every copy sets (the others are per kind, uninitialised otherwise).
    cols = [*range(K.C_FLAV + 1), *range(K.C_LM, K.C_MPAIR + 1), K.C_CORE]
    for rec, _rows in events[:200]:
        a = K.soft_event_decays(rec, 1, sts[2], 1.0, 5.0, 4, False, False, 6, 2, 0.1057,
                                sts[0], sts[1], atab, tot_a)
        b = K.soft_event_decays(rec, 4, sts[5], 1.0, 5.0, 4, False, False, 6, 2, 0.1057,
                                sts[3], sts[4], atab, tot_b)
        np.testing.assert_array_equal(a[0][:, cols], b[0][:, cols])
        for x, y in zip(a[1:5], b[1:5], strict=True):
            np.testing.assert_array_equal(x, y)
        assert np.all(b[4] == 0)
        n_rows += len(a[0])
    np.testing.assert_array_equal(tot_a, tot_b)
    assert n_rows > 0


def test_every_random_stream_of_a_job_has_its_own_tag():
    """The per-job streams (forced splitting, sliced splitting, quark emissions, thinning,
    W-decay angles) are seeded with distinct tags: equal tags would repeat one stream's
    numbers in another (the W-decay stream first shared the thinning's tag)."""
    from samples import background_sliced as S

    tags = [bg.RNG_FORCED, S.RNG_SPLIT, S.RNG_QUARK, S.RNG_THIN, S.RNG_WDECAY]
    assert len(set(tags)) == len(tags)


@pytest.mark.parametrize("w_decays", [1, 4])
def test_written_copies_carry_their_configurations_leptons(tmp_path, w_decays):
    """The file's copies are written from their own decay configuration: the truth
    preselection recomputed from each copy's Electron/Muon collections (float32) gives the
    kernel's preselected rows (m_ℓℓ, leading p_T), in order. Copies written from another
    configuration's record would carry other W-lepton momenta."""
    import awkward as ak
    import uproot

    path = tmp_path / f"w{w_decays}.root"
    t = bg.JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 300, 8, 0, False, str(path),
                   w_decays=w_decays, fsr_emissions=12 // w_decays, quark_emissions=2,
                   oversample_soft=4, hard_fraction=0.1)
    r = bg.run_job(t)
    with uproot.open(path) as f:
        a = f["Events"].arrays(["Electron_pt", "Electron_eta", "Electron_phi",
                                "Electron_pdgId", "Muon_pt", "Muon_eta", "Muon_phi",
                                "Muon_pdgId"], library="ak")
    rows = []
    for i in range(len(a)):
        leps = []
        for c, mass in (("Electron", 0.000511), ("Muon", 0.10566)):
            pt, eta, phi, pid = (ak.to_numpy(a[f"{c}_{x}"][i]).astype(float)
                                 for x in ("pt", "eta", "phi", "pdgId"))
            for k in range(len(pt)):
                px, py, pz = pt[k] * math.cos(phi[k]), pt[k] * math.sin(phi[k]), \
                    pt[k] * math.sinh(eta[k])
                leps.append((int(pid[k]), math.sqrt(px * px + py * py + pz * pz + mass**2),
                             px, py, pz))
        sel = bg.truth_preselection(leps)
        if sel is not None:
            rows.append(sel[:2])
    got = np.array(rows)
    assert len(got) == len(r.presel) > 20
    np.testing.assert_allclose(got[:, 1], r.presel[:, 1], rtol=1e-5)
    np.testing.assert_allclose(got[:, 0], r.presel[:, 0], rtol=2e-3, atol=1e-5)


def test_shared_status_flags_equal_the_per_copy_ones(events):
    """copies_columns shares the GenPart statusFlags of unedited entries between all copies
    and decay configurations of an event; every column equals event_columns on each copy's
    own record at the file's precision (splitting, lepton-emission and quark-emission
    copies, 4 configurations)."""
    import pythia8mc

    from samples import background_kernels as K
    from samples.nanoaod_kernels import event_columns

    atab = K.alpha_em_table(pythia8mc.Pythia("", False).settings)
    sts = [pcg64.state_of(np.random.default_rng(s)) for s in (21, 22, 23)]
    tot = np.zeros(K.N_TOTALS)
    kinds = set()
    for rec, _rows in events:
        f, irow, mv_i, mv_p, cfg, ps = K.soft_event_decays(
            rec, 4, sts[2], 1.0, 5.0, 4, True, True, 6, 2, 0.1057, sts[0], sts[1], atab, tot)
        if not len(f):
            continue
        got = K.copies_columns(rec, f, irow, mv_i, mv_p, ps, cfg)
        ref = [event_columns(K.copy_record(rec._replace(p=ps[cfg[c]]), f[c], irow[c], mv_i,
                                           mv_p)) for c in range(len(f))]
        for a in range(8):  # GenPart, Electron, Muon, ChargedHadron (floats, ints)
            want = np.concatenate([r[a] for r in ref])  # at the file's float32/int32
            np.testing.assert_array_equal(got[a], want.astype(got[a].dtype))
        kinds.update(irow[:, K.I_KIND].tolist())
    assert kinds == {0, 1, 2}


def test_copies_columns_of_an_edited_entry_with_descendants_take_the_per_record_path(events):
    """copies_columns shares the per-event history (samples.nanoaod_kernels.column_plan)
    only when the edited photon of a splitting copy has no descendants; otherwise the copy
    takes the per-record path. Copies pointed at the W (status -22, with descendants; its
    status and daughters then change) still give every copy's own event_columns. (No record
    was found where the shared path itself would differ: this checks the per-record path's
    bookkeeping, which is otherwise never taken.)"""
    import pythia8mc

    from samples import background_kernels as K
    from samples.nanoaod_kernels import event_columns

    atab = K.alpha_em_table(pythia8mc.Pythia("", False).settings)
    sts = [pcg64.state_of(np.random.default_rng(s)) for s in (31, 32, 33)]
    tot = np.zeros(K.N_TOTALS)
    n_checked = 0
    for rec, _rows in events:
        f, irow, mv_i, mv_p, cfg, ps = K.soft_event_decays(
            rec, 2, sts[2], 1.0, 5.0, 4, True, True, 6, 2, 0.1057, sts[0], sts[1], atab, tot)
        parents = [i for i in range(1, len(rec.id)) if rec.status[i] == -22
                   and rec.daughter1[i] > 0]
        if not len(f) or not parents:
            continue
        irow = irow.copy()  # every copy a splitting copy of that entry
        irow[:, K.I_KIND], irow[:, K.I_RAD] = 0, parents[-1]
        irow[:, K.I_MOV0] = irow[:, K.I_MOV1] = 0
        got = K.copies_columns(rec, f, irow, mv_i, mv_p, ps, cfg)
        ref = [event_columns(K.copy_record(rec._replace(p=ps[cfg[c]]), f[c], irow[c], mv_i,
                                           mv_p)) for c in range(len(f))]
        for a in range(8):
            want = np.concatenate([r[a] for r in ref])
            np.testing.assert_array_equal(got[a], want.astype(got[a].dtype))
        np.testing.assert_array_equal(got[9], np.array([r[8] for r in ref]))
        n_checked += len(f)
        if n_checked > 20:
            break
    assert n_checked > 20
