"""The run directory: artifacts written atomically, and the ``run.json`` manifest.

Layout (DESIGN.md): ``run.json``, ``paper/``, ``planning/``, ``analysis/``,
``repo.generated/``, ``repo/``, ``debug/``, ``events.jsonl``, ``report.md``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paper2code.errors import RunStoreError
from sandbox import atomic

MANIFEST = "run.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunStore:
    """Reads and writes the artifacts of one run directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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
    def manifest(self) -> dict[str, Any]:
        if not self.exists(MANIFEST):
            return {}
        data = self.read_json(MANIFEST)
        if not isinstance(data, dict):
            raise RunStoreError(f"{self.path(MANIFEST)} is not a run manifest")
        return data

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        data = self.manifest()
        data.update(fields)
        data["updated_at"] = now_iso()
        self.write_json(MANIFEST, data)
        return data

    def set_stage(self, stage: str, status: str, **extra: Any) -> None:
        """Record a stage's status (``running``, ``done``, ``failed``, ``skipped``, ``stopped``)."""
        data = self.manifest()
        stages = data.setdefault("stages", {})
        entry = stages.setdefault(stage, {})
        entry["status"] = status
        if status == "running":
            entry["started_at"] = now_iso()
            entry["_t0"] = time.time()
        elif "_t0" in entry:
            entry["duration_s"] = round(
                entry.get("duration_s", 0) + time.time() - entry.pop("_t0"), 3
            )
        entry.update(extra)
        data["updated_at"] = now_iso()
        self.write_json(MANIFEST, data)
