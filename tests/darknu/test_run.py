"""End-to-end ``darknu run`` on a tiny configuration (issue 6 acceptance).

- a two-worker dask ``LocalCluster`` run equals the local run bin for bin;
- a run interrupted mid-processing resumes without redoing finished stages and gives
  the same results as an uninterrupted run;
- a rerun with nothing changed skips every stage.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from darknu.config import load_config
from darknu.parallel import ExecutorSpec
from darknu.run import run

TINY = """
base = "quick"
[run]
name = "tiny"
seed = 7
[samples]
signal_events = 300
signal_jobs = 2
[samples.scan_mzd_fixed]
m_ZD = 0.03
m_N = [1.0]
[samples.scan_mn_3mzd]
m_ZD = [0.3]
[samples.background]
processes = ["W_munu_gstar"]
events = 400
jobs = 2
[processing]
electron_pt_min = [5.0, 1.0]
chunksize = 200
[limits]
scenarios = ["run2"]
methods = ["pyhf", "window"]
[recast]
experiments = []
combine = false
"""


@pytest.fixture(scope="module")
def tiny_cfg(tmp_path_factory):
    f = tmp_path_factory.mktemp("cfg") / "tiny.toml"
    f.write_text(TINY)
    return load_config(f)


def _hist_arrays(path: Path) -> dict[str, np.ndarray]:
    from processors.histio import load_histograms

    doc = load_histograms(path)
    return {
        name: np.stack([entry["mll"].values(flow=True), entry["mll"].variances(flow=True)])
        for name, entry in doc["samples"].items()
    }


def _limits(path: Path) -> list:
    doc = json.loads(path.read_text())
    # timings differ between runs; everything else must be identical
    drop = ("fit_time_s",)
    return sorted(
        json.dumps({k: v for k, v in r.items() if k not in drop}, sort_keys=True) for r in doc["results"]
    )


@pytest.fixture(scope="module")
def local_run(tiny_cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    run(tiny_cfg, out_dir=out, executor=ExecutorSpec("futures", workers=2))
    return out


@pytest.mark.slow
def test_rerun_skips_every_stage(tiny_cfg, local_run):
    text = run(tiny_cfg, out_dir=local_run, executor=ExecutorSpec("futures", workers=2))
    stages = [line for line in text.splitlines() if line.startswith(("signal:", "background:", "process:", "limits:", "fileset"))]
    assert stages and all("up to date" in line for line in stages), text


@pytest.mark.slow
def test_dask_two_workers_equals_local(tiny_cfg, local_run, tmp_path):
    out = tmp_path / "dask"
    run(tiny_cfg, out_dir=out, executor=ExecutorSpec("dask", workers=2))
    for label in ("ept5", "ept1"):
        a = _hist_arrays(local_run / "hists" / f"hists_{label}.json")
        b = _hist_arrays(out / "hists" / f"hists_{label}.json")
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{label} {name}")
    assert _limits(local_run / "limits" / "run2" / "limits.json") == _limits(out / "limits" / "run2" / "limits.json")


@pytest.mark.slow
def test_interrupted_run_resumes_to_same_result(tiny_cfg, local_run, tmp_path, monkeypatch):
    import processors

    out = tmp_path / "interrupted"
    real = processors.run_processor
    calls = {"n": 0}

    def dies_on_second_pass(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # killed mid-processing, after the first pass finished
        return real(*args, **kwargs)

    monkeypatch.setattr(processors, "run_processor", dies_on_second_pass)
    with pytest.raises(KeyboardInterrupt):
        run(tiny_cfg, out_dir=out, executor=ExecutorSpec("iterative"))
    assert (out / "hists" / "hists_ept5.json").exists()
    assert not (out / "hists" / "hists_ept1.json").exists()  # never half-written

    monkeypatch.setattr(processors, "run_processor", real)
    text = run(tiny_cfg, out_dir=out, executor=ExecutorSpec("iterative"))
    status = {line.split()[0]: line for line in text.splitlines() if line.startswith(("signal:", "process:"))}
    assert "up to date" in status["process:ept5"] and "ran" in status["process:ept1"]
    for label in ("ept5", "ept1"):
        a = _hist_arrays(local_run / "hists" / f"hists_{label}.json")
        b = _hist_arrays(out / "hists" / f"hists_{label}.json")
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{label} {name}")
