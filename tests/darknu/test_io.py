"""Atomic output and the no-silent-overwrite rule (issue 7: faults and outputs)."""

import json
import os

import pytest

from darknu.errors import OutputExistsError
from darknu.io import atomic_path, atomic_write_json, prepare_output_dir


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    dest = tmp_path / "result.json"
    atomic_write_json(dest, {"limit": 1.0})
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(dest) as tmp:
            tmp.write_text('{"limit": 2.')  # half-written
            raise RuntimeError("boom")
    # the old complete file is untouched and no temporary file remains
    assert json.loads(dest.read_text()) == {"limit": 1.0}
    assert sorted(os.listdir(tmp_path)) == ["result.json"]


def test_atomic_write_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", {"limit": float("nan")})
    assert not (tmp_path / "x.json").exists()


def test_atomic_write_no_overwrite(tmp_path):
    dest = tmp_path / "a.json"
    atomic_write_json(dest, 1)
    with pytest.raises(OutputExistsError, match="a.json exists"):
        atomic_write_json(dest, 2, overwrite=False)
    assert json.loads(dest.read_text()) == 1


def test_output_dir_not_overwritten_without_force(tmp_path):
    out = tmp_path / "out"
    prepare_output_dir(out)
    (out / "limits.json").write_text("{}")
    with pytest.raises(OutputExistsError, match="--force"):
        prepare_output_dir(out)
    assert prepare_output_dir(out, force=True) == out
    assert prepare_output_dir(out, resume=True) == out
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError, match="not a directory"):
        prepare_output_dir(tmp_path / "file", force=True)
