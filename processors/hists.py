"""Histogram definitions of the processor output (docs/interfaces.md §2)."""

from __future__ import annotations

import hist
import numpy as np

CHANNELS = ("ee", "mumu")
REGIONS = ("prompt", "displaced")
SYSTS = ("nominal", "res_up", "res_down", "eff_up", "eff_down")
STAGES = ("preselection", "signal_region")

#: m_ll binning: log-spaced from 5 MeV to 15 GeV with 0.4 % wide bins, so a 1 % peak
#: (sigma) spans ~5 bins at any mass from 10 MeV to 10 GeV (interfaces §2: <= 0.5 %).
MLL_MIN_GEV = 0.005
MLL_MAX_GEV = 15.0
MLL_REL_WIDTH = 0.004
MLL_EDGES = np.geomspace(
    MLL_MIN_GEV,
    MLL_MAX_GEV,
    int(np.ceil(np.log(MLL_MAX_GEV / MLL_MIN_GEV) / np.log1p(MLL_REL_WIDTH))) + 1,
)

#: Control distributions of seed 003 Figs. 3-5: name -> (axis label, edges).
CONTROL_BINS: dict[str, tuple[str, np.ndarray]] = {
    "pt1": (r"$p_T(\ell_1)$ [GeV]", np.linspace(0, 100, 51)),
    "pt2": (r"$p_T(\ell_2)$ [GeV]", np.linspace(0, 60, 61)),
    "pt3": (r"$p_T(\ell_3)$ [GeV]", np.linspace(0, 30, 61)),
    "dphi": (r"$\Delta\phi(\ell_1, Z_D)$", np.linspace(0, np.pi, 64)),
    "dr": (r"$\Delta R(\ell_1, Z_D)$", np.linspace(0, 6, 61)),
    "m3l": (r"$m(\ell_1\ell_2\ell_3)$ [GeV]", np.linspace(0, 150, 76)),
    "pt3l": (r"$p_T(\ell_1\ell_2\ell_3)$ [GeV]", np.linspace(0, 100, 51)),
    "mll": (r"$m_{\ell\ell}$ [GeV]", np.geomspace(0.005, 15, 61)),
    "displacement": ("Z_D vertex displacement [mm]", np.geomspace(1e-3, 1e4, 71)),
}


def new_mll_hist() -> hist.Hist:
    """Empty m_ll histogram: channel x region x syst x mll [GeV], Weight storage."""
    return hist.Hist(
        hist.axis.StrCategory(list(CHANNELS), name="channel"),
        hist.axis.StrCategory(list(REGIONS), name="region"),
        hist.axis.StrCategory(list(SYSTS), name="syst"),
        hist.axis.Variable(MLL_EDGES, name="mll", label=r"$m_{\ell\ell}$ [GeV]"),
        storage=hist.storage.Weight(),
    )


def new_control_hist(name: str) -> hist.Hist:
    """Empty control histogram ``name``: channel x stage x variable, Weight storage."""
    label, edges = CONTROL_BINS[name]
    return hist.Hist(
        hist.axis.StrCategory(list(CHANNELS), name="channel"),
        hist.axis.StrCategory(list(STAGES), name="stage"),
        hist.axis.Variable(edges, name=name, label=label),
        storage=hist.storage.Weight(),
    )
