"""The verifier and the refiner: the two roles of the ``verify`` stage.

The verifier reads one file (and, with its tools, any other) and decides for each requirement
assigned to it whether the code implements it, with evidence. The refiner receives the
requirements a file does not meet and proposes SEARCH/REPLACE edits, which the stage applies
with the patch machinery the repair loop uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

import prompts
from agents.base import Reply, RepoAgent, numbered
from paper2code.ledger import LedgerEntry, VerificationReply, verification_model
from paper2code.schemas import Requirement
from sandbox.loop import RejectedEdit
from sandbox.patch import Edit


class RefineProposal(BaseModel):
    """The refiner's answer."""

    rationale: str
    """What the edits add or change, in one or two sentences."""
    edits: list[Edit] = Field(default_factory=list)
    """SEARCH/REPLACE edits, applied in order."""


class Verifier(RepoAgent):
    """Decides, per requirement, whether the repository implements it."""

    name = "verifier"

    def task(
        self,
        path: str,
        text: str | None,
        requirements: Sequence[Requirement],
        trace: Mapping[str, str],
        pass_n: int,
    ) -> str:
        return prompts.render(
            "verifier_task.md",
            pass_n=pass_n,
            path=path,
            requirements=list(requirements),
            trace=dict(trace),
            text=text,
            line_count=len(text.splitlines()) if text is not None else 0,
            numbered=numbered(text) if text is not None else "",
            schema=self.schema_text(verification_model([r.id for r in requirements])),
        )

    async def verify(
        self,
        path: str,
        text: str | None,
        requirements: Sequence[Requirement],
        trace: Mapping[str, str],
        pass_n: int = 1,
    ) -> Reply[VerificationReply]:
        """One verdict per requirement of ``path`` (``text`` its current contents)."""
        task = self.task(path, text, requirements, trace, pass_n)
        return await self.ask_with_tools(task, verification_model([r.id for r in requirements]))


class Refiner(RepoAgent):
    """Proposes targeted edits for the requirements a file does not meet."""

    name = "refiner"

    def task(
        self,
        path: str,
        text: str | None,
        entries: Sequence[LedgerEntry],
        round_n: int,
        rejected: Sequence[RejectedEdit] = (),
    ) -> str:
        return prompts.render(
            "refiner_task.md",
            round_n=round_n,
            path=path,
            entries=list(entries),
            text=text,
            rejected=list(rejected),
            schema=self.schema_text(RefineProposal),
        )

    async def propose(
        self,
        path: str,
        text: str | None,
        entries: Sequence[LedgerEntry],
        round_n: int,
        rejected: Sequence[RejectedEdit] = (),
    ) -> Reply[RefineProposal]:
        """Edits that make ``path`` (and what it needs) implement ``entries``."""
        task = self.task(path, text, entries, round_n, rejected)
        return await self.ask_with_tools(task, RefineProposal)
