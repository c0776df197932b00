"""The NanoAOD-like writer: coffea's NanoAODSchema reads it and the truth record is consistent."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
from coffea.nanoevents import NanoAODSchema, NanoEventsFactory

from darknu.errors import InputFileError, OutputExistsError, ParameterError
from samples.model import SignalPoint
from samples.nanoaod import (
    FIRST_COPY,
    FROM_HARD_PROCESS,
    LAST_COPY,
    PROMPT,
    EventBuffer,
    read_metadata,
    write_nanoaod,
)
from samples.signal import generate_buffer


def _events(path):
    return NanoEventsFactory.from_root(
        {str(path): "Events"}, schemaclass=NanoAODSchema, mode="eager"
    ).events()


@pytest.fixture(scope="module")
def signal_events(ref_sample):
    return _events(ref_sample)


def test_nanoaod_schema_reads_collections(signal_events):
    ev = signal_events
    assert len(ev) == 2000
    for field in (
        "Electron",
        "Muon",
        "GenPart",
        "ChargedHadron",
        "MET",
        "GenVtx",
        "genWeight",
        "run",
        "luminosityBlock",
        "event",
    ):
        assert field in ev.fields
    # ZD_ctau is a scalar branch; NanoAODSchema exposes it as ev.ZD.ctau
    assert ak.all(ev.ZD.ctau > 0)
    # m_ZD = 0.1 GeV < 2 m_mu: every event has the e+e- pair; the W muon is always there
    assert ak.all(ak.num(ev.Muon) >= 1)
    # every event holds the Z_D's e+ e- in GenPart (all prompt leptons are kept); Electron
    # holds those above LEPTON_PT_MIN_GEV = 0.5 GeV
    final_e = ev.GenPart[(abs(ev.GenPart.pdgId) == 11) & (ev.GenPart.status == 1)]
    # (>= 2: the QED shower can split an FSR photon into one more pair)
    assert ak.all(ak.sum(final_e.pdgId, axis=1) == 0) and ak.all(ak.num(final_e) >= 2)
    assert ak.all(ak.num(ev.Electron) == ak.num(final_e[final_e.pt > 0.5]))
    assert ak.all(ev.Electron.pt > 0.5)
    assert ak.all(ev.event == np.arange(1, 2001))
    assert ak.all(ev.luminosityBlock == 1) and ak.all(ev.run == 1)


def test_matched_gen_and_parents(signal_events):
    ev = signal_events
    ele = ev.Electron
    gen = ele.matched_gen
    assert ak.all(gen.pdgId == ele.pdgId)
    assert ak.all(abs(gen.pt - ele.pt) < 1e-4 * ele.pt)
    # walk the mothers up to the Z_D (through FSR copies), then N_D, then W
    anc = gen.parent
    for _ in range(6):
        anc = ak.where((abs(anc.pdgId) == 11) | (anc.pdgId == 22), anc.parent, anc)
    # electrons come from the Z_D, or rarely from a photon radiated by the W muon / W
    assert set(np.unique(ak.to_numpy(ak.flatten(abs(anc.pdgId))))) <= {4900023, 13, 24}
    from_zd = ak.flatten(anc.pdgId == 4900023)
    assert ak.mean(from_zd) > 0.99
    assert ak.all(abs(anc.parent.pdgId[anc.pdgId == 4900023]) == 9990014)
    assert ak.all(abs(ev.Muon.matched_gen.distinctParent.pdgId) == 24)


def test_status_flags(signal_events):
    gp = signal_events.GenPart
    final_e = gp[(abs(gp.pdgId) == 11) & (gp.status == 1)]
    flags = final_e.statusFlags
    assert ak.all((flags & PROMPT) != 0)
    assert ak.all((flags & FROM_HARD_PROCESS) != 0)
    assert ak.all((flags & LAST_COPY) != 0)
    assert ak.all(final_e.hasFlags(["isPrompt", "isLastCopy", "fromHardProcess"]))
    w = gp[abs(gp.pdgId) == 24]
    # exactly one first and one last copy of the W per event, the first is the hard process
    assert ak.all(ak.sum((w.statusFlags & FIRST_COPY) != 0, axis=1) == 1)
    assert ak.all(ak.sum((w.statusFlags & LAST_COPY) != 0, axis=1) == 1)
    assert ak.all(ak.firsts(w.hasFlags(["isHardProcess"])))


def test_met_is_the_neutrino(signal_events):
    """Without hadronisation the only neutrino is the one from N_D -> nu Z_D."""
    gp = signal_events.GenPart
    nu = gp[(abs(gp.pdgId) == 14) & (gp.status == 1)]
    assert ak.all(ak.num(nu) == 1)
    np.testing.assert_allclose(
        ak.to_numpy(signal_events.MET.pt), ak.to_numpy(nu.pt[:, 0]), rtol=1e-5
    )


def test_displacement_is_betagamma_ctau(signal_events):
    """The electrons' production vertex sits at βγ·(c t) from the primary vertex, c t = ZD_ctau."""
    ev = signal_events
    gp = ev.GenPart
    zd = ak.firsts(gp[gp.pdgId == 4900023])
    e = ak.firsts(gp[(abs(gp.pdgId) == 11) & (gp.parent.pdgId == 4900023)])
    d_mm = 10 * np.sqrt(
        (e.vx - ev.GenVtx.x) ** 2 + (e.vy - ev.GenVtx.y) ** 2 + (e.vz - ev.GenVtx.z) ** 2
    )
    p = zd.pt * np.cosh(zd.eta)
    betagamma = p / 0.1
    ok = ev.ZD.ctau * betagamma > 1e-2  # float32 vertex precision: skip sub-10-um decays
    np.testing.assert_allclose(
        ak.to_numpy((d_mm / betagamma)[ok]), ak.to_numpy(ev.ZD.ctau[ok]), rtol=2e-3
    )
    # dxy of a displaced track is bounded by the transverse decay distance
    ele = ev.Electron
    lxy_cm = np.hypot(ele.matched_gen.vx - ev.GenVtx.x, ele.matched_gen.vy - ev.GenVtx.y)
    assert ak.all(abs(ele.dxy) <= lxy_cm * (1 + 1e-4) + 1e-7)
    assert ak.mean(ak.flatten(abs(ele.dxy) > 0)) > 0.5


