"""Job splitting and seed derivation."""

from __future__ import annotations

import pytest

from darknu.errors import ParameterError
from samples.jobs import PYTHIA_SEED_MAX, check_count, derive_seed, split_events


@pytest.mark.parametrize("events,jobs", [(1, 1), (10, 3), (2000, 7), (5, 5)])
def test_split_events(events, jobs):
    parts = split_events(events, jobs)
    assert sum(parts) == events and len(parts) == jobs and max(parts) - min(parts) <= 1


def test_split_errors():
    with pytest.raises(ParameterError, match="jobs = 4 is out of range: must be >= 1 and <= 3"):
        split_events(3, 4)
    with pytest.raises(ParameterError, match="events = 0"):
        split_events(0, 1)


def test_seeds_valid_deterministic_distinct():
    seeds = {derive_seed(s, j, stream="signal") for s in range(20) for j in range(50)}
    assert len(seeds) == 1000  # no collisions among neighbouring (seed, job)
    assert all(1 <= x < PYTHIA_SEED_MAX for x in seeds)
    assert derive_seed(2**32 - 1, 10**6, stream="signal") < PYTHIA_SEED_MAX
    assert derive_seed(1, 0, stream="signal") != derive_seed(1, 0, stream="W_enu")
    with pytest.raises(ParameterError, match="seed = -3"):
        derive_seed(-3, 0, stream="signal")


def test_check_count():
    assert check_count("events", "12") == 12
    assert check_count("events", 12.0) == 12
    with pytest.raises(ParameterError, match="must be an integer, got True"):
        check_count("events", True)
