"""Figures analogous to seed 003 Figs. 3–4 (stacked m_ℓℓ) and 6–9 (limits), as PNG and PDF.

All functions take the result records of ``limits.json`` (``LimitResult.to_json()``
dicts), so figures can be remade from a results file without refitting. Files are
written atomically; each function returns the paths it wrote.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from darknu.io import atomic_path

log = logging.getLogger(__name__)

FORMATS = ("png", "pdf")
M_ZD_FIXED = 0.03  # GeV, seed 003 Fig. 6
ANALYSIS_STYLE = {"prompt": ("tab:blue", "-"), "displaced": ("tab:red", "-"), "combined": ("black", "-")}


def _figure() -> tuple[Any, Any]:
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(mplhep.style.ROOT)
    fig, ax = plt.subplots(figsize=(8, 6))
    return fig, ax


def save_figure(fig: Any, stem: str | os.PathLike[str], *, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for every format, atomically, then close it."""
    import matplotlib.pyplot as plt

    paths = []
    for fmt in formats:
        path = Path(f"{stem}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def _ok(r: Mapping[str, Any]) -> bool:
    return r["status"] in ("ok", "ok_after_retry") and r["limit_U2"] is not None


def _select(results: Iterable[Mapping[str, Any]], **match: Any) -> list[Mapping[str, Any]]:
    out = []
    for r in results:
        if all((math.isclose(r[k], v, rel_tol=1e-6) if isinstance(v, float) else r[k] == v) for k, v in match.items()):
            out.append(r)
    return out


def _draw_curve(ax: Any, rows: list[Mapping[str, Any]], xkey: str, *, color: str, ls: str, label: str,
                band: bool) -> bool:
    rows = sorted((r for r in rows if _ok(r)), key=lambda r: r[xkey])
    if not rows:
        return False
    x = np.array([r[xkey] for r in rows])
    y = np.array([r["limit_U2"] for r in rows])
    if band and all(r["band_1sigma_U2"] for r in rows):
        lo = np.array([r["band_1sigma_U2"][0] for r in rows])
        hi = np.array([r["band_1sigma_U2"][1] for r in rows])
        if all(r["band_2sigma_U2"] for r in rows):
            lo2 = np.array([r["band_2sigma_U2"][0] for r in rows])
            hi2 = np.array([r["band_2sigma_U2"][1] for r in rows])
            ax.fill_between(x, lo2, hi2, color=color, alpha=0.12, lw=0)
        ax.fill_between(x, lo, hi, color=color, alpha=0.25, lw=0)
    ax.plot(x, y, color=color, ls=ls, marker="o", ms=3, label=label)
    return True


def _finish(ax: Any, xlabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"$|U_{\mu 4}|^2$ (expected 95% CL)")
    ax.set_title(title, fontsize=14)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def limit_scan_figure(
    results: Sequence[Mapping[str, Any]],
    out_stem: str | os.PathLike[str],
    *,
    scan: str,
    alpha_eps2: float,
    label: str = "nominal",
    channel: str = "combined",
    window_method: bool = True,
) -> list[Path]:
    """Seed Fig. 6 (``scan="mN"``: m_ZD = 30 MeV, vs m_N) or Fig. 7 (``scan="mZD"``: m_N = 3 m_ZD).

    One curve per scenario × analysis (prompt, displaced, combined), pyhf median with
    ±1σ/±2σ bands; the seed's window method dashed.
    """
    fig, ax = _figure()
    rows = _select(results, alpha_eps2=alpha_eps2, label=label, channel=channel)
    if scan == "mN":
        rows = [r for r in rows if math.isclose(r["m_ZD_GeV"], M_ZD_FIXED, rel_tol=1e-6)]
        xkey, xlabel, title = "m_N_GeV", r"$m_{N_D}$ [GeV]", rf"$m_{{Z_D}}$ = 30 MeV, $\alpha\epsilon^2$ = {alpha_eps2:g}"
    elif scan == "mZD":
        rows = [r for r in rows if math.isclose(r["m_N_GeV"], 3 * r["m_ZD_GeV"], rel_tol=1e-6)]
        xkey, xlabel, title = "m_ZD_GeV", r"$m_{Z_D}$ [GeV]", rf"$m_{{N_D}} = 3 m_{{Z_D}}$, $\alpha\epsilon^2$ = {alpha_eps2:g}"
    else:
        from darknu.errors import ParameterError

        raise ParameterError(f"unknown scan {scan!r}; valid: mN, mZD")
    drew = False
    # the seed's methods (fits.window): S/√B window (prompt), ≥ N signal events (displaced;
    # N = [displaced] required_events of fits/data/projections.toml, 50 in the seed)
    seed_method = {"prompt": "S/√B", "displaced": "≥ N events", "combined": "S/√B"}
    scenarios = sorted({r["scenario"] for r in rows})
    for i, sc in enumerate(scenarios):
        for an, (color, _) in ANALYSIS_STYLE.items():
            ls = "-" if i == 0 else "-."
            sel = [r for r in rows if r["scenario"] == sc and r["analysis"] == an]
            drew |= _draw_curve(ax, [r for r in sel if r["method"] == "pyhf"], xkey, color=color, ls=ls,
                                label=f"{sc} {an} (pyhf)", band=True)
            if window_method:
                drew |= _draw_curve(ax, [r for r in sel if r["method"] == "window"], xkey, color=color,
                                    ls="--" if i == 0 else ":", label=f"{sc} {an} ({seed_method[an]}, seed)",
                                    band=False)
    if not drew:
        ax.text(0.5, 0.5, "no limits for this scan", transform=ax.transAxes, ha="center")
    _finish(ax, xlabel, title)
    return save_figure(fig, out_stem)


def alpha_eps2_figure(
    results: Sequence[Mapping[str, Any]], out_stem: str | os.PathLike[str], *, scan: str, scenario: str,
    label: str = "nominal",
) -> list[Path]:
    """Seed Fig. 8: the combined-channel pyhf limits for each αε², prompt and displaced."""
    fig, ax = _figure()
    rows = _select(results, scenario=scenario, label=label, channel="combined", method="pyhf")
    if scan == "mN":
        rows = [r for r in rows if math.isclose(r["m_ZD_GeV"], M_ZD_FIXED, rel_tol=1e-6)]
        xkey, xlabel = "m_N_GeV", r"$m_{N_D}$ [GeV]"
    else:
        rows = [r for r in rows if math.isclose(r["m_N_GeV"], 3 * r["m_ZD_GeV"], rel_tol=1e-6)]
        xkey, xlabel = "m_ZD_GeV", r"$m_{Z_D}$ [GeV]"
    styles = ["-", "--", ":", "-."]
    for i, a in enumerate(sorted({r["alpha_eps2"] for r in rows}, reverse=True)):
        for an in ("prompt", "displaced"):
            color = ANALYSIS_STYLE[an][0]
            _draw_curve(ax, [r for r in rows if r["alpha_eps2"] == a and r["analysis"] == an], xkey,
                        color=color, ls=styles[i % len(styles)], label=rf"{an}, $\alpha\epsilon^2$={a:g}", band=False)
    _finish(ax, xlabel, f"{scenario}: αε² variations")
    return save_figure(fig, out_stem)


def threshold_figure(
    results: Sequence[Mapping[str, Any]], out_stem: str | os.PathLike[str], *, scan: str, scenario: str,
    alpha_eps2: float,
) -> list[Path]:
    """Seed Fig. 9: combined-channel limits for each histogram label (lepton-threshold settings)."""
    fig, ax = _figure()
    rows = _select(results, scenario=scenario, channel="combined", method="pyhf", alpha_eps2=alpha_eps2)
    if scan == "mN":
        rows = [r for r in rows if math.isclose(r["m_ZD_GeV"], M_ZD_FIXED, rel_tol=1e-6)]
        xkey, xlabel = "m_N_GeV", r"$m_{N_D}$ [GeV]"
    else:
        rows = [r for r in rows if math.isclose(r["m_N_GeV"], 3 * r["m_ZD_GeV"], rel_tol=1e-6)]
        xkey, xlabel = "m_ZD_GeV", r"$m_{Z_D}$ [GeV]"
    styles = ["-", "--", ":", "-."]
    for i, lab in enumerate(sorted({r["label"] for r in rows})):
        for an in ("prompt", "displaced"):
            _draw_curve(ax, [r for r in rows if r["label"] == lab and r["analysis"] == an], xkey,
                        color=ANALYSIS_STYLE[an][0], ls=styles[i % len(styles)], label=f"{an}, {lab}", band=False)
    _finish(ax, xlabel, f"{scenario}: lepton-threshold scenarios")
    return save_figure(fig, out_stem)


def mll_stack_figure(
    templates: Mapping[str, Any],
    out_stem: str | os.PathLike[str],
    *,
    channel: str,
    signals: Mapping[str, np.ndarray] | None = None,
    u2: float = 1e-6,
    u2_ref: float = 1e-4,
    title: str = "",
) -> list[Path]:
    """Seed Figs. 3–4: stacked backgrounds per process and signal overlays in m_ℓℓ.

    ``templates`` is one :class:`fits.lhc.ChannelTemplates` (expected events in the
    scenario); ``signals`` maps legend labels to signal arrays at ``u2_ref``, drawn
    scaled to ``u2`` (seed Fig. 4 uses |U|² = 1e-6 for visibility).
    """
    import mplhep

    fig, ax = _figure()
    edges = templates.edges
    procs = sorted(templates.background_by_process.items(), key=lambda kv: kv[1].sum())
    if procs:
        mplhep.histplot([v for _, v in procs], edges, stack=True, histtype="fill", label=[k for k, _ in procs], ax=ax)
    for lab, sig in (signals or {}).items():
        mplhep.histplot(np.asarray(sig) * (u2 / u2_ref), edges, histtype="step", label=lab, ax=ax, lw=1.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    tops = [float(np.sum([v for _, v in procs], axis=0).max())] if procs else []
    tops += [float(np.max(sig)) * (u2 / u2_ref) for sig in (signals or {}).values()]
    top = max([t for t in tops if t > 0], default=1.0)
    ax.set_ylim(top * 1e-5, top * 30)
    ax.set_xlabel(r"$m_{\ell\ell}$ [GeV]")
    ax.set_ylabel("Events / bin")
    ax.set_title(title or channel, fontsize=14)
    ax.legend(fontsize=10, title=rf"signal at $|U_{{\mu4}}|^2$ = {u2:g}", title_fontsize=10)
    return save_figure(fig, out_stem)
