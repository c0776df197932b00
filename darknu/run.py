"""``darknu run``: the whole chain from a configuration file to limits, recasts and figures.

Stages, in order (each skipped when its inputs and outputs are unchanged, see
:mod:`darknu.pipeline`):

1. ``signal:<sample>`` and ``background:<process>``: generate samples (``samples``);
2. ``fileset``: merge the per-sample filesets into ``<out>/fileset.json``;
3. ``process:ept<X>``: one coffea pass per electron-threshold scenario (``processors``),
   written to ``<out>/hists/hists_ept<X>.json``;
4. ``limits:<scenario>``: pyhf and S/sqrt(B) limits per projection (``fits``);
5. ``recast:<experiment>``, ``combine``: neutrino recasts and the combined likelihood;
6. a summary table (best expected |U_mu4|^2 per scan and scenario) and the list of files.

Generation, processing and fits all use the executor of the configuration
(``[executor]``), overridable on the command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from darknu import __version__
from darknu.config import RunConfig, load_config
from darknu.errors import DarknuError, OutputExistsError
from darknu.io import atomic_write_json, atomic_write_text
from darknu.parallel import EXECUTORS, ExecutorSpec
from darknu.pipeline import STATE_FILE, Stage, StageRunner

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the whole chain (generate, process, limits, recasts, figures)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument(
        "--config",
        default="quick",
        help="built-in configuration (quick, run2, hllhc) or a TOML file (default: quick)",
    )
    p.add_argument("--out", help="output directory (default: [run] out of the configuration)")
    p.add_argument("--executor", choices=EXECUTORS, help="override [executor] kind")
    p.add_argument("--workers", type=int, help="local processes / dask LocalCluster workers")
    p.add_argument("--scheduler", help="address of an existing dask scheduler (tcp://HOST:PORT)")
    p.add_argument(
        "--force",
        action="store_true",
        help="redo every stage and overwrite the output directory",
    )
    p.add_argument(
        "--stop-after",
        choices=("samples", "process", "limits", "recast"),
        help="stop after this stage group",
    )
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    ex = cfg["executor"]
    kind = args.executor or ("dask" if args.scheduler else ex["kind"])
    spec = ExecutorSpec(
        kind=kind,
        workers=args.workers or ex.get("workers"),
        scheduler=args.scheduler or (ex.get("scheduler") or None),
    )
    out = Path(args.out or cfg.get("run.out"))
    summary = run(cfg, out_dir=out, executor=spec, force=args.force, stop_after=args.stop_after)
    print(summary)
    return 0


def _check_out_dir(out: Path, *, force: bool) -> None:
    """An output directory is ours to reuse only if an earlier ``darknu run`` made it."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / STATE_FILE).exists() and not force:
        raise OutputExistsError(
            f"output directory {out} holds files that darknu run did not write; "
            "choose another --out or pass --force"
        )
    out.mkdir(parents=True, exist_ok=True)


def _fmt(x: float) -> str:
    return f"{x:g}"


def signal_name(m_n: float, m_zd: float) -> str:
    """Sample name of a signal mass point (docs/interfaces.md section 1)."""
    return f"signal_mN{_fmt(m_n)}_mZD{_fmt(m_zd)}"


def run(
    cfg: RunConfig,
    *,
    out_dir: Path,
    executor: ExecutorSpec,
    force: bool = False,
    stop_after: str | None = None,
) -> str:
    """Run every stage of ``cfg`` into ``out_dir``; return the summary text."""
    out = Path(out_dir)
    _check_out_dir(out, force=force)
    t0 = time.perf_counter()
    runner = StageRunner(out, force=force)
    seed = int(cfg.get("run.seed"))
    written: list[Path] = []

    # -- 1. samples ---------------------------------------------------------------------
    sample_filesets = _sample_stages(cfg, out, executor, runner, seed)
    fileset_path = out / "fileset.json"
    runner.run(
        Stage(
            "fileset",
            lambda: [_merge_filesets(sample_filesets, fileset_path)],
            inputs={"samples": [str(p) for p in sample_filesets]},
            input_files=lambda: sample_filesets,
        )
    )
    written.append(fileset_path)
    if stop_after == "samples":
        return _summary(cfg, out, runner, written, t0)

    # -- 2. processing ------------------------------------------------------------------
    hist_files = _process_stages(cfg, out, executor, runner, fileset_path)
    written += list(hist_files.values())
    if stop_after == "process":
        return _summary(cfg, out, runner, written, t0)

    # -- 3. limits ----------------------------------------------------------------------
    limit_dirs = _limit_stages(cfg, out, executor, runner, hist_files)
    written += [d / "limits.json" for d in limit_dirs.values()]
    if stop_after == "limits":
        return _summary(cfg, out, runner, written, t0)

    # -- 4. recasts and combination -------------------------------------------------------
    written += _recast_stages(cfg, out, executor, runner, limit_dirs)
    return _summary(cfg, out, runner, written, t0)


