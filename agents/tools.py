"""Read-only tools over a repository, for the agents that work on code (debugger, verifier,
refiner): ``read_file`` and ``search_repo``. Both see the repository only through
``sandbox.tree``: no symbolic link is followed out of it."""

from __future__ import annotations

import re
from pathlib import Path

from autogen_core.tools import FunctionTool

from sandbox.tree import inside, iter_text_files, read_bytes

MAX_READ_LINES = 400
MAX_SEARCH_HITS = 50


def read_file_tool(repo: Path) -> FunctionTool:
    """``read_file(path, start_line, end_line)``: numbered lines of a repository file (every
    parameter required, as strict tools demand)."""

    def read_file(path: str, start_line: int, end_line: int) -> str:
        target = inside(repo, path)
        if target is None:
            return f"refused: {path} is outside the repository"
        try:
            lines = read_bytes(target).decode("utf-8", errors="replace").splitlines()
        except OSError:
            return f"no such file: {path}"
        start = max(1, start_line)
        end = min(len(lines), end_line, start + MAX_READ_LINES - 1)
        body = "\n".join(f"{i:5d}  {lines[i - 1]}" for i in range(start, end + 1))
        return f"{path} (lines {start}-{end} of {len(lines)})\n{body}"

    return FunctionTool(
        read_file,
        description="Read lines start_line..end_line (1-based, inclusive) of a repository file.",
        strict=True,  # OpenAI's structured-output parsing accepts strict tools only
    )


def search_repo_tool(repo: Path) -> FunctionTool:
    """``search_repo(pattern)``: regex search over the repository's text files."""

    def search_repo(pattern: str) -> str:
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            return f"invalid regular expression: {exc}"
        hits: list[str] = []
        for rel, text in iter_text_files(repo):
            for n, line in enumerate(text.splitlines(), 1):
                if rx.search(line):
                    hits.append(f"{rel}:{n}: {line.strip()}")
                    if len(hits) >= MAX_SEARCH_HITS:
                        return "\n".join([*hits, f"(stopped at {MAX_SEARCH_HITS} matches)"])
        return "\n".join(hits) or "no matches"

    return FunctionTool(
        search_repo,
        description="Search the repository's text files with a regular expression.",
        strict=True,
    )


def repository_tools(repo: Path) -> list[FunctionTool]:
    """``read_file`` and ``search_repo`` over ``repo``."""
    return [read_file_tool(repo), search_repo_tool(repo)]
