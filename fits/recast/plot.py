"""Summary figure: MiniBooNE-preferred region with neutrino (and LHC) limits — the seed 003 Fig. 6 analogue."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from darknu.errors import ConfigError, InputFileError
from darknu.io import atomic_path

log = logging.getLogger(__name__)

_STYLE = {
    "minerva_le": ("tab:blue", "MINERvA LE"),
    "minerva_me": ("tab:cyan", "MINERvA ME"),
    "charm2_nu": ("tab:red", r"CHARM-II $\nu$"),
    "charm2_nubar": ("darkred", r"CHARM-II $\bar\nu$"),
    "microboone": ("tab:purple", "MicroBooNE (projection)"),
    "lhc": ("black", "LHC expected"),
}


def load_lhc_limits(
    path: str | Path, *, m_ZD: float = 0.03, alpha_eps2: float = 2e-10, scenario: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(m_N, expected |U_μ4|² limit) from an LHC ``limits.json``.

    Accepted layouts: a dict with ``m_N_GeV`` and ``U2_expected`` lists; or records (the
    file itself, or its ``limits`` / ``results`` / ``points`` list) with ``m_N_GeV`` and
    either ``U2_expected`` or ``limit_U2`` (``fits.limits.LimitResult.to_json``). For the
    latter the pyhf, channel- and analysis-"combined" records of the ``nominal`` label at ``m_ZD`` and
    ``alpha_eps2`` are used, of ``scenario`` (default: the first one found).
    """
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot read LHC limits {path}: {exc}") from exc
    if isinstance(obj, dict) and "m_N_GeV" in obj and "U2_expected" in obj:
        return np.asarray(obj["m_N_GeV"], float), np.asarray(obj["U2_expected"], float)
    recs = obj
    if isinstance(obj, dict):
        recs = next((obj[k] for k in ("limits", "results", "points") if isinstance(obj.get(k), list)), None)
    if isinstance(recs, list) and recs and isinstance(recs[0], dict):
        key = next((k for k in ("U2_expected", "limit_U2", "expected") if k in recs[0]), None)
        if key is not None and "m_N_GeV" in recs[0]:

            def keep(r: dict) -> bool:
                return (
                    r.get(key) is not None
                    and r.get("channel", "combined") == "combined"
                    and r.get("analysis", "combined") == "combined"
                    and r.get("method", "pyhf") == "pyhf"
                    and r.get("label", "nominal") == "nominal"  # not e.g. the 1 GeV-electron pass
                    and abs(r.get("m_ZD_GeV", m_ZD) - m_ZD) < 1e-9
                    and abs(r.get("alpha_eps2", alpha_eps2) / alpha_eps2 - 1) < 1e-6
                )

            sel = [r for r in recs if keep(r)]
            scen = scenario or (sel[0].get("scenario") if sel else None)
            sel = sorted((r["m_N_GeV"], r[key]) for r in sel if r.get("scenario", scen) == scen)
            if sel:
                log.info("LHC limits from %s: %d points (scenario %s)", path, len(sel), scen)
                m, u = zip(*sel, strict=True)
                return np.asarray(m, float), np.asarray(u, float)
    keys = list(obj)[:10] if isinstance(obj, dict) else type(obj).__name__
    raise ConfigError(f"{path}: no LHC limits at m_ZD={m_ZD} GeV, alpha_eps2={alpha_eps2} found (top level: {keys})")


def plot_summary(
    path: str | Path,
    *,
    limits: dict[str, dict],
    region: dict | None = None,
    lhc: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = r"$m_{Z'} = 30$ MeV, $\alpha_D = 0.25$, $\alpha\epsilon^2 = 2\times10^{-10}$, Dirac",
) -> Path:
    """Write the (m_N, |U_μ4|²) summary figure (90% CL CLs limits, nominal solid / conservative dashed)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if region is not None:
        m = np.asarray(region["m_N_GeV"])
        u = np.asarray(region["U2"])
        d = np.asarray(region["delta_twice_nll"]).T
        lv = region["levels_2dof"]
        if len(m) > 1:
            ax.contourf(m, u, d, levels=[0, lv["1sigma"], lv["2sigma"], lv["3sigma"]],
                        colors=["orange", "gold", "khaki"], alpha=0.8)  # fmt: skip
            ax.contour(m, u, d, levels=[lv["3sigma"]], colors=["goldenrod"], linewidths=0.8)
        ax.plot([], [], color="orange", lw=6, label=r"MiniBooNE $\nu$ (this fit) 1/2/3$\sigma$")
    for ch, res in limits.items():
        color, label = _STYLE.get(ch, ("gray", ch))
        pts = res["points"]
        mm = [p["m_N_GeV"] for p in pts]
        for sc, ls in (("nominal", "-"), ("conservative", "--")):
            if all(sc in p for p in pts):
                uu = [p[sc]["U2_cls_90"] if p[sc]["U2_cls_90"] is not None else np.nan for p in pts]
                ax.plot(mm, uu, ls, color=color, label=f"{label} 90% CL" if sc == "nominal" else None)
    if lhc is not None:
        ax.plot(lhc[0], lhc[1], ":", color="black", label="LHC expected 95% CL")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # a narrow m_N range gets crowded minor-tick labels on a log axis: label decades and
    # a few round values only
    from matplotlib.ticker import FixedLocator, LogFormatterSciNotation, NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(FixedLocator([0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0]))
    ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    ax.set_xlabel(r"$m_N$ [GeV]")
    ax.set_ylabel(r"$|U_{\mu 4}|^2$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    dest = Path(path)
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format=dest.suffix.lstrip(".") or "png", dpi=150)
    plt.close(fig)
    return dest
