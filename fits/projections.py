"""Luminosity and energy projections (Run 2, HL-LHC) read from ``fits/data/projections.toml``.

A :class:`Scenario` turns histogram yields (events per 1 fb⁻¹ at the sample's √s,
``docs/interfaces.md`` §2) into expected events: ``yield × lumi_fb × xsec_scale(process)``.
The file is user-editable; pass ``path=`` to use another one.

>>> s = get_scenario("run2")
>>> (s.sqrt_s_TeV, s.lumi_fb, s.scale_for("W_gamma"))
(13.0, 150.0, 1.0)
>>> round(get_scenario("hllhc").scale_for("ttbar_gamma"), 3)
1.184
"""

from __future__ import annotations

import fnmatch
import logging
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from darknu.errors import ConfigError, ParameterError

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(str(resources.files("fits") / "data" / "projections.toml"))


@dataclass(frozen=True)
class Scenario:
    """One projection: centre-of-mass energy [TeV], integrated luminosity [fb⁻¹], scale factors.

    ``xsec_scale`` maps fnmatch patterns on the sample's ``process`` metadata to the
    cross-section ratio σ(√s_scenario)/σ(√s_sample); ``xsec_scale_source`` says where each
    factor comes from. ``detector_scenario`` names the smearing-stage scenario the
    histograms are expected to come from (e.g. ``hllhc`` for improved acceptance).
    """

    name: str
    description: str
    sqrt_s_TeV: float
    lumi_fb: float
    detector_scenario: str
    xsec_scale: tuple[tuple[str, float], ...]
    xsec_scale_source: tuple[tuple[str, str], ...] = field(default=())

    def scale_for(self, process: str) -> float:
        """Cross-section scale factor of ``process`` (first matching pattern wins, case-insensitive)."""
        for pattern, factor in self.xsec_scale:
            if fnmatch.fnmatchcase(process.lower(), pattern.lower()):
                return factor
        raise ConfigError(
            f"scenario {self.name!r}: no xsec_scale pattern matches process {process!r}; "
            f"patterns: {', '.join(p for p, _ in self.xsec_scale)} (edit projections.toml)"
        )

    def event_scale(self, process: str) -> float:
        """Factor from histogram yield (per 1 fb⁻¹) to expected events in this scenario."""
        return self.lumi_fb * self.scale_for(process)

    def with_lumi(self, lumi_fb: float) -> Scenario:
        """The same scenario at another integrated luminosity [fb⁻¹] (e.g. for scaling tests)."""
        if not lumi_fb > 0:
            raise ParameterError(f"lumi_fb must be > 0 fb^-1, got {lumi_fb}")
        return Scenario(
            name=self.name,
            description=self.description,
            sqrt_s_TeV=self.sqrt_s_TeV,
            lumi_fb=float(lumi_fb),
            detector_scenario=self.detector_scenario,
            xsec_scale=self.xsec_scale,
            xsec_scale_source=self.xsec_scale_source,
        )


@dataclass(frozen=True)
class WindowSettings:
    """Seed 003 §V B settings of the S/√B cross-check (see ``[window]`` in the TOML)."""

    s_excl: float = 2.0
    min_background: float = 10.0
    width_GeV: tuple[tuple[str, float, float], ...] = (("ee", 0.010, 0.500), ("mumu", 0.003, 0.100))
    background_scale: float = 1.5

    def widths(self, flavour: str) -> tuple[float, float]:
        for f, lo, hi in self.width_GeV:
            if f == flavour:
                return lo, hi
        raise ParameterError(f"unknown flavour {flavour!r}; valid: ee, mumu")


@dataclass(frozen=True)
class DisplacedSettings:
    """Seed 003 §V C: required signal events after kinematic cuts, and the efficiency band."""

    required_events: float = 50.0
    required_events_band: tuple[float, float] = (25.0, 100.0)


def _read(path: str | os.PathLike[str] | None) -> tuple[Path, dict[str, Any]]:
    p = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read projections file {p}: {exc}") from None
    try:
        return p, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # message carries line and column
        raise ConfigError(f"projections file {p} is malformed: {exc}") from None


