"""One way to run independent tasks in parallel: in-process, local processes, or dask.

Generation jobs and per-mass-point fits go through :func:`map_tasks`, so the executor a
user picks (``iterative``, ``futures`` or ``dask``) applies to every stage. (The coffea
processing stage maps the same names onto coffea's own executors.) Results come back in
the order of the inputs whatever the executor, so runs are reproducible as long as every
task seeds its own random stream from its inputs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar

from darknu.errors import check_choice
from darknu.io import progress

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("iterative", "futures", "dask")


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to use and where.

    ``kind``: ``iterative`` (this process), ``futures`` (local process pool) or ``dask``.
    ``workers``: processes for ``futures``, or workers of a new dask ``LocalCluster``.
    ``scheduler``: address of an existing dask scheduler (``tcp://HOST:PORT``); when given,
    no local cluster is started.
    """

    kind: str = "futures"
    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        check_choice("executor", self.kind, EXECUTORS)
        if self.workers is not None and int(self.workers) < 1:
            from darknu.errors import ParameterError

            raise ParameterError(f"workers must be >= 1, got {self.workers}")

    @property
    def n_workers(self) -> int:
        return int(self.workers or min(2, os.cpu_count() or 1))


class _OneBlasThread:
    """``fn`` run with one BLAS/OpenMP thread (``threadpoolctl``): darknu parallelises over
    processes, and threaded BLAS inside a task only oversubscribes the cores. Measured on
    the limit fits (tiny matrices, many calls): 2-4x less CPU per fit on 2 busy cores."""

    def __init__(self, fn: Callable[[T], R]) -> None:
        self.fn = fn

    def __call__(self, item: T) -> R:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return self.fn(item)


def map_tasks(
    fn: Callable[[T], R],
    items: Sequence[T] | Iterable[T],
    *,
    executor: ExecutorSpec | None = None,
    desc: str = "tasks",
    retries: int = 1,
) -> list[R]:
    """Apply ``fn`` to every item with the chosen executor; results in input order.

    ``fn`` and the items must be picklable for ``futures`` and ``dask`` (module-level
    functions of the installed packages are). On dask a task whose worker dies is
    retried up to ``retries`` times by the scheduler.
    """
    spec = executor or ExecutorSpec()
    items = list(items)
    if not items:
        return []
    fn = _OneBlasThread(fn)
    if spec.kind == "iterative" or (spec.kind == "futures" and spec.n_workers == 1):
        return [fn(x) for x in progress(items, desc=desc, unit="task")]
    if spec.kind == "futures":
        results: list[Any] = [None] * len(items)
        with ProcessPoolExecutor(max_workers=spec.n_workers) as pool:
            futs = {pool.submit(fn, x): i for i, x in enumerate(items)}
            for fut in progress(as_completed(futs), desc=desc, total=len(items), unit="task"):
                results[futs[fut]] = fut.result()
        return results
    with dask_client(spec) as client:
        futures = client.map(fn, items, pure=False, retries=retries)
        bar = progress(desc=desc, total=len(futures), unit="task")
        from distributed import as_completed as dask_as_completed

        for _ in dask_as_completed(futures):
            bar.update(1)
        bar.close()
        return client.gather(futures)


class dask_client:  # noqa: N801 - used like a function in `with` statements
    """Context manager yielding a ``distributed.Client``.

    Connects to ``spec.scheduler`` when given; otherwise starts a ``LocalCluster`` of
    ``spec.n_workers`` single-threaded worker processes and closes it afterwards.
    """

    def __init__(self, spec: ExecutorSpec) -> None:
        self.spec = spec
        self._cluster = None
        self._client = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        from distributed import Client, LocalCluster

        if self.spec.scheduler:
            log.info("connecting to dask scheduler %s", self.spec.scheduler)
            self._client = Client(self.spec.scheduler)
        else:
            self._cluster = LocalCluster(
                n_workers=self.spec.n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
            self._client = Client(self._cluster)
        return self._client

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
