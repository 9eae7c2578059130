"""How findings show things to a model: numbered excerpts, a node's source on one line,
close matches ("did you mean"), listings of names, plurals."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable

from sandbox.localize import excerpt as numbered_excerpt

EXCERPT_CONTEXT = 2


def excerpt(lines: list[str], line: int, context: int = EXCERPT_CONTEXT) -> str:
    """Numbered lines around ``line``, the line itself marked, as a finding shows them."""
    return numbered_excerpt(lines, line, context)


def one_line(text_lines: list[str], node: ast.AST, limit: int = 90) -> str:
    """The source of ``node`` on one line, shortened."""
    segment = ast.get_source_segment("\n".join(text_lines), node) or ""
    segment = re.sub(r"\s+", " ", segment).strip()
    return segment if len(segment) <= limit else segment[: limit - 1] + "…"


def close_matches(word: str, options: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, sorted(set(options)), n=n, cutoff=0.6)


def name_listing(names: Iterable[str], word: str, limit: int = 15) -> str:
    """Names, closest to ``word`` first, at most ``limit``."""
    names = sorted(set(names))
    close = close_matches(word, names)
    ordered = close + [n for n in names if n not in close]
    shown = ", ".join(ordered[:limit])
    return shown + (f", … ({len(ordered) - limit} more)" if len(ordered) > limit else "")


def did_you_mean(word: str, names: Iterable[str]) -> str:
    close = close_matches(word, names, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"