# --- stage builders -----------------------------------------------------------------------


def _sample_stages(
    cfg: RunConfig, out: Path, executor: ExecutorSpec, runner: StageRunner, seed: int
) -> list[Path]:
    import samples as samples_pkg
    from samples import background as bkg

    s = cfg["samples"]
    # The signal is generated as a mixture of the scan's Z_D lifetimes (jobs cycle through
    # them) and reweighted to each alpha*eps^2 by the processor: every value is populated,
    # prompt decays of light Z_D included (samples.reweight.mixture_lifetime_weight).
    alpha_mix = sorted(float(a) for a in cfg.get("model.alpha_eps2"))
    filesets: list[Path] = []
    for m_n, m_zd in cfg.mass_points():
        name = signal_name(m_n, m_zd)
        sdir = out / "samples" / name
        params = dict(
            m_N=m_n,
            m_ZD=m_zd,
            lifetime_mix=alpha_mix,
            g_D=float(cfg.get("model.g_D")),
            sqrt_s_TeV=float(s["sqrt_s_TeV"]),
            events=int(s["signal_events"]),
            seed=_sample_seed(seed, name),
            jobs=int(s["signal_jobs"]),
            hadron_level=bool(s["hadron_level"]),
        )

        def action(params: dict[str, Any] = params, sdir: Path = sdir) -> list[Path]:
            files = samples_pkg.generate_signal(**params, out_dir=sdir, executor=executor, force=runner.force)
            return [*files, sdir / "fileset.json"]

        runner.run(Stage(f"signal:{name}", action, inputs=params))
        filesets.append(sdir / "fileset.json")

    procs = list(s["background"]["processes"])
    if procs == ["all"]:
        procs = list(bkg.PROCESSES)
    for proc in procs:
        bdir = out / "samples" / proc
        # A process whose templates need more MC than the others (Z + gamma*: its
        # signal-region yield per CPU-hour is ~1% of the W backgrounds',
        # docs/background.md §18) gets its events and jobs multiplied.
        scale = int(s["background"]["scale"].get(proc, 1))
        params = dict(
            sqrt_s_TeV=float(s["sqrt_s_TeV"]),
            events=int(s["background"]["events"]) * scale,
            seed=_sample_seed(seed, proc),
            jobs=int(s["background"]["jobs"]) * scale,
            hadron_level=bool(s["hadron_level"]),
            method=str(s["background"]["methods"].get(proc, "forced")),
        )

        def baction(proc: str = proc, params: dict[str, Any] = params, bdir: Path = bdir) -> list[Path]:
            files = bkg.generate_background(proc, **params, out_dir=bdir, executor=executor, force=runner.force)
            return [*files, bdir / "fileset.json"]

        runner.run(Stage(f"background:{proc}", baction, inputs={"process": proc, **params}))
        filesets.append(bdir / "fileset.json")
    return filesets


def _sample_seed(run_seed: int, sample: str) -> int:
    """Generation seed of one sample: a hash of (run seed, sample name).

    Adding or removing a mass point leaves every other sample's seed (and files) as is,
    and samples of one run have unrelated random streams.
    """
    from samples.jobs import SEED_MAX, derive_seed

    return derive_seed(run_seed, 0, stream=f"run-sample:{sample}") % SEED_MAX


