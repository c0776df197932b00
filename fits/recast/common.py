"""Shared pieces of the recasts: data tables, shower kinematics, resolution, pyhf spec helpers."""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from darknu.errors import InputFileError

log = logging.getLogger(__name__)

DATA_DIR = Path(str(files("fits") / "data" / "neutrino"))

#: measurement config required by interfaces §3 (identical in every workspace).
MEASUREMENT_CONFIG: dict = {
    "poi": "mu",
    "parameters": [{"name": "mu", "bounds": [[0.0, 1000.0]], "inits": [1.0]}],
}
MEASUREMENT_NAME = "darknu"


def read_table(name: str) -> dict[str, np.ndarray]:
    """Read a CSV of ``fits/data/neutrino`` into columns (floats; empty cells are NaN)."""
    path = DATA_DIR / name
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise InputFileError(f"cannot read recast data table {path}: {exc}") from exc
    header, body = rows[0], rows[1:]
    out: dict[str, np.ndarray] = {}
    for j, col in enumerate(header):
        out[col] = np.array([float(r[j]) if r[j] != "" else np.nan for r in body])
    return out


def read_matrix(name: str) -> np.ndarray:
    """Read a square matrix CSV with a leading ``row`` column."""
    t = read_table(name)
    cols = [k for k in t if k != "row"]
    return np.stack([t[c] for c in cols], axis=1)


