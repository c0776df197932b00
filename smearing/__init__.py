"""Parametrised detector response: electron and muon smearing, efficiencies, acceptance.

The numbers live in ``smearing/data/<scenario>.json`` (correctionlib), generated from the
readable table ``smearing/data/scenarios.toml`` by ``python -m smearing.generate``.
"""

from smearing.response import (
    DetectorModel,
    chunk_rng,
    load_detector,
    scenarios,
    smear_leptons,
    smear_vertex,
)

__all__ = ["DetectorModel", "chunk_rng", "load_detector", "scenarios", "smear_leptons", "smear_vertex"]
