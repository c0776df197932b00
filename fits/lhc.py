"""pyhf HistFactory workspaces of the m_ℓℓ sideband bump hunt, one per mass hypothesis.

The model (spec §5, seed 003 §V B; ``docs/limits-schema.md`` explains it for users)
----------------------------------------------------------------------------------
For a mass point (m_N, m_ZD, αε²) and each channel ``lhc_{ee,mumu}_{prompt,displaced}``:

* **Analysis region.** The signal's m_ℓℓ width σ_m is measured on the nominal signal
  template of the flavour (half the 16–84% quantile range of the peak, never below one
  fine bin). The fit region is m_ZD ± ``n_sigma_region``·σ_m (default 8): the signal
  window (|m − m_ZD| ≲ 2σ_m) plus a sideband of ~6σ_m on each side. Fine histogram
  bins are merged to about ``target_bins`` (default 8) bins, which keeps every fit fast
  (the numpy backend has no autodiff: fit time grows with the number of parameters, and
  every bin carries an MC-stat parameter). The **displaced** channels are one-bin
  counting channels over m_ZD ± ``n_sigma_displaced``·σ_m (default 3): they are
  background-free, so there is no sideband to fit and a shape adds nothing.
* **Signal** ``signal``: the template at |U_μ4|² = U2_REF = 1e-4 scaled by the POI
  ``mu`` = |U_μ4|²/U2_REF (the signal is linear in |U_μ4|²). Modifiers: ``lhc_lepton_eff``
  (from the ``eff_up/eff_down`` templates: 85 ± 5% per lepton, three leptons;
  correlated over channels), ``lhc_mass_res_<flavour>`` (from ``res_up/res_down``:
  μ 2 ± 1%, e optimistic vs pessimistic smearing; correlated prompt/displaced); each as
  a normsys for its rate plus a normalised histosys for its shape (:func:`_norm_and_shape`:
  a plain histosys extrapolates linearly to zero signal and the limits saturate),
  and the signal's MC statistics as a channel normalisation uncertainty
  ``lhc_<channel>_signal_mcstat`` (normsys ×(1 ± δ), δ = √Σw²/Σw of the channel, when
  δ > 5%). The signal is deliberately *not* in the per-bin ``staterror``: in a
  background-free bin a shared gamma lets the fit switch a poorly simulated signal off
  (δ ≳ 60% costs less than the 95% CL threshold), so nothing would ever be excluded.
  The background carries the channel's ``staterror`` (as in ROOT HistFactory, only bins
  whose relative MC-stat uncertainty exceeds ``mcstat_threshold`` = 5% get a parameter).
* **Background** ``background``: sum of the background samples, scaled by ×1.5 for
  non-prompt / mis-identified leptons (seed 003 §V B) with the full size of that
  correction as uncertainty: normsys ``lhc_bkg_nonprompt`` between ×1 and ×2 of the bare
  prediction (i.e. 1.5 ± 0.5). In the **prompt** channels the normalisation is in
  addition a free normfactor ``lhc_<flavour>_prompt_bkg_norm`` shared by window and
  sidebands: the sidebands measure it (the "data sideband" technique of the seed), so the
  result does not rely on the absolute MC normalisation. Because a smoothly falling
  spectrum is only approximately the template shape over ±8σ_m, a linear tilt
  ``lhc_<flavour>_prompt_bkg_tilt`` (histosys, ±``tilt`` at the region edges, default
  10%) lets the sidebands adjust the slope too. The **displaced** channels have no free
  normalisation (the samples predict essentially no background; a floating normalisation
  of zero events is meaningless): only the ×1.5 ± 0.5 normsys.
* **Zero-background bins.** Every background bin is floored at ``bkg_floor`` events
  (default 1e-3 in the scenario's luminosity, ~0 against any signal yield that matters)
  with a 100% MC-stat uncertainty, so Poisson terms and staterror are well defined in
  background-free displaced channels; the limit there is the background-free one
  (≈3 signal events).
* **Observations** are the background-only Asimov data of the nominal model (the sum
  of nominal backgrounds), so the "observed" limit equals the expected median.

Measurement and POI follow ``docs/interfaces.md`` §3 exactly, so workspaces combine with
the neutrino recasts through ``pyhf.Workspace.combine``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from darknu.errors import FitError, InputFileError, ParameterError
from fits.projections import Scenario

log = logging.getLogger(__name__)

U2_REF = 1e-4
"""|U_μ4|² at which signal samples are normalised (docs/interfaces.md, seed 003)."""

MEASUREMENT = "darknu"
POI = "mu"
MEASUREMENT_CONFIG: dict[str, Any] = {
    "poi": "mu",
    "parameters": [{"name": "mu", "bounds": [[0.0, 1000.0]], "inits": [1.0]}],
}
"""Exactly as docs/interfaces.md §3 prescribes for every darknu workspace."""

FLAVOURS = ("ee", "mumu")
REGIONS = ("prompt", "displaced")
CHANNELS = tuple(f"lhc_{f}_{r}" for r in REGIONS for f in FLAVOURS)
SYSTS = ("nominal", "res_up", "res_down", "eff_up", "eff_down")
LEPTON_EFF_NORMSYS = {"hi": (0.90 / 0.85) ** 3, "lo": (0.80 / 0.85) ** 3}
"""Fallback when the processor's eff variations are absent: 85 ± 5% per lepton (spec §3), 3 leptons."""


