"""Recast benchmark: DarkNews generation time and MC convergence of the selected signal, fit times.

For each experiment and VEGAS size (``neval``) it generates (no cache) with two seeds and
reports CPU seconds, the selected signal yield at |U_μ4|² = 1e-4 and its seed-to-seed
spread (the MC uncertainty of the recast at that size), then times a background-only fit
and a 90% CL CLs limit on the resulting workspace. Rates are CPU time of this process
(``time.process_time``); the machine is shared, so compare numbers within one run.

Run: ``python benchmarks/bench_recast.py [--m-n 0.2] [--neval 1000,5000,20000] [--experiments minerva_le,charm2_nu]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")


def selected(channel: str, ev) -> float:  # noqa: ANN001
    from fits.recast import charm2, microboone, minerva, miniboone

    if channel.startswith("minerva"):
        return minerva.selected_signal(ev)
    if channel.startswith("charm2"):
        return float(charm2.signal_histogram(ev, edges=charm2.load_data(channel).edges).sum())
    if channel == "miniboone_nu":
        return float(miniboone.signal_histogram(ev).sum())
    return microboone.expected_signal(ev)


def main() -> int:
    from fits.recast.generate import generate
    from fits.recast.run import RecastSettings, build_channel
    from fits.recast.stats import goodness_of_fit, upper_limit

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--m-n", type=float, default=0.2)
    p.add_argument("--neval", default="1000,5000,20000")
    p.add_argument("--experiments", default="minerva_le,charm2_nu,miniboone_nu")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{'channel':<14}{'neval':>7}{'cpu_s':>8}{'events':>8}{'S(1e-4)':>12}{'seed spread':>13}")
    for ch in args.experiments.split(","):
        for neval in (int(x) for x in args.neval.split(",")):
            yields = []
            t0 = time.process_time()
            for seed in (1, 2):
                ev = generate(ch, m_N=args.m_n, neval=neval, seed=seed)
                yields.append(selected(ch, ev))
            cpu = (time.process_time() - t0) / 2
            spread = abs(yields[0] - yields[1]) / (0.5 * (yields[0] + yields[1]))
            print(f"{ch:<14}{neval:>7}{cpu:>8.2f}{len(ev.weight):>8}{yields[0]:>12.4g}{spread:>13.2%}")
        t0 = time.process_time()
        ws = build_channel(ch, args.m_n, RecastSettings(neval=5000))
        t1 = time.process_time()
        gof = goodness_of_fit(ws)
        t2 = time.process_time()
        lim = upper_limit(ws, cl=0.90)
        t3 = time.process_time()
        print(f"  {ch}: build {t1 - t0:.2f}s, bkg-only fit {t2 - t1:.2f}s ({gof}), "
              f"90% CLs limit {t3 - t2:.2f}s (|U|^2 < {lim.U2:.3g})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
