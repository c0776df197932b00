"""Signal generation speed: events/s with and without hadronisation, and the cost of extraction.

Run: ``python benchmarks/bench_signal.py [--events 1000] [--events-had 200]``.

For each level the same Pythia configuration is run twice in this process with the same
seed (so the same events): once with bare ``pythia.next()`` and once with
``next()`` + :meth:`samples.nanoaod.EventBuffer.append_pythia`; then the buffer is written
with :func:`samples.nanoaod.write_nanoaod`. The ratio of the two timings is the Python
extraction overhead; ratios measured in one process are robust against other load on the
machine, absolute rates are not (CPU time is printed alongside wall time).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from samples.jobs import derive_seed
from samples.model import SignalPoint, zd_ctau_mm
from samples.nanoaod import EventBuffer, write_nanoaod
from samples.signal import SIGNAL_STREAM, make_pythia, pythia_settings


def _settings(point: SignalPoint, hadron_level: bool) -> list[str]:
    return pythia_settings(
        point,
        ctau_mm=zd_ctau_mm(point.m_ZD, point.alpha_eps2),
        pythia_seed=derive_seed(1, 0, stream=SIGNAL_STREAM),
        hadron_level=hadron_level,
    )


def _time(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def bench(point: SignalPoint, events: int, hadron_level: bool) -> dict[str, float]:
    settings = _settings(point, hadron_level)

    bare = make_pythia(settings)

    def run_bare() -> None:
        for _ in range(events):
            bare.next()

    wall_bare, cpu_bare = _time(run_bare)

    full = make_pythia(settings)
    buf = EventBuffer(hadron_level=hadron_level, with_zd=True)

    def run_full() -> None:
        for _ in range(events):
            full.next()
            buf.append_pythia(full.event, weight=1.0)

    wall_full, cpu_full = _time(run_full)
    with tempfile.TemporaryDirectory() as tmp:
        wall_write, _ = _time(
            lambda: write_nanoaod(Path(tmp) / "b.root", buf, {"seed": 1, "job": 0})
        )
    return {
        "events": events,
        "bare_ev_per_s": events / wall_bare,
        "bare_ev_per_cpu_s": events / cpu_bare,
        "full_ev_per_s": events / (wall_full + wall_write),
        "full_ev_per_cpu_s": events / cpu_full,
        "overhead_ratio_wall": wall_full / wall_bare,
        "overhead_ratio_cpu": cpu_full / cpu_bare,
        "write_s": wall_write,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="parton-level events")
    parser.add_argument("--events-had", type=int, default=200, help="hadron-level events")
    parser.add_argument("--m-nd", type=float, default=10.0)
    parser.add_argument("--m-zd", type=float, default=0.03)
    args = parser.parse_args()
    point = SignalPoint(m_N=args.m_nd, m_ZD=args.m_zd)
    print(f"signal m_N = {point.m_N:g} GeV, m_ZD = {point.m_ZD:g} GeV, one process, one thread")
    for label, n, had in (
        ("no MPI/hadronisation", args.events, False),
        ("MPI + hadronisation", args.events_had, True),
    ):
        r = bench(point, n, had)
        print(
            f"{label:22s}: {n:5d} events | bare next(): {r['bare_ev_per_s']:7.0f} ev/s "
            f"({r['bare_ev_per_cpu_s']:7.0f}/CPU-s) | with extraction + write: "
            f"{r['full_ev_per_s']:7.0f} ev/s ({r['full_ev_per_cpu_s']:7.0f}/CPU-s) | "
            f"extraction overhead x{r['overhead_ratio_cpu']:.2f} CPU "
            f"(x{r['overhead_ratio_wall']:.2f} wall)"
            f" | write {r['write_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
