"""``darknu generate`` wiring."""

from __future__ import annotations

import importlib.util

from darknu.cli import build_parser


def test_generate_signal_parser_defaults():
    args = build_parser().parse_args(
        [
            "generate",
            "signal",
            "--m-nd",
            "10",
            "--m-zd",
            "0.03",
            "--events",
            "5",
            "--seed",
            "1",
            "--out",
            "x",
        ]
    )
    assert (args.alpha_eps2, args.g_d, args.sqrt_s, args.jobs, args.executor) == (
        2e-10,
        0.25,
        13.0,
        1,
        "futures",
    )
    assert args.hadron_level is False and args.force is False
    assert callable(args.func)


def test_background_hook_present_when_module_exists(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["generate"]
    kinds = next(a for a in sub._actions if a.dest == "process_kind").choices
    assert "signal" in kinds
    spec = importlib.util.find_spec("samples.background")
    if spec is not None:
        import samples.background as bg

        if hasattr(bg, "register_cli"):
            assert "background" in kinds
