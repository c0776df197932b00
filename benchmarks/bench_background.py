"""Background generation benchmark: events/s and effective luminosity per CPU-hour.

Effective luminosity in the three-lepton preselection (``docs/background.md`` §4):

    L_eff = (N_gen / σ_incl) · Σ_i W_i / Σ_i W_i²,

with N_gen the generated Pythia events, σ_incl the inclusive cross section of the process,
and W_i the summed weight (per generated event, Pythia weight × splitting weight) of the
preselected copies made from Pythia event i. It is the luminosity of an unweighted sample
with the same statistical error on the preselected yield, N_eff / σ_presel with
N_eff = (ΣW)²/ΣW². For an unweighted sample it is N_gen/σ_incl whatever the selection.
Rates are CPU time of this process (``time.process_time``), single core; the machine is
shared, so absolute numbers are under contention, ratios are measured in one process.
Each method first runs an untimed 300-event job, with a file of its own if the row writes
one (numba's cache is loaded once per process: ~2–3 s, and on a cold cache the kernels are
compiled, ~90 s; the file-writing kernels are specialisations of their own, so a '+file'
row warms up separately, or on a cold cache its first seed would count their compilation,
docs/background.md §18). Each job prints its CPU and rate to stderr as it finishes.

Run: ``python benchmarks/bench_background.py [--events N] [--process P] [--methods ...]``,
e.g. ``--methods forced,sliced`` for the forced/sliced comparison of docs/background.md §8
(``--methods forced,sliced_fsr,sliced_fsrq`` for the forced-emission methods)
(for ``sliced`` N_gen counts the inclusive-W events of sample S; sample H's events are
normalised to them, see :mod:`samples.background_sliced`). A row ``method:engine`` runs a
sliced method with that engine (``compiled``, the default, or ``python``, the reference
implementation: same events and weights), e.g. ``--methods
forced,sliced_fsrq:python,sliced_fsrq``; ``--breakdown`` prints the shares of σ_presel and
of Σ W² of the samples S, H, D (W-lepton emissions) and Q (quark emissions).

``--write DIR``: every row also writes its NanoAOD file into DIR (a new, empty directory)
and its rate counts the CPU of the whole job, ROOT file included (``time.process_time``
around ``run_job``); the table then also gives the copies written per Pythia event.
A row ``method+file`` writes its file into ``--write DIR`` and the other rows write none
(without any ``+file`` row, ``--write`` makes every row write), so that
``--methods sliced_fsrq,sliced_fsrq+file --write DIR`` measures the cost of the file
against the same job without it, in one process. ``--repeat R`` runs the rows R times,
interleaved, and gives each row's rate from its fastest run: on a shared machine the other
load only ever adds CPU time (measured swings of 1.5× within the hour), so the minimum is
the least-disturbed figure, and interleaving exposes the rows to the same conditions.
``--thin-keep``: the sliced rows' survival probability of non-core copies.

``--seeds 1-8``: each row runs once per seed (with ``--repeat``, the fastest run per seed)
and reports L_eff of all its jobs pooled (L_gen and the W_i of every job together) over
their summed CPU, then each seed's own figure. L_eff of one 40 000-event job scatters by
~15% between seeds through N_eff (a few heavy events, docs/background.md §12), so a
single seed does not measure the rate to better than that.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")


def effective_lumi(res, xsec_pb: float) -> tuple[float, float, int]:
    """(L_eff [fb^-1], N_eff, N_sel raw) of one :class:`samples.background.JobResult`."""
    return pooled_lumi([res], xsec_pb)


def event_weights(res) -> np.ndarray:
    """W_i per Pythia event (summed weights of its preselected copies) of one job."""
    p = res.presel
    if len(p) == 0:
        return np.zeros(0)
    _, inv = np.unique(p[:, 3], return_inverse=True)
    return np.bincount(inv, weights=p[:, 2])


def pooled_lumi(results, xsec_pb: float) -> tuple[float, float, int]:
    """(L_eff [fb^-1], N_eff, N_sel raw) of several jobs (seeds) taken as one sample:
    L_gen and the W_i of all jobs pooled (the weights are per generated event, so jobs of
    any size pool directly). Equals :func:`effective_lumi` for one job."""
    l_gen_fb = sum(r.sumw_generated for r in results) / xsec_pb / 1000.0
    w = np.concatenate([event_weights(r) for r in results])
    n_sel = sum(len(r.presel) for r in results)
    if len(w) == 0:
        return float("nan"), 0.0, 0
    return l_gen_fb * w.sum() / (w**2).sum(), w.sum() ** 2 / (w**2).sum(), n_sel


def per_cpu_hour(l_eff_fb: float, cpu_s: float) -> float:
    """L_eff [fb^-1] per CPU time [s] in ab^-1 per CPU-hour."""
    return l_eff_fb / cpu_s * 3600.0 / 1000.0


def _seed_list(text: str) -> list[int]:
    """``"1,2,5-8"`` → [1, 2, 5, 6, 7, 8]."""
    out: list[int] = []
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        try:
            out += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
        except ValueError:
            raise argparse.ArgumentTypeError(f"--seeds {text!r}: give seeds as 1,2,5-8") from None
    if not out or min(out) < 0 or len(set(out)) != len(out):
        raise argparse.ArgumentTypeError(f"--seeds {text!r}: distinct seeds >= 0 needed")
    return out


def breakdown(res) -> dict[str, tuple[float, float]]:
    """(share of Σw, share of Σ W²) per sample S/H/D/Q of a sliced result; W² per Pythia
    event and sample (the cross terms between samples of one event are not attributed)."""
    p, a = res.presel, res.presel_aux
    if len(p) == 0 or len(a) != len(p):
        return {}
    _, inv = np.unique(p[:, 3], return_inverse=True)
    w_ev = np.bincount(inv, weights=p[:, 2])
    tot_w, tot_w2 = w_ev.sum(), (w_ev**2).sum()
    out = {}
    for name, part in (("S", 0), ("H", 1), ("D", 2), ("Q", 3)):
        sel = a[:, 3] == part
        w = np.bincount(inv[sel], weights=p[sel, 2], minlength=len(w_ev))
        out[name] = (w.sum() / tot_w, (w**2).sum() / tot_w2)
    return out


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be ≥ 1")
    return value


#: Options overriding a sliced method's defaults: (flag, type, methods it applies to, help).
_SLICED = ("sliced", "sliced_fsr", "sliced_fsrq")
SLICED_OPTIONS = (
    ("hard-fraction", float, _SLICED, "sliced*: fraction of events in sample H"),
    ("fsr-emissions", _positive_int, ("sliced_fsr", "sliced_fsrq"),
     "sliced_fsr(q): forced W-lepton emissions per event (per W-decay configuration)"),
    ("quark-emissions", _positive_int, ("sliced_fsrq",),
     "sliced_fsrq: forced emissions per final-state quark (per W-decay configuration)"),
    ("oversample-soft", _positive_int, _SLICED, "sliced*: splittings per shower photon of sample S"),
    ("thin-keep", float, _SLICED, "sliced*: survival probability of non-core written copies"),
    ("w-decays", _positive_int, _SLICED, "sliced*: W-decay configurations per Pythia event"),
)


def main(argv: list[str] | None = None) -> int:
    from samples.background import JobTask, run_job
    from samples.model import cross_section_pb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--process", default="W_munu_gstar")
    ap.add_argument("--events", type=int, default=30000, help="Pythia events per method")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=_seed_list, default=None,
                    help="several seeds, e.g. 1-8: each row runs once per seed and reports "
                         "the pooled L_eff over the total CPU (overrides --seed)")
    ap.add_argument("--oversample", type=int, default=8)
    ap.add_argument("--methods", default="plain,enhanced,forced,forced_x,reshower5,reshower20,"
                    "sliced,sliced_fsr", help="comma-separated rows to run (forced_x: forced with "
                    "--oversample; reshowerR: reshower with R re-showers)")
    ap.add_argument("--slice-pt", type=float, default=None, dest="slice_pt",
                    help="sliced: slicing pT [GeV] (default samples.background.SLICE_PT_GEV)")
    ap.add_argument("--oversample-hard", type=_positive_int, default=None,
                    dest="oversample_hard",
                    help="sliced*: splittings per photon of sample H (default: the method's)")
    for flag, typ, _methods, what in SLICED_OPTIONS:
        ap.add_argument(f"--{flag}", type=typ, default=None, dest=flag.replace("-", "_"),
                        help=f"{what} (default: the method's, "
                             "samples.background.method_default)")
    ap.add_argument("--write", default=None, metavar="DIR",
                    help="write each row's file into DIR (must not exist) and count its CPU")
    ap.add_argument("--repeat", type=_positive_int, default=1,
                    help="run the rows this many times, interleaved; report each row's fastest")
    ap.add_argument("--breakdown", action="store_true",
                    help="sliced*: shares of sigma_presel and sum W^2 per sample")
    args = ap.parse_args(argv)
    keys = {"W_munu_gstar": ("W_munu", 1.0), "W_enu_gstar": ("W_enu", 1.0)}
    if args.process not in keys:
        print(f"only {', '.join(keys)} are benchmarked", file=sys.stderr)
        return 2
    key, mult = keys[args.process]
    xs = cross_section_pb(key, 13.0) * mult
    rows = []
    from samples.background import SLICE_PT_GEV

    table = {"plain": ("plain", 1, 1), "enhanced": ("enhanced", 1, 1), "forced": ("forced", 1, 1),
             "forced_x": ("forced", args.oversample, 1), "reshower5": ("reshower", 1, 5),
             "reshower20": ("reshower", 1, 20), "sliced": ("sliced", 1, 1),
             "sliced_fsr": ("sliced_fsr", 1, 1), "sliced_fsrq": ("sliced_fsrq", 1, 1),
             "sliced_fsrq_1dec": ("sliced_fsrq", 1, 1)}
    # Row presets: settings that override the method's defaults (and the options above).
    # sliced_fsrq_1dec: the sliced_fsrq defaults before redrawn W-decay angles
    # (docs/background.md §9–§10): one decay configuration, 48 / 12 / 32.
    presets = {"sliced_fsrq_1dec": {"w_decays": 1, "fsr_emissions": 48, "quark_emissions": 12,
                                    "oversample_soft": 32}}
    runs = []
    for m in args.methods.split(","):
        spec, plus, _ = m.partition("+file")
        key, _, engine = spec.partition(":")
        runs.append((*table[key], engine, key, bool(plus)))
    if any(r[-1] for r in runs) and not args.write:
        print("a '+file' row needs --write DIR", file=sys.stderr)
        return 2
    if not any(r[-1] for r in runs):
        runs = [(*r[:-1], bool(args.write)) for r in runs]
    # Sliced rows: settings not given here take the method's defaults
    # (samples.background.method_default).
    sliced_kw = {"slice_pt": args.slice_pt or SLICE_PT_GEV}
    parts = []
    out_dir = None
    if args.write:
        from pathlib import Path

        out_dir = Path(args.write)
        if out_dir.exists():
            print(f"--write {out_dir}: exists; give a new directory", file=sys.stderr)
            return 2
        out_dir.mkdir(parents=True)
    warmed = set()
    seeds = args.seeds or [args.seed]
    best: dict[tuple[int, int], tuple] = {}
    for rep, seed in ((rep, seed) for rep in range(args.repeat) for seed in seeds):
        for k, (method, over, resh, engine, key, write) in enumerate(runs):
            kw = dict(sliced_kw) if method.startswith("sliced") else {}
            for flag, _typ, methods, _what in SLICED_OPTIONS:
                value = getattr(args, flag.replace("-", "_"))
                if method in methods and value is not None:
                    kw[flag.replace("-", "_")] = value
            kw.update(presets.get(key, {}))
            if engine:
                kw["engine"] = engine
            if method.startswith("sliced"):
                over = args.oversample_hard  # None: the method's default
            if (method, engine, write) not in warmed:
                # Warm-up (not timed): the first job of a process loads the compiled
                # kernels from numba's cache (~2–3 s here), or compiles them on a cold
                # cache (~90 s), a one-off per worker process. A job writing a file uses
                # kernel specialisations of its own, so it has a warm-up of its own (its
                # file goes to a scratch directory).
                with tempfile.TemporaryDirectory() as tmp:
                    warm_out = os.path.join(tmp, "warm.root") if write else None
                    run_job(JobTask(args.process, method, 13.0, 300, seeds[0] + 1000, 0,
                                    False, warm_out, over, False, resh, **kw))
                warmed.add((method, engine, write))
            suffix = (f"_s{seed}" if args.seeds else "") + (f"_r{rep}" if rep else "")
            out = str(out_dir / f"row{k}_{method}{suffix}.root") if write else None
            c0 = time.process_time()
            r = run_job(JobTask(args.process, method, 13.0, args.events, seed, 0, False,
                                out, over, False, resh, **kw))
            # With any file, every row counts the whole job alike (run_job's own figure
            # leaves out the set-up and the writing).
            cpu = time.process_time() - c0 if out_dir else r.cpu_seconds
            print(f"  {key}{'+file' if write else ''} seed {seed}"
                  + (f" run {rep + 1}" if args.repeat > 1 else "")
                  + f": {cpu:.2f} s CPU, "
                  f"{per_cpu_hour(effective_lumi(r, xs)[0], cpu):.3g} ab^-1/CPU-h",
                  file=sys.stderr, flush=True)
            if (k, seed) not in best or cpu < best[k, seed][0]:
                best[k, seed] = (cpu, r)
    spreads = []
    for k, (method, over, resh, engine, key, write) in enumerate(runs):
        cpu = sum(best[k, s][0] for s in seeds)
        results = [best[k, s][1] for s in seeds]
        l_eff, n_eff, n_sel = pooled_lumi(results, xs)
        n_gen = sum(r.n_generated for r in results)
        sumw_gen = sum(r.sumw_generated for r in results)
        if method == "plain" and n_sel == 0:
            l_eff = sumw_gen / xs / 1000.0  # unweighted: L_eff = L_gen exactly
        per_h = per_cpu_hour(l_eff, cpu)
        sig = sum(r.presel[:, 2].sum() for r in results) / sumw_gen * xs if n_sel else 0.0
        name = f"{method}(R={resh})" if method == "reshower" else f"{method}(x{over})"
        if method.startswith("sliced"):
            name = f"{key}:{engine}" if engine else key
            parts.append((name, breakdown(results[0])))  # the first seed's
        if write and any(not w for *_, w in runs):
            name += "+file"
        rows.append((name, n_gen / cpu, n_sel, n_eff, sig, per_h,
                     sum(r.n_written for r in results) / n_gen))
        if args.seeds:
            each = [per_cpu_hour(effective_lumi(best[k, s][1], xs)[0], best[k, s][0])
                    for s in seeds]
            spreads.append((name, min(each), max(each)))
    print(f"process {args.process}, {args.events} Pythia events per method, CPU time of one "
          f"process (shared machine: absolute rates under contention), "
          + (f"NanoAOD files written to {out_dir} (CPU included)" if out_dir
             else "no file written")
          + (f"; fastest of {args.repeat} interleaved runs per row" if args.repeat > 1 else "")
          + (f"; pooled over seeds {','.join(map(str, seeds))} (CPU summed)" if args.seeds
             else f"; seed {args.seed}"))
    print(f"{'method':17s} {'ev/s':>8s} {'N_sel':>6s} {'N_eff':>7s} {'sigma_presel[pb]':>17s} "
          f"{'L_eff/CPU-h[ab^-1]':>19s} {'ratio':>8s} {'copies/event':>13s}")
    base = rows[0][5]  # ratios relative to the first row
    for name, rate, n_sel, n_eff, sig, per_h, copies in rows:
        ratio = per_h / base if base > 0 and not math.isnan(per_h) else float("nan")
        print(f"{name:17s} {rate:8.0f} {n_sel:6d} {n_eff:7.1f} {sig:17.4f} {per_h:19.4g} "
              f"{ratio:8.1f} {copies:13.2f}")
    for name, lo, hi in spreads:
        print(f"{name}: single seeds {lo:.3g}-{hi:.3g} ab^-1 per CPU-hour")
    print("target: >= 4 ab^-1 per CPU-hour")
    if args.breakdown:
        for name, b in parts:
            print(f"{name}: " + ", ".join(f"{k} {v[0]:.2f} of sigma / {v[1]:.2f} of W^2"
                                          for k, v in b.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
