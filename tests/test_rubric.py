"""PaperBench rubrics: the tree read in PaperBench's format, Code Development leaves graded by a
scripted grader through ``evaluate_run``, scores aggregated up the tree by weight (nested nodes,
other categories left out), and the per-leaf grades in eval.json and the report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from paper2code.demo_run import demo_paper
from paper2code.errors import Paper2CodeError
from paper2code.evaluate import evaluate_run
from paper2code.llm import Clients
from paper2code.pipeline import Pipeline
from paper2code.progress import SilentReporter
from paper2code.report import render_html, render_markdown
from paper2code.rubric import aggregate, load_rubric, not_graded
from paper2code.settings import Settings
from paper2code.testing.scripted_client import ScriptedChatCompletionClient
from paper2code.testing.transcript import ScriptedReply, Transcript


def leaf(node_id: str, category: str, weight: float = 1) -> dict[str, Any]:
    return {
        "id": node_id,
        "requirements": f"requirement {node_id}",
        "weight": weight,
        "sub_tasks": [],
        "task_category": category,
        "finegrained_task_category": "Method Implementation",
    }


def node(node_id: str, weight: float, *children: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "requirements": f"requirement {node_id}",
        "weight": weight,
        "sub_tasks": list(children),
        "task_category": None,
        "finegrained_task_category": None,
    }


CD, EX, RA = "Code Development", "Code Execution", "Result Analysis"
TREE = node(
    "root",
    1,
    node("A", 2, leaf("a1", CD), leaf("a2", CD, 3), leaf("a3", EX, 5)),
    node("B", 1, node("B1", 1, leaf("b1", CD), leaf("b2", RA)), leaf("b3", CD, 2)),
    node("C", 4, leaf("c1", RA)),
)
# a1 = 1, a2 = (1 + 0) / 2 samples, b1 = 0, b3 = 1:
# A = (1·1 + 3·0.5) / 4 = 0.625; B1 = 0; B = (1·0 + 2·1) / 3; C has no graded leaf: left out.
EXPECTED_ROOT = (2 * 0.625 + 1 * (2 / 3)) / 3


def test_scores_aggregate_by_weight_like_paperbench(tmp_path: Path) -> None:
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(TREE))
    root = load_rubric(path)
    assert [x.id for x in root.graded_leaves()] == ["a1", "a2", "b1", "b3"]
    assert not_graded(root) == {EX: 1, RA: 2}
    tree = aggregate(root, {"a1": 1.0, "a2": 0.5, "b1": 0.0, "b3": 1.0})
    by_id = {c.id: c for c in tree.children}
    assert by_id["A"].score == pytest.approx(0.625)
    assert by_id["B"].children[0].score == 0.0
    assert by_id["B"].score == pytest.approx(2 / 3)
    assert by_id["C"].score is None
    assert tree.score == pytest.approx(EXPECTED_ROOT)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"id": "r", "weight": 1}), "not a PaperBench rubric"),
        (json.dumps(node("r", 1, leaf("x", CD), leaf("x", RA))), "ids repeat"),
        (json.dumps(node("r", 1, leaf("x", RA))), "no leaf has task_category"),
    ],
)
def test_a_rubric_that_is_not_one_is_refused_clearly(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "rubric.json"
    path.write_text(content)
    with pytest.raises(Paper2CodeError, match=message):
        load_rubric(path)


GRADES = {"a1": [1, 1], "a2": [1, 0], "b1": [0, 0], "b3": [1, 1]}


def grader() -> Any:
    seen: dict[str, int] = {}

    def respond(messages: list[dict[str, Any]]) -> ScriptedReply:
        last = messages[-1]["content"] or ""
        if "Grade these rubric leaves" not in last:  # the reference-free judge
            comps = [
                {"component": c, "found": [], "missing": [], "incorrect": [], "score": 4}
                for c in ("data processing", "method", "training", "evaluation")
            ]
            return ScriptedReply(
                content=json.dumps({"components": comps, "score": 4, "summary": "ok"})
            )
        ids = re.findall(r"^- (\w+): requirement", last.split("Grade these rubric leaves")[1], re.M)
        grades = []
        for i in ids:
            k = seen.get(i, 0)
            seen[i] = k + 1
            score = GRADES[i][k]
            ev = [{"file": "model.py", "start_line": 6, "end_line": 9}] if score else []
            grades.append({"id": i, "score": score, "explanation": f"{i} seen", "evidence": ev})
        return ScriptedReply(content=json.dumps({"grades": grades}))

    return respond


async def test_rubric_graded_through_eval_gives_the_hand_computed_score(tmp_path: Path) -> None:
    run = tmp_path / "run"
    settings = Settings()
    settings.sandbox.kind = "none"  # type: ignore[assignment]
    scripted = ScriptedChatCompletionClient(Transcript.load())
    clients = Clients(settings, run, factory=lambda llm, model: scripted)
    await Pipeline(settings, run, clients=clients, reporter=SilentReporter()).run(
        demo_paper(tmp_path / "paper.md"), stages=["ingest", "plan", "analyze", "code", "verify"]
    )
    rubric = tmp_path / "rubric.json"
    rubric.write_text(json.dumps(TREE))
    settings.eval.rubric_batch = 3  # two batches: a1 a2 b1 | b3
    judge = ScriptedChatCompletionClient(grader())
    result = await evaluate_run(
        run, settings, judge, structured_output=True, rubric=rubric, samples=2
    )
    r = result.rubric
    assert r is not None and r.score == pytest.approx(EXPECTED_ROOT, abs=1e-6)
    assert r.graded_leaves == 4 and r.not_graded == {EX: 1, RA: 2}
    leaves = {x.id: x for x in r.leaves}
    assert leaves["a2"].samples == [1, 0] and leaves["a2"].score == 0.5
    assert leaves["a1"].evidence[0].file == "model.py" and leaves["a1"].evidence[0].excerpt
    grading_calls = [m for m in judge.requests if "Grade these rubric leaves" in m[-1]["content"]]
    assert len(grading_calls) == 2 * 2  # 2 batches × 2 samples
    assert "    1  " in grading_calls[0][-1]["content"]  # files are shown with line numbers
    saved = json.loads((run / "eval.json").read_text())
    assert saved["rubric"]["tree"]["children"][2]["score"] is None  # C: nothing graded
    md = render_markdown(run)
    assert "PaperBench rubric" in md and "1 Code Execution" in md and "| a2 |" in md
    assert 'id="rubric-leaves"' in render_html(run)
