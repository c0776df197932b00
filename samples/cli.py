"""``darknu generate signal|background``: the command-line face of :mod:`samples`."""

from __future__ import annotations

import argparse
import importlib
import logging

from darknu.cli import float_list
from darknu.parallel import EXECUTORS, ExecutorSpec

log = logging.getLogger(__name__)


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs", type=int, default=1, help="number of generation jobs / output files (default 1)"
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="futures",
        help="where jobs run: futures (local processes), iterative (this process), dask",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="local processes / dask workers (default: 2)"
    )
    p.add_argument(
        "--scheduler", default=None, help="address of a running dask scheduler (tcp://HOST:PORT)"
    )
    p.add_argument("--force", action="store_true", help="overwrite files made with other settings")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``generate`` with its ``signal`` (and, if present, ``background``) sub-commands."""
    gen = subparsers.add_parser("generate", help="generate signal or background samples (Pythia 8)")
    gen_sub = gen.add_subparsers(dest="process_kind", metavar="KIND")
    gen_sub.required = True

    sig = gen_sub.add_parser(
        "signal",
        help="pp -> W -> mu N_D, N_D -> nu Z_D, Z_D -> ee/mumu",
        description="Generate a signal sample (one ROOT file per job), listed in OUT/fileset.json.",
    )
    sig.add_argument("--m-nd", type=float, required=True, help="N_D mass [GeV]")
    sig.add_argument("--m-zd", type=float, required=True, help="Z_D mass [GeV]")
    sig.add_argument(
        "--alpha-eps2", type=float, default=2e-10, help="alpha*epsilon^2 (default 2e-10)"
    )
    sig.add_argument(
        "--lifetime-mix",
        type=float_list,
        default=None,
        metavar="A1,A2,...",
        help="alpha*epsilon^2 values whose Z_D lifetimes the jobs cycle through (an alpha*eps^2 "
        "scan reweighted from one sample; replaces --alpha-eps2)",
    )
    sig.add_argument(
        "--g-d", type=float, default=0.25, help="dark gauge coupling g_D (default 0.25)"
    )
    sig.add_argument(
        "--sqrt-s", type=float, default=13.0, help="centre-of-mass energy [TeV] (13 or 14)"
    )
    sig.add_argument("--events", type=int, required=True, help="total number of events")
    sig.add_argument(
        "--seed",
        type=int,
        required=True,
        help="random seed (job j uses a seed derived from (seed, j))",
    )
    sig.add_argument(
        "--hadron-level", action="store_true", help="with MPI and hadronisation (~25x slower)"
    )
    sig.add_argument("--out", required=True, help="output directory")
    _add_executor_options(sig)
    sig.set_defaults(func=_run_signal)

    try:
        background = importlib.import_module("samples.background")
    except ModuleNotFoundError as exc:
        if exc.name != "samples.background":
            raise
        return
    if hasattr(background, "register_cli"):
        background.register_cli(gen_sub)


def executor_from_args(args: argparse.Namespace) -> ExecutorSpec:
    """The :class:`ExecutorSpec` of ``--executor/--workers/--scheduler``."""
    return ExecutorSpec(kind=args.executor, workers=args.workers, scheduler=args.scheduler)


def _run_signal(args: argparse.Namespace) -> int:
    from samples.signal import generate_signal

    paths = generate_signal(
        m_N=args.m_nd,
        m_ZD=args.m_zd,
        alpha_eps2=args.alpha_eps2,
        g_D=args.g_d,
        sqrt_s_TeV=args.sqrt_s,
        events=args.events,
        seed=args.seed,
        out_dir=args.out,
        jobs=args.jobs,
        executor=executor_from_args(args),
        hadron_level=args.hadron_level,
        force=args.force,
        lifetime_mix=args.lifetime_mix,
    )
    fileset = paths[0].parent / "fileset.json"
    print(
        f"darknu generate signal: {args.events} events in {len(paths)} file(s) in "
        f"{paths[0].parent}/ (fileset {fileset})"
    )
    return 0
