"""Signal generation: decay physics, reproducibility, resume, fileset, command line."""

from __future__ import annotations

import json
import math

import awkward as ak
import numpy as np
import pytest
import uproot
from coffea.nanoevents import NanoAODSchema, NanoEventsFactory
from scipy import stats

from darknu.cli import main
from darknu.errors import OutputExistsError, ParameterError
from darknu.io import file_digest
from darknu.parallel import ExecutorSpec
from samples.fileset import load_fileset
from samples.model import SignalPoint, signal_cross_section_pb, zd_branching, zd_ctau_mm
from samples.nanoaod import read_metadata
from samples.signal import generate_buffer, generate_signal

from .conftest import flat_arrays


def _gen(point: SignalPoint, events: int, seed: int):
    buf, _ = generate_buffer(point, events=events, seed=seed)
    return buf.to_arrays()


def test_zd_proper_decay_length_is_exponential_with_ctau():
    """Fitted mean of the stored c·t equals cτ within 3σ (σ = cτ/√N), and the shape is Exp."""
    point = SignalPoint(m_N=10.0, m_ZD=0.03)
    ctau = zd_ctau_mm(0.03, 2e-10)
    t = np.asarray(_gen(point, 3000, seed=11)["ZD_ctau"])
    assert abs(t.mean() - ctau) < 3 * ctau / math.sqrt(len(t))
    assert stats.kstest(t, "expon", args=(0, ctau)).pvalue > 1e-3


def test_lab_decay_length_over_betagamma():
    """The lab-frame decay distance / βγ of the Z_D (from the vertices) has mean cτ (3σ)."""
    point = SignalPoint(m_N=10.0, m_ZD=0.03)
    ctau = zd_ctau_mm(0.03, 2e-10)
    a = _gen(point, 3000, seed=12)
    gp = a["GenPart"]
    zd = ak.firsts(gp[gp.pdgId == 4900023])
    zd_idx = ak.firsts(ak.local_index(gp.pdgId)[gp.pdgId == 4900023])
    dau = ak.firsts(gp[(abs(gp.pdgId) == 11) & (gp.genPartIdxMother == zd_idx)])
    pv = a["GenVtx"]
    d_mm = 10 * np.sqrt((dau.vx - pv.x) ** 2 + (dau.vy - pv.y) ** 2 + (dau.vz - pv.z) ** 2)
    betagamma = zd.pt * np.cosh(zd.eta) / 0.03
    assert not ak.any(ak.is_none(dau)) and not ak.any(ak.is_none(zd))
    d_mm = ak.to_numpy(ak.drop_none(d_mm))
    x = d_mm / ak.to_numpy(ak.drop_none(betagamma))
    assert abs(x.mean() - ctau) < 3 * ctau / math.sqrt(len(x))


def test_w_charges_and_charge_conjugation(ref_sample):
    """Both W+ -> mu+ N_D and W- -> mu- N_D-bar are generated through the one addChannel."""
    with uproot.open(ref_sample) as f:
        gp = f["Events"].arrays(filter_name="GenPart_*", how="zip")["GenPart"]
    w_id = ak.firsts(gp.pdgId[abs(gp.pdgId) == 24])
    nd_id = ak.firsts(gp.pdgId[abs(gp.pdgId) == 9990014])
    mu = gp[(abs(gp.pdgId) == 13) & (gp.status == 1)]
    assert ak.all(np.sign(nd_id) == np.sign(w_id))
    assert ak.all(ak.num(mu) == 1)
    assert ak.all(np.sign(ak.firsts(mu.pdgId)) == -np.sign(w_id))  # mu+ has pdgId -13
    frac_plus = ak.mean(w_id > 0)
    assert 0.5 < frac_plus < 0.65  # LO PDFs: W+ / (W+ + W-) ~ 0.57 at 13 TeV (ATLAS: 0.574)


