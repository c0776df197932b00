"""§8/§9 validation of ``sliced_fsrq`` (docs/background.md): its forced-emission samples
against Pythia's own shower photons, and the whole sample against ``sliced``.

The references come from the validated ``sliced`` method (W → μν or W → eν, 13 TeV,
truth preselection, m_ℓℓ > 10 MeV, fb; errors: Σ W² grouped per Pythia event): the
shower's W-lepton photons for sample D, the shower's final-state-quark photons with
p_T > 4 GeV for sample Q, and the whole sample, each split by the package's forced
splitting. ``--make-reference FILE`` runs ``sliced`` (its shower photons split, origins
recorded) with ``--events`` per seed and writes the three references to FILE;
``--reference FILE`` compares ``sliced_fsrq`` with them (default: the files of
:data:`DEFAULT_REFERENCES`, made with 600k ``sliced`` events, seeds 301 and 302, after
docs/background.md §14 (remade then: §14 changed the pair's decay angle, sample H's
recoiler and the initiator chains); the §8 tables were made before §13 changed the
photon-splitting recoiler of final-state-shower photons and no longer apply).

Run: ``python benchmarks/validate_sliced_fsrq.py --events 120000 --seeds 101,102``
(the method's defaults unless ``--fsr-emissions`` etc. are given). Seeds run in parallel
on ``--workers`` local processes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")

MLL_EDGES = (0.01, 0.1, 0.3, 1.0, 3.0, 10.0)
LEAD_EDGES = (25.0, 32.0, 40.0, 50.0, 70.0, 150.0, 1e9)
#: References made with --make-reference (600k `sliced` events: seeds 301, 302 × 300 000).
DEFAULT_REFERENCES = {
    "W_munu_gstar": Path(__file__).parent / "data" / "validate_sliced_fsrq_ref_W_munu.json",
    "W_enu_gstar": Path(__file__).parent / "data" / "validate_sliced_fsrq_ref_W_enu.json",
}


def _pool(results):
    """Preselected rows of several jobs (Pythia-event index made unique) and Σw generated."""
    rows, aux, sumw = [], [], 0.0
    for k, r in enumerate(results):
        p = r.presel.copy()
        p[:, 3] += k * 10**9
        rows.append(p)
        aux.append(r.presel_aux)
        sumw += r.sumw_generated
    return np.concatenate(rows), np.concatenate(aux), sumw


def _sums(p, sel, scale):
    _, inv = np.unique(p[sel, 3], return_inverse=True)
    w = np.bincount(inv, weights=p[sel, 2]) if sel.any() else np.zeros(1)
    return w.sum() * scale, math.sqrt((w**2).sum()) * scale


def _hist(p, sel, col, edges, scale):
    out = [_sums(p, sel & (p[:, col] >= lo) & (p[:, col] < hi), scale)
           for lo, hi in zip(edges[:-1], edges[1:])]
    return np.array([v for v, _ in out]), np.array([e for _, e in out])


def _chi2(v, e, ref):
    from scipy import stats

    rv, re = np.asarray(ref[0]), np.asarray(ref[1])
    c = float((((v - rv) ** 2) / (e**2 + re**2)).sum())
    return f"chi2/ndf {c:.1f}/{len(v)} (p = {stats.chi2.sf(c, len(v)):.2f})"


def _row(v, e):
    return " | ".join(f"{a:.1f} ± {b:.1f}" for a, b in zip(v, e))


def _write_reference(args, results, xsec_pb) -> int:
    """The §8 references from ``sliced`` jobs: shower photons by origin (presel_aux)."""
    from samples.background_fsr import Q_PT_CUT
    from samples.background_sliced import ORIGIN_FSR_LEPTON, ORIGIN_FSR_OTHER

    p, a, sumw = _pool(results)
    scale = xsec_pb * 1000.0 / sumw
    out = {"process": args.process, "method": "sliced", "seeds": args.seeds,
           "events_per_seed": args.events, "date": time.strftime("%Y-%m-%d")}
    sels = {"D": a[:, 0] == ORIGIN_FSR_LEPTON,
            "Q": (a[:, 0] == ORIGIN_FSR_OTHER) & (a[:, 1] > Q_PT_CUT),
            "whole": np.ones(len(p), bool)}
    for name, sel in sels.items():
        v, e = _hist(p, sel, 0, MLL_EDGES, scale)
        out[name] = (v.tolist(), e.tolist(), list(_sums(p, sel, scale)))
        print(f"reference {name}: {_row(v, e)}; sigma {out[name][2][0]:.1f} ± "
              f"{out[name][2][1]:.1f} fb")
    v, e = _hist(p, sels["Q"], 1, LEAD_EDGES, scale)
    out["Q_lead"] = (v.tolist(), e.tolist())
    if os.path.exists(args.make_reference):
        print(f"refusing to overwrite {args.make_reference}: remove it first")
        return 2
    with open(args.make_reference, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.make_reference}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from samples.background import JobTask, run_job
    from samples.model import cross_section_pb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=120000, help="Pythia events per seed")
    ap.add_argument("--seeds", default="101,102")
    for name in ("fsr-emissions", "quark-emissions", "oversample", "oversample-soft", "w-decays"):
        ap.add_argument(f"--{name}", type=int, default=None, dest=name.replace("-", "_"))
    ap.add_argument("--hard-fraction", type=float, default=None, dest="hard_fraction")
    ap.add_argument("--process", default="W_munu_gstar", choices=["W_munu_gstar", "W_enu_gstar"])
    ap.add_argument("--workers", type=int, default=1, help="seeds run on this many processes")
    ap.add_argument("--make-reference", default=None, metavar="FILE",
                    help="run the sliced method and write the references to FILE")
    ap.add_argument("--reference", default=None, metavar="FILE",
                    help="references written by --make-reference (default: "
                         "benchmarks/data/validate_sliced_fsrq_ref_<W_munu|W_enu>.json)")
    ap.add_argument("--save", default=None,
                    help="write the spectra (fb, with errors) to this JSON file")
    ap.add_argument("--compare", default=None,
                    help="a --save file of another run (other seeds or settings): chi2 of the "
                         "difference of every spectrum")
    args = ap.parse_args(argv)
    kw = {k: getattr(args, k) for k in ("fsr_emissions", "quark_emissions", "oversample",
                                        "oversample_soft", "hard_fraction", "w_decays")
          if getattr(args, k) is not None}
    from darknu.parallel import ExecutorSpec, map_tasks

    method = "sliced" if args.make_reference else "sliced_fsrq"
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = [JobTask(args.process, method, 13.0, args.events, seed, 0, False, None,
                     **({} if args.make_reference else kw)) for seed in seeds]
    kind = "futures" if args.workers > 1 else "iterative"
    results = map_tasks(run_job, tasks, executor=ExecutorSpec(kind, workers=args.workers),
                        desc=f"validate {method}")
    cpu = 0.0
    for seed, r in zip(seeds, results, strict=True):
        cpu += r.cpu_seconds
        print(f"seed {seed}: {r.cpu_seconds:.1f} s CPU, load {os.getloadavg()[0]:.2f}",
              flush=True)
    xs_key = {"W_munu_gstar": "W_munu", "W_enu_gstar": "W_enu"}[args.process]
    if args.make_reference:
        return _write_reference(args, results, cross_section_pb(xs_key, 13.0))
    if args.reference is None:
        args.reference = str(DEFAULT_REFERENCES[args.process])
    with open(args.reference) as f:
        ref = json.load(f)
    if ref["process"] != args.process:
        print(f"--reference {args.reference} is for {ref['process']}, not {args.process}")
        return 2
    ref_d, ref_q, ref_q_lead, ref_sliced = (ref[k] for k in ("D", "Q", "Q_lead", "whole"))
    t = results[0].task
    print(f"settings: fsr_emissions {t.fsr_emissions}, quark_emissions {t.quark_emissions}, "
          f"hard_fraction {t.hard_fraction}, oversample {t.oversample}, "
          f"oversample_soft {t.oversample_soft}, w_decays {t.w_decays}; "
          f"{time.strftime('%Y-%m-%d')}")
    p, a, sumw = _pool(results)
    scale = cross_section_pb(xs_key, 13.0) * 1000.0 / sumw  # fb per unit weight
    n_s = sum(r.extra["n_generated_S"] for r in results)
    n_h = sum(r.extra["n_generated_H"] for r in results)
    print(f"{n_s} S + {n_h} H events, {cpu:.0f} s CPU; fb per m_ll bin {MLL_EDGES} GeV")
    for name, part, ref in (("D (forced W-lepton emission)", 2, ref_d),
                            ("Q (forced quark emission)", 3, ref_q)):
        sel = a[:, 3] == part
        v, e = _hist(p, sel, 0, MLL_EDGES, scale)
        tot, err = _sums(p, sel, scale)
        ratio = tot / ref[2][0]
        rerr = ratio * math.hypot(err / tot, ref[2][1] / ref[2][0])
        print(f"{name}: {_row(v, e)}; m_ll {_chi2(v, e, ref)}; sigma {tot:.1f} ± {err:.1f} fb "
              f"vs shower {ref[2][0]:.1f} ± {ref[2][1]:.1f} (ratio {ratio:.3f} ± {rerr:.3f})")
        if part == 3:
            v, e = _hist(p, sel, 1, LEAD_EDGES, scale)
            print(f"  leading pT {LEAD_EDGES[:-1]}+: {_row(v, e)}; {_chi2(v, e, ref_q_lead)}")
    every = np.ones(len(p), bool)
    v, e = _hist(p, every, 0, MLL_EDGES, scale)
    tot, err = _sums(p, every, scale)
    print(f"whole sample: {_row(v, e)}; sigma_presel {tot / 1000:.4f} ± {err / 1000:.4f} pb")
    pull = (tot - ref_sliced[2][0]) / math.hypot(err, ref_sliced[2][1])
    print(f"  vs sliced: m_ll {_chi2(v, e, ref_sliced)}; sigma pull {pull:.2f}")
    for name, part in (("S", 0), ("H", 1), ("D", 2), ("Q", 3)):
        print(f"  share of sigma_presel {name}: {_sums(p, a[:, 3] == part, scale)[0] / tot:.3f}")
    spectra = {}
    for name, sel in (("all", every), *((k, a[:, 3] == part) for k, part in
                                        (("S", 0), ("H", 1), ("D", 2), ("Q", 3)))):
        for col, edges in (("mll", MLL_EDGES), ("lead", LEAD_EDGES)):
            v, e = _hist(p, sel, 0 if col == "mll" else 1, edges, scale)
            spectra[f"{name}:{col}"] = (v.tolist(), e.tolist())
        spectra[f"{name}:sigma"] = tuple([x] for x in _sums(p, sel, scale))
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"settings": {**kw, "seeds": args.seeds, "events": args.events},
                       "spectra": spectra}, f, indent=1)
        print(f"wrote {args.save}")
    if args.compare:
        with open(args.compare) as f:
            other = json.load(f)
        print(f"difference to {args.compare} ({other['settings']}):")
        for k, (v, e) in spectra.items():
            ov, oe = (np.asarray(x) for x in other["spectra"][k])
            v, e = np.asarray(v), np.asarray(e)
            ok = (e > 0) | (oe > 0)
            pulls = (v - ov)[ok] / np.hypot(e, oe)[ok]
            print(f"  {k:10s} ratio {v.sum() / ov.sum():.3f} chi2/ndf "
                  f"{float((pulls**2).sum()):.1f}/{int(ok.sum())}; pulls "
                  + " ".join(f"{x:+.1f}" for x in pulls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
