"""The judge: reads the paper, the generated repository (and optionally the authors' reference
implementation) and returns a structured ``Judgement``. One call per sample."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import prompts
from agents.base import Reply, RepoFile, RoleAgent, ask_fresh
from paper2code.schemas import Judgement, LeafGrade, RubricGrades, id_batch_model


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


class RubricGrader(RoleAgent):
    """Grades Code Development leaves of a PaperBench rubric, one batch of leaves per call (the
    paper and the repository open every call, so the endpoint's prefix cache serves them)."""

    name = "grader"

    def task(
        self,
        paper_md: str,
        files: Sequence[RepoFile],
        leaves: Sequence[tuple[str, str]],
        context: Mapping[str, Sequence[str]],
        *,
        omitted: Sequence[str] = (),
    ) -> str:
        """``leaves`` are (id, requirements); ``context`` maps a leaf id to its ancestors'
        requirements."""
        return prompts.render(
            "rubric_task.md",
            paper=paper_md,
            files=list(files),
            omitted=list(omitted),
            leaves=[{"id": i, "requirements": r} for i, r in leaves],
            context={k: list(v) for k, v in context.items()},
            schema=self.schema_text(
                id_batch_model(RubricGrades, LeafGrade, [i for i, _ in leaves])
            ),
        )

    async def grade(self, task: str, ids: Sequence[str]) -> Reply[RubricGrades]:
        """One sample of grades for the leaves ``ids`` of a rendered :meth:`task`."""
        schema = id_batch_model(RubricGrades, LeafGrade, ids)
        system = prompts.render("rubric_system.md")
        return await ask_fresh(
            self.name, self.client, self.options, system=system, task=task, schema=schema
        )
