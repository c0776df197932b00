"""Histogram definitions of the processor output (docs/interfaces.md §2).

During a run the histogram contents travel as :class:`FlowCounts` (plain arrays, filled
from one bin search per variable, :func:`flow_index`); ``processors.run.run_processor``
turns the merged contents into ``hist.Hist`` objects at the end.
"""

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
    grid = _grid(edges, x)
    if grid is None:
        return np.searchsorted(edges, x, side="right")
    return _flow_index_kernel(edges, np.ascontiguousarray(x), *grid)


def _grid(edges: np.ndarray, x: np.ndarray) -> tuple[float, float, bool] | None:
    """(origin, inverse step, log spacing) of the guess grid of :func:`flow_index`, or None
    when the numba search does not apply (non-float64 or multi-dimensional ``x``, edges
    not increasing)."""
    if len(edges) < 2 or x.dtype != np.float64 or x.ndim != 1 or not np.all(np.diff(edges) > 0):
        return None
    n = len(edges) - 1
    log_mode = bool(edges[0] > 0)
    if log_mode:
        lo, span = np.log(edges[0]), np.log(edges[-1]) - np.log(edges[0])
    else:
        lo, span = edges[0], edges[-1] - edges[0]
    return lo, n / span, log_mode


@numba.njit(cache=True, nogil=True)
def _bin(edges, v, lo, inv_step, log_mode):  # type: ignore[no-untyped-def]
    """Flow index of one value (see :func:`flow_index`)."""
    n = len(edges)
    if v < edges[0]:
        return 0
    if not (v < edges[n - 1]):  # the last edge, above, or NaN: overflow
        return n
    t = (np.log(v) - lo) if log_mode else (v - lo)
    g = int(t * inv_step) + 1 if t * inv_step < n else n - 1
    g = min(max(g, 1), n - 1)
    while g > 1 and v < edges[g - 1]:
        g -= 1
    while g < n - 1 and v >= edges[g]:
        g += 1
    return g  # edges[g - 1] <= v < edges[g]


@numba.njit(cache=True, nogil=True)
def _flow_index_kernel(edges, x, lo, inv_step, log_mode):  # type: ignore[no-untyped-def]
    out = np.empty(len(x), np.int64)
    for k in range(len(x)):
        out[k] = _bin(edges, x[k], lo, inv_step, log_mode)
    return out


def _category_axes(kind: str) -> dict[str, tuple[str, ...]]:
    """Category axes of a histogram kind, in axis order: ``"mll"`` (:func:`new_mll_hist`)
    or ``"control/<name>"`` (:func:`new_control_hist` of a CONTROL_BINS name)."""
    if kind == "mll":
        return {"channel": CHANNELS, "region": REGIONS, "syst": SYSTS}
    if kind.removeprefix("control/") not in CONTROL_BINS or not kind.startswith("control/"):
        raise KeyError(f"unknown histogram kind {kind!r}")
    return {"channel": CHANNELS, "stage": STAGES}


def _edges(kind: str) -> np.ndarray:
    return MLL_EDGES if kind == "mll" else CONTROL_BINS[kind.removeprefix("control/")][1]


