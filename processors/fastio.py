"""Flat numpy views of the preloaded NanoEvents branches, without NanoEvents' per-field cost.

Each ``events.Collection.field`` access in NanoEvents costs ~0.4 ms (behaviour lookup,
form building), more than reading the field's values. The processor only needs the flat
contents and the offsets, which sit in the layout already: :func:`jagged` and :func:`flat`
return them directly (numpy arrays, no copy of the values beyond the final ``astype``).
They fall back to ``ak.flatten`` / ``ak.to_numpy`` when the layout is not the plain
``ListOffsetArray(RecordArray(NumpyArray))`` that ``NanoEventsFactory.from_root`` builds,
so the values are the same in every case.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np


def _numpy_data(content: Any) -> np.ndarray | None:
    if isinstance(content, ak.contents.NumpyArray) and content.data.ndim == 1:
        return np.asarray(content.data)
    return None


def jagged(events: Any, collection: str, fields: tuple[str, ...]) -> tuple[np.ndarray, dict]:
    """(counts per event, {field: flat values}) of a jagged collection of ``events``."""
    try:
        layout = ak.to_layout(events[collection])
    except Exception:  # pragma: no cover - defensive: use the generic path
        layout = None
    if (
        isinstance(layout, ak.contents.ListOffsetArray)
        and isinstance(layout.content, ak.contents.RecordArray)
        and all(f in layout.content.fields for f in fields)
    ):
        off = np.asarray(layout.offsets.data)
        out = {}
        for f in fields:
            data = _numpy_data(layout.content.content(f))
            if data is None:
                break
            out[f] = data[off[0] : off[-1]]
        else:
            return np.diff(off).astype(np.int64), out
    coll = events[collection]
    counts = np.asarray(ak.to_numpy(ak.num(coll[fields[0]], axis=1)), dtype=np.int64)
    return counts, {f: np.asarray(ak.to_numpy(ak.flatten(coll[f]))) for f in fields}


def flat(events: Any, collection: str | None, field: str) -> np.ndarray:
    """Values of a one-per-event field (``collection`` None: a top-level branch)."""
    try:
        layout = ak.to_layout(events[collection] if collection else events[field])
        if collection:
            layout = (
                layout.content(field) if isinstance(layout, ak.contents.RecordArray) else None
            )
        data = _numpy_data(layout)
        if data is not None and len(data) >= len(events):
            return data[: len(events)]
    except Exception:  # pragma: no cover - defensive: use the generic path
        pass
    arr = events[collection][field] if collection else events[field]
    return np.asarray(ak.to_numpy(arr))