def test_metadata_roundtrip_and_atomic_overwrite(tmp_path):
    buf, _ = generate_buffer(SignalPoint(m_N=10.0, m_ZD=0.03), events=20, seed=3)
    path = write_nanoaod(tmp_path / "a.root", buf, {"seed": 3, "job": 2, "process": "x"})
    meta = read_metadata(path)
    assert (
        meta["n_events"] == 20 and meta["sum_genweight"] == 20.0 and meta["hadron_level"] is False
    )
    ev = _events(path)
    assert ak.all(ev.luminosityBlock == 3) and ak.all(ev.run == 3)
    with pytest.raises(OutputExistsError, match="a.root"):
        write_nanoaod(path, buf, {"seed": 3, "job": 2})
    with pytest.raises(ParameterError, match="n_events"):
        write_nanoaod(tmp_path / "b.root", buf, {"n_events": 19}, overwrite=True)
    with pytest.raises(ParameterError, match="empty"):
        write_nanoaod(tmp_path / "c.root", EventBuffer(hadron_level=False), {})
    assert not (tmp_path / "b.root").exists() and not (tmp_path / "c.root").exists()
    with pytest.raises(InputFileError, match="nope.root"):
        read_metadata(tmp_path / "nope.root")


def test_hadron_level_collections(tmp_path):
    buf, settings = generate_buffer(
        SignalPoint(m_N=10.0, m_ZD=0.03), events=10, seed=5, hadron_level=True
    )
    assert "HadronLevel:Hadronize = on" in settings
    path = write_nanoaod(tmp_path / "h.root", buf, {"seed": 5, "job": 0})
    ev = _events(path)
    ch = ev.ChargedHadron
    assert ak.sum(ak.num(ch)) > 10 * 5  # a W event has tens of charged hadrons above 0.5 GeV
    assert ak.all(ch.pt > 0.5) and ak.all(abs(ch.pdgId) > 100)
    # hadrons are not copied into GenPart (only ChargedHadron)
    gp = ev.GenPart
    ids = abs(gp.pdgId)
    assert not ak.any((ids > 100) & (ids < 1_000_000))
    assert read_metadata(path)["hadron_level"] is True
    assert math.isclose(read_metadata(path)["sum_genweight"], 10.0)


def test_file_uuid_depends_only_on_content(tmp_path):
    """Regenerating the same events gives the same ROOT UUID (the processors seed their
    smearing from it), while different content gives a different one."""
    import uproot

    from samples.signal import generate_signal

    kw = dict(m_N=1.0, m_ZD=0.03, alpha_eps2=2e-11, events=50, seed=5, jobs=1)
    (a,) = generate_signal(**kw, out_dir=tmp_path / "a")
    (b,) = generate_signal(**kw, out_dir=tmp_path / "b")
    (c,) = generate_signal(**{**kw, "seed": 6}, out_dir=tmp_path / "c")
    uuid = {k: uproot.open(p).file.uuid for k, p in {"a": a, "b": b, "c": c}.items()}
    assert uuid["a"] == uuid["b"]
    assert uuid["a"] != uuid["c"]
