"""Fits on recast/combined workspaces: goodness of fit, profile likelihood, upper limits on μ."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass

import numpy as np
import pyhf
from scipy import optimize, stats

from darknu.errors import FitError, check_choice, check_range

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GoodnessOfFit:
    """Saturated-model deviance of the background-only (μ = 0) fit."""

    chi2: float
    ndof: int
    pvalue: float

    def __str__(self) -> str:
        return f"chi2/ndof = {self.chi2:.2f}/{self.ndof} (p = {self.pvalue:.3g})"


def _model_data(ws: pyhf.Workspace) -> tuple[pyhf.pdf.Model, np.ndarray]:
    model = ws.model(modifier_settings={"normsys": {"interpcode": "code4"}, "histosys": {"interpcode": "code4p"}})
    return model, np.asarray(ws.data(model))


def _twice_nll(model: pyhf.pdf.Model, data: np.ndarray, pars: np.ndarray) -> float:
    return float(-2.0 * model.logpdf(pars, data)[0])


def goodness_of_fit(ws: pyhf.Workspace) -> GoodnessOfFit:
    """Background-only fit to the workspace data and its deviance from the saturated model.

    deviance = −2 ln L(μ=0, θ̂) + 2 ln L_sat, where the saturated model puts every main
    bin at its observed count and every constraint at its auxiliary datum; ndof = number
    of bins (the nuisance parameters are paid for by their constraints).
    """
    model, data = _model_data(ws)
    pars = np.asarray(pyhf.infer.mle.fixed_poi_fit(0.0, data, model))
    n_main = model.config.nmaindata
    main, aux = data[:n_main], data[n_main:]
    # pyhf's Poisson is continuous in the count (digitised "counts" are not integers)
    lam = np.maximum(main, 1e-12)
    sat_main = float(np.sum(pyhf.probability.Poisson(lam).log_prob(main)))
    sat_aux = float(model.constraint_logpdf(aux, np.asarray(model.config.suggested_init())))
    fit = float(model.logpdf(pars, data)[0])
    chi2 = max(-2.0 * fit + 2.0 * (sat_main + sat_aux), 0.0)
    return GoodnessOfFit(chi2=chi2, ndof=int(n_main), pvalue=float(stats.chi2.sf(chi2, n_main)))


def profile_twice_nll(ws: pyhf.Workspace, mu_values: np.ndarray) -> np.ndarray:
    """−2 ln L(μ, θ̂̂(μ)) at each μ (nuisances profiled)."""
    model, data, scale, _ = _scaled(ws)
    return np.array([_prof(model, data, float(mu) / scale) for mu in mu_values])


@dataclass(frozen=True)
class UpperLimit:
    """Upper limit on μ = |U_μ4|²/1e-4 (observed), with its convention."""

    mu: float
    cl: float
    method: str
    mu_hat: float

    @property
    def U2(self) -> float:
        return self.mu * 1e-4


def mu_scale(model: pyhf.pdf.Model, data: np.ndarray) -> float:
    """μ at which the signal first equals the observed total of some channel.

    Taken channel by channel (the smallest data/signal ratio), so that in a combination
    the most sensitive channel sets the scale of scans and brackets.
    """
    init = np.asarray(model.config.suggested_init(), dtype=float)
    poi = model.config.poi_index
    p1, p0 = init.copy(), init.copy()
    p1[poi], p0[poi] = 1.0, 0.0
    sig = np.asarray(model.expected_actualdata(p1)) - np.asarray(model.expected_actualdata(p0))
    ratios = []
    for ch in model.config.channels:
        sl = model.config.channel_slices[ch]
        s_ch = float(np.sum(sig[sl]))
        if s_ch > 0:
            ratios.append(max(float(np.sum(data[sl])), 1.0) / s_ch)
    if not ratios:
        raise FitError("the workspace predicts no signal at mu = 1; cannot set a limit")
    return min(ratios)


def _scaled(ws: pyhf.Workspace) -> tuple[pyhf.pdf.Model, np.ndarray, float, pyhf.Workspace]:
    """Model (and data, scale, workspace) with every μ-scaled sample multiplied by
    ``scale``, so the fitted POI μ' = μ/scale is O(1).

    The workspace keeps the §3 convention (μ = |U_μ4|²/1e-4), but neutrino signals at μ = 1
    are 10³–10⁶ times the data and the optimiser fails on such a badly scaled POI. The
    likelihood is unchanged: L'(μ') = L(μ' · scale).
    """
    model, data = _model_data(ws)
    scale = mu_scale(model, data)
    spec = json.loads(json.dumps(dict(ws)))
    for ch in spec["channels"]:
        for sample in ch["samples"]:
            if any(m["type"] == "normfactor" and m["name"] == "mu" for m in sample["modifiers"]):
                sample["data"] = [v * scale for v in sample["data"]]
                for m in sample["modifiers"]:
                    if m["type"] == "histosys":
                        m["data"] = {k: [v * scale for v in vals] for k, vals in m["data"].items()}
                    elif m["type"] in ("staterror", "shapesys"):
                        m["data"] = [v * scale for v in m["data"]]
    scaled_ws = pyhf.Workspace(spec, validate=False)
    model_s, data_s = _model_data(scaled_ws)
    return model_s, data_s, scale, scaled_ws


class ObservedCLs:
    """Observed asymptotic CLs(μ) with q̃_μ, as ``pyhf.infer.hypotest(μ, data, model,
    test_stat="qtilde", calctype="asymptotics")`` computes it (arXiv:1007.1727; pyhf's
    ``AsymptoticCalculator`` with its default ``normal`` base distribution), but with the
    three fits that do not depend on μ done once, not at every μ: the free fit to the data
    (μ̂ ≥ 0), the background-only fit that makes the Asimov data, and the free fit to the
    Asimov data. Per μ only the two conditional fits remain (data, Asimov), run with
    :func:`fits.limits.batched_fixed_poi_fit` (pyhf's own fit as fallback). An upper-limit
    search calls it ~15 times: ~5× fewer fits, each ~3× cheaper. Tested against
    ``pyhf.infer.hypotest`` (tests/fits/recast/test_recast_stats.py).
    """

    def __init__(self, model: pyhf.pdf.Model, data: np.ndarray, workspace: pyhf.Workspace | None = None) -> None:
        from fits.limits import build_batched_model

        self.model, self.data = model, np.asarray(data, dtype=np.float64)
        cfg = model.config
        self.poi = cfg.poi_index
        self.init, self.bounds, self.fixed = cfg.suggested_init(), cfg.suggested_bounds(), cfg.suggested_fixed()
        ws = workspace
        settings = {"modifier_settings": {"normsys": {"interpcode": "code4"}, "histosys": {"interpcode": "code4p"}}}
        self.batched = build_batched_model(ws, model, **settings) if ws is not None else None
        try:
            pars_hat, self.nll_hat = pyhf.infer.mle.fit(self.data, model, return_fitted_val=True)
            pars_b, _ = pyhf.infer.mle.fixed_poi_fit(0.0, self.data, model, return_fitted_val=True)
            self.asimov = np.asarray(model.expected_data(pars_b), dtype=np.float64)
            pars_hat_a, self.nll_hat_a = pyhf.infer.mle.fit(self.asimov, model, return_fitted_val=True)
        except pyhf.exceptions.FailedMinimization as exc:
            raise FitError(f"CLs set-up fit failed: {exc}") from exc
        self.mu_hat, self.mu_hat_a = float(pars_hat[self.poi]), float(pars_hat_a[self.poi])
        self.nll_hat, self.nll_hat_a = float(self.nll_hat), float(self.nll_hat_a)
        self._start = {"data": list(pars_hat), "asimov": list(pars_hat_a)}

    def _conditional(self, mu: float, which: str) -> float:
        """−2 ln L at the conditional minimum for POI = mu on the data or the Asimov set."""
        from fits.limits import batched_fixed_poi_fit

        data = self.data if which == "data" else self.asimov
        init = list(self._start[which])
        init[self.poi] = mu
        if self.batched is not None:
            try:
                # always from the free fit's parameters (not the previous μ's): CLs(μ) is
                # then a function of μ alone, whatever order the root search asks in
                _, nll = batched_fixed_poi_fit(
                    mu, data, self.batched, init_pars=init, par_bounds=self.bounds, fixed_params=self.fixed
                )
                return nll
            except pyhf.exceptions.FailedMinimization:
                log.debug("batched conditional fit at mu'=%g (%s) failed; pyhf's fit", mu, which)
        try:
            _, nll = pyhf.infer.mle.fixed_poi_fit(mu, data, self.model, return_fitted_val=True)
        except pyhf.exceptions.FailedMinimization as exc:
            raise FitError(f"CLs fit at mu' = {mu:.4g} failed: {exc}") from exc
        return float(nll)

    def __call__(self, mu: float) -> float:
        """CLs at POI = ``mu`` (NaN where q̃_μ,A = 0, i.e. μ → 0, as pyhf)."""
        mu = float(mu)
        q = 0.0 if self.mu_hat > mu else max(self._conditional(mu, "data") - self.nll_hat, 0.0)
        qa = 0.0 if self.mu_hat_a > mu else max(self._conditional(mu, "asimov") - self.nll_hat_a, 0.0)
        sq, sqa = math.sqrt(q), math.sqrt(qa)
        if sqa == 0.0:
            # No sensitivity at this μ on the Asimov set (μ → 0, or a conditional fit within
            # tolerance of the free one): pyhf's formula gives 0/0 here, i.e. NaN, which
            # upper_limit reads as CLs = 1. (Python floats would raise ZeroDivisionError when
            # the data's q̃_μ > 0: seen in a quick-run LHC + neutrino combination.)
            return float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = sq - sqa if sq <= sqa else (q - qa) / (2.0 * sqa)
            cls = stats.norm.cdf(-(t + sqa)) / stats.norm.cdf(-t)
        return float(cls)


def _prof(model: pyhf.pdf.Model, data: np.ndarray, mu: float) -> float:
    try:
        _, v = pyhf.infer.mle.fixed_poi_fit(float(mu), data, model, return_fitted_val=True)
    except pyhf.exceptions.FailedMinimization as exc:
        raise FitError(f"profile fit at mu = {mu:.4g} failed: {exc}") from exc
    return float(v)


def _best_fit_mu(model: pyhf.pdf.Model, data: np.ndarray, mu_max: float) -> tuple[float, float]:
    """μ̂ ≥ 0 and −2 ln L there, by a bounded 1D minimisation of the profile.

    The scan reaches μ' = ``mu_max`` (50 signal-equals-data units): for channels with 10⁴–10⁵
    events (CHARM-II counting) the nuisance parameters run into their ±5σ bounds there and the
    fit can fail. Such points lie far above any preferred μ and are skipped (+inf); the fit at
    μ = 0 must succeed.
    """

    def prof(mu: float) -> float:
        try:
            return _prof(model, data, mu)
        except FitError as exc:
            if mu == 0.0:
                raise
            log.debug("best-fit scan: %s (point skipped)", exc)
            return math.inf

    grid = np.concatenate([[0.0], np.geomspace(mu_max * 1e-6, mu_max, 25)])
    vals = np.array([prof(m) for m in grid])
    k = int(np.argmin(vals))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    if hi > lo:
        res = optimize.minimize_scalar(prof, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6 * hi})
        if res.fun < vals[k]:
            return float(res.x), float(res.fun)
    return float(grid[k]), float(vals[k])


def upper_limit(
    ws: pyhf.Workspace,
    *,
    cl: float = 0.90,
    method: str = "cls",
    mu_max: float = 1000.0,
) -> UpperLimit:
    """Observed upper limit on μ.

    ``method``:
    - ``"cls"``: asymptotic CLs with q̃_μ (pyhf), CLs(μ) = 1 − cl;
    - ``"dchi2_1dof"``: −2Δln L(μ) = χ²₁ quantile (2.71 at 90%), μ > μ̂ (profile likelihood);
    - ``"dchi2_2dof"``: −2Δln L = χ²₂ quantile (4.61 at 90%), the convention of seed 000
      (limits in the (m_4, |U_μ4|²) plane "with two degrees of freedom").
    """
    check_choice("limit method", method, ["cls", "dchi2_1dof", "dchi2_2dof"])
    cl = check_range("cl", cl, low=0.0, high=1.0)
    model, data, scale, scaled_ws = _scaled(ws)
    # In units of the scaled POI. A background-free channel (e.g. the LHC displaced bin,
    # data ~ 0 so the scale is "1 signal event") has its limit near 3 events, mu' ~ 3:
    # the bracket must reach well above that.
    # the POI bound of the scaled model (its spec keeps [0, 1000]) and of the true one
    mu_bound = min(mu_max / scale, 1000.0)
    mu_max = min(mu_bound, 50.0)
    if method == "cls":
        try:
            calc = ObservedCLs(model, data, scaled_ws)
        except FitError as exc:
            log.debug("fast CLs set-up failed (%s); pyhf.infer.hypotest at every mu", exc)
            calc = None
        if calc is not None:
            mu_hat = max(calc.mu_hat, 0.0)
        else:
            mu_hat, _ = _best_fit_mu(model, data, mu_max)

        def f(logmu: float) -> float:
            # q̃_μ of the Asimov set is 0 for μ → 0: the CLs is then NaN and means CLs = 1
            # (handled below).
            mu = float(math.exp(logmu))
            if calc is not None:
                cls = calc(mu)
            else:
                try:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        cls = float(pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", calctype="asymptotics"))
                except pyhf.exceptions.FailedMinimization as exc:
                    raise FitError(f"CLs fit at mu' = {mu:.4g} failed: {exc}") from exc
            return (cl if not math.isfinite(cls) else cls) - (1.0 - cl)  # NaN only at μ → 0: CLs → 1

    else:
        mu_hat, nll_hat = _best_fit_mu(model, data, mu_max)
        thr = float(stats.chi2.ppf(cl, 1 if method == "dchi2_1dof" else 2))

        def f(logmu: float) -> float:
            return thr - (_prof(model, data, math.exp(logmu)) - nll_hat)

    lo = math.log(max(mu_hat * 1.0001, mu_max * 1e-5))
    # Start the bracket at mu' = 5 (signal five times the data) and walk up from there: a
    # limit above needs a background-free channel (then the walk up finds it), while fits of
    # 1e4-event channels at mu' >~ 15 can fail with the nuisances at their bounds.
    hi = math.log(min(mu_max, 5.0))
    flo = f(lo)
    while True:  # the top of the bracket may be too far out for the fit (see _best_fit_mu): come down
        try:
            fhi = f(hi)
            break
        except FitError as exc:
            if hi - math.log(10.0) <= lo:
                raise
            log.debug("upper-limit bracket: %s; lowering the top by 10", exc)
            hi -= math.log(10.0)
    if flo < 0:  # already excluded at the bottom of the bracket: walk down
        for _ in range(30):
            lo -= math.log(10.0)
            flo = f(lo)
            if flo > 0:
                break
    while flo * fhi > 0 and fhi > 0 and hi < math.log(mu_bound):  # not excluded yet: walk up
        hi = min(hi + math.log(10.0), math.log(mu_bound))
        fhi = f(hi)
    if flo * fhi > 0:
        raise FitError(
            f"upper limit ({method}, {cl:.0%}) not bracketed in mu' in [{math.exp(lo):.3g}, {math.exp(hi):.3g}] "
            f"(scaled POI, mu = mu' x {scale:.3g}): "
            f"f = {flo:.3g}, {fhi:.3g}"
        )
    try:
        root = optimize.brentq(f, lo, hi, xtol=1e-4)
    except ValueError as exc:  # the fits moved a bracket end across the threshold
        raise FitError(f"upper limit ({method}, {cl:.0%}): root search failed: {exc}") from exc
    return UpperLimit(mu=float(math.exp(root)) * scale, cl=cl, method=method, mu_hat=mu_hat * scale)
