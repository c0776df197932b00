"""Lifetime reweighting: unit behaviour and closure against a directly generated sample."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
from scipy import stats

from darknu.errors import ParameterError
from samples.model import SignalPoint, zd_ctau_mm
from samples.reweight import ctau_for_alpha_eps2, lifetime_weight, mixture_lifetime_weight
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


def test_mixture_weights_turn_a_lifetime_mixture_into_exponential():
    """A sample drawn from f1 Exp(τ1) + f2 Exp(τ2), weighted by mixture_lifetime_weight, has
    E[w] = 1 and E[w t] = τ_new (tolerances from the sample spread), weights ≤ 1/f_k at a
    component's τ, and equals lifetime_weight for one component."""
    rng = np.random.default_rng(20261201)
    n, (t1, f1), (t2, f2) = 200_000, (0.1, 0.25), (10.0, 0.75)
    k = rng.random(n) < f1
    t = np.where(k, rng.exponential(t1, n), rng.exponential(t2, n))
    for new in (0.1, 1.0, 10.0):
        w = mixture_lifetime_weight(t, [(t1, f1), (t2, f2)], new)
        assert abs(w.mean() - 1) < 4 * w.std() / math.sqrt(n), new
        assert abs((w * t).mean() - new) < 4 * (w * t).std() / math.sqrt(n), new
    assert mixture_lifetime_weight(t, [(t1, f1), (t2, f2)], t1).max() <= 1 / f1
    assert mixture_lifetime_weight(t, [(t1, f1), (t2, f2)], t2).max() <= 1 / f2
    np.testing.assert_allclose(mixture_lifetime_weight(t[:100], [(t2, 1.0)], 3.0), lifetime_weight(t[:100], t2, 3.0), rtol=1e-12)
    with pytest.raises(ParameterError, match="sum to 1"):
        mixture_lifetime_weight(t, [(t1, 0.5), (t2, 0.6)], 1.0)
    with pytest.raises(ParameterError, match="ctau_mm"):
        mixture_lifetime_weight([-1.0], [(t1, 1.0)], 1.0)


def test_mixture_reweighting_reproduces_direct_generation():
    """Generate half at αε² = 2e-11 (cτ ≈ 1 mm), half at 2e-10 (0.1 mm), reweight the mixture
    to 6e-11 and compare the lab-frame displacement with a direct sample (χ², fixed seeds);
    the prompt (< 1 mm) fraction has far more MC events than in the single-lifetime sample."""
    n = 1500
    parts = [generate_buffer(SignalPoint(m_N=10.0, m_ZD=0.03, alpha_eps2=a), events=n, seed=s)[0].to_arrays()
             for a, s in ((2e-11, 31), (2e-10, 32))]
    d_parts = [_lab_displacement_mm(p) for p in parts]
    d_mix = np.concatenate([d for d, _ in d_parts])
    t_mix = np.concatenate([t for _, t in d_parts])
    comps = [(zd_ctau_mm(0.03, 2e-11), 0.5), (zd_ctau_mm(0.03, 2e-10), 0.5)]
    w = mixture_lifetime_weight(t_mix, comps, zd_ctau_mm(0.03, 6e-11))
    d_new, _ = _lab_displacement_mm(
        generate_buffer(SignalPoint(m_N=10.0, m_ZD=0.03, alpha_eps2=6e-11), events=2 * n, seed=33)[0].to_arrays()
    )
    edges = np.quantile(d_new, np.linspace(0, 1, 16))
    edges[0], edges[-1] = 0.0, max(d_mix.max(), d_new.max()) + 1
    assert _chi2_pvalue(d_mix, w, d_new, edges) > 1e-3
    assert _chi2_pvalue(d_mix, np.ones_like(w), d_new, edges) < 1e-6  # the test has power
    # prompt MC statistics: the mixture vs all 2n events at the longest lifetime
    n_prompt_mix = int(np.sum(d_mix < 1.0))
    n_prompt_long = int(np.sum(d_parts[0][0] < 1.0)) * 2  # scaled to 2n events
    print(f"MC events below 1 mm: mixture {n_prompt_mix}, single sample at 2e-11 (x2) {n_prompt_long}")
    assert n_prompt_mix > 3 * max(n_prompt_long, 1)