def channel_name(flavour: str, region: str) -> str:
    """pyhf channel name of a flavour and displacement region.

    >>> channel_name("ee", "prompt")
    'lhc_ee_prompt'
    """
    if flavour not in FLAVOURS or region not in REGIONS:
        raise ParameterError(
            f"unknown channel {flavour!r}/{region!r}; valid flavours {FLAVOURS}, regions {REGIONS}"
        )
    return f"lhc_{flavour}_{region}"


def split_channel(name: str) -> tuple[str, str]:
    """(flavour, region) of an LHC channel name.

    >>> split_channel("lhc_mumu_displaced")
    ('mumu', 'displaced')
    """
    if name not in CHANNELS:
        raise ParameterError(f"unknown channel {name!r}; valid: {', '.join(CHANNELS)}")
    _, flavour, region = name.split("_")
    return flavour, region


@dataclass(frozen=True)
class MassPoint:
    """A signal hypothesis: masses [GeV], αε², and the histogram-file entry holding it."""

    m_N: float
    m_ZD: float
    alpha_eps2: float
    sample: str

    @property
    def label(self) -> str:
        return f"mN{self.m_N:g}_mZD{self.m_ZD:g}_aeps2_{self.alpha_eps2:g}"


def mass_points(hists: Mapping[str, Any]) -> list[MassPoint]:
    """Signal entries of a histogram file as mass points, sorted by (αε², m_ZD, m_N)."""
    points = []
    for name, entry in _samples(hists).items():
        meta = entry.get("metadata", {})
        if meta.get("kind") != "signal":
            continue
        try:
            points.append(
                MassPoint(
                    float(meta["m_N_GeV"]), float(meta["m_ZD_GeV"]), float(meta["alpha_eps2"]), name
                )
            )
        except KeyError as exc:
            raise InputFileError(
                f"signal entry {name!r} lacks metadata key {exc.args[0]!r} "
                "(needs m_N_GeV, m_ZD_GeV, alpha_eps2)"
            ) from None
    return sorted(points, key=lambda p: (p.alpha_eps2, p.m_ZD, p.m_N))


def _samples(hists: Mapping[str, Any]) -> Mapping[str, Any]:
    samples = hists.get("samples")
    if not isinstance(samples, Mapping) or not samples:
        raise InputFileError("histogram input has no 'samples' (see docs/interfaces.md §2)")
    return samples


@dataclass(frozen=True, eq=False)
class ChannelTemplates:
    """Expected events of one channel on the full fine m_ℓℓ binning, in a scenario.

    ``signal[syst]`` / ``background[syst]``: (values, variances) per syst of ``SYSTS``,
    signal at |U_μ4|² = U2_REF. ``background_by_process``: nominal per process (plots).
    """

    flavour: str
    region: str
    edges: np.ndarray
    signal: dict[str, tuple[np.ndarray, np.ndarray]]
    background: dict[str, tuple[np.ndarray, np.ndarray]]
    background_by_process: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return channel_name(self.flavour, self.region)


