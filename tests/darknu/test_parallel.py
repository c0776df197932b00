"""The same tasks give the same results, in input order, on every executor."""

import math

import pytest

from darknu.errors import ParameterError
from darknu.parallel import ExecutorSpec, map_tasks


@pytest.mark.parametrize(
    "spec",
    [ExecutorSpec("iterative"), ExecutorSpec("futures", workers=2), ExecutorSpec("dask", workers=2)],
    ids=["iterative", "futures", "dask-localcluster"],
)
def test_map_tasks_identical_across_executors(spec):
    # Tasks must be importable by dask workers (functions of installed packages), so a
    # stdlib function stands in for a generation job here.
    items = [float(x) for x in range(7)]
    expected = [math.sqrt(x) for x in items]
    assert map_tasks(math.sqrt, items, executor=spec, desc="tasks") == expected


def test_bad_executor_names_valid_ones():
    with pytest.raises(ParameterError, match="unknown executor 'spark'; valid: dask, futures, iterative"):
        ExecutorSpec("spark")
    with pytest.raises(ParameterError, match="workers must be >= 1"):
        ExecutorSpec("futures", workers=0)
