"""The analyst: one call per file, a detailed design of that file.

Every call of the stage starts with the same bytes (system message, paper, plan, config) and
puts the file's part last, so prefix caching on OpenAI and vLLM applies across files.
"""

from __future__ import annotations

from collections.abc import Sequence

import prompts
from agents.base import Reply, RoleAgent, SharedContext, with_path
from paper2code.schemas import FileAnalysis, Requirement


class Analyst(RoleAgent):
    """Writes the detailed design of one file at a time; calls are independent."""

    name = "analyst"

    def task(
        self,
        shared: SharedContext,
        path: str,
        description: str,
        depends_on: Sequence[str] = (),
        requirements: Sequence[Requirement] = (),
    ) -> str:
        return prompts.render(
            "analyst_file.md",
            **shared.variables(),
            path=path,
            description=description,
            depends_on=list(depends_on),
            requirements=list(requirements),
            schema=self.schema_text(FileAnalysis),
        )

    async def analyze(
        self,
        shared: SharedContext,
        path: str,
        description: str,
        depends_on: Sequence[str] = (),
        requirements: Sequence[Requirement] = (),
    ) -> Reply[FileAnalysis]:
        """The detailed design of ``path``, addressing the ``requirements`` assigned to it."""
        task = self.task(shared, path, description, depends_on, requirements)
        return with_path(await self.ask_once(task, FileAnalysis), path)