def _slice(h: Any, sample: str, flavour: str, region: str, syst: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    axes = [ax.name for ax in h.axes]
    if axes != ["channel", "region", "syst", "mll"]:
        raise InputFileError(
            f"sample {sample!r}: mll histogram axes are {axes}, expected "
            "['channel', 'region', 'syst', 'mll'] (docs/interfaces.md §2)"
        )
    for axis, value in (("channel", flavour), ("region", region), ("syst", syst)):
        cats = list(h.axes[axis])
        if value not in cats:
            raise InputFileError(
                f"sample {sample!r}: mll histogram has no {axis} {value!r}; it has {cats}"
            )
    sub = h[{"channel": flavour, "region": region, "syst": syst}]
    values = np.asarray(sub.values(), dtype=float)
    var = sub.variances()
    variances = np.asarray(var, dtype=float) if var is not None else np.abs(values)
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(variances))):
        raise InputFileError(f"sample {sample!r} {flavour}/{region}/{syst}: non-finite bin content")
    return np.asarray(sub.axes[0].edges, dtype=float), values, variances


def _scale_factor(meta: Mapping[str, Any], sample: str, scenario: Scenario) -> float:
    process = str(meta.get("process", "signal" if meta.get("kind") == "signal" else sample))
    sqrt_s = meta.get("sqrt_s_TeV")
    if sqrt_s is not None and math.isclose(float(sqrt_s), scenario.sqrt_s_TeV):
        return scenario.lumi_fb  # already at the scenario's energy: luminosity only
    return scenario.event_scale(process)


def extract_templates(
    hists: Mapping[str, Any], point: MassPoint, *, scenario: Scenario
) -> dict[str, ChannelTemplates]:
    """Signal and summed background templates of every channel, in expected events.

    Yields (per ``lumi_ref_fb`` at the sample's √s) are multiplied by the scenario's
    luminosity and cross-section scale factor; variances by its square.
    """
    samples = _samples(hists)
    lumi_ref = float(hists.get("lumi_ref_fb", 1.0))
    if point.sample not in samples:
        raise InputFileError(f"signal entry {point.sample!r} not in the histogram file")
    backgrounds = {k: v for k, v in samples.items() if v.get("metadata", {}).get("kind") == "background"}
    if not backgrounds:
        raise InputFileError("histogram file has no background samples (metadata kind 'background')")
    sig_entry = samples[point.sample]
    sig_scale = _scale_factor(sig_entry["metadata"], point.sample, scenario) / lumi_ref
    out: dict[str, ChannelTemplates] = {}
    for region in REGIONS:
        for flavour in FLAVOURS:
            sig: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            bkg: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            by_proc: dict[str, np.ndarray] = {}
            edges = None
            for syst in SYSTS:
                e, v, w = _slice(sig_entry["mll"], point.sample, flavour, region, syst)
                edges = e
                sig[syst] = (v * sig_scale, w * sig_scale**2)
                bv = np.zeros_like(v)
                bw = np.zeros_like(v)
                for name, entry in backgrounds.items():
                    eb, v2, w2 = _slice(entry["mll"], name, flavour, region, syst)
                    if eb.shape != e.shape or not np.allclose(eb, e):
                        raise InputFileError(
                            f"sample {name!r}: mll binning differs from signal {point.sample!r}"
                        )
                    f = _scale_factor(entry["metadata"], name, scenario) / lumi_ref
                    bv += v2 * f
                    bw += w2 * f * f
                    if syst == "nominal":
                        proc = str(entry["metadata"].get("process", name))
                        by_proc[proc] = by_proc.get(proc, 0) + v2 * f
                bkg[syst] = (bv, bw)
            assert edges is not None
            out[channel_name(flavour, region)] = ChannelTemplates(flavour, region, edges, sig, bkg, by_proc)
    return out


