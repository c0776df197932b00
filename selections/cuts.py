"""Seed 003 Table II as small pure functions of awkward/numpy arrays.

Object-level functions take jagged (per-event lists of leptons) arrays and return jagged
masks; event-level functions take flat arrays (one entry per event) and return boolean
numpy arrays of the same length. Nothing here draws random numbers or reads files.
Thresholds and windows are :class:`Table2Cuts` fields, with the seed's values as defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from darknu.kernels import delta_phi_folded

#: W mass [GeV] used by Table II (seed 003: m(3l) < m_W = 80.3 GeV, pT(3l) < m_W/2).
M_W_TABLE2_GEV = 80.3
ELECTRON_PDGID = 11
MUON_PDGID = 13


@dataclass(frozen=True)
class Table2Cuts:
    """Selection of seed 003 Table II and §V A (GeV, rad, mm)."""

    electron_pt_min: float = 5.0  # 5 GeV nominal, 1 GeV scenario
    muon_pt_min: float = 3.0
    eta_max: float = 2.5
    lead_pt_min: float = 25.0
    mll_max: float = 10.0
    ht_max: float = 30.0
    ht_hadron_pt_min: float = 2.0
    ht_hadron_eta_max: float = 2.5
    dphi_min: float = 2.7
    dr_min: float = 2.7
    dr_max: float = 3.5
    m3l_max: float = M_W_TABLE2_GEV
    pt3l_max: float = M_W_TABLE2_GEV / 2
    prompt_max_mm: float = 1.0
    displaced_max_mm: float = 100.0
    displaced_muon_pt_min: float = (
        5.0  # displaced: all leptons > 5 GeV (electrons: electron_pt_min)
    )


# ---- object level (jagged) -------------------------------------------------------------


def good_lepton_mask(
    pt: ak.Array, eta: ak.Array, abs_pdgid: ak.Array, *, cuts: Table2Cuts
) -> ak.Array:
    """Leptons inside the acceptance and above their flavour's pT threshold.

    Jagged awkward input gives a jagged mask; flat numpy input a numpy mask.

    >>> m = good_lepton_mask(ak.Array([[30.0, 4.0, 4.0], []]), ak.Array([[0.0, 1.0, 2.6], []]),
    ...                      ak.Array([[13, 11, 13], []]), cuts=Table2Cuts())
    >>> m.tolist()
    [[True, False, False], []]
    """
    if isinstance(pt, np.ndarray):  # flat per-lepton arrays: same cut, numpy only
        thr = np.where(
            np.asarray(abs_pdgid) == ELECTRON_PDGID, cuts.electron_pt_min, cuts.muon_pt_min
        )
        return (pt > thr) & (np.abs(np.asarray(eta)) < cuts.eta_max)
    thr = ak.where(abs_pdgid == ELECTRON_PDGID, cuts.electron_pt_min, cuts.muon_pt_min)
    return (pt > thr) & (abs(eta) < cuts.eta_max)


def charged_ht(pt: ak.Array, eta: ak.Array, *, cuts: Table2Cuts) -> np.ndarray:
    """Scalar pT sum [GeV] of charged hadrons with pT > 2 GeV and |eta| < 2.5, per event.

    >>> pt, eta = ak.Array([[3.0, 1.0, 5.0], []]), ak.Array([[0.0, 0.0, 3.0], []])
    >>> charged_ht(pt, eta, cuts=Table2Cuts()).tolist()
    [3.0, 0.0]
    """
    sel = (pt > cuts.ht_hadron_pt_min) & (abs(eta) < cuts.ht_hadron_eta_max)
    return ak.to_numpy(ak.sum(ak.where(sel, pt, 0.0), axis=1)).astype(np.float64)


def charged_ht_flat(
    counts: np.ndarray, hadrons: dict[str, np.ndarray], *, cuts: Table2Cuts
) -> np.ndarray:
    """:func:`charged_ht` from per-event ``counts`` and flat ``{"pt": ..., "eta": ...}``
    (bit-identical: same comparisons, same order and precision of the additions).

    >>> h = {"pt": np.array([3.0, 1.0, 5.0]), "eta": np.array([0.0, 0.0, 3.0])}
    >>> charged_ht_flat(np.array([3, 0]), h, cuts=Table2Cuts()).tolist()
    [3.0, 0.0]
    """
    from selections.kernels import segment_sum_selected

    pt, eta = np.asarray(hadrons["pt"]), np.asarray(hadrons["eta"])
    sel = (pt > cuts.ht_hadron_pt_min) & (np.abs(eta) < cuts.ht_hadron_eta_max)
    # ak.where(sel, pt, 0.0) promotes to float64 (awkward treats 0.0 as a float64 array)
    vals = np.where(sel, pt.astype(np.result_type(pt.dtype, np.float64), copy=False), 0.0)
    return segment_sum_selected(
        np.asarray(counts, dtype=np.int64), np.ascontiguousarray(vals), sel
    ).astype(np.float64)


# ---- event level (flat) ------------------------------------------------------------------


def delta_phi(phi1: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """|phi1 - phi2| folded into [0, pi].

    >>> float(delta_phi(np.array([3.0]), np.array([-3.0]))[0]) == 2 * np.pi - 6
    True
    """
    phi1, phi2 = np.asarray(phi1), np.asarray(phi2)
    if phi1.ndim == 1 and phi1.shape == phi2.shape and phi1.dtype == phi2.dtype == np.float64:
        # numba loop, bit-identical (numpy's float % is slow; darknu.kernels)
        return delta_phi_folded(
            np.ascontiguousarray(phi1), np.ascontiguousarray(phi2), np.empty(len(phi1))
        )
    d = np.abs(phi1 - phi2) % (2 * np.pi)
    return np.where(d > np.pi, 2 * np.pi - d, d)


def delta_r(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """sqrt(d_eta^2 + d_phi^2)."""
    return np.hypot(np.asarray(eta1) - np.asarray(eta2), delta_phi(phi1, phi2))


@dataclass(frozen=True)
class P4:
    """Flat Cartesian four-vectors (GeV)."""

    e: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray

    @classmethod
    def from_ptetaphim(cls, pt, eta, phi, mass) -> P4:  # type: ignore[no-untyped-def]
        pt, eta, phi, mass = (np.asarray(x, dtype=np.float64) for x in (pt, eta, phi, mass))
        pz = pt * np.sinh(eta)
        return cls(np.sqrt(pt**2 + pz**2 + mass**2), pt * np.cos(phi), pt * np.sin(phi), pz)

    def __add__(self, o: P4) -> P4:
        return P4(self.e + o.e, self.px + o.px, self.py + o.py, self.pz + o.pz)

    @property
    def pt(self) -> np.ndarray:
        return np.hypot(self.px, self.py)

    @property
    def mass(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.e**2 - self.px**2 - self.py**2 - self.pz**2, 0.0))

    @property
    def phi(self) -> np.ndarray:
        return np.arctan2(self.py, self.px)

    @property
    def eta(self) -> np.ndarray:
        pt = self.pt
        return np.arcsinh(np.divide(self.pz, pt, out=np.zeros_like(pt), where=pt > 0))


def zd_sfos(
    abs_pdgid2: np.ndarray, abs_pdgid3: np.ndarray, q2: np.ndarray, q3: np.ndarray, *, flavour: int
) -> np.ndarray:
    """Z_D candidate (the two lowest-pT leptons) is same-flavour ``flavour``, opposite-sign.

    >>> zd_sfos(np.array([11, 11, 13]), np.array([11, 13, 13]), np.array([1, 1, 1]),
    ...         np.array([-1, -1, 1]), flavour=11).tolist()
    [True, False, False]
    """
    return (
        (np.asarray(abs_pdgid2) == flavour)
        & (np.asarray(abs_pdgid3) == flavour)
        & (np.asarray(q2) * np.asarray(q3) < 0)
    )


def lead_pt_cut(pt1: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    return np.asarray(pt1) > cuts.lead_pt_min


def mll_cut(mll: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    return np.asarray(mll) < cuts.mll_max


def ht_cut(ht: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    return np.asarray(ht) < cuts.ht_max


def dphi_cut(dphi: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    return np.asarray(dphi) > cuts.dphi_min


def dr_cut(dr: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    dr = np.asarray(dr)
    return (dr >= cuts.dr_min) & (dr <= cuts.dr_max)


def m3l_cut(m3l: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    return np.asarray(m3l) < cuts.m3l_max


def pt3l_cut(pt3l: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    return np.asarray(pt3l) < cuts.pt3l_max


def prompt_region(displacement_mm: np.ndarray, *, cuts: Table2Cuts) -> np.ndarray:
    """Z_D-candidate vertex closer than 1 mm to the primary vertex."""
    return np.asarray(displacement_mm) < cuts.prompt_max_mm


def displaced_region(
    displacement_mm: np.ndarray,
    min_muon_pt: np.ndarray,
    min_electron_pt: np.ndarray,
    *,
    cuts: Table2Cuts,
) -> np.ndarray:
    """1 mm <= d < 10 cm and every muon above 5 GeV, every electron above the electron threshold.

    ``min_muon_pt``/``min_electron_pt``: smallest pT of the event's three leptons of that
    flavour (+inf when there is none).
    """
    d = np.asarray(displacement_mm)
    return (
        (d >= cuts.prompt_max_mm)
        & (d < cuts.displaced_max_mm)
        & (np.asarray(min_muon_pt) > cuts.displaced_muon_pt_min)
        & (np.asarray(min_electron_pt) > max(cuts.electron_pt_min, 0.0))
    )


def vertex_displacement_mm(
    dx_mm: np.ndarray, dy_mm: np.ndarray, dz_mm: np.ndarray, *, definition: str = "3d"
) -> np.ndarray:
    """Distance of the Z_D vertex from the primary vertex: ``3d`` (seed 003) or ``lxy``.

    >>> vertex_displacement_mm(np.array([3.0]), np.array([4.0]), np.array([12.0])).tolist()
    [13.0]
    >>> d = (np.array([3.0]), np.array([4.0]), np.array([12.0]))
    >>> vertex_displacement_mm(*d, definition="lxy").tolist()
    [5.0]
    """
    from darknu.errors import check_choice

    check_choice("displacement definition", definition, ("3d", "lxy"))
    lxy = np.hypot(dx_mm, dy_mm)
    return lxy if definition == "lxy" else np.hypot(lxy, dz_mm)
