"""Lifetime reweighting of signal samples: one generated cτ serves a whole αε² scan.

The Z_D proper decay length t (= c·t in mm, branch ``ZD_ctau``) of a sample generated
with mean cτ_gen follows Exp(1/cτ_gen). Weighting each event by the ratio of densities,

    w = (τ_gen/τ_new) · exp(−t (1/τ_new − 1/τ_gen)),

turns it into a sample of mean cτ_new. Generate at the **longest** lifetime of a scan
(smallest αε²) and reweight to shorter ones: then w ≤ τ_gen/τ_new is bounded, while the
other direction has exponentially growing weights in the tail the generated sample
barely populates. Since Γ(Z_D) ∝ αε² at fixed m_ZD,
cτ_new = cτ_gen · αε²_gen / αε²_new (:func:`ctau_for_alpha_eps2`).
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darknu.errors import ParameterError, check_range

log = logging.getLogger(__name__)


def lifetime_weight(
    ctau_mm: ArrayLike, ctau_gen_mm: float, ctau_new_mm: float
) -> NDArray[np.float64]:
    """Per-event weights taking proper decay lengths ``ctau_mm`` from cτ_gen to cτ_new [mm].

    >>> lifetime_weight([0.0, 1.0], 1.0, 1.0).tolist()
    [1.0, 1.0]
    >>> w = lifetime_weight([0.0, 1.0], 1.0, 0.5)   # 2·exp(−t)
    >>> [round(x, 6) for x in w.tolist()]
    [2.0, 0.735759]
    """
    gen = check_range("ctau_gen_mm", ctau_gen_mm, low=0.0, unit="mm")
    new = check_range("ctau_new_mm", ctau_new_mm, low=0.0, unit="mm")
    t = np.asarray(ctau_mm, dtype=np.float64)
    if t.size and (not np.all(np.isfinite(t)) or np.any(t < 0)):
        raise ParameterError("ctau_mm must hold finite proper decay lengths >= 0 mm")
    if new > gen:
        log.debug("reweighting to a longer lifetime (%g > %g mm): weights are unbounded", new, gen)
    return (gen / new) * np.exp(-t * (1.0 / new - 1.0 / gen))


def ctau_for_alpha_eps2(ctau_gen_mm: float, alpha_eps2_gen: float, alpha_eps2_new: float) -> float:
    """cτ [mm] at ``alpha_eps2_new`` given cτ at ``alpha_eps2_gen`` (same m_ZD; Γ ∝ αε²).

    >>> ctau_for_alpha_eps2(0.1, 2e-10, 2e-9)
    0.01
    """
    gen = check_range("ctau_gen_mm", ctau_gen_mm, low=0.0, unit="mm")
    a_gen = check_range("alpha_eps2_gen", alpha_eps2_gen, low=0.0)
    a_new = check_range("alpha_eps2_new", alpha_eps2_new, low=0.0)
    return float(gen * a_gen / a_new)
