"""Where the MC-statistical variance of a sliced background job comes from (docs/background.md §12).

Runs one job (``sliced_fsrq`` by default, the method's defaults) and splits its events of
sample S by the W's kinematics: the transverse momentum of the last W copy (what the
initial-state shower gave it), the rapidity and mass of the hard-process W (event-record
entry 5). For each bin it prints the share of the events, of the preselected Σw and of
Σ W² (W = summed weight of an event's preselected copies, the quantity of
``bench_background.effective_lumi``), and E[W²] per event relative to the average. A
bin whose Σ W² share is far above its event share is where more Pythia events would
pay; one with shares far below is where events are spent for little.

The W kinematics are read by regenerating sample S's Pythia events with the job's own
settings and seed (Pythia's stream does not depend on the splittings, which draw from
streams of their own); the alignment is checked on the job's split shower photons, whose
p_T must be that of a final photon of the regenerated event.

``--enhance LIST [LIST ...]`` (e.g. ``"isr:Q2QG=2.0"``): then also Pythia's shower
enhancement (``Enhancements:doEnhance``, ``EnhancedSplittings:List = {LIST}``) is judged
on the same Pythia set-up alone (``--enhance-events`` events each, with and without):
its weight range, its CPU per event, and the N_eff per CPU it would give, estimated from
this job's E[W | p_T(W)] and E[W² | p_T(W)] in fine p_T bins.

Run: ``python benchmarks/variance_anatomy.py [--events 40000] [--seed 3] [--method M]
[--enhance "isr:Q2QG=2.0" "isr:Q2GQ=3.0"]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")

PT_EDGES = (0.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, np.inf)
Y_EDGES = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, np.inf)
M_EDGES = (0.0, 70.0, 78.0, 83.0, 90.0, np.inf)


def _pythia(task, extra: list[str] = ()) -> object:
    """Sample S's Pythia of ``task`` (its settings and seed), with ``extra`` settings."""
    import pythia8mc

    from samples.background_sliced import soft_settings

    py = pythia8mc.Pythia("", False)
    for s in [*soft_settings(task), *extra]:
        if not py.readString(s):
            raise RuntimeError(f"Pythia rejected {s!r}")
    if not py.init():
        raise RuntimeError("Pythia failed to initialise")
    return py


#: Fine p_T(W) bins of the enhancement estimate [GeV].
FINE_PT = (0, 5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 130, 170, 250, np.inf)


def enhancement(task, lists: list[str], n: int, pt_w: np.ndarray, w: np.ndarray) -> None:
    """Print weight range, CPU and estimated N_eff per CPU of each enhancement list."""
    edges = np.array(FINE_PT, dtype=float)
    idx = np.clip(np.digitize(pt_w, edges) - 1, 0, len(edges) - 2)
    mean = np.array([w[idx == i].mean() if np.any(idx == i) else 0.0
                     for i in range(len(edges) - 1)])
    m2 = np.array([(w[idx == i] ** 2).mean() if np.any(idx == i) else 0.0
                   for i in range(len(edges) - 1)])
    print(f"\nPythia's ISR enhancement, {n} events each (N_eff per event estimated from "
          "E[W | pT(W)], E[W² | pT(W)] above):")
    print(f"{'EnhancedSplittings:List':32s} {'w min':>8s} {'w max':>8s} {'ms/event':>9s} "
          f"{'N_eff/event':>12s} {'N_eff/CPU vs none':>18s}")
    base = None
    for lst in [None, *lists]:
        extra = [] if lst is None else ["Enhancements:doEnhance = on",
                                        f"EnhancedSplittings:List = {{{lst}}}"]
        py = _pythia(task, extra)
        info = py.infoPython()
        wt, pt = np.empty(n), np.empty(n)
        t0 = time.process_time()
        for i in range(n):
            if not py.next():
                wt[i], pt[i] = 0.0, 0.0
                continue
            ev = py.event
            wt[i], pt[i] = info.weight(), ev[ev[5].iBotCopyId()].pT()
        cpu = (time.process_time() - t0) / n
        j = np.clip(np.digitize(pt, edges) - 1, 0, len(edges) - 2)
        neff = (wt * mean[j]).sum() ** 2 / (wt**2 * m2[j]).sum() / n
        rate = neff / cpu
        base = rate if base is None else base
        print(f"{lst or '(none)':32s} {wt.min():8.3g} {wt.max():8.3g} {cpu * 1e3:9.3f} "
              f"{neff:12.4f} {rate / base:18.3f}")


