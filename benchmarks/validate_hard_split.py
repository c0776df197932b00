"""Sample H's photon splitting against Pythia's own: the preselected m_ℓℓ spectrum.

Sample H (q q̄′ → W γ, photon above the slice p_T) splits its hard-process photon after
the shower (``samples.background_sliced.photon_copies`` against
``hard_photon_recoiler``, Pythia's recoiler: ``force_split``, beam-recoil damping). The
reference is Pythia's own γ → ℓℓ splitting of that photon in the same set-up, enhanced ×20
(``fsr:A2LL``; its weights keep it unbiased). To compare the splitting alone, both runs
switch off every other QED branching (lepton and quark photon radiation, final and
initial state), so that the hard photon is the only photon and γ → f f̄ the only QED
step. The forced run uses the job's own functions. Counted: truth
preselection (``samples.background.truth_preselection``) per
generated H event, in m_ℓℓ bins; errors from Σ (per-event sum)².

Run: ``python benchmarks/validate_hard_split.py pythia --events 500000 --seed 11`` (about
3 min per 500k events) and ``python benchmarks/validate_hard_split.py forced --events
300000 --seed 41`` (about 2 min); ``--save FILE`` writes the spectrum (JSON), ``--compare
A.json B.json ...`` combines saved runs of each kind and prints the pulls.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time

import numpy as np

from samples import background as bg
from samples.background_sliced import (
    hard_photon,
    hard_photon_recoiler,
    hard_settings,
    photon_copies,
)
from samples.signal import make_pythia

EDGES = (0.01, 0.1, 0.3, 1.0, 3.0, 10.0)  # m_ℓℓ [GeV]
_QED_OFF = ("TimeShower:QEDshowerByL = off", "TimeShower:QEDshowerByQ = off",
            "SpaceShower:QEDshowerByL = off", "SpaceShower:QEDshowerByQ = off")


def settings(seed: int, pythia_splits: bool) -> list[str]:
    h = hard_settings("W_munu_gstar", sqrt_s_TeV=13.0, hadron_level=False, seed=seed,
                      slice_pt=bg.SLICE_PT_GEV)
    h = [s for s in h if "QEDshowerByGamma" not in s] + list(_QED_OFF)
    if pythia_splits:
        return h + ["TimeShower:QEDshowerByGamma = on", "Enhancements:doEnhance = on",
                    "EnhancedSplittings:List = {fsr:A2LL=20}"]
    return h + ["TimeShower:QEDshowerByGamma = off"]


def _bin(m: float) -> int:
    k = int(np.searchsorted(EDGES, m)) - 1
    return k if 0 <= k < len(EDGES) - 1 else -1


def run(kind: str, events: int, seed: int, over: int = 2) -> dict:
    py = make_pythia(settings(seed, kind == "pythia"))
    info, alpha = py.infoPython(), py.coupSM.alphaEM
    rng = np.random.default_rng([seed, 0xBAD])
    h = np.zeros(len(EDGES) - 1)
    h2 = np.zeros_like(h)
    sumw = 0.0
    t0 = time.process_time()
    for i in range(events):
        if i and i % 100000 == 0:
            print(f"  {kind}: {i}/{events} events, {time.process_time() - t0:.0f} s CPU")
        if not py.next():
            continue
        w = info.weight()
        sumw += w
        ev = py.event
        hb = np.zeros_like(h)
        if kind == "pythia":
            if any(abs(ev[ev[g].iTopCopyId()].status()) == 23 for g, _ in bg.shower_splittings(ev)):
                r = bg.truth_preselection([lp for _, lp in bg._final_leptons(ev)])
                if r is not None and _bin(r[0]) >= 0:
                    hb[_bin(r[0])] += w
        else:
            hp = hard_photon(ev)
            rr = hard_photon_recoiler(ev, hp[0]) if hp is not None else None
            if rr is not None:
                for leps, _lid, _sp, bias, _moved in photon_copies(
                        ev, hp[0], *rr, bg._final_leptons(ev), hp[1], over, rng=rng,
                        alpha=alpha):
                    r = bg.truth_preselection(leps)
                    if r is not None and _bin(r[0]) >= 0:
                        hb[_bin(r[0])] += w * bias
        h += hb
        h2 += hb * hb
    return {"kind": kind, "events": events, "seed": seed, "edges_GeV": list(EDGES),
            "per_event": (h / sumw).tolist(), "error": (np.sqrt(h2) / sumw).tolist(),
            "cpu_s": time.process_time() - t0}


def _combine(runs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    n = np.array([r["events"] for r in runs], float)
    v = np.array([r["per_event"] for r in runs])
    e = np.array([r["error"] for r in runs])
    w = n / n.sum()
    return (w[:, None] * v).sum(0), np.sqrt(((w[:, None] * e) ** 2).sum(0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", nargs="?", choices=("pythia", "forced"))
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--save", help="write the spectrum to this JSON file (must not exist)")
    ap.add_argument("--compare", nargs="+", help="saved JSON runs to combine and compare")
    args = ap.parse_args(argv)
    if args.compare:
        runs = [json.load(open(f)) for f in args.compare]
        by = {k: [r for r in runs if r["kind"] == k] for k in ("pythia", "forced")}
        if not by["pythia"] or not by["forced"]:
            ap.error("--compare needs saved runs of both kinds")
        (vp, ep), (vf, ef) = _combine(by["pythia"]), _combine(by["forced"])
        pulls = (vf - vp) / np.hypot(ep, ef)
        for k in range(len(vp)):
            print(f"m_ll {EDGES[k]:5.2f}-{EDGES[k + 1]:5.2f} GeV: Pythia {1e4 * vp[k]:.3f} ± "
                  f"{1e4 * ep[k]:.3f}, forced {1e4 * vf[k]:.3f} ± {1e4 * ef[k]:.3f} (1e-4 per "
                  f"H event), ratio {vf[k] / vp[k]:.3f}, pull {pulls[k]:+.1f}")
        tp, tf = vp.sum(), vf.sum()
        et = math.hypot(math.sqrt((ep**2).sum()), math.sqrt((ef**2).sum()))
        print(f"total: ratio {tf / tp:.4f} ± {et / tp:.4f}; chi2 {float((pulls**2).sum()):.1f}"
              f"/{len(vp)}")
        print("wrote nothing (figures above)")
        return 0
    if args.kind is None:
        ap.error("give 'pythia' or 'forced', or --compare")
    if args.save and os.path.exists(args.save):
        ap.error(f"{args.save} exists; not overwritten")
    res = run(args.kind, args.events, args.seed)
    print(f"{args.kind}, {args.events} events, seed {args.seed}, {res['cpu_s']:.0f} s CPU: "
          + " | ".join(f"{1e4 * v:.3f} ± {1e4 * e:.3f}" for v, e in
                       zip(res["per_event"], res["error"], strict=True)) + " (1e-4 per H event)")
    if args.save:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(args.save)) or ".")
        with os.fdopen(fd, "w") as f:
            json.dump(res, f, indent=1)
        os.replace(tmp, args.save)
        print(f"wrote {args.save}")
    else:
        print("wrote nothing (figures above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
