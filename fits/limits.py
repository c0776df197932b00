"""Expected 95% CL CLs upper limits on |U_μ4|² per mass point, channel and analysis.

Method (pyhf): for the workspace of a mass point (:mod:`fits.lhc`) the observations are
the background-only Asimov data, so the unconditional maximum-likelihood fit is the
nominal model with μ̂ = 0 and the Asimov test statistic is a single conditional fit,
q_μ,A = 2[NLL(μ, θ̂̂_μ) − NLL(0, θ_nominal)]. The expected CLs for the band N ∈
{+2, +1, 0, −1, −2} then follows the asymptotic q̃_μ formulae exactly as
``pyhf.infer.calculators.AsymptoticCalculator`` evaluates them (arXiv:1007.1727):
CLs(N) = Φ(−√q_μ,A − N)/Φ(−N) (clipped like pyhf where N < −√q_μ,A). Each band's
limit (CLs = 0.05) is found by a root search in μ on cached conditional fits; this needs
about 5 times fewer fits than calling ``pyhf.infer.hypotest`` repeatedly (which redoes
the unconditional fit and the Asimov generation at every μ). The tests check the
result against ``pyhf.infer.intervals.upper_limits.upper_limit``.

Robustness: every conditional fit is tried with a list of strategies (warm start from the
nearest previous fit, cold start at pyhf's suggested initial values, looser tolerance
with more iterations, tight tolerance) and the first that converges is kept; which one
was needed is reported per point in ``LimitResult.status``. If all fail a
:class:`darknu.errors.FitError` is raised, which :func:`run_limits` records as a
``failed`` result (limit ``None``), never silently dropped. Global pyhf state (backend,
optimizer) is set inside :func:`pyhf_state` and restored afterwards.

The seed's S/√B window method and the displaced ≥ 50 events criterion
(:mod:`fits.window`) are computed in the same pass as ``method="window"`` results.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from darknu.errors import FitError, ParameterError, check_choice
from darknu.parallel import ExecutorSpec, map_tasks
from fits import window as win
from fits.lhc import (
    CHANNELS,
    FLAVOURS,
    MEASUREMENT_CONFIG,
    U2_REF,
    ChannelTemplates,
    MassPoint,
    build_workspace,
    extract_templates,
    mass_points,
    split_channel,
)
from fits.projections import (
    DisplacedSettings,
    Scenario,
    WindowSettings,
    get_scenario,
    load_displaced_settings,
    load_window_settings,
)

log = logging.getLogger(__name__)

CL_LEVEL = 0.05  # 95% CL
POI_MAX = float(MEASUREMENT_CONFIG["parameters"][0]["bounds"][0][1])
N_SIGMAS = (2, 1, 0, -1, -2)  # pyhf's order: limits come out ascending (-2σ ... +2σ)
METHODS = ("pyhf", "window")
ANALYSES = ("prompt", "displaced", "combined")


@contextmanager
def pyhf_state(backend: str = "numpy", optimizer: Any = None) -> Iterator[None]:
    """Set pyhf's backend and optimizer inside the block and restore the previous ones.

    >>> import pyhf
    >>> before = pyhf.get_backend()
    >>> with pyhf_state("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-9)):
    ...     pyhf.optimizer.tolerance
    1e-09
    >>> pyhf.get_backend() == before
    True
    """
    import pyhf

    old_backend, old_optimizer = pyhf.get_backend()
    try:
        pyhf.set_backend(backend, optimizer if optimizer is not None else pyhf.optimize.scipy_optimizer())
        yield
    finally:
        pyhf.set_backend(old_backend, old_optimizer)


@dataclass(frozen=True)
class FitStrategy:
    """One way of running a conditional fit: scipy optimizer options and initial values.

    ``engine``: ``"batched"`` (:func:`batched_fixed_poi_fit`: the same SLSQP minimisation
    of pyhf's −2 log L with the finite-difference gradient evaluated in one batched pyhf
    call) or ``"pyhf"`` (``pyhf.infer.mle.fixed_poi_fit`` itself).
    """

    name: str
    tolerance: float | None = None
    maxiter: int | None = None
    warm_start: bool = False
    engine: str = "pyhf"


STRATEGIES: tuple[FitStrategy, ...] = (
    FitStrategy("batched-gradient", warm_start=True, engine="batched"),
    FitStrategy("warm-start", warm_start=True),
    FitStrategy("cold-start", warm_start=False),
    FitStrategy("loose-tolerance", tolerance=1e-6, maxiter=100_000),
    FitStrategy("tight-tolerance", tolerance=1e-10, maxiter=100_000),
)


class ExpectedLimit(NamedTuple):
    """Expected limits on the POI μ (median and ±1σ/±2σ) and how they were obtained."""

    median: float
    band_1sigma: tuple[float, float]
    band_2sigma: tuple[float, float]
    n_fits: int
    strategies_used: tuple[str, ...]  # non-default strategies that were needed
    fit_time_s: float


class _QA:
    """Cached √q_μ,A(μ) of one model on its background-only Asimov observations."""

    def __init__(
        self, model: Any, data: Any, strategies: Sequence[FitStrategy], batched_model: Any = None
    ) -> None:
        import pyhf

        self.model = model
        self.batched_model = batched_model
        self.data = data
        self.strategies = strategies
        self.init = list(model.config.suggested_init())
        self.bounds = model.config.suggested_bounds()
        self.fixed = model.config.suggested_fixed()
        self.poi = model.config.poi_index
        nominal = list(self.init)
        nominal[self.poi] = 0.0
        self.nll0 = float(-2.0 * model.logpdf(pyhf.tensorlib.astensor(nominal), data)[0])
        self.cache: dict[float, tuple[float, list[float]]] = {0.0: (0.0, nominal)}
        self.n_fits = 0
        self.used: list[str] = []
        self.fit_time = 0.0

    def _fit(self, mu: float) -> tuple[float, list[float]]:
        import pyhf

        fixed = set(i for i, f in enumerate(self.fixed) if f) | {self.poi}
        if len(fixed) == len(self.init):  # nothing to fit: every parameter fixed
            pars = list(self.init)
            pars[self.poi] = mu
            q = float(-2.0 * self.model.logpdf(pyhf.tensorlib.astensor(pars), self.data)[0]) - self.nll0
            self.n_fits += 1
            return max(q, 0.0), pars
        nearest = min(self.cache, key=lambda m: abs(m - mu))
        errors = []
        tried = 0
        for st in self.strategies:
            if st.engine == "batched" and self.batched_model is None:
                continue  # no batched model given: pyhf's own fit strategies only
            tried += 1
            init = list(self.cache[nearest][1]) if st.warm_start else list(self.init)
            init[self.poi] = mu
            opt_kwargs: dict[str, Any] = {}
            if st.tolerance is not None:
                opt_kwargs["tolerance"] = st.tolerance
            if st.maxiter is not None:
                opt_kwargs["maxiter"] = st.maxiter
            t0 = time.perf_counter()
            try:
                fit = batched_fixed_poi_fit if st.engine == "batched" else _pyhf_fixed_poi_fit
                model = self.batched_model if st.engine == "batched" else self.model
                pars, twice_nll = fit(
                    mu, self.data, model, init_pars=init, par_bounds=self.bounds,
                    fixed_params=self.fixed, **opt_kwargs,
                )
                q = float(twice_nll) - self.nll0
                if not math.isfinite(q):
                    raise FloatingPointError(f"non-finite NLL at mu={mu:g}")
                if q < -1e-3 * max(1.0, abs(self.nll0)) and q < -1e-2:
                    raise FloatingPointError(
                        f"conditional NLL below the nominal minimum by {-q:.3g} at mu={mu:g}"
                    )
            except (pyhf.exceptions.FailedMinimization, FloatingPointError, ValueError) as exc:
                self.fit_time += time.perf_counter() - t0
                self.n_fits += 1
                errors.append(f"{st.name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                log.debug("fit at mu=%g failed with strategy %s: %s", mu, st.name, exc)
                continue
            self.fit_time += time.perf_counter() - t0
            self.n_fits += 1
            if tried > 1:  # the first strategy tried is the default, anything after a retry
                self.used.append(st.name)
            return max(q, 0.0), [float(x) for x in pars]
        raise FitError(f"conditional fit at mu={mu:g} failed with every strategy: {'; '.join(errors)}")

    def __call__(self, mu: float) -> float:
        key = float(mu)
        if key not in self.cache:
            q, pars = self._fit(key)
            self.cache[key] = (q, pars)
        return math.sqrt(self.cache[key][0])


def _pyhf_fixed_poi_fit(
    mu: float, data: Any, model: Any, *, init_pars: list[float], par_bounds: Any,
    fixed_params: Any, **optimizer_options: Any,
) -> tuple[Any, float]:
    """``pyhf.infer.mle.fixed_poi_fit`` with scipy options; (parameters, −2 log L)."""
    import pyhf

    with pyhf_state("numpy", pyhf.optimize.scipy_optimizer(**optimizer_options)):
        pars, twice_nll = pyhf.infer.mle.fixed_poi_fit(
            mu,
            data,
            model,
            init_pars=init_pars,
            par_bounds=par_bounds,
            fixed_params=fixed_params,
            return_fitted_val=True,
            do_stitch=True,  # fixed parameters leave the minimisation vector
        )
    return pars, float(twice_nll)


#: Finite-difference step of :func:`batched_fixed_poi_fit`: scipy's SLSQP default ``eps``
#: (√(float64 eps), absolute), the step scipy takes when pyhf's fit has no gradient.
FD_STEP = 1.4901161193847656e-08


def batched_fixed_poi_fit(
    mu: float,
    data: Any,
    batched_model: Any,
    *,
    init_pars: Sequence[float],
    par_bounds: Sequence[tuple[float, float]],
    fixed_params: Sequence[bool],
    tolerance: float | None = None,
    maxiter: int = 100_000,
) -> tuple[np.ndarray, float]:
    """Conditional fit at POI = ``mu``: (all parameters, −2 log L at the minimum).

    The minimisation pyhf's numpy backend runs (scipy SLSQP on −2 log L over the free
    parameters, with pyhf's bounds, default tolerance and ``maxiter``), but the gradient
    is not left to scipy's finite differences, which cost one ``logpdf`` call per free
    parameter: the n + 1 points of the same forward-difference gradient (step
    :data:`FD_STEP`, backwards at an upper bound) are evaluated in one call of
    ``batched_model`` (the same workspace built with ``batch_size = n + 1``; pyhf's batched
    ``logpdf`` gives the unbatched values exactly). Same likelihood, same algorithm,
    ~5x less time per fit (benchmarks/bench_fits.py).

    Raises ``pyhf.exceptions.FailedMinimization`` when scipy reports no success.

    >>> import pyhf
    >>> spec = {"channels": [{"name": "c", "samples": [
    ...     {"name": "s", "data": [5.0], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
    ...     {"name": "b", "data": [50.0], "modifiers": [
    ...         {"name": "n", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}}]}]}],
    ...     "observations": [{"name": "c", "data": [50.0]}],
    ...     "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}], "version": "1.0.0"}
    >>> ws = pyhf.Workspace(spec)
    >>> m, mb = ws.model(), ws.model(batch_size=2)
    >>> d = ws.data(m)
    >>> args = dict(init_pars=m.config.suggested_init(), par_bounds=m.config.suggested_bounds(),
    ...             fixed_params=m.config.suggested_fixed())
    >>> _, nll_batched = batched_fixed_poi_fit(1.0, d, mb, **args)
    >>> _, nll_pyhf = _pyhf_fixed_poi_fit(1.0, d, m, **args)
    >>> abs(nll_batched - nll_pyhf) < 1e-6
    True
    """
    import pyhf
    from scipy.optimize import minimize

    poi = batched_model.config.poi_index
    full = np.array(init_pars, dtype=np.float64)
    full[poi] = mu
    free = np.array([i for i, f in enumerate(fixed_params) if not f and i != poi], dtype=np.int64)
    n = len(free)
    if batched_model.batch_size != n + 1:
        raise ValueError(f"batched model has batch_size {batched_model.batch_size}, needs {n + 1}")
    bounds = np.asarray(par_bounds, dtype=np.float64)[free]
    rows = np.arange(1, n + 1)
    with pyhf_state("numpy"):
        tl = pyhf.tensorlib

        def value_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            h = np.where(x + FD_STEP <= bounds[:, 1], FD_STEP, -FD_STEP)
            p = np.tile(full, (n + 1, 1))
            p[:, free] = x
            p[rows, free] += h
            v = -2.0 * np.asarray(batched_model.logpdf(tl.astensor(p), data), dtype=np.float64)
            with np.errstate(invalid="ignore", over="ignore"):  # non-finite: SLSQP fails, retried
                return float(v[0]), (v[1:] - v[0]) / h

        res = minimize(
            value_and_grad,
            full[free],
            jac=True,
            method="SLSQP",
            bounds=[tuple(b) for b in bounds],
            tol=tolerance,
            options={"maxiter": maxiter},
        )
    if not res.success or not np.isfinite(res.fun):
        raise pyhf.exceptions.FailedMinimization(res)
    full[free] = res.x
    return full, float(res.fun)


def build_batched_model(workspace: Any, model: Any, **model_kwargs: Any) -> Any:
    """``workspace.model(**model_kwargs)`` with the batch size :func:`batched_fixed_poi_fit`
    needs for ``model`` (its free parameters besides the POI, plus one). The spec is the one
    ``model`` was built (and validated) from, so it is not validated again."""
    cfg = model.config
    n_free = sum(1 for i, f in enumerate(cfg.suggested_fixed()) if not f and i != cfg.poi_index)
    return workspace.model(batch_size=n_free + 1, validate=False, **model_kwargs)


def expected_cls(sqrt_qA: float, n_sigma: float) -> float:
    """Expected CLs at band ``n_sigma`` given √q_μ,A (pyhf's asymptotic q̃_μ convention).

    >>> round(expected_cls(1.959964, 0), 4)
    0.05
    """
    t = n_sigma if n_sigma > -sqrt_qA else -sqrt_qA
    return float(norm.cdf(-(t + sqrt_qA)) / norm.cdf(-t))


def _x_for_band(n_sigma: float, level: float = CL_LEVEL) -> float:
    """√q_A at which the expected CLs of the band equals ``level``."""
    return float(brentq(lambda x: expected_cls(x, n_sigma) - level, 1e-9, 50.0, xtol=1e-12))


def expected_limit(
    model: Any,
    data: Any,
    *,
    rtol: float = 5e-3,
    strategies: Sequence[FitStrategy] = STRATEGIES,
    poi_max: float = POI_MAX,
    batched_model: Any = None,
) -> ExpectedLimit:
    """Expected 95% CL CLs limits on the POI for ``data`` = background-only Asimov data.

    ``batched_model``: the same model built with ``batch_size`` = free parameters + 1
    (:func:`build_batched_model`), for the fast ``batched`` fit engine; without it only pyhf's own
    fits are used. Raises :class:`FitError` when a fit fails with every strategy or when a
    band's limit lies above the POI bound ``poi_max``.
    """
    qa = _QA(model, data, strategies, batched_model)
    # Starting guess from the linear approximation √q_A ≈ μ·sqrt(Σ s²/b).
    s = np.asarray(model.expected_actualdata([1.0 if i == qa.poi else v for i, v in enumerate(_nominal0(qa))]))
    b = np.asarray(model.expected_actualdata(_nominal0(qa)))
    z1 = math.sqrt(float(np.sum((s - b) ** 2 / np.maximum(b, 1e-9))))
    targets = [_x_for_band(n) for n in N_SIGMAS]
    mu_g = min(max(targets[2] / z1 if z1 > 0 else 1.0, 1e-6), poi_max / 2)
    # √q_A(μ) is smooth, monotonic and close to linear: measure it at the guess, then at
    # the predicted −2σ, median and +2σ limits, interpolate (PCHIP through (0, 0)), and
    # refine with one more fit per band whose prediction misses its target by > rtol.
    r = qa(mu_g)
    while r <= 0 and mu_g < poi_max:
        mu_g = min(mu_g * 10.0, poi_max)
        r = qa(mu_g)
    if r <= 0:
        raise FitError(f"no sensitivity: √q_A({poi_max:g}) = 0 (expected limit above the POI bound)")
    # second point from the slope-1 prediction, then the local log-log slope k of √q_A(μ)
    # (k = 1 background-dominated, k = 1/2 background-free) predicts the −2σ/median/+2σ limits
    mu_1 = min(mu_g * targets[2] / r, poi_max)
    r_1 = qa(mu_1)
    k = 1.0
    if r_1 > 0 and abs(math.log(mu_1 / mu_g)) > 1e-3:
        k = min(max(math.log(r_1 / r) / math.log(mu_1 / mu_g), 0.2), 2.0)
    for x in (targets[0], targets[2], targets[4]):
        pred = min(mu_1 * (x / r_1) ** (1.0 / k), poi_max) if r_1 > 0 else mu_1
        if min(abs(math.log(pred / m)) for m in qa.cache if m > 0) > 0.02:
            qa(pred)
    limits = [0.0] * len(targets)
    pending = list(range(len(targets)))
    for _ in range(8):
        xs = np.array(sorted(m for m in qa.cache if m > 0 and qa.cache[m][0] > 0))
        ys = np.array([math.sqrt(qa.cache[m][0]) for m in xs])
        ys = np.maximum.accumulate(ys)  # guard against fit noise breaking monotonicity
        for i in pending:
            limits[i] = _solve_interp(xs, ys, targets[i], poi_max)
        still = []
        for i in pending:
            if limits[i] >= poi_max and qa(poi_max) < targets[i]:
                raise FitError(
                    f"expected limit ({N_SIGMAS[i]:+d}σ) above the POI bound mu <= {poi_max:g} "
                    f"(√q_A({poi_max:g}) = {qa(poi_max):.3g} < {targets[i]:.3g})"
                )
            # verify by a fit: the median always, the other bands when extrapolated or
            # when their nearest fitted point is far (> 25%) from the interpolated value
            near = min(abs(m - limits[i]) for m in qa.cache) / limits[i]
            if i == 2 or limits[i] > xs[-1] or near > 0.25:
                if abs(qa(limits[i]) - targets[i]) > rtol * targets[i]:
                    still.append(i)
        pending = still
        if not pending:
            break
    else:
        # The interpolation did not settle (it can oscillate where √q_A(μ) bends, e.g. in
        # background-free channels): √q_A is monotonic in μ, so solve each remaining band
        # by bisection between fitted points that bracket its target.
        for i in pending:
            limits[i] = _bisect_band(qa, targets[i], rtol=rtol, what=f"{N_SIGMAS[i]:+d}σ band")
    lo2, lo1, med, hi1, hi2 = limits
    return ExpectedLimit(med, (lo1, hi1), (lo2, hi2), qa.n_fits, tuple(qa.used), qa.fit_time)


def _bisect_band(qa: Any, target: float, *, rtol: float, what: str) -> float:
    """μ with √q_A(μ) = ``target`` by Brent's method between bracketing fitted points."""
    from scipy.optimize import brentq

    pts = sorted((m, math.sqrt(max(v[0], 0.0))) for m, v in qa.cache.items() if m > 0)
    below = [m for m, y in pts if y < target]
    above = [m for m, y in pts if y > target]
    if not above:
        raise FitError(f"expected limit ({what}) above every fitted point; cannot solve")
    hi = min(above)
    lo = max((m for m in below if m < hi), default=hi)
    for _ in range(12):  # walk down until the bracket opens (√q_A -> 0 as mu -> 0)
        if lo < hi and qa(lo) < target:
            break
        lo /= 10.0
    else:
        raise FitError(f"expected limit ({what}) not bracketed down to mu = {lo:.3g}; cannot solve")
    return float(brentq(lambda m: qa(m) - target, lo, hi, rtol=rtol))  # qa returns √q_A


def _solve_interp(xs: np.ndarray, ys: np.ndarray, target: float, poi_max: float) -> float:
    """μ where √q_A(μ), interpolated through (xs, ys), reaches ``target``.

    Interpolation is monotone (PCHIP) in log √q_A versus log μ, where both limiting
    regimes (√q_A ∝ μ with background, ∝ √μ without) are straight lines; outside the
    fitted range it extrapolates linearly in log-log from the two nearest points.
    """
    from scipy.interpolate import PchipInterpolator

    keep = np.concatenate([[True], np.diff(ys) > 0])  # strictly increasing for the inverse
    lx, ly, lt = np.log(xs[keep]), np.log(ys[keep]), math.log(target)
    if lx.size == 1:
        return float(min(math.exp(lx[0] + (lt - ly[0])), poi_max))
    if lt <= ly[0] or lt >= ly[-1]:
        i = (0, 1) if lt <= ly[0] else (-2, -1)
        slope = (ly[i[1]] - ly[i[0]]) / (lx[i[1]] - lx[i[0]])
        j = i[0] if lt <= ly[0] else i[1]
        return float(min(math.exp(lx[j] + (lt - ly[j]) / max(slope, 0.1)), poi_max))
    f = PchipInterpolator(lx, ly)
    j = int(np.searchsorted(ly, lt))
    return float(math.exp(brentq(lambda t: float(f(t)) - lt, lx[j - 1], lx[j], xtol=1e-12)))


def _nominal0(qa: _QA) -> list[float]:
    pars = list(qa.init)
    pars[qa.poi] = 0.0
    return pars


@dataclass(frozen=True)
class LimitResult:
    """One expected limit on |U_μ4|² (``docs/limits-schema.md`` describes every field)."""

    m_N: float
    m_ZD: float
    alpha_eps2: float
    scenario: str
    label: str
    channel: str  # ee | mumu | combined
    analysis: str  # prompt | displaced | combined
    method: str  # pyhf | window
    limit_u2: float | None
    band_1sigma: tuple[float, float] | None
    band_2sigma: tuple[float, float] | None
    status: str  # ok | ok_after_retry | failed | no_signal | no_valid_window | above_poi_bound
    message: str = ""
    n_fits: int = 0
    fit_time_s: float = 0.0
    workspace: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "m_N_GeV": self.m_N,
            "m_ZD_GeV": self.m_ZD,
            "alpha_eps2": self.alpha_eps2,
            "scenario": self.scenario,
            "label": self.label,
            "channel": self.channel,
            "analysis": self.analysis,
            "method": self.method,
            "limit_U2": self.limit_u2,
            "band_1sigma_U2": list(self.band_1sigma) if self.band_1sigma else None,
            "band_2sigma_U2": list(self.band_2sigma) if self.band_2sigma else None,
            "status": self.status,
            "message": self.message,
            "n_fits": self.n_fits,
            "fit_time_s": round(self.fit_time_s, 4),
            "workspace": self.workspace,
            "details": dict(self.details),
        }


PYHF_COMBINATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ee", "prompt", ("lhc_ee_prompt",)),
    ("mumu", "prompt", ("lhc_mumu_prompt",)),
    ("combined", "prompt", ("lhc_ee_prompt", "lhc_mumu_prompt")),
    ("ee", "displaced", ("lhc_ee_displaced",)),
    ("mumu", "displaced", ("lhc_mumu_displaced",)),
    ("combined", "displaced", ("lhc_ee_displaced", "lhc_mumu_displaced")),
    ("combined", "combined", CHANNELS),
)


@dataclass(frozen=True)
class _Task:
    point: MassPoint
    templates: dict[str, ChannelTemplates]
    scenario: str
    label: str
    methods: tuple[str, ...]
    channels: tuple[str, ...]
    window: WindowSettings
    displaced: DisplacedSettings
    u2_ref: float
    model_options: Mapping[str, Any]


def workspace_name(point: MassPoint, scenario: str, label: str) -> str:
    """File stem of a point's workspace under ``workspaces/``.

    >>> workspace_name(MassPoint(10.0, 0.03, 2e-10, "s"), "run2", "nominal")
    'nominal__run2__mN10_mZD0.03_aeps2_2e-10'
    """
    return f"{label}__{scenario}__{point.label}"


def _point_task(task: _Task) -> tuple[list[LimitResult], dict[str, Any] | None]:
    """All limits of one mass point (runs in a worker process)."""
    p = task.point
    base = dict(m_N=p.m_N, m_ZD=p.m_ZD, alpha_eps2=p.alpha_eps2, scenario=task.scenario, label=task.label)
    results: list[LimitResult] = []
    spec = None
    if "pyhf" in task.methods:
        wsname = workspace_name(p, task.scenario, task.label)
        try:
            pm = build_workspace(
                task.templates,
                m_ZD=p.m_ZD,
                channels=task.channels,
                background_scale=task.window.background_scale,
                point=p,
                **task.model_options,
            )
            ws = pm.workspace
            spec = dict(ws)
        except FitError as exc:
            pm, ws = None, None
            for ch, an, _ in PYHF_COMBINATIONS:
                results.append(LimitResult(**base, channel=ch, analysis=an, method="pyhf", limit_u2=None,
                                           band_1sigma=None, band_2sigma=None, status="no_signal", message=str(exc)))
        if ws is not None and pm is not None:
            for ch, an, members in PYHF_COMBINATIONS:
                requested = [c for c in members if c in task.channels]
                if not requested:
                    continue
                present = [c for c in requested if c in ws.channels]
                if not present:
                    results.append(LimitResult(**base, channel=ch, analysis=an, method="pyhf", limit_u2=None,
                                               band_1sigma=None, band_2sigma=None, status="no_signal",
                                               message="; ".join(f"{c}: {pm.skipped.get(c, 'absent')}" for c in requested)))
                    continue
                results.append(_pyhf_result(ws, present, requested, pm.skipped, base, ch, an, task.u2_ref, wsname))
    if "window" in task.methods:
        results.extend(_window_results(task, base))
    return results, spec


def _pyhf_result(ws: Any, present: list[str], requested: list[str], skipped: Mapping[str, str],
                 base: dict[str, Any], ch: str, an: str, u2_ref: float, wsname: str) -> LimitResult:
    drop = [c for c in ws.channels if c not in present]
    sub = ws.prune(channels=drop) if drop else ws
    settings = {"modifier_settings": {"normsys": {"interpcode": "code4"}, "histosys": {"interpcode": "code4p"}}}
    model = sub.model(**settings)
    data = sub.data(model)
    note = "; ".join(f"{c} left out: {skipped[c]}" for c in requested if c not in present)
    t0 = time.perf_counter()
    try:
        lim = expected_limit(model, data, batched_model=build_batched_model(sub, model, **settings))
    except FitError as exc:
        status = "above_poi_bound" if "POI bound" in str(exc) else "failed"
        log.warning("%s %s/%s: %s", wsname, ch, an, exc)
        return LimitResult(**base, channel=ch, analysis=an, method="pyhf", limit_u2=None, band_1sigma=None,
                           band_2sigma=None, status=status, message=f"{exc}{'; ' + note if note else ''}",
                           fit_time_s=time.perf_counter() - t0, workspace=wsname,
                           details={"channels": present})
    status = "ok_after_retry" if lim.strategies_used else "ok"
    msg = f"retried with: {', '.join(sorted(set(lim.strategies_used)))}" if lim.strategies_used else ""
    return LimitResult(
        **base, channel=ch, analysis=an, method="pyhf",
        limit_u2=lim.median * u2_ref,
        band_1sigma=(lim.band_1sigma[0] * u2_ref, lim.band_1sigma[1] * u2_ref),
        band_2sigma=(lim.band_2sigma[0] * u2_ref, lim.band_2sigma[1] * u2_ref),
        status=status, message="; ".join(x for x in (msg, note) if x), n_fits=lim.n_fits,
        fit_time_s=time.perf_counter() - t0, workspace=wsname, details={"channels": present, "mu_median": lim.median},
    )


def _window_results(task: _Task, base: dict[str, Any]) -> list[LimitResult]:
    """Seed 003 §V B–C: S/√B window (prompt) and ≥ N events (displaced), per flavour and combined."""
    w, d, u2 = task.window, task.displaced, task.u2_ref
    out: list[LimitResult] = []
    variations = ("nominal", "bkg_x1", "bkg_x2", "res_up", "res_down", "eff_up", "eff_down")
    sig_by_var: dict[str, dict[str, float]] = {v: {} for v in variations}
    windows: dict[str, Any] = {}
    for flav in FLAVOURS:
        c = f"lhc_{flav}_prompt"
        if c not in task.channels:
            continue
        t = task.templates[c]
        lo, hi = w.widths(flav)
        for v in variations:
            syst = v if v.startswith(("res", "eff")) else "nominal"
            bscale = {"bkg_x1": 1.0, "bkg_x2": 2.0}.get(v, w.background_scale)
            choice = win.best_window(t.edges, t.signal[syst][0], t.background[syst][0] * bscale,
                                     min_width=lo, max_width=hi, min_background=w.min_background)
            if choice is not None:
                sig_by_var[v][flav] = choice.significance
                if v == "nominal":
                    windows[flav] = choice
    for ch in (*FLAVOURS, "combined"):
        flavs = list(FLAVOURS) if ch == "combined" else [ch]
        if not any(f"lhc_{f}_prompt" in task.channels for f in flavs):
            continue
        if not any(f in sig_by_var["nominal"] and sig_by_var["nominal"][f] > 0 for f in flavs):
            out.append(LimitResult(**base, channel=ch, analysis="prompt", method="window", limit_u2=None,
                                   band_1sigma=None, band_2sigma=None, status="no_valid_window",
                                   message=f"no m_ll window with >= {w.min_background:g} background events "
                                           "and signal inside the allowed widths"))
            continue
        lims = {}
        for v in variations:
            z = win.combine_significances([sig_by_var[v].get(f, 0.0) for f in flavs])
            if z > 0:
                lims[v] = win.limit_from_significance(z, u2_ref=u2, s_excl=w.s_excl)
        vals = list(lims.values())
        details: dict[str, Any] = {"significance_ref": win.combine_significances(
            [sig_by_var["nominal"].get(f, 0.0) for f in flavs])}
        for f in flavs:
            if f in windows:
                wc = windows[f]
                details[f"window_{f}_GeV"] = [wc.lo_GeV, wc.hi_GeV]
                details[f"window_{f}_S_B"] = [wc.signal, wc.background]
        out.append(LimitResult(**base, channel=ch, analysis="prompt", method="window", limit_u2=lims["nominal"],
                               band_1sigma=(min(vals), max(vals)), band_2sigma=None, status="ok",
                               message="band: envelope of background x1/x2, res up/down, eff up/down",
                               details=details))
    # displaced: background-free count over the whole m_ll range after kinematic cuts
    counts = {f: float(task.templates[f"lhc_{f}_displaced"].signal["nominal"][0].sum())
              for f in FLAVOURS if f"lhc_{f}_displaced" in task.channels}
    for ch in (*FLAVOURS, "combined"):
        flavs = [f for f in (FLAVOURS if ch == "combined" else (ch,)) if f in counts]
        if not flavs:
            continue
        n = sum(counts[f] for f in flavs)
        if not n > 0:
            out.append(LimitResult(**base, channel=ch, analysis="displaced", method="window", limit_u2=None,
                                   band_1sigma=None, band_2sigma=None, status="no_signal",
                                   message="no displaced signal events"))
            continue
        lo_req, hi_req = d.required_events_band
        out.append(LimitResult(
            **base, channel=ch, analysis="displaced", method="window",
            limit_u2=win.displaced_limit(n, u2_ref=u2, required_events=d.required_events),
            band_1sigma=(win.displaced_limit(n, u2_ref=u2, required_events=lo_req),
                         win.displaced_limit(n, u2_ref=u2, required_events=hi_req)),
            band_2sigma=None, status="ok",
            message=f">= {d.required_events:g} signal events; band {lo_req:g}-{hi_req:g} events (vertex efficiency)",
            details={"n_signal_ref": n}))
    return out


class LimitRun(NamedTuple):
    """Results of :func:`run_limits`: every limit, and the workspace spec of every point."""

    results: list[LimitResult]
    workspaces: dict[str, dict[str, Any]]


def run_limits(
    hists: Mapping[str, Any],
    *,
    scenario: str | Scenario,
    label: str = "nominal",
    executor: ExecutorSpec | None = None,
    methods: Sequence[str] = METHODS,
    channels: Sequence[str] = CHANNELS,
    points: Sequence[MassPoint] | None = None,
    projections: str | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> LimitRun:
    """Limits of every mass point of ``hists`` (a loaded histogram file), in parallel over points."""
    sc = scenario if isinstance(scenario, Scenario) else get_scenario(scenario, path=projections)
    for m in methods:
        check_choice("method", m, METHODS)
    for c in channels:
        split_channel(c)
    if not methods:
        raise ParameterError(f"no method requested; valid: {', '.join(METHODS)}")
    pts = list(points) if points is not None else mass_points(hists)
    if not pts:
        raise ParameterError("the histogram input holds no signal mass points (metadata kind 'signal')")
    wset = load_window_settings(projections)
    dset = load_displaced_settings(projections)
    samples = hists["samples"]
    tasks = [
        _Task(p, extract_templates(hists, p, scenario=sc), sc.name, label, tuple(methods), tuple(channels),
              wset, dset, float(samples[p.sample]["metadata"].get("U2_ref", U2_REF)), dict(model_options or {}))
        for p in pts
    ]
    log.info("%d mass points x %d channels, scenario %s (%g fb^-1, %g TeV), label %s",
             len(pts), len(channels), sc.name, sc.lumi_fb, sc.sqrt_s_TeV, label)
    out = map_tasks(_point_task, tasks, executor=executor, desc=f"limits {label}/{sc.name}")
    results: list[LimitResult] = []
    workspaces: dict[str, dict[str, Any]] = {}
    for task, (res, spec) in zip(tasks, out, strict=True):
        results.extend(res)
        if spec is not None:
            workspaces[workspace_name(task.point, sc.name, label)] = spec
    bad = [r for r in results if r.status in ("failed", "above_poi_bound")]
    if bad:
        log.warning("%d limits could not be computed (status failed/above_poi_bound); see limits.json", len(bad))
    return LimitRun(results, workspaces)


def compute_limits(
    hists: Mapping[str, Any],
    *,
    scenario: str | Scenario,
    executor: ExecutorSpec | None = None,
    methods: Sequence[str] = METHODS,
    channels: Sequence[str] = CHANNELS,
    label: str = "nominal",
) -> list[LimitResult]:
    """Expected limits of every mass point (see :func:`run_limits`, which also returns workspaces)."""
    return run_limits(hists, scenario=scenario, executor=executor, methods=methods, channels=channels,
                      label=label).results
