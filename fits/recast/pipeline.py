"""Recast and combination stages of ``darknu run`` (thin wrappers around the commands).

``darknu run`` calls these with the settings of its configuration, so the chain and the
stand-alone commands ``darknu recast`` / ``darknu combine`` produce the same files.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from darknu.parallel import ExecutorSpec

log = logging.getLogger(__name__)


def recast_for_run(
    *,
    out_dir: Path,
    experiments: list[str],
    m_N: list[float],
    m_ZD: float,
    events: int,
    seed: int,
    executor: ExecutorSpec | None = None,
    lhc_limits: Path | None = None,
) -> list[Path]:
    """Run ``darknu recast`` for each experiment into ``out_dir``; return the files written."""
    from fits.recast.cli import run_recast

    out_dir = Path(out_dir)
    if not experiments:
        return []
    if experiments:  # one call, so the summary figure holds every experiment
        args = argparse.Namespace(
            experiment=list(experiments),
            out=out_dir,
            m_n=list(m_N),
            m_zd=m_ZD,
            events=events,
            seed=seed,
            cache=out_dir / "cache",
            lhc_limits=lhc_limits,
            force=True,  # the stage runner owns this directory and its up-to-date checks
        )
        run_recast(args)
    written = sorted(p for p in out_dir.rglob("*") if p.is_file() and "cache" not in p.parts)
    index = {
        "experiments": experiments,
        "m_N_GeV": list(m_N),
        "m_ZD_GeV": m_ZD,
        "files": [str(p.relative_to(out_dir)) for p in written],
    }
    from darknu.io import atomic_write_json

    written.append(atomic_write_json(out_dir / "recast.json", index))
    return written


def combine_for_run(
    *,
    recast_dir: Path,
    limit_dirs: dict[str, Path],
    out_dir: Path,
    m_ZD: float,
    alpha_eps2: float = 2e-10,
    channels: str = "lhc,minerva_le,minerva_me,charm2,miniboone,microboone",
    executor: ExecutorSpec | None = None,
) -> list[Path]:
    """Combine the LHC workspaces of each scenario with the neutrino channels.

    The neutrino recasts are computed at one (m_Z', alpha eps^2) (spec section 6
    benchmark); the LHC workspaces of the nominal processing pass at the same m_ZD and
    alpha eps^2 are the ones combined, mass point by mass point.
    """
    import shutil

    from darknu.errors import ConfigError
    from fits.recast.cli import run_combine

    written: list[Path] = []
    for scenario, ldir in sorted(limit_dirs.items()):
        dest = Path(out_dir) / scenario
        chosen = Path(out_dir) / f"lhc_inputs_{scenario}"
        if chosen.exists():
            shutil.rmtree(chosen)
        chosen.mkdir(parents=True)
        suffix = f"_mZD{m_ZD:g}_aeps2_{alpha_eps2:g}.json"
        for ws in sorted((Path(ldir) / "workspaces").glob(f"nominal__{scenario}__mN*{suffix}")):
            shutil.copyfile(ws, chosen / ws.name)
        args = argparse.Namespace(
            lhc_limits=chosen,
            recast=Path(recast_dir),
            channels=channels,
            lhc_match="",
            cl=0.95,
            out=dest,
            force=True,
        )
        try:
            run_combine(args)
        except ConfigError as exc:  # e.g. no common mass point: say so, do not fail the run
            log.warning("combination for %s skipped: %s", scenario, exc)
            continue
        written += sorted(p for p in dest.rglob("*.json"))
    return written
