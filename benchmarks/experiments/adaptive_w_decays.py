"""Event-adaptive W-decay configurations of docs/background.md §12 (not kept).

Each argument ``R1,R2,R3`` runs one ``sliced_fsrq`` job whose events of sample S get R1 /
R2 / R3 decay configurations for p_T(last W copy) < 10 / 10–30 / > 30 GeV (``none``: the
default 8 everywhere), by setting the compiled engine's per-event ``w_decays`` before
its kernel call (the weight 1/R is fixed before the draws, so any per-event R is
unbiased); prints CPU, N_eff and ab⁻¹ per CPU-hour.

Run: ``python benchmarks/experiments/adaptive_w_decays.py SEED EVENTS none 4,8,24``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DARKNU_NO_PROGRESS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_background import effective_lumi  # noqa: E402

import samples.background_compiled as BC  # noqa: E402
from samples.background import JobTask, run_job  # noqa: E402
from samples.model import cross_section_pb  # noqa: E402

_soft_event = BC.CompiledEngine.soft_event
TABLE: tuple[int, int, int] | None = None


def soft_event(self, ev, w, iev):  # type: ignore[no-untyped-def]
    if TABLE is not None:
        pt = ev[ev[5].iBotCopyId()].pT()
        self.w_decays = TABLE[0] if pt < 10 else (TABLE[1] if pt < 30 else TABLE[2])
    return _soft_event(self, ev, w, iev)


def main(argv: list[str]) -> int:
    global TABLE
    BC.CompiledEngine.soft_event = soft_event
    seed, n = int(argv[0]), int(argv[1])
    xs = cross_section_pb("W_munu", 13.0)
    run_job(JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 300, seed + 1000, 0, False, None))
    for spec in argv[2:]:
        TABLE = None if spec == "none" else tuple(int(x) for x in spec.split(","))
        t0 = time.process_time()
        r = run_job(JobTask("W_munu_gstar", "sliced_fsrq", 13.0, n, seed, 0, False, None))
        cpu = time.process_time() - t0
        lumi, n_eff, _ = effective_lumi(r, xs)
        print(f"{spec}: cpu {cpu:.1f} s, N_eff {n_eff:.0f}, {lumi / cpu * 3.6:.3f} ab-1/CPU-h",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
