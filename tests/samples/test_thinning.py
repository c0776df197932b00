"""Thinning (Russian roulette) of the sliced methods' written copies, and the event-group
branch that lets the processor treat copies of one Pythia event as correlated."""

from __future__ import annotations

import math

import numpy as np
import pytest

from samples import background as bg
from samples import background_kernels as K
from samples.background_sliced import CopyThinning


def test_core_constants_of_the_kernels_are_the_modules():
    assert (K._CORE_E_PT, K._CORE_MU_PT, K._CORE_ETA, K._CORE_LEAD) == (
        bg.CORE_E_PT_MIN_GEV, bg.CORE_MU_PT_MIN_GEV, bg.CORE_ETA_MAX, bg.CORE_LEAD_PT_MIN_GEV)


def _random_leptons(rng, n):
    out = []
    for _ in range(n):
        pid = int(rng.choice([11, -11, 13, -13]))
        pt = float(np.exp(rng.uniform(np.log(0.5), np.log(80.0))))
        eta = float(rng.uniform(-4.5, 4.5))
        phi = float(rng.uniform(-np.pi, np.pi))
        m = 0.000511 if abs(pid) == 11 else 0.10566
        px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
        out.append((pid, math.sqrt(px * px + py * py + pz * pz + m * m), px, py, pz))
    return out


def test_core_contains_the_preselection_and_the_kernel_is_the_python_function():
    rng = np.random.default_rng(5)
    n_presel = n_core = 0
    for _ in range(20000):
        leps = _random_leptons(rng, int(rng.integers(2, 6)))
        core = bg.core_copy(leps)
        assert K.core_copy(np.array(leps, dtype=float), len(leps)) == core
        if bg.truth_preselection(leps) is not None:
            n_presel += 1
            assert core, leps
        n_core += core
    assert n_presel > 20 and n_core > 3 * n_presel  # the core is looser, and both happen


def test_thinning_draws_are_the_same_one_by_one_or_per_event_and_unbiased():
    rng = np.random.default_rng(9)
    core = rng.random(50000) < 0.3
    a, b = CopyThinning(0.2, 3, 1), CopyThinning(0.2, 3, 1)
    one = np.array([a.factor(bool(c)) for c in core])
    sizes = rng.multinomial(len(core), np.ones(2000) / 2000)
    many = np.concatenate([b.factors(part) for part in np.split(core, np.cumsum(sizes)[:-1])])
    assert np.array_equal(one, many) and a.n_dropped == b.n_dropped
    assert set(np.unique(one)) == {0.0, 1.0, 5.0}
    assert (one[core] == 1.0).all()
    # expectation kept: Σ w·factor vs Σ w for the non-core copies, within 4σ
    w = rng.exponential(1.0, len(core))
    nc = ~core
    var = (w[nc] ** 2 * (1 / 0.2 - 1)).sum()
    assert abs((w * one)[nc].sum() - w[nc].sum()) < 4 * math.sqrt(var)
    assert 0.17 < (one[nc] > 0).mean() < 0.23
    no = CopyThinning(1.0, 3, 1)
    assert (no.factors(core) == 1.0).all() and no.factor(False) == 1.0


def _copies(path):
    import uproot

    t = uproot.open(path)["Events"].arrays(
        ["genWeight", "biasWeight", "genEventGroup", "Electron_pt", "Muon_pt", "Electron_eta",
         "Muon_eta"], library="np")
    keys = [(int(g), tuple(np.round(e, 5)), tuple(np.round(m, 5)))
            for g, e, m in zip(t["genEventGroup"], t["Electron_pt"], t["Muon_pt"], strict=True)]
    return keys, t


