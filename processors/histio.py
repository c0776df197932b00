"""Save and load the processor output: m_ll histograms, control plots, cutflows, metadata.

The file is plain JSON (``darknu-hists/1``): histograms in the UHI serialisation that
``hist`` itself reads and writes, so the file is open, safe (no pickle) and round-trips
exactly. Layout (documented in ``docs/interfaces.md``)::

    {
      "format": "darknu-hists/1",
      "lumi_ref_fb": 1.0,                  # yields are events per lumi_ref_fb at the sample's sqrt(s)
      "samples": {
        "<sample>": {
          "metadata": {...},               # kind, process, sqrt_s_TeV, xsec_pb, masses, alpha_eps2, ...
          "mll": <Hist: channel x region x syst x mll>,
          "control": {"<name>": <Hist>, ...},
          "cutflow": {"<channel>": {"<cut>": [sumw, n_raw], ...}}
        }
      },
      "provenance": {...},                 # fileset, config digest, darknu version, skipped files
    }
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import hist
import uhi.io.json as uhi_json

from darknu.errors import InputFileError
from darknu.io import atomic_write_text

FORMAT = "darknu-hists/1"


def _encode(obj: Any) -> Any:
    if isinstance(obj, hist.Hist):
        return uhi_json.default(obj)
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "uhi_schema" in obj:
            return hist.Hist(uhi_json.object_hook(obj))
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def save_histograms(
    path: str | os.PathLike[str], result: dict[str, Any], *, overwrite: bool = False
) -> Path:
    """Write a processor result (see module docstring) atomically as JSON.

    ``overwrite=False`` refuses to replace an existing file.
    """
    doc = {"format": FORMAT, **{k: v for k, v in result.items() if k != "format"}}
    text = json.dumps(_encode(doc), default=uhi_json.default, allow_nan=False)
    return atomic_write_text(path, text, overwrite=overwrite)


def load_histograms(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by :func:`save_histograms`; histograms come back as ``hist.Hist``."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"histogram file {p} does not exist")
    try:
        raw = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise InputFileError(f"histogram file {p} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InputFileError(
            f"histogram file {p} is not a darknu histogram file (format {raw.get('format')!r}, "
            f"expected {FORMAT!r})" if isinstance(raw, dict) else f"{p}: top level is not an object"
        )
    if "samples" not in raw:
        raise InputFileError(f"histogram file {p} has no 'samples' entry")
    return _decode(raw)
