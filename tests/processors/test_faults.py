"""Faults (issue 7): a dask worker killed mid-run; the result equals a clean run bin for bin."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

import cloudpickle
import numpy as np
import pytest

import processors.run
from darknu.parallel import ExecutorSpec
from processors import run_processor
from processors.processor import DarkNuProcessor


class KillWorkerOnce(DarkNuProcessor):
    """DarkNuProcessor whose first chunk of ``target`` kills the dask worker running it, once.

    ``marker`` is created (O_EXCL) just before ``os._exit``, so only the first attempt dies;
    the rescheduled attempt processes the chunk normally. Outside a dask worker (or in the
    test process itself) it never exits.
    """

    def __init__(self, config: Any = None, *, marker: str, target: str, test_pid: int) -> None:
        super().__init__(config)
        self.marker, self.target, self.test_pid = marker, target, test_pid

    def process(self, events: Any) -> dict[str, Any]:
        md = events.metadata
        if (
            os.path.basename(str(md.get("filename"))) == self.target
            and int(md.get("entrystart", 0)) == 0
            and os.getpid() != self.test_pid
            and _in_dask_worker()
        ):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os._exit(1)  # the worker process dies without cleanup, like a killed node
        return super().process(events)


def _in_dask_worker() -> bool:
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_killed_dask_worker_gives_clean_result(toy_fileset, tmp_path, monkeypatch):
    clean = run_processor(toy_fileset, executor=ExecutorSpec("iterative"), chunksize=700)
    marker = tmp_path / "killed_once"
    target = os.path.basename(sorted(toy_fileset["signal_mN10_mZD0.3__nominal"]["files"])[0])
    # The subclass lives in this test module, which dask workers cannot import: ship it by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        monkeypatch.setattr(
            processors.run,
            "DarkNuProcessor",
            functools.partial(
                KillWorkerOnce, marker=str(marker), target=target, test_pid=os.getpid()
            ),
        )
        faulty = run_processor(
            toy_fileset, executor=ExecutorSpec("dask", workers=2), chunksize=700
        )
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert marker.exists(), "no worker was killed: the fault was not injected"
    assert int(marker.read_text()) != os.getpid()
    assert faulty["samples"].keys() == clean["samples"].keys()
    for name, s in clean["samples"].items():
        f = faulty["samples"][name]
        assert np.array_equal(s["mll"].view(flow=True), f["mll"].view(flow=True)), name
        for c, h in s["control"].items():
            assert np.array_equal(h.view(flow=True), f["control"][c].view(flow=True)), (name, c)
        assert s["cutflow"] == f["cutflow"], name
    assert (
        faulty["provenance"]["input_quality"] == clean["provenance"]["input_quality"]
    )  # every chunk counted exactly once
