"""Write small NanoAOD-like ROOT files (docs/interfaces.md §1) for tests and benchmarks.

``write_nanoaod`` takes per-collection jagged arrays and writes them with ``mktree`` +
``extend`` and the ``n<Collection>`` / ``<Collection>_<field>`` names NanoAODSchema reads;
``toy_signal_file`` fills one with toy signal kinematics (W at rest -> mu N, N -> nu Z_D,
Z_D -> l+l-; see smearing.resolution), including displaced Z_D vertices. Real samples come
from ``samples/``; these files only serve tests and the throughput benchmark.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

from smearing.resolution import M_E_GEV, M_MU_GEV, pt_eta_phi, toy_signal_leptons

LEPTON_FIELDS = ("pt", "eta", "phi", "mass", "charge", "pdgId", "dxy", "dz", "genPartIdx")
GENPART_FIELDS = (
    "pt",
    "eta",
    "phi",
    "mass",
    "pdgId",
    "status",
    "statusFlags",
    "genPartIdxMother",
    "vx",
    "vy",
    "vz",
)
HADRON_FIELDS = ("pt", "eta", "phi", "pdgId")
INT_FIELDS = {"charge", "pdgId", "genPartIdx", "status", "statusFlags", "genPartIdxMother"}


def _collection(fields: tuple[str, ...], data: Mapping[str, Any], n_events: int) -> ak.Array:
    counts = None
    cols = {}
    for f in fields:
        arr = ak.Array(data[f]) if f in data else None
        if arr is None:
            if counts is None:
                counts = (
                    ak.num(ak.Array(data[next(iter(data))]), axis=1)
                    if data
                    else np.zeros(n_events, np.int64)
                )
            flat = np.zeros(int(np.sum(counts)), np.int32 if f in INT_FIELDS else np.float32)
            if f == "genPartIdx" or f == "genPartIdxMother":
                flat -= 1
            arr = ak.unflatten(flat, counts)
        dtype = np.int32 if f in INT_FIELDS else np.float32
        cols[f] = ak.values_astype(arr, dtype)
    return ak.zip(cols)


def write_nanoaod(
    path: str | os.PathLike[str],
    *,
    n_events: int,
    electron: Mapping[str, Any],
    muon: Mapping[str, Any],
    genpart: Mapping[str, Any],
    charged_hadron: Mapping[str, Any] | None = None,
    gen_weight: np.ndarray | None = None,
    genvtx: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    met: tuple[np.ndarray, np.ndarray] | None = None,
    zd_ctau_mm: np.ndarray | None = None,
    metadata: Mapping[str, Any] | None = None,
    basket_events: int = 50_000,
    extra: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write an ``Events`` tree (and ``darknu_metadata``) to ``path``.

    Collections are mappings field -> jagged array; missing fields are zero-filled
    (``genPartIdx``/``genPartIdxMother``: -1). ``extra``: more per-event branches
    (e.g. ``genEventGroup``).
    """
    z = np.zeros(n_events, np.float32)
    data: dict[str, Any] = {
        "run": np.ones(n_events, np.uint32),
        "luminosityBlock": np.ones(n_events, np.uint32),
        "event": np.arange(1, n_events + 1, dtype=np.uint64),
        "genWeight": (
            np.ones(n_events, np.float32)
            if gen_weight is None
            else np.asarray(gen_weight, np.float32)
        ),
        "Electron": _collection(LEPTON_FIELDS, electron, n_events),
        "Muon": _collection(LEPTON_FIELDS, muon, n_events),
        "GenPart": _collection(GENPART_FIELDS, genpart, n_events),
        "ChargedHadron": _collection(
            HADRON_FIELDS, charged_hadron or {"pt": ak.Array([[]] * n_events)}, n_events
        ),
    }
    vx, vy, vz = genvtx if genvtx is not None else (z, z, z)
    data["GenVtx_x"], data["GenVtx_y"], data["GenVtx_z"] = (
        np.asarray(a, np.float32) for a in (vx, vy, vz)
    )
    mpt, mphi = met if met is not None else (z, z)
    data["MET_pt"], data["MET_phi"] = np.asarray(mpt, np.float32), np.asarray(mphi, np.float32)
    if zd_ctau_mm is not None:
        data["ZD_ctau"] = np.asarray(zd_ctau_mm, np.float32)
    for k, v in (extra or {}).items():
        data[k] = np.asarray(v)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(path) as f:
        types = {
            k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()
        }
        tree = f.mktree(
            "Events", types, counter_name=lambda c: "n" + c, field_name=lambda o, i: f"{o}_{i}"
        )
        for start in range(0, max(n_events, 1), basket_events):
            stop = min(start + basket_events, n_events)
            if stop <= start:
                break
            tree.extend({k: v[start:stop] for k, v in data.items()})
        f["darknu_metadata"] = json.dumps(dict(metadata or {}))
    return path


