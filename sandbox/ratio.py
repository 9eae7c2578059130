"""The changed-line ratio: how much of the generated code had to change to make it run.

    ratio = (lines added + lines deleted in a line diff of every text file, generated → current)
            ÷ (total lines of those files in generated)

A file present on one side only counts fully (all its lines added, or all deleted). Binary
files (a NUL byte, or not UTF-8) are ignored on both sides. When the generated tree has no text
lines at all the ratio is 0.0 if nothing changed and 1.0 otherwise.

:func:`ratio_texts` is pure over ``{path: text}`` dicts; :func:`ratio_dirs` reads two
directories through :func:`sandbox.tree.read_text_tree` (links and dropped entries ignored).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sandbox.tree import read_text_tree

__all__ = [
    "FileDelta",
    "RatioReport",
    "line_delta",
    "ratio_dirs",
    "ratio_texts",
]


class FileDelta(BaseModel):
    """Lines added and deleted in one file."""

    model_config = ConfigDict(extra="forbid")

    added: int
    deleted: int
    base_lines: int
    """Lines of the file in the generated tree (0 for a new file)."""


class RatioReport(BaseModel):
    """Totals of a line diff between two trees and their ratio."""

    model_config = ConfigDict(extra="forbid")

    added: int = 0
    deleted: int = 0
    base_lines: int = 0
    """Total lines of the text files of the generated (base) tree."""
    files: dict[str, FileDelta] = {}
    """Per changed file; unchanged files are left out."""

    @property
    def changed(self) -> int:
        return self.added + self.deleted

    @property
    def ratio(self) -> float:
        if self.base_lines == 0:
            return 0.0 if self.changed == 0 else 1.0
        return self.changed / self.base_lines


def line_delta(before: str, after: str) -> tuple[int, int]:
    """(added, deleted) lines in a line diff from ``before`` to ``after``."""
    a, b = before.splitlines(), after.splitlines()
    added = deleted = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in {"replace", "delete"}:
            deleted += i2 - i1
        if tag in {"replace", "insert"}:
            added += j2 - j1
    return added, deleted


def ratio_texts(
    generated: Mapping[str, str | None], current: Mapping[str, str | None]
) -> RatioReport:
    """Changed-line totals from ``generated`` to ``current``, both ``{path: text}``; a value of
    None marks a binary file, which is ignored (on either side)."""
    report = RatioReport()
    binary = {p for p, t in generated.items() if t is None} | {
        p for p, t in current.items() if t is None
    }
    for path in sorted(set(generated) | set(current)):
        if path in binary:
            continue
        before, after = generated.get(path), current.get(path)
        base = len(before.splitlines()) if before is not None else 0
        report.base_lines += base
        if before == after:
            continue
        added, deleted = line_delta(before or "", after or "")
        report.added += added
        report.deleted += deleted
        report.files[path] = FileDelta(added=added, deleted=deleted, base_lines=base)
    return report


def ratio_dirs(generated: Path, current: Path) -> RatioReport:
    """Changed-line totals between two directory trees."""
    return ratio_texts(read_text_tree(generated), read_text_tree(current))