def _merge_filesets(parts: Iterable[Path], dest: Path) -> Path:
    """Merge per-sample filesets into ``dest`` (paths stored relative to ``dest``)."""
    from samples.fileset import load_fileset, update_fileset

    merged: dict[str, Any] = {}
    for p in parts:
        for name, entry in load_fileset(p).items():  # absolute paths, validated
            if name in merged:
                raise DarknuError(f"dataset {name!r} appears in two filesets (second: {p})")
            merged[name] = entry
    if dest.exists():
        dest.unlink()  # rebuilt from its parts; the parts are the record
    update_fileset(dest, merged)
    return dest


def _process_stages(
    cfg: RunConfig, out: Path, executor: ExecutorSpec, runner: StageRunner, fileset_path: Path
) -> dict[str, Path]:
    import processors
    from processors.histio import save_histograms

    p = cfg["processing"]
    hist_files: dict[str, Path] = {}

    def root_files() -> list[Path]:
        from samples.fileset import load_fileset

        fs = load_fileset(fileset_path)
        return sorted(Path(f) for entry in fs.values() for f in entry["files"])

    for thr in p["electron_pt_min"]:
        label = f"ept{_fmt(float(thr))}"
        dest = out / "hists" / f"hists_{label}.json"
        settings = dict(
            detector=p["detector"],
            electron_set=p["electron_set"],
            electron_pt_min=float(thr),
            alpha_eps2_values=tuple(float(a) for a in cfg.get("model.alpha_eps2")),
            displacement=p["displacement"],
            chunksize=int(p["chunksize"]),
            skip_bad_files=bool(p["skip_bad_files"]),
        )

        def action(settings: dict[str, Any] = settings, dest: Path = dest) -> list[Path]:
            result = processors.run_processor(str(fileset_path), executor=executor, **settings)
            save_histograms(dest, result, overwrite=True)
            return [dest]

        runner.run(
            Stage(
                f"process:{label}",
                action,
                inputs={**settings, "alpha_eps2_values": list(settings["alpha_eps2_values"])},
                input_files=lambda: [fileset_path, *root_files()],
            )
        )
        hist_files[label] = dest
    return hist_files


def _hist_label(label: str, first: bool) -> str:
    """Label of a processing pass in the limits: the first threshold is the nominal one."""
    return "nominal" if first else "ele" + label.removeprefix("ept") + "GeV"


def _limit_stages(
    cfg: RunConfig,
    out: Path,
    executor: ExecutorSpec,
    runner: StageRunner,
    hist_files: dict[str, Path],
) -> dict[str, Path]:
    from fits.cli import run as limits_command

    dirs: dict[str, Path] = {}
    methods = list(cfg.get("limits.methods"))
    labelled = [
        f"{_hist_label(label, i == 0)}={path}" for i, (label, path) in enumerate(hist_files.items())
    ]
    for scenario in cfg.get("limits.scenarios"):
        ldir = out / "limits" / scenario

        def action(scenario: str = scenario, ldir: Path = ldir) -> list[Path]:
            args = argparse.Namespace(
                hists=labelled,
                scenario=scenario,
                out=ldir,
                executor=executor.kind,
                workers=executor.workers,
                scheduler=executor.scheduler,
                projections=None,
                methods=",".join(methods),
                no_figures=False,
                force=True,  # the stage runner owns this directory
            )
            limits_command(args)
            return sorted(p for p in ldir.rglob("*") if p.is_file())

        runner.run(
            Stage(
                f"limits:{scenario}",
                action,
                inputs={"scenario": scenario, "methods": methods, "hists": labelled},
                input_files=lambda: list(hist_files.values()),
            )
        )
        dirs[scenario] = ldir
    return dirs


