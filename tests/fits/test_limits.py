"""fits.limits: expected CLs limits (checked against pyhf), acceptance tests of issue 4, retries."""

from __future__ import annotations

import copy
import math

import pyhf
import pytest
from synthetic import synthetic_hists

from darknu.errors import FitError
from darknu.parallel import ExecutorSpec
from fits.lhc import MEASUREMENT_CONFIG, build_workspace, extract_templates, mass_points
from fits.limits import (
    STRATEGIES,
    _pyhf_fixed_poi_fit,
    batched_fixed_poi_fit,
    build_batched_model,
    expected_limit,
    pyhf_state,
    run_limits,
)
from fits.projections import get_scenario
from fits.window import limit_from_significance


def one_bin(s: float, b: float, *, bkg_syst: float = 0.0) -> pyhf.Workspace:
    """A one-bin counting model with darknu's measurement; optional background normsys."""
    bmods = [{"name": "lhc_bkg", "type": "normsys", "data": {"hi": 1 + bkg_syst, "lo": 1 - bkg_syst}}] if bkg_syst else []
    spec = {
        "version": "1.0.0",
        "channels": [{"name": "lhc_ee_prompt", "samples": [
            {"name": "signal", "data": [s], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
            {"name": "background", "data": [b], "modifiers": bmods},
        ]}],
        "observations": [{"name": "lhc_ee_prompt", "data": [b]}],
        "measurements": [{"name": "darknu", "config": copy.deepcopy(MEASUREMENT_CONFIG)}],
    }
    return pyhf.Workspace(spec)


def _limit(ws: pyhf.Workspace, *, batched: bool = True):
    """Expected limit as run_limits computes it (batched fit engine first, unless told not)."""
    model = ws.model()
    with pyhf_state():
        bm = build_batched_model(ws, model) if batched else None
        return expected_limit(model, ws.data(model), batched_model=bm)


def test_expected_limit_matches_pyhf_upper_limit():
    ws = one_bin(12.0, 50.0, bkg_syst=0.1)
    model = ws.model()
    data = ws.data(model)
    ours = _limit(ws)
    with pyhf_state():
        _, exp = pyhf.infer.intervals.upper_limits.toms748_scan(data, model, 0.0, 10.0, rtol=1e-4)
    ref = [float(x) for x in exp]
    mine = [ours.band_2sigma[0], ours.band_1sigma[0], ours.median, ours.band_1sigma[1], ours.band_2sigma[1]]
    print("pyhf upper_limit:", ref, "\ndarknu expected_limit:", mine)
    for a, b in zip(mine, ref, strict=True):
        assert a == pytest.approx(b, rel=0.01)


def test_signal_injection_recovered():
    h = synthetic_hists([(3.0, 1.0, 2e-10)])
    p = mass_points(h)[0]
    pm = build_workspace(extract_templates(h, p, scenario=get_scenario("run2")), m_ZD=p.m_ZD, point=p)
    model = pm.workspace.model()
    pars = model.config.suggested_init()
    mu_true = 0.05  # |U|^2 = 5e-6: comparable to the expected limit
    pars[model.config.poi_index] = mu_true
    asimov = model.expected_data(pars)
    with pyhf_state():
        best = pyhf.infer.mle.fit(asimov, model)
    mu_hat = float(best[model.config.poi_index])
    print(f"injected mu = {mu_true}, fitted mu_hat = {mu_hat:.5f}")
    assert mu_hat == pytest.approx(mu_true, rel=0.05)


def test_background_dominated_limit_scales_as_inverse_sqrt_lumi():
    s_per_fb, b_per_fb = 0.2, 20.0  # background-dominated: B/S = 100
    lim = {L: _limit(one_bin(s_per_fb * L, b_per_fb * L)).median for L in (150.0, 600.0)}
    ratio = lim[150.0] / lim[600.0]
    print(f"limit(150/fb) = {lim[150.0]:.4g}, limit(600/fb) = {lim[600.0]:.4g}, ratio {ratio:.3f} (1/sqrt(L): 2)")
    assert ratio == pytest.approx(2.0, rel=0.10)


def test_pyhf_and_seed_window_agree_within_factor_two():
    s, b = 10.0, 100.0
    pyhf_mu = _limit(one_bin(s, b)).median
    window_mu = limit_from_significance(s / math.sqrt(b), u2_ref=1.0, s_excl=2.0)
    print(f"one bin S={s}, B={b}: pyhf expected limit mu = {pyhf_mu:.4f}, S/sqrt(B) limit mu = {window_mu:.4f}")
    assert 0.5 < pyhf_mu / window_mu < 2.0


def test_limit_above_poi_bound_is_an_error():
    with pytest.raises(FitError, match="above the POI bound"):
        _limit(one_bin(1e-6, 100.0))


def _flaky_fixed_poi_fit(monkeypatch, fail_calls):
    """Make the conditional fits of both engines (batched and pyhf's) fail at the calls
    numbered in ``fail_calls`` (counted together; None: every call)."""
    import fits.limits

    calls = {"n": 0}

    def flaky(real):
        def fit(*args, **kwargs):
            calls["n"] += 1
            if fail_calls is None or calls["n"] in fail_calls:
                raise pyhf.exceptions.FailedMinimization(type("R", (), {"message": "injected failure"})())
            return real(*args, **kwargs)

        return fit

    monkeypatch.setattr(pyhf.infer.mle, "fixed_poi_fit", flaky(pyhf.infer.mle.fixed_poi_fit))
    monkeypatch.setattr(fits.limits, "batched_fixed_poi_fit", flaky(fits.limits.batched_fixed_poi_fit))
    return calls


def test_failed_fit_is_retried_and_reported(monkeypatch):
    _flaky_fixed_poi_fit(monkeypatch, fail_calls={1})
    lim = _limit(one_bin(10.0, 100.0, bkg_syst=0.1))
    assert lim.strategies_used == (STRATEGIES[1].name,)
    assert lim.median > 0


def test_fit_failing_every_strategy_raises(monkeypatch):
    _flaky_fixed_poi_fit(monkeypatch, fail_calls=None)
    with pytest.raises(FitError, match=r"failed with every strategy: batched-gradient: injected failure; warm-start: injected"):
        _limit(one_bin(10.0, 100.0, bkg_syst=0.1))


def test_run_limits_reports_failed_points(monkeypatch):
    h = synthetic_hists([(3.0, 1.0, 2e-10)])
    _flaky_fixed_poi_fit(monkeypatch, fail_calls=None)
    res = run_limits(h, scenario="run2", executor=ExecutorSpec(kind="iterative")).results
    pyhf_res = [r for r in res if r.method == "pyhf"]
    assert len(pyhf_res) == 7
    assert all(r.status == "failed" and r.limit_u2 is None and "injected" in r.message for r in pyhf_res)
    assert all(r.status == "ok" and r.limit_u2 > 0 for r in res if r.method == "window")


def test_pyhf_state_restored_after_error():
    before = pyhf.get_backend()
    with pytest.raises(RuntimeError), pyhf_state("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-3)):
        raise RuntimeError("boom")
    assert pyhf.get_backend() == before


def test_batched_fit_equals_pyhf_fit():
    """The batched-gradient engine minimises the same −2 log L as pyhf's own fit: on a
    four-channel workspace (29 parameters) at several μ both reach the same minimum."""
    h = synthetic_hists([(3.0, 1.0, 2e-10)])
    p = mass_points(h)[0]
    ws = build_workspace(extract_templates(h, p, scenario=get_scenario("run2")), m_ZD=p.m_ZD, point=p).workspace
    model = ws.model()
    bm = build_batched_model(ws, model)
    data = ws.data(model)
    cfg = model.config
    args = dict(init_pars=cfg.suggested_init(), par_bounds=cfg.suggested_bounds(), fixed_params=cfg.suggested_fixed())
    assert cfg.npars > 20
    for mu in (0.003, 0.01, 0.03):
        _, nll_b = batched_fixed_poi_fit(mu, data, bm, **args)
        _, nll_p = _pyhf_fixed_poi_fit(mu, data, model, **args)
        print(f"mu={mu}: -2lnL batched {nll_b:.8f}, pyhf {nll_p:.8f}")
        # both stop at SLSQP's default tolerance (1e-6 on the objective)
        assert nll_b == pytest.approx(nll_p, abs=2e-5)


def test_batched_engine_gives_pyhf_engine_limits():
    """Limits with the batched engine equal the pyhf-only ones within the root search's rtol."""
    h = synthetic_hists([(3.0, 1.0, 2e-10)])
    p = mass_points(h)[0]
    ws = build_workspace(extract_templates(h, p, scenario=get_scenario("run2")), m_ZD=p.m_ZD, point=p).workspace
    fast, slow = _limit(ws), _limit(ws, batched=False)
    print("batched:", fast.median, fast.band_2sigma, " pyhf:", slow.median, slow.band_2sigma)
    assert fast.strategies_used == () and slow.strategies_used == ()
    for a, b in zip((fast.median, *fast.band_2sigma), (slow.median, *slow.band_2sigma), strict=True):
        assert a == pytest.approx(b, rel=5e-3)
