"""Recast pipeline: workspaces, limits vs m_N and the MiniBooNE-preferred region, written to disk."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyhf
from scipy import stats as sps

from darknu.errors import FitError, check_choice
from darknu.io import atomic_write_json
from fits.recast import charm2, microboone, minerva, miniboone
from fits.recast.generate import generate
from fits.recast.model import REFERENCE, U2_REF, prompt_fraction
from fits.recast.stats import goodness_of_fit, profile_twice_nll, upper_limit

log = logging.getLogger(__name__)

#: ``--experiment`` choices and the channels each one builds.
EXPERIMENT_CHANNELS: dict[str, tuple[str, ...]] = {
    "minerva_le": ("minerva_le",),
    "minerva_me": ("minerva_me",),
    "charm2": ("charm2_nu", "charm2_nubar"),
    "miniboone": ("miniboone_nu",),
    "microboone": ("microboone",),
}
#: smallest fiducial dimension in mm (for the promptness check): MINERvA ≈ 2 m hexagon,
#: CHARM-II ≈ 3.7 m transverse, MiniBooNE ≈ 10 m sphere, MicroBooNE ≈ 2.3 m (approximate).
DETECTOR_SCALE_MM = {
    "minerva_le": 2000.0, "minerva_me": 2000.0, "charm2_nu": 3700.0, "charm2_nubar": 3700.0,
    "miniboone_nu": 10000.0, "microboone": 2300.0,
}  # fmt: skip
#: nominal and conservative background normalisation uncertainties (seed 000; for CHARM-II the
#: uncertainty in the Eθ² < 30 MeV rad² signal region after the sideband constraint).
BKG_SCENARIOS: dict[str, dict[str, float]] = {
    "minerva_le": {"nominal": 0.30, "conservative": 1.00},
    "minerva_me": {"nominal": 0.30, "conservative": 1.00},
    "charm2_nu": {"nominal": 0.03, "conservative": 0.10},
    "charm2_nubar": {"nominal": 0.03, "conservative": 0.10},
}
#: Δ(−2 ln L) for 1σ, 2σ, 3σ with 2 degrees of freedom (m_N, |U_μ4|²).
DCHI2_2DOF = {f"{k}sigma": float(sps.chi2.ppf(sps.chi2.cdf(k**2, 1), 2)) for k in (1, 2, 3)}


@dataclass(frozen=True)
class RecastSettings:
    m_ZD: float = 0.03
    neval: int = 20000
    seed: int = 1
    cache_dir: Path | None = None
    force: bool = False
    #: CHARM-II likelihood: "rate" (seed 000, signal region only) or "shape" (16 bins), see fits.recast.charm2
    charm2_treatment: str = "rate"


def build_channel(
    channel: str,
    m_N: float,
    settings: RecastSettings,
    *,
    scenario: str = "nominal",
    release: str = "2020",
    observable: str = "E_QE",
) -> pyhf.Workspace:
    """Workspace of one channel at one mass point (signal at |U_μ4|² = 1e-4); ``release`` for MiniBooNE."""
    ev = generate(
        channel, m_N=m_N, m_ZD=settings.m_ZD, seed=settings.seed, neval=settings.neval,
        cache_dir=settings.cache_dir, force=settings.force,
    )  # fmt: skip
    p_zd = ev.p_eplus[:, 1:] + ev.p_eminus[:, 1:]
    frac = prompt_fraction(
        p_zd, ev.weight, m_N=m_N, m_ZD=settings.m_ZD, couplings=REFERENCE, detector_scale_mm=DETECTOR_SCALE_MM[channel]
    )
    if frac < 0.99:
        log.warning(
            "%s m_N=%g: only %.3f of the signal decays within 5%% of the detector size; the linear "
            "coupling scaling is approximate here", channel, m_N, frac,
        )  # fmt: skip
    if channel in ("minerva_le", "minerva_me"):
        return minerva.build_workspace(channel, ev, bkg_uncertainty=BKG_SCENARIOS[channel][scenario])
    if channel in ("charm2_nu", "charm2_nubar"):
        return charm2.build_workspace(
            channel, ev, bkg_uncertainty=BKG_SCENARIOS[channel][scenario], treatment=settings.charm2_treatment
        )
    if channel == "miniboone_nu":
        return miniboone.build_workspace(ev, release=release, observable=observable)
    if channel == "microboone":
        return microboone.build_workspace(ev)
    check_choice("channel", channel, [c for cs in EXPERIMENT_CHANNELS.values() for c in cs])
    raise AssertionError(channel)  # pragma: no cover


def limits_vs_mass(
    channel: str, m_N_values: Sequence[float], settings: RecastSettings, *, out_dir: Path | None = None
) -> dict:
    """90% and 95% CL limits on |U_μ4|² vs m_N (CLs and seed-000 Δχ² 2-dof), both bkg scenarios."""
    scenarios = list(BKG_SCENARIOS.get(channel, {"nominal": 0.0}))
    rows = []
    for m_N in m_N_values:
        row: dict = {"m_N_GeV": m_N}
        for sc in scenarios:
            ws = build_channel(channel, m_N, settings, scenario=sc)
            if out_dir is not None:
                atomic_write_json(out_dir / "workspaces" / f"{channel}_mN{m_N:g}_{sc}.json", dict(ws))
            gof = goodness_of_fit(ws)
            entry = {"gof_bkg_only": {"chi2": gof.chi2, "ndof": gof.ndof, "pvalue": gof.pvalue}}
            for cl in (0.90, 0.95):
                for method in ("cls", "dchi2_2dof"):
                    try:
                        entry[f"U2_{method}_{int(cl * 100)}"] = upper_limit(ws, cl=cl, method=method).U2
                    except FitError as exc:
                        log.warning("%s m_N=%g %s: %s", channel, m_N, sc, exc)
                        entry[f"U2_{method}_{int(cl * 100)}"] = None
            row[sc] = entry
            log.info("%s m_N=%g %s: 90%% CLs |U|^2 < %s; bkg-only %s", channel, m_N, sc, entry["U2_cls_90"], gof)
        rows.append(row)
    return {"channel": channel, "points": rows}


def preferred_region(
    m_N_values: Sequence[float],
    settings: RecastSettings,
    *,
    release: str = "2020",
    observable: str = "E_QE",
    n_u2: int = 41,
    u2_range: tuple[float, float] = (1e-10, 1e-5),
) -> dict:
    """MiniBooNE-preferred region (ν mode, ``release``): Δ(−2 ln L) on an (m_N, |U_μ4|²) grid, 2 dof levels."""
    u2 = np.geomspace(*u2_range, n_u2)
    grid = np.empty((len(m_N_values), n_u2))
    bkg_only = np.empty(len(m_N_values))
    for i, m_N in enumerate(m_N_values):
        ws = build_channel("miniboone_nu", m_N, settings, release=release, observable=observable)
        vals = profile_twice_nll(ws, np.concatenate([[0.0], u2 / U2_REF]))
        bkg_only[i], grid[i] = vals[0], vals[1:]
    best = float(grid.min())
    delta = grid - best
    i_best, j_best = np.unravel_index(int(np.argmin(grid)), grid.shape)
    intervals = {}
    for name, level in DCHI2_2DOF.items():
        intervals[name] = [
            [float(u2[row < level].min()), float(u2[row < level].max())] if np.any(row < level) else None
            for row in delta
        ]
    return {
        "release": release,
        "observable": observable,
        "m_N_GeV": list(map(float, m_N_values)),
        "U2": u2.tolist(),
        "delta_twice_nll": delta.tolist(),
        "levels_2dof": DCHI2_2DOF,
        "best_fit": {"m_N_GeV": float(m_N_values[i_best]), "U2": float(u2[j_best])},
        "delta_bkg_only": float(bkg_only.min() - best),
        "intervals_U2": intervals,
    }
