"""Processor on hand-built events: expected m_ll bin, one-cut cutflow, weights, regions."""

from __future__ import annotations

import numpy as np
import pytest
from handbuilt_events import (
    M_E,
    background_metadata,
    lep,
    one_cut_failures,
    pair,
    passing_event,
    write_events,
)

from darknu.errors import InputFileError
from darknu.parallel import ExecutorSpec
from processors import run_processor
from processors.hists import MLL_EDGES
from selections.cuts import P4

ITER = ExecutorSpec("iterative")
EFF3 = 0.85**3  # seed 003: 85 % per lepton


def _run(tmp_path, events, exact_detector, **md):
    path = write_events(tmp_path / "ev.root", events, background_metadata(**md))
    fs = {
        "wgamma__nominal": {"files": {str(path): "Events"}, "metadata": background_metadata(**md)}
    }
    return run_processor(fs, executor=ITER, detector=exact_detector, chunksize=1000)["samples"][
        "wgamma"
    ]


def test_passing_event_lands_in_expected_bin(tmp_path, exact_detector):
    ev = passing_event(weight=2.0)
    out = _run(tmp_path, [ev], exact_detector, xsec_pb=3.0, sum_genweight=4.0)
    l2, l3 = ev["leptons"][1], ev["leptons"][2]
    m_true = (
        P4.from_ptetaphim(l2["pt"], l2["eta"], l2["phi"], M_E)
        + P4.from_ptetaphim(l3["pt"], l3["eta"], l3["phi"], M_E)
    ).mass
    expected_bin = int(np.searchsorted(MLL_EDGES, m_true, side="right") - 1)
    h = out["mll"][{"channel": "ee", "region": "prompt", "syst": "nominal"}]
    vals = h.values()
    # weight = genWeight * xsec_pb * 1000 * L / sum_genweight * eff^3 (no H_T factor: hadron_level)
    w = 2.0 * 3.0 * 1000 * 1.0 / 4.0 * EFF3
    assert np.flatnonzero(vals).tolist() == [expected_bin]
    assert vals[expected_bin] == pytest.approx(w, rel=1e-12)
    assert (
        out["mll"][{"channel": "ee", "region": "displaced", "syst": "nominal"}].values().sum() == 0
    )
    assert (
        out["mll"][{"channel": "mumu", "region": "prompt", "syst": "nominal"}].values().sum() == 0
    )
    # efficiency variations: (0.90/0.85)^3 and (0.80/0.85)^3
    up = out["mll"][{"channel": "ee", "region": "prompt", "syst": "eff_up"}].values()[expected_bin]
    down = out["mll"][{"channel": "ee", "region": "prompt", "syst": "eff_down"}].values()[
        expected_bin
    ]
    assert up / vals[expected_bin] == pytest.approx((0.90 / 0.85) ** 3)
    assert down / vals[expected_bin] == pytest.approx((0.80 / 0.85) ** 3)


def test_each_event_removed_at_its_cut(tmp_path, exact_detector):
    fails = one_cut_failures()
    events = [passing_event()] + list(fails.values())
    out = _run(tmp_path, events, exact_detector, sum_genweight=float(len(events)), xsec_pb=1.0)
    cf = out["cutflow"]["ee"]
    order = ["all", "three_leptons", "lead_pt", "sfos", "mll", "ht", "dphi", "dr", "m3l", "pt3l"]
    assert list(cf)[: len(order)] == order
    n = [cf[c][1] for c in order]
    # each cut after "all" removes exactly the one event built to fail it
    assert n == [len(events) - i for i in range(len(order))]
    assert cf["prompt"][1] == 1 and cf["displaced"][1] == 0
    assert out["cutflow"]["mumu"]["sfos"][1] == 0


