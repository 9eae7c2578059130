"""The judge: reads the paper, the generated repository (and optionally the authors' reference
implementation) and returns a structured ``Judgement``. One call per sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autogen_core.models import ChatCompletionClient

import prompts
from agents.base import AgentOptions, Reply, ask, make_agent, new_context, schema_text
from paper2code.schemas import Judgement


@dataclass(frozen=True)
class RepoFile:
    path: str
    content: str


def judge_task(
    paper_md: str,
    files: Sequence[RepoFile],
    *,
    reference_files: Sequence[RepoFile] = (),
    omitted: Sequence[str] = (),
) -> str:
    return prompts.render(
        "judge_task.md",
        paper=paper_md,
        files=list(files),
        reference_files=list(reference_files),
        omitted=list(omitted),
        schema=schema_text(Judgement),
    )


class Judge:
    def __init__(self, client: ChatCompletionClient, options: AgentOptions) -> None:
        self.client = client
        self.options = options

    async def judge(self, task: str) -> Reply[Judgement]:
        """One judge sample for a rendered ``judge_task``."""
        context = new_context()
        agent = make_agent(
            "judge",
            self.client,
            prompts.render("judge_system.md"),
            Judgement,
            self.options,
            context=context,
        )
        return await ask(agent, context, task, Judgement, self.options)
