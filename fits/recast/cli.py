"""``darknu recast`` (neutrino-experiment limits and the MiniBooNE region) and ``darknu combine``."""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path

import pyhf

from darknu.cli import float_list
from darknu.errors import ConfigError, FitError, InputFileError, ParameterError, check_range
from darknu.io import atomic_write_json, prepare_output_dir

log = logging.getLogger(__name__)

_EXPERIMENTS = ("minerva_le", "minerva_me", "charm2", "miniboone", "microboone", "all")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("recast", help="neutrino-experiment recasts: limits vs m_N, MiniBooNE region")
    p.add_argument("--experiment", required=True, choices=_EXPERIMENTS)
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--m-n", type=float_list, default=[0.1, 0.2, 0.4], help="m_N values in GeV (comma-separated)")
    p.add_argument("--m-zd", type=float, default=0.03, help="Z_D mass in GeV (default 0.03)")
    p.add_argument("--events", type=int, default=20000, help="DarkNews VEGAS evaluations per iteration (neval)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cache", type=Path, default=None, help="DarkNews event cache (default OUT/cache)")
    p.add_argument("--lhc-limits", type=Path, default=None,
                   help="LHC limits.json (m_N_GeV, U2_expected) to overlay on the summary figure")  # fmt: skip
    p.add_argument("--charm2-treatment", choices=("rate", "shape"), default="rate",
                   help="CHARM-II likelihood: 'rate' (seed 000: E theta^2 < 30 MeV rad^2 counted, the "
                   "sideband as the 3%%/10%% background constraint; default) or 'shape' (16 bins "
                   "including the sideband; exploratory)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="overwrite results in OUT")
    p.set_defaults(func=run_recast)

    c = subparsers.add_parser("combine", help="combined LHC + neutrino limits (pyhf workspace combination)")
    c.add_argument("--lhc-limits", type=Path, default=None, help="directory with the LHC workspaces and limits.json")
    c.add_argument("--recast", type=Path, required=True, help="output directory of darknu recast")
    c.add_argument("--channels", default="lhc,minerva_le,charm2", help="comma-separated channel groups")
    c.add_argument("--lhc-match", default="",
                   help="substring the LHC workspace file names must contain, e.g. 'nominal__run2__' "
                   "(needed when several scenarios/labels exist per mass)")  # fmt: skip
    c.add_argument("--cl", type=float, default=0.95)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--force", action="store_true")
    c.set_defaults(func=run_combine)


def run_recast(args: argparse.Namespace) -> int:
    from fits.recast.plot import load_lhc_limits, plot_summary
    from fits.recast.run import EXPERIMENT_CHANNELS, RecastSettings, limits_vs_mass, preferred_region

    for m in args.m_n:
        check_range("m_N", m, low=args.m_zd, high=20.0, unit="GeV")
    lhc = load_lhc_limits(args.lhc_limits) if args.lhc_limits is not None else None
    out = prepare_output_dir(args.out, force=args.force)
    charm2_treatment = getattr(args, "charm2_treatment", "rate")
    settings = RecastSettings(
        m_ZD=args.m_zd, neval=args.events, seed=args.seed, cache_dir=args.cache or out / "cache", force=False,
        charm2_treatment=charm2_treatment,
    )  # fmt: skip
    wanted = args.experiment if isinstance(args.experiment, list | tuple) else [args.experiment]
    exps = [e for e in EXPERIMENT_CHANNELS if "all" in wanted or e in wanted]
    written: list[Path] = []
    limits: dict[str, dict] = {}
    region = None
    for exp in exps:
        for ch in EXPERIMENT_CHANNELS[exp]:
            if ch == "miniboone_nu":
                region = preferred_region(args.m_n, settings, release="2020")
                written.append(atomic_write_json(out / "miniboone_region.json", region))
                region_2018 = preferred_region(args.m_n, settings, release="2018")
                written.append(atomic_write_json(out / "miniboone_region_2018.json", region_2018))
                region_cos = preferred_region(args.m_n, settings, release="2020", observable="costheta")
                written.append(atomic_write_json(out / "miniboone_region_costheta.json", region_cos))
                continue
            res = limits_vs_mass(ch, args.m_n, settings, out_dir=out)
            res["settings"] = {"m_ZD_GeV": args.m_zd, "neval": args.events, "seed": args.seed,
                               "alpha_D": 0.25, "alpha_eps2": 2e-10, "HNL": "dirac"}  # fmt: skip
            if ch.startswith("charm2_"):
                res["settings"]["charm2_treatment"] = charm2_treatment
            limits[ch] = res
            written.append(atomic_write_json(out / f"limits_{ch}.json", res))
    fig = plot_summary(out / "figures" / "recast_summary.png", limits=limits, region=region, lhc=lhc)
    written.append(fig)
    msg = f"darknu recast: wrote {len(written)} files to {out}: " + ", ".join(p.name for p in written)
    log.info(msg)
    print(msg)
    return 0


_MASS_RE = re.compile(r"mN([0-9.eE+-]+?)(?:_|\.json$)")


def _workspaces_by_mass(directory: Path, prefix: str, *, match: str = "") -> dict[float, Path]:
    """{m_N: workspace file} for files whose name contains ``mN<value>`` and ``match`` and whose channels start with ``prefix``.

    Works with the LHC names of ``fits.limits.workspace_name`` (``<label>__<scenario>__mN10_mZD0.03_aeps2_2e-10``);
    several candidates for one mass are an error (choose with ``match``).
    """
    found: dict[float, Path] = {}
    for f in sorted(directory.rglob("*.json")):
        m = _MASS_RE.search(f.name)
        if not m or match not in f.name:
            continue
        try:
            spec = json.loads(f.read_text())
        except ValueError:
            continue
        if isinstance(spec, dict) and any(ch.get("name", "").startswith(prefix) for ch in spec.get("channels", [])):
            key = float(m.group(1))
            if key in found:
                raise ConfigError(
                    f"several LHC workspaces for m_N = {key:g} GeV ({found[key].name}, {f.name}); "
                    "select one with --lhc-match"
                )
            found[key] = f
    return found


def run_combine(args: argparse.Namespace) -> int:
    from fits.combine import CHANNEL_GROUPS, combine_workspaces, expand_channels, select_channels
    from fits.recast.stats import upper_limit

    groups = [g.strip() for g in args.channels.split(",")]
    channels = expand_channels(groups)
    if not args.recast.is_dir():
        raise InputFileError(f"--recast {args.recast} is not a directory (run darknu recast first)")
    out = prepare_output_dir(args.out, force=args.force)
    neutrino = {}
    for f in sorted((args.recast / "workspaces").glob("*_nominal.json")):
        m = _MASS_RE.search(f.name)
        if m:
            neutrino.setdefault(float(m.group(1)), []).append(f)
    lhc: dict[float, Path] = {}
    if any(c.startswith("lhc_") for c in channels):
        if args.lhc_limits is None:
            raise ParameterError("--channels includes lhc but --lhc-limits was not given")
        lhc = _workspaces_by_mass(args.lhc_limits, "lhc_", match=args.lhc_match)
        if not lhc:
            raise ConfigError(f"no LHC workspace files (name containing mN<value>, channels lhc_*) under {args.lhc_limits}")
    masses = sorted(set(neutrino) | set(lhc))
    rows = []
    for m_N in masses:
        files_ = neutrino.get(m_N, []) + ([lhc[m_N]] if m_N in lhc else [])
        wss = [pyhf.Workspace(json.loads(f.read_text())) for f in files_]
        wss = [w for w in wss if any(c in channels for c in w.channels)]
        if not wss:
            continue
        wss = [select_channels(w, channels) for w in wss]
        comb = combine_workspaces(wss)
        atomic_write_json(out / "workspaces" / f"combined_mN{m_N:g}.json", dict(comb))
        row: dict = {"m_N_GeV": m_N, "channels": comb.channels, "status": "ok"}
        # A requested experiment without a workspace at this mass (e.g. no LHC signal sample
        # generated at this m_N): the row combines what exists and says so (never silently).
        missing = [g for g in groups if not any(c in comb.channels for c in CHANNEL_GROUPS[g])]
        if missing:
            row["status"] = "partial"
            row["missing"] = missing
            log.warning("m_N=%g: no %s channel at this mass; combined the others", m_N, ", ".join(missing))
        failures = []
        for key, sub in [("combined", comb)] + [(ch, select_channels(comb, [ch])) for ch in comb.channels]:
            try:
                row[key] = upper_limit(sub, cl=args.cl).U2
            except FitError as exc:  # reported per point, never dropped or given a number
                row[key] = None
                failures.append(f"{key}: {exc}")
        if failures:
            row["status"] = "failed"
            row["message"] = "; ".join(failures)
        if missing:
            row["message"] = "; ".join(
                x for x in (row.get("message", ""), f"no {', '.join(missing)} channel at m_N = {m_N:g} GeV") if x
            )
            log.warning("m_N=%g: %s", m_N, row["message"])
        rows.append(row)
        if row["combined"] is not None:
            log.info("m_N=%g: combined %.0f%% CL |U|^2 < %.3g (%s)", m_N, args.cl * 100, row["combined"], ", ".join(comb.channels))
    if not rows:
        raise ConfigError(f"no workspace with channels {channels} found in {args.recast} / {args.lhc_limits}")
    path = atomic_write_json(out / "combined_limits.json", {"cl": args.cl, "method": "cls", "points": rows})
    msg = f"darknu combine: wrote {path} and {len(rows)} combined workspaces to {out / 'workspaces'}"
    log.info(msg)
    print(msg)
    return 0