def test_zd_channels_follow_branching_fractions():
    """At m_ZD = 0.5 GeV ee and mumu are generated in the DarkCast ratio (binomial 3σ)."""
    a = _gen(SignalPoint(m_N=10.0, m_ZD=0.5), 2000, seed=13)
    gp = a["GenPart"]
    zd_idx = ak.firsts(ak.local_index(gp.pdgId)[gp.pdgId == 4900023])
    dau = gp[gp.genPartIdxMother == zd_idx]
    n_ee = int(ak.sum(ak.any(abs(dau.pdgId) == 11, axis=1)))
    n_mm = int(ak.sum(ak.any(abs(dau.pdgId) == 13, axis=1)))
    assert n_ee + n_mm == 2000
    br = zd_branching(0.5)
    p = br["ee"] / (br["ee"] + br["mumu"])
    assert abs(n_ee / 2000 - p) < 3 * math.sqrt(p * (1 - p) / 2000)


def test_same_seed_identical_other_seed_different(tmp_path, ref_sample):
    (again,) = generate_signal(m_N=0.3, m_ZD=0.1, events=2000, seed=1, out_dir=tmp_path / "a")
    a, b = flat_arrays(ref_sample), flat_arrays(again)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    (other,) = generate_signal(m_N=0.3, m_ZD=0.1, events=2000, seed=2, out_dir=tmp_path / "b")
    assert not np.array_equal(flat_arrays(other)["ZD_ctau"], a["ZD_ctau"])


def test_jobs_identical_on_any_executor(tmp_path):
    kw = dict(m_N=10.0, m_ZD=0.03, events=300, seed=7, jobs=2)
    it = generate_signal(**kw, out_dir=tmp_path / "it", executor=ExecutorSpec(kind="iterative"))
    fu = generate_signal(
        **kw, out_dir=tmp_path / "fu", executor=ExecutorSpec(kind="futures", workers=2)
    )
    assert [p.name for p in it] == [p.name for p in fu]
    for p, q in zip(it, fu, strict=True):
        a, b = flat_arrays(p), flat_arrays(q)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{p.name}: {k}")
    j0, j1 = (flat_arrays(p)["ZD_ctau"] for p in it)
    assert len(j0) == len(j1) == 150 and not np.array_equal(j0, j1)
    fileset = load_fileset(tmp_path / "it" / "fileset.json")
    (entry,) = fileset.values()
    assert entry["metadata"]["n_events"] == 300 and entry["metadata"]["sum_genweight"] == 300.0
    assert sorted(entry["files"]) == sorted(str(p) for p in it)


def test_resume_skips_finished_jobs_and_refuses_conflicts(tmp_path):
    kw = dict(m_N=10.0, m_ZD=0.03, events=40, seed=3, jobs=2, out_dir=tmp_path)
    first = generate_signal(**kw)
    digests = [file_digest(p) for p in first]
    mtimes = [p.stat().st_mtime_ns for p in first]
    fs_text = (tmp_path / "fileset.json").read_text()
    again = generate_signal(**kw)
    assert again == first
    assert [file_digest(p) for p in again] == digests
    assert [p.stat().st_mtime_ns for p in again] == mtimes  # not rewritten
    assert (tmp_path / "fileset.json").read_text() == fs_text
    # a different sample for the same fileset entry needs --force
    with pytest.raises(OutputExistsError, match="signal_mN10_mZD0.03__nominal"):
        generate_signal(**{**kw, "alpha_eps2": 2e-11})
    forced = generate_signal(**{**kw, "alpha_eps2": 2e-11}, force=True)
    meta = json.loads((tmp_path / "fileset.json").read_text())["signal_mN10_mZD0.03__nominal"][
        "metadata"
    ]
    assert meta["alpha_eps2"] == 2e-11 and len(forced) == 2


