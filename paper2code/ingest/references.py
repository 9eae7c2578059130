"""Reference lists: one entry per reference, whatever the source's markup. Pure functions."""

from __future__ import annotations

import re

_BRACKET = re.compile(r"(?:^|(?<=\s))\[(\d{1,3})\]\s+")
_NUMBERED_LINE = re.compile(r"^\s*(\d{1,3})[.)]\s+", re.MULTILINE)
_BULLET = re.compile(r"^\s*[-*+•]\s+", re.MULTILINE)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _split_brackets(text: str) -> tuple[list[str], bool]:
    if not (_BRACKET.match(text) or len(_BRACKET.findall(text)) >= 2):
        return [text], False
    parts = _BRACKET.split(text)
    # split() interleaves the captured numbers: [before, n1, entry1, n2, entry2, ...]
    head, entries = parts[0], parts[2::2]
    return ([head] if head.strip() else []) + entries, not head.strip()


def _split_one(text: str) -> tuple[list[str], bool]:
    """Entries in one block of reference text, and whether the block began with a marker."""
    text = text.strip()
    marked = False
    parts = [text]
    if _BULLET.match(text):
        parts, marked = _BULLET.split(text), True
    elif _NUMBERED_LINE.match(text):
        parts, marked = _NUMBERED_LINE.split(text)[0::2], True
    entries: list[str] = []
    for i, part in enumerate(p for p in parts if p.strip()):
        split, bracketed = _split_brackets(part.strip())
        marked = marked or (bracketed and i == 0)
        entries += split
    return [_squash(e) for e in entries if e.strip()], marked


def split_references(blocks: list[str]) -> list[str]:
    """Reference entries from the blocks of a References section.

    ``[1] …``, ``1. …`` and bullet markers separate entries (and are removed); without markers
    each block (paragraph) is one entry. When most blocks start with a marker, a block that does
    not is the continuation of the previous entry (a reference broken across columns or pages).
    """
    split = [_split_one(b) for b in blocks if b.strip()]
    marked = sum(1 for _, m in split if m)
    mostly_marked = marked >= max(1, len(split) // 2)
    entries: list[str] = []
    for parts, starts_with_marker in split:
        if not parts:
            continue
        if mostly_marked and not starts_with_marker and entries:
            entries[-1] = f"{entries[-1]} {parts[0]}"
            parts = parts[1:]
        entries.extend(parts)
    return entries
