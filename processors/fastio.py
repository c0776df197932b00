"""The branches the processor reads, as flat numpy arrays, without NanoEvents' per-field cost.

:func:`preload_branches` lists every branch the processor needs. :func:`chunk_columns`
reads them for one chunk in one batched ``TTree.arrays`` request, from the uproot file
coffea's Runner opened for the chunk (``events.attrs["@events_factory"].file_handle``),
and hands out flat contents and counts (:class:`Columns`). Going through NanoEvents
instead (``preload`` + ``events.Collection.field``) reads the same baskets but costs
~0.4 ms per field access (virtual-array generators, form lookups), ~10 ms per chunk
here. Without an uproot file behind the events (eager NanoEvents, a plain awkward
array), :class:`Columns` falls back to the NanoEvents fields (:func:`jagged`,
:func:`flat`); the values are the same in every case (tests/processors/test_kernels.py).
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from processors.kernels import offsets_match_counts

LEPTON_BRANCHES = ("pt", "eta", "phi", "mass", "charge", "genPartIdx")
#: Branches every input file must have (checked by ``processors.run.check_file``).
REQUIRED_BRANCHES: dict[str, tuple[str, ...]] = {
    "": ("run", "luminosityBlock", "event", "genWeight"),
    "Electron": tuple(f"Electron_{b}" for b in LEPTON_BRANCHES) + ("nElectron",),
    "Muon": tuple(f"Muon_{b}" for b in LEPTON_BRANCHES) + ("nMuon",),
    "GenPart": ("nGenPart", "GenPart_vx", "GenPart_vy", "GenPart_vz"),
    "GenVtx": ("GenVtx_x", "GenVtx_y", "GenVtx_z"),
    "ChargedHadron": ("nChargedHadron", "ChargedHadron_pt", "ChargedHadron_eta"),
}
SIGNAL_BRANCHES = {"ZD": ("ZD_ctau",)}


def preload_branches(*, signal: bool) -> list[str]:
    """Branches the processor reads, in one ``TTree.arrays`` request per chunk.

    Every required branch except ``run``, ``luminosityBlock``, ``event`` (only checked,
    not read); ``ZD_ctau`` for signal.
    """
    need = dict(REQUIRED_BRANCHES, **(SIGNAL_BRANCHES if signal else {}))
    return [b for coll, bs in need.items() for b in bs if coll or b == "genWeight"]


def _numpy_data(content: Any) -> np.ndarray | None:
    if isinstance(content, ak.contents.NumpyArray) and content.data.ndim == 1:
        return np.asarray(content.data)
    return None


def jagged(events: Any, collection: str, fields: tuple[str, ...]) -> tuple[np.ndarray, dict]:
    """(counts per event, {field: flat values}) of a jagged collection of NanoEvents ``events``."""
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
    """Values of a one-per-event field of NanoEvents ``events`` (``collection`` None: a
    top-level branch)."""
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


class Columns:
    """The processor's view of one chunk: ``jagged`` and ``flat`` as the functions above.

    ``arrays``: the chunk's branches as read by uproot (``{name: ak.Array}``), or None to
    use the NanoEvents fields of ``events``. A jagged collection's counts are its
    ``n<Collection>`` branch, as NanoAODSchema builds the offsets; a field whose own
    offsets disagree with them is an error (a corrupt file), not silently misaligned.
    """

    def __init__(self, events: Any, arrays: dict[str, ak.Array] | None = None) -> None:
        self.events, self.arrays = events, arrays

    def jagged(self, collection: str, fields: tuple[str, ...]) -> tuple[np.ndarray, dict]:
        if self.arrays is None:
            return jagged(self.events, collection, fields)
        counts = np.asarray(ak.to_numpy(self.arrays[f"n{collection}"]), dtype=np.int64)
        out = {}
        for f in fields:
            name = f"{collection}_{f}"
            layout = ak.to_layout(self.arrays[name])
            data = (
                _numpy_data(layout.content)
                if isinstance(layout, ak.contents.ListOffsetArray)
                else None
            )
            if data is None:  # another layout: flatten generically
                values = np.asarray(ak.to_numpy(ak.flatten(self.arrays[name])))
                num = np.asarray(ak.to_numpy(ak.num(self.arrays[name], axis=1)), np.int64)
                offsets = np.concatenate([[0], np.cumsum(num)])
            else:
                offsets = np.asarray(layout.offsets.data)
                values = data[offsets[0] : offsets[-1]]
            if not offsets_match_counts(offsets, counts):
                raise ValueError(
                    f"branch {name} has other entries per event than n{collection}"
                )
            out[f] = values
        return counts, out

    def flat(self, collection: str | None, field: str) -> np.ndarray:
        if self.arrays is None:
            return flat(self.events, collection, field)
        arr = self.arrays[f"{collection}_{field}" if collection else field]
        data = _numpy_data(ak.to_layout(arr))
        return data if data is not None else np.asarray(ak.to_numpy(arr))


def _uproot_tree(events: Any) -> Any:
    """The uproot TTree behind NanoEvents built by ``NanoEventsFactory.from_root``, or None."""
    import uproot

    try:
        factory = events.attrs["@events_factory"]
        handle = factory.file_handle
        treename = events.metadata["treename"]
    except (AttributeError, KeyError, TypeError):
        return None
    if isinstance(handle, uproot.reading.ReadOnlyFile):
        handle = handle.root_directory
    if not isinstance(handle, uproot.reading.ReadOnlyDirectory):
        return None
    tree = handle[treename]
    return tree if isinstance(tree, uproot.behaviors.TTree.TTree) else None


def chunk_columns(events: Any, branches: list[str]) -> Columns:
    """The chunk's ``branches``, read in one batched request (see the module docstring)."""
    tree = _uproot_tree(events)
    md = getattr(events, "metadata", None) or {}
    if tree is None or "entrystart" not in md or "entrystop" not in md:
        return Columns(events)
    start, stop = int(md["entrystart"]), int(md["entrystop"])
    if stop - start != len(events):
        return Columns(events)
    # array_cache=None: the arrays are not also kept in the file's cache. uproot's file,
    # directory and tree objects reference each other, so a cache would live on with them
    # until a full garbage collection: a worker's memory then grew by ~40 MB per chunk
    # (to ~1 GB here) and loky restarted the worker every ~20 chunks (memory-leak guard).
    arrays = tree.arrays(
        branches, entry_start=start, entry_stop=stop, library="ak", how=dict, array_cache=None
    )
    return Columns(events, arrays)
