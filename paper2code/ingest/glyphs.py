"""A PDF page as plain data: glyphs with font, size, exact box and baseline; text lines;
horizontal rules; graphics. ``pdfpage.read_page`` fills these from PyMuPDF; everything after it
(layout, math, tables) is pure functions over them."""

from __future__ import annotations

from dataclasses import dataclass, field

from paper2code.ingest import fonts

BBox = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in points, y downwards."""


class Boxed:
    """The edges of a ``bbox`` (x0, y0, x1, y1) by name."""

    __slots__ = ()
    bbox: BBox

    @property
    def x0(self) -> float:
        return self.bbox[0]

    @property
    def x1(self) -> float:
        return self.bbox[2]

    @property
    def y0(self) -> float:
        return self.bbox[1]

    @property
    def y1(self) -> float:
        return self.bbox[3]


@dataclass(frozen=True, slots=True)
class Glyph(Boxed):
    """One character as printed."""

    c: str
    """Unicode text; for TeX's extension font (``CMEX``) the raw character code."""
    font: str
    """Font name without the subset prefix."""
    size: float
    bbox: BBox
    """The glyph's own outline box (not the font's line box)."""
    ox: float
    oy: float
    """Origin: the glyph's reference point on its baseline."""
    flags: int = 0

    @property
    def math(self) -> bool:
        return fonts.is_math_font(self.font)

    @property
    def bold(self) -> bool:
        return fonts.is_bold(self.font, self.flags)

    @property
    def italic(self) -> bool:
        return fonts.is_italic(self.font, self.flags) and not self.math


@dataclass(frozen=True, slots=True)
class Span:
    """Consecutive glyphs of one font and size on one line."""

    glyphs: tuple[Glyph, ...]
    font: str
    size: float
    flags: int
    bbox: BBox

    @property
    def text(self) -> str:
        return "".join(g.c for g in self.glyphs)

    @property
    def bold(self) -> bool:
        return fonts.is_bold(self.font, self.flags)

    @property
    def italic(self) -> bool:
        return fonts.is_italic(self.font, self.flags)

    @property
    def mono(self) -> bool:
        return fonts.is_mono(self.font, self.flags)

    @property
    def math(self) -> bool:
        return fonts.is_math_font(self.font)


@dataclass(slots=True)
class Line:
    """A run of spans the PDF engine put on one text line (a visual line may be split into
    several, e.g. a heading number and its title, or an equation and its number)."""

    spans: list[Span]
    bbox: BBox
    page: int
    """1-based page number."""

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    @property
    def glyphs(self) -> list[Glyph]:
        return [g for s in self.spans for g in s.glyphs]


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal rule: fraction bar, radical vinculum, table or algorithm rule."""

    x0: float
    x1: float
    y: float
    thickness: float = 0.4

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass(slots=True)
class PageContent:
    """Everything ingestion uses from one page."""

    number: int
    """1-based."""
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    graphics: list[BBox] = field(default_factory=list)
    """Boxes of images and of vector drawings that are not horizontal rules."""


def union(boxes: list[BBox]) -> BBox:
    """The smallest box holding all ``boxes`` (which must not be empty)."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