class FlowCounts:
    """The contents of one Weight-storage histogram of the processor while a run goes on.

    ``kind``: ``"mll"`` or ``"control/<name>"`` (a CONTROL_BINS name).

    ``data[k, <category indices>, bin]``: k = 0 the sum of weights, k = 1 the sum of squared
    weights, per bin of the flow view (underflow, bins, overflow) of every category slice.
    A plain float64 array is much cheaper than a ``hist.Hist`` to create, fill, pickle and
    add per chunk; :meth:`to_hist` gives the histogram at the end. Bit-identical to filling
    and adding ``hist.Hist`` objects (tests/processors/test_hists.py): :meth:`fill` adds
    each weight and its square to its bin one by one in input order, as boost-histogram
    does (and ``np.bincount``, ``np.add.at``), and ``+`` adds the arrays elementwise, as
    the storages add. The category overflow bins
    of the ``hist.Hist`` stay empty (nothing is filled outside the named categories).
    """

    __slots__ = ("kind", "data")

    def __init__(self, kind: str, data: np.ndarray | None = None) -> None:
        shape = (2, *(len(v) for v in _category_axes(kind).values()), len(_edges(kind)) + 1)
        if data is None:
            data = np.zeros(shape)
        elif data.shape != shape:
            raise ValueError(f"{kind}: contents of shape {data.shape}, expected {shape}")
        self.kind, self.data = kind, data

    def fill(
        self,
        categories: dict[str, str],
        index: np.ndarray,
        weight: np.ndarray,
        group: np.ndarray | None = None,
    ) -> None:
        """``h.fill(**categories, <variable>=x, weight=weight)`` given ``index =
        flow_index(edges, x)`` (several weights or subsets can share one bin search).

        ``group``: per entry, the generated event it is a copy of (consecutive entries
        with equal values are copies of one event, as in the forced-splitting background
        files' ``genEventGroup``). Copies are correlated: the variance of a bin gets
        (Σ of the group's weights in that bin)² per group instead of Σ w². ``None``: every
        entry its own event (plain Σ w², as ``hist``)."""
        loc = tuple(vals.index(categories[ax]) for ax, vals in _category_axes(self.kind).items())
        if len(index) == 0:
            return
        w = np.ascontiguousarray(weight, dtype=np.float64)
        index = np.ascontiguousarray(index, dtype=np.int64)
        if w.shape != index.shape:
            raise ValueError(f"{len(index)} bin indices but {len(w)} weights")
        if group is None:
            _add_weights(self.data[(0, *loc)], self.data[(1, *loc)], index, w)
            return
        one = np.ones((1, len(index)), np.bool_)
        view = self.data[(slice(None), *loc)][:, None, :]  # (2, 1 slice, bins), a view
        _add_grouped(view, np.zeros(1, np.int64), index, one, w.reshape(1, -1),
                     _check_group(group, len(index)))

    def fill_masked(
        self,
        x: np.ndarray,
        targets: list[tuple[dict[str, str], np.ndarray, np.ndarray]],
        group: np.ndarray | None = None,
    ) -> None:
        """For each ``(categories, mask, weight)`` of ``targets``:
        ``fill(categories, flow_index(edges, x[mask]), weight[mask], group[mask])``, in
        one numba pass over ``x`` with one bin search per entry (the same bins, and the
        same additions in the same order per slice, without temporaries)."""
        edges = _edges(self.kind)
        x = np.asarray(x)
        grid = _grid(edges, x)
        if group is not None:
            group = _check_group(group, len(x))
        if grid is None or any(
            np.shape(m) != x.shape or np.shape(w) != x.shape for _, m, w in targets
        ):
            for cats, m, w in targets:
                m = np.asarray(m, dtype=bool)
                self.fill(cats, flow_index(edges, x[m]), np.asarray(w)[m],
                          None if group is None else group[m])
            return
        axes = _category_axes(self.kind)
        if not self.data.flags.c_contiguous:
            self.data = np.ascontiguousarray(self.data)
        flat = self.data.reshape(2, -1, self.data.shape[-1])  # a view: (k, slice, bin)
        slices = np.array([
            np.ravel_multi_index(
                tuple(vals.index(cats[ax]) for ax, vals in axes.items()),
                tuple(len(v) for v in axes.values()),
            )
            for cats, _, _ in targets
        ], dtype=np.int64)
        masks = np.stack([np.asarray(m, dtype=bool) for _, m, _ in targets])
        weights = np.stack([np.asarray(w, dtype=np.float64) for _, _, w in targets])
        x = np.ascontiguousarray(x)
        if group is None:
            _add_masked(flat, slices, edges, x, masks, weights, *grid)
        else:
            index = _flow_index_kernel(edges, x, *grid)
            _add_grouped(flat, slices, index, masks, weights, group)

    def copy(self) -> FlowCounts:
        return FlowCounts(self.kind, self.data.copy())

    def __add__(self, other: FlowCounts) -> FlowCounts:
        if not isinstance(other, FlowCounts) or other.kind != self.kind:
            return NotImplemented
        return FlowCounts(self.kind, self.data + other.data)

    def to_hist(self) -> hist.Hist:
        """The ``hist.Hist`` with these contents (``new_mll_hist``/``new_control_hist``)."""
        h = (
            new_mll_hist()
            if self.kind == "mll"
            else new_control_hist(self.kind.removeprefix("control/"))
        )
        view = h.view(flow=True)
        inner = tuple(slice(0, len(v)) for v in _category_axes(self.kind).values())
        view["value"][inner] = self.data[0]
        view["variance"][inner] = self.data[1]
        return h

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (FlowCounts, (self.kind, self.data))

    def __repr__(self) -> str:
        return f"FlowCounts({self.kind!r}, sum of weights {self.data[0].sum():g})"