def signal_width(edges: np.ndarray, values: np.ndarray, m_ZD: float) -> float:
    """σ_m [GeV] of the signal peak: half the 16–84% quantile range within m_ZD·[0.5, 1.5].

    >>> e = np.linspace(0.9, 1.1, 201)
    >>> c = 0.5 * (e[1:] + e[:-1])
    >>> round(signal_width(e, np.exp(-0.5 * ((c - 1.0) / 0.02) ** 2), 1.0), 3)
    0.02
    """
    centres = 0.5 * (edges[1:] + edges[:-1])
    widths = np.diff(edges)
    sel = (centres > 0.5 * m_ZD) & (centres < 1.5 * m_ZD) & (values > 0)
    min_width = float(widths[np.clip(np.searchsorted(edges, m_ZD) - 1, 0, widths.size - 1)])
    if values[sel].sum() <= 0:
        return min_width
    cdf = np.cumsum(values[sel]) / values[sel].sum()
    lo, hi = np.interp([0.16, 0.84], cdf, centres[sel])
    return max(float(hi - lo) / 2.0, min_width)


@dataclass(frozen=True, eq=False)
class RegionBinning:
    """Fine-bin range [start, stop) of the fit region and the merged-bin edges [GeV]."""

    start: int
    stop: int
    groups: tuple[int, ...]  # fine-bin index where each merged bin starts (relative)
    edges: np.ndarray
    sigma_m: float


def region_binning(
    edges: np.ndarray,
    signal: np.ndarray,
    m_ZD: float,
    *,
    n_sigma_region: float = 8.0,
    target_bins: int = 8,
) -> RegionBinning:
    """Fit region m_ZD ± n_sigma_region·σ_m (clipped to the histogram) and its merged bins."""
    sigma = signal_width(edges, signal, m_ZD)
    lo, hi = max(m_ZD - n_sigma_region * sigma, edges[0]), min(m_ZD + n_sigma_region * sigma, edges[-1])
    start = int(np.clip(np.searchsorted(edges, lo, side="right") - 1, 0, edges.size - 2))
    stop = int(np.clip(np.searchsorted(edges, hi, side="left"), start + 1, edges.size - 1))
    n = stop - start
    group = max(1, int(round(n / target_bins)))
    starts = tuple(range(0, n, group))
    merged = np.array([edges[start + s] for s in starts] + [edges[stop]])
    return RegionBinning(start, stop, starts, merged, sigma)


def _rebin(x: np.ndarray, b: RegionBinning) -> np.ndarray:
    return np.add.reduceat(np.asarray(x, dtype=float)[b.start : b.stop], list(b.groups))


def _hs(up: np.ndarray, down: np.ndarray) -> dict[str, list[float]]:
    return {"hi_data": [float(x) for x in up], "lo_data": [float(x) for x in down]}


def _norm_and_shape(name: str, nom: np.ndarray, up: np.ndarray, down: np.ndarray) -> list[dict[str, Any]]:
    """A signal variation as HistFactory's normsys (rate) + normalised histosys (shape).

    A plain histosys interpolates linearly and, extrapolated to a few sigma, takes the
    signal to zero at finite cost: the fit then switches a background-free signal off and
    the expected limit saturates (√q_A stalls below the +2σ target). The rate part as a
    normsys (exponential interpolation) never reaches zero; the shape part keeps each
    template's normalisation. Both share the parameter ``name``.
    """
    n, u, d = float(nom.sum()), float(up.sum()), float(down.sum())
    mods: list[dict[str, Any]] = []
    if u > 0 and d > 0 and (abs(u / n - 1) > 1e-12 or abs(d / n - 1) > 1e-12):
        mods.append({"name": name, "type": "normsys", "data": {"hi": u / n, "lo": d / n}})
    if nom.size > 1:
        up_shape = up * (n / u) if u > 0 else nom
        down_shape = down * (n / d) if d > 0 else nom
        if _differs(up_shape, nom) or _differs(down_shape, nom):
            mods.append({"name": name, "type": "histosys", "data": _hs(up_shape, down_shape)})
    return mods


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    return not np.allclose(a, b, rtol=1e-9, atol=1e-12)


