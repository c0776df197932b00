"""Fixtures: a no-smearing detector scenario and a small toy fileset."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test modules import handbuilt_events
from handbuilt_events import background_metadata, passing_event, write_events  # noqa: E402

from darknu.io import atomic_write_json
from smearing.generate import build_correction_set, load_table


@pytest.fixture(scope="session")
def exact_detector(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A run2-like scenario file with (numerically) zero resolutions: truth = reconstructed."""
    table = copy.deepcopy(load_table())
    for s in ("optimistic", "pessimistic"):
        for v in ("phi", "cottheta", "ptrel"):
            table["electron"][s][v] = [1e-12, 1e-12]
    table["muon"]["mass_resolution"] = {"nominal": 1e-12, "up": 1e-12, "down": 1e-12}
    table["scenario"]["run2"]["vertex_sigma_xy_mm"] = 1e-9
    table["scenario"]["run2"]["vertex_sigma_z_mm"] = 1e-9
    path = tmp_path_factory.mktemp("detector") / "exact.json"
    atomic_write_json(path, build_correction_set(table, "run2"))
    return str(path)


@pytest.fixture(scope="session")
def toy_fileset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two toy signal files (ee, 1500 events each) and one small hand-built background file."""
    from processors.synthetic import toy_signal_file

    d = tmp_path_factory.mktemp("toy")
    p1, md = toy_signal_file(
        d / "sig_a.root", n_events=1500, seed=11, m_ZD_GeV=0.3, ctau_mm=0.5, alpha_eps2=2e-11
    )
    p2, _ = toy_signal_file(
        d / "sig_b.root", n_events=1500, seed=12, m_ZD_GeV=0.3, ctau_mm=0.5, alpha_eps2=2e-11
    )
    md = dict(md, sum_genweight=3000.0, n_events=3000)
    bkg = write_events(
        d / "bkg.root",
        [passing_event(weight=w) for w in (1.0, 0.5, -0.25, 2.0)],
        background_metadata(),
    )
    return {
        "signal_mN10_mZD0.3__nominal": {
            "files": {str(p1): "Events", str(p2): "Events"},
            "metadata": md,
        },
        "wgamma__nominal": {"files": {str(bkg): "Events"}, "metadata": background_metadata()},
    }
