"""``darknu limits``: expected limits, workspaces and figures from processor histogram files."""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path
from typing import Any

from darknu.errors import ParameterError
from darknu.io import file_digest, prepare_output_dir
from darknu.parallel import EXECUTORS, ExecutorSpec

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``limits`` sub-command."""
    p = subparsers.add_parser(
        "limits",
        help="expected |U_mu4|^2 limits (pyhf sideband fits + the seed's S/sqrt(B) cross-check)",
        description="Fit every signal mass point of the histogram file(s): pyhf expected 95%% CL "
        "CLs limits per channel and combined, the seed's window/displaced criteria, the pyhf "
        "workspaces and figures (seed 003 Figs. 3-4, 6-9).",
    )
    p.add_argument("--hists", action="append", required=True, metavar="[LABEL=]FILE",
                   help="histogram file from `darknu process`; repeat with LABEL=FILE for other "
                   "settings (e.g. ele1GeV=h_e1.json for the 1 GeV electron threshold). "
                   "An unlabelled file is called 'nominal'.")
    p.add_argument("--scenario", default="run2",
                   help="projection scenario(s) from fits/data/projections.toml, comma-separated "
                   "(default run2; e.g. run2,hllhc)")
    p.add_argument("--projections", default=None, help="another projections TOML file")
    p.add_argument("--out", required=True, help="output directory (refused if it holds results, unless --force)")
    p.add_argument("--methods", default="pyhf,window", help="comma-separated: pyhf, window (default both)")
    p.add_argument("--executor", choices=EXECUTORS, default="futures", help="how to parallelise over mass points")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: min(2, cores))")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (with --executor dask)")
    p.add_argument("--no-figures", action="store_true", help="write limits and workspaces only")
    p.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    p.set_defaults(func=run)


def parse_hists_args(values: list[str]) -> dict[str, Path]:
    """``["h.json", "e1=h2.json"]`` → ``{"nominal": h.json, "e1": h2.json}`` (labels unique).

    >>> parse_hists_args(["a.json", "ele1=b.json"])
    {'nominal': PosixPath('a.json'), 'ele1': PosixPath('b.json')}
    """
    out: dict[str, Path] = {}
    for v in values:
        label, sep, path = v.partition("=")
        if not sep:
            label, path = "nominal", v
        if not label or not path:
            raise ParameterError(f"--hists {v!r}: expected FILE or LABEL=FILE")
        if label in out:
            raise ParameterError(f"--hists label {label!r} given twice; labels must be unique")
        out[label] = Path(path)
    return out


def run(args: argparse.Namespace) -> int:
    from fits.limits import run_limits
    from fits.projections import get_scenario
    from fits.results import write_results
    from processors.histio import load_histograms

    t0 = time.perf_counter()
    files = parse_hists_args(args.hists)
    scenarios = [get_scenario(s.strip(), path=args.projections) for s in args.scenario.split(",") if s.strip()]
    if not scenarios:
        raise ParameterError("--scenario is empty; valid: run2, hllhc (see projections.toml)")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    executor = ExecutorSpec(kind=args.executor, workers=args.workers, scheduler=args.scheduler)
    hists = {label: load_histograms(path) for label, path in files.items()}  # fail before writing anything
    out = prepare_output_dir(args.out, force=args.force)
    results, workspaces = [], {}
    for label, h in hists.items():
        for sc in scenarios:
            run_ = run_limits(h, scenario=sc, label=label, executor=executor, methods=methods,
                              projections=args.projections)
            results.extend(run_.results)
            workspaces.update(run_.workspaces)
    provenance = {
        "hists": {label: {"path": str(p), "sha256": file_digest(p)} for label, p in files.items()},
        "scenarios": {sc.name: {"sqrt_s_TeV": sc.sqrt_s_TeV, "lumi_fb": sc.lumi_fb,
                                "xsec_scale": dict(sc.xsec_scale), "sources": dict(sc.xsec_scale_source),
                                "detector_scenario": sc.detector_scenario} for sc in scenarios},
        "methods": methods,
    }
    written = write_results(out, results, workspaces, provenance=provenance)
    figures: list[Path] = []
    if not args.no_figures:
        figures = make_figures(out / "figures", [r.to_json() for r in results], hists, scenarios[0])
    n_bad = sum(r.status in ("failed", "above_poi_bound") for r in results)
    print(
        f"darknu limits: {len(results)} limits ({n_bad} failed/above bound) -> {out / 'limits.json'}; "
        f"{len(workspaces)} workspaces -> {out / 'workspaces'}; {len(figures)} figures -> {out / 'figures'} "
        f"({len(written) + len(figures)} files, {time.perf_counter() - t0:.1f} s)"
    )
    return 0


def make_figures(fig_dir: Path, rows: list[dict[str, Any]], hists: dict[str, Any], scenario: Any) -> list[Path]:
    """All figures: limit scans (Figs. 6–7) per αε², αε² (Fig. 8), thresholds (Fig. 9), m_ℓℓ stacks."""
    from fits import plots
    from fits.lhc import CHANNELS, extract_templates, mass_points

    paths: list[Path] = []
    labels = sorted({r["label"] for r in rows})
    main_label = "nominal" if "nominal" in labels else labels[0]
    alphas = sorted({r["alpha_eps2"] for r in rows})
    ref_alpha = min(alphas, key=lambda a: abs(math.log(a / 2e-10))) if alphas else 2e-10
    for a in alphas:
        for scan, fig in (("mN", "fig6"), ("mZD", "fig7")):
            paths += plots.limit_scan_figure(rows, fig_dir / f"{fig}_limits_vs_{scan}_aeps2_{a:g}",
                                             scan=scan, alpha_eps2=a, label=main_label)
    for sc in sorted({r["scenario"] for r in rows}):
        for scan in ("mN", "mZD"):
            if len(alphas) > 1:
                paths += plots.alpha_eps2_figure(rows, fig_dir / f"fig8_aeps2_{scan}_{sc}", scan=scan,
                                                 scenario=sc, label=main_label)
            if len(labels) > 1:
                paths += plots.threshold_figure(rows, fig_dir / f"fig9_thresholds_{scan}_{sc}", scan=scan,
                                                scenario=sc, alpha_eps2=ref_alpha)
    # Figs. 3-4 analogue: stacked m_ll of the main histogram file with a few signals
    h = hists[main_label]
    pts = [p for p in mass_points(h) if math.isclose(p.alpha_eps2, ref_alpha, rel_tol=1e-6)]
    if pts:
        pick = [pts[0], pts[len(pts) // 2], pts[-1]]
        tpl = {p.label: extract_templates(h, p, scenario=scenario) for p in pick}
        for c in CHANNELS:
            first = tpl[pick[0].label][c]
            sig = {rf"$m_{{N}}$={p.m_N:g}, $m_{{Z_D}}$={p.m_ZD:g} GeV": tpl[p.label][c].signal["nominal"][0] for p in pick}
            paths += plots.mll_stack_figure(first, fig_dir / f"fig4_mll_{c}_{scenario.name}", channel=c, signals=sig,
                                            title=f"{c}, {scenario.name} ({scenario.lumi_fb:g} fb$^{{-1}}$)")
    return paths
