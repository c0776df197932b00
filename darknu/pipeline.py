"""Content-hashed stages: skip what is up to date, resume what was interrupted.

A :class:`Stage` has a name, a JSON description of everything it depends on (settings
and the content digests of its input files) and the files it writes. The
:class:`StageRunner` keeps ``<out>/.darknu-state.json``: for every finished stage, the
digest of its inputs and the digests of its outputs. A stage is up to date, and skipped,
when both still match: timestamps play no part. The state file is rewritten atomically
after each stage, so a run killed at any point resumes at the first unfinished stage
(stages may also resume internally, e.g. generation skips finished jobs).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darknu.errors import DarknuError
from darknu.io import atomic_write_json, file_digest, json_digest

log = logging.getLogger(__name__)

STATE_FILE = ".darknu-state.json"


@dataclass
class Stage:
    """One unit of work of a run.

    ``inputs`` must be JSON-serialisable and capture everything the outputs depend on;
    ``input_files`` are hashed by content and added to it. ``action`` does the work and
    returns the paths it wrote (they become the recorded outputs).
    """

    name: str
    action: Callable[[], Iterable[Path]]
    inputs: dict[str, Any] = field(default_factory=dict)
    input_files: Callable[[], Iterable[Path]] = lambda: ()

    def digest(self) -> str:
        from darknu import __version__

        files = sorted(str(p) for p in self.input_files())
        # the package version too: results of another darknu release are not reused
        return json_digest(
            {"inputs": self.inputs, "files": {p: file_digest(p) for p in files},
             "darknu_version": __version__}
        )


@dataclass(frozen=True)
class StageOutcome:
    name: str
    status: str  # "ran" | "up to date"
    seconds: float
    outputs: tuple[str, ...]


class StageRunner:
    """Runs stages in order against the state file of one output directory."""

    def __init__(self, out_dir: Path, *, force: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.state_path = self.out_dir / STATE_FILE
        self.force = force
        self.state: dict[str, Any] = {"stages": {}}
        if self.state_path.exists() and not force:
            try:
                self.state = json.loads(self.state_path.read_text())
            except json.JSONDecodeError as exc:  # never half-written (atomic), but be safe
                raise DarknuError(
                    f"state file {self.state_path} is corrupt ({exc}); rerun with --force"
                ) from None
        self.outcomes: list[StageOutcome] = []

    def is_up_to_date(self, stage: Stage, digest: str) -> bool:
        rec = self.state["stages"].get(stage.name)
        if self.force or rec is None or rec.get("digest") != digest:
            return False
        for path, want in rec.get("outputs", {}).items():
            p = Path(path)
            if not p.is_absolute():
                p = self.out_dir / p
            if not p.exists() or file_digest(p) != want:
                log.info("stage %s: output %s changed or missing; rerunning", stage.name, path)
                return False
        return True

    def run(self, stage: Stage) -> StageOutcome:
        start = time.perf_counter()
        digest = stage.digest()
        if self.is_up_to_date(stage, digest):
            rec = self.state["stages"][stage.name]
            outcome = StageOutcome(stage.name, "up to date", 0.0, tuple(rec.get("outputs", {})))
            log.info("stage %s: up to date, skipped", stage.name)
        else:
            log.info("stage %s: running", stage.name)
            outputs = [Path(p) for p in stage.action()]
            rec_out = {self._rel(p): file_digest(p) for p in outputs if Path(p).is_file()}
            self.state["stages"][stage.name] = {"digest": digest, "outputs": rec_out}
            atomic_write_json(self.state_path, self.state)
            outcome = StageOutcome(
                stage.name, "ran", time.perf_counter() - start, tuple(rec_out)
            )
        self.outcomes.append(outcome)
        return outcome

    def _rel(self, p: Path) -> str:
        try:
            return str(Path(p).resolve().relative_to(self.out_dir.resolve()))
        except ValueError:
            return str(Path(p).resolve())
