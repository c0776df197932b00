"""Coffea processors: read NanoAOD-like files, smear, select and fill m_ll histograms.

``run_processor`` is imported lazily, so ``processors.histio`` (used by ``fits``) does not
pull in coffea.
"""

from typing import Any

__all__ = ["run_processor"]


def __getattr__(name: str) -> Any:
    if name == "run_processor":
        from processors.run import run_processor

        return run_processor
    raise AttributeError(f"module 'processors' has no attribute {name!r}")
