"""Histogram contents filled from precomputed bin indices are bit-identical to hist's own fill."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from processors.hists import (
    CONTROL_BINS,
    MLL_EDGES,
    FlowCounts,
    flow_index,
    new_control_hist,
    _category_axes,
    new_mll_hist,
)


def test_flow_counts_equal_hist_fill_bit_for_bit():
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [rng.uniform(0.0, 20.0, 20_000), MLL_EDGES[::40], [np.nan, np.inf, -np.inf, -1.0, 15.0]]
    )
    rng.shuffle(x)
    w = rng.normal(1.0, 3.0, len(x))
    a, b = new_mll_hist(), FlowCounts("mll")
    cats = {"channel": "mumu", "region": "displaced", "syst": "eff_down"}
    a.fill(**cats, mll=x, weight=w)
    b.fill(cats, flow_index(MLL_EDGES, x), w)
    assert np.array_equal(a.view(flow=True), b.to_hist().view(flow=True))
    # a second fill of the same slice adds one by one in input order, as hist.fill does
    a.fill(**cats, mll=x[:100], weight=w[:100])
    b.fill(cats, flow_index(MLL_EDGES, x[:100]), w[:100])
    a.fill(channel="ee", region="prompt", syst="nominal", mll=x[50:80], weight=w[50:80])
    b.fill({"channel": "ee", "region": "prompt", "syst": "nominal"},
           flow_index(MLL_EDGES, x[50:80]), w[50:80])
    hb = b.to_hist()
    assert hb.axes == a.axes
    assert a.view(flow=True).tobytes() == hb.view(flow=True).tobytes()


def test_flow_counts_control_subset_index_and_sums():
    rng = np.random.default_rng(12)
    edges = CONTROL_BINS["dr"][1]
    parts = []
    for _ in range(3):  # three "chunks", merged in order as run_processor merges them
        x, w = rng.uniform(-1.0, 7.0, 5000), rng.uniform(0.0, 2.0, 5000)
        sub = rng.random(5000) < 0.4
        a, b = new_control_hist("dr"), FlowCounts("control/dr")
        a.fill(channel="ee", stage="preselection", dr=x, weight=w)
        a.fill(channel="ee", stage="signal_region", dr=x[sub], weight=w[sub])
        idx = flow_index(edges, x)
        b.fill({"channel": "ee", "stage": "preselection"}, idx, w)
        b.fill({"channel": "ee", "stage": "signal_region"}, idx[sub], w[sub])
        b.fill({"channel": "mumu", "stage": "preselection"}, idx[:0], w[:0])  # empty: no-op
        assert np.array_equal(a.view(flow=True), b.to_hist().view(flow=True))
        parts.append((a, pickle.loads(pickle.dumps(b))))
    h_sum, c_sum = parts[0][0].copy(), parts[0][1].copy()
    for h, c in parts[1:]:
        h_sum, c_sum = h_sum + h, c_sum + c
    assert h_sum.view(flow=True).tobytes() == c_sum.to_hist().view(flow=True).tobytes()
    with pytest.raises(KeyError):
        FlowCounts("control/nope")
    with pytest.raises(ValueError):
        FlowCounts("mll", np.zeros(3))
    with pytest.raises(TypeError):
        _ = FlowCounts("mll") + FlowCounts("control/mll")
    with pytest.raises(IndexError):
        FlowCounts("mll").fill({"channel": "ee", "region": "prompt", "syst": "nominal"},
                               np.array([len(MLL_EDGES) + 1]), np.array([1.0]))
    with pytest.raises(ValueError):
        FlowCounts("mll").fill({"channel": "ee", "region": "prompt", "syst": "nominal"},
                               np.array([0, 1]), np.array([1.0]))


def test_fill_masked_equals_fill_of_the_selection():
    rng = np.random.default_rng(13)
    for kind, edges in (("mll", MLL_EDGES),
                        ("control/displacement", CONTROL_BINS["displacement"][1]),
                        ("control/pt1", CONTROL_BINS["pt1"][1])):
        cats = ([{"channel": "ee", "region": "prompt", "syst": s} for s in ("nominal", "res_up")]
                if kind == "mll" else
                [{"channel": "mumu", "stage": s} for s in ("preselection", "signal_region")])
        x = np.concatenate([np.exp(rng.uniform(-7, 10, 30000)), edges, [np.nan, -1.0, 0.0]])
        targets = [(c, rng.random(len(x)) < 0.7, rng.normal(1.0, 2.0, len(x))) for c in cats]
        a, b = FlowCounts(kind), FlowCounts(kind)
        for _ in range(2):  # empty slices, then slices holding entries
            for c, m, w in targets:
                a.fill(c, flow_index(edges, x[m]), w[m])
            b.fill_masked(x, targets)
            assert a.data.tobytes() == b.data.tobytes() and a.data.any()
        # other inputs (float32 x) take the generic path, with the same result
        c, d = FlowCounts(kind), FlowCounts(kind)
        c.fill_masked(x.astype(np.float32), targets)
        for cat, m, w in targets:
            d.fill(cat, flow_index(edges, x.astype(np.float32)[m]), w[m])
        assert c.data.tobytes() == d.data.tobytes()


def test_grouped_variance_sums_copies_before_squaring():
    cats = {"channel": "ee", "region": "prompt", "syst": "nominal"}
    # entries 0, 1: copies of event 7 in bin 5; entry 2: event 7 in bin 6; entry 3: event 8
    idx = np.array([5, 5, 6, 5])
    w = np.array([1.0, 2.0, 0.5, 4.0])
    g = np.array([7, 7, 7, 8])
    h = FlowCounts("mll")
    h.fill(cats, idx, w, group=g)
    sl = h.data[(slice(None), 0, 0, 0)]
    assert sl[0, 5] == 7.0 and sl[0, 6] == 0.5
    assert sl[1, 5] == (1.0 + 2.0) ** 2 + 4.0**2
    assert sl[1, 6] == 0.25
    # the same group id again after another one is a new group (runs, not ids)
    h2 = FlowCounts("mll")
    h2.fill(cats, np.array([5, 5, 5]), np.array([1.0, 1.0, 1.0]), group=np.array([1, 2, 1]))
    assert h2.data[(1, 0, 0, 0, 5)] == 3.0
    with pytest.raises(ValueError, match="event-group"):
        h2.fill(cats, np.array([5, 5]), np.array([1.0, 1.0]), group=np.array([1]))


def test_grouped_fill_masked_equals_fill_and_distinct_groups_equal_plain():
    rng = np.random.default_rng(14)
    group = np.repeat(np.arange(5000), rng.multinomial(20000, np.ones(5000) / 5000))
    # copies of one event have nearby values (most share a bin, some do not)
    x = np.exp(rng.uniform(-6, 3, 5000))[group] * rng.normal(1.0, 0.002, len(group))
    cats = [{"channel": "mumu", "region": "displaced", "syst": s} for s in ("nominal", "eff_up")]
    targets = [(c, rng.random(len(x)) < 0.6, rng.uniform(0.2, 2.0, len(x))) for c in cats]
    a, b = FlowCounts("mll"), FlowCounts("mll")
    b.fill_masked(x, targets, group=group)
    for c, m, w in targets:
        a.fill(c, flow_index(MLL_EDGES, x[m]), w[m], group=group[m])
    assert a.data.tobytes() == b.data.tobytes()
    # grouped variance: per bin, sum over groups of (sum of the group's weights)^2
    c0, m0, w0 = targets[0]
    bins = flow_index(MLL_EDGES, x[m0])
    key = group[m0] * (len(MLL_EDGES) + 1) + bins
    _, inv = np.unique(key, return_inverse=True)
    per = np.bincount(inv, weights=w0[m0])
    kb = np.unique(key) % (len(MLL_EDGES) + 1)
    expect = np.bincount(kb, weights=per**2, minlength=len(MLL_EDGES) + 1)
    loc = tuple(vals.index(c0[ax]) for ax, vals in _category_axes("mll").items())
    np.testing.assert_allclose(b.data[(1, *loc)], expect, rtol=1e-12)
    plain = FlowCounts("mll")
    plain.fill_masked(x, targets)
    assert np.array_equal(plain.data[0], b.data[0])
    assert (b.data[1] >= plain.data[1] * (1 - 1e-12)).all()
    assert b.data[1].sum() > 1.5 * plain.data[1].sum()  # ~4 copies per group
    # every entry its own group: bit-identical to the plain fill
    c, d = FlowCounts("mll"), FlowCounts("mll")
    c.fill_masked(x, targets)
    d.fill_masked(x, targets, group=np.arange(len(x)))
    assert c.data.tobytes() == d.data.tobytes()
