"""Small, seeded DarkNews samples shared by the recast tests (one per channel, m_N = 0.2 GeV)."""

from __future__ import annotations

import pytest

from fits.recast.generate import generate

NEVAL = 500  # VEGAS evaluations per iteration: ~1 s per channel on one core
SEED = 7


@pytest.fixture(scope="session")
def event_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("darknews_cache")


@pytest.fixture(scope="session")
def events(event_cache):
    """Lazily generated events per channel."""
    store = {}

    def get(channel: str, m_N: float = 0.2):
        key = (channel, m_N)
        if key not in store:
            store[key] = generate(channel, m_N=m_N, neval=NEVAL, seed=SEED, cache_dir=event_cache)
        return store[key]

    return get