def toy_signal_file(
    path: str | os.PathLike[str],
    *,
    n_events: int,
    seed: int,
    m_N_GeV: float = 10.0,
    m_ZD_GeV: float = 1.0,
    ctau_mm: float = 1.0,
    flavour: int = 11,
    xsec_pb: float = 2.1,
    alpha_eps2: float = 2e-11,
    extra: Mapping[str, Any] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write a toy signal file (mu + Z_D -> l+l- of ``flavour`` per event); return (path, md).

    The Z_D decays at its production point + beta*gamma*ctau*Exp(1) along its flight
    direction; GenPart holds [W-muon, l-, l+] with their production vertices (cm).
    """
    rng = np.random.default_rng(seed)
    m_l = M_E_GEV if flavour == 11 else M_MU_GEV
    mu, l1, l2 = toy_signal_leptons(
        m_N_GeV=m_N_GeV, m_ZD_GeV=m_ZD_GeV, n=n_events, rng=rng, m_l_GeV=m_l
    )
    zd = l1 + l2
    t = rng.exponential(ctau_mm, n_events)  # proper decay length c*t [mm]
    decay_mm = zd[:, 1:] / m_ZD_GeV * t[:, None]  # beta*gamma*c*t = (p/m) c t
    pv = rng.normal(0.0, [0.001, 0.001, 3.0], size=(n_events, 3))  # cm; beam spot toy
    vtx_cm = pv + decay_mm / 10.0
    kin = [pt_eta_phi(p) for p in (mu, l1, l2)]
    one = np.ones(n_events, np.int64)

    def lep(i: int, charge: int, pdg: int, gidx: int) -> dict[str, Any]:
        pt, eta, phi = kin[i]
        return {
            "pt": ak.unflatten(pt, one),
            "eta": ak.unflatten(eta, one),
            "phi": ak.unflatten(phi, one),
            "mass": ak.unflatten(np.full(n_events, m_l if i else M_MU_GEV), one),
            "charge": ak.unflatten(np.full(n_events, charge), one),
            "pdgId": ak.unflatten(np.full(n_events, pdg), one),
            "genPartIdx": ak.unflatten(np.full(n_events, gidx), one),
        }

    def concat(*ds: dict[str, Any]) -> dict[str, Any]:
        return {k: ak.concatenate([d[k] for d in ds], axis=1) for k in ds[0]}

    mu_d = lep(0, -1, 13, 0)
    a, b = lep(1, -1, flavour, 1), lep(2, 1, -flavour, 2)
    if flavour == 11:
        electron, muon = concat(a, b), mu_d
    else:
        electron, muon = {k: ak.Array([[]] * n_events) for k in mu_d}, concat(mu_d, a, b)
        electron = {k: ak.values_astype(v, np.float32) for k, v in electron.items()}
    three = np.full(n_events, 3, np.int64)
    stack = lambda cols: ak.unflatten(np.stack(cols, axis=1).ravel(), three)  # noqa: E731
    genpart = {
        "pt": stack([k[0] for k in kin]),
        "eta": stack([k[1] for k in kin]),
        "phi": stack([k[2] for k in kin]),
        "pdgId": stack(
            [np.full(n_events, 13), np.full(n_events, flavour), np.full(n_events, -flavour)]
        ),
        "status": stack([one, one, one]),
        "vx": stack([pv[:, 0], vtx_cm[:, 0], vtx_cm[:, 0]]),
        "vy": stack([pv[:, 1], vtx_cm[:, 1], vtx_cm[:, 1]]),
        "vz": stack([pv[:, 2], vtx_cm[:, 2], vtx_cm[:, 2]]),
    }
    md = {
        "process": "signal",
        "kind": "signal",
        "sqrt_s_TeV": 13.0,
        "xsec_pb": xsec_pb,
        "xsec_source": "toy",
        "sum_genweight": float(n_events),
        "n_events": n_events,
        "seed": seed,
        "job": 0,
        "generator": "processors.synthetic toy",
        "hadron_level": False,
        "ht_veto_efficiency": 0.98,
        "ht_veto_efficiency_source": "toy",
        "darknu_version": "test",
        "m_N_GeV": m_N_GeV,
        "m_ZD_GeV": m_ZD_GeV,
        "alpha_eps2": alpha_eps2,
        "g_D": 0.25,
        "U2_ref": 1e-4,
        "ctau_ZD_mm": ctau_mm,
        "br_ZD_ee": 1.0,
        "br_ZD_mumu": 0.0,
    }
    md.update(extra or {})
    p = write_nanoaod(
        path,
        n_events=n_events,
        electron=electron,
        muon=muon,
        genpart=genpart,
        genvtx=(pv[:, 0], pv[:, 1], pv[:, 2]),
        zd_ctau_mm=t,
        metadata=md,
    )
    return p, md