def test_thinned_file_is_the_unthinned_one_minus_dropped_non_core_copies(tmp_path):
    from samples.nanoaod import read_metadata

    res, files = {}, {}
    for keep in (1.0, 0.2):
        t = bg.JobTask("W_munu_gstar", "sliced_fsrq", 13.0, 1500, 21, 0, False,
                       str(tmp_path / f"k{keep}.root"), thin_keep=keep)
        res[keep] = bg.run_job(t)
        files[keep] = _copies(t.out_path)
    full, thin = res[1.0], res[0.2]
    # generation and the truth preselection are untouched (the thinning has its own stream)
    np.testing.assert_array_equal(full.presel, thin.presel)
    assert (full.loose_ee, full.sumw_generated) == (thin.loose_ee, thin.sumw_generated)
    meta = read_metadata(tmp_path / "k0.2.root")
    assert meta["thin_keep"] == 0.2 and meta["n_thinned_away"] > 0
    assert meta["event_group_branch"] == "genEventGroup"
    assert thin.n_written + meta["n_thinned_away"] == full.n_written
    assert thin.n_written < 0.7 * full.n_written
    (k_full, a_full), (k_thin, a_thin) = files[1.0], files[0.2]
    # copies of one Pythia event are consecutive: the group id never decreases
    assert (np.diff(a_full["genEventGroup"]) >= 0).all()
    assert (np.diff(a_thin["genEventGroup"]) >= 0).all()
    w_full = dict(zip(k_full, a_full["genWeight"], strict=True))
    assert len(w_full) == len(k_full)  # the keys identify the copies
    ratio = np.array([w / w_full[k] for k, w in zip(k_thin, a_thin["genWeight"], strict=True)])
    assert np.all(np.isclose(ratio, 1.0) | np.isclose(ratio, 5.0))
    core_full = {k for k, *lep in zip(k_full, a_full["Electron_pt"], a_full["Electron_eta"],
                                      a_full["Muon_pt"], a_full["Muon_eta"], strict=True)
                 if _core(*lep)}
    assert core_full <= set(k_thin)  # every core copy is written
    # Σ genWeight of the non-core copies agrees within the roulette's statistics
    nc_full = np.array([k not in core_full for k in k_full])
    nc_thin = np.array([k not in core_full for k in k_thin])
    s_full, s_thin = a_full["genWeight"][nc_full].sum(), a_thin["genWeight"][nc_thin].sum()
    sigma = math.sqrt((a_full["genWeight"][nc_full].astype(float) ** 2).sum() * 4.0)
    assert abs(s_thin - s_full) < 4 * sigma
    assert nc_thin.any() and (ratio[nc_thin] > 4.9).all()


def _core(e_pt, e_eta, mu_pt, mu_eta) -> bool:
    """The core selection on the file's leptons (float32: a copy within rounding of a
    threshold could be misjudged; none is in these samples)."""
    pts = [p for p, h in zip(e_pt, e_eta) if p > bg.CORE_E_PT_MIN_GEV and abs(h) < 4.0] + \
        [p for p, h in zip(mu_pt, mu_eta) if p > bg.CORE_MU_PT_MIN_GEV and abs(h) < 4.0]
    return len(pts) >= 3 and max(pts) > bg.CORE_LEAD_PT_MIN_GEV


@pytest.mark.parametrize(("name", "bad", "other_method_value"),
                         [("thin_keep", 0.0, 0.5), ("w_decays", 0, 4)])
def test_sliced_settings_are_checked_before_generation(tmp_path, name, bad,
                                                       other_method_value):
    """thin_keep and w_decays: out of range for a sliced method, or given to another
    method, is refused by make_tasks (nothing generated), naming the setting."""
    kw = {"sqrt_s_TeV": 13.0, "events": 1000, "seed": 1, "jobs": 1, "hadron_level": False,
          "out_dir": tmp_path}
    with pytest.raises(bg.ParameterError, match=name):
        bg.make_tasks("W_munu_gstar", method="sliced_fsrq", **kw, **{name: bad})
    with pytest.raises(bg.ParameterError, match=f"{name} applies to the sliced methods"):
        bg.make_tasks("W_munu_gstar", method="forced", **kw, **{name: other_method_value})
