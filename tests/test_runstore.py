"""The typed run manifest: written and read only as a ``RunManifest``, stage clocks kept in
memory (never on disk), a manifest of another shape refused with a clear error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from paper2code.errors import RunStoreError
from paper2code.manifest import StageRecord
from paper2code.runstore import RunStore


def test_stage_durations_accumulate_and_no_timer_is_saved(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.set_stage("plan", "running")
    time.sleep(0.05)
    store.set_stage("plan", "interrupted")
    first = store.manifest().stages["plan"].duration_s
    assert first >= 0.05
    store.set_stage("plan", "running")
    raw = json.loads((tmp_path / "run.json").read_text())
    assert set(raw["stages"]["plan"]) == set(StageRecord.model_fields)  # no private timer
    time.sleep(0.05)
    store.set_stage("plan", "done", summary="5 files")
    record = store.manifest().stages["plan"]
    assert record.status == "done" and record.summary == "5 files"
    assert record.duration_s >= first + 0.05


def test_a_manifest_of_another_shape_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"status": "done", "stages": {"plan": {}}}))
    with pytest.raises(RunStoreError, match=r"stages\.plan\.status"):
        RunStore(tmp_path).manifest()


def test_editing_writes_back_typed_fields(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with store.editing() as manifest:
        manifest.notes.append("scripted")
        manifest.status = "stopped"
    again = store.manifest()
    assert again.notes == ["scripted"] and again.status == "stopped"
    assert again.updated_at is not None
