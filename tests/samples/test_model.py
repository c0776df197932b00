"""Model physics: Z_D widths and lifetimes, N_D width, W phase space, cross sections."""

from __future__ import annotations

import math

import numpy as np
import pytest

from darknu.errors import ConfigError, ParameterError
from samples import model
from samples.model import (
    ALPHA_EM,
    HBARC_GEV_MM,
    M_W_GEV,
    cross_section,
    cross_section_pb,
    nd_width_gev,
    signal_cross_section_pb,
    w_phase_space_factor,
    zd_branching,
    zd_ctau_mm,
    zd_total_width_gev,
    zd_width_ll_gev,
)


def test_zd_ctau_reference_point():
    """Spec §1 / seed 003 eq. 8: m = 30 MeV, αε² = 2e-10 → cτ ≈ 0.1 mm (issue 2 quotes 0.0987)."""
    assert zd_ctau_mm(0.03, 2e-10) == pytest.approx(0.0987, rel=2e-3)


@pytest.mark.parametrize("m", [0.005, 0.03, 0.15, 0.25, 0.5, 1.5, 5.0])
@pytest.mark.parametrize("lepton,key", [("e", "ee"), ("mu", "mumu")])
def test_leptonic_width_formula_matches_darkcast(m, lepton, key):
    """The analytic Γ(Z_D → ℓℓ) equals BR_ℓℓ × Γ_tot of the DarkCast table (independent inputs)."""
    a = 2e-10
    analytic = zd_width_ll_gev(m, a, lepton=lepton)
    table = zd_branching(m)[key] * zd_total_width_gev(m, a)
    if analytic == 0.0:
        assert table == 0.0
    else:
        assert table == pytest.approx(analytic, rel=1e-2)


def test_widths_scale_with_alpha_eps2_and_brs_sum_to_one():
    assert zd_total_width_gev(0.5, 2e-9) == pytest.approx(
        10 * zd_total_width_gev(0.5, 2e-10), rel=1e-12
    )
    for m in np.geomspace(0.0011, 10.0, 37):
        assert sum(zd_branching(float(m)).values()) == pytest.approx(1.0, abs=1e-5)
    # below 2 m_mu only e+e-; above, mu mu opens and hadrons appear above 2 m_pi
    assert zd_branching(0.2)["mumu"] == 0.0
    assert 0.3 < zd_branching(0.3)["mumu"] < 0.5
    assert zd_branching(0.775)["hadrons"] > 0.7  # rho peak


def test_zd_total_width_at_eps_one_is_alpha_m_over_3():
    """Table README check: Γ(ε=1, m = 0.1 GeV) = α m/3 = 2.432e-4 GeV."""
    assert zd_total_width_gev(0.1, ALPHA_EM) == pytest.approx(2.432e-4, rel=1e-3)


def test_zd_mass_range_errors():
    with pytest.raises(ParameterError, match="m_ZD"):
        zd_ctau_mm(0.0005, 2e-10)
    with pytest.raises(ParameterError, match="m_ZD"):
        zd_branching(12.0)
    with pytest.raises(ParameterError, match="alpha_eps2"):
        zd_ctau_mm(0.03, -1e-10)


def test_nd_width_limits():
    # r -> 0: seed 003 eq. (6) with |V|^2 = 4 g_D^2 |U|^2
    g, u2, mn, mz = 0.25, 1e-4, 10.0, 0.01
    seed_eq6 = g**2 * u2 / (8 * math.pi) * mn**3 / mz**2
    assert nd_width_gev(mn, mz, V2=4 * g**2 * u2) == pytest.approx(seed_eq6, rel=3e-6)
    # closes at threshold like (1 - r^2)^2
    assert nd_width_gev(1.0, 0.999, V2=1.0) < 1e-4 * nd_width_gev(1.0, 0.5, V2=1.0)
    # prompt at the reference point: N_D ctau ~ nm
    assert model.nd_ctau_mm(0.3, 0.1) < 1e-5


def test_w_phase_space_factor_against_general_formula():
    """f(x) against the general width λ^½(1,x1,x2)[1 − (x1+x2)/2 − (x1−x2)²/2] at x1 = 0."""
    for m in (0.0, 1.0, 10.0, 40.0, 70.0, 80.0):
        x = (m / M_W_GEV) ** 2
        lam = math.sqrt((1 - x) ** 2)  # λ(1, 0, x)^½
        general = lam * (1 - x / 2 - x**2 / 2)
        assert w_phase_space_factor(m) == pytest.approx(general, rel=1e-12, abs=1e-15)
    assert w_phase_space_factor(M_W_GEV * 0.999) < 1e-5
    with pytest.raises(ParameterError, match="m_N"):
        w_phase_space_factor(85.0)


def test_cross_section_table():
    assert cross_section_pb("W_munu", 13) == 20600.0
    assert cross_section_pb("Wplus_lnu", 13) + cross_section_pb("Wminus_lnu", 13) == pytest.approx(
        cross_section_pb("W_lnu", 13), rel=1e-3
    )
    assert cross_section_pb("Z_ll", 13) == pytest.approx(1981.0)
    assert cross_section_pb("ttbar", 13) == pytest.approx(832.0)
    assert cross_section_pb("W_munu", 14) / cross_section_pb("W_munu", 13) == pytest.approx(
        1.068, abs=1e-3
    )
    assert "1603.09222" in cross_section("W_munu", 13.0).source
    with pytest.raises(ParameterError, match="unknown process 'W_xx'.*valid:.*W_munu"):
        cross_section_pb("W_xx", 13)
    with pytest.raises(ParameterError, match="sqrt_s_TeV = 7"):
        cross_section_pb("ttbar", 7)


def test_cross_section_table_errors(tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_text("[W_munu]\n[W_munu.13]\nxsec_pb = \n")
    with pytest.raises(ConfigError, match="x.toml"):
        cross_section_pb("W_munu", 13, table=bad)
    nosrc = tmp_path / "y.toml"
    nosrc.write_text("[W_munu]\n[W_munu.13]\nxsec_pb = 1.0\n")
    with pytest.raises(ConfigError, match="source"):
        cross_section_pb("W_munu", 13, table=nosrc)
    with pytest.raises(ConfigError, match="does not exist"):
        cross_section_pb("W_munu", 13, table=tmp_path / "none.toml")


def test_signal_cross_section():
    s = signal_cross_section_pb(10.0, 0.03)
    x = (10.0 / M_W_GEV) ** 2
    assert s == pytest.approx(20600.0 * 1e-4 * (1 - x) ** 2 * (1 + x / 2))
    # linear in |U|^2; carries BR(ee + mumu) above the hadronic threshold
    assert signal_cross_section_pb(10.0, 0.03, U2=2e-4) == pytest.approx(2 * s)
    br = zd_branching(0.775)
    assert signal_cross_section_pb(10.0, 0.775) / signal_cross_section_pb(
        10.0, 0.03
    ) == pytest.approx(br["ee"] + br["mumu"])
    assert signal_cross_section_pb(10.0, 0.03, sqrt_s_TeV=14) > s


def test_hbarc_units():
    # 197.327 MeV fm = 1.97327e-13 GeV mm
    assert HBARC_GEV_MM == pytest.approx(0.1973269804 * 1e-12, rel=1e-9)