def _recast_stages(
    cfg: RunConfig,
    out: Path,
    executor: ExecutorSpec,
    runner: StageRunner,
    limit_dirs: dict[str, Path],
) -> list[Path]:
    from fits.recast import pipeline as recast_pipeline

    r = cfg["recast"]
    written: list[Path] = []
    rdir = out / "recast"
    settings = dict(
        experiments=list(r["experiments"]),
        m_N=[float(m) for m in r["m_N"]],
        m_ZD=float(r["m_ZD"]),
        events=int(r["events"]),
        seed=int(cfg.get("run.seed")),
    )

    lhc_limits = next((d / "limits.json" for d in limit_dirs.values()), None)

    def action() -> list[Path]:
        return recast_pipeline.recast_for_run(
            out_dir=rdir, executor=executor, lhc_limits=lhc_limits, **settings
        )

    runner.run(
        Stage(
            "recast",
            action,
            inputs=settings,
            input_files=lambda: [lhc_limits] if lhc_limits is not None else [],
        )
    )
    written.append(rdir / "recast.json")
    if r["combine"] and limit_dirs:
        cdir = out / "combined"

        # the LHC with every recast experiment of this run that sets limits (MiniBooNE's
        # excess gives a preferred region, not a limit channel)
        channels = ",".join(["lhc", *(e for e in settings["experiments"] if e != "miniboone")])

        def caction() -> list[Path]:
            return recast_pipeline.combine_for_run(
                recast_dir=rdir,
                limit_dirs=limit_dirs,
                out_dir=cdir,
                m_ZD=settings["m_ZD"],
                channels=channels,
                executor=executor,
            )

        runner.run(
            Stage(
                "combine",
                caction,
                inputs={"scenarios": sorted(limit_dirs), "channels": channels},
                input_files=lambda: [rdir / "recast.json", *(d / "limits.json" for d in limit_dirs.values())],
            )
        )
        written += sorted(cdir.glob("*/combined_limits.json"))
    return written


# --- summary ------------------------------------------------------------------------------


def _best_limits(limit_dirs: Iterable[Path]) -> list[tuple[str, str, str, float, str]]:
    """(scenario, scan, analysis, best expected |U|^2, where) from limits.json files.

    Uses the pyhf limits of the nominal processing pass, ee and mumu combined.
    """
    rows = []
    for ldir in limit_dirs:
        path = ldir / "limits.json"
        if not path.exists():
            continue
        doc = json.loads(path.read_text())
        best: dict[tuple[str, str, str], tuple[float, str]] = {}
        for r in doc.get("results", []):
            if (r.get("method"), r.get("channel"), r.get("label")) != ("pyhf", "combined", "nominal"):
                continue
            lim = r.get("limit_U2")
            if lim is None or not math.isfinite(lim):
                continue
            m_n, m_zd = r["m_N_GeV"], r["m_ZD_GeV"]
            if abs(m_zd - 0.03) < 1e-9:
                scan = "m_ZD=30MeV"
            elif abs(m_n - 3 * m_zd) < 1e-9 * m_n:
                scan = "m_N=3m_ZD"
            else:
                scan = "other"
            key = (r["scenario"], scan, r["analysis"])
            where = f"m_N={m_n:g}, m_ZD={m_zd:g} GeV, aeps2={r['alpha_eps2']:g}"
            if key not in best or lim < best[key][0]:
                best[key] = (lim, where)
        rows += [(*k, v[0], v[1]) for k, v in sorted(best.items())]
    return rows


def _summary(cfg: RunConfig, out: Path, runner: StageRunner, written: list[Path], t0: float) -> str:
    lines = [f"darknu run '{cfg.name}' ({cfg.source}) -> {out}", ""]
    lines.append(f"{'stage':34s} {'status':11s} {'time [s]':>8s}")
    for o in runner.outcomes:
        lines.append(f"{o.name:34s} {o.status:11s} {o.seconds:8.1f}")
    rows = _best_limits(sorted((out / "limits").glob("*")) if (out / "limits").exists() else [])
    if rows:
        lines += ["", "Best expected 95% CL limit on |U_mu4|^2 (pyhf, channels combined):"]
        lines.append(f"{'scenario':9s} {'scan':11s} {'analysis':10s} {'|U_mu4|^2':>10s}  at")
        for scen, scan, ana, lim, where in rows:
            lines.append(f"{scen:9s} {scan:11s} {ana:10s} {lim:10.3g}  {where}")
    figs = sorted(out.rglob("*.png"))
    lines += ["", "Written:"]
    for p in [*written, *figs]:
        if Path(p).exists():
            lines.append(f"  {p}")
    lines.append("")
    lines.append(f"finished in {time.perf_counter() - t0:.0f} s; figures: {len(figs)} PNG under {out}")
    text = "\n".join(lines)
    summary = {
        "config": cfg.name,
        "darknu_version": __version__,
        "stages": [o.__dict__ for o in runner.outcomes],
        "best_limits": [dict(zip(("scenario", "scan", "analysis", "U2", "at"), r, strict=True)) for r in rows],
    }
    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / "summary.txt", text + "\n")
    return text
