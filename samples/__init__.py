"""Event generation: Pythia 8 signal and background samples written as NanoAOD-like ROOT files.

Public API: :func:`generate_signal` (``samples.signal``), the model physics in
``samples.model``, the writer in ``samples.nanoaod``, fileset handling in
``samples.fileset`` and lifetime reweighting in ``samples.reweight``. Backgrounds live in
``samples.background`` (``PROCESSES`` is re-exported from there when it exists).
Pythia itself is imported only when events are generated.
"""

from __future__ import annotations

from typing import Any

from samples.signal import generate_signal

__all__ = ["generate_signal", "PROCESSES"]


def __getattr__(name: str) -> Any:
    if name == "PROCESSES":
        from samples import background

        return background.PROCESSES
    raise AttributeError(f"module 'samples' has no attribute {name!r}")
