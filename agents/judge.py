"""The judge: reads the paper, the generated repository (and optionally the authors' reference
implementation) and returns a structured ``Judgement``. One call per sample."""

from __future__ import annotations

from collections.abc import Sequence

import prompts
from agents.base import Reply, RepoFile, RoleAgent, ask_fresh
from paper2code.schemas import Judgement


class Judge(RoleAgent):
    """Judges a repository against the paper, in a conversation of its own."""

    name = "judge"

    def task(
        self,
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
            schema=self.schema_text(Judgement),
        )

    async def judge(self, task: str) -> Reply[Judgement]:
        """One judge sample for a rendered :meth:`task`."""
        system = prompts.render("judge_system.md")
        return await ask_fresh(
            self.name, self.client, self.options, system=system, task=task, schema=Judgement
        )
