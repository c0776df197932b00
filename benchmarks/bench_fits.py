"""Benchmark of the LHC limit grid: 15 synthetic mass points x 4 channels, one scenario.

Run:  /work/venv/bin/python benchmarks/bench_fits.py [--workers 2] [--scenario run2]
Prints the wall time of the whole grid (parallel over mass points through
darknu.parallel.map_tasks), the CPU time per conditional fit and per limit, and the
expected limits at a few benchmark masses. Target (issue 4): <= 60 s wall on 2 cores.
Inputs are the synthetic histograms of tests/fits/synthetic.py (made-up yields), so the
limits printed measure the machinery, not physics.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fits"))

from synthetic import benchmark_points, synthetic_hists  # noqa: E402

from darknu.parallel import ExecutorSpec  # noqa: E402
from fits.limits import run_limits  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="run2")
    ap.add_argument("--executor", default="futures")
    args = ap.parse_args()
    os.environ.setdefault("DARKNU_NO_PROGRESS", "1")
    hists = synthetic_hists(benchmark_points())
    t0 = time.perf_counter()
    run = run_limits(hists, scenario=args.scenario,
                     executor=ExecutorSpec(kind=args.executor, workers=args.workers))
    wall = time.perf_counter() - t0
    pyhf_rows = [r for r in run.results if r.method == "pyhf" and r.n_fits > 0]
    n_fits = sum(r.n_fits for r in pyhf_rows)
    fit_cpu = sum(r.fit_time_s for r in pyhf_rows)
    print(f"grid: {len(benchmark_points())} mass points x 4 channels, scenario {args.scenario}, "
          f"executor {args.executor} x {args.workers} workers (load avg {os.getloadavg()[0]:.1f})")
    print(f"total wall time: {wall:.1f} s for {len(pyhf_rows)} pyhf limits ({n_fits} conditional fits) "
          f"+ {sum(r.method == 'window' for r in run.results)} window-method limits")
    print(f"time per fit: {1e3 * fit_cpu / max(n_fits, 1):.1f} ms (mean, in-worker); per limit: "
          f"median {statistics.median(r.fit_time_s for r in pyhf_rows):.3f} s, "
          f"max {max(r.fit_time_s for r in pyhf_rows):.3f} s")
    for kind in ("single-channel", "combined"):
        rows = [r for r in pyhf_rows if (r.channel == "combined") == (kind == "combined")]
        if rows:
            print(f"  {kind}: {sum(r.n_fits for r in rows)} fits, "
                  f"{1e3 * sum(r.fit_time_s for r in rows) / sum(r.n_fits for r in rows):.1f} ms/fit")
    statuses: dict[str, int] = {}
    for r in run.results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    print("statuses:", statuses)
    print("expected limits on |U_mu4|^2 (median [-1sigma, +1sigma]) at benchmark masses:")
    for m_N, m_ZD in ((0.3, 0.03), (10.0, 0.03), (0.3, 0.1), (3.0, 1.0)):
        for r in run.results:
            if (r.m_N, r.m_ZD) == (m_N, m_ZD) and r.channel == "combined" and r.limit_u2 is not None:
                band = f"[{r.band_1sigma[0]:.3g}, {r.band_1sigma[1]:.3g}]" if r.band_1sigma else ""
                print(f"  m_N={m_N:g} m_ZD={m_ZD:g} GeV {r.analysis:9s} {r.method:6s}: {r.limit_u2:.3g} {band}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
