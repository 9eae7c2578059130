"""The debugger: the one LLM role of the repair loop.

An AutoGen ``AssistantAgent`` with two read-only tools (``read_file``, ``search_repo``) over the
working copy, given the failure report (suspects with excerpts, stderr tail, what the plan
intended for the suspect files). Its final answer is a ``FixProposal``: a rationale and
SEARCH/REPLACE edits, which the loop applies (or rejects, feeding the reason back here).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from autogen_core.models import ChatCompletionClient

import prompts
from agents.base import AgentOptions, RepoAgent
from sandbox.loop import FailureReport, FixProposal


class DebuggerFixer(RepoAgent):
    """Implements the repair loop's ``Fixer`` protocol with an AutoGen agent."""

    name = "debugger"
    max_tool_iterations = 6

    def __init__(
        self,
        client: ChatCompletionClient,
        options: AgentOptions,
        *,
        repo: Path,
        intents: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(client, options, repo=repo)
        self.intents = dict(intents or {})
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
            disk_limit_exceeded=report.disk_limit_exceeded,
            error=report.error,
            suspects=suspects,
            stderr_tail=report.stderr_tail,
            stdout_tail=report.stdout_tail,
            rejected=rejected,
            history=list(self.history),
            schema=self.schema_text(FixProposal),
        )

    async def propose(self, report: FailureReport) -> FixProposal:
        """A rationale and SEARCH/REPLACE edits for the failure in ``report``."""
        reply = await self.ask_with_tools(self.task(report), FixProposal)
        self.history.append(reply.value.rationale)
        return reply.value
