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

from darknu.parallel import ExecutorSpec
from darknu.run import run

def _hist_arrays(path: Path) -> dict[str, np.ndarray]:
    from processors.histio import load_histograms

    doc = load_histograms(path)
    return {
        name: np.stack([entry["mll"].values(flow=True), entry["mll"].variances(flow=True)])
        for name, entry in doc["samples"].items()
    }


def _limits(path: Path) -> dict[tuple, tuple]:
    """(status, limit) per result. Limits are compared to 1e-6 relative: fits warm-start
    from earlier points of the same worker, so the minimiser's last digits (~1e-9
    relative) depend on how points were spread over workers."""
    doc = json.loads(path.read_text())
    return {
        (r["label"], r["m_N_GeV"], r["m_ZD_GeV"], r["alpha_eps2"], r["channel"], r["analysis"], r["method"]): (
            r["status"],
            r["limit_U2"],
        )
        for r in doc["results"]
    }


def _assert_same_limits(a: Path, b: Path) -> None:
    la, lb = _limits(a), _limits(b)
    assert la.keys() == lb.keys()
    for key, (status, limit) in la.items():
        assert lb[key][0] == status, key
        if limit is None:
            assert lb[key][1] is None, key
        else:
            assert lb[key][1] == pytest.approx(limit, rel=1e-6), key


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
    _assert_same_limits(local_run / "limits" / "run2" / "limits.json", out / "limits" / "run2" / "limits.json")


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
