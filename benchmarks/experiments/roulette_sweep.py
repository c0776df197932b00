"""Quiet-event roulette sweep of docs/background.md §12 (needs ``quiet_roulette.patch``).

Each argument ``KEEP:PT`` runs one ``sliced_fsrq`` job (defaults otherwise) with the
roulette at scale PT [GeV] and survival probability KEEP (1: off) and prints its CPU,
N_eff and effective luminosity per CPU-hour (``bench_background.effective_lumi``).

Run (from the repository root, with the patch applied: ``git apply
benchmarks/experiments/quiet_roulette.patch``): ``python
benchmarks/experiments/roulette_sweep.py SEED EVENTS 1:20 0.3:20 ...``; ``HADRONS=1`` for
MPI + hadronisation.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_background import effective_lumi  # noqa: E402

from samples.background import JobTask, run_job  # noqa: E402
from samples.model import cross_section_pb  # noqa: E402


def main(argv: list[str]) -> int:
    seed, n = int(argv[0]), int(argv[1])
    hadrons = os.environ.get("HADRONS") == "1"
    xs = cross_section_pb("W_munu", 13.0)
    run_job(JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 100, seed + 1000, 0, hadrons, None))
    for spec in argv[2:]:
        keep, pt = map(float, spec.split(":"))
        t0 = time.process_time()
        r = run_job(JobTask("W_munu_gstar", "sliced_fsrq", 13.0, n, seed, 0, hadrons, None,
                            roulette_keep=keep, roulette_pt=pt))
        cpu = time.process_time() - t0
        lumi, n_eff, _ = effective_lumi(r, xs)
        print(f"keep {keep} pt {pt}: cpu {cpu:.1f} s, N_eff {n_eff:.0f}, abandoned "
              f"{r.extra['n_abandoned_S']}, sigma_W {r.extra['sigma_pythia_W_mb']:.5g} mb, "
              f"{lumi / cpu * 3.6:.3f} ab-1/CPU-h", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
