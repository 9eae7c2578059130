"""After interface-first coding, the static consistency check and its reconciliation round:
a wrong keyword argument and an import of a name that does not exist are found and fixed before
anything runs; code that is consistent passes untouched, with no edit and no extra call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paper2code.demo_run import demo_paper, demo_settings
from paper2code.llm import build_clients
from paper2code.pipeline import Pipeline
from paper2code.progress import SilentReporter
from paper2code.runstore import RunStore
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import ScriptedReply, Transcript, requested_file

DEMO = Transcript.load()
assert DEMO.files_dir is not None
MAIN = (DEMO.files_dir / "main.py").read_text()
MODEL = (DEMO.files_dir / "model.py").read_text()
WITH_NUMPY = MODEL.replace(
    "from __future__ import annotations\n",
    "from __future__ import annotations\n\nimport numpy as np\n",
)
BROKEN_MAIN = (
    MAIN.replace(
        "from evaluate import accuracy, expected_calibration_error",
        "from evaluate import accuracy, calibration_error",
    )
    .replace('"ece": expected_calibration_error(', '"ece": calibration_error(')
    .replace("train(model, X, y, epsilon=eps,", "train(model, X, y, eps=eps,")
)
FIXES = [
    {
        "path": "main.py",
        "search": "from evaluate import accuracy, calibration_error",
        "replace": "from evaluate import accuracy, expected_calibration_error",
    },
    {
        "path": "main.py",
        "search": '"ece": calibration_error(',
        "replace": '"ece": expected_calibration_error(',
    },
    {"path": "main.py", "search": "eps=eps,", "replace": "epsilon=eps,"},
]


def responder(main: str) -> Any:
    def respond(messages: list[dict[str, Any]]) -> ScriptedReply:
        last = messages[-1].get("content") or ""
        if "Write the complete contents of" in last and requested_file(last) in (
            "main.py",
            "model.py",
        ):
            path = requested_file(last)
            content = main if path == "main.py" else WITH_NUMPY
            return ScriptedReply(
                content=json.dumps({"path": path, "content": content, "implements": []})
            )
        if "The static check found" in last:
            rationale = "use the names and parameters evaluate.py and train.py define"
            return ScriptedReply(content=json.dumps({"rationale": rationale, "edits": FIXES}))
        return DEMO.respond(messages)

    return respond


async def code(tmp_path: Path, main: str) -> tuple[Path, LoopbackServer]:
    out = tmp_path / "run"
    with LoopbackServer(responder(main)) as server:
        settings = demo_settings(server.base_url)
        settings.sandbox.kind = "none"  # type: ignore[assignment]
        assert settings.pipeline.coding_order == "interface"  # the default
        clients, structured = build_clients(settings, out)
        p = Pipeline(
            settings, out, clients=clients, reporter=SilentReporter(), structured_output=structured
        )
        await p.run(demo_paper(tmp_path / "paper.md"), stages=["ingest", "plan", "analyze", "code"])
    return out, server


async def test_a_wrong_keyword_and_a_missing_name_are_reconciled_before_any_run(
    tmp_path: Path,
) -> None:
    out, server = await code(tmp_path, BROKEN_MAIN)
    done = json.loads((out / "coding" / "consistency.json").read_text())
    kinds = sorted(f["kind"] for f in done["before"]["findings"])
    assert kinds == ["bad_call", "missing_name"], done["before"]["findings"]
    messages = " ".join(f["message"] for f in done["before"]["findings"])
    assert "calibration_error" in messages and "'eps'" in messages
    assert done["after"]["findings"] == [] and len(done["fixed"]) == 2
    assert done["calls"] == 1 and done["files"]["main.py"]["applied"] == 3
    fixed = (out / "coding" / "repo" / "main.py").read_text()
    assert fixed == MAIN  # exactly the consistent version
    reconciler = [
        b for b in server.requests if "The static check found" in b["messages"][-1]["content"]
    ]
    assert len(reconciler) == 1
    assert not (out / "debug").exists()  # nothing ran
    summary = RunStore(out).manifest().consistency
    assert summary is not None and (summary.before, summary.after, summary.calls) == (2, 0, 1)


async def test_consistent_code_passes_the_check_untouched(tmp_path: Path) -> None:
    out, server = await code(tmp_path, MAIN)
    done = json.loads((out / "coding" / "consistency.json").read_text())
    assert done["before"]["findings"] == [] and done["calls"] == 0 and done["files"] == {}
    assert done["before"]["checked"]["calls"] > 0  # it did check something
    assert not any(
        "The static check found" in b["messages"][-1]["content"] for b in server.requests
    )
    assert (out / "coding" / "repo" / "main.py").read_text() == MAIN


async def test_the_report_shows_what_the_check_found_and_fixed(tmp_path: Path) -> None:
    from paper2code.report import render_html, render_markdown

    out, _ = await code(tmp_path, BROKEN_MAIN)
    md = render_markdown(out)
    assert "2 finding(s) (1 missing_name, 1 bad_call) → 0 after one reconciliation round" in md
    assert "Fixed:" in md and "calibration_error" in md
    assert 'id="consistency"' in render_html(out)
