"""Invalid parameters fail with a clear error before any generation starts."""

from __future__ import annotations

import pytest

import samples.signal as signal
from darknu.cli import main
from darknu.errors import ParameterError
from darknu.parallel import ExecutorSpec


@pytest.fixture
def no_pythia(monkeypatch):
    """Make any attempt to start Pythia fail loudly: errors must come first."""

    def boom(settings):
        raise AssertionError("Pythia was started before the parameters were validated")

    monkeypatch.setattr(signal, "make_pythia", boom)


GOOD = dict(m_N=0.3, m_ZD=0.1, events=10, seed=1)


@pytest.mark.parametrize(
    "change,match",
    [
        ({"m_ZD": 0.3}, r"m_ZD = 0.3 GeV must be < m_N = 0.3 GeV"),
        ({"m_ZD": 0.5}, r"m_ZD = 0.5 GeV must be < m_N"),
        ({"m_N": 80.5}, r"m_N = 80.5 GeV is out of range: must be > 0.0 GeV and < 80.3692 GeV"),
        ({"m_N": -1.0}, r"m_N = -1.0 GeV is out of range"),
        ({"m_N": "heavy"}, r"m_N must be a number, got 'heavy'"),
        ({"m_ZD": -0.1}, r"m_ZD = -0.1 GeV is out of range: must be >= 0.00104 GeV"),
        ({"m_ZD": float("nan")}, r"m_ZD must be finite"),
        ({"alpha_eps2": -2e-10}, r"alpha_eps2 = -2e-10 is out of range"),
        ({"alpha_eps2": "x"}, r"alpha_eps2 must be a number"),
        ({"g_D": 0.0}, r"g_D = 0.0 is out of range"),
        ({"sqrt_s_TeV": 8.0}, r"sqrt_s_TeV = 8 has no W_munu cross section; valid: 13, 14"),
        ({"events": 0}, r"events = 0 is out of range: must be >= 1"),
        ({"events": -5}, r"events = -5 is out of range"),
        ({"events": "many"}, r"events must be an integer, got 'many'"),
        ({"seed": -1}, r"seed = -1 is out of range: must be >= 0"),
        ({"jobs": 11}, r"jobs = 11 is out of range: must be >= 1 and <= 10"),
        ({"hadron_level": "yes"}, r"hadron_level must be True or False"),
    ],
)
def test_bad_parameters_raise_before_generation(no_pythia, tmp_path, change, match):
    kwargs = {**GOOD, **change, "out_dir": tmp_path / "out"}
    with pytest.raises(ParameterError, match=match):
        signal.generate_signal(**kwargs)
    assert not (tmp_path / "out").exists()


def test_unknown_executor_and_process(no_pythia):
    with pytest.raises(
        ParameterError, match="unknown executor 'slurm'; valid: dask, futures, iterative"
    ):
        ExecutorSpec(kind="slurm")
    from samples.model import cross_section_pb

    with pytest.raises(ParameterError, match="unknown process 'W_to_everything'"):
        cross_section_pb("W_to_everything", 13)


def test_cli_reports_bad_parameters(no_pythia, tmp_path, capsys):
    rc = main(
        [
            "generate",
            "signal",
            "--m-nd",
            "0.1",
            "--m-zd",
            "0.3",
            "--events",
            "10",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "m_ZD = 0.3 GeV must be < m_N = 0.1 GeV" in err and "Traceback" not in err
    with pytest.raises(SystemExit):  # argparse: non-numeric mass
        main(
            [
                "generate",
                "signal",
                "--m-nd",
                "abc",
                "--m-zd",
                "0.1",
                "--events",
                "10",
                "--seed",
                "1",
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert "invalid float value: 'abc'" in capsys.readouterr().err
