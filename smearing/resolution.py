"""Di-electron mass resolution of a smearing set (seed 003 Fig. 2) and its plot.

The resolution is the half-width of the smallest interval holding 68 % of the smeared
masses, relative to the true mass (seed 003 Fig. 2 caption). Without signal files it is
evaluated on a toy of the signal kinematics: W at rest -> mu N, N -> nu Z_D, Z_D -> e+e-,
each decay isotropic in its rest frame (W transverse momentum and spin correlations
neglected; the electron pT spectrum, which sets the pT-dependent resolution, is then
roughly right for W produced near rest, as seed 003 §V argues).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from darknu.errors import ParameterError, check_range
from smearing.response import DetectorModel, smear_leptons

log = logging.getLogger(__name__)

M_W_GEV = 80.379  # PDG 2022
M_MU_GEV = 0.1056584
M_E_GEV = 0.000511


def smallest_interval(values: np.ndarray, *, fraction: float = 0.68) -> tuple[float, float]:
    """Smallest interval [lo, hi] holding ``fraction`` of ``values``.

    >>> smallest_interval(np.array([0.0, 1, 2, 3, 100]), fraction=0.6)
    (0.0, 2.0)
    """
    check_range("fraction", fraction, low=0.0, high=1.0, high_inclusive=True)
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ParameterError("smallest_interval needs at least one finite value")
    k = max(int(np.ceil(fraction * x.size)), 1)
    widths = x[k - 1 :] - x[: x.size - k + 1]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k - 1])


def _isotropic(rng: np.random.Generator, n: int) -> np.ndarray:
    cos = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin = np.sqrt(1 - cos**2)
    return np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=1)


def _two_body(m: float, m1: float, m2: float) -> float:
    lam = (m**2 - (m1 + m2) ** 2) * (m**2 - (m1 - m2) ** 2)
    return float(np.sqrt(max(lam, 0.0)) / (2 * m))


def _boost(p4: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Boost four-vectors ``p4`` (E, px, py, pz) from the parent rest frame to the lab."""
    e_par = parent[:, 0]
    b = parent[:, 1:] / e_par[:, None]
    b2 = np.sum(b**2, axis=1)
    gamma = 1 / np.sqrt(1 - b2)
    bp = np.sum(b * p4[:, 1:], axis=1)
    g2 = np.where(b2 > 0, (gamma - 1) / np.where(b2 > 0, b2, 1), 0.0)
    e = gamma * (p4[:, 0] + bp)
    p = p4[:, 1:] + (g2 * bp + gamma * p4[:, 0])[:, None] * b
    return np.column_stack([e, p])


def toy_signal_electrons(
    *, m_N_GeV: float, m_ZD_GeV: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Lab four-vectors (n, 4) of the two Z_D electrons in the toy described in the module."""
    _, e1, e2 = toy_signal_leptons(m_N_GeV=m_N_GeV, m_ZD_GeV=m_ZD_GeV, n=n, rng=rng)
    return e1, e2


def toy_signal_leptons(
    *, m_N_GeV: float, m_ZD_GeV: float, n: int, rng: np.random.Generator, m_l_GeV: float = M_E_GEV
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lab four-vectors (n, 4) of the W muon and the two Z_D leptons (mass ``m_l_GeV``)."""
    check_range("m_N", m_N_GeV, low=0.0, high=M_W_GEV - M_MU_GEV, unit="GeV")
    check_range("m_ZD", m_ZD_GeV, low=2 * m_l_GeV, high=m_N_GeV, unit="GeV")
    p_n = _two_body(M_W_GEV, M_MU_GEV, m_N_GeV)
    n4 = np.column_stack([np.full(n, np.hypot(p_n, m_N_GeV)), p_n * _isotropic(rng, n)])
    p_z = _two_body(m_N_GeV, 0.0, m_ZD_GeV)
    z4 = _boost(
        np.column_stack([np.full(n, np.hypot(p_z, m_ZD_GeV)), p_z * _isotropic(rng, n)]), n4
    )
    p_e = _two_body(m_ZD_GeV, m_l_GeV, m_l_GeV)
    d = _isotropic(rng, n)
    e_e = np.hypot(p_e, m_l_GeV)
    e1 = _boost(np.column_stack([np.full(n, e_e), p_e * d]), z4)
    e2 = _boost(np.column_stack([np.full(n, e_e), -p_e * d]), z4)
    mu = np.column_stack([np.full(n, np.hypot(p_n, M_MU_GEV)), -n4[:, 1:]])
    return mu, e1, e2


def pt_eta_phi(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = np.hypot(p4[:, 1], p4[:, 2])
    return pt, np.arcsinh(p4[:, 3] / pt), np.arctan2(p4[:, 2], p4[:, 1])


def pair_mass(pt1, eta1, phi1, pt2, eta2, phi2, m1=M_E_GEV, m2=M_E_GEV):  # type: ignore[no-untyped-def]
    """Invariant mass of two leptons from (pT, eta, phi) [GeV]."""
    px = pt1 * np.cos(phi1) + pt2 * np.cos(phi2)
    py = pt1 * np.sin(phi1) + pt2 * np.sin(phi2)
    pz = pt1 * np.sinh(eta1) + pt2 * np.sinh(eta2)
    e = np.sqrt((pt1 * np.cosh(eta1)) ** 2 + m1**2) + np.sqrt((pt2 * np.cosh(eta2)) ** 2 + m2**2)
    return np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))


