"""Fixtures of the fits tests: restore pyhf global state, synthetic histogram inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for tests/fits/synthetic.py


@pytest.fixture(autouse=True)
def _restore_pyhf_state():
    """Every test leaves pyhf's backend and optimizer as it found them."""
    import pyhf

    backend, optimizer = pyhf.get_backend()
    yield
    pyhf.set_backend(backend, optimizer)
