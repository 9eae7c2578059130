"""The reconciler: after interface-first coding, one round of targeted edits for what the
static consistency check found (``sandbox.consistency``), one call per file with findings."""

from __future__ import annotations

from collections.abc import Sequence

import prompts
from agents.base import Reply, RepoAgent
from sandbox.consistency import Finding
from sandbox.loop import FixProposal, RejectedEdit


class Reconciler(RepoAgent):
    """Proposes the edits that make a file fit the others."""

    name = "reconciler"

    def task(
        self,
        path: str,
        text: str | None,
        findings: Sequence[Finding],
        rejected: Sequence[RejectedEdit] = (),
    ) -> str:
        return prompts.render(
            "reconciler_task.md",
            path=path,
            text=text,
            findings=list(findings),
            rejected=list(rejected),
            schema=self.schema_text(FixProposal),
        )

    async def propose(
        self,
        path: str,
        text: str | None,
        findings: Sequence[Finding],
        rejected: Sequence[RejectedEdit] = (),
    ) -> Reply[FixProposal]:
        """Edits for the ``findings`` of ``path`` (``text`` its current contents)."""
        return await self.ask_with_tools(self.task(path, text, findings, rejected), FixProposal)
