"""Pythia's photon-splitting recoilers, and the shower's quark photons against the QCD cutoff
(docs/background.md §13).

1. ``census``: Pythia's own γ → ℓ⁺ℓ⁻ splittings in the A2LL-enhanced shower (method
   ``enhanced``), by the photon's origin: which particle took the recoil (Pythia appends the
   recoiler's new copy, status ±52, right after the pair), the radiator's line or another
   one, and whether ``samples.background._recoiler`` names the same final particle.
2. ``cutoff``: photons radiated by final-state quarks with lab p_T > 4 GeV per 1000 W
   events, by their emission scale, for Pythia's QCD cutoff ``TimeShower:pTmin`` 0.5 GeV
   (Pythia's default) and 1.0 GeV (the fast samples' setting); the two must agree, since a
   photon emitted at a scale above the cutoff cannot know about later, softer emissions.

``census-hard`` does the census on sample H's Pythia (q q̄′ → W γ, p_T(γ) above the slice).

Run: ``python benchmarks/photon_recoilers.py census --events 150000 --seed 22`` (~60 s),
``python benchmarks/photon_recoilers.py census-hard --events 8000 --seed 5`` and
``python benchmarks/photon_recoilers.py cutoff --events 500000 --seed 12`` (~4 min).
"""

from __future__ import annotations

import argparse
import collections
import math
import time

import numpy as np

from samples import background as bg
from samples.signal import make_pythia as _pythia

SCALE_EDGES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, math.inf)


def _w_settings(method: str, seed: int) -> list[str]:
    return bg.pythia_settings("W_munu_gstar", method=method, sqrt_s_TeV=13.0,
                              hadron_level=False, seed=seed)


def _origin(ev, ig: int) -> str:
    top = ev[ev[ig].iTopCopyId()]
    st, emitter = abs(top.status()), ev[top.mother1()]
    if 51 <= st <= 59 and emitter.chargeType() != 0:
        return "fsr-quark" if emitter.idAbs() <= 5 else "fsr-lepton"
    if 41 <= st <= 49:
        return "isr"
    return "hard" if 21 <= st <= 29 else "other"


def _beam_side(ev, i: int) -> int:
    while i > 2:
        i = ev[i].mother1()
    return i


def _rule_agrees(ev, ig: int, i_next: int, origin: str) -> str:
    """Does :func:`samples.background_sliced.hard_photon_recoiler` (hard-process photons)
    or :func:`~samples.background_sliced.shower_photon_recoiler` (initial-state photons)
    name the recoiler of Pythia's splitting of photon ``ig``? In this record the initiator
    chain stops at the splitting's −53 copy, so the rule sees the initiators of the
    splitting's moment. Returns the kinds compared ("incoming same side", "W", "final same
    line", or "differs: ...")."""
    from samples.background_sliced import (
        RECOIL_INCOMING,
        RECOIL_W,
        hard_photon_recoiler,
        shower_photon_recoiler,
    )

    rec = ev[i_next]
    ours = (hard_photon_recoiler(ev, ev[ig].iTopCopyId()) if origin == "hard"
            else shower_photon_recoiler(ev, ev[ig].iTopCopyId()))
    if ours is None:
        return "differs: package finds none"
    j, kind = ours
    if abs(rec.status()) == 53:
        ok = kind == RECOIL_INCOMING and _beam_side(ev, j) == _beam_side(ev, i_next)
        return "incoming, same side" if ok else f"differs: Pythia incoming, package kind {kind}"
    before = ev[rec.mother1()]
    if before.idAbs() == 24:
        return "W" if kind == RECOIL_W else f"differs: Pythia W, package kind {kind}"
    ok = kind not in (RECOIL_INCOMING, RECOIL_W) and ev[j].iTopCopyId() == before.iTopCopyId()
    if ok:
        return "final, same line"
    return f"differs: Pythia final |id| {before.idAbs()}, package kind {kind}"