@dataclass(frozen=True)
class ResolutionCurve:
    """Relative di-electron mass resolution vs m_ZD for one electron set."""

    electron_set: str
    m_N_GeV: float
    m_ZD_GeV: tuple[float, ...]
    resolution: tuple[float, ...]  # half-width of smallest 68 % interval / m_ZD


def dielectron_mass_resolution(
    model: DetectorModel,
    *,
    electron_set: str,
    m_ZD_GeV: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 9.0),
    m_N_GeV: float = 10.0,
    n: int = 20000,
    seed: int = 2310_13042,
) -> ResolutionCurve:
    """Seed 003 Fig. 2: relative resolution of m_ee for the toy signal at ``m_N_GeV``."""
    res = []
    for i, m in enumerate(m_ZD_GeV):
        rng = np.random.default_rng([seed, i])
        e1, e2 = toy_signal_electrons(m_N_GeV=m_N_GeV, m_ZD_GeV=m, n=n, rng=rng)
        k1, k2 = pt_eta_phi(e1), pt_eta_phi(e2)
        pt = np.concatenate([k1[0], k2[0]])
        eta = np.concatenate([k1[1], k2[1]])
        phi = np.concatenate([k1[2], k2[2]])
        sm = smear_leptons(
            model,
            pt=pt,
            eta=eta,
            phi=phi,
            is_electron=np.ones(2 * n, bool),
            z=rng.standard_normal((2 * n, 3)),
            electron_set=electron_set,
        )
        mll = pair_mass(sm.pt[:n], sm.eta[:n], sm.phi[:n], sm.pt[n:], sm.eta[n:], sm.phi[n:])
        lo, hi = smallest_interval(mll)
        res.append(0.5 * (hi - lo) / m)
    return ResolutionCurve(
        electron_set, float(m_N_GeV), tuple(float(m) for m in m_ZD_GeV), tuple(res)
    )


def plot_mass_resolution(curves: list[ResolutionCurve], path: str | Path) -> Path:
    """Plot relative resolution vs m_ZD for each curve (seed 003 Fig. 2); write atomically."""
    import matplotlib.pyplot as plt

    from darknu.io import atomic_path

    fig, ax = plt.subplots(figsize=(5, 4))
    for c in curves:
        ax.plot(c.m_ZD_GeV, 100 * np.asarray(c.resolution), marker="o", label=c.electron_set)
    if len(curves) == 2:
        ax.fill_between(
            curves[0].m_ZD_GeV,
            100 * np.asarray(curves[0].resolution),
            100 * np.asarray(curves[1].resolution),
            alpha=0.2,
            label="band",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_{Z_D}$ [GeV]")
    ax.set_ylabel(r"$m_{ee}$ resolution (68% interval half-width) [%]")
    ax.set_title(f"toy signal, $m_N$ = {curves[0].m_N_GeV:g} GeV" if curves else "")
    ax.legend()
    fig.tight_layout()
    dest = Path(path)
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format=dest.suffix.lstrip(".") or "png")
    plt.close(fig)
    log.info("wrote %s", dest)
    return dest
