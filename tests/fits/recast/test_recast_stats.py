"""fits.recast.stats: the observed-CLs calculator against pyhf.infer.hypotest."""

from __future__ import annotations

import math

import pyhf
import pytest

from fits.recast.stats import ObservedCLs, _scaled, upper_limit

from ..test_combine import lhc_like  # noqa: TID252  (shared LHC-like workspace builder)


def _counting(s: float, b: float, n_obs: float, syst: float) -> pyhf.Workspace:
    """One-bin counting channel with a background normsys, data ``n_obs`` (darknu §3 names)."""
    from fits.lhc import MEASUREMENT_CONFIG

    return pyhf.Workspace({
        "version": "1.0.0",
        "channels": [{"name": "minerva_le", "samples": [
            {"name": "signal", "data": [s], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
            {"name": "background", "data": [b], "modifiers": [
                {"name": "minerva_le_bkg_norm", "type": "normsys", "data": {"hi": 1 + syst, "lo": 1 / (1 + syst)}}]},
        ]}],
        "observations": [{"name": "minerva_le", "data": [n_obs]}],
        "measurements": [{"name": "darknu", "config": MEASUREMENT_CONFIG}],
    })


@pytest.mark.parametrize("build", [lambda: _counting(40.0, 100.0, 108.0, 0.3),
                                   lambda: _counting(40.0, 100.0, 85.0, 0.3), lhc_like])
def test_observed_cls_equals_pyhf_hypotest(build):
    """Same CLs as pyhf's hypotest (q̃_μ, asymptotics) at several μ, for excesses, deficits
    and a multi-bin LHC-like workspace (differences: the minimiser's tolerance only)."""
    model, data, _, ws = _scaled(build())
    calc = ObservedCLs(model, data, ws)
    for mu in (0.05, 0.2, 0.5, 1.0, 2.0, 5.0):
        ref = float(pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", calctype="asymptotics"))
        got = calc(mu)
        print(f"mu'={mu}: pyhf CLs {ref:.6f}, ObservedCLs {got:.6f}")
        assert got == pytest.approx(ref, abs=2e-4, rel=2e-3)


def test_upper_limit_unchanged_by_fast_cls():
    """The 95% CLs limit from the calculator equals the bracketed root of pyhf's hypotest."""
    from scipy.optimize import brentq

    ws = _counting(40.0, 100.0, 104.0, 0.3)
    ours = upper_limit(ws, cl=0.95)
    model, data, scale, _ = _scaled(ws)
    root = brentq(lambda m: float(pyhf.infer.hypotest(m, data, model, test_stat="qtilde",
                                                       calctype="asymptotics")) - 0.05, 1e-3, 20.0, xtol=1e-6)
    print(f"upper limit mu: ObservedCLs {ours.mu:.6g}, pyhf hypotest root {root * scale:.6g}")
    assert math.isclose(ours.mu, root * scale, rel_tol=2e-3)


def test_observed_cls_does_not_depend_on_call_order():
    """CLs(μ) is a function of μ alone (the root search revisits bracket ends)."""
    model, data, _, ws = _scaled(lhc_like())
    calc = ObservedCLs(model, data, ws)
    first = calc(0.3)
    calc(3.0)
    calc(0.01)
    assert calc(0.3) == first


def test_no_asimov_sensitivity_gives_nan_not_an_exception():
    """q̃_μ,A = 0 while the data's q̃_μ > 0 (a conditional Asimov fit within tolerance of the
    free one at small μ): CLs is NaN as in pyhf (read as CLs = 1), not a ZeroDivisionError."""
    model, data, _, ws = _scaled(_counting(40.0, 100.0, 85.0, 0.3))
    calc = ObservedCLs(model, data, ws)
    calc.nll_hat_a = math.inf  # every Asimov q̃_μ clips to 0
    assert calc.mu_hat < 0.05 and math.isnan(calc(0.05))
    assert math.isnan(calc(1e-6))
