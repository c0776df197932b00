"""The seed's cross-check: S/√B in the significance-maximising m_ℓℓ window, and the displaced count.

Seed 003 §V B: for each mass point and channel the m_ℓℓ window (a contiguous range of
bins, width within the flavour's allowed range, e.g. 10–500 MeV for ee and 3–100 MeV for
μμ) that maximises S = N_S/√N_B is chosen, no window holding fewer than 10 background
events being allowed. A point is excluded at S > S_excl = 2; since N_S ∝ |U_μ4|²,
|U_μ4|²_excl = (S_excl/S_ref)·|U_μ4,ref|². Channels combine as S² = Σ S_i².

Seed 003 §V C: the displaced analysis is taken as background-free and excluded when at
least 50 signal events pass the kinematic selection, |U|²_excl = (50/N_ref)·|U_ref|².

>>> import numpy as np
>>> edges = np.linspace(0.0, 1.0, 11)
>>> sig = np.array([0, 0, 0, 1.0, 8.0, 1.0, 0, 0, 0, 0])
>>> bkg = np.full(10, 25.0)
>>> w = best_window(edges, sig, bkg, min_width=0.05, max_width=0.35, min_background=10.0)
>>> (round(w.lo_GeV, 2), round(w.hi_GeV, 2), round(w.significance, 3))
(0.4, 0.5, 1.6)
>>> round(limit_from_significance(w.significance, u2_ref=1e-4, s_excl=2.0), 6)
0.000125
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from darknu.errors import ParameterError


class WindowChoice(NamedTuple):
    """The chosen m_ℓℓ window [GeV], its signal and background events, and S/√B."""

    lo_GeV: float
    hi_GeV: float
    signal: float
    background: float
    significance: float


def best_window(
    edges: np.ndarray,
    signal: np.ndarray,
    background: np.ndarray,
    *,
    min_width: float,
    max_width: float,
    min_background: float = 10.0,
) -> WindowChoice | None:
    """The contiguous bin range maximising S/√B with width in [min_width, max_width] GeV.

    Windows with fewer than ``min_background`` background events are not allowed; returns
    ``None`` when no window qualifies (the caller reports that status). A window narrower
    than ``min_width`` is widened to the narrowest bin range reaching it.
    """
    edges = np.asarray(edges, dtype=float)
    s = np.asarray(signal, dtype=float)
    b = np.asarray(background, dtype=float)
    if not (s.shape == b.shape and edges.shape == (s.size + 1,)):
        raise ParameterError(
            f"best_window: shapes disagree (edges {edges.shape}, signal {s.shape}, "
            f"background {b.shape}); need n+1 edges for n bins"
        )
    if min_width > max_width:
        raise ParameterError(f"min_width {min_width} GeV > max_width {max_width} GeV")
    cs = np.concatenate([[0.0], np.cumsum(s)])
    cb = np.concatenate([[0.0], np.cumsum(b)])
    best: WindowChoice | None = None
    n = s.size
    for i in range(n):
        if s[i] <= 0:  # an optimal window never starts on an empty signal bin
            continue
        # j: exclusive end index; width = edges[j] - edges[i]
        j_lo = int(np.searchsorted(edges, edges[i] + min_width - 1e-12, side="left"))
        j_hi = int(np.searchsorted(edges, edges[i] + max_width + 1e-12, side="right")) - 1
        j_lo = max(j_lo, i + 1)
        j_hi = min(j_hi, n)
        if j_hi < j_lo:
            continue
        js = np.arange(j_lo, j_hi + 1)
        bb = cb[js] - cb[i]
        ss = cs[js] - cs[i]
        ok = bb >= min_background
        if not ok.any():
            continue
        sig = np.where(ok, ss / np.sqrt(np.where(ok, bb, 1.0)), -np.inf)
        k = int(np.argmax(sig))
        if best is None or sig[k] > best.significance:
            j = int(js[k])
            best = WindowChoice(float(edges[i]), float(edges[j]), float(ss[k]), float(bb[k]), float(sig[k]))
    return best


def limit_from_significance(significance: float, *, u2_ref: float, s_excl: float = 2.0) -> float:
    """|U_μ4|² excluded at S = ``s_excl`` when the reference coupling gives ``significance``.

    >>> limit_from_significance(4.0, u2_ref=1e-4)
    5e-05
    """
    if not significance > 0 or not math.isfinite(significance):
        raise ParameterError(f"significance must be a positive finite number, got {significance}")
    return s_excl / significance * u2_ref


def combine_significances(values: list[float]) -> float:
    """Channels added in quadrature (seed 003 §VI).

    >>> combine_significances([3.0, 4.0])
    5.0
    """
    return float(math.sqrt(sum(v * v for v in values)))


def displaced_limit(
    n_signal_ref: float, *, u2_ref: float, required_events: float = 50.0
) -> float:
    """|U_μ4|² at which ``required_events`` signal events pass (seed 003 §V C).

    >>> displaced_limit(500.0, u2_ref=1e-4)
    1e-05
    """
    if not n_signal_ref > 0 or not math.isfinite(n_signal_ref):
        raise ParameterError(f"displaced signal yield must be > 0 events, got {n_signal_ref}")
    return required_events / n_signal_ref * u2_ref
