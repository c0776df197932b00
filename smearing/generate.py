"""Regenerate the correctionlib detector-response files from ``data/scenarios.toml``.

``python -m smearing.generate`` rewrites ``smearing/data/<scenario>.json`` (one per
``[scenario.<name>]`` table). Edit the TOML table, not the JSON.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

from darknu.errors import ConfigError
from darknu.io import atomic_write_json

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
TABLE = DATA_DIR / "scenarios.toml"

#: Log-linear interpolation between the high-pT value [0] (pT >= [3]) and the low-pT
#: value [1] (pT <= [2]); x is the lepton pT in GeV.
ELECTRON_FORMULA = "[0]+([1]-[0])*max(0.,min(1.,(log([3])-log(x))/(log([3])-log([2]))))"
ELECTRON_SETS = ("optimistic", "pessimistic")
ELECTRON_VARIABLES = ("phi", "cottheta", "ptrel")
VARIATIONS = ("nominal", "up", "down")


def _category(input_name: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodetype": "category",
        "input": input_name,
        "content": [{"key": k, "value": v} for k, v in content.items()],
    }


def _get(table: dict[str, Any], *keys: str) -> Any:
    node: Any = table
    for i, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{TABLE}: missing key {'.'.join(keys[: i + 1])!r}")
        node = node[key]
    return node


def build_correction_set(table: dict[str, Any], scenario: str) -> dict[str, Any]:
    """Return the correctionlib (schema v2) document of one scenario as a dict."""
    sc = _get(table, "scenario", scenario)
    pt_lo = float(_get(table, "electron", "pt_lo"))
    pt_hi = float(_get(table, "electron", "pt_hi"))
    if not 0 < pt_lo < pt_hi:
        raise ConfigError(f"{TABLE}: electron.pt_lo={pt_lo} must be > 0 and < pt_hi={pt_hi}")
    ele = {}
    for s in ELECTRON_SETS:
        per_var = {}
        for v in ELECTRON_VARIABLES:
            hi, lo = (float(x) for x in _get(table, "electron", s, v))
            per_var[v] = {
                "nodetype": "formula",
                "expression": ELECTRON_FORMULA,
                "parser": "TFormula",
                "variables": ["pt"],
                "parameters": [hi, lo, pt_lo, pt_hi],
            }
        ele[s] = _category("variable", per_var)
    mres = _get(table, "muon", "mass_resolution")
    eff = _get(table, "efficiency", "lepton")
    corrections = [
        {
            "name": "electron_resolution",
            "description": "Gaussian electron resolution vs pT: phi [rad], cottheta [1], "
            "ptrel [sigma(pT)/pT]; seed 003 §IV ranges, pT dependence in scenarios.toml",
            "version": 1,
            "inputs": [
                {"name": "set", "type": "string", "description": "optimistic | pessimistic"},
                {"name": "variable", "type": "string", "description": "phi | cottheta | ptrel"},
                {"name": "pt", "type": "real", "description": "electron pT [GeV]"},
            ],
            "output": {"name": "sigma", "type": "real"},
            "data": _category("set", ele),
        },
        {
            "name": "muon_resolution",
            "description": "per-muon sigma(pT)/pT = di-muon mass resolution * sqrt(2) "
            "(seed 003: 2 +- 1 % mass resolution)",
            "version": 1,
            "inputs": [
                {"name": "variation", "type": "string", "description": "nominal | up | down"}
            ],
            "output": {"name": "sigma", "type": "real"},
            "data": _category("variation", {k: float(mres[k]) * 2**0.5 for k in VARIATIONS}),
        },
        {
            "name": "lepton_efficiency",
            "description": "per-lepton identification/reconstruction efficiency "
            "(seed 003: 85 +- 5 %)",
            "version": 1,
            "inputs": [
                {"name": "variation", "type": "string", "description": "nominal | up | down"}
            ],
            "output": {"name": "efficiency", "type": "real"},
            "data": _category("variation", {k: float(eff[k]) for k in VARIATIONS}),
        },
        {
            "name": "veto_inefficiency",
            "description": "probability that an event with a 4th lepton passes the extra-lepton "
            "veto (seed 003: 5 %)",
            "version": 1,
            "inputs": [],
            "output": {"name": "inefficiency", "type": "real"},
            "data": float(_get(table, "efficiency", "veto_inefficiency")),
        },
        {
            "name": "vertex_resolution",
            "description": "Gaussian resolution [mm] per coordinate of the Z_D-candidate vertex",
            "version": 1,
            "inputs": [{"name": "coordinate", "type": "string", "description": "xy | z"}],
            "output": {"name": "sigma_mm", "type": "real"},
            "data": _category(
                "coordinate",
                {
                    "xy": float(_get(sc, "vertex_sigma_xy_mm")),
                    "z": float(_get(sc, "vertex_sigma_z_mm")),
                },
            ),
        },
        {
            "name": "acceptance",
            "description": "acceptance and thresholds: eta_max [1], muon_pt_min and "
            "electron_pt_min [GeV]",
            "version": 1,
            "inputs": [
                {
                    "name": "quantity",
                    "type": "string",
                    "description": "eta_max | muon_pt_min | electron_pt_min",
                }
            ],
            "output": {"name": "value", "type": "real"},
            "data": _category(
                "quantity",
                {k: float(_get(sc, k)) for k in ("eta_max", "muon_pt_min", "electron_pt_min")},
            ),
        },
    ]
    doc = {
        "schema_version": 2,
        "description": f"darknu detector scenario {scenario!r}: {sc.get('description', '')}",
        "corrections": corrections,
    }
    import correctionlib.schemav2 as cs

    cs.CorrectionSet.model_validate(doc)  # raises on a malformed document
    return doc


def load_table(path: Path = TABLE) -> dict[str, Any]:
    """Read the TOML table; a syntax error names the file and line."""
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def generate(*, table_path: Path = TABLE, out_dir: Path = DATA_DIR) -> list[Path]:
    """Write ``<out_dir>/<scenario>.json`` for every scenario in the table."""
    table = load_table(table_path)
    written = []
    for name in _get(table, "scenario"):
        path = atomic_write_json(out_dir / f"{name}.json", build_correction_set(table, name))
        log.info("wrote %s", path)
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig(level=logging.INFO)
    for p in generate():
        print(f"wrote {p}")
