"""Fileset JSON: validation errors name file, line/column, dataset and key; merging is safe."""

from __future__ import annotations

import json

import pytest

from darknu.errors import InputFileError, OutputExistsError
from samples.fileset import load_fileset, update_fileset

META = {"xsec_pb": 1.5, "sum_genweight": 10.0, "kind": "signal"}


def _write(path, obj):
    path.write_text(json.dumps(obj, indent=1))
    return path


def test_roundtrip_relative_paths(tmp_path):
    root = tmp_path / "a.root"
    root.write_bytes(b"")
    fs = update_fileset(
        tmp_path / "fileset.json",
        {"sig__nominal": {"files": {str(root): "Events"}, "metadata": META}},
    )
    raw = json.loads(fs.read_text())
    assert list(raw["sig__nominal"]["files"]) == ["a.root"]  # stored relative
    moved = tmp_path.rename(tmp_path.with_name("moved"))
    loaded = load_fileset(moved / "fileset.json")
    assert list(loaded["sig__nominal"]["files"]) == [str((moved / "a.root").resolve())]
    assert loaded["sig__nominal"]["metadata"] == META


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"fileset .*nope.json does not exist"):
        load_fileset(tmp_path / "nope.json")


def test_malformed_json_gives_line_and_column(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(
        '{\n "sig__nominal": {\n  "files": {"a.root": "Events"},\n  "metadata": {,}\n }\n}\n'
    )
    with pytest.raises(
        InputFileError, match=r"bad.json is not valid JSON: .* at line 4, column 16"
    ):
        load_fileset(p)


@pytest.mark.parametrize("key", ["xsec_pb", "sum_genweight"])
def test_missing_metadata_key_names_dataset_and_key(tmp_path, key):
    meta = {k: v for k, v in META.items() if k != key}
    p = _write(
        tmp_path / "f.json", {"wjets__nominal": {"files": {"x.root": "Events"}, "metadata": meta}}
    )
    with pytest.raises(
        InputFileError, match=rf"dataset 'wjets__nominal': metadata lacks required key '{key}'"
    ):
        load_fileset(p, check_files=False)


def test_bad_values_and_missing_root_file(tmp_path):
    p = _write(
        tmp_path / "f.json",
        {"w__nominal": {"files": {"x.root": "Events"}, "metadata": {**META, "xsec_pb": -1}}},
    )
    with pytest.raises(InputFileError, match="xsec_pb = -1 must be a number > 0"):
        load_fileset(p, check_files=False)
    p = _write(
        tmp_path / "g.json", {"w__nominal": {"files": {"x.root": "Events"}, "metadata": META}}
    )
    with pytest.raises(
        InputFileError, match=r"dataset 'w__nominal': listed file .*x.root does not exist"
    ):
        load_fileset(p)
    p = _write(tmp_path / "h.json", {"w": {"files": {"x.root": "Events"}, "metadata": META}})
    with pytest.raises(InputFileError, match="<sample>__<variation>"):
        load_fileset(p, check_files=False)


def test_update_refuses_to_clobber_a_different_entry(tmp_path):
    fs = tmp_path / "fileset.json"
    entry = {"files": {str(tmp_path / "a.root"): "Events"}, "metadata": META}
    update_fileset(fs, {"s__nominal": entry})
    update_fileset(fs, {"s__nominal": entry})  # identical: fine
    update_fileset(fs, {"t__nominal": entry})  # another entry: merged
    assert set(json.loads(fs.read_text())) == {"s__nominal", "t__nominal"}
    changed = {**entry, "metadata": {**META, "xsec_pb": 2.0}}
    with pytest.raises(OutputExistsError, match="s__nominal"):
        update_fileset(fs, {"s__nominal": changed})
    update_fileset(fs, {"s__nominal": changed}, force=True)
    assert json.loads(fs.read_text())["s__nominal"]["metadata"]["xsec_pb"] == 2.0