def channel_spec(
    t: ChannelTemplates,
    binning: RegionBinning,
    *,
    bkg_floor: float = 1e-3,
    tilt: float = 0.10,
    background_scale: float = 1.5,
    mcstat_threshold: float = 0.05,
) -> tuple[dict[str, Any], list[float]] | None:
    """The pyhf channel and its Asimov observations; ``None`` if the signal is empty there."""
    s = {k: (_rebin(v, binning), _rebin(w, binning)) for k, (v, w) in t.signal.items()}
    if not s["nominal"][0].sum() > 0:
        return None
    b = {
        k: (_rebin(v, binning) * background_scale, _rebin(w, binning) * background_scale**2)
        for k, (v, w) in t.background.items()
    }
    floor_mask = b["nominal"][0] < bkg_floor
    bnom = np.where(floor_mask, bkg_floor, b["nominal"][0])
    bvar = np.where(floor_mask, bkg_floor**2, b["nominal"][1])

    def floored(x: np.ndarray) -> np.ndarray:
        return np.maximum(x, bkg_floor)

    # HistFactory's StatErrorConfig RelErrorThreshold (ROOT default 0.05): bins whose total
    # relative MC-stat uncertainty is below the threshold get none (pyhf fixes those gammas).
    # Only the background enters the per-bin staterror. A signal sharing the bin's gamma
    # could be switched off by it in a background-free bin (displaced channels): with a
    # signal MC-stat error above ~60% the fit sets gamma -> 0 at a cost below the 95% CL
    # threshold and nothing is ever excluded. The signal's MC statistics enter instead as
    # a normalisation uncertainty of the channel (normsys, exponential interpolation:
    # it cannot take the signal to zero at finite cost).
    rel = np.sqrt(bvar) / bnom
    keep = rel >= mcstat_threshold
    bkg_sigma = np.where(keep, np.sqrt(bvar), 0.0)
    sig_tot = float(s["nominal"][0].sum())
    sig_rel = float(np.sqrt(s["nominal"][1].sum())) / sig_tot
    name = t.name
    flav = t.flavour
    sig_mods: list[dict[str, Any]] = [{"name": POI, "type": "normfactor", "data": None}]
    if _differs(s["eff_up"][0], s["nominal"][0]) or _differs(s["eff_down"][0], s["nominal"][0]):
        sig_mods += _norm_and_shape("lhc_lepton_eff", s["nominal"][0], s["eff_up"][0], s["eff_down"][0])
    else:  # templates carry no variation: apply 85 ± 5% per lepton on three leptons directly
        log.warning("%s: eff_up/eff_down equal nominal; using normsys (90/85)^3, (80/85)^3", t.name)
        sig_mods.append({"name": "lhc_lepton_eff", "type": "normsys", "data": dict(LEPTON_EFF_NORMSYS)})
    if _differs(s["res_up"][0], s["nominal"][0]) or _differs(s["res_down"][0], s["nominal"][0]):
        sig_mods += _norm_and_shape(f"lhc_mass_res_{flav}", s["nominal"][0], s["res_up"][0], s["res_down"][0])
    if sig_rel >= mcstat_threshold:
        sig_mods.append(
            {
                "name": f"{name}_signal_mcstat",
                "type": "normsys",
                "data": {"hi": 1.0 + sig_rel, "lo": 1.0 / (1.0 + sig_rel)},
            }
        )
    # x1.5 nominal; full size of the correction (0.5 of the bare prediction) as uncertainty
    half = 0.5 / background_scale if background_scale > 0 else 0.0
    bkg_mods: list[dict[str, Any]] = [
        {"name": "lhc_bkg_nonprompt", "type": "normsys", "data": {"hi": 1.0 + half, "lo": 1.0 - half}}
    ]
    if t.region == "prompt":
        bkg_mods.append({"name": f"{name}_bkg_norm", "type": "normfactor", "data": None})
        if tilt > 0 and bnom.size > 1:
            x = np.linspace(-1.0, 1.0, bnom.size)
            bkg_mods.append(
                {"name": f"{name}_bkg_tilt", "type": "histosys", "data": _hs(bnom * (1 + tilt * x), bnom * (1 - tilt * x))}
            )
    if _differs(b["res_up"][0], b["nominal"][0]) or _differs(b["res_down"][0], b["nominal"][0]):
        bkg_mods.append(
            {
                "name": f"lhc_mass_res_{flav}",
                "type": "histosys",
                "data": _hs(floored(b["res_up"][0]), floored(b["res_down"][0])),
            }
        )
    bkg_mods.append({"name": f"{name}_mcstat", "type": "staterror", "data": [float(x) for x in bkg_sigma]})
    channel = {
        "name": name,
        "samples": [
            {"name": "signal", "data": [float(x) for x in s["nominal"][0]], "modifiers": sig_mods},
            {"name": "background", "data": [float(x) for x in bnom], "modifiers": bkg_mods},
        ],
    }
    return channel, [float(x) for x in bnom]


