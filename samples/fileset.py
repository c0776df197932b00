"""AGC-style fileset JSON: write/merge entries atomically and load them with validation.

Format (docs/interfaces.md §1)::

    {"<sample>__nominal": {"files": {"<path>": "Events", ...}, "metadata": {...}}}

File paths are stored relative to the fileset's directory when they lie below it (so a
sample directory can be moved) and are returned absolute by :func:`load_fileset`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from darknu.errors import InputFileError, OutputExistsError
from darknu.io import atomic_write_json

log = logging.getLogger(__name__)

#: Metadata every dataset must carry for the processors to normalise it.
REQUIRED_METADATA = ("xsec_pb", "sum_genweight")
TREE_NAME = "Events"


def load_fileset(
    path: str | os.PathLike[str], *, check_files: bool = True
) -> dict[str, dict[str, Any]]:
    """Read and validate a fileset JSON; return it with absolute file paths (coffea-ready).

    Raises :class:`InputFileError` naming the file (and line/column for malformed JSON),
    the dataset and the key that is missing or wrong; with ``check_files`` every listed
    ROOT file must exist.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"fileset {p} does not exist")
    text = p.read_text()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"fileset {p} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return _validate(raw, p, check_files=check_files)


def _validate(raw: Any, p: Path, *, check_files: bool) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise InputFileError(
            f"fileset {p}: top level must be an object {{dataset: {{files, metadata}}}}"
        )
    out: dict[str, dict[str, Any]] = {}
    for name, entry in raw.items():
        where = f"fileset {p}, dataset {name!r}"
        if "__" not in name:
            raise InputFileError(f"{where}: name must be '<sample>__<variation>'")
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
            raise InputFileError(f"{where}: needs 'files': {{path: tree name}}")
        meta = entry.get("metadata")
        if not isinstance(meta, dict):
            raise InputFileError(f"{where}: needs a 'metadata' object")
        for key in REQUIRED_METADATA:
            if key not in meta:
                raise InputFileError(f"{where}: metadata lacks required key {key!r}")
            value = meta[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputFileError(f"{where}: metadata {key} = {value!r} must be a number > 0")
        if not entry["files"]:
            raise InputFileError(f"{where}: 'files' is empty")
        files: dict[str, str] = {}
        for fname, tree in entry["files"].items():
            fpath = Path(fname)
            if not fpath.is_absolute():
                fpath = (p.parent / fpath).resolve()
            if check_files and not fpath.is_file():
                raise InputFileError(f"{where}: listed file {fpath} does not exist")
            files[str(fpath)] = str(tree)
        out[name] = {"files": files, "metadata": dict(meta)}
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of ``path`` between processes (POSIX advisory lock)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_fileset(
    path: str | os.PathLike[str],
    entries: Mapping[str, Mapping[str, Any]],
    *,
    force: bool = False,
) -> Path:
    """Merge ``entries`` into the fileset at ``path`` (created if absent), atomically.

    An existing entry of the same name with different content is replaced only with
    ``force``; otherwise :class:`OutputExistsError` names it. Paths below the fileset's
    directory are stored relative to it.
    """
    p = Path(path)
    with _locked(p):
        current: dict[str, Any] = {}
        if p.exists():
            current = json.loads(p.read_text()) if p.stat().st_size else {}
            _validate(current, p, check_files=False)
        for name, entry in entries.items():
            new = {
                "files": {_relative(Path(f), p.parent): t for f, t in entry["files"].items()},
                "metadata": dict(entry["metadata"]),
            }
            old = current.get(name)
            if old is not None and old != new:
                if not force:
                    raise OutputExistsError(
                        f"fileset {p} already has a different entry {name!r}; pass force=True / "
                        "--force to replace it or use another output directory"
                    )
                log.warning("replacing fileset entry %s in %s", name, p)
            current[name] = new
        _validate(current, p, check_files=False)
        atomic_write_json(p, current)
    return p


def _relative(f: Path, base: Path) -> str:
    try:
        return str(f.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(f.resolve())
