"""fits.window: the seed's S/sqrt(B) window and displaced criteria."""

from __future__ import annotations

import numpy as np
import pytest

from darknu.errors import ParameterError
from fits.window import best_window, combine_significances, displaced_limit, limit_from_significance


def test_window_respects_min_background():
    edges = np.linspace(0.0, 1.0, 101)
    sig = np.zeros(100)
    sig[50] = 10.0
    bkg = np.full(100, 1.0)  # 1 event per bin: a single bin is below the 10-event floor
    w = best_window(edges, sig, bkg, min_width=0.0, max_width=0.5, min_background=10.0)
    assert w is not None and w.background >= 10.0
    assert w.lo_GeV <= 0.50 < w.hi_GeV
    assert w.significance == pytest.approx(10.0 / np.sqrt(10.0))


def test_window_none_when_background_too_small():
    edges = np.linspace(0.0, 1.0, 11)
    assert best_window(edges, np.ones(10), np.full(10, 0.1), min_width=0.1, max_width=1.0) is None


def test_window_width_limits():
    edges = np.linspace(0.0, 1.0, 101)
    sig = np.exp(-0.5 * ((np.arange(100) - 50) / 10.0) ** 2)
    bkg = np.full(100, 50.0)
    w = best_window(edges, sig, bkg, min_width=0.0, max_width=0.05, min_background=10.0)
    assert w.hi_GeV - w.lo_GeV <= 0.05 + 1e-9


def test_limits_and_combination():
    assert limit_from_significance(1.0, u2_ref=1e-4) == pytest.approx(2e-4)
    assert combine_significances([1.0, 1.0]) == pytest.approx(np.sqrt(2))
    assert displaced_limit(100.0, u2_ref=1e-4, required_events=50.0) == pytest.approx(5e-5)
    with pytest.raises(ParameterError, match="displaced signal yield must be > 0"):
        displaced_limit(0.0, u2_ref=1e-4)
    with pytest.raises(ParameterError, match="shapes disagree"):
        best_window(np.arange(3.0), np.ones(3), np.ones(3), min_width=0, max_width=1)
