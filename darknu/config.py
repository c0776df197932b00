"""Run configuration: TOML files a user edits, validated against a typed schema.

A configuration describes one end-to-end run (``darknu run``): the samples to generate,
the detector scenario, the projections to compute, the neutrino recasts, and the
executor. Built-in configurations live in ``darknu/configs/`` (``quick``, ``run2``,
``hllhc``); a user file may start from one of them with ``base = "run2"`` and override
only what it changes.

Every error names the file, the line (where TOML gives one) and the dotted key at fault,
and what would have been valid.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from darknu.errors import ConfigError

BUILTIN = ("quick", "run2", "hllhc")

# --- schema -----------------------------------------------------------------------------
# Each leaf: (type check, human description, validator or None). Tables are nested dicts.
Check = tuple[type | tuple[type, ...], str, Callable[[Any], bool] | None]


def _positive(x: Any) -> bool:
    return x > 0


def _nonneg(x: Any) -> bool:
    return x >= 0


def _pos_list(xs: Any) -> bool:
    return len(xs) > 0 and all(isinstance(x, int | float) and x > 0 and math.isfinite(x) for x in xs)


def _str_list(xs: Any) -> bool:
    return all(isinstance(x, str) for x in xs)


def _one_of(*names: Any) -> Callable[[Any], bool]:
    def check(x: Any) -> bool:
        return x in names

    check.__doc__ = "one of " + ", ".join(map(str, names))
    return check


def _subset_of(*names: str) -> Callable[[Any], bool]:
    def check(xs: Any) -> bool:
        return all(x in names for x in xs)

    check.__doc__ = "a list drawn from " + ", ".join(names)
    return check


def _methods_table(table: Mapping[str, Any]) -> bool:
    """Background process -> generation method; the sliced methods only for W processes."""
    if not table:
        return True
    from samples.background import METHODS, PROCESSES, SLICED_METHODS

    return all(
        p in PROCESSES and isinstance(m, str) and m in METHODS
        and (m not in SLICED_METHODS or p.startswith("W_"))
        for p, m in table.items()
    )


def _scale_table(table: Mapping[str, Any]) -> bool:
    """Background process -> integer factor >= 1 on its events and jobs."""
    if not table:
        return True
    from samples.background import PROCESSES

    return all(
        p in PROCESSES and isinstance(f, int) and not isinstance(f, bool) and f >= 1
        for p, f in table.items()
    )


NUM = (int, float)
SCHEMA: dict[str, Any] = {
    "base": (str, "name of a built-in configuration", _one_of(*BUILTIN)),
    "run": {
        "name": (str, "a run label", None),
        "seed": (int, "an integer >= 0", _nonneg),
        "out": (str, "an output directory", None),
    },
    "executor": {
        "kind": (str, "executor", _one_of("iterative", "futures", "dask")),
        "workers": (int, "an integer >= 1", _positive),
        "scheduler": (str, "a dask scheduler address tcp://HOST:PORT", lambda s: s == "" or "://" in s),
    },
    "model": {
        "alpha_eps2": (list, "a list of positive alpha*eps^2 values", _pos_list),
        "g_D": (NUM, "a positive dark gauge coupling", _positive),
    },
    "samples": {
        "sqrt_s_TeV": (NUM, "a centre-of-mass energy in TeV", _one_of(13.0, 13, 14.0, 14)),
        "signal_events": (int, "an integer >= 1", _positive),
        "signal_jobs": (int, "an integer >= 1", _positive),
        "hadron_level": (bool, "true or false", None),
        "scan_mzd_fixed": {
            "m_ZD": (NUM, "a Z_D mass in GeV > 0", _positive),
            "m_N": (list, "a list of N_D masses in GeV", _pos_list),
        },
        "scan_mn_3mzd": {
            "m_ZD": (list, "a list of Z_D masses in GeV (m_N = 3 m_ZD)", _pos_list),
        },
        "background": {
            "processes": (list, "a list of background process names", _str_list),
            "events": (int, "an integer >= 1", _positive),
            "jobs": (int, "an integer >= 1", _positive),
            "methods": (
                dict,
                "a table process = generation method (samples.background.METHODS; the sliced "
                "methods for W_munu_gstar / W_enu_gstar only); processes not listed: 'forced'",
                _methods_table,
            ),
            "scale": (
                dict,
                "a table process = integer factor >= 1 on that process's events and jobs "
                "(processes not listed: 1)",
                _scale_table,
            ),
        },
    },
    "processing": {
        "detector": (str, "a detector scenario", _one_of("run2", "hllhc")),
        "electron_set": (str, "an electron smearing set", _one_of("optimistic", "pessimistic")),
        "electron_pt_min": (list, "a list of electron p_T thresholds in GeV (one processing pass each)", _pos_list),
        "displacement": (str, "a displacement definition", _one_of("3d", "lxy")),
        "chunksize": (int, "an integer >= 1", _positive),
        "skip_bad_files": (bool, "true or false", None),
    },
    "limits": {
        "scenarios": (list, "a list of projection scenarios", _subset_of("run2", "hllhc")),
        "methods": (list, "a list of limit methods", _subset_of("pyhf", "window")),
    },
    "recast": {
        "experiments": (
            list,
            "a list of neutrino experiments",
            _subset_of("minerva_le", "minerva_me", "charm2", "miniboone", "microboone"),
        ),
        "m_N": (list, "a list of N_D masses in GeV", _pos_list),
        "m_ZD": (NUM, "the Z' mass in GeV", _positive),
        "events": (int, "an integer >= 1", _positive),
        "combine": (bool, "true or false", None),
    },
}


@dataclass(frozen=True)
class RunConfig:
    """A validated run configuration (``data`` holds every key, defaults filled in)."""

    name: str
    source: str
    data: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, dotted: str) -> Any:
        """Value at a dotted key, e.g. ``cfg.get("samples.signal_events")``."""
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def mass_points(self) -> list[tuple[float, float]]:
        """(m_N, m_ZD) pairs of both scans, de-duplicated, in GeV."""
        s = self.data["samples"]
        pts = [(float(m), float(s["scan_mzd_fixed"]["m_ZD"])) for m in s["scan_mzd_fixed"]["m_N"]]
        pts += [(round(3.0 * float(m), 12), float(m)) for m in s["scan_mn_3mzd"]["m_ZD"]]
        seen: dict[tuple[float, float], None] = {}
        for p in pts:
            seen.setdefault(p, None)
        return list(seen)


def builtin_path(name: str) -> Path:
    """Path of a built-in configuration file."""
    if name not in BUILTIN:
        raise ConfigError(f"unknown built-in configuration {name!r}; valid: {', '.join(BUILTIN)}")
    return Path(str(resources.files("darknu.configs").joinpath(f"{name}.toml")))


def load_config(name_or_path: str | Path) -> RunConfig:
    """Load a built-in configuration by name, or a user TOML file by path.

    >>> cfg = load_config("quick")
    >>> cfg.get("executor.kind")
    'futures'
    """
    text, source = _read(name_or_path)
    raw = _parse(text, source)
    base = raw.get("base")
    if base is not None:
        _validate({"base": base}, {"base": SCHEMA["base"]}, source, text, prefix="")
        if Path(source).name == f"{base}.toml":
            raise ConfigError(f"{source}: configuration {base!r} cannot use itself as base")
        base_cfg = load_config(base)
        merged = _merge(copy.deepcopy(dict(base_cfg.data)), raw)
    else:
        merged = raw
    _validate(merged, SCHEMA, source, text, prefix="")
    _require_complete(merged, SCHEMA, source, prefix="")
    _check_physics(merged, source, text)
    name = merged.get("run", {}).get("name") or Path(source).stem
    return RunConfig(name=name, source=source, data=merged)


def _read(name_or_path: str | Path) -> tuple[str, str]:
    p = Path(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in BUILTIN and not p.is_file():
        p = builtin_path(name_or_path)
    if not p.is_file():
        raise ConfigError(
            f"configuration {str(name_or_path)!r} is neither a file nor a built-in name "
            f"({', '.join(BUILTIN)})"
        )
    return p.read_text(), str(p)


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: malformed TOML: {exc}") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            base[k] = _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def _line_of(text: str, key: str) -> str:
    """Best-effort ' (line N)' of a key's assignment in the TOML text."""
    leaf = key.rsplit(".", 1)[-1]
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(leaf)}\s*=", line):
            return f" (line {i})"
    return ""


