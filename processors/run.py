"""Run the processor over a fileset with the chosen executor; validate inputs first.

Every file is checked before processing (exists, opens, has ``Events``, has every branch
the processor reads, has events). By default the first bad file stops the run with an
:class:`~darknu.errors.InputFileError` naming it; with ``skip_bad_files=True`` bad files
are left out and listed in ``provenance["skipped_files"]`` (and logged). Nothing is
rescaled for a skipped file: the sample keeps the fileset's ``sum_genweight``, so its
yield drops by the skipped file's share, and ``provenance["samples"][s]`` shows the
processed vs expected event counts.

Chunk outputs are merged in sorted (dataset, file, entry range) order, so the result is
bit-identical for the iterative, futures and dask executors and for reruns with the same
``chunksize`` (the random draws are seeded per chunk; another chunk size gives other,
equally valid draws).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from darknu.errors import ConfigError, InputFileError
from darknu.parallel import ExecutorSpec, dask_client
from processors.fastio import (  # noqa: F401  (preload_branches: the benchmark's list)
    LEPTON_BRANCHES,
    REQUIRED_BRANCHES,
    SIGNAL_BRANCHES,
    preload_branches,
)
from processors.processor import (
    DEFAULT_ALPHA_EPS2,
    DarknuNanoSchema,
    DarkNuProcessor,
    ProcessorConfig,
    entry_names,
)

log = logging.getLogger(__name__)

REQUIRED_METADATA = ("kind", "xsec_pb", "sum_genweight")
SIGNAL_METADATA = ("alpha_eps2", "ctau_ZD_mm")


def load_fileset_any(
    fileset: str | os.PathLike[str] | Mapping[str, Any], *, check_files: bool = True
) -> dict[str, Any]:
    """A fileset dict, or a JSON file read by ``samples.fileset.load_fileset`` (when present)."""
    if isinstance(fileset, Mapping):
        return {k: dict(v) for k, v in fileset.items()}
    path = Path(fileset)
    try:
        from samples.fileset import load_fileset
    except ImportError:
        load_fileset = None
    if load_fileset is not None:
        fs = load_fileset(path, check_files=check_files)
        return {
            k: dict(v) for k, v in (fs.items() if isinstance(fs, Mapping) else dict(fs).items())
        }
    if not path.is_file():
        raise InputFileError(f"fileset {path} does not exist")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"fileset {path}: malformed JSON at line {exc.lineno}: {exc.msg}"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"fileset {path}: top level must be an object of samples")
    return raw


def check_metadata(dataset: str, md: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the dataset and key when weights cannot be computed."""
    need = REQUIRED_METADATA + (SIGNAL_METADATA if md.get("kind") == "signal" else ())
    for key in need:
        if key not in md:
            raise ConfigError(
                f"sample {dataset!r}: metadata lacks {key!r} (needed: {', '.join(need)})"
            )
    for key in ("xsec_pb", "sum_genweight"):
        try:
            val = float(md[key])
        except (TypeError, ValueError):
            raise ConfigError(
                f"sample {dataset!r}: metadata {key}={md[key]!r} is not a number"
            ) from None
        if not (val > 0 and val < float("inf")):
            raise ConfigError(
                f"sample {dataset!r}: metadata {key}={md[key]!r} must be a positive finite number"
            )
    if md.get("kind") == "signal":
        for key in SIGNAL_METADATA:
            try:
                val = float(md[key])
            except (TypeError, ValueError):
                val = float("nan")
            if not (val > 0 and val < float("inf")):
                raise ConfigError(
                    f"sample {dataset!r}: metadata {key}={md[key]!r} must be a positive finite number"
                )
    if md.get("kind") not in ("signal", "background"):
        raise ConfigError(
            f"sample {dataset!r}: metadata kind={md.get('kind')!r}; valid: background, signal"
        )
    if md.get("hadron_level") is False and "ht_veto_efficiency" not in md:
        raise ConfigError(
            f"sample {dataset!r}: hadron_level is false but 'ht_veto_efficiency' is missing"
        )


