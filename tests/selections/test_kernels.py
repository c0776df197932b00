"""The numba kernels and fast paths give bit-identical results to the code they replace."""

from __future__ import annotations

import awkward as ak
import numba
import numpy as np
import pytest

from darknu.kernels import remainder
from selections.cuts import P4, Table2Cuts, charged_ht, charged_ht_flat, delta_phi
from selections.kernels import three_lepton_slots
from selections.table2 import (
    CUTFLOW,
    REGIONS,
    CutMasks,
    angle_functions,
    cumulative_masks,
    cut_names,
    cutflow,
    event_variables,
    slot_block_shape,
    three_leptons_flat,
)


def _slots_reference(counts, good, pt):
    """The former padded-matrix stable argsort (ranks 0,1,2 for three, 0,2,3 for four)."""
    n_ev = len(counts)
    event = np.repeat(np.arange(n_ev), counts)
    n_good = np.bincount(event[good], minlength=n_ev)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    width = int(counts.max(initial=0))
    has = (n_good == 3) | (n_good == 4)
    take = np.zeros((n_ev, 3), np.int64)
    if width >= 3:
        pos = np.arange(len(event)) - offsets[event]
        key = np.full((n_ev, width), np.inf)
        key[event, pos] = np.where(good, -pt, np.inf)
        order = np.argsort(key, axis=1, kind="stable")
        ranks = np.where((n_good == 4)[:, None], np.array([0, 2, 3]), np.array([0, 1, 2]))
        take = offsets[:, None] + np.take_along_axis(order, ranks, axis=1)
        take[~has] = 0
    return n_good, take


def test_three_lepton_slots_matches_stable_argsort():
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 7, 20000)
    n = int(counts.sum())
    pt = rng.choice([3.0, 5.5, 7.0, 12.0, 30.0, 41.0], n)  # many ties
    good = rng.random(n) < 0.7
    n_good, take_t = three_lepton_slots(counts, good, pt)
    ref_n, ref_take = _slots_reference(counts, good, pt)
    assert np.array_equal(n_good, ref_n)
    assert np.array_equal(take_t.T, ref_take)


def test_three_leptons_flat_fields():
    counts = np.array([4, 3, 2, 5])
    n = int(counts.sum())
    flat = {
        "pt": np.array([40.0, 30.0, 6.0, 5.5, 10.0, 20.0, 30.0, 1.0, 2.0] + [9.0] * 5),
        "eta": np.zeros(n), "phi": np.zeros(n), "mass": np.zeros(n),
        "charge": np.ones(n), "abs_pdgid": np.full(n, 11), "slot_index": np.arange(n),
    }
    t = three_leptons_flat(flat, counts, np.ones(n, bool), veto_inefficiency=0.05)
    assert t.fields["pt"].tolist() == [[40.0, 6.0, 5.5], [30.0, 20.0, 10.0], [0, 0, 0], [0, 0, 0]]
    assert t.veto_weight.tolist() == [0.05, 1.0, 0.0, 0.0]
    assert t.n_good.tolist() == [4, 3, 2, 5]


def test_charged_ht_flat_is_bit_identical():
    rng = np.random.default_rng(3)
    counts = rng.poisson(8, 50000)
    n = int(counts.sum())
    for dtype in (np.float32, np.float64):
        pt = rng.exponential(3.0, n).astype(dtype)
        eta = rng.normal(0.0, 2.0, n).astype(dtype)
        for cuts in (Table2Cuts(), Table2Cuts(ht_hadron_pt_min=2.1, ht_hadron_eta_max=2.3)):
            ref = charged_ht(ak.unflatten(pt, counts), ak.unflatten(eta, counts), cuts=cuts)
            new = charged_ht_flat(counts, {"pt": pt, "eta": eta}, cuts=cuts)
            assert new.dtype == np.float64
            assert np.array_equal(ref, new)


def _random_selection(rng, n):
    """The same random masks as a coffea PackedSelection (the former container) and CutMasks."""
    from coffea.analysis_tools import PackedSelection

    names = [c for c in CUTFLOW[1:] if c != "sfos"] + ["sfos_ee", "sfos_mumu", *REGIONS]
    old, new = PackedSelection(dtype="uint32"), CutMasks()
    for name in names:
        m = rng.random(n) < rng.uniform(0.5, 0.98)
        old.add(name, m)
        new.add(name, m)
    return names, old, new


