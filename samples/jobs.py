"""Splitting a generation request into reproducible jobs and deriving their random seeds.

A job is identified by ``(seed, job)``; its random stream depends on nothing else (not on
the number of jobs running, the executor or the machine), so any job can be rerun or
resumed alone and gives identical events.
"""

from __future__ import annotations

import hashlib

from darknu.errors import ParameterError

#: Pythia 8 accepts ``Random:seed`` in [0, 900 000 000] (0 = time-based, so excluded).
PYTHIA_SEED_MAX = 900_000_000
#: Largest user seed (it becomes the ``run`` number, a uint32 in NanoAOD).
SEED_MAX = 2**32 - 1


def check_count(name: str, value: object, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high], else raise :class:`ParameterError`.

    >>> check_count("events", 10)
    10
    >>> check_count("events", 2.5)
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: events must be an integer, got 2.5
    """
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    ):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise ParameterError(f"{name} must be an integer, got {value!r}")
    n = int(value)  # type: ignore[arg-type]
    if n < low or (high is not None and n > high):
        hi = f" and <= {high}" if high is not None else ""
        raise ParameterError(f"{name} = {n} is out of range: must be >= {low}{hi}")
    return n


def split_events(events: int, jobs: int) -> list[int]:
    """Events per job: as equal as possible, the first ones take the remainder.

    >>> split_events(10, 3)
    [4, 3, 3]
    """
    events = check_count("events", events)
    jobs = check_count("jobs", jobs, high=events)
    base, rest = divmod(events, jobs)
    return [base + (1 if j < rest else 0) for j in range(jobs)]


def derive_seed(seed: int, job: int, *, stream: str) -> int:
    """Pythia ``Random:seed`` for job ``job`` of a run seeded ``seed``: in [1, 9e8).

    A hash of (stream, seed, job), so different streams (signal, each background) and
    neighbouring seeds give unrelated sequences.

    >>> derive_seed(1, 0, stream="signal") == derive_seed(1, 0, stream="signal")
    True
    >>> derive_seed(1, 0, stream="signal") != derive_seed(1, 1, stream="signal")
    True
    """
    seed = check_count("seed", seed, low=0, high=SEED_MAX)
    job = check_count("job", job, low=0)
    digest = hashlib.sha256(f"darknu:{stream}:{seed}:{job}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "little") % (PYTHIA_SEED_MAX - 1)
