"""Tests of samples.background / samples.background_forced (fixed seeds, statistical tolerances)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from darknu.errors import ParameterError
from samples import background as bg
from samples.background_forced import (
    M_ELECTRON_GEV,
    M_MUON_GEV,
    force_split,
    kroll_wada_density,
)

ALPHA = 1 / 137.035999


def _splits(photon, rec, tries, rng, *, scale, m_lepton):
    """The splittings of ``tries`` calls of force_split inside Pythia's phase space."""
    for _ in range(tries):
        sp = force_split(photon, rec, scale_gev=scale, m_lepton=m_lepton, rng=rng,
                         alpha_em=lambda q2: ALPHA)
        if sp is not None:
            yield sp


def test_unknown_process_fails_before_generation(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match="unknown process 'Wjets'; valid: W_enu_gstar"):
        bg.generate_background("Wjets", events=10, seed=1, out_dir=out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "magic"}, "unknown method 'magic'"),
        ({"events": -5}, "events = -5 is out of range"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"sqrt_s_TeV": 8.0}, "no W_munu cross section"),
        ({"oversample": 0}, "oversample = 0 is out of range"),
    ],
)
def test_invalid_parameters_fail_before_generation(tmp_path, kwargs, match):
    args = {"events": 10, "seed": 1, "out_dir": tmp_path / "o"} | kwargs
    with pytest.raises(ParameterError, match=match):
        bg.generate_background("W_munu_gstar", **args)
    assert not (tmp_path / "o").exists()


def test_kernel_reproduces_kroll_wada_without_ordering():
    """With a huge dipole mass and production scale, the forced-splitting weights must give
    dP/dln m = (2α/3π)(1 + 2r)√(1 − 4r) (r = m_ℓ²/m²) for e and μ pairs.

    Tolerance: 4 standard errors of each bin's weighted sum (from the sample itself) plus
    the O(ρ = m²/m²_dip ≤ 1e-4) kernel terms."""
    rng = np.random.default_rng(7)
    photon = (500.0, 0.0, 0.0, 500.0)
    rec = (500.0, 0.0, 0.0, -500.0)
    edges = np.geomspace(0.01, 10.0, 7)
    for m_l in (M_ELECTRON_GEV, M_MUON_GEV):
        n = 30000
        ms, ws = [], []
        for _ in range(n):
            sp = force_split(photon, rec, scale_gev=1e4, m_lepton=m_l, rng=rng,
                             alpha_em=lambda q2: ALPHA, sudakov=False)
            if sp is not None:
                ms.append(sp.m_pair)
                ws.append(sp.weight)
        ms, ws = np.array(ms), np.array(ws)
        sumw, _ = np.histogram(ms, edges, weights=ws)
        sumw2, _ = np.histogram(ms, edges, weights=ws**2)
        for lo, hi, s, s2 in zip(edges[:-1], edges[1:], sumw, sumw2):
            grid = np.geomspace(lo, hi, 400)
            expect = np.trapezoid([kroll_wada_density(m, m_l, ALPHA) for m in grid], grid)
            got = s / n
            err = math.sqrt(s2) / n
            assert abs(got - expect) <= 4 * err + 1e-4 * expect, (m_l, lo, hi, got, expect, err)


def test_split_conserves_four_momentum():
    rng = np.random.default_rng(3)
    photon = (20.0, 3.0, 4.0, math.sqrt(20.0**2 - 25.0))
    rec = (40.0, -10.0, 2.0, 38.6)
    rec = (math.sqrt(10.0**2 + 2.0**2 + 38.6**2 + M_MUON_GEV**2), -10.0, 2.0, 38.6)
    n_ok = 0
    for sp in _splits(photon, rec, 2000, rng, scale=5.0, m_lepton=M_MUON_GEV):
        n_ok += 1
        tot = [a + b + c for a, b, c in zip(sp.lepton_minus, sp.lepton_plus, sp.recoiler)]
        before = [a + b for a, b in zip(photon, rec)]
        assert np.allclose(tot, before, atol=1e-8)
        l1 = sp.lepton_minus
        assert math.isclose(l1[0] ** 2 - l1[1] ** 2 - l1[2] ** 2 - l1[3] ** 2, M_MUON_GEV**2,
                            rel_tol=1e-5)
        r = sp.recoiler
        assert math.isclose(r[0] ** 2 - r[1] ** 2 - r[2] ** 2 - r[3] ** 2, M_MUON_GEV**2,
                            rel_tol=1e-4)
    assert n_ok > 100


