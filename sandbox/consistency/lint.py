"""ruff's serious diagnostics (syntax errors, undefined names) as ``lint`` findings
(:func:`ruff_findings`): one per file and message, with the message's other lines listed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sandbox.consistency.report import Finding
from sandbox.consistency.wording import excerpt
from sandbox.localize import is_serious, ruff_diagnostics


def is_syntax_error(f: Finding) -> bool:
    """A ``lint`` finding for a file that does not parse."""
    return f.kind == "lint" and "SyntaxError" in f.message


def ruff_findings(
    repo: Path, sources: Mapping[str, str], parsed_badly: set[str]
) -> list[Finding] | None:
    """ruff's serious diagnostics as findings, one per file and message with the other lines
    listed (None when ruff is missing); syntax errors of files the parser already reported are
    left out."""
    suspects = ruff_diagnostics(repo)
    if not suspects and not _ruff_installed():
        return None
    groups: dict[tuple[str, str], list[int]] = {}
    for s in suspects:
        if is_serious(s) and s.file not in parsed_badly and s.file in sources:
            lines = groups.setdefault((s.file, s.message), [])
            if s.line not in lines:
                lines.append(s.line)
    out = []
    for (path, message), lines in groups.items():
        also = f" (also at line{'s' * (len(lines) > 2)} {', '.join(map(str, lines[1:]))})"
        out.append(
            Finding(
                kind="lint",
                file=path,
                line=lines[0],
                message=f"{path}:{lines[0]}: {message}{also if len(lines) > 1 else ''}",
                excerpt=excerpt(sources[path].splitlines(), lines[0]),
                key=f"lint|{path}|{message}",
            )
        )
    return out


def _ruff_installed() -> bool:
    from sandbox.localize import _ruff_executable

    return _ruff_executable() is not None
