"""numba kernels over offsets arrays for the exact (index and comparison) parts of Table II.

Only comparisons, copies and sequential additions happen here, so the results are
bit-identical to the numpy/awkward formulations they replace (checked in the tests).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def three_lepton_slots(
    counts: np.ndarray, good: np.ndarray, pt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per event: number of good leptons and the flat indices of the three analysis leptons.

    The good leptons of each event are ordered by descending ``pt`` (ties keep input
    order, as a stable sort of -pT does); three good leptons -> ranks 0, 1, 2; four ->
    ranks 0, 2, 3 (the second-hardest is the lost one); otherwise the indices are 0.
    """
    n_ev = len(counts)
    n_good = np.zeros(n_ev, np.int64)
    take = np.zeros((3, n_ev), np.int64)
    buf = np.empty(4, np.int64)
    start = 0
    for e in range(n_ev):
        c = counts[e]
        k = 0
        for j in range(start, start + c):
            if good[j]:
                if k < 4:
                    # insertion: move past every earlier lepton with pT >= this one's
                    p = pt[j]
                    i = k
                    while i > 0 and pt[buf[i - 1]] < p:
                        buf[i] = buf[i - 1]
                        i -= 1
                    buf[i] = j
                k += 1
        n_good[e] = k
        if k == 3:
            take[0, e], take[1, e], take[2, e] = buf[0], buf[1], buf[2]
        elif k == 4:
            take[0, e], take[1, e], take[2, e] = buf[0], buf[2], buf[3]
        start += c
    return n_good, take


@numba.njit(cache=True, nogil=True)
def segment_sum_selected(
    counts: np.ndarray, values: np.ndarray, selected: np.ndarray
) -> np.ndarray:
    """Per event: sum of ``values`` where ``selected``, added in order in the dtype of
    ``values`` (as ``ak.sum`` does of ``ak.where(selected, values, 0.0)``)."""
    n_ev = len(counts)
    out = np.zeros(n_ev, values.dtype)
    start = 0
    for e in range(n_ev):
        for j in range(start, start + counts[e]):
            if selected[j]:
                out[e] += values[j]
        start += counts[e]
    return out
