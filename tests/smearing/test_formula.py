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


def _former_compiled(node):
    """The former formula compiler: one numpy expression, eval'd, np.where-based max/min."""
    import re

    text = re.sub(r"\[(\d+)\]", r"_p[\1]", node["expression"])
    code = compile(text, "<formula>", "eval")
    ns = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs, "pow": np.power,
          "max": lambda a, b: np.where(np.less(a, b), b, a),
          "min": lambda a, b: np.where(np.less(b, a), b, a),
          "_p": [float(v) for v in node["parameters"]]}

    def evaluate(x):
        with np.errstate(all="ignore"):
            out = eval(code, {"__builtins__": {}}, {**ns, "x": x})  # noqa: S307
        return np.broadcast_to(np.asarray(out, dtype=np.float64), x.shape).copy()

    return evaluate


def test_compiled_formulas_bit_identical_to_former_compiler():
    """In-place evaluation and the numba max/min give the bits of the former numpy
    expression (np.where-based std::max/min), for the scenario formulas and others."""
    model = load_detector("run2")
    doc = json.loads(Path(model.path).read_text())
    corr = next(c for c in doc["corrections"] if c["name"] == "electron_resolution")
    nodes = [v["value"] for s in corr["data"]["content"] for v in s["value"]["content"]]
    for expr in ("max(x,[0])-min([1],x)+max(0.,min(x,1.))", "-x*[0]+sqrt(abs(x))/[1]",
                 "exp(-x/[2])*pow(x,2)+[3]", "[0]*[1]-log([2])", "+x", "x", "2*x-1/x",
                 "-(log(x)-[1])/([0]+x)"):
        nodes.append(dict(nodes[0], expression=expr))
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.exponential(5.0, 20000), [0.0, -0.0, -1.0, np.inf, -np.inf, np.nan,
                                                       5.0, 40.0, 1e-300]])
    for node in nodes:
        new, old = compile_formula(node), _former_compiled(node)
        assert new is not None, node["expression"]
        a, b = new(x), old(x)
        assert a.shape == x.shape and a.tobytes() == b.tobytes(), node["expression"]
        assert a is not x and not np.shares_memory(a, x)
        assert new(x[:1]).tobytes() == old(x[:1]).tobytes()
        assert new(np.asarray(3.0)).tobytes() == old(np.asarray(3.0)).tobytes()


def test_std_min_max_ufuncs_on_special_values():
    from smearing.formula import FUNCTIONS

    vals = np.array([np.nan, -np.inf, -1.0, -0.0, 0.0, 1e-300, 1.0, np.inf])
    a, b = np.meshgrid(vals, vals)
    a, b = a.ravel(), b.ravel()
    # (the compiled formulas run under np.errstate(all="ignore"): NaN compares raise
    # the invalid flag in the numba loop)
    with np.errstate(invalid="ignore"):
        for name, ref in (("max", np.where(np.less(a, b), b, a)),
                          ("min", np.where(np.less(b, a), b, a))):
            fn = FUNCTIONS[name][0]
            assert fn(a, b).tobytes() == ref.tobytes(), name
            ref0 = np.where(np.less(0.0, b) if name == "max" else np.less(b, 0.0), b, 0.0)
            assert np.asarray(fn(0.0, b)).tobytes() == ref0.tobytes(), name
