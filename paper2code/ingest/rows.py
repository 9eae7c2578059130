"""Visual rows of a page and the order a reader follows them.

The PDF engine's lines are merged into rows (pieces of one printed line: a heading number and
its title, an equation and its number, the names of an author block). Each row is put in the
left column, the right column, or across both ("full"); two-column pages are read band by
band (``reading_order.column_order``), single-column pages top to bottom. Pure functions.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from paper2code.ingest.glyphs import BBox, Boxed, Glyph, Line, union
from paper2code.ingest.reading_order import column_order


@dataclass(eq=False)
class Row(Boxed):
    """Lines of one page printed on one baseline (within one column)."""

    lines: list[Line]
    page: int
    side: str = "full"
    """``left``, ``right`` or ``full`` (across the columns, or a single-column page)."""
    tags: set[str] = field(default_factory=set)
    region: object | None = None
    """For a placeholder row standing for a float (``regions.Region``) in the reading order."""
    box: BBox | None = None
    """The placeholder's box (a row of lines computes its own)."""

    @cached_property
    def bbox(self) -> BBox:
        if self.box is not None:
            return self.box
        return union([ln.bbox for ln in self.lines])

    @cached_property
    def glyphs(self) -> list[Glyph]:
        return [g for ln in sorted(self.lines, key=lambda ln: ln.bbox[0]) for g in ln.glyphs]

    @cached_property
    def visible(self) -> list[Glyph]:
        return [g for g in self.glyphs if g.c.strip()]

    @cached_property
    def size(self) -> float:
        """The most common font size of the row's glyphs."""
        sizes = Counter(round(g.size, 1) for g in self.visible)
        return sizes.most_common(1)[0][0] if sizes else 0.0

    @cached_property
    def baseline(self) -> float:
        main = [g.oy for g in self.visible if abs(g.size - self.size) < 0.3] or [self.y1]
        return statistics.median(main)

    @cached_property
    def text(self) -> str:
        """The row's text; pieces far apart are separated by three spaces."""
        out = ""
        last_x1: float | None = None
        for ln in sorted(self.lines, key=lambda ln: ln.bbox[0]):
            t = ln.text.strip()
            if not t:
                continue
            if last_x1 is not None:
                gap = ln.bbox[0] - last_x1
                out += "   " if gap > 2 * max(self.size, 1) else " "
            out += t
            last_x1 = ln.bbox[2]
        return out

    @cached_property
    def bold_share(self) -> float:
        letters = [g for g in self.visible if g.c.isalnum()]
        return sum(g.bold for g in letters) / len(letters) if letters else 0.0

    @cached_property
    def italic_share(self) -> float:
        letters = [g for g in self.visible if g.c.isalnum()]
        return sum(g.italic for g in letters) / len(letters) if letters else 0.0

    @cached_property
    def math_share(self) -> float:
        vis = self.visible
        return sum(g.math for g in vis) / len(vis) if vis else 0.0


def _line_baseline(line: Line) -> float:
    glyphs = [g for g in line.glyphs if g.c.strip()]
    if not glyphs:
        return line.bbox[3]
    top = max(g.size for g in glyphs)
    return statistics.median(g.oy for g in glyphs if g.size >= 0.9 * top)


def side_of(box: BBox, width: float) -> str:
    """``left``/``right`` for a box in one half of a two-column page; ``full`` for one that
    spans the gutter (title, wide float) or is narrow and centred (a page number). A box that
    reaches only a little over the centre line (an overfull line) keeps the side of its
    centre."""
    mid = width / 2
    tol = 0.02 * width
    x0, _, x1, _ = box
    if x1 <= mid + tol and x0 < mid - tol:
        return "left"
    if x0 >= mid - tol and x1 > mid + tol:
        return "right"
    if x0 < mid - 0.1 * width and x1 > mid + 0.1 * width:
        return "full"
    if x1 - x0 < 0.25 * width and abs((x0 + x1) / 2 - mid) < 0.05 * width:
        return "full"
    return "left" if (x0 + x1) / 2 < mid else "right"


