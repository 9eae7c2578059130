"""The reader-neutral form of a paper: a title block, front matter and a flat list of blocks in
reading order. Each reader (PDF, LaTeX, Markdown) produces a ``Draft``; ``assemble`` turns any
draft into a ``Paper``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["title", "heading", "text", "equation", "table", "caption", "code", "appendix"]


@dataclass
class Block:
    """One unit of a paper's body in reading order.

    ``heading`` blocks carry the heading text (with its printed number, if any) and optionally
    a ``level`` hint (Markdown ``#`` count, PDF heading size rank). Readers that compute numbers
    themselves (LaTeX) set ``number`` and ``level`` and strip the number from ``text``.
    ``appendix`` is a marker (LaTeX ``\\appendix``): every later section is an appendix.
    ``equation`` blocks carry the printed equation number in ``number``.
    """

    kind: BlockKind
    text: str = ""
    level: int | None = None
    number: str | None = None
    numbered: bool = False
    """True when ``number`` was computed by the reader (then ``text`` has no number in it)."""
    image: str | None = None
    """For an equation: its cropped image, relative to the paper folder
    (``equations/eq-001.png``)."""
    page: int | None = None
    """For an equation read from a PDF: the page it is printed on."""


@dataclass
class Draft:
    """What a reader found. Fields left ``None`` are derived from the blocks by ``assemble``."""

    blocks: list[Block]
    title: str | None = None
    authors: list[str] | None = None
    abstract: str | None = None
    references: list[str] = field(default_factory=list)
    """Reference entries the reader split off itself (LaTeX ``thebibliography``)."""
    metadata_title: str | None = None
    """A fallback title (PDF metadata), used when no title block is found."""