def _check_group(group: np.ndarray, n: int) -> np.ndarray:
    g = np.ascontiguousarray(group, dtype=np.int64)
    if g.shape != (n,):
        raise ValueError(f"{n} entries but {len(g)} event-group ids")
    return g


@numba.njit(cache=True, nogil=True)
def _add_grouped(data, slices, index, masks, weights, group):  # type: ignore[no-untyped-def]
    """For each entry k in order and each target t with masks[t, k]: bin index[k] of slice
    slices[t] gets weights[t, k] (data[0]); data[1] gets, per run of consecutive entries
    with equal ``group`` and per (target, bin), the square of the run's summed weight.
    With every group distinct this is Σ w² with the additions of :func:`_add_masked`."""
    n_t = len(slices)
    nb = data.shape[2]
    part = np.zeros((n_t, nb))
    used = np.zeros((n_t, nb), np.bool_)
    tt = np.empty(n_t * nb, np.int64)
    tb = np.empty(n_t * nb, np.int64)
    nu = 0
    cur = group[0] if len(group) else 0
    for k in range(len(index)):
        if group[k] != cur:
            for u in range(nu):
                t, b = tt[u], tb[u]
                s = part[t, b]
                data[1, slices[t], b] += s * s
                part[t, b] = 0.0
                used[t, b] = False
            nu = 0
            cur = group[k]
        j = index[k]
        if j < 0 or j >= nb:
            raise IndexError("bin index out of range")
        for t in range(n_t):
            if masks[t, k]:
                w = weights[t, k]
                data[0, slices[t], j] += w
                if not used[t, j]:
                    used[t, j] = True
                    tt[nu] = t
                    tb[nu] = j
                    nu += 1
                part[t, j] += w
    for u in range(nu):
        t, b = tt[u], tb[u]
        s = part[t, b]
        data[1, slices[t], b] += s * s


@numba.njit(cache=True, nogil=True)
def _add_weights(value, variance, index, weight):  # type: ignore[no-untyped-def]
    """value[index[i]] += w[i] and variance[index[i]] += w[i] * w[i], in input order."""
    n = len(value)
    for i in range(len(index)):
        j = index[i]
        if j < 0 or j >= n:
            raise IndexError("bin index out of range")
        w = weight[i]
        value[j] += w
        variance[j] += w * w


@numba.njit(cache=True, nogil=True)
def _add_masked(  # type: ignore[no-untyped-def]
    data, slices, edges, x, masks, weights, lo, inv_step, log_mode
):
    """For each entry k in order, and each target t with masks[t, k]: the bin of x[k] in
    slice slices[t] gets weights[t, k] (data[0]) and its square (data[1])."""
    n_t = len(slices)
    for k in range(len(x)):
        j = -1
        for t in range(n_t):
            if masks[t, k]:
                if j < 0:
                    j = _bin(edges, x[k], lo, inv_step, log_mode)
                w = weights[t, k]
                data[0, slices[t], j] += w
                data[1, slices[t], j] += w * w
