"""``darknu process``: run the processor over a fileset and save the histogram file."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from darknu.errors import OutputExistsError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "process",
        help="smear, select and histogram NanoAOD-like files (coffea)",
        description="Run the darknu coffea processor over a fileset JSON and write the m_ll "
        "histogram file (darknu-hists/1 JSON).",
    )
    p.add_argument("--fileset", required=True, help="fileset JSON (AGC style)")
    p.add_argument("--out", required=True, help="output histogram JSON file")
    p.add_argument("--executor", choices=("iterative", "futures", "dask"), default="futures")
    p.add_argument(
        "--scheduler",
        default=None,
        help="dask scheduler address tcp://HOST:PORT (implies --executor dask)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (futures / dask LocalCluster)",
    )
    p.add_argument("--detector", choices=("run2", "hllhc"), default="run2")
    p.add_argument("--electron-set", choices=("optimistic", "pessimistic"), default="optimistic")
    p.add_argument(
        "--electron-pt-min",
        type=float,
        default=5.0,
        help="electron pT threshold [GeV] (5, or the 1 GeV scenario)",
    )
    p.add_argument("--displacement", choices=("3d", "lxy"), default="3d")
    p.add_argument(
        "--alpha-eps2",
        type=float,
        nargs="+",
        default=None,
        help="alpha*eps^2 hypotheses for signal",
    )
    p.add_argument("--chunksize", type=int, default=100_000)
    p.add_argument(
        "--skip-bad-files",
        action="store_true",
        help="skip unreadable/incomplete files and report them",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from darknu.parallel import ExecutorSpec
    from processors.histio import save_histograms
    from processors.processor import DEFAULT_ALPHA_EPS2
    from processors.run import run_processor

    out = Path(args.out)
    if out.exists() and not args.force:
        raise OutputExistsError(f"{out} exists; pass --force to overwrite it")
    kind = "dask" if args.scheduler else args.executor
    spec = ExecutorSpec(kind=kind, workers=args.workers, scheduler=args.scheduler)
    result = run_processor(
        args.fileset,
        executor=spec,
        detector=args.detector,
        electron_set=args.electron_set,
        electron_pt_min=args.electron_pt_min,
        displacement=args.displacement,
        alpha_eps2_values=tuple(args.alpha_eps2) if args.alpha_eps2 else DEFAULT_ALPHA_EPS2,
        chunksize=args.chunksize,
        skip_bad_files=args.skip_bad_files,
    )
    save_histograms(out, result, overwrite=args.force)
    skipped = result["provenance"]["skipped_files"]
    msg = f"wrote {len(result['samples'])} sample histograms to {out}"
    if skipped:
        msg += f"; skipped {len(skipped)} bad file(s): " + ", ".join(s["file"] for s in skipped)
    print(msg)
    return 0
