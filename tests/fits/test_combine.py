"""Workspace combination of an LHC-like channel (built here, interfaces §3) with neutrino channels."""

import pyhf
import pytest

from darknu.errors import ConfigError, ParameterError
from fits.combine import combine_workspaces, combined_limit, expand_channels, select_channels
from fits.recast import minerva
from fits.recast.common import workspace_spec
from fits.recast.generate import generate
from fits.recast.stats import upper_limit


@pytest.fixture(scope="module")
def nu(tmp_path_factory):
    """MINERvA LE workspace at m_N = 0.2 GeV from a small seeded DarkNews run."""
    ev = generate("minerva_le", m_N=0.2, neval=500, seed=7, cache_dir=tmp_path_factory.mktemp("dn"))
    return minerva.build_workspace("minerva_le", ev)


def lhc_like(signal_per_mu: float = 2.0e5) -> pyhf.Workspace:
    """A 3-bin m_ll channel: Gaussian-ish signal on a falling background, §3 names."""
    ch = {
        "name": "lhc_ee_prompt",
        "samples": [
            {"name": "signal", "data": [0.2 * signal_per_mu, 0.6 * signal_per_mu, 0.2 * signal_per_mu],
             "modifiers": [{"name": "mu", "type": "normfactor", "data": None},
                           {"name": "lhc_lepton_eff", "type": "normsys", "data": {"hi": 1.06, "lo": 0.94}}]},
            {"name": "background", "data": [120.0, 100.0, 85.0],
             "modifiers": [{"name": "lhc_ee_bkg_norm", "type": "normsys", "data": {"hi": 1.5, "lo": 0.667}},
                           {"name": "lhc_ee_prompt_mcstat", "type": "staterror", "data": [5.0, 4.0, 4.0]}]},
        ],
    }  # fmt: skip
    return pyhf.Workspace(workspace_spec([ch], [{"name": "lhc_ee_prompt", "data": [118.0, 104.0, 83.0]}]))


def test_combination_validates_and_is_stronger(nu):
    comb = combine_workspaces([lhc_like(), nu])
    assert sorted(comb.channels) == ["lhc_ee_prompt", "minerva_le"]
    pyhf.schema.validate(dict(comb), "workspace.json")
    assert comb.get_measurement(measurement_name="darknu")["config"]["poi"] == "mu"
    singles = {ch: combined_limit(comb, [ch], cl=0.95).mu for ch in comb.channels}
    both = combined_limit(comb, cl=0.95).mu
    print(f"95% CL CLs mu limits: {singles}, combined {both:.4g}")
    # the LHC-like channel is built to be comparable to MINERvA, so the combination matters
    assert max(singles.values()) < 10 * min(singles.values())
    assert both <= min(singles.values()) * 1.02  # no weaker than the strongest (fit tolerance 2%)
    # the single-channel limit from the combined workspace equals the standalone one
    assert singles["minerva_le"] == pytest.approx(upper_limit(nu, cl=0.95).mu, rel=1e-3)


def test_combination_refuses_bad_inputs(nu):
    with pytest.raises(ConfigError, match="combine each channel once"):
        combine_workspaces([nu, nu])
    spec = dict(lhc_like())
    spec["measurements"][0]["config"]["parameters"][0]["bounds"] = [[0.0, 10.0]]
    with pytest.raises(ConfigError, match="interfaces"):
        combine_workspaces([pyhf.Workspace(spec), nu])
    with pytest.raises(ParameterError, match="valid"):
        expand_channels(["lhc", "nomad"])
    with pytest.raises(ParameterError, match="none of the channels"):
        select_channels(nu, ["charm2_nu"])


def test_expand_channels():
    assert expand_channels(["lhc", "charm2"])[:1] == ["lhc_ee_prompt"]
    assert expand_channels(["charm2", "charm2_nu"]) == ["charm2_nu", "charm2_nubar"]
