"""The numpy-compiled correctionlib formulas agree with correctionlib itself."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from smearing.formula import compile_formula, compiled_evaluator
from smearing.response import _correction_set, load_detector


@pytest.mark.parametrize("scenario", ["run2", "hllhc"])
def test_compiled_electron_resolution_matches_correctionlib(scenario):
    model = load_detector(scenario)
    corr = _correction_set(model.path)["electron_resolution"]
    rng = np.random.default_rng(7)
    pt = np.concatenate(
        [np.exp(rng.uniform(np.log(0.1), np.log(500.0), 20_000)), [0.0, 1e-300, 5.0, 40.0, 1e6]]
    )
    for s in ("optimistic", "pessimistic"):
        for var in ("phi", "cottheta", "ptrel"):
            assert compiled_evaluator(model.path, "electron_resolution", (s, var)) is not None
            ref = np.asarray(corr.evaluate(s, var, pt))
            got = model.electron_sigma(s, var, pt)
            # numpy's SIMD log and the C library's differ by at most one ulp
            assert np.max(np.abs(got - ref) / ref) <= 4 * np.finfo(float).eps, (s, var)


def test_uncompilable_formula_falls_back_to_correctionlib(tmp_path):
    doc = json.loads(Path(load_detector("run2").path).read_text())
    doc = copy.deepcopy(doc)
    node = doc["corrections"][0]["data"]["content"][0]["value"]["content"][2]["value"]
    assert node["nodetype"] == "formula"
    node["expression"] = "[0]+[1]*erf(x/[3])"  # outside the compiled subset
    path = tmp_path / "user.json"
    path.write_text(json.dumps(doc))
    model = load_detector(str(path))
    assert compiled_evaluator(model.path, "electron_resolution", ("optimistic", "ptrel")) is None
    pt = np.array([1.0, 10.0, 100.0])
    ref = _correction_set(model.path)["electron_resolution"].evaluate("optimistic", "ptrel", pt)
    assert np.array_equal(model.electron_sigma("optimistic", "ptrel", pt), ref)


@pytest.mark.parametrize(
    "expression",
    ["x^2", "x>1", "__import__('os')", "[7]*x", "sin(x)", "x.real", "max(x)", "y+x"],
)
def test_compile_formula_rejects_what_it_does_not_know(expression):
    node = {"nodetype": "formula", "parser": "TFormula", "variables": ["pt"],
            "parameters": [1.0, 2.0], "expression": expression}
    assert compile_formula(node) is None


def test_compile_formula_std_min_max_nan_semantics():
    node = {"nodetype": "formula", "parser": "TFormula", "variables": ["pt"],
            "parameters": [], "expression": "max(0.,min(1.,log(x)))"}
    f = compile_formula(node)
    # log(-1) = nan: std::min(1., nan) = 1 (as correctionlib's C++), not nan
    assert f(np.array([-1.0, 0.0, np.e ** 0.5, 10.0])).tolist() == [1.0, 0.0, 0.5, 1.0]