def w_kinematics(task, n_soft: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """((n_soft, 3): p_T of the last W copy [GeV], |y| and mass [GeV] of the hard-process
    W of the job's sample-S events, NaN for an event Pythia failed to make; the p_T of the
    final photons of each event, for the alignment check)."""
    py = _pythia(task)
    kin = np.full((n_soft, 3), np.nan)
    photons: list[np.ndarray] = []
    for i in range(n_soft):
        if not py.next():
            photons.append(np.zeros(0))
            continue
        ev = py.event
        w = ev[5]
        if w.idAbs() != 24:
            raise RuntimeError(f"event {i}: entry 5 is {w.id()}, not the hard-process W")
        kin[i] = ev[w.iBotCopyId()].pT(), abs(w.y()), w.m()
        photons.append(np.array([ev[j].pT() for j in range(ev.size())
                                 if ev[j].isFinal() and ev[j].id() == 22]))
    return kin, photons


def table(name: str, x: np.ndarray, edges, w: np.ndarray) -> None:
    tot, tot2, m2 = w.sum(), (w**2).sum(), (w**2).mean()
    print(f"\n{name:>14s} {'events':>7s} {'Σw':>7s} {'ΣW²':>7s} {'E[W²]/avg':>10s}")
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (x >= lo) & (x < hi)
        if not sel.any():
            continue
        print(f"{lo:6.1f} – {hi:<6.1f} {sel.mean():7.3f} {w[sel].sum() / tot:7.3f} "
              f"{(w[sel]**2).sum() / tot2:7.3f} {(w[sel]**2).mean() / m2:10.2f}")


def main(argv: list[str] | None = None) -> int:
    from samples.background import JobTask, run_job

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--process", default="W_munu_gstar")
    ap.add_argument("--method", default="sliced_fsrq",
                    choices=("sliced", "sliced_fsr", "sliced_fsrq"))
    ap.add_argument("--events", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--enhance", nargs="*", default=[], metavar="LIST",
                    help="EnhancedSplittings:List contents to judge, e.g. 'isr:Q2QG=2.0'")
    ap.add_argument("--enhance-events", type=int, default=20000)
    args = ap.parse_args(argv)
    task = JobTask(args.process, args.method, 13.0, args.events, args.seed, 0, False, None)
    res = run_job(task)
    n_soft = args.events - int(round(args.events * task.hard_fraction))
    kin, photons = w_kinematics(task, n_soft)
    p, aux = res.presel, res.presel_aux
    iev = p[:, 3].astype(int)
    # Alignment: every split shower photon of sample S (part 0) is a final photon of the
    # regenerated event with the same p_T.
    bad = [k for k in np.flatnonzero(aux[:, 3] == 0)
           if not np.any(np.abs(photons[iev[k]] - aux[k, 1]) < 1e-9 * max(1.0, aux[k, 1]))]
    if bad:
        print(f"regenerated events do not match the job's ({len(bad)} split photons "
              "without their photon)", file=sys.stderr)
        return 1
    w = np.bincount(iev, weights=p[:, 2], minlength=args.events)[:n_soft]
    ok = ~np.isnan(kin[:, 0])
    w, kin = w[ok], kin[ok]
    print(f"{args.process} {args.method}, {args.events} Pythia events (seed {args.seed}), "
          f"{len(w)} of sample S: N_eff per event {w.sum() ** 2 / (w**2).sum() / len(w):.4f}; "
          f"{np.count_nonzero(aux[:, 3] == 0)} split shower photons matched")
    table("pT(W) [GeV]", kin[:, 0], PT_EDGES, w)
    table("|y(W)|", kin[:, 1], Y_EDGES, w)
    table("m(W) [GeV]", kin[:, 2], M_EDGES, w)
    top = np.sort(w**2)[::-1]
    print(f"\nΣ W² share of the 10 / 100 / 1000 largest events: {top[:10].sum() / top.sum():.3f} / "
          f"{top[:100].sum() / top.sum():.3f} / {top[:1000].sum() / top.sum():.3f}; "
          f"events with a preselected copy: {np.mean(w > 0):.3f}")
    if args.enhance:
        enhancement(task, args.enhance, args.enhance_events, kin[:, 0], w)
    print("(printed only; nothing written)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
