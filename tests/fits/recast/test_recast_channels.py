"""Each channel: §3 conventions, background-only goodness of fit to its own data, limits."""

from pathlib import Path

import numpy as np
import pyhf
import pytest

from fits.recast import charm2, microboone, minerva, miniboone
from fits.recast.common import MEASUREMENT_CONFIG, workspace_spec
from fits.recast.stats import goodness_of_fit, upper_limit


def _check_conventions(ws: pyhf.Workspace, channel: str) -> None:
    assert ws.channels == [channel]
    assert ws.get_measurement(measurement_name="darknu")["config"] == MEASUREMENT_CONFIG
    assert all(name == "mu" or name.startswith(channel.split("_")[0]) for name, _ in ws.modifiers)


@pytest.mark.parametrize("channel", ["minerva_le", "minerva_me"])
def test_minerva_gof_and_limit(events, channel):
    ev = events(channel)
    shape = minerva.build_workspace(channel, ev, binning="shape")
    rate = minerva.build_workspace(channel, ev)
    _check_conventions(shape, channel)
    gof = goodness_of_fit(shape)
    print(f"{channel} (16 dE/dx bins) background-only: {gof}")
    assert gof.ndof == 16 and 0.01 < gof.pvalue  # digitised MC describes its own figure
    # rate-only channel (seed 000, dE/dx >= 4.5): 1 bin; the background nuisance absorbs the
    # difference at the price of its constraint term
    gof_rate = goodness_of_fit(rate)
    print(f"{channel} (rate, dE/dx >= 4.5) background-only: {gof_rate}")
    assert gof_rate.ndof == 1 and gof_rate.chi2 < 1.0
    nominal = upper_limit(rate, cl=0.90)
    conservative = upper_limit(minerva.build_workspace(channel, ev, bkg_uncertainty=1.0), cl=0.90)
    assert 1e-10 < nominal.U2 < 1e-6
    assert nominal.U2 < conservative.U2 < 3 * nominal.U2  # seed 000: "less than a factor of two"


def test_pair_dedx_efficiency_matches_seed():
    _, eff = minerva.pair_dedx_pdf()
    assert eff == pytest.approx(0.90, abs=0.05)  # seed 000: 90% for overlapping pairs


@pytest.mark.parametrize("channel", ["charm2_nu", "charm2_nubar"])
@pytest.mark.parametrize(("treatment", "nbins"), [("rate", 1), ("shape", 16)])
def test_charm2_gof_and_limit(events, channel, treatment, nbins):
    ws = charm2.build_workspace(channel, events(channel), treatment=treatment)
    _check_conventions(ws, channel)
    gof = goodness_of_fit(ws)
    print(f"{channel} ({treatment}, {nbins} E theta^2 bins) background-only: {gof}")
    assert gof.ndof == nbins and gof.pvalue > 0.01
    lim = upper_limit(ws, cl=0.90)
    assert 1e-11 < lim.U2 < 1e-7


@pytest.mark.parametrize("channel", ["charm2_nu", "charm2_nubar"])
def test_charm2_background_uncertainty_matters(events, channel):
    # Seed 000 raises the signal-region background normalisation from 3% to a conservative
    # 10% for the shape extrapolation, and that visibly weakens its CHARM-II curve. In the
    # rate treatment the signal-region background (~2.4e4 events) is known only to that prior;
    # measured (neval 20000) 10%/3% limit ratio 1.9 (nu) and 2.0 (nubar) at 0.1-0.4 GeV. The
    # 16-bin shape fit, whose sideband pins the normalisation to ~0.5%, gives 1.0-1.2: this
    # test fails there, as it should.
    ev = events(channel)
    nominal = upper_limit(charm2.build_workspace(channel, ev, bkg_uncertainty=0.03), cl=0.90)
    conservative = upper_limit(charm2.build_workspace(channel, ev, bkg_uncertainty=0.10), cl=0.90)
    assert 1.3 < conservative.U2 / nominal.U2 < 3.0


