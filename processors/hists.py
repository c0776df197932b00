"""Histogram definitions of the processor output (docs/interfaces.md §2)."""

from __future__ import annotations

import hist
import numba
import numpy as np

CHANNELS = ("ee", "mumu")
REGIONS = ("prompt", "displaced")
SYSTS = ("nominal", "res_up", "res_down", "eff_up", "eff_down")
STAGES = ("preselection", "signal_region")

#: m_ll binning: log-spaced from 5 MeV to 15 GeV with 0.4 % wide bins, so a 1 % peak
#: (sigma) spans ~5 bins at any mass from 10 MeV to 10 GeV (interfaces §2: <= 0.5 %).
MLL_MIN_GEV = 0.005
MLL_MAX_GEV = 15.0
MLL_REL_WIDTH = 0.004
MLL_EDGES = np.geomspace(
    MLL_MIN_GEV,
    MLL_MAX_GEV,
    int(np.ceil(np.log(MLL_MAX_GEV / MLL_MIN_GEV) / np.log1p(MLL_REL_WIDTH))) + 1,
)

#: Control distributions of seed 003 Figs. 3-5: name -> (axis label, edges).
CONTROL_BINS: dict[str, tuple[str, np.ndarray]] = {
    "pt1": (r"$p_T(\ell_1)$ [GeV]", np.linspace(0, 100, 51)),
    "pt2": (r"$p_T(\ell_2)$ [GeV]", np.linspace(0, 60, 61)),
    "pt3": (r"$p_T(\ell_3)$ [GeV]", np.linspace(0, 30, 61)),
    "dphi": (r"$\Delta\phi(\ell_1, Z_D)$", np.linspace(0, np.pi, 64)),
    "dr": (r"$\Delta R(\ell_1, Z_D)$", np.linspace(0, 6, 61)),
    "m3l": (r"$m(\ell_1\ell_2\ell_3)$ [GeV]", np.linspace(0, 150, 76)),
    "pt3l": (r"$p_T(\ell_1\ell_2\ell_3)$ [GeV]", np.linspace(0, 100, 51)),
    "mll": (r"$m_{\ell\ell}$ [GeV]", np.geomspace(0.005, 15, 61)),
    "displacement": ("Z_D vertex displacement [mm]", np.geomspace(1e-3, 1e4, 71)),
}


def new_mll_hist() -> hist.Hist:
    """Empty m_ll histogram: channel x region x syst x mll [GeV], Weight storage."""
    return hist.Hist(
        hist.axis.StrCategory(list(CHANNELS), name="channel"),
        hist.axis.StrCategory(list(REGIONS), name="region"),
        hist.axis.StrCategory(list(SYSTS), name="syst"),
        hist.axis.Variable(MLL_EDGES, name="mll", label=r"$m_{\ell\ell}$ [GeV]"),
        storage=hist.storage.Weight(),
    )


def new_control_hist(name: str) -> hist.Hist:
    """Empty control histogram ``name``: channel x stage x variable, Weight storage."""
    label, edges = CONTROL_BINS[name]
    return hist.Hist(
        hist.axis.StrCategory(list(CHANNELS), name="channel"),
        hist.axis.StrCategory(list(STAGES), name="stage"),
        hist.axis.Variable(edges, name=name, label=label),
        storage=hist.storage.Weight(),
    )


def flow_index(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of ``x`` in a flow view of a Variable axis with ``edges`` (boost-histogram's rule).

    0 is the underflow, ``len(edges)`` the overflow (also for NaN and the last edge itself):

    >>> flow_index(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 0.0, 1.5, 2.0, np.nan])).tolist()
    [0, 1, 2, 3, 3]

    Same result as ``np.searchsorted(edges, x, side="right")`` (for increasing ``edges``),
    found from a guess on a linear or logarithmic grid, then corrected by comparisons
    with the edges themselves (exact whatever the spacing; fast when it is regular).
    """
    edges = np.ascontiguousarray(edges, dtype=np.float64)
    x = np.asarray(x)
    if len(edges) < 2 or x.dtype != np.float64 or x.ndim != 1 or not np.all(np.diff(edges) > 0):
        return np.searchsorted(edges, x, side="right")
    n = len(edges) - 1
    log_mode = bool(edges[0] > 0)
    if log_mode:
        lo, span = np.log(edges[0]), np.log(edges[-1]) - np.log(edges[0])
    else:
        lo, span = edges[0], edges[-1] - edges[0]
    return _flow_index_kernel(edges, np.ascontiguousarray(x), lo, n / span, log_mode)


@numba.njit(cache=True, nogil=True)
def _flow_index_kernel(edges, x, lo, inv_step, log_mode):  # type: ignore[no-untyped-def]
    n = len(edges)
    out = np.empty(len(x), np.int64)
    first, last = edges[0], edges[n - 1]
    for k in range(len(x)):
        v = x[k]
        if v < first:
            out[k] = 0
            continue
        if not (v < last):  # the last edge, above, or NaN: overflow
            out[k] = n
            continue
        t = (np.log(v) - lo) if log_mode else (v - lo)
        g = int(t * inv_step) + 1 if t * inv_step < n else n - 1
        g = min(max(g, 1), n - 1)
        while g > 1 and v < edges[g - 1]:
            g -= 1
        while g < n - 1 and v >= edges[g]:
            g += 1
        out[k] = g  # edges[g - 1] <= v < edges[g]
    return out


def fill_at(
    h: hist.Hist,
    categories: dict[str, str],
    x: np.ndarray,
    weight: np.ndarray,
    *,
    index: np.ndarray | None = None,
) -> None:
    """``h.fill(**categories, <last axis>=x, weight=weight)`` for a Weight-storage hist
    whose last axis is Variable, from a precomputed ``index = flow_index(edges, x)``.

    Bit-identical to ``h.fill``: boost-histogram adds the weights (and their squares) one
    by one in input order, as ``np.bincount`` does, and an empty slice starts from 0. A
    slice that already holds entries is filled with ``h.fill`` itself (same order of sums).
    Reusing one ``index`` for several weights or a subset of entries saves the bin search.
    """
    if len(x) == 0:
        return
    loc = tuple(h.axes[name].index(value) for name, value in categories.items())
    view = h.view(flow=True)[loc]
    if index is None or np.any(view["value"]) or np.any(view["variance"]):
        h.fill(**categories, **{h.axes[-1].name: x}, weight=weight)
        return
    n = view.shape[-1]
    weight = np.asarray(weight, dtype=np.float64)
    view["value"] = np.bincount(index, weights=weight, minlength=n)
    view["variance"] = np.bincount(index, weights=weight * weight, minlength=n)
