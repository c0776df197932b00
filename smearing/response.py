"""Detector model of one scenario (read from correctionlib JSON) and the smearing functions.

The parametrisation is data (``smearing/data/<scenario>.json``, generated from
``scenarios.toml``); this module only evaluates it. Smearing functions are pure: they take
the truth quantities and pre-drawn standard-normal numbers, so the same draws can serve
every systematic variation (correlated variations, smaller statistical noise).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from darknu.errors import ConfigError, check_choice
from darknu.kernels import smear_phi_wrapped
from smearing.formula import compiled_evaluator
from smearing.kernels import (
    add_product,
    by_flavour,
    smear_pt_floored,
    unchanged_where_zero,
)

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
ELECTRON_SETS = ("optimistic", "pessimistic")
VARIATIONS = ("nominal", "up", "down")


def scenarios() -> tuple[str, ...]:
    """Names of the detector scenarios shipped in ``smearing/data``.

    >>> scenarios()
    ('hllhc', 'run2')
    """
    return tuple(sorted(p.stem for p in DATA_DIR.glob("*.json")))


@dataclass(frozen=True)
class DetectorModel:
    """The response of one detector scenario, evaluated from its correctionlib file.

    Numbers (seed 003 §IV, see ``data/scenarios.toml``): ``eta_max`` acceptance,
    ``muon_pt_min``/``electron_pt_min`` thresholds [GeV], ``veto_inefficiency``,
    ``vertex_sigma_xy_mm``/``vertex_sigma_z_mm`` vertex resolution [mm].
    """

    name: str
    path: str
    eta_max: float
    muon_pt_min: float
    electron_pt_min: float
    veto_inefficiency: float
    vertex_sigma_xy_mm: float
    vertex_sigma_z_mm: float

    def electron_sigma(self, electron_set: str, variable: str, pt: np.ndarray) -> np.ndarray:
        """Gaussian sigma of ``variable`` (phi [rad] | cottheta | ptrel) at electron pT [GeV]."""
        check_choice("electron set", electron_set, ELECTRON_SETS)
        check_choice("electron resolution variable", variable, ("phi", "cottheta", "ptrel"))
        pt = np.asarray(pt, dtype=np.float64)
        fast = compiled_evaluator(self.path, "electron_resolution", (electron_set, variable))
        if fast is not None:  # the file's formula as one numpy expression (smearing.formula)
            return fast(pt)
        corr = _correction_set(self.path)["electron_resolution"]
        return np.asarray(corr.evaluate(electron_set, variable, pt), dtype=np.float64)

    def muon_sigma_ptrel(self, variation: str = "nominal") -> float:
        """Per-muon sigma(pT)/pT (= di-muon mass resolution x sqrt 2)."""
        check_choice("muon resolution variation", variation, VARIATIONS)
        return float(_correction_set(self.path)["muon_resolution"].evaluate(variation))

    def lepton_efficiency(self, variation: str = "nominal") -> float:
        """Per-lepton efficiency (85 +- 5 %, seed 003)."""
        check_choice("lepton efficiency variation", variation, VARIATIONS)
        return float(_correction_set(self.path)["lepton_efficiency"].evaluate(variation))


@lru_cache(maxsize=8)
def _correction_set(path: str):  # type: ignore[no-untyped-def]
    import correctionlib

    try:
        return correctionlib.CorrectionSet.from_file(path)
    except Exception as exc:  # correctionlib raises RuntimeError/ValueError on bad files
        raise ConfigError(
            f"detector parametrisation {path} is not a valid correctionlib file: {exc}"
        ) from None


def load_detector(name: str = "run2", *, path: str | Path | None = None) -> DetectorModel:
    """Load the detector scenario ``name`` (``run2``, ``hllhc``), or a JSON file given as
    ``path`` or as a ``name`` ending in ``.json`` (a user-edited scenario).

    >>> load_detector("run2").eta_max
    2.5
    >>> load_detector("lep")
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: unknown detector scenario 'lep'; valid: hllhc, run2
    """
    if path is None and str(name).endswith(".json"):
        path = name
        if not Path(path).is_file():
            raise ConfigError(f"detector parametrisation file {path} does not exist")
    if path is None:
        check_choice("detector scenario", name, scenarios())
        path = DATA_DIR / f"{name}.json"
    p = str(Path(path).resolve())
    cs = _correction_set(p)
    try:
        acc = cs["acceptance"]
        vtx = cs["vertex_resolution"]
        return DetectorModel(
            name=name,
            path=p,
            eta_max=float(acc.evaluate("eta_max")),
            muon_pt_min=float(acc.evaluate("muon_pt_min")),
            electron_pt_min=float(acc.evaluate("electron_pt_min")),
            veto_inefficiency=float(cs["veto_inefficiency"].evaluate()),
            vertex_sigma_xy_mm=float(vtx.evaluate("xy")),
            vertex_sigma_z_mm=float(vtx.evaluate("z")),
        )
    except (KeyError, IndexError, RuntimeError) as exc:
        raise ConfigError(f"detector parametrisation {p} lacks an entry: {exc}") from None


def chunk_rng(dataset: str, file_id: str, entry_start: int, entry_stop: int) -> np.random.Generator:
    """One generator per chunk, seeded from (dataset, file, entry range).

    ``file_id`` should not depend on where the file lives (the processor passes the
    file's ROOT UUID, or its base name). Same inputs and chunking give identical draws on
    every executor; a different chunk size gives different (equally valid) draws.

    >>> a = chunk_rng("s", "f", 0, 10).standard_normal(3)
    >>> b = chunk_rng("s", "f", 0, 10).standard_normal(3)
    >>> bool((a == b).all()), bool((a != chunk_rng("s", "f", 10, 20).standard_normal(3)).all())
    (True, True)
    """
    key = f"{dataset}\x00{file_id}\x00{int(entry_start)}\x00{int(entry_stop)}".encode()
    digest = hashlib.sha256(key).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def wrap_phi(phi: np.ndarray) -> np.ndarray:
    """Map angles to [-pi, pi).

    >>> float(wrap_phi(np.array([3 * np.pi / 2]))[0]) == -np.pi / 2
    True
    """
    return (np.asarray(phi) + np.pi) % (2 * np.pi) - np.pi


#: Smallest smeared pT kept [GeV], so a (>10 sigma) negative fluctuation cannot give pT <= 0.
PT_FLOOR_GEV = 1e-6


def _flat_float64(*arrays: np.ndarray) -> bool:
    """All 1-D float64 arrays of one length (the case the numba loops handle)."""
    first = arrays[0]
    return all(
        isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype == np.float64
        and a.shape == first.shape
        for a in arrays
    )


def smear_pt(pt: np.ndarray, sigma_rel: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """pT' = pT (1 + sigma_rel z), floored at ``PT_FLOOR_GEV``.

    >>> smear_pt(np.array([10.0]), 0.1, np.array([1.0]))
    array([11.])

    Flat float64 arrays go through one numba loop (the same operations; no temporaries).
    """
    pt, sigma_rel, z = np.asarray(pt), np.asarray(sigma_rel), np.asarray(z)
    if _flat_float64(pt, sigma_rel, z):
        return smear_pt_floored(
            *(np.ascontiguousarray(a) for a in (pt, sigma_rel, z)), PT_FLOOR_GEV,
            np.empty(len(pt)),
        )
    return np.maximum(pt * (1.0 + sigma_rel * z), PT_FLOOR_GEV)


def smear_eta_via_cottheta(
    eta: np.ndarray, sigma_cot: np.ndarray | float, z: np.ndarray
) -> np.ndarray:
    """Smear cot(theta) = sinh(eta) by a Gaussian and return the new eta.

    >>> x = smear_eta_via_cottheta(np.array([0.0]), 0.01, np.array([1.0]))
    >>> float(x[0]) == float(np.arcsinh(0.01))
    True

    For flat float64 arrays sinh and arcsinh stay numpy's and the sum and the choice run
    in place in numba loops (fewer temporaries, the same values).
    """
    eta, sigma_cot, z = np.asarray(eta), np.asarray(sigma_cot), np.asarray(z)
    if _flat_float64(eta, sigma_cot, z):
        sigma_cot, z = np.ascontiguousarray(sigma_cot), np.ascontiguousarray(z)
        u = add_product(np.sinh(eta), sigma_cot, z)
        return unchanged_where_zero(np.arcsinh(u, out=u), sigma_cot, np.ascontiguousarray(eta))
    return np.where(sigma_cot == 0, eta, np.arcsinh(np.sinh(eta) + sigma_cot * z))


def smear_phi(phi: np.ndarray, sigma_phi: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """phi' = phi + sigma z, wrapped to [-pi, pi).

    Flat float64 arrays of one length go through a numba loop (numpy's float ``%`` is
    slow; :mod:`smearing.kernels`, bit-identical), anything else through numpy.
    """
    phi, sigma_phi, z = np.asarray(phi), np.asarray(sigma_phi), np.asarray(z)
    if (
        phi.ndim == 1
        and phi.shape == sigma_phi.shape == z.shape
        and phi.dtype == sigma_phi.dtype == z.dtype == np.float64
    ):
        return smear_phi_wrapped(
            *(np.ascontiguousarray(a) for a in (phi, sigma_phi, z)), np.empty(len(phi))
        )
    return wrap_phi(phi + sigma_phi * z)


@dataclass(frozen=True)
class SmearedLeptons:
    """Flat arrays of smeared lepton kinematics (one entry per lepton)."""

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray


def smear_leptons(
    model: DetectorModel,
    *,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    is_electron: np.ndarray,
    z: np.ndarray,
    electron_set: str,
    muon_variation: str = "nominal",
    electron_sigmas: dict[str, np.ndarray] | None = None,
) -> SmearedLeptons:
    """Apply the scenario's response to flat lepton arrays.

    ``z`` holds three standard-normal numbers per lepton (shape ``(n, 3)``: pT, cot theta,
    phi). Electrons get pT-dependent pT, cot theta and phi smearing from ``electron_set``;
    muons get only pT smearing with sigma = mass resolution x sqrt 2 (see scenarios.toml),
    so their di-muon mass resolution is the seed's 2 % whatever the mass.
    ``electron_sigmas`` (from :func:`electron_resolutions` on the electrons' true pT) may
    be passed to avoid re-evaluating the parametrisation for every variation.
    """
    if electron_sigmas is None:
        pt_e = np.asarray(pt, dtype=np.float64)[np.asarray(is_electron, dtype=bool)]
        electron_sigmas = electron_resolutions(model, electron_set, pt_e)
    return smear_leptons_variations(
        model, pt=pt, eta=eta, phi=phi, is_electron=is_electron, z=z,
        variations={"nominal": (electron_set, muon_variation)},
        electron_sigmas={electron_set: electron_sigmas},
    )["nominal"]


def _per_lepton(is_e: np.ndarray, electron_values: np.ndarray, muon_value: float) -> np.ndarray:
    """Per lepton: the electron's value (``electron_values``: one per electron, in order)
    or ``muon_value`` (= ``np.full(n, muon_value)``, then ``[is_e] = electron_values``)."""
    return by_flavour(
        np.ascontiguousarray(is_e, dtype=bool),
        np.ascontiguousarray(electron_values, dtype=np.float64),
        float(muon_value),
    )


def smear_leptons_variations(
    model: DetectorModel,
    *,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    is_electron: np.ndarray,
    z: np.ndarray,
    variations: dict[str, tuple[str, str]],
    electron_sigmas: dict[str, dict[str, np.ndarray]],
) -> dict[str, SmearedLeptons]:
    """:func:`smear_leptons` for several ``{name: (electron_set, muon_variation)}`` at once.

    The same draws ``z`` serve every variation; eta and phi depend only on the electron
    set (muons get pT smearing only), so they are computed once per set and shared.
    ``electron_sigmas[set]`` as from :func:`electron_resolutions`. Each result is
    identical to the corresponding ``smear_leptons`` call.
    """
    pt = np.asarray(pt, dtype=np.float64)
    eta = np.asarray(eta, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    is_e = np.asarray(is_electron, dtype=bool)
    z = np.asarray(z, dtype=np.float64).reshape(len(pt), 3)
    z_pt, z_cot, z_phi = (np.ascontiguousarray(z[:, i]) for i in range(3))
    angles: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    out = {}
    for name, (eset, muvar) in variations.items():
        sig = electron_sigmas[eset]
        if eset not in angles:
            angles[eset] = (
                smear_eta_via_cottheta(eta, _per_lepton(is_e, sig["cottheta"], 0.0), z_cot),
                smear_phi(phi, _per_lepton(is_e, sig["phi"], 0.0), z_phi),
            )
        s_pt = _per_lepton(is_e, sig["ptrel"], model.muon_sigma_ptrel(muvar))
        eta_s, phi_s = angles[eset]
        out[name] = SmearedLeptons(pt=smear_pt(pt, s_pt, z_pt), eta=eta_s, phi=phi_s)
    return out


def electron_resolutions(
    model: DetectorModel,
    electron_set: str,
    pt: np.ndarray,
    variables: tuple[str, ...] = ("phi", "cottheta", "ptrel"),
) -> dict[str, np.ndarray]:
    """sigma of ``variables`` (default phi, cottheta, ptrel) at the electrons' true ``pt``
    (non-finite pT -> 1 GeV)."""
    pt = np.asarray(pt, dtype=np.float64)
    pt_safe = np.where(np.isfinite(pt), pt, 1.0)
    return {v: model.electron_sigma(electron_set, v, pt_safe) for v in variables}


def smear_vertex(
    model: DetectorModel, dx_mm: np.ndarray, dy_mm: np.ndarray, dz_mm: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add the vertex resolution (per coordinate, mm) using standard normals ``z`` (n, 3)."""
    z = np.asarray(z, dtype=np.float64).reshape(len(dx_mm), 3)
    return (
        np.asarray(dx_mm) + model.vertex_sigma_xy_mm * z[:, 0],
        np.asarray(dy_mm) + model.vertex_sigma_xy_mm * z[:, 1],
        np.asarray(dz_mm) + model.vertex_sigma_z_mm * z[:, 2],
    )
