"""Markdown reader: ATX headings (``#``…``######``, optionally numbered), the first H1 as the
title, ``$$`` display equations, pipe tables, figure/table captions, fenced code. Headings
inside code fences are not headings."""

from __future__ import annotations

import re
from pathlib import Path

from paper2code.ingest.blocks import Block, Draft
from paper2code.ingest.source import read_text

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_CAPTION = re.compile(r"^\W{0,3}(figure|fig\.|table|tab\.|algorithm)\s*[A-Z]?\d+[.:]", re.I)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TAG = re.compile(r"\s*\\tag\*?\{([^{}]*)\}\s*$")
_EQUATION_IMAGE = re.compile(r"^!\[Equation[^\]]*\]\(([^)\s]+)\)$")


def _equation(text: str) -> Block:
    """A display equation; a trailing ``\\tag{n}`` (as ``Paper.to_markdown`` writes) is its
    number."""
    m = _TAG.search(text)
    if m is None:
        return Block("equation", text.strip())
    return Block("equation", text[: m.start()].strip(), number=m.group(1).strip())


def _paragraph_block(lines: list[str]) -> Block:
    text = "\n".join(lines).strip()
    if all(_TABLE_ROW.match(ln) for ln in lines):
        return Block("table", text)
    plain = re.sub(r"^[*_]+", "", text)
    if _CAPTION.match(plain):
        return Block("caption", text)
    return Block("text", text)


def _end_paragraph(blocks: list[Block], para: list[str]) -> None:
    """Close the paragraph being read (and empty ``para``): a block, or the picture of the
    equation just before it (``![Equation (3)](…)``, as ``Paper.to_markdown`` writes it)."""
    if para:
        text = "\n".join(para).strip()
        image = _EQUATION_IMAGE.match(text)
        if image and blocks and blocks[-1].kind == "equation" and blocks[-1].image is None:
            blocks[-1].image = image.group(1)  # the equation's picture, as written
        else:
            blocks.append(_paragraph_block(para))
        para.clear()


def _code_block(lines: list[str], i: int, fence: str) -> tuple[Block, int]:
    """The code block whose ``fence`` opens at line ``i``; and the index after its closing
    fence."""
    j = i + 1
    while j < len(lines) and not lines[j].strip().startswith(fence):
        j += 1
    return Block("code", "\n".join(lines[i + 1 : j])), j + 1


def _display_block(lines: list[str], i: int) -> tuple[Block, int]:
    """The ``$$`` display equation opening at line ``i``; and the index after the line that
    closes it."""
    rest = lines[i].strip()[2:]
    if rest.endswith("$$") and len(rest) >= 2:  # $$ x $$ on one line
        return _equation(rest[:-2]), i + 1
    body = [rest] if rest else []
    j = i + 1
    while j < len(lines) and "$$" not in lines[j]:
        body.append(lines[j])
        j += 1
    if j < len(lines):
        body.append(lines[j].split("$$", 1)[0])
    return _equation("\n".join(body)), j + 1


def _heading_block(m: re.Match[str], seen_h1: bool) -> Block:
    """An ATX heading: the first H1 is the title."""
    level = len(m.group(1))
    if level == 1 and not seen_h1:
        return Block("title", m.group(2))
    return Block("heading", m.group(2), level=level)


def parse_markdown(text: str) -> list[Block]:
    """Blocks of a Markdown document in order (pure)."""
    blocks: list[Block] = []
    para: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    seen_h1 = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence = _FENCE.match(stripped)
        if fence or stripped.startswith("$$"):
            _end_paragraph(blocks, para)
            if fence:
                block, i = _code_block(lines, i, fence.group(1))
            else:
                block, i = _display_block(lines, i)
            blocks.append(block)
            continue
        m = _HEADING.match(stripped)
        if m and not line.startswith("    "):
            _end_paragraph(blocks, para)
            blocks.append(_heading_block(m, seen_h1))
            seen_h1 = seen_h1 or blocks[-1].kind == "title"
            i += 1
            continue
        if not stripped:
            _end_paragraph(blocks, para)
        elif para and bool(_TABLE_ROW.match(para[-1])) != bool(_TABLE_ROW.match(line)):
            _end_paragraph(blocks, para)  # a table directly after text, or text after a table
            para.append(line)
        else:
            para.append(line)
        i += 1
    _end_paragraph(blocks, para)
    return blocks


def read_markdown(path: Path) -> Draft:
    """Read a Markdown paper into a draft."""
    return Draft(blocks=parse_markdown(read_text(path)))