def rng_for(*key: object) -> np.random.Generator:
    """A numpy Generator seeded from a stable hash of ``key`` (never the global RNG).

    >>> float(rng_for("minerva_le", 0.2, 1).random()) == float(rng_for("minerva_le", 0.2, 1).random())
    True
    """
    digest = hashlib.sha256(repr(key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass(frozen=True)
class Shower:
    """The e⁺e⁻ pair seen as one electromagnetic shower (beam along +z)."""

    energy: np.ndarray  #: E⁺ + E⁻ in GeV
    theta: np.ndarray  #: angle of p⁺ + p⁻ to the beam, rad
    opening: np.ndarray  #: e⁺e⁻ opening angle, rad
    asymmetry: np.ndarray  #: |E⁺ − E⁻| / (E⁺ + E⁻)


def pair_shower(p_plus: np.ndarray, p_minus: np.ndarray) -> Shower:
    """Combine e⁺, e⁻ four-momenta ((n, 4), (E, px, py, pz)) into one shower.

    >>> s = pair_shower(np.array([[1.0, 0, 0, 1.0]]), np.array([[1.0, 0, 0, 1.0]]))
    >>> float(s.energy[0]), float(s.theta[0]), float(s.opening[0])
    (2.0, 0.0, 0.0)
    """
    p = p_plus[:, 1:] + p_minus[:, 1:]
    e = p_plus[:, 0] + p_minus[:, 0]
    pt = np.hypot(p[:, 0], p[:, 1])
    theta = np.arctan2(pt, p[:, 2])
    a, b = p_plus[:, 1:], p_minus[:, 1:]
    cos_open = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-300)
    opening = np.arccos(np.clip(cos_open, -1.0, 1.0))
    asym = np.abs(p_plus[:, 0] - p_minus[:, 0]) / e
    return Shower(energy=e, theta=theta, opening=opening, asymmetry=asym)


def smear_shower(
    shower: Shower,
    rng: np.random.Generator,
    *,
    stochastic: float,
    constant: float = 0.0,
    sigma_theta_rad: float | None = None,
    sigma_theta_stochastic_rad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian energy and angle smearing; returns (E, θ).

    σ_E/E = stochastic/√E ⊕ constant. The direction is smeared by independent Gaussian
    shifts of the two projected angles θ_x, θ_y with σ = ``sigma_theta_rad`` (constant) or
    ``sigma_theta_stochastic_rad``/√E, whichever is given.
    """
    e = shower.energy
    rel = np.hypot(stochastic / np.sqrt(e), constant)
    e_s = np.clip(e * (1.0 + rel * rng.standard_normal(e.size)), 0.0, None)
    if sigma_theta_rad is not None:
        sig = np.full(e.size, sigma_theta_rad)
    else:
        sig = sigma_theta_stochastic_rad / np.sqrt(e)
    phi = rng.uniform(0.0, 2 * np.pi, e.size)  # azimuth is not stored; rotate freely
    tx = shower.theta * np.cos(phi) + sig * rng.standard_normal(e.size)
    ty = shower.theta * np.sin(phi) + sig * rng.standard_normal(e.size)
    return e_s, np.hypot(tx, ty)


def normsys(name: str, rel: float) -> dict:
    """A log-normal-like normsys: up = 1 + rel, down = 1/(1 + rel).

    Symmetric in log, so 100% ("background-ignorant") stays positive.

    >>> normsys("minerva_le_bkg_norm", 0.3)["data"]["hi"]
    1.3
    """
    return {"name": name, "type": "normsys", "data": {"hi": 1.0 + rel, "lo": 1.0 / (1.0 + rel)}}


def poi_modifier() -> dict:
    return {"name": "mu", "type": "normfactor", "data": None}


def workspace_spec(channels: list[dict], observations: list[dict]) -> dict:
    """Wrap channels and observations into a workspace spec with the §3 measurement."""
    return {
        "channels": channels,
        "observations": observations,
        "measurements": [{"name": MEASUREMENT_NAME, "config": MEASUREMENT_CONFIG}],
        "version": "1.0.0",
    }


def as_list(x: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(x, dtype=float)]


SIN2W = 0.2312  #: PDG, MS-bar at M_Z (tree-level ν–e couplings)
GF_GEV2 = 1.1663788e-5  #: G_F in GeV⁻², PDG
M_E_GEV = 0.51099895e-3
GEV2_TO_CM2 = 0.3893794e-27  #: (ħc)² in GeV² cm²
N_AVOGADRO = 6.02214076e23
#: (g₁, g₂) of dσ/dT for ν–e elastic scattering at tree level ('Vogel & Engel' form)
NU_E_COUPLINGS = {
    "nu_mu": (-0.5 + SIN2W, SIN2W),
    "nu_mu_bar": (SIN2W, -0.5 + SIN2W),
    "nu_e": (0.5 + SIN2W, SIN2W),
    "nu_e_bar": (SIN2W, 0.5 + SIN2W),
}
#: column of each flavour in DarkNews flux tables (E, ν_e, ν_μ, ν_τ, ν̄_e, ν̄_μ, ν̄_τ)
FLUX_COLUMN = {"nu_e": 1, "nu_mu": 2, "nu_e_bar": 4, "nu_mu_bar": 5}


def nu_e_elastic_events(
    flux_file: str,
    flavour: str,
    *,
    flux_norm: float,
    mass_t: float,
    z_over_a: float,
    pot: float,
    e_range_GeV: tuple[float, float],
) -> float:
    """SM ν–e elastic events with electron energy in ``e_range_GeV`` for a DarkNews flux table.

    dσ/dT = (2 G_F² m_e/π)[g₁² + g₂²(1 − T/E)² − g₁g₂ m_e T/E²] (tree level); target
    electrons = mass · N_A · Z/A; no efficiency. Used to normalise signal exposure on the
    measured ν–e sample of the same figure (flux, exposure and efficiency cancel).
    """
    from importlib.resources import files as _files

    with _files("DarkNews.include.fluxes").joinpath(flux_file).open() as f:
        table = np.loadtxt(f)
    enu, phi = table[:, 0], table[:, FLUX_COLUMN[flavour]] * flux_norm
    g1, g2 = NU_E_COUPLINGS[flavour]
    pref = 2 * GF_GEV2**2 * M_E_GEV / np.pi * GEV2_TO_CM2  # cm²/GeV
    e_fine = np.linspace(max(enu.min(), 1e-3), enu.max(), 3000)
    phi_fine = np.interp(e_fine, enu, phi)
    sig = np.zeros_like(e_fine)
    for i, e in enumerate(e_fine):
        lo, hi = e_range_GeV[0], min(e_range_GeV[1], 2 * e**2 / (M_E_GEV + 2 * e))
        if hi > lo:
            t = np.linspace(lo, hi, 200)
            ds = pref * (g1**2 + g2**2 * (1 - t / e) ** 2 - g1 * g2 * M_E_GEV * t / e**2)
            sig[i] = np.trapezoid(ds, t)
    return float(np.trapezoid(phi_fine * sig, e_fine) * mass_t * 1e6 * z_over_a * N_AVOGADRO * pot)
