"""The analyst: one call per file, a detailed design of that file.

Every call of the stage starts with the same bytes (system message, paper, plan, config) and
puts the file's part last, so prefix caching on OpenAI and vLLM applies across files.
"""

from __future__ import annotations

from collections.abc import Sequence

from autogen_core.models import ChatCompletionClient

import prompts
from agents.base import AgentOptions, Reply, ask_once, schema_text, with_path
from paper2code.schemas import FileAnalysis


class Analyst:
    """Writes the detailed design of one file at a time; calls are independent."""

    def __init__(self, client: ChatCompletionClient, options: AgentOptions) -> None:
        self.client = client
        self.options = options

    def task(
        self,
        *,
        paper_md: str,
        plan_md: str,
        config_yaml: str,
        path: str,
        description: str,
        depends_on: Sequence[str],
    ) -> str:
        return prompts.render(
            "analyst_file.md",
            paper=paper_md,
            plan=plan_md,
            config_yaml=config_yaml,
            path=path,
            description=description,
            depends_on=list(depends_on),
            schema=schema_text(FileAnalysis),
        )

    async def analyze(
        self,
        *,
        paper_md: str,
        plan_md: str,
        config_yaml: str,
        path: str,
        description: str,
        depends_on: Sequence[str] = (),
    ) -> Reply[FileAnalysis]:
        """The detailed design of ``path``."""
        task = self.task(
            paper_md=paper_md,
            plan_md=plan_md,
            config_yaml=config_yaml,
            path=path,
            description=description,
            depends_on=depends_on,
        )
        reply = await ask_once("analyst", self.client, self.options, task, FileAnalysis)
        return with_path(reply, path)
