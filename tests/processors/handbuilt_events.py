"""Hand-built NanoAOD-like events (docs/interfaces.md §1) for the processor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from processors.synthetic import write_nanoaod

M_E = 0.000511
M_MU = 0.1056584


def lep(
    pt: float,
    eta: float,
    phi: float,
    pdg: int,
    vtx_cm: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> dict[str, Any]:
    """One truth lepton: signed pdgId (11 = e-, -11 = e+), production vertex in cm."""
    return {"pt": pt, "eta": eta, "phi": phi, "pdg": pdg, "vtx": vtx_cm}


def jag(rows: list[list[Any]], dtype: Any = np.float64) -> ak.Array:
    """Jagged array with a definite type, also for zero events."""
    counts = np.array([len(r) for r in rows], dtype=np.int64)
    flat = np.array([x for r in rows for x in r], dtype=dtype)
    return ak.unflatten(flat, counts)


def write_events(path: Path, events: list[dict[str, Any]], metadata: dict[str, Any]) -> Path:
    """Write hand-built events.

    Each: {"leptons": [lep...], "hadrons": [(pt, eta)], "weight": w, "ctau": c,
    "group": g} (``group`` given for every event or none: the ``genEventGroup`` branch).
    """

    def coll(flav: int) -> dict[str, Any]:
        rows: dict[str, list[list[Any]]] = {
            k: [] for k in ("pt", "eta", "phi", "mass", "charge", "pdgId", "genPartIdx")
        }
        for ev in events:
            ls = [(i, le) for i, le in enumerate(ev["leptons"]) if abs(le["pdg"]) == flav]
            rows["pt"].append([le["pt"] for _, le in ls])
            rows["eta"].append([le["eta"] for _, le in ls])
            rows["phi"].append([le["phi"] for _, le in ls])
            rows["mass"].append([M_E if flav == 11 else M_MU for _ in ls])
            rows["charge"].append([-int(np.sign(le["pdg"])) for _, le in ls])
            rows["pdgId"].append([le["pdg"] for _, le in ls])
            rows["genPartIdx"].append([i for i, _ in ls])
        ints = {"charge", "pdgId", "genPartIdx"}
        return {k: jag(v, np.int32 if k in ints else np.float64) for k, v in rows.items()}

    gen: dict[str, list[list[Any]]] = {
        k: [] for k in ("pt", "eta", "phi", "pdgId", "vx", "vy", "vz")
    }
    for ev in events:
        gen["pt"].append([le["pt"] for le in ev["leptons"]])
        gen["eta"].append([le["eta"] for le in ev["leptons"]])
        gen["phi"].append([le["phi"] for le in ev["leptons"]])
        gen["pdgId"].append([le["pdg"] for le in ev["leptons"]])
        for k, c in zip(("vx", "vy", "vz"), range(3), strict=True):
            gen[k].append([le["vtx"][c] for le in ev["leptons"]])
    hadrons = {
        "pt": jag([[h[0] for h in ev.get("hadrons", [])] for ev in events]),
        "eta": jag([[h[1] for h in ev.get("hadrons", [])] for ev in events]),
    }
    n = len(events)
    ctau = (
        np.array([ev.get("ctau", 0.0) for ev in events])
        if metadata.get("kind") == "signal"
        else None
    )
    return write_nanoaod(
        path,
        n_events=n,
        electron=coll(11),
        muon=coll(13),
        genpart={k: jag(v, np.int32 if k == "pdgId" else np.float64) for k, v in gen.items()},
        charged_hadron=hadrons,
        gen_weight=np.array([ev.get("weight", 1.0) for ev in events]),
        zd_ctau_mm=ctau,
        metadata=metadata,
        extra=(
            {"genEventGroup": np.array([ev["group"] for ev in events], np.int64)}
            if events and "group" in events[0]
            else None
        ),
    )


def background_metadata(**kw: Any) -> dict[str, Any]:
    md = {
        "process": "wgamma",
        "kind": "background",
        "sqrt_s_TeV": 13.0,
        "xsec_pb": 2.0,
        "xsec_source": "test",
        "sum_genweight": 4.0,
        "n_events": 4,
        "seed": 1,
        "job": 0,
        "generator": "hand-built",
        "hadron_level": True,
        "darknu_version": "test",
    }
    md.update(kw)
    return md


def passing_event(**kw: Any) -> dict[str, Any]:
    """mu (40 GeV) back to back with an e+e- pair (8, 7 GeV, dphi 0.05): passes every cut."""
    ev = {
        "leptons": [
            lep(40.0, 0.0, 0.0, 13),
            lep(8.0, 0.1, np.pi - 0.025, 11),
            lep(7.0, 0.1, np.pi + 0.025 - 2 * np.pi, -11),
        ],
        "hadrons": [(5.0, 0.0), (1.0, 0.0)],
        "weight": 1.0,
    }
    ev.update(kw)
    return ev


def pair(
    pt1: float, pt2: float, eta: float, phi_c: float, half_dphi: float, vtx=(0.0, 0.0, 0.0)
) -> list[dict[str, Any]]:
    return [lep(pt1, eta, phi_c - half_dphi, 11, vtx), lep(pt2, eta, phi_c + half_dphi, -11, vtx)]


def one_cut_failures() -> dict[str, dict[str, Any]]:
    """Events that each fail exactly one cut (name = the cut), built from ``passing_event``."""
    mu = lep(40.0, 0.0, 0.0, 13)
    pi = np.pi
    return {
        "three_leptons": passing_event(leptons=[mu, lep(8.0, 2.6, pi, 11), lep(7.0, 0.1, pi, -11)]),
        "lead_pt": passing_event(leptons=[lep(20.0, 0.0, 0.0, 13), *pair(8, 7, 0.1, pi, 0.025)]),
        "sfos": passing_event(
            leptons=[mu, lep(8.0, 0.1, pi - 0.025, 11), lep(7.0, 0.1, pi + 0.025, 11)]
        ),
        "mll": passing_event(leptons=[mu, *pair(8, 8, 0.1, pi, 0.8)]),
        "ht": passing_event(hadrons=[(35.0, 0.0)]),
        "dphi": passing_event(leptons=[mu, *pair(8, 7, 1.5, 2.5, 0.025)]),
        "dr": passing_event(leptons=[mu, *pair(8, 7, 1.6, pi, 0.025)]),
        "m3l": passing_event(leptons=[lep(60.0, 0.0, 0.0, 13), *pair(25, 20, 0.1, pi, 0.025)]),
        "pt3l": passing_event(leptons=[lep(70.0, 0.0, 0.0, 13), *pair(8, 7, 0.1, pi, 0.025)]),
    }