def test_split_lepton_takes_energy_fraction_z_in_the_dipole_frame():
    """Pythia's γ → ℓℓ kinematics (``SimpleTimeShower::branch``): z is the lepton's share
    of the γ* energy in the dipole rest frame, ½(1 + β_ℓ(2z − 1)) with lepton masses. A
    small dipole (photon and recoiler 20° apart) so that high-mass pairs are slow in that
    frame; mapping z onto cos θ* = 2z − 1 instead (the code before 2026-12-01) misses the
    asymmetric pairs by up to 1 − β*."""
    rng = np.random.default_rng(8)
    photon = (10.0, 0.0, 0.0, 10.0)
    th = math.radians(20.0)
    rec = (30.0, 30.0 * math.sin(th), 0.0, 30.0 * math.cos(th))
    rec = (math.sqrt(30.0**2 + M_ELECTRON_GEV**2), *rec[1:])
    ptot = [a + b for a, b in zip(photon, rec, strict=True)]
    b = [-c / ptot[0] for c in ptot[1:]]
    from samples.background_forced import _boost

    n_slow = 0
    for sp in _splits(photon, rec, 4000, rng, scale=50.0, m_lepton=M_ELECTRON_GEV):
        l_rf, g_rf = _boost(sp.lepton_minus, b), _boost(sp.gstar, b)
        beta_star = math.sqrt(1 - (sp.m_pair / g_rf[0]) ** 2)
        beta_l = math.sqrt(1 - 4 * M_ELECTRON_GEV**2 / sp.m_pair**2)
        assert l_rf[0] / g_rf[0] == pytest.approx(0.5 * (1 + beta_l * (2 * sp.z - 1)), abs=1e-9)
        n_slow += beta_star < 0.8 and abs(2 * sp.z - 1) > 0.5
    assert n_slow >= 10, n_slow


@pytest.mark.slow
def test_forced_splitting_rate_matches_pythia_shower():
    """P(γ → e⁺e⁻ with m > 10 MeV) per photon with p_T > 2 GeV: forced kernel on Pythia's
    photons (photon splitting off) vs Pythia's own shower (A2LL enhanced ×20, weighted).
    Fixed seeds; tolerance 3σ of the combined statistical error (Pythia's dominates, ~8%)."""
    import pythia8mc

    def pythia(extra, seed):
        py = pythia8mc.Pythia("", False)
        for s in bg.pythia_settings("W_munu_gstar", method="plain", sqrt_s_TeV=13.0,
                                    hadron_level=False, seed=seed) + extra:
            py.readString(s)
        assert py.init()
        return py

    n = 15000
    py = pythia(["Enhancements:doEnhance = on", "EnhancedSplittings:List = {fsr:A2LL=20}"], 11)
    info = py.infoPython()
    n_gam = n_split = n_split2 = 0.0
    for _ in range(n):
        assert py.next()
        w = info.weight()
        ev = py.event
        for j in range(ev.size()):
            g = ev[j]
            if g.id() != 22 or g.pT() < bg.PHOTON_PT_MIN_GEV:
                continue
            if g.isFinal():
                n_gam += w
            elif g.status() < 0 and g.daughter1() > 0 and ev[g.daughter1()].idAbs() in (11, 13):
                n_gam += w
                a, b = ev[g.daughter1()], ev[g.daughter2()]
                if a.idAbs() == 11 and (a.p() + b.p()).mCalc() > 0.01:
                    n_split += w
                    n_split2 += w * w
    p_py = n_split / n_gam
    e_py = math.sqrt(n_split2) / n_gam

    py = pythia(["TimeShower:QEDshowerByGamma = off"], 12)
    rng = np.random.default_rng(5)
    vals = []
    for _ in range(n):
        assert py.next()
        ev = py.event
        for j in range(ev.size()):
            g = ev[j]
            if not (g.isFinal() and g.id() == 22 and g.pT() >= bg.PHOTON_PT_MIN_GEV):
                continue
            r = ev[bg._recoiler(ev, j)]
            tot = 0.0
            for _k in range(5):
                sp = force_split((g.e(), g.px(), g.py(), g.pz()), (r.e(), r.px(), r.py(), r.pz()),
                                 scale_gev=ev[g.iTopCopyId()].scale(), m_lepton=M_ELECTRON_GEV,
                                 rng=rng, alpha_em=py.coupSM.alphaEM)
                tot += sp.weight / 5 if sp is not None else 0.0
            vals.append(tot)
    vals = np.array(vals)
    p_f = vals.mean()
    e_f = vals.std() / math.sqrt(len(vals))
    assert abs(p_f - p_py) < 3 * math.hypot(e_py, e_f), (p_f, p_py, e_py, e_f)


