"""The compiled engine of the sliced methods against the Python reference, bit for bit.

Kernels (samples.background_kernels) are compared with the Python functions they port on
the same inputs and random streams; the record reader (samples.pythia_record) with the
pythia8mc accessors; whole jobs and written files of both engines with each other.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from samples import background as bg
from samples import background_kernels as K
from samples import pcg64
from samples import pythia_record as R
from samples.nanoaod_kernels import GEN_F, GEN_I, HAD_F, LEP_F, LEP_I
from samples.background_forced import M_ELECTRON_GEV, M_MUON_GEV, force_split, no_split_probability
from samples.background_fsr import force_emit, force_emit_quark, photon_fraction

from .conftest import flat_arrays


def _w_pythia(seed):
    """An initialised W → μν Pythia of the forced methods (photon splitting off)."""
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for s in bg.pythia_settings("W_munu_gstar", method="forced", sqrt_s_TeV=13.0,
                                hadron_level=False, seed=seed):
        assert py.readString(s)
    assert py.init()
    return py


@pytest.fixture(scope="module")
def pythia():
    """The module's shared Pythia (:func:`_w_pythia`, seed 31): the events a test sees
    depend on the tests that ran before it in the same worker."""
    return _w_pythia(31)


def _four(rng, mass, scale):
    p = rng.normal(size=3) * scale
    return (math.sqrt(float(p @ p) + mass * mass), *map(float, p))


def test_pcg64_stream_is_numpys():
    """Draws from the state array equal Generator.random() draws, and the generator
    continues where the compiled draws stopped."""
    for seed in ([1, 0, 0xBAC7], [7, 3, 0xBAC8], 12345):
        ref, gen = np.random.default_rng(seed), np.random.default_rng(seed)
        expect = ref.random(5000)
        st = pcg64.state_of(gen)
        got = np.array([pcg64.random(st) for _ in range(5000)])
        pcg64.restore(gen, st)
        np.testing.assert_array_equal(got, expect)
        assert gen.random() == ref.random()


def test_hypot_rounds_like_cpython_and_both_engines_square_alike():
    """CPython's math.hypot, which libm's hypot does not reproduce in the last bit (so this
    test would fail with it); the kernels' square is the reference's (x * x, not CPython's
    x ** 2 = libm pow, which differs for some of these values)."""
    from samples.background_forced import sq

    g = np.random.default_rng(2)
    x = (g.normal(size=20000) * 10.0 ** g.uniform(-4, 4, 20000)).tolist()
    y = (g.normal(size=20000) * 10.0 ** g.uniform(-4, 4, 20000)).tolist()
    assert [K.hypot(a, b) for a, b in zip(x, y)] == [math.hypot(a, b) for a, b in zip(x, y)]
    assert [K.sq(a) for a in x] == [sq(a) for a in x] == [a * a for a in x]
    assert sum(a * a != a**2 for a in x) > 0  # why the reference cannot use ** 2


def test_alpha_em_is_pythias(pythia):
    tab = K.checked_alpha_em_table(pythia)
    q2 = 10.0 ** np.random.default_rng(3).uniform(-9, 7, 3000)
    assert [K.alpha_em(v, tab) for v in q2.tolist()] == [pythia.coupSM.alphaEM(v)
                                                         for v in q2.tolist()]


def _same_draws(gen_ref, st):
    """The compiled stream ``st`` continues exactly as the reference generator."""
    return pcg64.random(st) == gen_ref.random()


def test_force_split_and_emissions_match_python(pythia):
    """force_split, force_emit, force_emit_quark, photon_fraction and the Sudakov factor:
    identical results (weights, momenta, rejections) and random-number consumption."""
    tab = K.checked_alpha_em_table(pythia)
    alpha = pythia.coupSM.alphaEM
    g = np.random.default_rng(4)
    n_ok = [0, 0, 0]
    for trial in range(600):
        seed = int(g.integers(1 << 40))
        ph, rec = _four(g, 0.0, 20.0), _four(g, M_MUON_GEV if trial % 2 else 80.4, 30.0)
        scale = float(g.uniform(0.5, 50.0))
        for m_l in (M_ELECTRON_GEV, M_MUON_GEV):
            ref, st = np.random.default_rng(seed), pcg64.state_of(np.random.default_rng(seed))
            a = force_split(ph, rec, scale_gev=scale, m_lepton=m_l, rng=ref, alpha_em=alpha)
            b = K.force_split(ph, rec, scale, m_l, st, tab)
            assert b[0] == (a is not None)
            if a is not None:
                n_ok[0] += 1
                assert (a.weight, a.m_pair, a.z, a.lepton_minus, a.lepton_plus, a.gstar,
                        a.recoiler) == tuple(b[1:])
            assert _same_draws(ref, st)
        lep, nu = _four(g, M_MUON_GEV, 30.0), _four(g, 0.0, 30.0)
        ref, st = np.random.default_rng(seed), pcg64.state_of(np.random.default_rng(seed))
        a = force_emit(lep, nu, m_lepton=M_MUON_GEV, rng=ref, alpha_em=alpha)
        b = K.force_emit(lep, nu, M_MUON_GEV, st, tab)
        assert b[0] == (a is not None) and _same_draws(ref, st)
        if a is not None:
            n_ok[1] += 1
            assert tuple(a) == tuple(b[1:])
        assert photon_fraction(lep, ph, nu) == K.photon_fraction(lep, ph, nu)
        inc = trial % 4 == 0
        q = _four(g, 0.0, 30.0)
        r = (300.0, 0.0, 0.0, 300.0) if inc else _four(g, 80.4 if trial % 2 else 0.33, 40.0)
        m_r = 0.0 if inc else math.sqrt(max(0.0, r[0] ** 2 - r[1] ** 2 - r[2] ** 2 - r[3] ** 2))
        pt_max, pt_min = float(g.uniform(1.0, 60.0)), (0.5, 2.0)[trial % 2]
        ref, st = np.random.default_rng(seed), pcg64.state_of(np.random.default_rng(seed))
        a = force_emit_quark(q, r, m_quark=0.0, m_rec=m_r, rec_incoming=inc, charge2=4 / 9,
                             pt_max=pt_max, pt_min=pt_min, rng=ref, alpha_em=alpha)
        b = K.force_emit_quark(q, r, 0.0, m_r, inc, 4 / 9, pt_max, st, tab, 4.0, pt_min)
        assert b[0] == (a is not None) and _same_draws(ref, st)
        if a is not None:
            n_ok[2] += 1
            assert tuple(a) == tuple(b[1:])
        pt = float(g.uniform(1e-4, 30.0))
        assert no_split_probability(scale, pt, alpha(pt * pt)) == \
            K.no_split_probability(scale, pt, alpha(pt * pt))
    assert min(n_ok) > 50, n_ok  # every kernel accepted enough points to be compared


def test_quark_photons_split_against_their_quark(pythia):
    """Sample Q: every forced quark photon splits against the quark that radiated it (its
    final copy after the emission), as Pythia's shower sets up the dipole of an emitted
    photon; the nearest charged particle by p_γ·p_j/chargeType_j², the rule before, is
    another particle for some of these photons, so the check can fail."""
    reader = R.RecordReader(pythia, verify_events=0)
    atab = K.checked_alpha_em_table(pythia)
    st_w, rng, rng_q = (pcg64.state_of(np.random.default_rng(s)) for s in (1, 2, 3))
    n_q = n_other_nearest = 0
    for _ in range(150):
        assert pythia.next()
        rec = reader.read_raw(pythia.event)
        f, irow, _mi, _mp, _cfg, _ps = K.soft_event_decays(
            rec, 1, st_w, 1.0, bg.SLICE_PT_GEV, 2, True, True, 2, 4, M_MUON_GEV, rng, rng_q,
            atab, np.zeros(K.N_TOTALS))
        charged = [j for j in range(len(rec.id)) if rec.status[j] > 0 and rec.ctype[j] != 0]
        for row, ir in zip(f, irow, strict=True):
            if ir[K.I_KIND] != 2:
                continue
            n_q += 1
            assert ir[K.I_REC] == ir[K.I_RAD]
            pg = row[K.C_PHOTON:K.C_PHOTON + 4]
            dots = [(pg[0] * rec.p[j, 0] - pg[1:] @ rec.p[j, 1:]) / rec.ctype[j] ** 2
                    for j in charged]
            n_other_nearest += charged[int(np.argmin(dots))] != ir[K.I_RAD]
    assert n_q > 100 and n_other_nearest > 0, (n_q, n_other_nearest)


def test_record_reader_and_event_helpers_match_pythia(pythia):
    """The raw record equals the accessor record; copies, ancestry, photon recoilers and
    origins, quark recoilers and copy segments equal Pythia's / the Python reference's."""
    from samples.background_fsr import quark_copy_segments, quark_recoiler
    from samples.background_sliced import _w_decay_final, photon_origin

    reader = R.RecordReader(pythia, verify_events=0)
    n_photon = n_quark = 0
    for _ in range(40):
        assert pythia.next()
        ev = pythia.event
        rec = reader.read_raw(ev)
        assert rec is not None and R.records_equal(rec, reader.read_accessors(ev))
        assert K.w_decay_final(rec) == _w_decay_final(ev)
        for i in range(ev.size()):
            p = ev[i]
            assert (K.top_copy(rec, i), K.bot_copy(rec, i)) == (p.iTopCopyId(), p.iBotCopyId())
            for anc in (3, 5, 6):
                assert R.is_ancestor(i, anc, rec.status, rec.mother1, rec.mother2) == \
                    p.isAncestor(anc)
            if p.isFinal() and p.id() == 22:
                n_photon += 1
                ref = bg._recoiler(ev, i)
                assert K.photon_recoiler(rec, i) == (-1 if ref is None else ref)
                assert K.photon_origin(rec, i) == photon_origin(ev, i)
            if p.isFinal() and 1 <= p.idAbs() <= 5:
                n_quark += 1
                ir, inc = K.quark_recoiler(rec, i)
                assert (None if ir < 0 else (ir, inc)) == quark_recoiler(ev, i)
                seg = K.quark_copy_segments(rec, i)
                assert list(zip(*(a.tolist() for a in seg))) == quark_copy_segments(ev, i)
    assert n_photon > 10 and n_quark > 20


def test_record_reader_falls_back_to_accessors(pythia, monkeypatch, caplog):
    """A particle array that does not look contiguous switches the reader to the
    accessors (with a warning), and the records stay right."""
    reader = R.RecordReader(pythia)
    assert pythia.next()
    monkeypatch.setattr(R, "_address", lambda obj: 12345)  # misaligned: not an array
    with caplog.at_level(logging.WARNING, logger="samples.pythia_record"):
        rec = reader.read(pythia.event)
    assert not reader.raw and "accessors" in caplog.text
    assert R.records_equal(rec, reader.read_accessors(pythia.event))


def _job(method, engine, events, seed, **kw):
    return bg.run_job(bg.JobTask("W_munu_gstar", method, 13.0, events, seed, 0, False, None,
                                 engine=engine, **kw))


@pytest.mark.parametrize(
    ("method", "events", "kw"),
    [
        ("sliced", 800, {"hard_fraction": 0.25, "oversample": 2}),
        ("sliced_fsr", 800, {"hard_fraction": 0.1, "fsr_emissions": 3}),
        ("sliced_fsrq", 1200, {"hard_fraction": 0.2, "fsr_emissions": 5, "quark_emissions": 3,
                               "oversample_soft": 2, "oversample": 2, "w_decays": 1}),
    ],
)
def test_compiled_job_equals_python_job(method, events, kw):
    """Same seed → the same preselected copies, weights, photon origins, loose-pair rates,
    Σw and counts from both engines (exact equality)."""
    a = _job(method, "python", events, 13, **kw)
    b = _job(method, "compiled", events, 13, **kw)
    assert len(a.presel) > 10
    np.testing.assert_array_equal(a.presel, b.presel)
    np.testing.assert_array_equal(a.presel_aux, b.presel_aux)
    assert (a.sumw_generated, a.sumw_written, a.n_written, a.loose_ee, a.loose_mumu) == \
        (b.sumw_generated, b.sumw_written, b.n_written, b.loose_ee, b.loose_mumu)
    strip = {k: v for k, v in a.extra.items() if not k.startswith("cpu")}
    assert strip == {k: v for k, v in b.extra.items() if not k.startswith("cpu")}


def test_compiled_files_equal_python_files(tmp_path, monkeypatch):
    """The written NanoAOD files of both engines are identical branch by branch, and so are
    their event buffers (per-event values in double precision, per-particle columns at the
    file's float32/int32): the compiled writer reproduces EventBuffer.append_pythia on the
    edited Pythia events."""
    buffers = {}
    write = bg._write

    def capture(task, buf, *args, **kw):
        buffers[task.engine] = buf
        return write(task, buf, *args, **kw)

    monkeypatch.setattr(bg, "_write", capture)
    files = {}
    for engine in ("python", "compiled"):
        t = bg.JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 300, 17, 0, False,
                       str(tmp_path / f"{engine}.root"), hard_fraction=0.1, quark_emissions=2,
                       fsr_emissions=6, oversample=2, w_decays=1, engine=engine)
        assert bg.run_job(t).n_written > 100
        files[engine] = flat_arrays(t.out_path)
    a, b = buffers["python"], buffers["compiled"]
    ev_f, ev_i = (x[:len(b)] for x in b.arrays[8:])  # samples.nanoaod.ColumnBuffer
    assert a._weights == ev_f[:, 5].tolist()
    assert (a._met, a._vtx) == ((ev_f[:, 0].tolist(), ev_f[:, 1].tolist()),
                                tuple(ev_f[:, 2 + j].tolist() for j in range(3)))
    assert a._extra == {"biasWeight": ev_f[:, 6].tolist(), "genEventGroup": ev_i[:, 4].tolist()}
    names = ("GenPart", "Electron", "Muon", "ChargedHadron")
    assert [a._counts[c] for c in names] == [ev_i[:, j].tolist() for j in range(4)]
    fields = {"GenPart": (GEN_F, GEN_I), "Electron": (LEP_F, LEP_I), "Muon": (LEP_F, LEP_I),
              "ChargedHadron": (HAD_F, ("pdgId",))}
    for c, name in enumerate(names):  # compiled: the file's float32/int32
        fl, it = (x[:b.pos[c]] for x in b.arrays[2 * c:2 * c + 2])
        it = it.reshape(len(it), len(fields[name][1]))
        for j, f in enumerate(fields[name][0]):
            np.testing.assert_array_equal(np.asarray(a._cols[name][f], np.float32), fl[:, j],
                                          (name, f))
        for j, f in enumerate(fields[name][1]):
            np.testing.assert_array_equal(np.asarray(a._cols[name][f], np.int32), it[:, j],
                                          (name, f))
    assert files["python"].keys() == files["compiled"].keys()
    for k, v in files["python"].items():
        np.testing.assert_array_equal(v, files["compiled"][k], err_msg=k)


def test_a_full_column_buffer_grows_and_the_event_is_redone_from_its_own_state(tmp_path,
                                                                              monkeypatch):
    """An event that does not fit the ColumnBuffer changes nothing (its random-number states
    and running totals are restored) and is redone after the buffer grows: a job whose
    buffers start at one copy (grown dozens of times, with and without a file) gives the
    same statistics and the same file as one with the default room."""
    from samples import background_sliced as bs
    from samples.nanoaod import ColumnBuffer

    buffers = []
    write = bg._write

    def capture(task, buf, *args, **kw):
        buffers.append(buf)
        return write(task, buf, *args, **kw)

    monkeypatch.setattr(bg, "_write", capture)
    grown = []
    init = ColumnBuffer.__init__

    def track(self, *args, **kw):
        init(self, *args, **kw)
        grown.append((small_start, self))

    monkeypatch.setattr(ColumnBuffer, "__init__", track)
    res, files = {}, {}
    for small_start in (False, True):
        if small_start:  # the file's buffer and the no-file job's weights start at one copy
            monkeypatch.setattr(bs, "expected_copies", lambda task: 1)
        for out in (None, str(tmp_path / f"{small_start}.root")):
            t = bg.JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 400, 23, 0, False, out,
                           hard_fraction=0.1, w_decays=2)
            res[small_start, out is None] = bg.run_job(t)
            if out:
                files[small_start] = flat_arrays(out)
    small = [b for s, b in grown if s]
    assert len(grown) == 4 and len(small) == 2 and min(b.n_grown for b in small) > 5
    assert [b.n_grown for s, b in grown if not s] == [0, 0]
    assert len(buffers) == 2 and len(buffers[0]) == len(buffers[1]) > 500
    for no_file in (True, False):
        a, b = res[False, no_file], res[True, no_file]
        np.testing.assert_array_equal(a.presel, b.presel)
        assert (a.sumw_written, a.n_written, a.loose_ee, a.loose_mumu) == \
            (b.sumw_written, b.n_written, b.loose_ee, b.loose_mumu)
    big, one = files[False], files[True]
    assert big.keys() == one.keys()
    for k, v in big.items():
        np.testing.assert_array_equal(v, one[k], err_msg=k)


def test_column_kernel_equals_append_pythia_in_double_precision():
    """samples.nanoaod_kernels.event_columns on the record = EventBuffer.append_pythia on the
    Pythia event, value by value in double precision (GenPart with flags and mothers,
    leptons with impact parameters, MET, vertex), on unedited W → μν events (a Pythia of
    its own: the same 25 events however the tests are distributed)."""
    from samples.nanoaod import EventBuffer
    from samples.nanoaod_kernels import GEN_F, GEN_I, HAD_F, LEP_F, LEP_I, event_columns

    pythia = _w_pythia(31)
    reader = R.RecordReader(pythia)
    n_gen = []
    for _ in range(25):
        assert pythia.next()
        ref = EventBuffer(hadron_level=False)
        ref.append_pythia(pythia.event, weight=1.0)
        gf, gi, ef, ei, uf, ui, hf, hi, met, vtx = event_columns(reader.read(pythia.event))
        for name, fl, it, ff, fi in (("GenPart", gf, gi, GEN_F, GEN_I),
                                     ("Electron", ef, ei, LEP_F, LEP_I),
                                     ("Muon", uf, ui, LEP_F, LEP_I),
                                     ("ChargedHadron", hf, hi.reshape(-1, 1), HAD_F, ("pdgId",))):
            cols = ref._cols[name]
            for j, f in enumerate(ff):
                assert cols[f] == fl[:, j].tolist(), (name, f)
            for j, f in enumerate(fi):
                assert cols[f] == it[:, j].tolist(), (name, f)
        assert (ref._met[0][0], ref._met[1][0]) == met
        assert tuple(v[0] for v in ref._vtx) == vtx
        assert len(gf) >= 6 and len(uf) >= 1  # incoming partons, the W's copies, μ, ν
        n_gen.append(len(gf))
    assert max(n_gen) >= 7  # some events with copies of the muon (QED FSR, recoil)
