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
from collections.abc import Sequence

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


def mixture_lifetime_weight(
    ctau_mm: ArrayLike, components: Sequence[tuple[float, float]], ctau_new_mm: float
) -> NDArray[np.float64]:
    """Weights taking a *mixture* of lifetimes to cτ_new [mm].

    ``components`` = [(cτ_k [mm], f_k)]: the sample is the union of sub-samples generated
    with mean cτ_k, f_k the fraction of its summed generator weight in sub-sample k (Σ f_k
    = 1), so its proper decay lengths follow p_mix(t) = Σ_k f_k e^(−t/τ_k)/τ_k. The weight
    is the density ratio w = p_new(t)/p_mix(t) (the balance heuristic of multiple
    importance sampling, Veach & Guibas 1995). For cτ_new equal to one of the cτ_k it is
    bounded by 1/f_k, and every lifetime of the mixture is populated directly: an αε²
    scan generated as a mixture over its values has MC statistics at every value, where
    one sample at the longest lifetime has almost no prompt decays (issue notes). With one
    component it is :func:`lifetime_weight`.

    >>> w = mixture_lifetime_weight([0.0, 1.0], [(1.0, 1.0)], 0.5)
    >>> [round(x, 6) for x in w.tolist()]
    [2.0, 0.735759]
    >>> w = mixture_lifetime_weight([0.0, 50.0], [(0.1, 0.5), (10.0, 0.5)], 0.1)
    >>> [round(x, 4) for x in w.tolist()]   # short decays: ~1/f; far tail: ~0
    [1.9802, 0.0]
    """
    new = check_range("ctau_new_mm", ctau_new_mm, low=0.0, unit="mm")
    if not components:
        raise ParameterError("mixture_lifetime_weight needs at least one (ctau_mm, fraction) component")
    taus = np.array([check_range("ctau_k_mm", c, low=0.0, unit="mm") for c, _ in components])
    fr = np.array([float(f) for _, f in components], dtype=np.float64)
    if np.any(~np.isfinite(fr)) or np.any(fr <= 0) or abs(fr.sum() - 1.0) > 1e-9:
        raise ParameterError(f"mixture fractions must be > 0 and sum to 1, got {fr.tolist()}")
    t = np.asarray(ctau_mm, dtype=np.float64)
    if t.size and (not np.all(np.isfinite(t)) or np.any(t < 0)):
        raise ParameterError("ctau_mm must hold finite proper decay lengths >= 0 mm")
    if new > taus.max() or new < taus.min():
        log.debug("reweighting outside the mixture's lifetimes (%g mm not in [%g, %g])", new, taus.min(), taus.max())
    # log p_mix - log p_new, summed stably (the terms underflow for t >> tau_k)
    log_terms = np.log(fr)[:, None] - np.log(taus / new)[:, None] - np.outer(1.0 / taus - 1.0 / new, t)
    return np.exp(-np.logaddexp.reduce(log_terms, axis=0)).reshape(t.shape)


def ctau_for_alpha_eps2(ctau_gen_mm: float, alpha_eps2_gen: float, alpha_eps2_new: float) -> float:
    """cτ [mm] at ``alpha_eps2_new`` given cτ at ``alpha_eps2_gen`` (same m_ZD; Γ ∝ αε²).

    >>> ctau_for_alpha_eps2(0.1, 2e-10, 2e-9)
    0.01
    """
    gen = check_range("ctau_gen_mm", ctau_gen_mm, low=0.0, unit="mm")
    a_gen = check_range("alpha_eps2_gen", alpha_eps2_gen, low=0.0)
    a_new = check_range("alpha_eps2_new", alpha_eps2_new, low=0.0)
    return float(gen * a_gen / a_new)