def _number(p: Path, key: str, value: Any, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{p}: key {key} must be a number, got {value!r}")
    if positive and not value > 0:
        raise ConfigError(f"{p}: key {key} must be > 0, got {value!r}")
    return float(value)


def load_scenarios(path: str | os.PathLike[str] | None = None) -> dict[str, Scenario]:
    """All scenarios of a projections TOML file, validated (errors name file and key)."""
    p, doc = _read(path)
    table = doc.get("scenarios")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{p}: missing or empty [scenarios] table")
    out: dict[str, Scenario] = {}
    for name, cfg in table.items():
        where = f"scenarios.{name}"
        if not isinstance(cfg, dict):
            raise ConfigError(f"{p}: {where} must be a table")
        for key in ("sqrt_s_TeV", "lumi_fb", "xsec_scale"):
            if key not in cfg:
                raise ConfigError(f"{p}: {where} lacks required key {key!r}")
        scales = cfg["xsec_scale"]
        if not isinstance(scales, dict) or not scales:
            raise ConfigError(f"{p}: {where}.xsec_scale must be a non-empty table")
        sources = cfg.get("xsec_scale_source", {})
        out[name] = Scenario(
            name=name,
            description=str(cfg.get("description", "")),
            sqrt_s_TeV=_number(p, f"{where}.sqrt_s_TeV", cfg["sqrt_s_TeV"]),
            lumi_fb=_number(p, f"{where}.lumi_fb", cfg["lumi_fb"]),
            detector_scenario=str(cfg.get("detector_scenario", name)),
            xsec_scale=tuple(
                (str(k), _number(p, f"{where}.xsec_scale.{k}", v)) for k, v in scales.items()
            ),
            xsec_scale_source=tuple((str(k), str(v)) for k, v in sources.items()),
        )
    return out


def get_scenario(name: str, *, path: str | os.PathLike[str] | None = None) -> Scenario:
    """The scenario called ``name``; an unknown name lists the valid ones.

    >>> get_scenario("run3")
    Traceback (most recent call last):
    ...
    darknu.errors.ParameterError: unknown scenario 'run3'; valid: hllhc, run2
    """
    scenarios = load_scenarios(path)
    if name not in scenarios:
        raise ParameterError(f"unknown scenario {name!r}; valid: {', '.join(sorted(scenarios))}")
    return scenarios[name]


def load_window_settings(path: str | os.PathLike[str] | None = None) -> WindowSettings:
    """The ``[window]`` table (seed 003 §V B), defaults where a key is absent."""
    p, doc = _read(path)
    cfg = doc.get("window", {})
    d = WindowSettings()
    widths = []
    for flavour, lo, hi in d.width_GeV:
        key = f"{flavour}_width_GeV"
        val = cfg.get(key, [lo, hi])
        if not (isinstance(val, list) and len(val) == 2):
            raise ConfigError(f"{p}: window.{key} must be [min, max] in GeV, got {val!r}")
        a, b = (_number(p, f"window.{key}", v) for v in val)
        if not a < b:
            raise ConfigError(f"{p}: window.{key} needs min < max, got {val!r}")
        widths.append((flavour, a, b))
    return WindowSettings(
        s_excl=_number(p, "window.s_excl", cfg.get("s_excl", d.s_excl)),
        min_background=_number(p, "window.min_background", cfg.get("min_background", d.min_background)),
        width_GeV=tuple(widths),
        background_scale=_number(
            p, "window.background_scale", cfg.get("background_scale", d.background_scale)
        ),
    )


def load_displaced_settings(path: str | os.PathLike[str] | None = None) -> DisplacedSettings:
    """The ``[displaced]`` table (seed 003 §V C), defaults where a key is absent."""
    p, doc = _read(path)
    cfg = doc.get("displaced", {})
    d = DisplacedSettings()
    req = _number(p, "displaced.required_events", cfg.get("required_events", d.required_events))
    band = cfg.get("required_events_band", list(d.required_events_band))
    if not (isinstance(band, list) and len(band) == 2):
        raise ConfigError(f"{p}: displaced.required_events_band must be [low, high], got {band!r}")
    lo, hi = (_number(p, "displaced.required_events_band", v) for v in band)
    if not lo <= req <= hi:
        raise ConfigError(
            f"{p}: displaced.required_events_band {band!r} must bracket required_events {req}"
        )
    return DisplacedSettings(required_events=req, required_events_band=(lo, hi))
