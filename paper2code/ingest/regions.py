"""Floats of a page: tables, algorithm boxes and figures, found from rules, graphics and
captions.

- An **algorithm** is a caption ``Algorithm N`` between two rules of one width, down to the
  next rule of that width (``algorithm``'s ruled style, algorithm2e's ``ruled``): its lines
  are code.
- A **table** is a run of rules of one width (booktabs' top, mid and bottom rules, or the
  borders of a grid) next to a ``Table N`` caption, or three such rules without one.
- A **figure** is the graphics (images, vector drawings) next to a ``Figure N`` caption; every
  text line inside it (labels of a diagram, axis ticks) belongs to the figure, never to the
  body, so it can never become a heading.

Captions stay in the text; lines inside a float are taken out of the body. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from paper2code.ingest.glyphs import BBox, Line, PageContent, Rule, union
from paper2code.ingest.rows import Row

CAPTION = re.compile(
    r"^\W{0,3}(?P<word>figure|fig\.|table|tab\.|algorithm|listing)\s*"
    r"(?P<num>[A-Z]?\d+(?:\.\d+)?|[IVXLC]+)\b(?P<sep>\s*[.:|—–-])?",
    re.IGNORECASE,
)
_KIND = {"figure": "figure", "fig.": "figure", "table": "table", "tab.": "table",
         "algorithm": "algorithm", "listing": "algorithm"}  # fmt: skip


@dataclass(eq=False)
class Region:
    """A float on one page."""

    kind: Literal["table", "figure", "algorithm"]
    bbox: BBox
    page: int
    lines: list[Line] = field(default_factory=list)
    """Text lines inside (an algorithm's include its caption)."""
    rules: list[Rule] = field(default_factory=list)
    caption: Row | None = None


def caption_kind(row: Row) -> str | None:
    """``figure``/``table``/``algorithm`` when the row starts a caption, else None. The label
    must be followed by a separator (``Table 1:``) or set in bold (``Algorithm 1 Name``), so
    that a sentence starting "Table 2 shows" is not a caption."""
    m = CAPTION.match(row.text)
    if not m:
        return None
    if not m.group("sep"):
        label = m.group(0).strip()
        glyphs = [g for g in row.visible][: len(label.replace(" ", ""))]
        if not glyphs or not all(g.bold for g in glyphs):
            return None
    return _KIND[m.group("word").lower()]


def merge_rules(rules: list[Rule]) -> list[Rule]:
    """Collinear rule segments joined end to end (grid tables draw one per cell)."""
    out: list[Rule] = []
    for r in sorted(rules, key=lambda r: (round(r.y, 0), r.x0)):
        if out and abs(out[-1].y - r.y) < 0.8 and r.x0 <= out[-1].x1 + 1.5:
            last = out[-1]
            out[-1] = Rule(last.x0, max(last.x1, r.x1), last.y, max(last.thickness, r.thickness))
        else:
            out.append(r)
    return out


def _same_extent(a: Rule, b: Rule) -> bool:
    return abs(a.x0 - b.x0) < 3 and abs(a.x1 - b.x1) < 3


def _overlap_x(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def _inside(line: Line, box: BBox, tol: float = 1.5) -> bool:
    x0, y0, x1, y1 = line.bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return box[0] - tol <= cx <= box[2] + tol and box[1] - tol <= cy <= box[3] + tol


def _contains_box(outer: BBox, inner: BBox, tol: float = 2.0) -> bool:
    return (
        outer[0] - tol <= inner[0]
        and inner[2] <= outer[2] + tol
        and outer[1] - tol <= inner[1]
        and inner[3] <= outer[3] + tol
    )


def _clusters(boxes: list[BBox], gap: float) -> list[BBox]:
    groups: list[BBox] = []
    for b in sorted(boxes, key=lambda b: (b[1], b[0])):
        merged = True
        cur = b
        while merged:
            merged = False
            for i, g in enumerate(groups):
                if (
                    cur[0] <= g[2] + gap
                    and g[0] <= cur[2] + gap
                    and cur[1] <= g[3] + gap
                    and g[1] <= cur[3] + gap
                ):
                    cur = union([cur, g])
                    groups.pop(i)
                    merged = True
                    break
        groups.append(cur)
    return groups


def _labels_above(box: BBox, rows: list[Row], captions: list[Row], size: float) -> BBox:
    """The figure's box grown upwards over the labels printed above its graphics (a diagram's
    title): rows close above it, inside its width, not ending a sentence."""
    x0, y0, x1, y1 = box
    while True:
        above = [
            r
            for r in rows
            if r.y1 <= y0 + 1
            and y0 - r.y1 <= 2.0 * size
            and r.x0 >= x0 - size
            and r.x1 <= x1 + size
            and r not in captions
        ]
        if not above:
            return (x0, y0, x1, y1)
        nearest = max(above, key=lambda r: r.y1)
        if re.search(r"[.!?:;,]$", nearest.text.strip()):
            return (x0, y0, x1, y1)
        y0 = min(y0, nearest.y0)


@dataclass
class _PageFloats:
    """The floats of one page as ``find_regions`` finds them, kind by kind: the page's rows
    (without furniture), its captions and wide rules, the ids of the rules already taken by a
    float, and the floats found so far."""

    page: PageContent
    rows: list[Row]
    size: float
    """Body font size."""
    captions: list[tuple[Row, str]]
    """Caption rows with their kind (``caption_kind``)."""
    rules: list[Rule]
    """Merged rules at least three body sizes wide."""
    used: set[int] = field(default_factory=set)
    regions: list[Region] = field(default_factory=list)

    @property
    def caption_rows(self) -> list[Row]:
        return [row for row, _ in self.captions]

    def _captioned(self, kind: str) -> list[Row]:
        return [row for row, k in self.captions if k == kind]

    # ------------------------------------------------------------------ algorithms
    def algorithms(self) -> None:
        """Algorithm boxes: a caption between two rules, down to the next rule as wide as the
        one under the caption."""
        for row in self._captioned("algorithm"):
            self._algorithm(row)

    def _algorithm(self, row: Row) -> None:
        size, span = self.size, (row.x0, row.x1)
        above = [
            r
            for r in self.rules
            if row.y0 - 1.6 * size <= r.y <= row.y0 + 1 and _overlap_x((r.x0, r.x1), span) > 0
        ]
        below = [
            r
            for r in self.rules
            if row.y1 - 1 <= r.y <= row.y1 + 1.6 * size and _overlap_x((r.x0, r.x1), span) > 0
        ]
        if not above or not below:
            return
        top = max(above, key=lambda r: r.y)
        mid = min(below, key=lambda r: r.y)
        ends = [r for r in self.rules if r.y > mid.y + 1 and _same_extent(r, mid)]
        if not ends:
            return
        bottom = min(ends, key=lambda r: r.y)
        box = (min(top.x0, mid.x0), top.y, max(top.x1, mid.x1), bottom.y)
        self.used.update(id(r) for r in (top, mid, bottom))
        self.regions.append(
            Region("algorithm", box, self.page.number, rules=[top, mid, bottom], caption=row)
        )

    # ------------------------------------------------------------------ tables
    def captioned_tables(self) -> None:
        """Tables with a caption: the rules of one width starting next to a table caption."""
        free = [r for r in self.rules if id(r) not in self.used]
        caption_rows = self.caption_rows
        for row in self._captioned("table"):
            self._captioned_table(row, free, caption_rows)

    def _captioned_table(self, row: Row, free: list[Rule], caption_rows: list[Row]) -> None:
        size, span = self.size, (row.x0, row.x1)
        near = [
            r
            for r in free
            if id(r) not in self.used
            and _overlap_x((r.x0, r.x1), span) > 0.3 * (row.x1 - row.x0)
            and (0 <= r.y - row.y1 <= 3 * size or 0 <= row.y0 - r.y <= 3 * size)
        ]
        if not near:
            return
        start = min(near, key=lambda r: min(abs(r.y - row.y1), abs(row.y0 - r.y)))
        chain = self._rule_chain(start, start.y >= row.y1 - 1, free, caption_rows)
        if len(chain) < 2:
            return
        self.used.update(id(r) for r in chain)
        ys = sorted(r.y for r in chain)
        box = (min(r.x0 for r in chain), ys[0], max(r.x1 for r in chain), ys[-1])
        self.regions.append(
            Region(
                "table", box, self.page.number, rules=sorted(chain, key=lambda r: r.y), caption=row
            )
        )

    def _rule_chain(
        self, start: Rule, downwards: bool, free: list[Rule], caption_rows: list[Row]
    ) -> list[Rule]:
        """``start`` and the free rules of its width that follow it (below it, or above it),
        up to a caption between two of them or a gap of more than 0.6 of the page's height."""
        chain = [start]
        candidates = sorted(
            (
                r
                for r in free
                if id(r) not in self.used and r is not start and _same_extent(r, start)
            ),
            key=lambda r: r.y if downwards else -r.y,
        )
        for r in candidates:
            if (r.y < chain[-1].y) == downwards:
                continue
            lo, hi = sorted((chain[-1].y, r.y))
            if (
                any(lo < c.y0 and c.y1 < hi for c in caption_rows)
                or hi - lo > 0.6 * self.page.height
            ):
                break
            chain.append(r)
        return chain

    def uncaptioned_tables(self) -> None:
        """Tables without a caption: three or more rules of one width with text in at least two
        columns between them."""
        page = self.page
        free = [r for r in self.rules if id(r) not in self.used]
        for r in sorted(free, key=lambda r: r.y):
            if id(r) in self.used:
                continue
            chain = [r] + [
                q
                for q in free
                if q is not r and id(q) not in self.used and _same_extent(q, r) and q.y > r.y
            ]
            chain.sort(key=lambda q: q.y)
            if len(chain) >= 3 and chain[-1].y - chain[0].y < 0.6 * page.height:
                box = (r.x0, chain[0].y, r.x1, chain[-1].y)
                inside = [ln for ln in page.lines if _inside(ln, box)]
                if len({round(ln.bbox[0]) for ln in inside}) >= 2:
                    self.used.update(id(q) for q in chain)
                    self.regions.append(Region("table", box, page.number, rules=chain))

    # ------------------------------------------------------------------ figures
    def figures(self) -> None:
        """Figures: the graphics next to a figure caption (each cluster in one figure only)."""
        clusters = self._graphic_clusters()
        for row in self._captioned("figure"):
            box = self._figure_box(row, clusters)
            if box is None:
                continue
            clusters = [
                c
                for c in clusters
                if not (
                    box[0] <= c[0] and c[2] <= box[2] and box[1] - 1 <= c[1] and c[3] <= box[3] + 1
                )
            ]
            self.regions.append(Region("figure", box, self.page.number, caption=row))

    def _graphic_clusters(self) -> list[BBox]:
        """Clusters of the graphics outside the tables and algorithms found so far, with box
        edges drawn as lines (rules of tables and algorithms do not count); each holds a
        graphic."""
        page, regions = self.page, self.regions
        tables = [g.bbox for g in regions]
        graphics = [
            b
            for b in page.graphics
            if not any(
                t[0] - 2 <= b[0] and b[2] <= t[2] + 2 and t[1] - 2 <= b[1] and b[3] <= t[3] + 2
                for t in tables
            )
        ]
        taken = {r for reg in regions for r in reg.rules}
        loose = [
            (r.x0, r.y - 0.5, r.x1, r.y + 0.5)
            for r in merge_rules(page.rules)
            if r not in taken
            and not any(_contains_box(reg.bbox, (r.x0, r.y, r.x1, r.y)) for reg in regions)
        ]
        return [
            c
            for c in _clusters(graphics + loose, 0.6 * self.size)
            if any(_contains_box(c, g) for g in graphics)
        ]

    def _figure_box(self, row: Row, clusters: list[BBox]) -> BBox | None:
        """The box of the figure captioned by ``row``: the graphics just above the caption
        (with the labels over them), else those just below it; None without graphics."""
        size, span = self.size, (row.x0, row.x1)
        above = [
            c
            for c in clusters
            if c[3] <= row.y0 + 2
            and row.y0 - c[3] <= 8 * size
            and _overlap_x((c[0], c[2]), span) > 0
        ]
        below = [
            c
            for c in clusters
            if c[1] >= row.y1 - 2
            and c[1] - row.y1 <= 8 * size
            and _overlap_x((c[0], c[2]), span) > 0
        ]
        if above:
            return self._box_above(row, above, clusters)
        if below:
            first = min(below, key=lambda c: c[1])
            box = union([first])
            return (box[0] - 0.5 * size, row.y1 + 0.5, box[2] + 0.5 * size, box[3])
        return None

    def _box_above(self, row: Row, above: list[BBox], clusters: list[BBox]) -> BBox:
        """The figure above its caption ``row``: the nearest cluster ``above`` it, grown
        upwards over the clusters stacked on it and over the labels printed above them."""
        size, span = self.size, (row.x0, row.x1)
        first = max(above, key=lambda c: c[3])
        group = [first]
        for c in sorted(clusters, key=lambda c: -c[3]):
            top = min(g[1] for g in group)
            if (
                c not in group
                and c[3] <= top + 2
                and top - c[3] <= 2 * size
                and _overlap_x((c[0], c[2]), span) > 0
            ):
                group.append(c)
        box = union(group)
        box = (box[0] - 0.5 * size, box[1], box[2] + 0.5 * size, row.y0 - 0.5)
        return _labels_above(box, self.rows, self.caption_rows, size)

    # ------------------------------------------------------------------ lines
    def assign_lines(self) -> None:
        """Each float's text lines (an algorithm's include its caption, others' do not)."""
        for reg in self.regions:
            reg.lines = [ln for ln in self.page.lines if _inside(ln, reg.bbox)]
            if reg.kind != "algorithm" and reg.caption is not None:
                reg.lines = [ln for ln in reg.lines if ln not in reg.caption.lines]


def find_regions(page: PageContent, rows: list[Row], size: float) -> list[Region]:
    """The floats of a page (``rows``: its rows without furniture; ``size``: body font
    size)."""
    captions = [(r, k) for r in rows if (k := caption_kind(r)) is not None]
    rules = [r for r in merge_rules(page.rules) if r.width >= 3 * size]
    floats = _PageFloats(page, rows, size, captions, rules)
    floats.algorithms()
    floats.captioned_tables()
    floats.uncaptioned_tables()
    floats.figures()
    floats.assign_lines()
    return floats.regions


def graphic_boxes(page: PageContent, size: float) -> list[BBox]:
    """Clusters of graphics (text inside them is never a heading)."""
    return _clusters(list(page.graphics), 0.6 * size)