def test_cut_masks_equal_packed_selection():
    rng = np.random.default_rng(21)
    names, old, new = _random_selection(rng, 5000)
    assert new.names == old.names
    assert np.array_equal(new.all(), old.all())
    for _ in range(50):
        pick = list(rng.choice(names, rng.integers(1, len(names) + 1), replace=False))
        assert np.array_equal(new.all(*pick), old.all(*pick))
    with pytest.raises(ValueError):
        new.add("lead_pt", np.ones(5000, bool))
    with pytest.raises(ValueError):
        new.all("no_such_cut")
    with pytest.raises(ValueError):
        new.add("float", np.ones(5000))


def test_cumulative_masks_and_cutflow_equal_former_formulation():
    rng = np.random.default_rng(22)
    n = 5000
    _, old, new = _random_selection(rng, n)
    valid = rng.random(n) < 0.9
    w_all, w = rng.normal(1.0, 0.3, n), rng.normal(0.6, 0.2, n)
    for ch in ("ee", "mumu"):
        masks = cumulative_masks(new, ch, valid=valid)
        assert list(masks) == list(CUTFLOW[1:] + REGIONS)
        for c, m in masks.items():
            assert np.array_equal(m, old.all(*cut_names(ch, c)) & valid), (ch, c)
        # the former cutflow: one PackedSelection.all per cut, sums of the selected weights
        ref = {"all": [float(np.sum(w_all[valid])), float(np.count_nonzero(valid))]}
        for c in CUTFLOW[1:] + REGIONS:
            m = old.all(*cut_names(ch, c)) & valid
            ref[c] = [float(np.sum(w[m])), float(np.count_nonzero(m))]
        for got in (cutflow(new, channel=ch, weight_all=w_all, weight=w, valid=valid),
                    cutflow(new, channel=ch, weight_all=w_all, weight=w, valid=valid,
                            masks=masks)):
            assert list(got) == list(ref)
            assert all(got[c].tolist() == ref[c] for c in ref)


def _event_variables_reference(t):
    """The former numpy formulation of event_variables (P4 per slot, numpy reductions)."""
    f = t.fields
    p = [P4.from_ptetaphim(f["pt"][:, i], f["eta"][:, i], f["phi"][:, i], f["mass"][:, i])
         for i in range(3)]
    zd = p[1] + p[2]
    three = zd + p[0]
    d = np.abs(f["phi"][:, 0] - zd.phi) % (2 * np.pi)
    dphi = np.where(d > np.pi, 2 * np.pi - d, d)

    def min_of(flavour):
        cols = [np.where(f["abs_pdgid"][:, i] == flavour, f["pt"][:, i], np.inf) for i in range(3)]
        return np.minimum(np.minimum(cols[0], cols[1]), cols[2])

    return {"pt1": f["pt"][:, 0], "mll": zd.mass, "dphi": dphi,
            "dr": np.hypot(f["eta"][:, 0] - zd.eta, dphi), "m3l": three.mass, "pt3l": three.pt,
            "min_muon_pt": min_of(13), "min_electron_pt": min_of(11)}


def _random_leptons(rng, n_ev):
    counts = rng.integers(0, 6, n_ev)
    n = int(counts.sum())
    flat = {
        "pt": np.round(rng.exponential(15.0, n) + 1.0, rng.choice([1, 8])),  # some ties
        "eta": rng.normal(0.0, 1.8, n), "phi": rng.uniform(-np.pi, np.pi, n),
        "mass": rng.choice([0.000511, 0.1056584], n), "charge": rng.choice([-1, 1], n),
        "abs_pdgid": rng.choice([11, 13], n), "slot_index": np.arange(n),
    }
    flat["phi"][::97] = np.pi  # boundary values of the folding
    flat["eta"][::89] = 0.0
    return counts, flat, rng.random(n) < 0.8