def test_cli_acceptance(tmp_path, capsys):
    """Issue 2 acceptance: the command writes a NanoAODSchema-readable file with its cross
    section; the same command twice gives identical arrays."""
    outs = []
    for name in ("one", "two"):
        out = tmp_path / name
        rc = main(
            [
                "generate",
                "signal",
                "--m-nd",
                "0.3",
                "--m-zd",
                "0.1",
                "--events",
                "2000",
                "--seed",
                "1",
                "--out",
                str(out),
            ]
        )
        assert rc == 0
        assert f"2000 events in 1 file(s) in {out}" in capsys.readouterr().out
        outs.append(out)
    files = [sorted(o.glob("*.root")) for o in outs]
    assert len(files[0]) == 1
    a, b = (flat_arrays(f[0]) for f in files)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    ev = NanoEventsFactory.from_root(
        {str(files[0][0]): "Events"}, schemaclass=NanoAODSchema, mode="eager"
    ).events()
    assert len(ev) == 2000 and ak.all(ev.Electron.matched_gen.pdgId == ev.Electron.pdgId)
    meta = read_metadata(files[0][0])
    assert meta["xsec_pb"] == pytest.approx(signal_cross_section_pb(0.3, 0.1))
    assert meta["kind"] == "signal" and meta["m_N_GeV"] == 0.3 and meta["ctau_ZD_mm"] > 0
    assert "1603.09222" in meta["xsec_source"]
    fileset = load_fileset(outs[0] / "fileset.json")
    assert fileset["signal_mN0.3_mZD0.1__nominal"]["metadata"]["xsec_pb"] == meta["xsec_pb"]


def test_ht_veto_efficiency_metadata_and_measurement(ref_sample):
    """Parton-level files quote the tabulated H_T-veto efficiency; the measurement code
    reproduces a small hadron-level sample's value within its binomial error."""
    from samples.signal import measure_ht_veto_efficiency, tabulated_ht_veto_efficiency

    meta = read_metadata(ref_sample)
    value, source = tabulated_ht_veto_efficiency()
    assert (
        meta["ht_veto_efficiency"] == value and "hadron-level" in meta["ht_veto_efficiency_source"]
    )
    eff = measure_ht_veto_efficiency(SignalPoint(m_N=10.0, m_ZD=0.03), events=150, seed=104)
    assert abs(eff.value - value) < 3 * math.hypot(eff.error, 0.0063)


def test_hadron_level_metadata_has_no_tabulated_efficiency(tmp_path):
    from samples.signal import SignalJob

    point = SignalPoint(m_N=10.0, m_ZD=0.03)
    common = dict(point=point, events=5, seed=1, job=0, path=str(tmp_path / "x.root"), force=False)
    assert "ht_veto_efficiency" not in SignalJob(hadron_level=True, **common).metadata()
    parton = SignalJob(hadron_level=False, **common).metadata()
    assert 0 < parton["ht_veto_efficiency"] < 1
    assert "HadronLevel:Hadronize = off" in parton["generator"]["settings"]


def test_lifetime_mix_jobs_cycle_and_metadata(tmp_path):
    """lifetime_mix: jobs cycle through the lifetimes (at least one job each), files carry
    their own cτ, the fileset entry records each component's αε², cτ and weight fraction,
    and the processor's lifetime weights use the mixture formula."""
    from processors.processor import lifetime_weights
    from samples.reweight import mixture_lifetime_weight

    mix = [2e-11, 2e-10]
    paths = generate_signal(m_N=0.3, m_ZD=0.1, events=41, seed=3, out_dir=tmp_path, lifetime_mix=mix)
    assert len(paths) == 2
    assert sorted(read_metadata(p)["alpha_eps2"] for p in paths) == mix
    assert {read_metadata(p)["ctau_ZD_mm"] for p in paths} == {zd_ctau_mm(0.1, a) for a in mix}
    (entry,) = load_fileset(tmp_path / "fileset.json").values()
    comps = entry["metadata"]["lifetime_mix"]
    assert [c["alpha_eps2"] for c in comps] == mix
    assert math.isclose(sum(c["fraction"] for c in comps), 1.0)
    assert [c["fraction"] for c in comps] == pytest.approx([21 / 41, 20 / 41])  # genWeight = 1
    t = np.array([0.0, 0.05, 3.0])
    w = lifetime_weights("sig", entry["metadata"], t, 6e-11)
    expected = mixture_lifetime_weight(t, [(c["ctau_ZD_mm"], c["fraction"]) for c in comps], zd_ctau_mm(0.1, 6e-11))
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    with pytest.raises(ParameterError, match="fewer than the 2 lifetimes"):
        generate_signal(m_N=0.3, m_ZD=0.1, events=1, seed=3, out_dir=tmp_path / "x", lifetime_mix=mix)