def test_displacement_bins(tmp_path, exact_detector):
    mu = lep(40.0, 0.0, 0.0, 13)
    events = [
        passing_event(
            leptons=[mu, *pair(8, 7, 0.1, np.pi, 0.025, vtx=(0.0, 0.0, 0.05))]
        ),  # 0.5 mm: prompt
        passing_event(
            leptons=[mu, *pair(8, 7, 0.1, np.pi, 0.025, vtx=(0.3, 0.0, 0.4))]
        ),  # 5 mm 3d, 3 mm lxy
        passing_event(
            leptons=[mu, *pair(8, 7, 0.1, np.pi, 0.025, vtx=(20.0, 0.0, 0.0))]
        ),  # 20 cm: neither
        passing_event(
            leptons=[mu, *pair(8, 4.5, 0.1, np.pi, 0.025, vtx=(0.0, 0.3, 0.0))]
        ),  # e < 5 GeV: fails e thr
    ]
    out = _run(tmp_path, events, exact_detector)
    cf = out["cutflow"]["ee"]
    assert (cf["pt3l"][1], cf["prompt"][1], cf["displaced"][1]) == (3, 1, 1)
    ctrl = out["control"]["displacement"][{"channel": "ee", "stage": "signal_region"}]
    centers = ctrl.axes[0].centers
    filled = centers[ctrl.values() > 0]
    assert filled.min() == pytest.approx(0.5, rel=0.15) and filled.max() == pytest.approx(
        200, rel=0.15
    )


def test_lxy_definition_and_displaced_threshold(tmp_path, exact_detector):
    """lxy: z-only displacement is prompt; displaced muons need pT > 5 GeV (seed 003 §V)."""
    mu = lep(40.0, 0.0, 0.0, 13)
    events = [passing_event(leptons=[mu, *pair(8, 7, 0.1, np.pi, 0.025, vtx=(0.0, 0.0, 0.5))])]
    path = write_events(tmp_path / "ev.root", events, background_metadata())
    fs = {"w__nominal": {"files": {str(path): "Events"}, "metadata": background_metadata()}}
    r3 = run_processor(fs, executor=ITER, detector=exact_detector, displacement="3d")["samples"][
        "w"
    ]
    rl = run_processor(fs, executor=ITER, detector=exact_detector, displacement="lxy")["samples"][
        "w"
    ]
    assert r3["cutflow"]["ee"]["displaced"][1] == 1 and rl["cutflow"]["ee"]["prompt"][1] == 1
    soft_mu = [
        lep(40.0, 0.0, 0.0, 11),
        lep(4.0, 0.1, np.pi - 0.03, 13, (0.5, 0, 0)),
        lep(3.5, 0.1, np.pi + 0.03, -13, (0.5, 0, 0)),
    ]
    path2 = write_events(
        tmp_path / "ev2.root", [passing_event(leptons=soft_mu)], background_metadata()
    )
    fs2 = {"w__nominal": {"files": {str(path2): "Events"}, "metadata": background_metadata()}}
    r = run_processor(fs2, executor=ITER, detector=exact_detector)["samples"]["w"]["cutflow"][
        "mumu"
    ]
    assert (r["pt3l"][1], r["prompt"][1], r["displaced"][1]) == (1, 0, 0)


def test_four_leptons_enter_with_veto_inefficiency(tmp_path, exact_detector):
    """Z -> 4l: a 4th accepted lepton enters with the 5 % veto inefficiency (seed 003 §IV)."""
    ev = passing_event()
    ev4 = passing_event(leptons=[ev["leptons"][0], lep(30.0, -2.0, 0.5, -13), *ev["leptons"][1:]])
    out = _run(tmp_path, [ev, ev4], exact_detector, sum_genweight=1.0, xsec_pb=1.0)
    cf = out["cutflow"]["ee"]
    assert cf["three_leptons"][1] == 2
    assert cf["three_leptons"][0] == pytest.approx(1000 * EFF3 * (1 + 0.05))


