"""Table II functions on hand-built awkward arrays, and property tests on random jagged input."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selections.cuts import (
    Table2Cuts,
    charged_ht,
    delta_phi,
    delta_r,
    displaced_region,
    dr_cut,
    good_lepton_mask,
    prompt_region,
    vertex_displacement_mm,
)
from selections.table2 import (
    CUTFLOW,
    REGIONS,
    build_selection,
    cut_names,
    cutflow,
    event_variables,
    three_leptons,
)

CUTS = Table2Cuts()


def leptons(rows):
    """rows: per event list of (pt, eta, phi, charge, abs_pdgid)."""

    def col(i, dtype):
        counts = np.array([len(r) for r in rows], dtype=np.int64)
        return ak.unflatten(np.array([x[i] for r in rows for x in r], dtype=dtype), counts)

    return ak.zip(
        {
            "pt": col(0, float),
            "eta": col(1, float),
            "phi": col(2, float),
            "mass": col(0, float) * 0.0,
            "charge": col(3, np.int64),
            "abs_pdgid": col(4, np.int64),
            "slot_index": ak.local_index(col(0, float), axis=1),
        }
    )


def test_thresholds_by_flavour_and_scenario():
    lep = leptons(
        [[(4.0, 0, 0, 1, 11), (4.0, 0, 0, 1, 13), (2.0, 0, 0, 1, 11), (2.9, 0, 0, 1, 13)]]
    )
    assert good_lepton_mask(lep.pt, lep.eta, lep.abs_pdgid, cuts=CUTS).tolist() == [
        [False, True, False, False]
    ]
    low = Table2Cuts(electron_pt_min=1.0)
    assert good_lepton_mask(lep.pt, lep.eta, lep.abs_pdgid, cuts=low).tolist() == [
        [True, True, True, False]
    ]


def test_zd_candidate_is_two_softest_and_variables():
    # unsorted input: the selection sorts by pT; l1 = 40 GeV muon
    lep = leptons([[(7.0, 0.0, np.pi, -1, 11), (40.0, 0.0, 0.0, -1, 13), (8.0, 0.0, np.pi, 1, 11)]])
    t = three_leptons(lep, lep.pt > 0, veto_inefficiency=0.05)
    assert t.fields["pt"].tolist() == [[40.0, 8.0, 7.0]]
    v = event_variables(t)
    assert v.mll[0] == pytest.approx(0.0, abs=1e-6)  # collinear massless pair
    assert v.dphi[0] == pytest.approx(np.pi) and v.dr[0] == pytest.approx(np.pi)
    assert v.pt3l[0] == pytest.approx(25.0)
    assert v.m3l[0] == pytest.approx(np.sqrt(2 * 40 * 15 * 2))
    assert (v.min_muon_pt[0], v.min_electron_pt[0]) == (40.0, 7.0)


def test_cut_boundaries():
    assert dr_cut(np.array([2.69, 2.7, 3.5, 3.51]), cuts=CUTS).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert prompt_region(np.array([0.99, 1.0]), cuts=CUTS).tolist() == [True, False]
    d = np.array([0.5, 1.0, 99.0, 100.0])
    assert displaced_region(d, np.full(4, 6.0), np.full(4, np.inf), cuts=CUTS).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert not displaced_region(np.array([5.0]), np.array([4.0]), np.array([np.inf]), cuts=CUTS)[0]
    assert delta_phi(np.array([np.pi - 0.1]), np.array([-np.pi + 0.1]))[0] == pytest.approx(0.2)
    assert delta_r(np.array([1.0]), np.array([0.0]), np.array([0.0]), np.array([0.0]))[0] == 1.0
    assert charged_ht(
        ak.Array([[2.0, 2.1, 50.0]]), ak.Array([[0.0, 0.0, 2.6]]), cuts=CUTS
    ).tolist() == [2.1]


def test_cut_names_and_cutflow_cumulative():
    assert cut_names("ee", "mll") == ["three_leptons", "lead_pt", "sfos_ee", "mll"]
    assert cut_names("mumu", "displaced")[-2:] == ["pt3l", "displaced"]
    lep = leptons(
        [
            [
                (40.0, 0.0, 0.0, -1, 13),
                (8.0, 0.1, np.pi - 0.02, -1, 11),
                (7.0, 0.1, np.pi + 0.02, 1, 11),
            ],
            [
                (40.0, 0.0, 0.0, -1, 13),
                (8.0, 0.1, np.pi - 0.02, -1, 13),
                (7.0, 0.1, np.pi + 0.02, 1, 13),
            ],
            [
                (20.0, 0.0, 0.0, -1, 13),
                (8.0, 0.1, np.pi - 0.02, -1, 11),
                (7.0, 0.1, np.pi + 0.02, 1, 11),
            ],
            [],
        ]
    )
    t = three_leptons(lep, lep.pt > 0, veto_inefficiency=0.05)
    v = event_variables(t)
    sel = build_selection(t, v, np.zeros(4), np.array([0.1, 5.0, 0.1, 0.0]), cuts=CUTS)
    w = np.array([1.0, 2.0, 4.0, 8.0])
    ee = cutflow(sel, channel="ee", weight_all=w, weight=w)
    mm = cutflow(sel, channel="mumu", weight_all=w, weight=w)
    assert list(ee) == list(CUTFLOW) + list(REGIONS)
    assert [
        ee[c][1] for c in ("all", "three_leptons", "lead_pt", "sfos", "pt3l", "prompt", "displaced")
    ] == [4, 3, 2, 1, 1, 1, 0]
    assert [mm[c][1] for c in ("sfos", "prompt", "displaced")] == [1, 0, 1]
    assert ee["three_leptons"][0] == 7.0
    # the same cuts composed in coffea's PackedSelection give the same masks and cutflows
    from coffea.analysis_tools import PackedSelection

    packed = build_selection(t, v, np.zeros(4), np.array([0.1, 5.0, 0.1, 0.0]), cuts=CUTS,
                             selection=PackedSelection)
    assert isinstance(packed, PackedSelection) and list(packed.names) == sel.names
    for name in sel.names:
        np.testing.assert_array_equal(np.asarray(packed.all(name)), sel.all(name))
    for ch, ref in (("ee", ee), ("mumu", mm)):
        other = cutflow(packed, channel=ch, weight_all=w, weight=w)
        assert {k: x.tolist() for k, x in other.items()} == {k: x.tolist() for k, x in ref.items()}


def test_displacement_definitions():
    assert vertex_displacement_mm(np.array([0.0]), np.array([0.0]), np.array([2.0]))[0] == 2.0
    assert (
        vertex_displacement_mm(np.array([0.0]), np.array([0.0]), np.array([2.0]), definition="lxy")[
            0
        ]
        == 0.0
    )


lepton_st = st.tuples(
    st.floats(0.0, 500.0),
    st.floats(-5.0, 5.0),
    st.floats(-4.0, 4.0),
    st.sampled_from([-1, 1]),
    st.sampled_from([11, 13]),
)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.lists(lepton_st, max_size=6), max_size=12),
    ht=st.lists(st.floats(0, 100), min_size=12, max_size=12),
    disp=st.lists(st.floats(0, 1e4), min_size=12, max_size=12),
    e_min=st.sampled_from([1.0, 5.0]),
)
def test_selection_property(rows, ht, disp, e_min):
    """No crash, no NaN, masks as long as the input, on random jagged events incl. empty ones."""
    n = len(rows)
    cuts = Table2Cuts(electron_pt_min=e_min)
    lep = leptons(rows)
    good = good_lepton_mask(lep.pt, lep.eta, lep.abs_pdgid, cuts=cuts)
    assert ak.num(good, axis=1).tolist() == [len(r) for r in rows]
    t = three_leptons(lep, good, veto_inefficiency=0.05)
    assert t.fields["pt"].shape == (n, 3) and len(t.veto_weight) == n
    v = event_variables(t)
    for name in ("pt1", "mll", "dphi", "dr", "m3l", "pt3l"):
        x = getattr(v, name)
        assert x.shape == (n,) and not np.any(np.isnan(x)), name
    sel = build_selection(t, v, np.array(ht[:n]), np.array(disp[:n]), cuts=cuts)
    for ch in ("ee", "mumu"):
        cf = cutflow(sel, channel=ch, weight_all=np.ones(n), weight=t.veto_weight)
        counts = [cf[c][1] for c in CUTFLOW]
        assert counts == sorted(counts, reverse=True)  # cumulative: never increases
        assert cf["prompt"][1] + cf["displaced"][1] <= cf["pt3l"][1]
        assert all(np.isfinite(val).all() for val in cf.values())
    ex = np.asarray(t.has_three)
    assert np.all(t.n_good[ex] >= 3)