def test_three_leptons_gather_and_event_variables_equal_former_formulation():
    rng = np.random.default_rng(23)
    for n_ev in (0, 1, 7, 30000):
        counts, flat, good = _random_leptons(rng, n_ev)
        t = three_leptons_flat(flat, counts, good, veto_inefficiency=0.05)
        # former gather: np.take of the float64 (int64 for slot_index) values, zeros outside
        n_good, take_t = three_lepton_slots(counts, good, flat["pt"])
        has = (n_good == 3) | (n_good == 4)
        for f in flat:
            dtype = np.int64 if f == "slot_index" else np.float64
            ref = (np.take(np.asarray(flat[f], dtype), take_t) if len(flat[f])
                   else np.zeros((3, n_ev), dtype))
            ref[:, ~has] = 0
            assert t.fields[f].dtype == dtype and t.fields[f].tobytes() == ref.T.tobytes(), f
        assert np.array_equal(t.index, take_t.T)
        # into a caller's block (reused across calls): the same fields, views of the block
        block = np.full(slot_block_shape(n_ev), np.nan)
        t2 = three_leptons_flat(flat, counts, good, veto_inefficiency=0.05, out=block)
        for f in flat:
            assert t2.fields[f].tobytes() == t.fields[f].tobytes(), f
        assert n_ev == 0 or np.shares_memory(t2.fields["pt"], block)
        with pytest.raises(ValueError):
            three_leptons_flat(flat, counts, good, veto_inefficiency=0.05,
                               out=np.empty((2, 3, n_ev)))
        # with the angle functions taken per lepton, and computed per slot
        ref = _event_variables_reference(t)
        per_lepton = angle_functions(flat["eta"], flat["phi"])
        for v in (event_variables(t), event_variables(t, per_lepton)):
            for name, r in ref.items():
                assert getattr(v, name).tobytes() == np.asarray(r, np.float64).tobytes(), name


def test_angle_functions_reuse_equals_direct_evaluation():
    rng = np.random.default_rng(24)
    n = 50000
    eta_a, phi_a = rng.normal(0, 2, n), rng.uniform(-np.pi, np.pi, n)
    change = rng.random(n) < 0.6
    eta_b = np.where(change, eta_a + rng.normal(0, 0.01, n), eta_a)
    phi_b = np.where(change, phi_a + rng.normal(0, 0.01, n), phi_a)
    eta_b[:3] = [np.nan, np.inf, -0.0]
    a = angle_functions(eta_a, phi_a)
    b = angle_functions(eta_b, phi_b, reuse=(eta_a, phi_a, a))
    with np.errstate(invalid="ignore"):
        direct = {"sinh_eta": np.sinh(eta_b), "cos_phi": np.cos(phi_b), "sin_phi": np.sin(phi_b)}
    for name, ref in direct.items():
        assert b[name].tobytes() == ref.tobytes(), name
    assert angle_functions(eta_a, phi_a, reuse=(eta_a, phi_a, a)) is a


def _same_bits(a, b):
    """Bit-identical, except that any NaN equals any NaN (NaN sign and payload bits depend
    on the compiler's operand order and carry no meaning)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b))) and a[~nan].tobytes() == b[~nan].tobytes()


@numba.njit
def _elementwise(f, a, b):
    """f(a[i], b) for every i, in compiled code (f: a numba kernel of two floats)."""
    out = np.empty_like(a)
    for i in range(len(a)):
        out[i] = f(a[i], b)
    return out


def test_remainder_and_delta_phi_equal_numpy():
    rng = np.random.default_rng(25)
    k = np.arange(-40, 41) * 2 * np.pi
    vals = np.concatenate([
        rng.uniform(-20, 20, 200000), rng.normal(0, 1e6, 20000), k, np.nextafter(k, np.inf),
        np.nextafter(k, -np.inf), [0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -5e-324],
    ])
    with np.errstate(invalid="ignore"):
        for b in (2 * np.pi, -2 * np.pi, 1.0, 0.0, -0.0, np.inf, np.nan, 1e-300):
            assert _same_bits(_elementwise(remainder, vals, b), vals % b), b
        phi2 = rng.permutation(vals)
        d = np.abs(vals - phi2) % (2 * np.pi)
        ref = np.where(d > np.pi, 2 * np.pi - d, d)
    assert _same_bits(delta_phi(vals, phi2), ref)


def test_fmod_equals_c_library():
    from darknu.kernels import fmod

    rng = np.random.default_rng(26)
    k = np.arange(-50, 51) * 2 * np.pi
    vals = np.concatenate([
        rng.uniform(-30, 30, 100000), rng.normal(0, 1e6, 10000), rng.normal(0, 1e15, 1000), k,
        np.nextafter(k, np.inf), np.nextafter(k, -np.inf),
        [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e300, -1e300, 1.7e308, 5e-324, -5e-324,
         2.2250738585072014e-308],
    ])
    with np.errstate(invalid="ignore"):
        for b in (2 * np.pi, -2 * np.pi, 1.0, 0.0, -0.0, np.inf, -np.inf, np.nan, 3.0, 1e-300,
                  5e-324, 1.5e308, 0.1):
            assert _same_bits(_elementwise(fmod, vals, b), np.fmod(vals, b)), b
