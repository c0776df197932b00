"""Processor throughput vs a plain uproot read of the same branches, and 1 vs 2 workers.

Usage: ``python benchmarks/bench_processor.py [--events 200000] [--files 2] [--dir DIR]
[--repeat 5] [--worker-copies 8]``

Writes synthetic NanoAOD-like toy-signal files (processors.synthetic) unless they exist,
then measures in one process, so the ratios are meaningful even on a busy machine:
  raw      uproot ``iterate`` of exactly the branches the processor reads
           (``processors.run.preload_branches``), same files, same step size as the
           processor's chunks, awkward arrays
  proc-1   ``run_processor`` with the iterative executor (single core, incl. file checks)
  fut-1/2  ``run_processor`` with the futures executor and 1 / 2 worker processes, on a
           job ``--worker-copies`` times larger (the files listed under that many sample
           names), so that starting the worker processes is amortised
Raw read and processor alternate within each repeat (same cache state, same load); each
timing is the best of ``--repeat`` runs (least disturbed by other processes). The
single-core comparison is also given in CPU time of the process (all its threads), which
other processes on a busy machine disturb less than the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import uproot

from darknu.parallel import ExecutorSpec
from processors import run_processor
from processors.run import preload_branches
from processors.synthetic import toy_signal_file


def make_files(d: Path, n_events: int, n_files: int) -> dict:
    files, md = {}, None
    for i in range(n_files):
        p = d / f"toy_{i}.root"
        n = n_events // n_files
        if not p.exists():
            _, md = toy_signal_file(p, n_events=n, seed=100 + i, m_ZD_GeV=0.3, ctau_mm=1.0)
        else:
            md = json.loads(str(uproot.open(p)["darknu_metadata"]))
        files[str(p)] = "Events"
    md = dict(md, sum_genweight=float(n_events), n_events=n_events)
    return {"signal_mN10_mZD0.3__nominal": {"files": files, "metadata": md}}


def raw_read(fileset: dict, chunksize: int) -> int:
    n = 0
    for entry in fileset.values():
        branches = preload_branches(signal=entry["metadata"].get("kind") == "signal")
        for path in entry["files"]:
            for arrays in uproot.iterate(
                {path: "Events"}, branches, step_size=chunksize, library="ak"
            ):
                n += len(arrays)
    return n


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def copies(fileset: dict, k: int) -> dict:
    """The fileset's samples listed ``k`` times under different names (a k-times larger job)."""
    return {
        f"{name.removesuffix('__nominal')}_copy{i}__nominal": entry
        for i in range(k)
        for name, entry in fileset.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--chunksize", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--worker-copies", type=int, default=8)
    ap.add_argument("--dir", default="/tmp/darknu_bench")
    args = ap.parse_args()
    os.environ.setdefault("DARKNU_NO_PROGRESS", "1")
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    fs = make_files(d, args.events, args.files)
    n = args.files * (args.events // args.files)
    kw = dict(chunksize=args.chunksize, alpha_eps2_values=(2e-10,))
    run_processor(fs, executor=ExecutorSpec("iterative"), **kw)  # warm-up (imports, caches)
    raw_read(fs, args.chunksize)
    t_raw, t_proc, c_raw, c_proc = [], [], [], []
    for _ in range(args.repeat):  # alternate, so both see the same cache state and load
        c = time.process_time()
        t_raw.append(best(lambda: raw_read(fs, args.chunksize), 1))
        c_raw.append(time.process_time() - c)
        c = time.process_time()
        t_proc.append(
            best(lambda: run_processor(fs, executor=ExecutorSpec("iterative"), **kw), 1)
        )
        c_proc.append(time.process_time() - c)
    t_raw_best, t_proc_best = min(t_raw), min(t_proc)
    big = copies(fs, args.worker_copies)
    n_big = n * args.worker_copies
    reps = max(1, args.repeat // 2)
    t_f1 = best(
        lambda: run_processor(big, executor=ExecutorSpec("futures", workers=1), **kw), reps
    )
    t_f2 = best(
        lambda: run_processor(big, executor=ExecutorSpec("futures", workers=2), **kw), reps
    )
    print(
        f"events: {n} in {args.files} files, chunksize {args.chunksize}, cpu_count "
        f"{os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, best of {args.repeat}"
    )
    print(f"raw uproot read      : {n / t_raw_best:10.0f} events/s")
    print(
        f"processor, 1 core    : {n / t_proc_best:10.0f} events/s  "
        f"ratio to raw read {t_raw_best / t_proc_best:.2f}"
    )
    print(  # CPU time of this process (all threads): less sensitive to other load
        f"cpu time, best of {args.repeat}: raw {1e3 * min(c_raw):.0f} ms, processor "
        f"{1e3 * min(c_proc):.0f} ms, ratio {min(c_raw) / min(c_proc):.2f}"
    )
    print(f"workers: job of {n_big} events ({n_big // args.chunksize} chunks), best of {reps}")
    print(f"futures, 1 worker    : {n_big / t_f1:10.0f} events/s")
    print(f"futures, 2 workers   : {n_big / t_f2:10.0f} events/s  speed-up {t_f1 / t_f2:.2f}x")


if __name__ == "__main__":
    main()
