"""The darknu command: help works, deliberate errors end with a message and exit 2."""

import subprocess
import sys

from darknu.cli import main


def test_help_lists_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "run" in out


def test_darknu_error_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "quick"\n[samples]\nsignal_events = 0\n')
    proc = subprocess.run(
        [sys.executable, "-m", "darknu", "run", "--config", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "bad.toml (line 3): samples.signal_events = 0 is invalid" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_refuses_a_directory_it_did_not_make(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert main(["run", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"output directory {out} holds files that darknu run did not write" in err
    assert "--force" in err
    assert (out / "thesis.tex").read_text() == "years of work"
