"""Synthetic histogram inputs (docs/interfaces.md §2 layout) for the fits tests and benchmark.

Background: falling spectra dN/dm ∝ 1/m (per 1 fb⁻¹ at 13 TeV) in the prompt channels and
a tiny one in the displaced ones; signal: Gaussian peaks at m_ZD with σ_m = 2% (μμ) /
3% (ee), 85% efficiency variations ±(5/85)·3, resolution variations ±50%, split between
prompt and displaced by ``displaced_fraction``. Numbers are made up for tests only.
"""

from __future__ import annotations

import hist
import numpy as np

SYSTS = ["nominal", "res_up", "res_down", "eff_up", "eff_down"]
EDGES = np.geomspace(0.005, 12.0, int(np.log(12.0 / 0.005) / np.log(1.005)) + 1)
M_MU = 0.10566


def _empty() -> hist.Hist:
    return hist.Hist(
        hist.axis.StrCategory(["ee", "mumu"], name="channel"),
        hist.axis.StrCategory(["prompt", "displaced"], name="region"),
        hist.axis.StrCategory(SYSTS, name="syst"),
        hist.axis.Variable(EDGES, name="mll", label="m_ll [GeV]"),
        storage=hist.storage.Weight(),
    )


def _gauss_counts(mean: float, sigma: float, total: float) -> np.ndarray:
    from scipy.stats import norm

    cdf = norm.cdf(EDGES, loc=mean, scale=sigma)
    return total * np.diff(cdf)


def _set(h: hist.Hist, ch: str, reg: str, syst: str, values: np.ndarray, variances: np.ndarray) -> None:
    view = h.view(flow=False)
    i = list(h.axes["channel"]).index(ch)
    j = list(h.axes["region"]).index(reg)
    k = SYSTS.index(syst)
    view.value[i, j, k, :] = values
    view.variance[i, j, k, :] = variances


def background_entry(process: str, *, norm: float, displaced_norm: float = 0.0) -> dict:
    """Background sample: ∝ 1/m in prompt (``norm`` events per fb⁻¹ per e-fold of m)."""
    h = _empty()
    centres = 0.5 * (EDGES[1:] + EDGES[:-1])
    widths = np.diff(EDGES)
    shape = widths / centres
    for ch in ("ee", "mumu"):
        on = centres > (2 * M_MU if ch == "mumu" else 0.0)
        for reg, n in (("prompt", norm), ("displaced", displaced_norm)):
            vals = n * shape * on
            for syst in SYSTS:
                # MC weights ~ 0.01 events/fb^-1 per entry
                _set(h, ch, reg, syst, vals, vals * 0.01)
    meta = {"kind": "background", "process": process, "sqrt_s_TeV": 13.0, "xsec_pb": 1.0}
    return {"metadata": meta, "mll": h, "control": {}, "cutflow": {}}


def signal_entry(
    m_N: float, m_ZD: float, alpha_eps2: float, *, total: float = 5.0, displaced_fraction: float = 0.3
) -> dict:
    """Signal sample at |U|² = 1e-4: ``total`` events per fb⁻¹ split ee/μμ by a toy BR."""
    h = _empty()
    br_mumu = 0.0 if m_ZD < 2 * M_MU else 0.4
    for ch, br, rel in (("ee", 1.0 - br_mumu, 0.03), ("mumu", br_mumu, 0.02)):
        for reg, frac in (("prompt", 1.0 - displaced_fraction), ("displaced", displaced_fraction)):
            n = total * br * frac
            for syst in SYSTS:
                sig = rel * m_ZD * {"res_up": 1.5, "res_down": 0.5}.get(syst, 1.0)
                eff = {"eff_up": (0.90 / 0.85) ** 3, "eff_down": (0.80 / 0.85) ** 3}.get(syst, 1.0)
                vals = _gauss_counts(m_ZD, sig, n * eff) if n > 0 else np.zeros(EDGES.size - 1)
                _set(h, ch, reg, syst, vals, vals * 1e-3)
    meta = {
        "kind": "signal",
        "process": "signal",
        "sqrt_s_TeV": 13.0,
        "m_N_GeV": m_N,
        "m_ZD_GeV": m_ZD,
        "alpha_eps2": alpha_eps2,
        "U2_ref": 1e-4,
    }
    return {"metadata": meta, "mll": h, "control": {}, "cutflow": {}}


def synthetic_hists(points: list[tuple[float, float, float]], *, bkg_norm: float = 2.0) -> dict:
    """A histogram-file dict with W/Z/ttbar backgrounds and one signal entry per point."""
    samples = {
        "W_gamma": background_entry("W_gamma", norm=bkg_norm, displaced_norm=0.0),
        "Z_gamma": background_entry("Z_gamma", norm=0.3 * bkg_norm),
        "ttbar_gamma": background_entry("ttbar_gamma", norm=0.1 * bkg_norm),
    }
    for m_N, m_ZD, a in points:
        samples[f"signal_mN{m_N:g}_mZD{m_ZD:g}__aeps2_{a:g}"] = signal_entry(m_N, m_ZD, a)
    return {"format": "darknu-hists/1", "lumi_ref_fb": 1.0, "samples": samples, "provenance": {"synthetic": True}}


def benchmark_points() -> list[tuple[float, float, float]]:
    """15 mass points: m_ZD = 30 MeV vs m_N (6), m_N = 3 m_ZD (9)."""
    pts = [(m_N, 0.03, 2e-10) for m_N in (0.1, 0.3, 1.0, 3.0, 5.0, 10.0)]
    pts += [(3 * m, m, 2e-10) for m in (0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0)]
    return pts
