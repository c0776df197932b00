"""Stage skipping by content hash and resumption after an interruption."""

import pytest

from darknu.pipeline import Stage, StageRunner


def _writer(path, text, calls):
    def action():
        calls.append(path.name)
        path.write_text(text)
        return [path]

    return action


def test_up_to_date_stage_is_skipped_and_changes_rerun(tmp_path):
    calls = []
    src = tmp_path / "input.txt"
    src.write_text("a")
    out = tmp_path / "out.txt"

    def stage(setting):
        return Stage("s", _writer(out, "x", calls), inputs={"k": setting}, input_files=lambda: [src])

    StageRunner(tmp_path).run(stage(1))
    assert StageRunner(tmp_path).run(stage(1)).status == "up to date"
    assert calls == ["out.txt"]
    # a changed setting, a changed input file's content, a tampered output: each reruns
    assert StageRunner(tmp_path).run(stage(2)).status == "ran"
    src.write_text("b")
    assert StageRunner(tmp_path).run(stage(2)).status == "ran"
    out.write_text("tampered")
    assert StageRunner(tmp_path).run(stage(2)).status == "ran"
    assert StageRunner(tmp_path, force=True).run(stage(2)).status == "ran"
    assert len(calls) == 5


def test_interrupted_run_resumes_at_first_unfinished_stage(tmp_path):
    calls = []
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"

    def crash():
        raise KeyboardInterrupt

    runner = StageRunner(tmp_path)
    runner.run(Stage("a", _writer(a, "1", calls)))
    with pytest.raises(KeyboardInterrupt):
        runner.run(Stage("b", crash))
    resumed = StageRunner(tmp_path)
    assert resumed.run(Stage("a", _writer(a, "1", calls))).status == "up to date"
    assert resumed.run(Stage("b", _writer(b, "2", calls))).status == "ran"
    assert calls == ["a.txt", "b.txt"]
