"""Benchmark of the LHC limit grid of one scenario, and of the fit engines.

Run:  python benchmarks/bench_fits.py [--workers 2] [--scenario run2] [--grid run2|bench15]
      [--aeps2 one|all] [--compare N]

Grid: the mass points of the built-in ``run2`` configuration (23: m_ZD = 30 MeV vs m_N,
and m_N = 3 m_ZD), at αε² = 2e-10 (``--aeps2 one``) or at the configuration's three values
(``all``: 69 points), x 4 channels (ee/μμ x prompt/displaced) and their combinations;
``--grid bench15`` is the older 15-point grid. Inputs are the synthetic histograms of
tests/fits/synthetic.py (made-up yields), so the limits printed measure the machinery,
not physics. Prints the wall time of the whole grid (parallel over mass points through
darknu.parallel.map_tasks), the time per conditional fit and per limit, and the
expected limits at a few benchmark masses. Target (issue 4): <= 60 s wall on 2 cores.

``--compare N`` (default 6) then fits the workspaces of N grid points in this process
with each fit engine and BLAS setting and prints CPU seconds (``time.process_time``, all
threads) and the ratios to pyhf's own fit: the baseline measured in the same process.
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
    ap.add_argument("--grid", choices=("run2", "bench15"), default="run2")
    ap.add_argument("--aeps2", choices=("one", "all"), default="one")
    ap.add_argument("--compare", type=int, default=6, help="points for the engine comparison (0: none)")
    args = ap.parse_args()
    os.environ.setdefault("DARKNU_NO_PROGRESS", "1")
    points = grid_points(args.grid, args.aeps2)
    hists = synthetic_hists(points)
    t0 = time.perf_counter()
    run = run_limits(hists, scenario=args.scenario,
                     executor=ExecutorSpec(kind=args.executor, workers=args.workers))
    wall = time.perf_counter() - t0
    pyhf_rows = [r for r in run.results if r.method == "pyhf" and r.n_fits > 0]
    n_fits = sum(r.n_fits for r in pyhf_rows)
    fit_cpu = sum(r.fit_time_s for r in pyhf_rows)
    print(f"grid: {len(points)} mass points ({args.grid}, aeps2 {args.aeps2}) x 4 channels, scenario {args.scenario}, "
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
    if args.compare:
        compare_engines(hists, args.scenario, args.compare)
    return 0


def grid_points(grid: str, aeps2: str) -> list[tuple[float, float, float]]:
    """(m_N, m_ZD, αε²) of the benchmark grid."""
    if grid == "bench15":
        return benchmark_points()
    from darknu.config import load_config

    cfg = load_config("run2")
    values = [2e-10] if aeps2 == "one" else [float(a) for a in cfg.get("model.alpha_eps2")]
    return [(m_N, m_ZD, a) for a in values for m_N, m_ZD in cfg.mass_points()]


def compare_engines(hists: dict, scenario: str, n_points: int) -> None:
    """CPU time of every limit of ``n_points`` grid points per engine, in this process."""
    from threadpoolctl import threadpool_limits

    from fits.lhc import build_workspace, extract_templates, mass_points
    from fits.limits import PYHF_COMBINATIONS, build_batched_model, expected_limit
    from fits.projections import get_scenario

    settings = {"modifier_settings": {"normsys": {"interpcode": "code4"}, "histosys": {"interpcode": "code4p"}}}
    pts = mass_points(hists)
    pts = pts[:: max(1, len(pts) // n_points)][:n_points]
    models = []
    for p in pts:
        ws = build_workspace(extract_templates(hists, p, scenario=get_scenario(scenario)), m_ZD=p.m_ZD, point=p).workspace
        for _, _, members in PYHF_COMBINATIONS:
            present = [c for c in members if c in ws.channels]
            if present:
                sub = ws.prune(channels=[c for c in ws.channels if c not in present]) if len(present) < len(ws.channels) else ws
                model = sub.model(**settings)
                models.append((sub, model, sub.data(model)))
    runs = [("pyhf fit, default BLAS threads", False, None), ("pyhf fit, 1 BLAS thread", False, 1),
            ("batched fit, 1 BLAS thread (darknu default)", True, 1)]
    cpu: dict[str, float] = {}
    medians: dict[str, list[float]] = {}
    for name, batched, threads in runs:
        t0 = time.process_time()
        with threadpool_limits(limits=threads):
            out = []
            for sub, model, data in models:
                bm = build_batched_model(sub, model, **settings) if batched else None
                try:
                    out.append(expected_limit(model, data, batched_model=bm).median)
                except Exception:  # noqa: BLE001 - same failures for every engine; counted below
                    out.append(float("nan"))
        cpu[name] = time.process_time() - t0
        medians[name] = out
    base = cpu[runs[0][0]]
    print(f"engine comparison: {len(models)} limits of {len(pts)} points, CPU time in this process "
          f"(load avg {os.getloadavg()[0]:.1f})")
    ref = medians[runs[0][0]]
    for name, *_ in runs:
        dev = max((abs(a / b - 1) for a, b in zip(medians[name], ref) if b == b and a == a), default=0.0)
        print(f"  {name:45s}: {cpu[name]:7.2f} s  ratio to baseline {base / cpu[name]:5.2f}x  "
              f"max |median/baseline - 1| {dev:.1e}")


if __name__ == "__main__":
    sys.exit(main())
