"""Issue 7 for the processing stage: bad files, branches, metadata and parameters."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import uproot
from handbuilt_events import background_metadata, passing_event, write_events

from darknu.errors import ConfigError, InputFileError, ParameterError
from darknu.parallel import ExecutorSpec
from processors import run_processor
from processors.histio import load_histograms

ITER = ExecutorSpec("iterative")


def _fs(*paths, **md):
    return {
        "wgamma__nominal": {
            "files": {str(p): "Events" for p in paths},
            "metadata": background_metadata(**md),
        }
    }


@pytest.fixture
def good_file(tmp_path):
    return write_events(
        tmp_path / "good.root", [passing_event(), passing_event()], background_metadata()
    )


def test_missing_file_named(tmp_path, good_file):
    missing = tmp_path / "nope.root"
    with pytest.raises(InputFileError, match="nope.root"):
        run_processor(_fs(good_file, missing), executor=ITER)


def test_missing_file_in_fileset_json(tmp_path, good_file):
    path = tmp_path / "fileset.json"
    path.write_text(json.dumps(_fs(good_file, tmp_path / "gone.root")))
    with pytest.raises(InputFileError, match="gone.root"):
        run_processor(path, executor=ITER)
    r = run_processor(path, executor=ITER, skip_bad_files=True)
    assert [s["file"].endswith("gone.root") for s in r["provenance"]["skipped_files"]] == [True]


def test_malformed_fileset_json(tmp_path):
    path = tmp_path / "fileset.json"
    path.write_text('{"a": {"files": ')
    with pytest.raises((ConfigError, InputFileError), match="fileset.json"):
        run_processor(path, executor=ITER)


def test_truncated_file(tmp_path, good_file):
    data = good_file.read_bytes()
    bad = tmp_path / "trunc.root"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="trunc.root"):
        run_processor(_fs(good_file, bad), executor=ITER)


def test_corrupt_file(tmp_path, good_file):
    bad = tmp_path / "corrupt.root"
    bad.write_bytes(b"not a root file at all" * 100)
    with pytest.raises(InputFileError, match="corrupt.root.*not a readable ROOT file"):
        run_processor(_fs(bad), executor=ITER)


def test_no_events_tree(tmp_path):
    bad = tmp_path / "notree.root"
    with uproot.recreate(bad) as f:
        f["Other"] = {"x": np.arange(3)}
    with pytest.raises(InputFileError, match="notree.root has no 'Events' tree.*Other"):
        run_processor(_fs(bad), executor=ITER)


def test_missing_branch_named_with_collection(tmp_path, good_file):
    bad = tmp_path / "nobranch.root"
    with uproot.open(good_file) as src:
        arrays = src["Events"].arrays(library="np")
    keep = {k: v for k, v in arrays.items() if not k.startswith(("Muon_genPartIdx",))}
    with uproot.recreate(bad) as f:
        # flat copy is enough for the branch check (which runs before any reading)
        f["Events"] = {k: v for k, v in keep.items() if v.dtype != object}
    with pytest.raises(
        InputFileError, match=r"nobranch.root: collection (Electron|Muon) lacks branch"
    ):
        run_processor(_fs(bad), executor=ITER)


def test_zero_events(tmp_path):
    empty = write_events(tmp_path / "empty.root", [], background_metadata())
    with pytest.raises(InputFileError, match="empty.root has zero events"):
        run_processor(_fs(empty), executor=ITER)


def test_skip_bad_files_reports_every_file(tmp_path, good_file):
    empty = write_events(tmp_path / "empty.root", [], background_metadata())
    bad = tmp_path / "corrupt.root"
    bad.write_bytes(b"xx" * 1000)
    r = run_processor(
        _fs(good_file, empty, bad, tmp_path / "missing.root"), executor=ITER, skip_bad_files=True
    )
    skipped = {s["file"].rsplit("/", 1)[-1]: s["reason"] for s in r["provenance"]["skipped_files"]}
    assert set(skipped) == {"empty.root", "corrupt.root", "missing.root"}
    q = r["provenance"]["input_quality"]["wgamma"]
    # nothing rescaled: the sample keeps the fileset's sum_genweight (4),
    # with only 2 events processed
    assert q["n_events"] == 2 and r["samples"]["wgamma"]["cutflow"]["ee"]["all"][
        0
    ] == pytest.approx(2 * 2.0 * 1000 / 4.0)


def test_nan_kinematics_and_negative_weights(tmp_path, exact_detector):
    ev_nan = passing_event()
    ev_nan["leptons"][1] = dict(ev_nan["leptons"][1], pt=math.nan)
    ev_inf = passing_event()
    ev_inf["leptons"][2] = dict(ev_inf["leptons"][2], eta=math.inf)
    events = [
        passing_event(),
        ev_nan,
        ev_inf,
        passing_event(weight=-1.0),
        passing_event(weight=math.nan),
    ]
    path = write_events(tmp_path / "nan.root", events, background_metadata())
    r = run_processor(_fs(path), executor=ITER, detector=exact_detector)
    q = r["provenance"]["input_quality"]["wgamma"]
    assert (q["n_nonfinite_dropped"], q["n_negative_weight"]) == (3, 1)
    s = r["samples"]["wgamma"]
    assert s["cutflow"]["ee"]["prompt"][1] == 2  # the clean event and the negative-weight one
    assert s["cutflow"]["ee"]["prompt"][0] == pytest.approx(0.0, abs=1e-9)  # +w and -w cancel
    for h in [s["mll"], *s["control"].values()]:
        assert np.all(np.isfinite(h.view(flow=True)["value"])) and np.all(
            np.isfinite(h.view(flow=True)["variance"])
        )
    assert s["mll"][{"syst": "nominal"}].sum(flow=True).variance == pytest.approx(
        2 * (2.0 * 1000 / 4 * 0.85**3) ** 2
    )


@pytest.mark.parametrize("key", ["xsec_pb", "sum_genweight"])
def test_missing_metadata(tmp_path, good_file, key):
    fs = _fs(good_file)
    del fs["wgamma__nominal"]["metadata"][key]
    with pytest.raises(ConfigError, match=f"wgamma__nominal.*{key}"):
        run_processor(fs, executor=ITER)


def test_ht_efficiency_required_without_hadrons(good_file):
    with pytest.raises(ConfigError, match="ht_veto_efficiency"):
        run_processor(_fs(good_file, hadron_level=False), executor=ITER)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"detector": "lep"}, "unknown detector scenario 'lep'; valid: hllhc, run2"),
        ({"electron_set": "best"}, "unknown electron set 'best'; valid: optimistic, pessimistic"),
        ({"displacement": "r"}, "unknown displacement definition 'r'; valid: 3d, lxy"),
        ({"electron_pt_min": -1.0}, "electron_pt_min"),
        ({"alpha_eps2_values": (-1e-10,)}, "alpha_eps2"),
        ({"chunksize": 0}, "chunksize"),
    ],
)
def test_bad_parameters(good_file, kw, match):
    with pytest.raises(ParameterError, match=match):
        run_processor(_fs(good_file), executor=ITER, **kw)


def test_cli_process_refuses_overwrite(tmp_path, good_file, capsys):
    from darknu.cli import main

    fs = tmp_path / "fileset.json"
    fs.write_text(json.dumps(_fs(good_file)))
    out = tmp_path / "h.json"
    args = ["process", "--fileset", str(fs), "--out", str(out), "--executor", "iterative"]
    assert main(args) == 0
    assert "wrote 1 sample histograms to" in capsys.readouterr().out
    before = out.read_bytes()
    assert main(args) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main([*args, "--force", "--detector", "hllhc"]) == 0
    assert load_histograms(out)["provenance"]["config"]["detector"] == "hllhc"


def test_nonfinite_signal_lifetime_dropped(tmp_path, exact_detector):
    md = background_metadata(
        kind="signal", process="signal", alpha_eps2=2e-11, ctau_ZD_mm=1.0, m_ZD_GeV=0.3
    )
    events = [passing_event(ctau=0.5), passing_event(ctau=math.nan), passing_event(ctau=-1.0)]
    path = write_events(tmp_path / "sig.root", events, md)
    fs = {"sig__nominal": {"files": {str(path): "Events"}, "metadata": md}}
    r = run_processor(fs, executor=ITER, detector=exact_detector, alpha_eps2_values=(2e-10,))
    s = r["samples"]["sig__aeps2_2e-10"]
    assert r["provenance"]["input_quality"]["sig__aeps2_2e-10"]["n_nonfinite_dropped"] == 2
    assert s["cutflow"]["ee"]["prompt"][1] == 1
    assert np.all(np.isfinite(s["mll"].view(flow=True)["value"]))
    bad = dict(md, ctau_ZD_mm=0.0)
    with pytest.raises(ConfigError, match="ctau_ZD_mm=0.0 must be a positive"):
        run_processor({"sig__nominal": {"files": {str(path): "Events"}, "metadata": bad}}, executor=ITER)
