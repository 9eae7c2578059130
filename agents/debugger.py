"""The debugger: the one LLM role of the repair loop.

An AutoGen ``AssistantAgent`` with two read-only tools (``read_file``, ``search_repo``) over the
working copy, given the failure report (suspects with excerpts, stderr tail, what the plan
intended for the suspect files). Its final answer is a ``RepairProposal``: a rationale and
SEARCH/REPLACE edits, which the loop applies (or rejects, feeding the reason back here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from autogen_core.models import ChatCompletionClient
from autogen_core.tools import FunctionTool
from pydantic import BaseModel, Field

import prompts
from agents.base import AgentOptions, ask_fresh, schema_text
from sandbox.loop import FailureReport
from sandbox.patch import Edit
from sandbox.tree import inside, iter_text_files, read_bytes

MAX_READ_LINES = 400
MAX_SEARCH_HITS = 50


class RepairProposal(BaseModel):
    """The debugger's answer."""

    rationale: str
    """What causes the failure and why the edits fix it, in one or two sentences."""
    edits: list[Edit] = Field(default_factory=list)
    """SEARCH/REPLACE edits, applied in order."""


def read_file_tool(repo: Path) -> FunctionTool:
    """``read_file(path, start_line, end_line)``: numbered lines of a repository file (every
    parameter required, as strict tools demand)."""

    def read_file(path: str, start_line: int, end_line: int) -> str:
        target = inside(repo, path)
        if target is None:
            return f"refused: {path} is outside the repository"
        try:
            lines = read_bytes(target).decode("utf-8", errors="replace").splitlines()
        except OSError:
            return f"no such file: {path}"
        start = max(1, start_line)
        end = min(len(lines), end_line, start + MAX_READ_LINES - 1)
        body = "\n".join(f"{i:5d}  {lines[i - 1]}" for i in range(start, end + 1))
        return f"{path} (lines {start}-{end} of {len(lines)})\n{body}"

    return FunctionTool(
        read_file,
        description="Read lines start_line..end_line (1-based, inclusive) of a repository file.",
        strict=True,  # OpenAI's structured-output parsing accepts strict tools only
    )


def search_repo_tool(repo: Path) -> FunctionTool:
    """``search_repo(pattern)``: regex search over the repository's text files."""

    def search_repo(pattern: str) -> str:
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            return f"invalid regular expression: {exc}"
        hits: list[str] = []
        for rel, text in iter_text_files(repo):
            for n, line in enumerate(text.splitlines(), 1):
                if rx.search(line):
                    hits.append(f"{rel}:{n}: {line.strip()}")
                    if len(hits) >= MAX_SEARCH_HITS:
                        return "\n".join([*hits, f"(stopped at {MAX_SEARCH_HITS} matches)"])
        return "\n".join(hits) or "no matches"

    return FunctionTool(
        search_repo,
        description="Search the repository's text files with a regular expression.",
        strict=True,
    )


class DebuggerFixer:
    """Implements the repair loop's ``Fixer`` protocol with an AutoGen agent."""

    def __init__(
        self,
        client: ChatCompletionClient,
        options: AgentOptions,
        *,
        repo: Path,
        intents: Mapping[str, str] | None = None,
        max_tool_iterations: int = 6,
    ) -> None:
        self.client = client
        self.options = options
        self.repo = Path(repo)
        self.intents = dict(intents or {})
        self.max_tool_iterations = max_tool_iterations
        self.history: list[str] = []

    def task(self, report: FailureReport) -> str:
        suspects = [
            {
                "file": s.file,
                "line": s.line,
                "function": s.function,
                "message": s.message,
                "excerpt": s.excerpt,
                "intent": self.intents.get(s.file, ""),
            }
            for s in report.suspects
        ]
        rejected = [{"path": r.path, "reason": r.reason} for r in report.rejected]
        return prompts.render(
            "debugger_task.md",
            command=report.command,
            exit_code=report.exit_code,
            timed_out=report.timed_out,
            oom_killed=report.oom_killed,
            error=report.error,
            suspects=suspects,
            stderr_tail=report.stderr_tail,
            stdout_tail=report.stdout_tail,
            rejected=rejected,
            history=list(self.history),
            schema=schema_text(RepairProposal, self.options),
        )

    async def propose(self, report: FailureReport) -> list[Edit]:
        """SEARCH/REPLACE edits for the failure in ``report``."""
        reply = await ask_fresh(
            "debugger",
            self.client,
            self.options,
            system=prompts.render("debugger_system.md"),
            task=self.task(report),
            schema=RepairProposal,
            tools=[read_file_tool(self.repo), search_repo_tool(self.repo)],
            max_tool_iterations=self.max_tool_iterations,
        )
        self.history.append(reply.value.rationale)
        return list(reply.value.edits)
