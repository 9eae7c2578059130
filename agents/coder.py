"""The coder: one call per file, the file's complete contents.

The prompt carries the paper, the plan and the config first (identical bytes across the stage),
then the file's design and the code of the files it depends on (named, and only those: the
prompt does not grow with every file written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from autogen_core.models import ChatCompletionClient

import prompts
from agents.base import AgentOptions, Reply, ask_once, schema_text, with_path
from paper2code.schemas import CodedFile

FileKind = Literal["python", "test", "shell", "readme", "other"]


def file_kind(path: str) -> FileKind:
    """Which prompt variant a file gets: non-Python files do not get Python instructions."""
    name = path.rsplit("/", 1)[-1]
    if name.startswith("test_") and name.endswith(".py"):
        return "test"
    if name.endswith(".py"):
        return "python"
    if name.endswith(".sh"):
        return "shell"
    if name.lower() == "readme.md":
        return "readme"
    return "other"


@dataclass(frozen=True)
class SourceFile:
    """A file already written, shown to the coder by name."""

    path: str
    content: str


class Coder:
    """Writes one complete file at a time."""

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
        analysis: str,
        dependencies: Sequence[SourceFile],
    ) -> str:
        return prompts.render(
            "coder_file.md",
            paper=paper_md,
            plan=plan_md,
            config_yaml=config_yaml,
            path=path,
            kind=file_kind(path),
            analysis=analysis,
            dependencies=list(dependencies),
            schema=schema_text(CodedFile),
        )

    async def write(
        self,
        *,
        paper_md: str,
        plan_md: str,
        config_yaml: str,
        path: str,
        analysis: str = "",
        dependencies: Sequence[SourceFile] = (),
    ) -> Reply[CodedFile]:
        """The complete contents of ``path``."""
        task = self.task(
            paper_md=paper_md,
            plan_md=plan_md,
            config_yaml=config_yaml,
            path=path,
            analysis=analysis,
            dependencies=dependencies,
        )
        reply = await ask_once("coder", self.client, self.options, task, CodedFile)
        return with_path(reply, path)
