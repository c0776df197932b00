"""Smearing: pulls, pT dependence, di-lepton mass resolutions (seed 003), scenarios, seeding."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from darknu.errors import ConfigError, ParameterError
from smearing.resolution import (
    M_MU_GEV,
    dielectron_mass_resolution,
    pair_mass,
    plot_mass_resolution,
    pt_eta_phi,
    smallest_interval,
    toy_signal_leptons,
)
from smearing.response import (
    chunk_rng,
    load_detector,
    scenarios,
    smear_leptons,
    smear_phi,
    smear_vertex,
    wrap_phi,
)

N = 100_000
RUN2 = load_detector("run2")


@pytest.mark.parametrize("electron_set", ["optimistic", "pessimistic"])
def test_electron_pulls_unit_width(electron_set):
    rng = np.random.default_rng(1)
    pt = rng.uniform(1.0, 80.0, N)  # spans both plateaus and the interpolation
    eta = rng.uniform(-2.5, 2.5, N)
    phi = rng.uniform(-np.pi, np.pi, N)
    sm = smear_leptons(
        RUN2,
        pt=pt,
        eta=eta,
        phi=phi,
        is_electron=np.ones(N, bool),
        z=rng.standard_normal((N, 3)),
        electron_set=electron_set,
    )
    pulls = {
        "ptrel": (sm.pt / pt - 1) / RUN2.electron_sigma(electron_set, "ptrel", pt),
        "cottheta": (np.sinh(sm.eta) - np.sinh(eta))
        / RUN2.electron_sigma(electron_set, "cottheta", pt),
        "phi": wrap_phi(sm.phi - phi) / RUN2.electron_sigma(electron_set, "phi", pt),
    }
    for name, p in pulls.items():
        # 1e5 draws: std error of the width is 1/sqrt(2N) = 0.0022, so +-0.02 is ~9 sigma
        assert np.std(p) == pytest.approx(1.0, abs=0.02), name
        assert abs(np.mean(p)) < 5 / np.sqrt(N), name


@pytest.mark.parametrize("variation,mass_res", [("nominal", 0.02), ("up", 0.03), ("down", 0.01)])
def test_muon_pulls_and_angles_untouched(variation, mass_res):
    rng = np.random.default_rng(2)
    pt = rng.uniform(3, 60, N)
    eta = rng.uniform(-2.5, 2.5, N)
    phi = rng.uniform(-np.pi, np.pi, N)
    sm = smear_leptons(
        RUN2,
        pt=pt,
        eta=eta,
        phi=phi,
        is_electron=np.zeros(N, bool),
        z=rng.standard_normal((N, 3)),
        electron_set="optimistic",
        muon_variation=variation,
    )
    sigma = RUN2.muon_sigma_ptrel(variation)
    assert sigma == pytest.approx(mass_res * np.sqrt(2))
    assert np.std((sm.pt / pt - 1) / sigma) == pytest.approx(1.0, abs=0.02)
    assert np.array_equal(sm.eta, eta) and np.array_equal(sm.phi, wrap_phi(phi))


def test_vertex_pulls():
    rng = np.random.default_rng(3)
    zero = np.zeros(N)
    x, y, z = smear_vertex(RUN2, zero, zero, zero, rng.standard_normal((N, 3)))
    for v, s in (
        (x, RUN2.vertex_sigma_xy_mm),
        (y, RUN2.vertex_sigma_xy_mm),
        (z, RUN2.vertex_sigma_z_mm),
    ):
        assert np.std(v / s) == pytest.approx(1.0, abs=0.02)


def test_electron_resolution_table_values():
    """Seed 003 §IV ranges: optimistic spans the best end, pessimistic the worst end."""
    for s, var, lo, hi in [
        ("optimistic", "phi", 0.001, 0.00175),
        ("pessimistic", "phi", 0.00175, 0.0025),
        ("optimistic", "cottheta", 0.0005, 0.00125),
        ("pessimistic", "ptrel", 0.0525, 0.08),
    ]:
        v = RUN2.electron_sigma(s, var, np.array([100.0, 40.0, 5.0, 1.0]))
        assert v.tolist() == pytest.approx([lo, lo, hi, hi])
        mid = RUN2.electron_sigma(s, var, np.array([np.sqrt(5 * 40)]))[0]  # log-midpoint
        assert mid == pytest.approx((lo + hi) / 2)


def test_dimuon_mass_resolution_is_two_percent():
    """Per-muon 2%*sqrt(2) gives a 2% di-muon mass resolution (seed 003 §IV) for m >> 2 m_mu.

    (Near threshold the unsmeared muon masses shrink it: 1.8 % at 1 GeV, 1 % at 0.3 GeV.)
    """
    rng = np.random.default_rng(4)
    n = 40_000
    for m_zd in (3.0, 8.0):
        _, a, b = toy_signal_leptons(m_N_GeV=10, m_ZD_GeV=m_zd, n=n, rng=rng, m_l_GeV=M_MU_GEV)
        ka, kb = pt_eta_phi(a), pt_eta_phi(b)
        sm = smear_leptons(
            RUN2,
            pt=np.r_[ka[0], kb[0]],
            eta=np.r_[ka[1], kb[1]],
            phi=np.r_[ka[2], kb[2]],
            is_electron=np.zeros(2 * n, bool),
            z=rng.standard_normal((2 * n, 3)),
            electron_set="optimistic",
        )
        m = pair_mass(
            sm.pt[:n], sm.eta[:n], sm.phi[:n], sm.pt[n:], sm.eta[n:], sm.phi[n:], M_MU_GEV, M_MU_GEV
        )
        lo, hi = smallest_interval(m)
        # half-width of a Gaussian's 68% interval = sigma; statistical error ~ 1/sqrt(n) ~ 0.5 %
        assert 0.5 * (hi - lo) / m_zd == pytest.approx(0.02, rel=0.06)


def test_dielectron_resolution_both_sets_and_plot(tmp_path):
    """Seed 003 Fig. 2 on the toy signal (m_N = 10 GeV): computed and plotted for both sets."""
    masses = (0.03, 0.3, 3.0)
    opt = dielectron_mass_resolution(RUN2, electron_set="optimistic", m_ZD_GeV=masses, n=10_000)
    pes = dielectron_mass_resolution(RUN2, electron_set="pessimistic", m_ZD_GeV=masses, n=10_000)
    assert all(p > o for p, o in zip(pes.resolution, opt.resolution, strict=True))
    # at high mass the pT terms dominate: between sigma_pT/sqrt(2) of the sets' best and
    # worst values
    assert (
        0.025 / np.sqrt(2) < opt.resolution[-1] < 0.0525
        and 0.0525 / np.sqrt(2) < pes.resolution[-1] < 0.08
    )
    # at low mass the opening-angle terms dominate and the relative resolution grows
    assert opt.resolution[0] > 3 * opt.resolution[-1]
    out = plot_mass_resolution([opt, pes], tmp_path / "fig2.png")
    assert out.stat().st_size > 1000


def test_smallest_interval():
    x = np.random.default_rng(5).standard_normal(200_000)
    lo, hi = smallest_interval(x, fraction=0.6827)
    assert (lo, hi) == pytest.approx((-1, 1), abs=0.02)
    with pytest.raises(ParameterError):
        smallest_interval(np.array([np.nan]))


def test_scenarios_and_errors(tmp_path):
    assert scenarios() == ("hllhc", "run2")
    hl = load_detector("hllhc")
    assert hl.eta_max == 4.0 and hl.muon_pt_min < RUN2.muon_pt_min
    with pytest.raises(
        ParameterError, match="unknown detector scenario 'run3'; valid: hllhc, run2"
    ):
        load_detector("run3")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 2, "corrections": []}))
    with pytest.raises(ConfigError, match="bad.json"):
        load_detector(str(bad))
    with pytest.raises(ConfigError, match="missing.json does not exist"):
        load_detector(str(tmp_path / "missing.json"))


def test_generated_json_matches_table(tmp_path):
    """The shipped JSON is what smearing.generate makes from scenarios.toml (no hand edits)."""
    from smearing.generate import DATA_DIR, generate

    for p in generate(out_dir=tmp_path):
        assert json.loads(p.read_text()) == json.loads((DATA_DIR / p.name).read_text())


def test_malformed_table(tmp_path):
    from smearing.generate import load_table

    t = tmp_path / "t.toml"
    t.write_text("[electron]\npt_lo = = 5\n")
    with pytest.raises(ConfigError, match=r"t.toml.*line 2"):
        load_table(t)


def test_chunk_rng_depends_on_every_key():
    ref = chunk_rng("d", "f", 0, 100).standard_normal(4)
    assert np.array_equal(ref, chunk_rng("d", "f", 0, 100).standard_normal(4))
    for args in (("e", "f", 0, 100), ("d", "g", 0, 100), ("d", "f", 1, 100), ("d", "f", 0, 101)):
        assert not np.array_equal(ref, chunk_rng(*args).standard_normal(4))


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    pt=arrays(np.float64, st.integers(0, 30), elements=st.floats(0.0, 1e4)),
    data=st.data(),
)
def test_smearing_property(pt, data):
    n = len(pt)
    eta = data.draw(arrays(np.float64, n, elements=st.floats(-6, 6)))
    phi = data.draw(arrays(np.float64, n, elements=st.floats(-10, 10)))
    is_e = data.draw(arrays(bool, n))
    z = data.draw(arrays(np.float64, (n, 3), elements=st.floats(-8, 8)))
    for s in ("optimistic", "pessimistic"):
        sm = smear_leptons(RUN2, pt=pt, eta=eta, phi=phi, is_electron=is_e, z=z, electron_set=s)
        for a in (sm.pt, sm.eta, sm.phi):
            assert a.shape == (n,) and np.all(np.isfinite(a))
        assert np.all(sm.pt > 0) and np.all(np.abs(sm.phi) <= np.pi)


def test_smear_phi_kernel_equals_numpy_formulation():
    """The numba loop of smear_phi gives the bits of wrap_phi(phi + sigma * z)."""
    rng = np.random.default_rng(31)
    n = 200_000
    phi = np.concatenate([rng.uniform(-np.pi, np.pi, n), [np.pi, -np.pi, 0.0, -0.0, np.nan, 1e6]])
    sigma = np.where(rng.random(len(phi)) < 0.4, 0.0, rng.exponential(0.5, len(phi)))
    z = rng.standard_normal(len(phi)) * rng.choice([1.0, 30.0], len(phi))  # several wraps too
    z[:10] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 7.0, -7.0, 1e20]
    with np.errstate(invalid="ignore"):  # inf * 0 and inf % 2 pi: NaN (no warning in numba)
        ref = wrap_phi(phi + sigma * z)
    got = smear_phi(phi, sigma, z)
    nan = np.isnan(ref)  # NaN sign bits follow the compiler's operand order: any NaN will do
    assert np.array_equal(np.isnan(got), nan) and got[~nan].tobytes() == ref[~nan].tobytes()
    assert nan.sum() >= 3
    # other inputs (scalar sigma, float32) take the numpy expression
    p5, z5 = phi[10:15], z[10:15]
    assert smear_phi(p5, 0.1, z5).tobytes() == wrap_phi(p5 + 0.1 * z5).tobytes()


def _smear_reference(model, pt, eta, phi, is_e, z, sig, muon_variation):
    """The former numpy formulation of smear_leptons (given the electron sigmas)."""
    s_pt = np.full(len(pt), model.muon_sigma_ptrel(muon_variation))
    s_cot, s_phi = np.zeros(len(pt)), np.zeros(len(pt))
    s_pt[is_e], s_cot[is_e], s_phi[is_e] = sig["ptrel"], sig["cottheta"], sig["phi"]
    pt_s = np.maximum(pt * (1.0 + s_pt * z[:, 0]), 1e-6)
    eta_s = np.where(s_cot == 0, eta, np.arcsinh(np.sinh(eta) + s_cot * z[:, 1]))
    phi_s = (phi + s_phi * z[:, 2] + np.pi) % (2 * np.pi) - np.pi
    return pt_s, eta_s, phi_s


def test_smearing_kernels_equal_former_numpy_formulation():
    from smearing.response import ELECTRON_SETS, electron_resolutions, smear_leptons_variations

    rng = np.random.default_rng(33)
    n = 60_000
    pt, eta, phi = rng.exponential(10, n) + 0.1, rng.normal(0, 2, n), rng.uniform(-np.pi, np.pi, n)
    is_e = rng.random(n) < 0.6
    z = rng.standard_normal((n, 3))
    z[:50, 0] = -1e3  # pT floored
    sig = {s: electron_resolutions(RUN2, s, pt[is_e]) for s in ELECTRON_SETS}
    sig["optimistic"]["cottheta"][:30] = 0.0  # electrons without eta smearing
    variations = {"nominal": ("optimistic", "nominal"), "res_up": ("pessimistic", "up"),
                  "res_down": ("optimistic", "down")}
    many = smear_leptons_variations(RUN2, pt=pt, eta=eta, phi=phi, is_electron=is_e, z=z,
                                    variations=variations, electron_sigmas=sig)
    for name, (eset, muvar) in variations.items():
        ref = _smear_reference(RUN2, pt, eta, phi, is_e, z, sig[eset], muvar)
        one = smear_leptons(RUN2, pt=pt, eta=eta, phi=phi, is_electron=is_e, z=z,
                            electron_set=eset, muon_variation=muvar, electron_sigmas=sig[eset])
        for got in (many[name], one):
            for a, b in zip((got.pt, got.eta, got.phi), ref, strict=True):
                assert a.tobytes() == b.tobytes(), name
