"""fits.results and fits.cli: limits.json schema, validated workspaces, figures, no clobbering."""

from __future__ import annotations

import argparse
import json

import pyhf
import pytest
from synthetic import synthetic_hists

from darknu.errors import FitError, OutputExistsError
from fits import cli
from fits.limits import LimitResult
from fits.results import FORMAT, read_results, write_results
from processors.histio import save_histograms


def _parser():
    p = argparse.ArgumentParser(prog="darknu")
    cli.register(p.add_subparsers(dest="command"))
    return p


@pytest.fixture(scope="module")
def hist_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hists")
    nominal = d / "h.json"
    save_histograms(nominal, synthetic_hists([(0.3, 0.03, 2e-10), (3.0, 1.0, 2e-10)]))
    low = d / "h_e1.json"  # a "1 GeV electron threshold" file: more signal and background
    save_histograms(low, synthetic_hists([(0.3, 0.03, 2e-10), (3.0, 1.0, 2e-10)], bkg_norm=3.0))
    return nominal, low


def test_cli_writes_results_workspaces_figures(hist_files, tmp_path, capsys):
    out = tmp_path / "R"
    args = _parser().parse_args(
        ["limits", "--hists", str(hist_files[0]), "--hists", f"ele1GeV={hist_files[1]}",
         "--scenario", "run2", "--out", str(out), "--executor", "iterative"]
    )
    assert args.func(args) == 0
    msg = capsys.readouterr().out
    assert "limits.json" in msg and "workspaces" in msg and "figures" in msg
    doc = read_results(out / "limits.json")
    assert doc["format"] == FORMAT and doc["n_failed"] == 0
    rows = doc["results"]
    keys = {"m_N_GeV", "m_ZD_GeV", "alpha_eps2", "scenario", "label", "channel", "analysis", "method",
            "limit_U2", "band_1sigma_U2", "band_2sigma_U2", "status", "workspace"}
    assert all(keys <= set(r) for r in rows)
    assert {r["label"] for r in rows} == {"nominal", "ele1GeV"}
    ok = [r for r in rows if r["method"] == "pyhf" and r["status"] == "ok"]
    assert {(r["channel"], r["analysis"]) for r in ok} >= {("combined", "combined"), ("ee", "prompt")}
    for r in ok:
        lo2, hi2 = r["band_2sigma_U2"]
        lo1, hi1 = r["band_1sigma_U2"]
        assert 0 < lo2 < lo1 < r["limit_U2"] < hi1 < hi2
    # every written workspace validates and is referenced
    ws_files = sorted((out / "workspaces").glob("*.json"))
    assert len(ws_files) == 4
    for f in ws_files:
        pyhf.schema.validate(json.loads(f.read_text()), "workspace.json")
    assert {r["workspace"] + ".json" for r in ok} <= {f.name for f in ws_files}
    figs = {f.name for f in (out / "figures").iterdir()}
    for stem in ("fig6_limits_vs_mN_aeps2_2e-10", "fig7_limits_vs_mZD_aeps2_2e-10",
                 "fig9_thresholds_mN_run2", "fig4_mll_lhc_ee_prompt_run2"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= figs
    assert not [f for f in out.rglob("*.tmp*")]  # atomic writes leave no temporaries
    # refuses to overwrite without --force
    with pytest.raises(OutputExistsError, match="--force"):
        args.func(args)


def test_cli_bad_scenario_lists_valid(hist_files, tmp_path):
    from darknu.errors import ParameterError

    args = _parser().parse_args(["limits", "--hists", str(hist_files[0]), "--scenario", "run4",
                                 "--out", str(tmp_path / "X")])
    with pytest.raises(ParameterError, match="valid: hllhc, run2"):
        args.func(args)
    assert not (tmp_path / "X").exists()


def test_write_results_rejects_invalid_workspace(tmp_path):
    r = LimitResult(1.0, 0.1, 2e-10, "run2", "nominal", "ee", "prompt", "pyhf", 1e-6, (5e-7, 2e-6),
                    (3e-7, 4e-6), "ok", workspace="w")
    bad = {"channels": [{"name": "lhc_ee_prompt", "samples": []}], "version": "1.0.0"}
    with pytest.raises(FitError, match="schema validation"):
        write_results(tmp_path, [r], {"w": bad})
    assert not (tmp_path / "limits.json").exists()


def test_results_need_known_status(tmp_path):
    r = LimitResult(1.0, 0.1, 2e-10, "run2", "nominal", "ee", "prompt", "pyhf", None, None, None, "weird")
    with pytest.raises(FitError, match="unknown status 'weird'"):
        write_results(tmp_path, [r], {})