def check_file(
    path: str, *, treename: str = "Events", signal: bool = False, extra: tuple[str, ...] = ()
) -> int:
    """Open ``path`` and check the tree and branches (``extra``: more event-level branches
    the sample's metadata names, e.g. its ``event_group_branch``); return its number of
    entries.

    Raises :class:`InputFileError` naming the file (and branch/collection) otherwise.
    Truncation is detected from the basket positions in the tree metadata (no data read),
    plus one read of the last entry.
    """
    import uproot

    if not Path(path).is_file():
        raise InputFileError(f"input file {path} does not exist")
    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises many types on corrupt files
        raise InputFileError(
            f"input file {path} is not a readable ROOT file ({type(exc).__name__}: {exc})"
        ) from None
    with f:
        try:
            tree = f[treename]
        except Exception:
            raise InputFileError(
                f"input file {path} has no {treename!r} tree "
                f"(keys: {', '.join(f.keys(cycle=False)) or 'none'})"
            ) from None
        have = set(tree.keys())
        need = dict(REQUIRED_BRANCHES, **(SIGNAL_BRANCHES if signal else {}))
        if extra:
            need["metadata"] = tuple(extra)
        for coll, branches in need.items():
            missing = [b for b in branches if b not in have]
            if missing:
                what = {
                    "": "event-level branches",
                    "metadata": "event-level branches named in its metadata",
                }.get(coll, f"collection {coll}")
                raise InputFileError(
                    f"input file {path}: {what} lacks branch(es) {', '.join(missing)}"
                )
        n = int(tree.num_entries)
        if n == 0:
            raise InputFileError(f"input file {path} has zero events in {treename!r}")
        size = Path(path).stat().st_size
        try:
            for b in (b for bs in need.values() for b in bs):
                br = tree[b]
                nb = br.num_baskets
                seeks = br.member("fBasketSeek")[:nb]
                nbytes = br.member("fBasketBytes")[:nb]
                end = max((int(a) + int(c) for a, c in zip(seeks, nbytes, strict=True)), default=0)
                if end > size:
                    raise InputFileError(
                        f"input file {path} is truncated: branch {b} has baskets beyond the "
                        f"end of the file ({size} bytes)"
                    )
            tree.arrays(["event"], entry_start=n - 1, entry_stop=n, library="np")
        except InputFileError:
            raise
        except Exception as exc:
            raise InputFileError(
                f"input file {path} is truncated or corrupt: reading {treename!r} failed "
                f"({type(exc).__name__}: {exc})"
            ) from None
    return n


def _executor(spec: ExecutorSpec, client: Any = None) -> Any:
    from coffea import processor

    status = sys.stderr.isatty() and os.environ.get("DARKNU_NO_PROGRESS") != "1"
    if spec.kind == "iterative":
        return processor.IterativeExecutor(status=status)
    if spec.kind == "futures":
        return processor.FuturesExecutor(workers=spec.n_workers, status=status)
    return processor.DaskExecutor(client=client, status=status, retries=2)


def _add_into(total: dict[str, Any], part: dict[str, Any]) -> None:
    """total += part for the nested dict of hists / arrays / numbers."""
    for k, v in part.items():
        if k not in total:
            total[k] = v.copy() if hasattr(v, "copy") else (dict(v) if isinstance(v, dict) else v)
            if isinstance(v, dict):
                total[k] = {}
                _add_into(total[k], v)
        elif isinstance(v, dict):
            _add_into(total[k], v)
        else:
            total[k] = total[k] + v


