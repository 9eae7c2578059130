"""Every prompt template renders with the variables the code passes, and strictly: a missing
variable is an error, never an empty string."""

from __future__ import annotations

import jinja2
import jinja2.meta
import pytest

import prompts
from prompts import PromptError

FULL = {
    "paper": "PAPER",
    "schema": "{}",
    "plan": "PLAN",
    "config_yaml": "a: 1",
    "path": "model.py",
    "description": "DESC",
    "depends_on": ["data.py"],
    "kind": "python",
    "analysis": "ANALYSIS",
    "dependencies": [{"path": "data.py", "content": "x = 1"}],
    "interfaces": [{"path": "data.py", "content": "def load(path: str) -> list[str]"}],
    "error": "ERR",
    "schema_name": "Plan",
    "command": "bash reproduce.sh --smoke",
    "exit_code": 1,
    "timed_out": False,
    "oom_killed": False,
    "disk_limit_exceeded": False,
    "suspects": [],
    "stderr_tail": "Traceback",
    "stdout_tail": "",
    "rejected": [],
    "history": [],
    "files": [{"path": "main.py", "content": "print(1)"}],
    "reference_files": [],
    "omitted": [],
    "turns": 5,
    "requirements": [
        {
            "id": "R1",
            "text": "Use label smoothing 0.1.",
            "category": "hyperparameter",
            "where": {"section": "5.4", "anchor": "", "quote": "label smoothing of value 0.1"},
            "value": "0.1",
            "weight": 2,
            "files": ["train.py"],
            "config_key": "train.label_smoothing",
        }
    ],
    "pass_n": 1,
    "round_n": 1,
    "trace": {"R1": "LabelSmoothingLoss"},
    "text": "x = 1\n",
    "numbered": "    1  x = 1",
    "line_count": 1,
    "entries": [],
    "findings": [
        {
            "kind": "bad_call",
            "message": "main.py:5: train() has no parameter 'eps'",
            "excerpt": "> 5 | train(eps=1)",
            "target": {"file": "train.py", "symbol": "train", "excerpt": "def train(x)"},
        }
    ],
    "design": {
        "purpose": "P",
        "classes": [{"name": "M", "description": "d", "methods": []}],
        "functions": [{"name": "f", "signature": "def f(x: int) -> int", "description": "d"}],
        "config_keys": ["a.b"],
        "inputs_outputs": "",
    },
    "leaves": [{"id": "leaf-1", "requirements": "The attention scaling is 1/sqrt(d_k)."}],
    "context": {"leaf-1": ["Implement the Transformer"]},
    "shown": 2,
    "total": 3,
    "number": "3",
    "section_number": "3.2",
    "section_heading": "Scaled Dot-Product Attention",
}


def _variables(name: str) -> set[str]:
    env = jinja2.Environment()
    source = prompts._load(name)
    return jinja2.meta.find_undeclared_variables(env.parse(source))


@pytest.mark.parametrize("name", [n for n in prompts.names() if n != "plan_view.md"])
def test_template_renders_with_known_variables(name: str) -> None:
    needed = _variables(name)
    unknown = needed - FULL.keys()
    assert not unknown, f"{name} uses variables no caller provides: {unknown}"
    text = prompts.render(name, **{k: FULL[k] for k in needed})
    assert text.strip()


@pytest.mark.parametrize("name", [n for n in prompts.names() if _variables(n)])
def test_missing_variable_is_an_error(name: str) -> None:
    with pytest.raises(PromptError):
        prompts.render(name)


def test_unknown_template_is_an_error() -> None:
    with pytest.raises(PromptError, match="no prompt template"):
        prompts.render("does_not_exist.md")


def test_every_stage_shares_the_system_message_and_paper_prefix() -> None:
    """Planner, analyst and coder requests open with the same bytes: the shared system message,
    then the paper; analyst and coder also share the plan and config after it."""
    turn1 = prompts.render("planner_overall.md", paper="PAPER", schema="{}", turns=5)
    analyst = prompts.render(
        "analyst_file.md", **{k: FULL[k] for k in _variables("analyst_file.md")}
    )
    coder = prompts.render("coder_file.md", **{k: FULL[k] for k in _variables("coder_file.md")})
    paper_block = "<paper>\nPAPER\n</paper>\n"
    assert (
        turn1.startswith(paper_block)
        and analyst.startswith(paper_block)
        and coder.startswith(paper_block)
    )
    context = analyst[: analyst.index("<config_yaml>")]
    assert coder.startswith(context)


def test_per_file_part_comes_last_for_prefix_caching() -> None:
    """The paper and the plan open every analyst and coder request; the file's part follows."""
    for name in ("analyst_file.md", "coder_file.md"):
        needed = _variables(name)
        a = prompts.render(name, **{**{k: FULL[k] for k in needed}, "path": "a.py"})
        b = prompts.render(name, **{**{k: FULL[k] for k in needed}, "path": "b.py"})
        prefix = a[: a.index("a.py")]
        assert b.startswith(prefix)
        assert "PAPER" in prefix and "PLAN" in prefix