def census(events: int, seed: int, hard: bool = False) -> None:
    if hard:  # sample H's Pythia (q q̄′ → W γ above the slice), photon splitting on
        from samples.background_sliced import hard_settings

        h = hard_settings("W_munu_gstar", sqrt_s_TeV=13.0, hadron_level=False, seed=seed,
                          slice_pt=bg.SLICE_PT_GEV)
        py = _pythia([s for s in h if "QEDshowerByGamma" not in s]
                     + ["Enhancements:doEnhance = on", "EnhancedSplittings:List = {fsr:A2LL=20}"])
    else:
        py = _pythia(_w_settings("enhanced", seed))
    count: collections.Counter = collections.Counter()
    t0 = time.process_time()
    for _ in range(events):
        if not py.next():
            continue
        ev = py.event
        for ig, i_next in bg.shower_splittings(ev):
            origin = _origin(ev, ig)
            rec = ev[i_next]
            if origin in ("hard", "isr"):
                count[(origin, "package's hard/shower_photon_recoiler names Pythia's",
                       _rule_agrees(ev, ig, i_next, origin))] += 1
            if abs(rec.status()) != 52:
                count[(origin, "recoiler not a final-state copy")] += 1
                continue
            before = ev[rec.mother1()]
            emitter = ev[ev[ev[ig].iTopCopyId()].mother1()]
            line = before.id() == emitter.id() and before.iTopCopyId() == emitter.iTopCopyId()
            count[(origin, "radiator line" if line else f"other (|id| {before.idAbs()})")] += 1
            if ev[rec.iBotCopyId()].isFinal():
                ours = bg._recoiler(ev, ig)
                same = ours is not None and ev[ours].iBotCopyId() == rec.iBotCopyId()
                count[(origin, "package names Pythia's final recoiler", same)] += 1
    print(f"census: {events} enhanced {'sample-H ' if hard else ''}W -> mu nu events "
          f"(seed {seed}), "
          f"{time.process_time() - t0:.0f} s CPU; Pythia's gamma -> l+l- splittings:")
    for k, v in sorted(count.items(), key=lambda kv: tuple(map(str, kv[0]))):
        print(f"  {' / '.join(map(str, k)):60s} {v}")


def cutoff(events: int, seed: int) -> None:
    for pt_min in (0.5, 1.0):
        py = _pythia(_w_settings("forced", seed) + [f"TimeShower:pTmin = {pt_min}"])
        n = np.zeros(len(SCALE_EDGES) - 1)
        n_quarks = 0
        t0 = time.process_time()
        for _ in range(events):
            if not py.next():
                continue
            ev = py.event
            for j in range(ev.size()):
                p = ev[j]
                if not p.isFinal():
                    continue
                if 1 <= p.idAbs() <= 5:
                    n_quarks += 1
                elif p.id() == 22 and p.pT() > 4.0 and _origin(ev, j) == "fsr-quark":
                    k = int(np.searchsorted(SCALE_EDGES, ev[p.iTopCopyId()].scale())) - 1
                    if 0 <= k < len(n):
                        n[k] += 1
        cpu = time.process_time() - t0
        rate = " | ".join(f"{1e3 * v / events:.3f} ± {1e3 * math.sqrt(v) / events:.3f}"
                          for v in n)
        print(f"TimeShower:pTmin = {pt_min} GeV: quark photons (lab p_T > 4 GeV) per 1000 "
              f"events by emission scale {SCALE_EDGES[:-1]}+ GeV: {rate}; total "
              f"{1e3 * n.sum() / events:.3f} ± {1e3 * math.sqrt(n.sum()) / events:.3f}; "
              f"final quarks per event {n_quarks / events:.2f}; {1e3 * cpu / events:.3f} ms "
              f"CPU per event ({events} events, seed {seed})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("census", "census-hard", "cutoff"))
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=22)
    args = ap.parse_args(argv)
    if args.what == "cutoff":
        cutoff(args.events, args.seed)
    else:
        census(args.events, args.seed, hard=args.what == "census-hard")
    print("wrote nothing (figures above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