def run_processor(
    fileset: str | os.PathLike[str] | Mapping[str, Any],
    *,
    executor: ExecutorSpec | None = None,
    detector: str = "run2",
    electron_set: str = "optimistic",
    electron_pt_min: float = 5.0,
    alpha_eps2_values: tuple[float, ...] = DEFAULT_ALPHA_EPS2,
    displacement: str = "3d",
    chunksize: int = 100_000,
    skip_bad_files: bool = False,
    lumi_ref_fb: float = 1.0,
    prefilter: bool = True,
) -> dict[str, Any]:
    """Process a fileset; return the structure ``processors.histio.save_histograms`` writes.

    ``prefilter=False`` disables the exact event pre-filter (for validation only: the
    result is identical, just slower).
    """
    from coffea import processor

    spec = executor or ExecutorSpec()
    config = ProcessorConfig(
        detector=detector,
        electron_set=electron_set,
        electron_pt_min=electron_pt_min,
        alpha_eps2_values=tuple(float(a) for a in alpha_eps2_values),
        displacement=displacement,
        lumi_ref_fb=lumi_ref_fb,
        prefilter=prefilter,
    )
    if int(chunksize) < 1:
        from darknu.errors import ParameterError

        raise ParameterError(f"chunksize must be >= 1, got {chunksize}")
    fs = load_fileset_any(fileset, check_files=not skip_bad_files)
    skipped: list[dict[str, str]] = []
    good_fs: dict[str, Any] = {}
    expected: dict[str, int] = {}
    for dataset, entry in fs.items():
        md = dict(entry.get("metadata") or {})
        check_metadata(dataset, md)
        files = entry.get("files") or {}
        if isinstance(files, list | tuple):
            files = {f: "Events" for f in files}
        if not files:
            raise ConfigError(f"sample {dataset!r} lists no files")
        ok = {}
        for path, tree in files.items():
            try:
                expected[dataset] = expected.get(dataset, 0) + check_file(
                    str(path),
                    treename=tree or "Events",
                    signal=md.get("kind") == "signal",
                    extra=(md["event_group_branch"],) if md.get("event_group_branch") else (),
                )
                ok[str(path)] = tree or "Events"
            except InputFileError as exc:
                if not skip_bad_files:
                    raise
                log.warning("skipping bad file: %s", exc)
                skipped.append({"sample": dataset, "file": str(path), "reason": str(exc)})
        if ok:
            # no coffea "preload": the processor reads its branches itself, in one batched
            # request per chunk (processors.fastio.chunk_columns)
            good_fs[dataset] = {"files": ok, "metadata": md}
        if md.get("kind") == "signal":
            longer = [a for a in config.alpha_eps2_values if a < float(md["alpha_eps2"])]
            if longer:
                log.warning(
                    "%s: generated at alpha_eps2=%g; reweighting to smaller values %s (longer "
                    "lifetimes) has unbounded weights and undersampled tails (interfaces §1)",
                    dataset, float(md["alpha_eps2"]), ", ".join(f"{a:g}" for a in longer),
                )
    # metadata_cache: a fresh one per call. coffea's default is a process-wide LRU cache keyed
    # by (dataset, file, tree) that also holds the fileset's metadata: a second call in the
    # same process with changed metadata (xsec_pb, event_group_branch, ...) or a rewritten
    # file silently got the first call's values (tests/processors/test_processor.py).
    runner_kw = dict(
        schema=DarknuNanoSchema, chunksize=int(chunksize), skipbadfiles=False, metadata_cache={}
    )
    p = DarkNuProcessor(config)
    if not good_fs:
        raw: dict[str, Any] = {"chunks": {}}
    elif spec.kind == "dask":
        with dask_client(spec) as client:
            raw = processor.Runner(executor=_executor(spec, client), **runner_kw)(
                good_fs, processor_instance=p, treename="Events"
            )
    else:
        raw = processor.Runner(executor=_executor(spec), **runner_kw)(
            good_fs, processor_instance=p, treename="Events"
        )

    merged: dict[str, Any] = {}
    for key in sorted(raw.get("chunks", {})):
        _add_into(merged, raw["chunks"][key])

    samples: dict[str, Any] = {}
    quality: dict[str, Any] = {}
    for dataset, entry in fs.items():
        md = dict(entry.get("metadata") or {})
        for name, aeps in entry_names(dataset, md, config).items():
            out = merged.get(name)
            if out is None:
                continue
            meta = dict(md)
            if aeps is not None:
                meta["alpha_eps2_generated"] = md.get("alpha_eps2")
                meta["alpha_eps2"] = aeps
            stats = out.pop("stats")
            quality[name] = {**stats, "n_events_expected": expected.get(dataset, 0)}
            samples[name] = {
                "metadata": meta,
                "mll": out["mll"].to_hist(),
                "control": {c: counts.to_hist() for c, counts in out["control"].items()},
                "cutflow": {
                    ch: {cut: [float(v[0]), int(v[1])] for cut, v in cf.items()}
                    for ch, cf in out["cutflow"].items()
                },
            }
            if stats["n_nonfinite_dropped"] or stats["n_negative_weight"]:
                log.warning(
                    "%s: %d events with non-finite kinematics/weights dropped, "
                    "%d negative weights kept",
                    name,
                    stats["n_nonfinite_dropped"],
                    stats["n_negative_weight"],
                )
    from darknu import __version__
    from darknu.io import json_digest

    provenance = {
        "darknu_version": __version__,
        "config": {**config.__dict__, "chunksize": int(chunksize)},
        "config_digest": json_digest({**config.__dict__, "chunksize": int(chunksize)}),
        "executor": {"kind": spec.kind, "workers": spec.workers, "scheduler": spec.scheduler},
        "fileset": {k: sorted(map(str, (v.get("files") or {}))) for k, v in fs.items()},
        "skipped_files": skipped,
        "input_quality": quality,
        "rng": "numpy PCG64 per chunk, seeded from sha256(dataset, file uuid, entry range)",
    }
    provenance = json.loads(
        json.dumps(provenance, allow_nan=False)
    )  # JSON-native: round-trips exactly
    return {"lumi_ref_fb": float(lumi_ref_fb), "samples": samples, "provenance": provenance}
