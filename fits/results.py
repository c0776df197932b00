"""Write limit results: ``limits.json`` (schema ``darknu-limits/1``) and validated pyhf workspaces.

The schema is documented in ``docs/limits-schema.md``. Every file is written atomically
(:mod:`darknu.io`); every workspace is validated against pyhf's ``workspace.json`` schema
before it is written, and an invalid one raises :class:`darknu.errors.FitError` with
pyhf's validation message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from darknu import __version__
from darknu.errors import FitError, InputFileError
from darknu.io import atomic_write_json
from fits.lhc import validated_workspace
from fits.limits import LimitResult

log = logging.getLogger(__name__)

FORMAT = "darknu-limits/1"
STATUSES = ("ok", "ok_after_retry", "failed", "above_poi_bound", "no_signal", "no_valid_window")


def results_document(
    results: Sequence[LimitResult], *, provenance: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON document of ``limits.json`` (see docs/limits-schema.md)."""
    for r in results:
        if r.status not in STATUSES:
            raise FitError(f"result {r.workspace or r.m_N}: unknown status {r.status!r}; valid: {STATUSES}")
        if r.status in ("ok", "ok_after_retry") and r.limit_u2 is None:
            raise FitError(f"result with status {r.status!r} has no limit ({r.channel}/{r.analysis}/{r.method})")
    return {
        "format": FORMAT,
        "poi": "mu = |U_mu4|^2 / U2_ref, U2_ref = 1e-4",
        "units": {"masses": "GeV", "limits": "|U_mu4|^2 (dimensionless)", "lumi": "fb^-1"},
        "cl": 0.95,
        "darknu_version": __version__,
        "provenance": dict(provenance or {}),
        "n_results": len(results),
        "n_failed": sum(r.status in ("failed", "above_poi_bound") for r in results),
        "results": [r.to_json() for r in results],
    }


def write_results(
    out_dir: str | os.PathLike[str],
    results: Sequence[LimitResult],
    workspaces: Mapping[str, Any],
    *,
    provenance: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``out_dir/limits.json`` and ``out_dir/workspaces/<name>.json``; return the paths.

    ``workspaces`` maps names (``LimitResult.workspace``) to ``pyhf.Workspace`` objects or
    spec dicts; each is validated first. The directory itself is prepared by the caller
    (``darknu.io.prepare_output_dir`` refuses to clobber results without ``force``).
    """
    out = Path(out_dir)
    written: list[Path] = []
    names = set(workspaces)
    missing = {r.workspace for r in results if r.workspace and r.workspace not in names}
    if missing:
        raise FitError(f"results refer to workspaces not given to write_results: {sorted(missing)}")
    for name, ws in workspaces.items():
        spec = dict(ws)
        validated_workspace(spec)  # raises FitError with pyhf's message
        written.append(atomic_write_json(out / "workspaces" / f"{name}.json", spec))
    doc = results_document(results, provenance=provenance)
    written.append(atomic_write_json(out / "limits.json", doc))
    log.info("wrote %d results and %d workspaces to %s", len(results), len(workspaces), out)
    return written


def read_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``limits.json`` back (for plots and the combination), checking its format."""
    import json

    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read limits file {p}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputFileError(f"{p} is not a darknu limits file (expected format {FORMAT!r})")
    return doc
