"""Atomic, non-clobbering output: every result file darknu writes goes through here.

A result is written to a temporary file in the destination directory and renamed into
place, so a half-written file never exists under the final name, even if the process is
killed. Output directories are never reused silently: an existing non-empty directory
needs ``force=True`` (``--force`` on the command line) or ``resume=True``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from darknu.errors import OutputExistsError

log = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    Use for writers that want a file name (``uproot.recreate``, ``savefig``). On an
    exception the temporary file is removed and ``path`` is left untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and dest.exists():
        raise OutputExistsError(f"{dest} exists; pass force=True / --force to overwrite it")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp" + dest.suffix, dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + ``fsync`` + rename)."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def atomic_write_json(
    path: str | os.PathLike[str], obj: Any, *, overwrite: bool = True, indent: int = 1
) -> Path:
    """Write ``obj`` as JSON atomically. NaN/inf are refused: they are never valid results."""
    text = json.dumps(obj, indent=indent, sort_keys=False, allow_nan=False, default=_json_default)
    return atomic_write_text(path, text + "\n", overwrite=overwrite)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def prepare_output_dir(
    path: str | os.PathLike[str], *, force: bool = False, resume: bool = False
) -> Path:
    """Create ``path`` for a new result set, refusing to clobber an existing one.

    An existing non-empty directory is an error unless ``force`` (its files may be
    overwritten) or ``resume`` (finished outputs inside are kept and reused) is given.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (force or resume):
        raise OutputExistsError(
            f"output directory {out} already holds results; pass --force to overwrite "
            "or choose another directory"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def file_digest(path: str | os.PathLike[str], *, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content (used for up-to-date checks, never timestamps)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def json_digest(obj: Any) -> str:
    """Stable hex digest of a JSON-serialisable object (sorted keys).

    >>> json_digest({"b": 1, "a": [1, 2]}) == json_digest({"a": [1, 2], "b": 1})
    True
    """
    text = json.dumps(obj, sort_keys=True, default=_json_default, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def progress(iterable: Any = None, *, desc: str, total: int | None = None, unit: str = "it") -> Any:
    """A tqdm progress bar on stderr that stays quiet when not on a terminal or in CI."""
    from tqdm.auto import tqdm

    disable = os.environ.get("DARKNU_NO_PROGRESS") == "1" or None  # None: auto (off if not a tty)
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=disable, dynamic_ncols=True)


def stage_callback(log_fn: Callable[[str], None] | None = None) -> Callable[[str], None]:
    """Return a function that reports a stage message through logging (or ``log_fn``)."""
    return log_fn or log.info