@dataclass(frozen=True, eq=False)
class PointModel:
    """The workspace of one mass point plus what built it (binning per channel, skipped channels)."""

    point: MassPoint
    workspace: Any  # pyhf.Workspace
    binnings: dict[str, RegionBinning]
    skipped: dict[str, str]  # channel -> reason


def build_workspace(
    templates: Mapping[str, ChannelTemplates],
    *,
    m_ZD: float,
    channels: Sequence[str] = CHANNELS,
    n_sigma_region: float = 8.0,
    target_bins: int = 8,
    n_sigma_displaced: float = 3.0,
    bkg_floor: float = 1e-3,
    tilt: float = 0.10,
    background_scale: float = 1.5,
    mcstat_threshold: float = 0.05,
    point: MassPoint | None = None,
) -> PointModel:
    """The validated pyhf workspace of one mass point over ``channels`` (module docstring).

    Channels whose signal template is empty in the fit region are left out and listed in
    ``PointModel.skipped``; if none remains a :class:`FitError` is raised.
    """
    for c in channels:
        split_channel(c)
    binnings: dict[str, RegionBinning] = {}
    skipped: dict[str, str] = {}
    spec_channels, observations = [], []
    for flav in FLAVOURS:
        chs = [c for c in channels if split_channel(c)[0] == flav]
        if not chs:
            continue
        # one σ_m per flavour from the prompt+displaced signal, one binning per flavour
        ref = next(iter(templates[c] for c in chs))
        total = sum(templates[c].signal["nominal"][0] for c in chs)
        for c in chs:
            if split_channel(c)[1] == "prompt":
                binning = region_binning(
                    ref.edges, total, m_ZD, n_sigma_region=n_sigma_region, target_bins=target_bins
                )
            else:  # background-free counting channel: one bin m_ZD ± n_sigma_displaced σ_m
                binning = region_binning(
                    ref.edges, total, m_ZD, n_sigma_region=n_sigma_displaced, target_bins=1
                )
            built = channel_spec(
                templates[c], binning, bkg_floor=bkg_floor, tilt=tilt,
                background_scale=background_scale, mcstat_threshold=mcstat_threshold,
            )
            if built is None:
                skipped[c] = "no signal events in the fit region"
                log.info("%s: %s skipped (no signal in the fit region)", point.label if point else m_ZD, c)
                continue
            spec_channels.append(built[0])
            observations.append({"name": c, "data": built[1]})
            binnings[c] = binning
    if not spec_channels:
        raise FitError(
            f"mass point {point.label if point else m_ZD}: no channel of {list(channels)} has signal "
            "events in its fit region"
        )
    spec = {
        "version": "1.0.0",
        "channels": spec_channels,
        "observations": observations,
        "measurements": [{"name": MEASUREMENT, "config": copy.deepcopy(MEASUREMENT_CONFIG)}],
    }
    ws = validated_workspace(spec)
    return PointModel(point or MassPoint(float("nan"), m_ZD, float("nan"), ""), ws, binnings, skipped)


def validated_workspace(spec: Mapping[str, Any]) -> Any:
    """A ``pyhf.Workspace`` from ``spec`` after schema validation; else :class:`FitError`.

    The error carries pyhf's validation message (which key, which value).

    >>> validated_workspace({"channels": []})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    darknu.errors.FitError: workspace fails pyhf schema validation (workspace.json): ...
    """
    import pyhf

    try:
        pyhf.schema.validate(dict(spec), "workspace.json")
        return pyhf.Workspace(dict(spec))
    except pyhf.exceptions.InvalidSpecification as exc:
        raise FitError(f"workspace fails pyhf schema validation (workspace.json): {exc}") from None
    except (pyhf.exceptions.InvalidWorkspaceOperation, pyhf.exceptions.InvalidModel) as exc:
        raise FitError(f"workspace is not a valid pyhf model: {exc}") from None
