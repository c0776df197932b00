"""``darknu recast`` and ``darknu combine`` end to end with tiny DarkNews runs."""

import json

import pyhf

from darknu.cli import main

from ..test_combine import lhc_like  # noqa: TID252  (shared LHC-like workspace builder)


def test_recast_and_combine_cli(tmp_path, capsys):
    out = tmp_path / "R"
    args = ["recast", "--experiment", "minerva_le", "--out", str(out), "--m-n", "0.2", "--events", "500", "--seed", "7"]
    assert main(args) == 0
    assert "darknu recast: wrote" in capsys.readouterr().out
    res = json.loads((out / "limits_minerva_le.json").read_text())
    point = res["points"][0]
    assert point["m_N_GeV"] == 0.2
    assert point["nominal"]["U2_cls_90"] < point["nominal"]["U2_cls_95"]
    assert point["nominal"]["U2_cls_90"] < point["conservative"]["U2_cls_90"]
    assert (out / "figures" / "recast_summary.png").stat().st_size > 1000
    ws = pyhf.Workspace(json.loads((out / "workspaces" / "minerva_le_mN0.2_nominal.json").read_text()))
    assert ws.channels == ["minerva_le"]

    assert main(args) == 2  # refuses to overwrite without --force
    assert "already holds results" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0  # cached DarkNews events are reused

    lhc_dir = tmp_path / "lhc"
    lhc_dir.mkdir()
    (lhc_dir / "workspace_signal_mN0.2_mZD0.03.json").write_text(json.dumps(dict(lhc_like())))
    (lhc_dir / "workspace_signal_mN0.3_mZD0.03.json").write_text(json.dumps(dict(lhc_like())))  # no recast there
    comb = tmp_path / "C"
    assert main(["combine", "--lhc-limits", str(lhc_dir), "--recast", str(out), "--channels", "lhc,minerva_le",
                 "--out", str(comb)]) == 0  # fmt: skip
    assert "darknu combine: wrote" in capsys.readouterr().out
    rows = json.loads((comb / "combined_limits.json").read_text())["points"]
    assert rows[0]["channels"] == ["lhc_ee_prompt", "minerva_le"]
    assert rows[0]["combined"] <= 1.02 * min(rows[0]["lhc_ee_prompt"], rows[0]["minerva_le"])
    assert rows[0]["status"] == "ok" and "missing" not in rows[0]
    # m_N = 0.3 GeV has an LHC workspace but no MINERvA one: combined from the LHC alone, and said
    assert rows[1]["m_N_GeV"] == 0.3 and rows[1]["channels"] == ["lhc_ee_prompt"]
    assert rows[1]["status"] == "partial" and rows[1]["missing"] == ["minerva_le"]
    assert "no minerva_le channel at m_N = 0.3 GeV" in rows[1]["message"]


def test_load_lhc_limits_formats(tmp_path):
    import pytest

    from darknu.errors import ConfigError
    from fits.recast.plot import load_lhc_limits

    rec = {"m_ZD_GeV": 0.03, "alpha_eps2": 2e-10, "method": "pyhf", "channel": "combined", "analysis": "combined",
           "scenario": "run2"}  # fmt: skip
    recs = [
        {**rec, "m_N_GeV": 10.0, "limit_U2": 2e-6},
        {**rec, "m_N_GeV": 1.0, "limit_U2": 5e-6},
        {**rec, "m_N_GeV": 1.0, "limit_U2": 9e-9, "scenario": "hllhc"},
        {**rec, "m_N_GeV": 1.0, "limit_U2": 1e-9, "channel": "ee"},
        {**rec, "m_N_GeV": 1.0, "limit_U2": 1e-9, "alpha_eps2": 2e-9},
    ]
    f = tmp_path / "limits.json"
    f.write_text(json.dumps({"limits": recs}))
    m, u = load_lhc_limits(f)
    assert m.tolist() == [1.0, 10.0] and u.tolist() == [5e-6, 2e-6]
    assert load_lhc_limits(f, scenario="hllhc")[1].tolist() == [9e-9]
    f.write_text(json.dumps({"m_N_GeV": [1, 2], "U2_expected": [1e-6, 2e-6]}))
    assert load_lhc_limits(f)[0].tolist() == [1.0, 2.0]
    f.write_text(json.dumps({"something": 1}))
    with pytest.raises(ConfigError, match="no LHC limits"):
        load_lhc_limits(f)
