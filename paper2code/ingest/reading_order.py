"""Reading order of the boxes of one page, from geometry alone.

A layout engine may interleave the columns of a two-column page (a right-column paragraph
between two left-column ones). The order a reader follows is: full-width boxes (title block,
wide figures and tables) split the page into horizontal bands; within a band the whole left
column comes before the whole right column. Pure function over bounding boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

BBox = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in points, y downwards."""

_TOLERANCE = 0.02
"""How far (fraction of page width) a column box may reach across the centre line."""
_MIN_COLUMN_SHARE = 0.12
"""A page counts as two-column when each column's boxes cover this share of the page height."""


def _side(box: BBox, width: float) -> str:
    """``left``/``right`` for a box inside one half (up to a tolerance), else ``full`` (it spans
    the gutter, or is a narrow centred item such as a page number)."""
    mid, tol = width / 2, width * _TOLERANCE
    if box[2] <= mid + tol and box[0] < mid - tol:
        return "left"
    if box[0] >= mid - tol and box[2] > mid + tol:
        return "right"
    return "full"


def is_two_column(boxes: Sequence[BBox], width: float, height: float) -> bool:
    """True when both halves of the page hold a substantial column of boxes."""
    covered = {"left": 0.0, "right": 0.0, "full": 0.0}
    for b in boxes:
        covered[_side(b, width)] += max(0.0, b[3] - b[1])
    need = _MIN_COLUMN_SHARE * height
    return covered["left"] >= need and covered["right"] >= need


def column_order(
    items: Sequence[T],
    boxes: Sequence[BBox],
    width: float,
    height: float,
    *,
    sides: Sequence[str] | None = None,
) -> list[T]:
    """``items`` (one per box) in reading order.

    Single-column pages keep the given order (the layout engine's, which is right there).
    Two-column pages are read band by band: the full-width boxes sorted top to bottom separate
    bands; in each band, left-column boxes top to bottom, then right-column boxes. ``sides``
    (``left``/``right``/``full`` per box) overrides the side computed from each box.
    """
    if len(items) != len(boxes) or (sides is not None and len(sides) != len(boxes)):
        raise ValueError("one box per item")
    if sides is None:
        if not is_two_column(boxes, width, height):
            return list(items)
        sides = [_side(b, width) for b in boxes]
    full = sorted((i for i, s in enumerate(sides) if s == "full"), key=lambda i: boxes[i][1])
    # band k holds the column boxes whose centre lies above full box k (the last band: below all)
    cuts = [boxes[i][1] for i in full]
    bands: list[dict[str, list[int]]] = [{"left": [], "right": []} for _ in range(len(full) + 1)]
    for i, side in enumerate(sides):
        if side == "full":
            continue
        centre = (boxes[i][1] + boxes[i][3]) / 2
        k = sum(1 for c in cuts if c <= centre)
        bands[k][side].append(i)
    order: list[int] = []
    for k, band in enumerate(bands):
        for side in ("left", "right"):
            order += sorted(band[side], key=lambda i: (boxes[i][1], boxes[i][0]))
        if k < len(full):
            order.append(full[k])
    return [items[i] for i in order]
