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


def _filled_column_buffer(counts, seed=3):
    """A ColumnBuffer filled by hand: ``counts[c]`` GenPart entries in copy c, with
    shower-like content (a few pdgIds and statuses, mothers pointing back)."""
    from samples.nanoaod import ColumnBuffer

    rng = np.random.default_rng(seed)
    n_copies, n = len(counts), int(counts.sum())
    buf = ColumnBuffer(hadron_level=False, initial_copies=n_copies)
    buf.reserve((n, 0, 0, 0, n_copies))
    gen_f, gen_i, *_, ev_f, ev_i = buf.arrays
    gen_f[:n, 0] = rng.exponential(5.0, n)  # pt
    gen_f[:n, 1] = rng.normal(0.0, 2.0, n)  # eta
    gen_f[:n, 2] = rng.uniform(-math.pi, math.pi, n)  # phi
    gen_f[:n, 3] = rng.choice([0.0, 0.000511, 0.10566, 80.4], n)  # mass
    gen_f[:n, 4:7] = 0.0  # vertex
    gen_i[:n, 0] = rng.choice([1, -2, 21, 22, 11, -11, 13, 24], n)
    gen_i[:n, 1] = rng.choice([1, 2, 62], n)
    gen_i[:n, 2] = rng.choice([0, 256, 8192 + 4096 + 256], n)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    gen_i[:n, 3] = np.arange(n) - starts - 1
    ev_f[:n_copies] = 0.0
    ev_f[:n_copies, 5] = 1.0  # genWeight
    ev_f[:n_copies, 6] = 1.0  # biasWeight
    ev_i[:n_copies] = 0
    ev_i[:n_copies, 0] = counts
    buf.pos[:] = (n, 0, 0, 0, n_copies)
    return buf


def test_large_branches_are_compressed_in_several_baskets(tmp_path, monkeypatch):
    """A GenPart collection of 4.15M entries in 100k copies (a ~30k-event job's) is
    written in baskets of at most BASKET_ITEMS particles, every basket compressed, and
    reads back equal. In one basket per branch (the writer before, reproduced here by
    lifting the limits), an int32 branch is 17 MB: uproot compresses it in blocks of
    2^24 - 1 bytes, the last one holds only the entry offsets, which do not shrink, and
    uproot then stores the whole basket uncompressed."""
    import uproot

    from samples import nanoaod

    counts = np.random.default_rng(4).integers(30, 54, 100_000)
    items = int(counts.sum())
    assert 4 * items < 2**24 - 1 < 4 * (items + len(counts))  # the last block: offsets
    buf = _filled_column_buffer(counts)
    meta = {"process": "test", "seed": 1, "job": 0}
    path = write_nanoaod(tmp_path / "big.root", buf, meta)
    tree = uproot.open(path)["Events"]
    assert tree["GenPart_pt"].num_baskets >= math.ceil(items / nanoaod.BASKET_ITEMS)
    for name in ("GenPart_pdgId", "GenPart_status", "GenPart_genPartIdxMother"):
        # (the random floats here do not compress; these do, as real ones do 2-10x)
        branch = tree[name]
        assert branch.num_baskets >= math.ceil(items / nanoaod.BASKET_ITEMS)
        assert branch.compressed_bytes < 0.8 * branch.uncompressed_bytes, name
    got = tree["GenPart_pdgId"].array()
    assert np.array_equal(ak.num(got).to_numpy(), counts)
    assert np.array_equal(ak.flatten(got).to_numpy(), buf.arrays[1][:items, 0])
    assert np.array_equal(ak.flatten(tree["GenPart_pt"].array()).to_numpy(),
                          buf.arrays[0][:items, 0])
    # One basket per branch: stored uncompressed.
    monkeypatch.setattr(nanoaod, "BASKET_ITEMS", 10**9)
    monkeypatch.setattr(nanoaod, "BASKET_ENTRIES", 10**9)
    one = uproot.open(write_nanoaod(tmp_path / "one.root", buf, meta))["Events"]
    assert one["GenPart_pdgId"].num_baskets == 1
    assert one["GenPart_pdgId"].compressed_bytes == one["GenPart_pdgId"].uncompressed_bytes
