"""MicroBooNE e⁺e⁻ search as a *projection* channel ``microboone`` (seed 004, expected limit only).

Seed 004 (MicroBooNE public note, 6.87e20 POT) quotes only selection efficiencies, not the
background yields of the e⁺e⁻ selections, so this channel is a projection: a single
counting bin whose "data" are the assumed background (Asimov, expected limit).

- Signal: DarkNews ``microboone`` (Ar, 170 t, 6.8e20 POT; scaled to 6.87e20), all
  scattering regimes, times the efficiency vs true e⁺e⁻ energy:
  ``"wirecell"`` (light-Z' selection, seed 004 Fig. 7: 16% at low energy rising to 40%
  above 300 MeV; we use 16% at ≤ 0.1 GeV, linear to 40% at 0.3 GeV, flat above) or
  ``"pandora"`` (seed 004 Fig. 4: 18% at 200 MeV rising to 30% at 600 MeV, flat above).
- Background: ``background_events`` (default 100, an ASSUMPTION, not a MicroBooNE number)
  with a ``microboone_bkg_norm`` uncertainty (default 20%, assumption). Change both when
  the collaboration's numbers are available.
"""

from __future__ import annotations

import logging

import numpy as np
import pyhf

from darknu.errors import check_choice
from fits.recast.common import as_list, normsys, pair_shower, poi_modifier, workspace_spec
from fits.recast.generate import EXPERIMENTS, SignalEvents

log = logging.getLogger(__name__)

POT = 6.87e20  #: seed 004, runs 1-3
_EFF = {"wirecell": ([0.1, 0.3], [0.16, 0.40]), "pandora": ([0.2, 0.6], [0.18, 0.30])}


def efficiency(e_GeV: np.ndarray, *, selection: str = "wirecell") -> np.ndarray:
    """Selection efficiency vs true pair energy (piecewise linear, flat outside; seed 004).

    >>> efficiency(np.array([0.05, 0.2, 1.0])).round(2).tolist()
    [0.16, 0.28, 0.4]
    """
    check_choice("MicroBooNE selection", selection, list(_EFF))
    x, y = _EFF[selection]
    return np.interp(e_GeV, x, y)


def expected_signal(events: SignalEvents, *, selection: str = "wirecell") -> float:
    """Selected e⁺e⁻ events at |U_μ4|² = 1e-4 and 6.87e20 POT."""
    sh = pair_shower(events.p_eplus, events.p_eminus)
    w = events.weight * efficiency(sh.energy, selection=selection) * POT / EXPERIMENTS["microboone"].pot
    return float(w.sum())


def build_workspace(
    events: SignalEvents,
    *,
    selection: str = "wirecell",
    background_events: float = 100.0,
    bkg_uncertainty: float = 0.20,
) -> pyhf.Workspace:
    """Projection workspace (Asimov data = background): gives *expected* limits only."""
    s = expected_signal(events, selection=selection)
    log.info("microboone projection m_N=%g: %.4g signal events at U2=1e-4 (%s), assumed bkg %.0f",
             events.m_N, s, selection, background_events)
    channel = {
        "name": "microboone",
        "samples": [
            {"name": "signal", "data": [s], "modifiers": [poi_modifier()]},
            {"name": "background", "data": [background_events],
             "modifiers": [normsys("microboone_bkg_norm", bkg_uncertainty)]},
        ],
    }
    return pyhf.Workspace(workspace_spec([channel], [{"name": "microboone", "data": as_list([background_events])}]))