def test_fsr_photon_splits_against_its_radiator_as_in_pythia():
    """Pythia's own γ → ℓ⁺ℓ⁻ splittings (A2LL enhanced shower): the recoiler of a photon
    radiated in the final-state shower by a quark or lepton is that radiator's line
    (``SimpleTimeShower::branch``), and ``_fsr_radiator_final`` / ``_recoiler`` name its
    final copy, for every such splitting. (The nearest-charged rule that S and Q used
    before differs for some quark photons; ``test_background_compiled`` checks that.)"""
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for s in bg.pythia_settings("W_munu_gstar", method="enhanced", sqrt_s_TeV=13.0,
                                hadron_level=False, seed=21):
        assert py.readString(s)
    assert py.init()
    n = {"quark": 0, "lepton": 0}
    for _ in range(30000):
        assert py.next()
        ev = py.event
        for ig, i_next in bg.shower_splittings(ev):
            top = ev[ev[ig].iTopCopyId()]
            radiator = ev[top.mother1()]
            if not 51 <= abs(top.status()) <= 59 or radiator.chargeType() == 0:
                continue
            kind = "quark" if radiator.idAbs() <= 5 else "lepton"
            recoil = ev[i_next]  # Pythia appends the recoiler's new copy after the pair
            assert abs(recoil.status()) == 52
            want = recoil.iBotCopyId()
            if not ev[want].isFinal():
                continue
            assert bg._fsr_radiator_final(ev, ig) == want, (kind, ig, want)
            n[kind] += 1
    assert n["quark"] >= 20 and n["lepton"] >= 200, n


def test_run_job_reproducible_and_weighted():
    task = bg.JobTask("W_munu_gstar", "forced", 13.0, 1500, 3, 0, False, None)
    a, b = bg.run_job(task), bg.run_job(task)
    assert a.n_written == b.n_written > 0
    np.testing.assert_array_equal(a.presel, b.presel)
    assert a.sumw_written == b.sumw_written
    # Forced copies carry probabilities per photon: far below one, positive.
    assert 0.0 < a.sumw_written / a.n_written < 0.05


def test_generate_writes_nanoaod_and_fileset(tmp_path):
    from coffea.nanoevents import NanoAODSchema, NanoEventsFactory

    from samples.fileset import load_fileset
    from samples.nanoaod import read_metadata

    files = bg.generate_background("W_munu_gstar", events=2000, seed=4, out_dir=tmp_path,
                                   jobs=1, method="forced")
    assert len(files) == 1 and files[0].exists()
    meta = read_metadata(files[0])
    assert meta["kind"] == "background" and meta["hadron_level"] is False
    assert meta["ht_veto_efficiency"] > 0.5 and "ht_veto_efficiency_source" in meta
    assert math.isclose(meta["xsec_pb"], 20600.0 * meta["gen_filter_efficiency"], rel_tol=1e-9)
    fs = load_fileset(tmp_path / "fileset.json")
    assert "W_munu_gstar__nominal" in fs
    ev = NanoEventsFactory.from_root({str(files[0]): "Events"}, schemaclass=NanoAODSchema,
                                     mode="eager").events()
    n_lep = np.asarray(ak_num(ev.Electron) + ak_num(ev.Muon))
    assert (n_lep >= 3).all()
    assert np.isclose(np.asarray(ev.genWeight).sum(), meta["sum_genweight"], rtol=1e-6)


