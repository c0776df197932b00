"""Widths and decay lengths of the recast model (spec §1), and the DarkNews width discrepancy."""

import math

import numpy as np
import pytest

from darknu.errors import ParameterError
from fits.recast.model import (
    HBARC_GEV_MM,
    REFERENCE,
    Couplings,
    ctau_n_mm,
    ctau_zd_mm,
    rate_scale,
    width_n_to_nu_zd,
)


def test_zd_ctau_matches_spec_check():
    # spec §1: m = 30 MeV, αε² = 2e-10 gives cτ ≈ 0.1 mm
    assert ctau_zd_mm(0.03, alpha_eps2=2e-10) == pytest.approx(0.0987, rel=2e-3)


def test_n_width_limits():
    # r → 0: Γ → |V|² m_N³/(32π m_Z²); at r → 1 it vanishes
    g = width_n_to_nu_zd(10.0, 0.001, U2=1e-4, alpha_D=0.25)
    assert g == pytest.approx(math.pi * 1e-4 * 1e3 / (32 * math.pi * 1e-6), rel=1e-6)
    assert width_n_to_nu_zd(0.0301, 0.03, U2=1e-4, alpha_D=0.25) < 1e-6 * width_n_to_nu_zd(0.3, 0.03, U2=1e-4, alpha_D=0.25)
    with pytest.raises(ParameterError, match="m_N > m_ZD"):
        width_n_to_nu_zd(0.02, 0.03, U2=1e-4, alpha_D=0.25)


def test_n_decay_is_prompt_at_benchmark():
    # N_D decays within microns even at |U|² = 1e-9: cτ < 0.1 mm at every recast mass point
    for m in (0.1, 0.2, 0.4):
        assert ctau_n_mm(m, 0.03, U2=1e-9, alpha_D=0.25) < 0.1


def test_darknews_width_differs_by_mass_ratio_squared():
    """DarkNews 0.4.8 gamma_Ni_to_Nj_V is smaller than the analytic width by exactly (m_N/m_Z)² (spec §1)."""
    from DarkNews.decay_rates import gamma_Ni_to_Nj_V

    for m_N in (0.1, 0.2, 0.4):
        m_Z = 0.03
        v = math.sqrt(4 * math.pi * 0.25 * 1e-4)
        theirs = float(gamma_Ni_to_Nj_V(v, m_N, 0.0, m_Z, HNLtype="dirac"))
        ours = width_n_to_nu_zd(m_N, m_Z, U2=1e-4, alpha_D=0.25)
        assert ours / theirs == pytest.approx((m_N / m_Z) ** 2, rel=1e-10)
        assert HBARC_GEV_MM / ours == pytest.approx(ctau_n_mm(m_N, m_Z, U2=1e-4, alpha_D=0.25))


def test_rate_scale_linear():
    c = Couplings(U2=3e-7, alpha_D=0.5, alpha_eps2=4e-10)
    assert rate_scale(c) == pytest.approx(3e-7 / 1e-4 * 2 * 2, rel=1e-14)
    assert rate_scale(REFERENCE) == 1.0
    assert np.isfinite(rate_scale(Couplings(U2=0.0)))
