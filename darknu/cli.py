"""The ``darknu`` command: one sub-command per pipeline stage, plus ``run`` for the chain.

Each stage package contributes its sub-commands through a module with a
``register(subparsers)`` function; the parser built here only wires them together, so
the command-line surface of a stage lives next to its code:

- ``samples.cli``: ``darknu generate signal|background``
- ``processors.cli``: ``darknu process``
- ``fits.cli``: ``darknu limits``
- ``fits.recast.cli``: ``darknu recast``, ``darknu combine``
- ``darknu.run``: ``darknu run``

Every sub-command sets ``func(args) -> int``. Errors that darknu raises on purpose
(:class:`darknu.errors.DarknuError`) end the command with a one-line message and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from darknu import __version__
from darknu.errors import DarknuError

STAGE_MODULES = ("samples.cli", "processors.cli", "fits.cli", "fits.recast.cli", "darknu.run")

log = logging.getLogger("darknu")


def float_list(text: str) -> list[float]:
    """argparse type of a comma-separated list of numbers (``--m-n 0.1,0.2``).

    >>> float_list("0.1, 2e-10,")
    [0.1, 2e-10]
    """
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("empty list")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="darknu",
        description="LHC search for W -> mu N_D, N_D -> nu Z_D, Z_D -> l+l- "
        "(generation, processing, pyhf limits, neutrino recasts).",
    )
    parser.add_argument("--version", action="version", version=f"darknu {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in STAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a stage not built yet in this checkout
            if exc.name in {name, name.rsplit(".", 1)[0]}:
                continue
            raise
        module.register(sub)
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.INFO if verbose < 2 else logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Third-party libraries stay at WARNING unless -vv.
    for noisy in ("distributed", "asyncio", "numba", "matplotlib", "DarkNews", "fsspec"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 3 else logging.WARNING)
    # pyhf logs every failed minimisation with a traceback; darknu catches, retries and
    # reports each one per point (status and message in limits.json), so its own log
    # lines are noise unless asked for with -vvv.
    logging.getLogger("pyhf").setLevel(logging.DEBUG if verbose >= 3 else logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args) or 0)
    except DarknuError as exc:
        print(f"darknu {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"darknu {args.command}: interrupted; finished outputs are kept, rerun the same "
            "command to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
