"""Lifetime reweighting: unit behaviour and closure against a directly generated sample."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
from scipy import stats

from darknu.errors import ParameterError
from samples.model import SignalPoint, zd_ctau_mm
from samples.reweight import ctau_for_alpha_eps2, lifetime_weight
from samples.signal import generate_buffer


def test_weights_turn_exponential_into_exponential():
    rng = np.random.default_rng(20240601)
    n, gen, new = 200_000, 1.0, 0.3
    t = rng.exponential(gen, n)
    w = lifetime_weight(t, gen, new)
    assert w.max() <= gen / new  # bounded when reweighting to a shorter lifetime
    # E[w] = 1 and E[w t] = tau_new; tolerances from the sample spread of w and w t
    assert abs(w.mean() - 1) < 4 * w.std() / math.sqrt(n)
    assert abs((w * t).mean() - new) < 4 * (w * t).std() / math.sqrt(n)


def test_weight_errors():
    with pytest.raises(ParameterError, match="ctau_gen_mm"):
        lifetime_weight([1.0], 0.0, 1.0)
    with pytest.raises(ParameterError, match="ctau_mm"):
        lifetime_weight([-1.0], 1.0, 1.0)
    assert ctau_for_alpha_eps2(zd_ctau_mm(0.03, 2e-10), 2e-10, 2e-11) == pytest.approx(
        zd_ctau_mm(0.03, 2e-11)
    )


def _lab_displacement_mm(arrays) -> tuple[np.ndarray, np.ndarray]:
    gp = arrays["GenPart"]
    zd_idx = ak.firsts(ak.local_index(gp.pdgId)[gp.pdgId == 4900023])
    dau = ak.firsts(gp[gp.genPartIdxMother == zd_idx])
    pv = arrays["GenVtx"]
    d = 10 * np.sqrt((dau.vx - pv.x) ** 2 + (dau.vy - pv.y) ** 2 + (dau.vz - pv.z) ** 2)
    return ak.to_numpy(ak.drop_none(d)).astype(np.float64), np.asarray(arrays["ZD_ctau"])


def _chi2_pvalue(x_w, w, x_d, edges) -> float:
    """χ² of two normalised histograms (weighted vs unweighted), errors Σw² and N."""
    hw, _ = np.histogram(x_w, edges, weights=w)
    hw2, _ = np.histogram(x_w, edges, weights=w * w)
    hd, _ = np.histogram(x_d, edges)
    sw, nd = w.sum(), len(x_d)
    var = hw2 / sw**2 + hd / nd**2
    ok = var > 0
    chi2 = float(np.sum((hw[ok] / sw - hd[ok] / nd) ** 2 / var[ok]))
    return float(stats.chi2.sf(chi2, int(ok.sum()) - 1))


def test_reweighting_reproduces_direct_generation():
    """Generate at cτ ≈ 1 mm (αε² = 2e-11), reweight to αε² = 6e-11 (cτ ≈ 0.33 mm) and compare
    the lab-frame displacement with a sample generated directly there (χ², fixed seeds)."""
    n = 3000
    long_pt = SignalPoint(m_N=10.0, m_ZD=0.03, alpha_eps2=2e-11)
    short_pt = SignalPoint(m_N=10.0, m_ZD=0.03, alpha_eps2=6e-11)
    ctau_gen, ctau_new = zd_ctau_mm(0.03, 2e-11), zd_ctau_mm(0.03, 6e-11)
    d_gen, t_gen = _lab_displacement_mm(generate_buffer(long_pt, events=n, seed=21)[0].to_arrays())
    d_new, _ = _lab_displacement_mm(generate_buffer(short_pt, events=n, seed=22)[0].to_arrays())
    w = lifetime_weight(t_gen, ctau_gen, ctau_new)
    edges = np.quantile(d_new, np.linspace(0, 1, 16))
    edges[0], edges[-1] = 0.0, max(d_gen.max(), d_new.max()) + 1
    assert _chi2_pvalue(d_gen, w, d_new, edges) > 1e-3
    # the test has power: without the weights the two samples are incompatible
    assert _chi2_pvalue(d_gen, np.ones_like(w), d_new, edges) < 1e-6
