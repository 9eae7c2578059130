"""Progress display for long work: one line per stage, a bar per file for analysis and coding.

The pipeline talks to a ``Reporter``; the CLI passes a rich one, tests a silent one that keeps
what it was told.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter(Protocol):
    def stage_start(self, stage: str, total: int | None = None, note: str = "") -> None: ...
    def advance(self, stage: str, item: str, note: str = "") -> None: ...
    def stage_end(self, stage: str, status: str, note: str = "") -> None: ...
    def info(self, message: str) -> None: ...


class SilentReporter:
    """Keeps every message; used by tests and library callers."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def stage_start(self, stage: str, total: int | None = None, note: str = "") -> None:
        self.lines.append(f"start {stage} {total} {note}".rstrip())

    def advance(self, stage: str, item: str, note: str = "") -> None:
        self.lines.append(f"advance {stage} {item} {note}".rstrip())

    def stage_end(self, stage: str, status: str, note: str = "") -> None:
        self.lines.append(f"end {stage} {status} {note}".rstrip())

    def info(self, message: str) -> None:
        self.lines.append(f"info {message}")


STATUS_STYLE = {
    "done": "green",
    "skipped": "dim",
    "passed": "green",
    "failed": "red",
    "stopped": "yellow",
    "interrupted": "yellow",
    "error": "red",
}


class RichReporter:
    """Live progress on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[stage]:<8}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=True,
        )
        self.tasks: dict[str, int] = {}
        self.started = False

    def _ensure(self) -> None:
        if not self.started:
            self.progress.start()
            self.started = True

    def stage_start(self, stage: str, total: int | None = None, note: str = "") -> None:
        self._ensure()
        self.tasks[stage] = self.progress.add_task(note, total=total, stage=stage)

    def advance(self, stage: str, item: str, note: str = "") -> None:
        if stage in self.tasks:
            self.progress.update(self.tasks[stage], advance=1, description=f"{item} {note}".strip())

    def stage_end(self, stage: str, status: str, note: str = "") -> None:
        if stage in self.tasks:
            self.progress.remove_task(self.tasks.pop(stage))
        style = STATUS_STYLE.get(status, "white")
        self.console.print(f"[bold]{stage:<8}[/] [{style}]{status}[/] {note}", highlight=False)

    def info(self, message: str) -> None:
        self.console.print(f"         {message}", highlight=False)

    def close(self) -> None:
        if self.started:
            self.progress.stop()
            self.started = False
