"""fits.projections: scenarios load, scale factors carry sources, bad files give precise errors."""

from __future__ import annotations

import pytest

from darknu.errors import ConfigError, ParameterError
from fits.projections import get_scenario, load_displaced_settings, load_scenarios, load_window_settings


def test_builtin_scenarios():
    sc = load_scenarios()
    assert set(sc) >= {"run2", "hllhc"}
    assert (sc["run2"].sqrt_s_TeV, sc["run2"].lumi_fb) == (13.0, 150.0)
    hl = sc["hllhc"]
    assert (hl.sqrt_s_TeV, hl.lumi_fb, hl.detector_scenario) == (14.0, 4000.0, "hllhc")
    assert hl.scale_for("W_gamma") == pytest.approx(22 / 20.6, rel=1e-3)
    assert hl.scale_for("ttbar_gamma") == pytest.approx(985 / 832, rel=1e-3)
    assert hl.event_scale("signal") == pytest.approx(4000 * 22 / 20.6, rel=1e-3)
    assert all(pat in dict(hl.xsec_scale_source) for pat, _ in hl.xsec_scale)


def test_unknown_scenario_lists_valid():
    with pytest.raises(ParameterError, match=r"unknown scenario 'run3'; valid: hllhc, run2"):
        get_scenario("run3")


def test_unmatched_process_is_an_error():
    with pytest.raises(ConfigError, match=r"no xsec_scale pattern matches process 'diboson'"):
        get_scenario("hllhc").scale_for("diboson")


def test_malformed_toml_names_line(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("[scenarios.run2]\nsqrt_s_TeV = 13\nlumi_fb = = 150\n")
    with pytest.raises(ConfigError, match=r"p.toml is malformed: .*line 3"):
        load_scenarios(p)


def test_missing_key_and_bad_value(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("[scenarios.x]\nsqrt_s_TeV = 13\nxsec_scale = {'*' = 1.0}\n")
    with pytest.raises(ConfigError, match=r"scenarios.x lacks required key 'lumi_fb'"):
        load_scenarios(p)
    p.write_text("[scenarios.x]\nsqrt_s_TeV = 13\nlumi_fb = -5\nxsec_scale = {'*' = 1.0}\n")
    with pytest.raises(ConfigError, match=r"scenarios.x.lumi_fb must be > 0"):
        load_scenarios(p)


def test_seed_settings():
    w = load_window_settings()
    assert (w.s_excl, w.min_background, w.background_scale) == (2.0, 10.0, 1.5)
    assert w.widths("ee") == (0.010, 0.500) and w.widths("mumu") == (0.003, 0.100)
    d = load_displaced_settings()
    assert d.required_events == 50.0 and d.required_events_band == (25.0, 100.0)