def test_charm2_comparable_to_minerva_le_at_100_mev(events):
    # Seed 000 (text, Results): MINERvA and CHARM-II "impose similar constraints for
    # m4 <~ 200 MeV". It gives no numbers; "similar" on its log plot is read here as within a
    # factor 3, which also covers the input differences we measured against its authors'
    # per-mass efficiencies (CHARM-II signal efficiency ours/theirs 1.7 at 0.1 GeV, MINERvA LE
    # 0.94, docs/recasts.md). Measured (neval 20000): CHARM-II nu / MINERvA LE = 1.14. The
    # former 16-bin CHARM-II fit gave 0.10 and fails here.
    m_N = 0.1
    le = upper_limit(minerva.build_workspace("minerva_le", events("minerva_le", m_N)), cl=0.90)
    ch = upper_limit(charm2.build_workspace("charm2_nu", events("charm2_nu", m_N)), cl=0.90)
    print(f"m_N = {m_N} GeV: 90% CLs |U|^2 < {le.U2:.3g} (MINERvA LE), {ch.U2:.3g} (CHARM-II nu)")
    assert 1 / 3 < ch.U2 / le.U2 < 3


def test_charm2_signal_region_and_sideband():
    # the rate channel counts the bins below seed 000's 30-60 MeV rad^2 sideband ...
    for ch in ("charm2_nu", "charm2_nubar"):
        d = charm2.load_data(ch)
        sr = charm2.signal_region(d.edges)
        assert d.edges[1:][sr][-1] == pytest.approx(0.02816, rel=1e-3) and sr.sum() == 10
        # ... and the sideband data agree with the digitised background + nu-e well within the
        # 3% normalisation prior (measured 0.999 nu, 0.984 nubar; statistical error 0.8%, 0.7%)
        sb = (d.edges[:-1] >= d.edges[1:][sr][-1] - 1e-9) & (d.edges[1:] <= 0.0634)
        assert sb.sum() == 5
        assert d.data[sb].sum() / (d.background[sb].sum() + d.nue[sb].sum()) == pytest.approx(1.0, abs=0.03)


def test_charm2_exposure_cancels(tmp_path, monkeypatch):
    # The CHARM-II signal is normalised on nu-e computed for the exposure of the DarkNews
    # detector file, so POT and fiducial mass must cancel exactly: regenerate with 2x POT and
    # 3x mass and compare the channel's signal. (With the exposure duplicated by hand in the
    # nu-e normalisation the signal would scale by 6.)
    from fits.recast import generate as gen

    src = gen.EXPERIMENTS["charm2_nu"].darknews_experiment
    text = Path(src).read_text()
    text = text.replace("fiducial_mass = 574.0", "fiducial_mass = 1722.0").replace("POTs = 1.5e19", "POTs = 3e19")
    assert text.count("1722.0") == 1 and text.count("3e19") == 1
    scaled = tmp_path / "charm2_fhc_scaled.txt"
    scaled.write_text(text)
    ref = gen.generate("charm2_nu", m_N=0.2, neval=500, seed=7)
    monkeypatch.setitem(gen.EXPERIMENTS, "charm2_nu", gen.ExperimentSetup(str(scaled), "nu_mu", 3e19, "test"))
    assert gen.detector_exposure("charm2_nu").mass_t == pytest.approx(1722.0)
    ev = gen.generate("charm2_nu", m_N=0.2, neval=500, seed=7)
    assert ev.total == pytest.approx(6 * ref.total, rel=1e-9)  # same VEGAS samples, exposure x6
    monkeypatch.undo()
    s_ref = charm2.build_workspace("charm2_nu", ref)["channels"][0]["samples"][0]["data"]
    monkeypatch.setitem(gen.EXPERIMENTS, "charm2_nu", gen.ExperimentSetup(str(scaled), "nu_mu", 3e19, "test"))
    s_scaled = charm2.build_workspace("charm2_nu", ev)["channels"][0]["samples"][0]["data"]
    # (DarkNews events of weight < 1e-12 of the total differ at 1e-5: an absolute floor)
    np.testing.assert_allclose(s_scaled, s_ref, rtol=1e-9, atol=1e-12 * sum(s_ref))


def test_setup_pot_matches_detector_files():
    # EXPERIMENTS[..].pot rescales MiniBooNE/MicroBooNE to other exposures: it must be the POT the
    # events carry
    from fits.recast.generate import EXPERIMENTS, detector_exposure

    for name, setup in EXPERIMENTS.items():
        assert detector_exposure(name).pot == setup.pot, name


def test_nu_e_normalisation():
    # The SM nu-e rate computed for the DarkNews exposure is within a factor 2 of the nu-e
    # events of each figure: the exposure factors correct only O(1) effects (efficiency,
    # flux normalisation, mass). Measured: MINERvA LE 1.09, ME 0.83, CHARM-II 0.74 / 1.44.
    for ch in ("charm2_nu", "charm2_nubar"):
        assert 0.5 < charm2.exposure_factor(ch) < 2.0
    assert minerva.exposure_factor("minerva_le") == pytest.approx(116.3 / 107.1, rel=0.02)
    assert minerva.exposure_factor("minerva_me") == pytest.approx(995.8 / 1205.0, rel=0.02)


