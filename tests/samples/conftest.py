"""Shared fixtures of the samples tests: small signal samples generated once per session."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from samples.model import SignalPoint
from samples.signal import generate_signal


def flat_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every branch of ``Events`` flattened to one numpy array (for exact comparisons)."""
    with uproot.open(path) as f:
        tree = f["Events"]
        return {k: ak.to_numpy(ak.flatten(tree[k].array(), axis=None)) for k in tree.keys()}


@pytest.fixture(scope="session")
def ref_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The acceptance point m_N = 0.3 GeV, m_ZD = 0.1 GeV, 2000 events, seed 1, one file."""
    out = tmp_path_factory.mktemp("sig_ref")
    (path,) = generate_signal(m_N=0.3, m_ZD=0.1, events=2000, seed=1, out_dir=out)
    return path


@pytest.fixture(scope="session")
def point_30mev() -> SignalPoint:
    return SignalPoint(m_N=10.0, m_ZD=0.03)