def _validate(data: Mapping[str, Any], schema: Mapping[str, Any], source: str, text: str, *, prefix: str) -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            valid = ", ".join(sorted(f"{prefix}{k}" for k in schema))
            raise ConfigError(f"{source}{_line_of(text, dotted)}: unknown key {dotted!r}; valid keys here: {valid}")
        spec = schema[key]
        if isinstance(spec, dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}{_line_of(text, dotted)}: {dotted!r} must be a table")
            _validate(value, spec, source, text, prefix=f"{dotted}.")
            continue
        typ, desc, check = spec
        ok = isinstance(value, typ) and not (typ is not bool and isinstance(value, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,)))
        if ok and isinstance(value, float) and not math.isfinite(value):
            ok = False
        if ok and check is not None:
            try:
                ok = bool(check(value))
            except TypeError:
                ok = False
        if not ok:
            extra = f" ({check.__doc__})" if check is not None and check.__doc__ else ""
            raise ConfigError(f"{source}{_line_of(text, dotted)}: {dotted} = {value!r} is invalid: expected {desc}{extra}")


def _require_complete(data: Mapping[str, Any], schema: Mapping[str, Any], source: str, *, prefix: str) -> None:
    optional = {"base", "executor.scheduler", "executor.workers"}
    for key, spec in schema.items():
        dotted = f"{prefix}{key}"
        if dotted in optional:
            continue
        if key not in data:
            raise ConfigError(f"{source}: missing key {dotted!r}")
        if isinstance(spec, dict):
            _require_complete(data[key], spec, source, prefix=f"{dotted}.")


M_W_GEV = 80.379  # PDG 2022 W mass


def _check_physics(data: Mapping[str, Any], source: str, text: str) -> None:
    s = data["samples"]
    m_zd = float(s["scan_mzd_fixed"]["m_ZD"])
    for m_n in s["scan_mzd_fixed"]["m_N"]:
        if not m_zd < m_n < M_W_GEV:
            raise ConfigError(
                f"{source}{_line_of(text, 'samples.scan_mzd_fixed.m_N')}: mass point m_N = {m_n} GeV, "
                f"m_ZD = {m_zd} GeV is unphysical: need m_ZD < m_N < m_W = {M_W_GEV} GeV"
            )
    for mz in s["scan_mn_3mzd"]["m_ZD"]:
        if not 3 * mz < M_W_GEV:
            raise ConfigError(
                f"{source}{_line_of(text, 'samples.scan_mn_3mzd.m_ZD')}: m_ZD = {mz} GeV gives "
                f"m_N = 3 m_ZD above m_W = {M_W_GEV} GeV"
            )