def test_generation_resumes_job_by_job(tmp_path):
    """A rerun keeps the jobs already written with the same settings, regenerates a missing
    one (identical file and fileset entry), and refuses files made with other settings."""
    from darknu.errors import OutputExistsError
    from samples.fileset import load_fileset

    kw = dict(events=1200, seed=5, out_dir=tmp_path, jobs=2, method="forced")
    first = bg.generate_background("W_munu_gstar", **kw)
    assert len(first) == 2
    def content(f):  # events and metadata, less the job's CPU time (varies between runs)
        import uproot

        from samples.nanoaod import read_metadata

        arrays = uproot.open(f)["Events"].arrays(library="ak")
        meta = {k: v for k, v in read_metadata(f).items() if k != "cpu_seconds"}
        return meta, arrays.to_list()

    contents = [content(f) for f in first]
    entry = load_fileset(tmp_path / "fileset.json")["W_munu_gstar__nominal"]
    mtime0 = first[0].stat().st_mtime_ns
    first[1].unlink()  # as if the run had been killed before job 1 was written
    again = bg.generate_background("W_munu_gstar", **kw)
    assert again == first
    assert first[0].stat().st_mtime_ns == mtime0  # job 0 kept, not regenerated
    assert [content(f) for f in again] == contents
    entry2 = load_fileset(tmp_path / "fileset.json")["W_munu_gstar__nominal"]
    assert entry2["metadata"]["sum_genweight"] == entry["metadata"]["sum_genweight"]
    assert entry2["metadata"]["xsec_pb"] == pytest.approx(entry["metadata"]["xsec_pb"], rel=1e-12)
    with pytest.raises(OutputExistsError, match="other settings"):
        bg.generate_background("W_munu_gstar", **{**kw, "oversample": 2})


def ak_num(x):
    import awkward as ak

    return ak.num(x[(x.pt > bg.FILTER_PT_MIN_GEV) & (abs(x.eta) < bg.FILTER_ETA_MAX)])


@pytest.mark.slow
def test_reshower_reproduces_pythia_lepton_photons():
    """The W-decay re-shower (method ``reshower``) must give the W lepton the same photons as
    Pythia's own shower of the decay: photons with p_T > 2 GeV radiated by the muon, per
    W event. Fixed seeds; 3σ of the Poisson errors (~4% each)."""
    import pythia8mc

    def count(ev) -> int:
        n = 0
        for j in range(ev.size()):
            p = ev[j]
            if p.isFinal() and p.id() == 22 and p.pT() > 2.0:
                n += ev[ev[p.iTopCopyId()].mother1()].idAbs() == 13
        return n

    n = 12000
    py = pythia8mc.Pythia("", False)
    for s in bg.pythia_settings("W_munu_gstar", method="plain", sqrt_s_TeV=13.0,
                                hadron_level=False, seed=21):
        py.readString(s)
    assert py.init()
    n_std = sum(count(py.event) for _ in range(n) if py.next())

    py = pythia8mc.Pythia("", False)
    for s in bg.pythia_settings("W_munu_gstar", method="reshower", sqrt_s_TeV=13.0,
                                hadron_level=False, seed=22):
        py.readString(s)
    assert py.init()
    dec = bg._decay_shower_pythia(23)
    counts = []
    for _ in range(n // 4):
        assert py.next()
        bg._reshower_event(dec, py.event, 4,
                           lambda e, fl, w, f_lep, first: counts.append(count(e)))
    n_res = sum(counts)
    rate_std, rate_res = n_std / n, n_res / len(counts)
    err = math.hypot(math.sqrt(n_std) / n, math.sqrt(n_res) / len(counts))
    assert abs(rate_std - rate_res) < 3 * err, (rate_std, rate_res, err)
    assert rate_std > 0.03  # about 5% of W -> mu nu events have such a photon
