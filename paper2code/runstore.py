"""The run directory: artifacts written atomically, and the ``run.json`` manifest (typed, see
``paper2code.manifest``; read and written only here).

Layout (DESIGN.md): ``run.json``, ``paper/``, ``planning/``, ``analysis/``,
``repo.generated/``, ``repo/``, ``debug/``, ``events.jsonl``, ``report.md``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from paper2code.errors import RunStoreError
from paper2code.manifest import RunManifest, StageRecord, StageStatus
from sandbox import atomic

MANIFEST = "run.json"


def flat(path: str) -> str:
    """``src/model.py`` → ``src__model.py``: one artifact file per repository file."""
    return path.replace("/", "__")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunStore:
    """Reads and writes the artifacts of one run directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._clock: dict[str, float] = {}
        """Stage → monotonic start time of its current attempt (never written to disk)."""

    # --------------------------------------------------------------- paths
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def exists(self, *parts: str) -> bool:
        return self.path(*parts).exists()

    # --------------------------------------------------------------- io
    def write_text(self, rel: str, text: str) -> Path:
        p = self.path(rel)
        atomic.write_text(p, text)
        return p

    def write_json(self, rel: str, data: Any) -> Path:
        p = self.path(rel)
        atomic.write_json(p, data)
        return p

    def read_json(self, rel: str) -> Any:
        p = self.path(rel)
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunStoreError(
                f"{p} is not valid JSON ({exc}); delete it to redo that step"
            ) from exc

    # --------------------------------------------------------------- manifest
    def manifest(self) -> RunManifest:
        """``run.json`` as a :class:`RunManifest` (an empty one when the run is new)."""
        if not self.exists(MANIFEST):
            return RunManifest()
        try:
            return RunManifest.model_validate(self.read_json(MANIFEST))
        except ValidationError as exc:
            raise RunStoreError(
                f"{self.path(MANIFEST)} is not a run manifest this version of paper2code can "
                f"read ({exc.error_count()} problems, first: {_first_error(exc)}); "
                "choose another --out or delete the run directory"
            ) from exc

    def save_manifest(self, manifest: RunManifest) -> None:
        manifest.updated_at = now_iso()
        self.write_json(MANIFEST, manifest.model_dump(mode="json"))

    @contextlib.contextmanager
    def editing(self) -> Iterator[RunManifest]:
        """Read the manifest, let the caller change it, write it back atomically."""
        manifest = self.manifest()
        yield manifest
        self.save_manifest(manifest)

    def set_stage(
        self,
        stage: str,
        status: StageStatus,
        *,
        error: str | None = None,
        reason: str | None = None,
        summary: str | None = None,
        resumed: bool = False,
    ) -> None:
        """Record a stage's status; ``running`` starts its clock, any other status stops it and
        adds the time to the stage's duration (kept across attempts)."""
        with self.editing() as manifest:
            record = manifest.stages.get(stage) or StageRecord(status=status)
            record.status = status
            if status == "running":
                record.started_at = now_iso()
                record.error = record.reason = None
                self._clock[stage] = time.monotonic()
            elif stage in self._clock:
                elapsed = time.monotonic() - self._clock.pop(stage)
                record.duration_s = round(record.duration_s + elapsed, 3)
            record.resumed = resumed
            if error is not None:
                record.error = error
            if reason is not None:
                record.reason = reason
            if summary is not None:
                record.summary = summary
            manifest.stages[stage] = record


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err.get('loc', ())) or '(root)'}: {err.get('msg', '')}"
