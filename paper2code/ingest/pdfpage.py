"""One PDF page read with PyMuPDF into plain data (``glyphs.PageContent``): text lines with
per-glyph fonts, outline boxes and baselines; horizontal rules; boxes of images and vector
graphics. The only module besides ``pdf.py`` that touches PyMuPDF."""

from __future__ import annotations

from typing import Any

import pymupdf

from paper2code.ingest.fonts import base_name
from paper2code.ingest.glyphs import BBox, Glyph, Line, PageContent, Rule, Span

TEXT_FLAGS = (
    pymupdf.TEXT_PRESERVE_WHITESPACE
    | pymupdf.TEXT_MEDIABOX_CLIP
    | pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE
    | pymupdf.TEXT_ACCURATE_BBOXES
)
"""Ligatures expanded (``ﬁ`` → ``fi``), glyph outline boxes, character codes for glyphs
without Unicode (TeX's extension font)."""

_RULE_MAX_THICKNESS = 1.6
_MIN_RULE = 2.5


def _span(raw: dict[str, Any]) -> Span:
    font = base_name(raw["font"])
    size = float(raw["size"])
    flags = int(raw["flags"])
    glyphs = tuple(
        Glyph(
            c=ch["c"],
            font=font,
            size=size,
            bbox=tuple(ch["bbox"]),  # type: ignore[arg-type]
            ox=ch["origin"][0],
            oy=ch["origin"][1],
            flags=flags,
        )
        for ch in raw["chars"]
    )
    return Span(glyphs, font, size, flags, tuple(raw["bbox"]))  # type: ignore[arg-type]


def _lines(page: pymupdf.Page, number: int) -> list[Line]:
    out: list[Line] = []
    data = page.get_text("rawdict", flags=TEXT_FLAGS)
    for block in data["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            dx, dy = line["dir"]
            if abs(dy) > 0.05 or dx < 0:  # rotated text: margin stamps, rotated tables
                continue
            spans = [_span(s) for s in line["spans"] if s["chars"]]
            if spans and any(g.c.strip() for s in spans for g in s.glyphs):
                out.append(Line(spans, tuple(line["bbox"]), number))  # type: ignore[arg-type]
    return out


def _drawings(page: pymupdf.Page) -> tuple[list[Rule], list[BBox]]:
    rules: list[Rule] = []
    graphics: list[BBox] = []
    for path in page.get_drawings():
        if path.get("fill_opacity", 1) == 0 and path.get("stroke_opacity", 1) == 0:
            continue
        for item in path["items"]:
            kind = item[0]
            if kind == "l":
                p, q = item[1], item[2]
                if abs(p.y - q.y) < 0.6 and abs(q.x - p.x) >= _MIN_RULE:
                    width = path.get("width") or 0.4
                    rules.append(Rule(min(p.x, q.x), max(p.x, q.x), (p.y + q.y) / 2, width))
                    continue
                box = (min(p.x, q.x), min(p.y, q.y), max(p.x, q.x), max(p.y, q.y))
            elif kind == "re":
                r = item[1]
                if r.height <= _RULE_MAX_THICKNESS and r.width >= _MIN_RULE and path.get("fill"):
                    rules.append(Rule(r.x0, r.x1, (r.y0 + r.y1) / 2, r.height))
                    continue
                box = (r.x0, r.y0, r.x1, r.y1)
            elif kind == "qu":
                r = item[1].rect
                box = (r.x0, r.y0, r.x1, r.y1)
            else:  # curves
                pts = item[1:]
                xs = [pt.x for pt in pts if hasattr(pt, "x")]
                ys = [pt.y for pt in pts if hasattr(pt, "y")]
                if not xs:
                    continue
                box = (min(xs), min(ys), max(xs), max(ys))
            graphics.append(box)
    return rules, graphics


def read_page(page: pymupdf.Page) -> PageContent:
    """The content of ``page`` as plain data."""
    number = page.number + 1
    rect = page.rect
    content = PageContent(number=number, width=rect.width, height=rect.height)
    content.lines = _lines(page, number)
    content.rules, content.graphics = _drawings(page)
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        if x1 - x0 > 2 and y1 - y0 > 2:
            content.graphics.append((x0, y0, x1, y1))
    return content
