"""Identical results from every executor and from a rerun; exact round trip of the saved file."""

from __future__ import annotations

import numpy as np
import pytest

from darknu.parallel import ExecutorSpec
from processors import run_processor
from processors.histio import load_histograms, save_histograms


def _assert_same(a: dict, b: dict) -> None:
    assert a["samples"].keys() == b["samples"].keys()
    for name, sa in a["samples"].items():
        sb = b["samples"][name]
        assert np.array_equal(sa["mll"].view(flow=True), sb["mll"].view(flow=True)), name
        assert sa["mll"].axes == sb["mll"].axes
        for c, h in sa["control"].items():
            assert np.array_equal(h.view(flow=True), sb["control"][c].view(flow=True)), (name, c)
        assert sa["cutflow"] == sb["cutflow"]
        assert sa["metadata"] == sb["metadata"]


@pytest.fixture(scope="module")
def iterative_result(toy_fileset):
    return run_processor(toy_fileset, executor=ExecutorSpec("iterative"), chunksize=700)


def test_rerun_identical(toy_fileset, iterative_result):
    again = run_processor(toy_fileset, executor=ExecutorSpec("iterative"), chunksize=700)
    _assert_same(iterative_result, again)
    assert iterative_result["samples"]["signal_mN10_mZD0.3__aeps2_2e-11"]["mll"].sum().value > 0


def test_futures_identical(toy_fileset, iterative_result):
    fut = run_processor(toy_fileset, executor=ExecutorSpec("futures", workers=2), chunksize=700)
    _assert_same(iterative_result, fut)


# Other sessions on this machine may hold dask's default HTTP port; distributed then warns and
# picks another port, which is harmless here; the socket of the failed attempt is left to
# the garbage collector (a ResourceWarning inside distributed, not ours).
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_local_cluster_identical(toy_fileset, iterative_result):
    dk = run_processor(toy_fileset, executor=ExecutorSpec("dask", workers=2), chunksize=700)
    _assert_same(iterative_result, dk)


def test_other_chunking_is_statistically_compatible(toy_fileset, iterative_result):
    """Another chunk size changes the draws (documented) but not the physics."""
    other = run_processor(toy_fileset, executor=ExecutorSpec("iterative"), chunksize=1500)
    a = iterative_result["samples"]["signal_mN10_mZD0.3__aeps2_2e-11"]["cutflow"]["ee"]
    b = other["samples"]["signal_mN10_mZD0.3__aeps2_2e-11"]["cutflow"]["ee"]
    assert a["all"] == b["all"]
    n = a["three_leptons"][1]
    assert abs(a["three_leptons"][1] - b["three_leptons"][1]) < 5 * np.sqrt(n)


def test_saved_file_round_trips_exactly(tmp_path, iterative_result):
    path = save_histograms(tmp_path / "h.json", iterative_result)
    back = load_histograms(path)
    _assert_same(iterative_result, back)
    assert back["provenance"] == iterative_result["provenance"]
    assert back["lumi_ref_fb"] == 1.0


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_existing_scheduler_address(toy_fileset, iterative_result):
    """An existing cluster given by its scheduler address (here an in-process one) gives the same."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        res = run_processor(
            toy_fileset,
            executor=ExecutorSpec("dask", scheduler=cluster.scheduler_address),
            chunksize=700,
        )
    _assert_same(iterative_result, res)
    assert res["provenance"]["executor"]["scheduler"].startswith(("tcp://", "inproc://"))


def test_prefilter_is_exact(toy_fileset, iterative_result):
    """Skipping events that cannot have three good leptons changes nothing (bit for bit)."""
    full = run_processor(
        toy_fileset, executor=ExecutorSpec("iterative"), chunksize=700, prefilter=False
    )
    _assert_same(iterative_result, full)


def test_nanoevents_fallback_identical(toy_fileset, iterative_result, monkeypatch):
    """The NanoEvents field path (events without an uproot file behind them) gives the same
    as the direct batched read of the branches (processors.fastio.chunk_columns)."""
    import processors.fastio

    used = []

    def no_tree(events):
        used.append(1)
        return None

    monkeypatch.setattr(processors.fastio, "_uproot_tree", no_tree)
    res = run_processor(toy_fileset, executor=ExecutorSpec("iterative"), chunksize=700)
    assert used  # the fallback did run
    _assert_same(iterative_result, res)
