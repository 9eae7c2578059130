"""Page furniture: running heads, journal footers, conference banners and page numbers.

A row is furniture when it sits in the top or bottom margin band of its page and either is a
bare page number or repeats on several pages once digits are ignored (``12 · Liu, Ting and
Zhou`` and ``14 · Liu, Ting and Zhou`` are one running head; even and odd pages may carry
different ones). Furniture is dropped before anything else looks at the page, so it can never
become a heading or split a paragraph. Pure functions over rows.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from paper2code.ingest.rows import Row

MARGIN_BAND = 0.11
"""Share of the page height at the top and at the bottom where furniture is looked for."""
_PAGE_NUMBER = re.compile(
    r"^[\W_]*(?:page\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?[\W_]*$", re.I
)


def furniture_key(text: str) -> str:
    """The text of a row with digits and spacing normalized (page numbers vary)."""
    text = re.sub(r"\d+", "#", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def _in_band(row: Row, height: float) -> bool:
    return row.y1 <= MARGIN_BAND * height or row.y0 >= (1 - MARGIN_BAND) * height


def find_furniture(pages: list[list[Row]], heights: list[float]) -> set[int]:
    """``id()`` of every furniture row of a document (rows per page, page heights)."""
    n = len(pages)
    need = max(2, math.ceil(0.25 * n)) if n >= 3 else n if n == 2 else 10**9
    seen: dict[str, set[int]] = defaultdict(set)
    candidates: list[tuple[Row, str]] = []
    found: set[int] = set()
    for p, (rows, height) in enumerate(zip(pages, heights, strict=True)):
        banded = [r for r in rows if _in_band(r, height)]
        if not rows:
            continue
        top = min(r.y0 for r in rows)
        bottom = max(r.y1 for r in rows)
        ordered = sorted(rows, key=lambda r: r.y0)
        for r, gap in ((ordered[-1], ordered[-1].y0 - max((x.y1 for x in ordered[:-1]), default=0)),
                       (ordered[0], min((x.y0 for x in ordered[1:]), default=height) - ordered[0].y1)):  # fmt: skip
            # a bare number set apart below (or above) everything else is a page number
            if _PAGE_NUMBER.match(r.text.strip()) and gap > 1.5 * max(r.size, 1):
                found.add(id(r))
        for r in banded:
            text = r.text.strip()
            outermost = r.y0 <= top + 1 or r.y1 >= bottom - 1
            if _PAGE_NUMBER.match(text) and outermost:
                found.add(id(r))
                continue
            key = furniture_key(text)
            if sum(c.isalpha() for c in key) < 3:
                continue
            seen[key].add(p)
            candidates.append((r, key))
    for r, key in candidates:
        if len(seen[key]) >= need:
            found.add(id(r))
    return found