def two_columns(boxes: list[BBox], width: float, height: float) -> bool:
    """Whether text lines (their boxes) are set in two columns: lines a third of the page
    wide or more stand in both halves (at least a few in each, a short right column allowed),
    and fewer of them run across the centre."""
    count = {"left": 0, "right": 0, "full": 0}
    for b in boxes:
        if b[2] - b[0] >= 0.3 * width:
            count[side_of(b, width)] += 1
    columns = count["left"] + count["right"]
    return (
        min(count["left"], count["right"]) >= 2
        and max(count["left"], count["right"]) >= 4
        and count["full"] < 0.5 * columns
    )


def page_rows(
    lines: list[Line],
    width: float,
    height: float,
    *,
    extra: list[Row] = (),  # type: ignore[assignment]
    two_column: bool | None = None,
) -> list[Row]:
    """The rows of one page in reading order; ``extra`` rows (placeholders for floats, with
    their own box) are ordered with them. ``two_column`` overrides the page's detection."""
    if not lines and not extra:
        return []
    boxes = [ln.bbox for ln in lines]
    two = two_columns(boxes, width, height) if two_column is None else two_column
    sides = [side_of(b, width) if two else "full" for b in boxes]
    baselines = [_line_baseline(ln) for ln in lines]
    # merge lines on one baseline and side; a full-width line absorbs column pieces on its
    # baseline (an author block whose middle name crosses the centre)
    order = sorted(range(len(lines)), key=lambda i: (baselines[i], boxes[i][0]))
    rows: list[tuple[float, str, list[int]]] = []
    for i in order:
        size = max((g.size for g in lines[i].glyphs), default=10.0)
        placed = False
        for k in range(len(rows) - 1, -1, -1):
            base, side, members = rows[k]
            if baselines[i] - base > 0.3 * size:
                break
            same = side == sides[i] or "full" in (side, sides[i])
            if not same or (side != sides[i] and not _crosses(lines, [*members, i], width)):
                continue
            members.append(i)
            rows[k] = (base, "full" if "full" in (side, sides[i]) else side, members)
            placed = True
            break
        if not placed:
            rows.append((baselines[i], sides[i], [i]))
    out = [
        Row([lines[i] for i in members], lines[members[0]].page, side) for _, side, members in rows
    ]
    out = _attach_scripts(out)
    for r in extra:
        r.side = side_of(r.bbox, width) if two else "full"
        out.append(r)
    if not two:
        return sorted(out, key=lambda r: (r.baseline, r.x0))
    return column_order(out, [r.bbox for r in out], width, height, sides=[r.side for r in out])


def _attach_scripts(rows: list[Row]) -> list[Row]:
    """A row of a few small glyphs (a sub- or superscript the engine put on a line of its
    own) joins the row it hangs from."""
    out: list[Row] = []
    small = []
    for r in rows:
        vis = r.visible
        if vis and len(vis) <= 8 and all(g.size < 0.85 * _host_size(r, rows) for g in vis):
            small.append(r)
        else:
            out.append(r)
    for r in small:
        hosts = [
            h
            for h in out
            if h.side == r.side
            and h.x0 - 1 <= r.x0
            and r.x1 <= h.x1 + 1
            and r.y0 < h.y1
            and h.y0 < r.y1
        ]
        if hosts:
            host = min(hosts, key=lambda h: abs(h.baseline - r.baseline))
            host.lines.extend(r.lines)
            for attr in ("bbox", "glyphs", "visible", "text", "bold_share", "italic_share",
                         "math_share"):  # fmt: skip
                host.__dict__.pop(attr, None)
        else:
            out.append(r)
    return sorted(out, key=lambda r: (r.baseline, r.x0))


def _host_size(row: Row, rows: list[Row]) -> float:
    """The largest text size of the rows overlapping ``row`` vertically (itself excluded)."""
    sizes = [
        h.size
        for h in rows
        if h is not row and h.side == row.side and h.y0 < row.y1 and row.y0 < h.y1
    ]
    return max(sizes, default=0.0)


def _crosses(lines: list[Line], members: list[int], width: float) -> bool:
    """Whether pieces on one baseline together reach across the page centre line."""
    x0 = min(lines[i].bbox[0] for i in members)
    x1 = max(lines[i].bbox[2] for i in members)
    return x0 < width / 2 < x1