@pytest.mark.parametrize("release", ["2020", "2018"])
def test_miniboone_covariance_and_gof(events, release):
    d = miniboone.load_data(release)
    assert np.all(np.linalg.eigvalsh(d.covariance) > -1e-6 * np.abs(d.covariance).max())
    ws = miniboone.build_workspace(events("miniboone_nu"), release=release)
    _check_conventions(ws, "miniboone_nu")
    gof = goodness_of_fit(ws)
    print(f"miniboone_nu {release} (11 E_QE bins) background-only: {gof}")
    # the electron-like excess: background-only is disfavoured but not absurd with the covariance
    assert gof.ndof == 11 and 1e-5 < gof.pvalue < 0.1
    # the eigen-decomposition reproduces the constrained covariance exactly
    mods = [m for s in ws["channels"][0]["samples"] for m in s["modifiers"] if m["type"] == "histosys"]
    rebuilt = sum(np.outer(np.subtract(m["data"]["hi_data"], d.background),
                           np.subtract(m["data"]["hi_data"], d.background)) for m in mods)  # fmt: skip
    np.testing.assert_allclose(rebuilt, d.covariance, atol=1e-6 * np.abs(d.covariance).max())


def test_miniboone_costheta_channel(events):
    ev = events("miniboone_nu")
    ws = miniboone.build_workspace(ev, observable="costheta")
    _check_conventions(ws, "miniboone_nu")
    gof = goodness_of_fit(ws)
    print(f"miniboone_nu 2020 cos theta (20 bins, digitised, 5% bkg norm only) background-only: {gof}")
    # the excess is spread over all angles and no angular shape uncertainty is released:
    # background-only is strongly disfavoured here (documented in docs/recasts.md)
    assert gof.ndof == 20 and gof.pvalue < 1e-3
    h = miniboone.signal_costheta_histogram(ev)
    assert h[-1] / h.sum() > 0.9  # m_N = 0.2 GeV: forward (seed 000: 90% forward at 0.1 GeV)


def test_microboone_projection(events):
    ws = microboone.build_workspace(events("microboone"))
    _check_conventions(ws, "microboone")
    assert ws.data(ws.model())[0] == 100.0  # Asimov: data = assumed background
    assert 1e-11 < upper_limit(ws, cl=0.95).U2 < 1e-6


def test_charm2_combined_rate_limit_with_large_counts():
    # nu + nubar counting channels of 2.7e4 and 3.3e4 events: at the top of the mu scan the
    # nuisances hit their bounds and the fit fails; the limit must still be found (it lies
    # ~500x lower). Signals at U2 = 1e-4, m_N = 0.4 GeV as generated with neval 20000, seed 2,
    # where `darknu combine` failed before.
    from fits.combine import combine_workspaces

    def ws(channel, signal):
        d = charm2.load_data(channel)
        sr = charm2.signal_region(d.edges)
        flux = {"name": f"{channel}_flux", "type": "normsys", "data": {"hi": 1.04, "lo": 1 / 1.04}}
        bkg = {"name": f"{channel}_bkg_norm", "type": "normsys", "data": {"hi": 1.03, "lo": 1 / 1.03}}
        samples = [
            {"name": "signal", "data": [signal], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}, flux]},
            {"name": "nu_e", "data": [float(d.nue[sr].sum())], "modifiers": [flux]},
            {"name": "background", "data": [float(d.background[sr].sum())], "modifiers": [flux, bkg]},
        ]
        return pyhf.Workspace(workspace_spec([{"name": channel, "samples": samples}],
                                             [{"name": channel, "data": [float(d.data[sr].sum())]}]))  # fmt: skip

    nu, nubar = ws("charm2_nu", 22446770.45273072), ws("charm2_nubar", 29219187.091627494)
    single = [upper_limit(w, cl=0.90).U2 for w in (nu, nubar)]
    comb = upper_limit(combine_workspaces([nu, nubar]), cl=0.90).U2
    print(f"90% CLs |U|^2 < {single[0]:.3g} (nu), {single[1]:.3g} (nubar), {comb:.3g} (combined)")
    assert 0.5 * min(single) < comb < min(single)
