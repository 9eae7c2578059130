"""From a reader's ``Draft`` to a ``Paper``: front matter, ordered sections with numbers and
levels, appendix marks, references split off, token counts. Pure: no files, no PDF library."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from paper2code.errors import PaperError
from paper2code.ingest.blocks import Block, Draft
from paper2code.ingest.headings import (
    Heading,
    clean_heading,
    is_abstract,
    is_references,
    number_key,
    parse_heading,
)
from paper2code.ingest.references import split_references
from paper2code.schemas import Equation, Paper, Section
from paper2code.tokens import count_tokens

log = logging.getLogger(__name__)

_INLINE_ABSTRACT = re.compile(r"^\W{0,4}abstract\W{0,4}\s*[—–:.\-]?\s*", re.IGNORECASE)
_NOT_A_NAME = re.compile(
    r"@|\d|https?:|\b(university|universit[àé]|institute|college|school|department|dept|"
    r"laborator(y|ies)|lab|labs|inc|corp|ltd|research|google|microsoft|meta|openai|deepmind|"
    r"center|centre|equal contribution|correspondence)\b",
    re.IGNORECASE,
)
PREAMBLE = "Preamble"
"""Heading given to body text that comes before the first heading."""


def render_block(block: Block) -> str:
    """A body block as Markdown. A display equation is a ``$$`` block (its number as
    ``\\tag``), followed by a link to its image when it has one."""
    if block.kind == "equation":
        tag = f" \\tag{{{block.number}}}" if block.number else ""
        out = f"$$\n{block.text.strip()}{tag}\n$$"
        if block.image:
            label = f"Equation ({block.number})" if block.number else "Equation"
            out += f"\n\n![{label}]({block.image})"
        return out
    if block.kind == "code":
        return f"```\n{block.text.rstrip()}\n```"
    return block.text.strip()


def parse_authors(lines: list[str]) -> list[str]:
    """Person names from the author lines under a title (affiliations and e-mails dropped)."""
    names: list[str] = []
    for line in lines:
        line = re.sub(r"[*_`]|<[^>]+>|\$[^$]*\$", " ", line)
        for part in re.split(r",|;|\band\b|&|·|•|\n|\s{3,}|\\and", line):
            name = re.sub(r"[\d†‡§¶∗*⋆]+", "", part).strip(" .")
            words = name.split()
            if not 2 <= len(words) <= 5 or _NOT_A_NAME.search(name):
                continue
            if all(w[0].isupper() for w in words if w[0].isalpha()) and name not in names:
                names.append(name)
    return names


def _front_matter(draft: Draft) -> tuple[str, list[str], str, list[Block]]:
    """Title, authors, abstract and the remaining body blocks of a draft."""
    blocks = list(draft.blocks)
    title = draft.title
    if title is None:
        idx = next((i for i, b in enumerate(blocks) if b.kind == "title"), None)
        if idx is None:
            idx = next(
                (
                    i
                    for i, b in enumerate(blocks)
                    if b.kind == "heading" and not is_abstract(b.text)
                ),
                None,
            )
        if idx is not None:
            title = clean_heading(blocks[idx].text)
            blocks = blocks[idx + 1 :]
        else:
            title = draft.metadata_title or ""
    authors = draft.authors
    abstract = draft.abstract
    if authors is not None and abstract is not None:
        return title, authors, abstract, blocks
    # front matter: up to the first heading that is not "Abstract"
    end = next(
        (i for i, b in enumerate(blocks) if b.kind == "heading" and not is_abstract(b.text)),
        len(blocks),
    )
    if end == len(blocks) and not any(b.kind == "heading" for b in blocks):
        end = 0  # no heading at all: everything is body text, nothing is front matter
    front, body = blocks[:end], blocks[end:]
    author_lines: list[str] = []
    abstract_parts: list[str] = []
    in_abstract = False
    for b in front:
        if b.kind == "heading":  # the Abstract heading
            in_abstract = True
            continue
        if b.kind == "text" and not in_abstract and _INLINE_ABSTRACT.match(b.text):
            in_abstract = True
            rest = _INLINE_ABSTRACT.sub("", b.text, count=1).strip()
            if rest:
                abstract_parts.append(rest)
            continue
        if in_abstract:
            abstract_parts.append(render_block(b))
        elif b.kind == "text":
            author_lines.append(b.text)
    if not in_abstract:  # no abstract marker: a long front paragraph is the abstract
        long = [t for t in author_lines if len(t) > 300]
        if long:
            abstract_parts = long[:1]
            author_lines = [t for t in author_lines if t not in long]
    if authors is None:
        authors = parse_authors(author_lines[:4])
    if abstract is None:
        abstract = "\n\n".join(p for p in abstract_parts if p)
    return title, authors, abstract, body


def _base_level(blocks: list[Block], letters_ok: bool) -> int | None:
    """The level hint (``#`` count) that numbered top-level sections use."""
    hints = []
    for b in blocks:
        if b.kind == "heading" and b.level is not None:
            h = parse_heading(b.text, letters=letters_ok)
            if h.level == 1 and h.number and h.number[0].isdigit():
                hints.append(b.level)
    if hints:
        return min(hints)
    all_hints = [b.level for b in blocks if b.kind == "heading" and b.level is not None]
    return min(all_hints) if all_hints else None


def check_numbered_order(sections: list[Section]) -> None:
    """Log a warning when printed section numbers go backwards. Sections always stay in the
    order they are printed in: numbers only validate, they never move text."""
    last: tuple[int, ...] | None = None
    last_number = ""
    for s in sections:
        if not s.number:
            continue
        key = number_key(s.number)
        if last is not None and key < last:
            log.warning(
                "section %s comes after section %s in the document; kept in document order",
                s.number,
                last_number,
            )
        last, last_number = key, s.number


def _section(heading: Heading, level: int, parts: list[Block], appendix: bool) -> Section:
    text = "\n\n".join(render_block(b) for b in parts if render_block(b))
    number = f"{heading.number} " if heading.number else ""
    return Section(
        number=heading.number,
        heading=heading.text,
        level=level,
        text=text,
        equations=[b.text.strip() for b in parts if b.kind == "equation"],
        equation_records=[
            Equation(latex=b.text.strip(), number=b.number, image=b.image, page=b.page)
            for b in parts
            if b.kind == "equation"
        ],
        tables=[b.text.strip() for b in parts if b.kind == "table"],
        captions=[b.text.strip() for b in parts if b.kind == "caption"],
        appendix=appendix,
        tokens=count_tokens(f"{number}{heading.text}\n\n{text}"),
    )


def _heading_of(block: Block, letters_ok: bool, base: int | None) -> tuple[Heading, int]:
    """A heading block's heading and level: as the reader numbered it, or parsed from its
    text (the level of its printed number, else its level hint relative to ``base``)."""
    if block.numbered:
        return Heading(block.number, clean_heading(block.text)), block.level or 1
    heading = parse_heading(block.text, letters=letters_ok)
    if heading.level is not None:
        level = heading.level
    elif block.level is not None and base is not None:
        level = max(1, block.level - base + 1)
    else:
        level = 1
    return heading, level


@dataclass
class _SectionWalk:
    """The body's blocks, one at a time, into sections: the section being filled, the blocks
    under the references heading, and whether the appendix has begun."""

    base: int | None
    """The level hint of numbered top-level sections (``_base_level``)."""
    sections: list[Section] = field(default_factory=list)
    ref_blocks: list[str] = field(default_factory=list)
    current: tuple[Heading, int] | None = None
    """Heading and level of the section being filled (None before the first heading)."""
    current_appendix: bool = False
    parts: list[Block] = field(default_factory=list)
    mode: Literal["body", "references"] = "body"
    appendix: bool = False
    letters_ok: bool = False
    """Set once a section has a digit number: from then on "A Proofs" is appendix A."""

    def add(self, block: Block) -> None:
        if block.kind == "appendix":
            self.appendix = True
        elif block.kind != "heading":
            if self.mode == "references":
                self.ref_blocks.append(block.text)
            else:
                self.parts.append(block)
        elif is_references(block.text):
            self.flush()
            self.current, self.parts, self.mode = None, [], "references"
            self.appendix = True  # what follows the references is an appendix
        else:
            self._open_section(block)

    def _open_section(self, block: Block) -> None:
        self.flush()
        self.mode = "body"
        heading, level = _heading_of(block, self.letters_ok, self.base)
        if heading.number and heading.number[0].isdigit():
            self.letters_ok = True
        if heading.appendix and (level == 1 or heading.number is None):
            self.appendix = True
        self.current, self.parts = (heading, level), []
        self.current_appendix = self.appendix

    def flush(self) -> None:
        """Close the section being filled (text before the first heading is the preamble)."""
        if self.current is not None:
            heading, level = self.current
            self.sections.append(_section(heading, level, self.parts, self.current_appendix))
        elif any(render_block(b) for b in self.parts):
            self.sections.append(_section(Heading(None, PREAMBLE), 1, self.parts, False))


def assemble(
    draft: Draft,
    *,
    source: str,
    source_format: Literal["pdf", "latex", "markdown"],
    pages: int | None = None,
) -> Paper:
    """Build the ``Paper`` of a draft. Raises ``PaperError`` when it holds no text at all."""
    title, authors, abstract, body = _front_matter(draft)
    references = list(draft.references)
    walk = _SectionWalk(base=_base_level(body, letters_ok=True))
    for block in body:
        walk.add(block)
    walk.flush()
    sections = walk.sections
    references += split_references(walk.ref_blocks)
    check_numbered_order(sections)
    if not title and not abstract and not any(s.text.strip() for s in sections):
        raise PaperError(f"{source}: the document is empty (no text found)")
    if not title:
        title = sections[0].heading if sections else "Untitled"
    paper = Paper(
        title=title,
        authors=authors,
        abstract=abstract,
        sections=sections,
        references=references,
        source=source,
        source_format=source_format,
        pages=pages,
    )
    paper.tokens = count_tokens(paper.to_markdown(include_references=False))
    return paper
