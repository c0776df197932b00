"""The numba kernels give bit-identical results to the numpy/awkward code they replace."""

from __future__ import annotations

import awkward as ak
import numpy as np

from selections.cuts import Table2Cuts, charged_ht, charged_ht_flat
from selections.kernels import three_lepton_slots
from selections.table2 import three_leptons_flat


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
