"""Combined LHC + neutrino likelihood: pyhf workspace combination with the shared POI μ.

Every workspace follows interfaces §3 (measurement ``darknu``, POI ``mu`` = |U_μ4|²/1e-4,
identical measurement config), so :meth:`pyhf.Workspace.combine` merges them; modifiers
with the same name are the same nuisance parameter (only ``mu`` is meant to be shared
between experiments, all other names start with their experiment).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import pyhf

from darknu.errors import ConfigError, ParameterError
from fits.recast.common import MEASUREMENT_CONFIG, MEASUREMENT_NAME
from fits.recast.stats import UpperLimit, upper_limit

log = logging.getLogger(__name__)

#: channel groups accepted by ``--channels`` (interfaces §3 names).
CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "lhc": ("lhc_ee_prompt", "lhc_mumu_prompt", "lhc_ee_displaced", "lhc_mumu_displaced"),
    "minerva_le": ("minerva_le",),
    "minerva_me": ("minerva_me",),
    "minerva": ("minerva_le", "minerva_me"),
    "charm2": ("charm2_nu", "charm2_nubar"),
    "charm2_nu": ("charm2_nu",),
    "charm2_nubar": ("charm2_nubar",),
    "miniboone": ("miniboone_nu",),
    "miniboone_nu": ("miniboone_nu",),
    "microboone": ("microboone",),
}
_PREFIXES = ("lhc_", "minerva_", "charm2_", "miniboone_", "microboone")


def check_workspace(ws: pyhf.Workspace, *, where: str = "workspace") -> None:
    """Raise :class:`ConfigError` unless ``ws`` follows interfaces §3."""
    meas = ws.get_measurement(measurement_name=MEASUREMENT_NAME) if MEASUREMENT_NAME in ws.measurement_names else None
    if meas is None:
        raise ConfigError(f"{where}: no measurement {MEASUREMENT_NAME!r} (has {ws.measurement_names})")
    if meas["config"] != MEASUREMENT_CONFIG:
        raise ConfigError(f"{where}: measurement config {meas['config']} differs from interfaces §3 {MEASUREMENT_CONFIG}")
    for ch in ws.channels:
        if not ch.startswith(_PREFIXES):
            raise ConfigError(f"{where}: channel {ch!r} is not an interfaces §3 name")
    for mod, _type in ws.modifiers:
        if mod != "mu" and not mod.startswith(_PREFIXES) and not mod.startswith("staterror_"):
            log.warning("%s: modifier %r has no experiment prefix: it will be shared across experiments", where, mod)


def combine_workspaces(workspaces: Sequence[pyhf.Workspace]) -> pyhf.Workspace:
    """One workspace holding every channel of ``workspaces`` with the shared POI μ (validated).

    >>> from fits.recast.common import workspace_spec
    >>> def one(name):
    ...     ch = {"name": name, "samples": [{"name": "signal", "data": [1.0], "modifiers": [
    ...         {"name": "mu", "type": "normfactor", "data": None}]}, {"name": "background",
    ...         "data": [5.0], "modifiers": []}]}
    ...     return pyhf.Workspace(workspace_spec([ch], [{"name": name, "data": [5.0]}]))
    >>> combine_workspaces([one("lhc_ee_prompt"), one("minerva_le")]).channels
    ['lhc_ee_prompt', 'minerva_le']
    """
    if not workspaces:
        raise ParameterError("combine_workspaces needs at least one workspace")
    for i, ws in enumerate(workspaces):
        check_workspace(ws, where=f"workspace {i}")
    seen: dict[str, int] = {}
    for i, ws in enumerate(workspaces):
        for ch in ws.channels:
            if ch in seen:
                raise ConfigError(f"channel {ch!r} is in workspaces {seen[ch]} and {i}; combine each channel once")
            seen[ch] = i
    out = workspaces[0]
    for ws in workspaces[1:]:
        out = pyhf.Workspace.combine(out, ws, join="outer")  # identical §3 measurements merge
    out = pyhf.Workspace(dict(out))  # re-validates against the pyhf schema
    check_workspace(out, where="combined workspace")
    out.model()  # builds: fails on inconsistent modifiers
    return out


def expand_channels(selection: Iterable[str]) -> list[str]:
    """Expand ``--channels`` groups (``lhc``, ``charm2``, ...) into channel names."""
    out: list[str] = []
    for item in selection:
        item = item.strip()
        if item not in CHANNEL_GROUPS:
            raise ParameterError(f"unknown channel group {item!r}; valid: {', '.join(sorted(CHANNEL_GROUPS))}")
        out += [c for c in CHANNEL_GROUPS[item] if c not in out]
    return out


def select_channels(ws: pyhf.Workspace, channels: Iterable[str]) -> pyhf.Workspace:
    """The workspace restricted to ``channels`` (those absent from ``ws`` are ignored, none left is an error)."""
    keep = [c for c in channels if c in ws.channels]
    if not keep:
        raise ParameterError(f"none of the channels {list(channels)} is in the workspace (has {ws.channels})")
    drop = [c for c in ws.channels if c not in keep]
    return ws.prune(channels=drop) if drop else ws


def combined_limit(
    ws: pyhf.Workspace, channels: Iterable[str] | None = None, *, cl: float = 0.95, method: str = "cls"
) -> UpperLimit:
    """Upper limit on μ from a subset of the channels of a (combined) workspace."""
    sub = select_channels(ws, channels) if channels is not None else ws
    return upper_limit(sub, cl=cl, method=method)
