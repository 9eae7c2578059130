"""Section headings: printed numbers, levels, and the headings with a special role
(abstract, references, appendix). Pure functions over strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKUP = re.compile(r"(\*\*|__|(?<!\w)[*_]|[*_](?!\w)|`)")
_ARABIC = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<rest>\S.*)$")
_LETTER = re.compile(r"^(?P<num>[A-H](?:\.\d{1,2}){0,3})(?:\.|:)?\s+(?P<rest>[A-Z0-9].*)$")
_APPENDIX = re.compile(
    r"^(?:appendix|appendices|supplementary(?:\s+material)?|supplemental\s+material)"
    r"(?:\s+(?P<num>(?-i:[A-Z])(?:\.\d{1,2})*)\b)?\s*[:.\-—–]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_REFERENCES = re.compile(
    r"^(?:references?|bibliography|literature\s+cited|works\s+cited|cited\s+works)$",
    re.IGNORECASE,
)
_ABSTRACT = re.compile(r"^abstract$", re.IGNORECASE)


@dataclass(frozen=True)
class Heading:
    """A parsed heading."""

    number: str | None
    text: str
    appendix: bool = False
    """The heading itself says it starts or belongs to an appendix."""

    @property
    def level(self) -> int | None:
        """Depth implied by the number (``3`` → 1, ``3.1`` → 2), None when unnumbered."""
        return None if self.number is None else self.number.count(".") + 1


def clean_heading(text: str) -> str:
    """Heading text without Markdown emphasis, anchors or doubled spaces."""
    text = _MARKUP.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(".:").strip()


def parse_heading(text: str, *, letters: bool = False) -> Heading:
    """Split ``"3.1 Encoder"`` into number ``"3.1"`` and text ``"Encoder"``.

    ``letters`` allows appendix-style numbers (``"A Proofs"``, ``"B.2 Setup"``); callers turn it
    on only after numbered sections have been seen, so that a heading like ``"A Study of X"``
    before them keeps its first word.
    """
    text = clean_heading(text)
    m = _APPENDIX.match(text)
    if m:
        rest = m.group("rest").strip() or text
        return Heading(m.group("num"), rest if m.group("num") else text, appendix=True)
    m = _ARABIC.match(text)
    if m and not re.match(r"^\d{3,}", text):
        return Heading(m.group("num"), m.group("rest").strip())
    m = _LETTER.match(text)
    if m and (letters or "." in m.group("num")):
        return Heading(m.group("num"), m.group("rest").strip(), appendix=True)
    return Heading(None, text)


def is_references(text: str) -> bool:
    return bool(_REFERENCES.match(clean_heading(text)))


def is_abstract(text: str) -> bool:
    return bool(_ABSTRACT.match(clean_heading(text)))


def number_key(number: str) -> tuple[int, ...]:
    """Sort key of a section number: arabic numbers first, then appendix letters."""
    head, *rest = number.split(".")
    first = int(head) if head.isdigit() else 1000 + ord(head.upper()) - ord("A")
    return (first, *(int(p) if p.isdigit() else 0 for p in rest))