def test_ht_veto_factor_without_hadrons(tmp_path, exact_detector):
    md = dict(hadron_level=False, ht_veto_efficiency=0.9, ht_veto_efficiency_source="test")
    out = _run(
        tmp_path, [passing_event(hadrons=[])], exact_detector, sum_genweight=1.0, xsec_pb=1.0, **md
    )
    assert out["cutflow"]["ee"]["prompt"][0] == pytest.approx(1000 * EFF3 * 0.9)


def test_signal_lifetime_reweighting(tmp_path, toy_fileset):
    """Entries per alpha*eps^2; generated value has weight 1; shorter lifetimes are more prompt."""
    fs = {k: v for k, v in toy_fileset.items() if k.startswith("signal")}
    r = run_processor(fs, executor=ITER, alpha_eps2_values=(2e-11, 2e-10), chunksize=1000)[
        "samples"
    ]
    gen, short = r["signal_mN10_mZD0.3__aeps2_2e-11"], r["signal_mN10_mZD0.3__aeps2_2e-10"]
    assert gen["metadata"]["alpha_eps2"] == 2e-11 and short["metadata"]["alpha_eps2"] == 2e-10
    assert gen["cutflow"]["ee"]["all"][0] == pytest.approx(2.1 * 1000)
    # Reweighting conserves the total (<w> = 1): agrees within the MC statistical error.
    n = gen["cutflow"]["ee"]["all"][1]
    assert short["cutflow"]["ee"]["all"][0] == pytest.approx(2.1 * 1000, rel=5 / np.sqrt(n))
    fr_gen = gen["cutflow"]["ee"]["prompt"][0] / gen["cutflow"]["ee"]["pt3l"][0]
    fr_short = short["cutflow"]["ee"]["prompt"][0] / short["cutflow"]["ee"]["pt3l"][0]
    assert fr_short > fr_gen + 0.1


def test_copies_of_one_event_add_before_squaring(tmp_path, exact_detector):
    # three copies of generated event 0 and one of event 1, all in the same m_ll bin
    evs = [passing_event(weight=w, group=g) for w, g in ((1.0, 0), (0.5, 0), (0.25, 0), (2.0, 1))]
    cats = {"channel": "ee", "region": "prompt", "syst": "nominal"}
    plain = _run(tmp_path, evs, exact_detector)["mll"][cats]
    grouped = _run(tmp_path, evs, exact_detector, event_group_branch="genEventGroup")["mll"][cats]
    k = int(np.flatnonzero(plain.values())[0])
    assert np.array_equal(plain.values(), grouped.values())
    scale = (2.0 * 1000 / 4.0 * EFF3) ** 2  # (xsec_pb * 1000 * L / sum_genweight * eff^3)^2
    assert plain.variances()[k] == pytest.approx((1.0 + 0.25 + 0.0625 + 4.0) * scale)
    assert grouped.variances()[k] == pytest.approx(((1.0 + 0.5 + 0.25) ** 2 + 4.0) * scale)
    with pytest.raises(InputFileError, match="lacks branch.*genEventGroup"):
        _run(tmp_path, [passing_event()], exact_detector, event_group_branch="genEventGroup")


def test_changed_metadata_is_used_by_a_second_run_in_one_process(tmp_path, exact_detector):
    """coffea's process-wide metadata cache must not hand a second run the first run's
    fileset metadata (it did: the cross section of the first call was used again)."""
    path = write_events(tmp_path / "ev.root", [passing_event()], background_metadata())
    cats = {"channel": "ee", "region": "prompt", "syst": "nominal"}
    sums = []
    for xs in (2.0, 20.0):
        md = background_metadata(xsec_pb=xs)
        fs = {"wgamma__nominal": {"files": {str(path): "Events"}, "metadata": md}}
        out = run_processor(fs, executor=ITER, detector=exact_detector, chunksize=1000)
        sums.append(out["samples"]["wgamma"]["mll"][cats].values().sum())
    assert sums[1] == pytest.approx(10.0 * sums[0], rel=1e-12) and sums[0] > 0
