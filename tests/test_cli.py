"""The CLI boundary: options validated before any work (exit 2, one line, nothing written), and
``debug --max-cost`` stopping before a model call that could exceed it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import ScriptedReply

BIN = Path(sys.executable).parent / "paper2code"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "-3"], "--concurrency"),
        (["--max-cost", "-1"], "--max-cost"),
        (["--max-cost", "0"], "--max-cost"),
        (["--max-debug-iters", "0"], "--max-debug-iters"),
        (["--sandbox", "vm"], "--sandbox"),
    ],
)
def test_bad_options_exit_2_at_once_with_nothing_written(
    tmp_path: Path, args: list[str], option: str
) -> None:
    paper = tmp_path / "paper.md"
    paper.write_text("# A paper\n\n## 1 Method\n\nText.\n")
    out = tmp_path / "run"
    started = time.monotonic()
    r = cli("generate", str(paper), "--out", str(out), "--base-url", "http://127.0.0.1:9/v1", *args)
    assert time.monotonic() - started < 3
    assert r.returncode == 2, r.stderr
    assert option in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def _failing_repo(root: Path) -> Path:
    root.mkdir()
    (root / "main.py").write_text("x = 1\nprint(x + 'a')\n")  # no deterministic fix applies
    return root


def _debugger_fixes_it(messages: list[dict[str, Any]]) -> ScriptedReply:
    edit = {"path": "main.py", "search": "print(x + 'a')", "replace": "print(str(x) + 'a')"}
    return ScriptedReply(content=json.dumps({"rationale": "str + int", "edits": [edit]}))


@pytest.mark.slow
def test_debug_max_cost_stops_before_the_model_is_called(tmp_path: Path) -> None:
    repo = _failing_repo(tmp_path / "repo")
    prices = {"PAPER2CODE_LLM__PRICES": json.dumps({"debug-model": [1000.0, 500.0, 1000.0]})}
    common = ["--sandbox", "local", "--model", "debug-model", "--command", "python main.py"]
    with LoopbackServer(_debugger_fixes_it, model="debug-model") as server:
        capped = cli(
            "debug", str(repo), "--out", str(tmp_path / "capped"), "--base-url",
            server.base_url, "--max-cost", "0.01", *common, env=prices,
        )  # fmt: skip
        assert server.requests == []
        uncapped = cli(
            "debug", str(repo), "--out", str(tmp_path / "uncapped"), "--base-url",
            server.base_url, *common, env=prices,
        )  # fmt: skip
        assert len(server.requests) >= 1
    assert capped.returncode == 1, capped.stderr
    summary = json.loads((tmp_path / "capped" / "debug" / "summary.json").read_text())
    assert summary["status"] == "stopped" and "cost" in summary["reason"]
    assert uncapped.returncode == 0, uncapped.stderr
    done = json.loads((tmp_path / "uncapped" / "debug" / "summary.json").read_text())
    assert done["status"] == "passed"


def test_debug_refuses_a_stale_session_folder_without_resume_or_force(tmp_path: Path) -> None:
    repo = _failing_repo(tmp_path / "repo")
    out = tmp_path / "session"
    args = ["debug", str(repo), "--out", str(out), "--no-model", "--sandbox", "local"]
    args += ["--command", "python main.py"]
    first = cli(*args)
    assert first.returncode == 1 and (out / "debug" / "summary.json").exists()
    (repo / "main.py").write_text("print('fixed')\n")
    stale = cli(*args)
    assert stale.returncode == 2 and "--resume" in stale.stderr and "--force" in stale.stderr
    forced = cli(*args, "--force")
    assert forced.returncode == 0, forced.stderr  # started again from the fixed original
    assert (out / "repo" / "main.py").read_text() == "print('fixed')\n"
