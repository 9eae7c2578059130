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
from paper2code.testing.transcript import ScriptedReply, Transcript

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
        (["--coding-order", "random"], "--coding-order"),
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


def _paper(tmp_path: Path) -> Path:
    paper = tmp_path / "paper.md"
    paper.write_text("# A paper\n\n## 1 Method\n\nText.\n")
    return paper


def test_an_unreachable_endpoint_is_reported_at_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    started = time.monotonic()
    r = cli(
        "generate", str(_paper(tmp_path)), "--out", str(out), "--base-url", "http://127.0.0.1:9/v1"
    )
    assert time.monotonic() - started < 3
    assert r.returncode == 2 and "cannot reach http://127.0.0.1:9/v1" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_a_refused_key_and_an_unknown_model_are_reported_at_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with LoopbackServer(_debugger_fixes_it, api_key="right-key") as server:
        base = ["generate", str(_paper(tmp_path)), "--out", str(out), "--base-url", server.base_url]
        wrong_key = cli(*base, "--model", "loopback-model", env={"OPENAI_API_KEY": "wrong"})
        assert wrong_key.returncode == 2 and "refused the API key (401)" in wrong_key.stderr
        unknown = cli(*base, "--model", "gpt-9", env={"OPENAI_API_KEY": "right-key"})
        assert unknown.returncode == 2 and "does not serve model gpt-9" in unknown.stderr
        assert "loopback-model" in unknown.stderr  # what it does serve
        assert server.requests == []  # no chat call was made, let alone paid for
        skipped = cli(
            *base, "--model", "gpt-9", "--stages", "ingest",
            env={"OPENAI_API_KEY": "right-key", "PAPER2CODE_LLM__PREFLIGHT": "false"},
        )  # fmt: skip
        assert skipped.returncode == 0, skipped.stderr
    assert not (tmp_path / "run" / "planning").exists() and (out / "paper" / "paper.json").exists()


def _patched_run(monkeypatch: pytest.MonkeyPatch, status: str) -> None:
    """Pipeline.run records ``status`` in run.json, then a signal arrives (KeyboardInterrupt)."""
    from paper2code.pipeline import Pipeline

    async def run(self: Pipeline, paper: Path, **_: Any) -> None:
        self._claim(paper, None)
        with self.store.editing() as manifest:
            manifest.status = status  # type: ignore[assignment]
        raise KeyboardInterrupt

    monkeypatch.setattr(Pipeline, "run", run)


@pytest.mark.parametrize(("status", "code"), [("done", 0), ("interrupted", 130)])
def test_a_signal_while_exiting_keeps_a_finished_run_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: str, code: int
) -> None:
    from paper2code.cli import main

    _patched_run(monkeypatch, status)
    monkeypatch.setenv("PAPER2CODE_LLM__PREFLIGHT", "false")
    out = tmp_path / "run"
    args = [
        "generate",
        str(_paper(tmp_path)),
        "--out",
        str(out),
        "--base-url",
        "http://127.0.0.1:9/v1",
    ]
    try:
        main(args)
        seen = 0
    except SystemExit as exc:
        seen = exc.code or 0
    assert seen == code
    report = (out / "report.md").read_text()  # written in both cases
    assert ("rerun the same command to resume" in report) == (status == "interrupted")


def test_demo_resumes_by_default_and_keeps_its_paper_inside_the_run(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = cli("demo", "--out", str(out), "--sandbox", "none", timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert (out / "demo-paper.md").exists() and not (tmp_path / "demo-paper.md").exists()
    again = cli("demo", "--out", str(out), "--sandbox", "none", timeout=300)
    assert again.returncode == 0 and again.stderr.count("already done") >= 5
    fresh = cli("demo", "--out", str(out), "--sandbox", "none", "--fresh", timeout=300)
    assert fresh.returncode == 0 and "already done" not in fresh.stderr


def test_library_warnings_go_to_the_run_log_not_the_console(tmp_path: Path) -> None:
    """AutoGen warns "Resolved model mismatch" when the endpoint names its model differently
    from the name AutoGen resolved (gpt-4o → gpt-4o-2024-08-06): a warning for the log."""
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load(), model="gpt-4o") as server:
        r = cli(
            "generate", str(_paper(tmp_path)), "--out", str(out), "--base-url", server.base_url,
            "--model", "gpt-4o", "--stages", "ingest,plan",
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Resolved model mismatch" not in r.stderr and "Warning" not in r.stderr
    assert "Resolved model mismatch" in (out / "run.log").read_text()


def test_coding_order_option_sets_the_pipeline_setting() -> None:
    from paper2code.cli import settings_from_options
    from paper2code.settings import CodingOrder

    assert settings_from_options().pipeline.coding_order == CodingOrder.interface
    chosen = settings_from_options(coding_order=CodingOrder.dependency)
    assert chosen.pipeline.coding_order == "dependency"
    assert chosen.public_dict()["pipeline"]["coding_order"] == "dependency"
