"""The coder: one call per file, the file's complete contents.

The prompt carries the paper, the plan and the config first (identical bytes across the stage),
then the file's design and its requirements, then what it imports: in ``interface`` order the
designed interfaces of those files (all files are written at once), in ``dependency`` order
their code (each file waits for its imports). Only direct imports are shown, by name: the
prompt does not grow with every file written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import prompts
from agents.base import Reply, RepoFile, RoleAgent, SharedContext, with_path
from paper2code.schemas import CodedFile, Requirement

FileKind = Literal["python", "smoke_test", "shell", "readme", "other"]

SMOKE_TEST = "tests/test_smoke.py"
"""The smoke test every generated repository gets besides its planned files."""


def file_kind(path: str) -> FileKind:
    """Which prompt variant a file gets: non-Python files do not get Python instructions, and
    only the added smoke test gets the smoke-test instructions (a planned test file is coded
    from its own design, like any other Python file)."""
    name = path.rsplit("/", 1)[-1]
    if path == SMOKE_TEST:
        return "smoke_test"
    if name.endswith(".py"):
        return "python"
    if name.endswith(".sh"):
        return "shell"
    if name.lower() == "readme.md":
        return "readme"
    return "other"


class Coder(RoleAgent):
    """Writes one complete file at a time."""

    name = "coder"

    def task(
        self,
        shared: SharedContext,
        path: str,
        analysis: str = "",
        dependencies: Sequence[RepoFile] = (),
        requirements: Sequence[Requirement] = (),
        interfaces: Sequence[RepoFile] = (),
    ) -> str:
        return prompts.render(
            "coder_file.md",
            **shared.variables(),
            path=path,
            kind=file_kind(path),
            analysis=analysis,
            dependencies=list(dependencies),
            interfaces=list(interfaces),
            requirements=list(requirements),
            schema=self.schema_text(CodedFile),
        )

    async def write(
        self,
        shared: SharedContext,
        path: str,
        analysis: str = "",
        dependencies: Sequence[RepoFile] = (),
        requirements: Sequence[Requirement] = (),
        interfaces: Sequence[RepoFile] = (),
    ) -> Reply[CodedFile]:
        """The complete contents of ``path``, implementing the ``requirements`` assigned to it
        and saying where each is implemented; the files it imports are shown by their code
        (``dependencies``, already written) or by their designed ``interfaces``."""
        task = self.task(shared, path, analysis, dependencies, requirements, interfaces)
        return with_path(await self.ask_once(task, CodedFile), path)
