"""fits.lhc: workspaces follow docs/interfaces.md §3, handle empty channels, validate."""

from __future__ import annotations

import json

import numpy as np
import pyhf
import pytest
from synthetic import synthetic_hists

from darknu.errors import FitError, InputFileError
from fits.lhc import (
    CHANNELS,
    MEASUREMENT_CONFIG,
    build_workspace,
    extract_templates,
    mass_points,
    validated_workspace,
)
from fits.projections import get_scenario


@pytest.fixture(scope="module")
def hists():
    return synthetic_hists([(3.0, 1.0, 2e-10), (0.3, 0.03, 2e-10)])


def _model(hists, i):
    p = mass_points(hists)[i]
    t = extract_templates(hists, p, scenario=get_scenario("run2"))
    return p, t, build_workspace(t, m_ZD=p.m_ZD, point=p)


def test_conventions(hists):
    p, _, pm = _model(hists, 1)
    assert (p.m_N, p.m_ZD) == (3.0, 1.0)
    spec = dict(pm.workspace)
    assert spec["measurements"] == [{"name": "darknu", "config": MEASUREMENT_CONFIG}]
    assert sorted(c["name"] for c in spec["channels"]) == sorted(CHANNELS)
    for ch in spec["channels"]:
        for s in ch["samples"]:
            for m in s["modifiers"]:
                assert m["name"] == "mu" or m["name"].startswith("lhc_"), m["name"]
    mods: dict[str, set[str]] = {}
    for ch in spec["channels"]:
        for smp in ch["samples"]:
            for m in smp["modifiers"]:
                mods.setdefault(m["name"], set()).add(m["type"])
    # signal variations: rate as normsys (exponential, never zero) + normalised shape histosys
    assert mods["lhc_lepton_eff"] == {"normsys"}  # a per-lepton efficiency changes only the rate
    assert mods["lhc_mass_res_mumu"] == {"normsys", "histosys"}
    assert mods["lhc_ee_prompt_bkg_norm"] == {"normfactor"} and mods["lhc_bkg_nonprompt"] == {"normsys"}
    assert mods["lhc_ee_prompt_mcstat"] == {"staterror"}
    # displaced channels are one-bin counting channels; prompt ones have window + sidebands
    nb = {c["name"]: len(c["samples"][0]["data"]) for c in spec["channels"]}
    assert nb["lhc_ee_displaced"] == 1 and 5 <= nb["lhc_ee_prompt"] <= 20
    # the region spans m_ZD +- 8 sigma_m (sigma_m = 3% for ee here)
    b = pm.binnings["lhc_ee_prompt"]
    assert b.sigma_m == pytest.approx(0.03, rel=0.1)
    assert b.edges[0] < 1.0 - 0.2 and b.edges[-1] > 1.0 + 0.2
    # combines with another darknu workspace: the identical "darknu" measurements merge
    # under join="outer" (pyhf's default join="none" refuses any shared measurement name)
    other = json.loads(json.dumps(spec).replace("lhc_", "xxx_"))
    combined = pyhf.Workspace.combine(pm.workspace, pyhf.Workspace(other), join="outer")
    assert len(combined.channels) == 8
    assert dict(combined)["measurements"] == [{"name": "darknu", "config": MEASUREMENT_CONFIG}]


def test_background_x1p5_and_asimov_observations(hists):
    _, t, pm = _model(hists, 1)
    spec = dict(pm.workspace)
    ch = next(c for c in spec["channels"] if c["name"] == "lhc_ee_prompt")
    b = pm.binnings["lhc_ee_prompt"]
    raw = t["lhc_ee_prompt"].background["nominal"][0][b.start : b.stop].sum()
    bkg = next(s for s in ch["samples"] if s["name"] == "background")
    assert sum(bkg["data"]) == pytest.approx(1.5 * raw, rel=1e-9)
    obs = next(o for o in spec["observations"] if o["name"] == "lhc_ee_prompt")
    assert obs["data"] == bkg["data"]


def test_no_signal_channels_are_skipped(hists):
    _, _, pm = _model(hists, 0)  # m_ZD = 30 MeV < 2 m_mu
    assert set(pm.skipped) == {"lhc_mumu_prompt", "lhc_mumu_displaced"}
    assert set(pm.workspace.channels) == {"lhc_ee_prompt", "lhc_ee_displaced"}


def test_zero_background_displaced_is_finite(hists):
    _, _, pm = _model(hists, 0)
    model = pm.workspace.model()
    data = pm.workspace.data(model)
    disp = next(c for c in dict(pm.workspace)["channels"] if c["name"] == "lhc_ee_displaced")
    assert next(s for s in disp["samples"] if s["name"] == "background")["data"] == [1e-3]
    assert np.isfinite(model.logpdf(model.config.suggested_init(), data)[0])


def test_invalid_workspace_rejected_with_message(hists):
    _, _, pm = _model(hists, 1)
    spec = json.loads(json.dumps(dict(pm.workspace)))
    spec["channels"][0]["samples"][0]["modifiers"][0]["type"] = "notamodifier"
    with pytest.raises(FitError, match=r"fails pyhf schema validation .*notamodifier"):
        validated_workspace(spec)


def test_missing_category_named():
    import hist

    h = synthetic_hists([(3.0, 1.0, 2e-10)])
    sig = next(k for k in h["samples"] if k.startswith("signal"))
    old = h["samples"][sig]["mll"]
    h["samples"][sig]["mll"] = hist.Hist(
        old.axes["channel"], old.axes["region"], hist.axis.StrCategory(["nominal"], name="syst"),
        old.axes["mll"], storage=hist.storage.Weight(),
    )
    with pytest.raises(InputFileError, match=r"no syst 'res_up'"):
        extract_templates(h, mass_points(h)[0], scenario=get_scenario("run2"))
