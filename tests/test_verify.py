"""The verify stage: requirements extracted in planning (validated and retried like every
structured reply), checked statically and by a scripted verifier, refined, re-verified, and
shown in the ledger, run.json and the report."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from agents.base import AgentOptions
from agents.verifier import Refiner, Verifier
from paper2code.demo_run import demo_paper, demo_settings
from paper2code.llm import build_clients
from paper2code.pipeline import Pipeline
from paper2code.progress import SilentReporter
from paper2code.report import render_html, render_markdown
from paper2code.runstore import RunStore
from paper2code.schemas import Plan
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.scripted_client import ScriptedChatCompletionClient
from paper2code.testing.transcript import ScriptedReply, Transcript
from paper2code.verify import VerifyStage


def pipeline(server: LoopbackServer, out: Path) -> Pipeline:
    settings = demo_settings(server.base_url)
    settings.sandbox.kind = "none"  # type: ignore[assignment]
    clients, structured = build_clients(settings, out)
    return Pipeline(
        settings, out, clients=clients, reporter=SilentReporter(), structured_output=structured
    )


async def test_missing_requirement_is_refined_and_reverified(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load()) as server:
        outcome = await pipeline(server, out).run(demo_paper(tmp_path / "paper.md"))
    assert outcome.status == "done"
    ledger = json.loads((out / "verify" / "ledger.json").read_text())
    entries = {e["requirement"]["id"]: e for e in ledger["entries"]}
    assert len(entries) == 23 and [a["id"] for a in ledger["assumptions"]] == ["A1"]
    assert entries["R23"]["history"] == ["missing", "implemented"]
    assert entries["R23"]["method"] == "verifier"
    assert entries["R23"]["evidence"][0]["excerpt"].startswith("def format_table")
    # hyperparameters were decided statically from config.yaml, with the paper's values
    assert entries["R17"]["method"] == "static" and entries["R17"]["status"] == "implemented"
    assert ledger["coverage_before"] < 1.0 == ledger["coverage_after"]
    (round1,) = ledger["rounds"]
    assert round1["fixed"] == ["R23"] and round1["files_changed"] == ["main.py"]
    assert (round1["lines_added"], round1["lines_deleted"]) == (9, 0)
    # the refinement is in the snapshot the repair loop starts from, not in the coder's draft
    assert "format_table" in (out / "repo.generated" / "main.py").read_text()
    assert "format_table" not in (out / "coding" / "repo" / "main.py").read_text()
    manifest = RunStore(out).manifest()
    assert manifest.requirements is not None and manifest.requirements.unmet == 0
    assert manifest.usage.stages["verify"].calls == 7
    md = render_markdown(out)
    assert "missing → implemented" in md and "verifier's judgement" in md
    assert "| reporting | 1 | 1 |" in md
    assert 'id="requirements-coverage"' in render_html(out)


async def test_extraction_reply_that_does_not_validate_is_retried(tmp_path: Path) -> None:
    transcript = Transcript.load()
    good: dict[str, str] = {}

    def respond(messages: list[dict[str, Any]]) -> ScriptedReply:
        last = messages[-1].get("content") or ""
        if "Turn 4 of 5" in last:
            good["reply"] = transcript.respond(messages).content or ""
            bad = json.loads(good["reply"])
            bad["requirements"][0]["files"] = ["no_such_file.py"]  # not a planned file
            return ScriptedReply(content=json.dumps(bad))
        if "does not validate as RequirementsLedger" in last:
            return ScriptedReply(content=good["reply"])
        return transcript.respond(messages)

    out = tmp_path / "run"
    with LoopbackServer(respond) as server:
        p = pipeline(server, out)
        p.options = AgentOptions(False, 2)  # JSON mode: the reply is validated here
        await p.run(demo_paper(tmp_path / "paper.md"), stages=["ingest", "plan"])
        lasts = [r["messages"][-1]["content"] for r in server.requests]
        retry = next(m for m in lasts if "does not validate" in m)
    assert "does not validate as RequirementsLedger" in retry and "files" in retry
    assert (
        len(
            Plan.model_validate_json(
                (out / "planning" / "plan.json").read_text()
            ).requirements.requirements
        )
        == 24
    )


def test_static_check_catches_a_wrong_config_value_and_refinement_fixes_it(
    tmp_path: Path,
) -> None:
    plan = _demo_plan(tmp_path)
    store = RunStore(tmp_path / "run")
    draft = store.path("verify", "repo")
    draft.mkdir(parents=True)
    (draft / "main.py").write_text("lr = config['optimization']['lr']\n")
    (draft / "config.yaml").write_text(plan.config.config_yaml.replace("lr: 0.5", "lr: 0.05"))
    only = [r for r in plan.requirements.requirements if r.id == "R15"]
    plan = plan.model_copy(
        update={"requirements": plan.requirements.model_copy(update={"requirements": only})}
    )
    fix = {"path": "config.yaml", "search": "lr: 0.05", "replace": "lr: 0.5"}
    client = ScriptedChatCompletionClient(
        [{"system": "You complete", "json": {"rationale": "the paper's lr", "edits": [fix]}}]
    )
    options = AgentOptions(True)
    stage = VerifyStage(
        store,
        plan,
        verifier=Verifier(client, options, repo=draft),
        refiner=Refiner(client, options, repo=draft),
        rounds=2,
        limit=asyncio.Semaphore(2),
        reporter=SilentReporter(),
        trace={},
    )
    ledger = asyncio.run(stage.run())
    (entry,) = ledger.entries
    assert entry.history == ["contradicted", "implemented"] and entry.method == "static"
    assert "lr: 0.5" in (draft / "config.yaml").read_text()
    assert ledger.rounds[0].fixed == ["R15"] and ledger.rounds[0].files_changed == ["config.yaml"]
    assert len(client.requests) == 1  # one refiner call; the static checks needed no model


def _demo_plan(tmp_path: Path) -> Plan:
    out = tmp_path / "planned"
    with LoopbackServer(Transcript.load()) as server:
        asyncio.run(
            pipeline(server, out).run(demo_paper(tmp_path / "p.md"), stages=["ingest", "plan"])
        )
    return Plan.model_validate_json((out / "planning" / "plan.json").read_text())
