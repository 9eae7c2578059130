"""From the pages of a PDF (plain data) to the blocks of a ``Draft``, in reading order.

1. Rows of each page; page furniture (running heads, footers, banners, page numbers) dropped.
2. Floats found and taken out of the body: algorithm boxes (→ code), tables (→ Markdown),
   figures (their inner text dropped, so a diagram label never becomes a heading). Each float
   keeps its place in the reading order.
3. The body read row by row: headings (bold or larger, numbered as sections are, or named as
   unnumbered sections are, checked against the styles of the numbered ones), captions,
   display equations (centred math, or math with an equation number; the rows of one
   fraction or of one ``align`` grouped) recovered by ``mathlayout``, paragraphs (joined across
   lines, columns and pages, de-hyphenated, inline math as ``$…$``), the references (split off
   however their heading is set: a section heading, bold text starting a paragraph, or
   "Bibliography"; one entry per hanging indent or label) and an appendix after them.

Text is never moved away from where it is printed: section numbers only validate headings.
Pure functions over ``PageContent``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from paper2code.ingest import fonts
from paper2code.ingest.blocks import Block
from paper2code.ingest.furniture import find_furniture
from paper2code.ingest.glyphs import BBox, Glyph, Line, PageContent, union
from paper2code.ingest.headings import is_references, number_key, parse_heading
from paper2code.ingest.mathlayout import glyphs_to_latex
from paper2code.ingest.pdftables import table_markdown
from paper2code.ingest.regions import (
    Region,
    caption_kind,
    find_regions,
    graphic_boxes,
    merge_rules,
)
from paper2code.ingest.rows import Row, page_rows, two_columns
from paper2code.ingest.textrender import (
    TextStyle,
    clean_text,
    document_style,
    is_bullet,
    render_glyphs,
)

_EQ_NUMBER = re.compile(r"\(\s*([A-Z]?\d{1,3}(?:\.\d{1,3})?[a-z]?)\s*\)$")
_KNOWN_UNNUMBERED = re.compile(
    r"^(abstract|acknowledge?ments?|references|bibliography|appendix.*|appendices|"
    r"conclusions?|introduction|related work|discussion|limitations|broader impacts?.*|"
    r"ethics statement|reproducibility statement|impact statement|supplementary material.*|"
    r"checklist|author contributions|funding|literature cited|works cited)$",
    re.IGNORECASE,
)
_REF_LABEL = re.compile(r"^\s*(\[[^\]]{1,20}\]|\d{1,3}\.)\s")


@dataclass
class EquationCrop:
    """Where a display equation is printed (to crop its image)."""

    block: Block
    page: int
    bbox: BBox


@dataclass
class Layout:
    """What ``layout_pages`` found."""

    blocks: list[Block]
    equations: list[EquationCrop] = field(default_factory=list)


@dataclass
class _Column:
    left: float
    right: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    @property
    def width(self) -> float:
        return self.right - self.left


@dataclass
class _Walk:
    """Where ``_Reader.read`` is: the open paragraph and the blocks held until it ends, the
    rows of the references, the part of the document (front matter, body, references) and
    what earlier headings tell the next ones."""

    eq_groups: dict[int, list[Row]] = field(default_factory=dict)
    """The rows of each display equation, by the ``id`` of its first row."""
    in_group: set[int] = field(default_factory=set)
    """The ``id`` of every row of a display equation."""
    para: list[Row] = field(default_factory=list)
    pending: list[Block] = field(default_factory=list)
    """Floats, captions and footnotes printed inside the open paragraph."""
    refs: list[Row] = field(default_factory=list)
    mode: Literal["front", "body", "references"] = "front"
    refs_at: int = 0
    """Index in the blocks where floats among the references go (before the references)."""
    title_done: bool = False
    seen_numbered: bool = False
    last_key: tuple[int, ...] | None = None
    """The number of the last numbered section (``number_key``)."""
    after_refs: bool = False


def _mode(values: list[float]) -> float:
    return Counter(round(v) for v in values).most_common(1)[0][0]


class _Reader:
    """Walks the rows of a document once, emitting blocks."""

    def __init__(self, pages: list[PageContent]) -> None:
        self.pages = {p.number: p for p in pages}
        sample = [g for p in pages for ln in p.lines for g in ln.glyphs]
        self.style: TextStyle = document_style(sample)
        self.size = self.style.size
        self.layout = Layout(blocks=[])
        self.rows: list[Row] = []
        self.graphics: dict[int, list[BBox]] = {}
        self._prepare(pages)
        self.columns = self._columns()
        self.heading_styles = self._heading_styles()
        self.walk = _Walk()

    # ------------------------------------------------------------------ preparation
    def _prepare(self, pages: list[PageContent]) -> None:
        first = [page_rows(p.lines, p.width, p.height) for p in pages]
        furniture = find_furniture(first, [p.height for p in pages])
        for page, rows in zip(pages, first, strict=True):
            drop = {id(ln) for r in rows if id(r) in furniture for ln in r.lines}
            lines = [ln for ln in page.lines if id(ln) not in drop]
            body = PageContent(page.number, page.width, page.height, lines, page.rules,
                               page.graphics)  # fmt: skip
            two = two_columns([ln.bbox for ln in lines], page.width, page.height)
            rows = page_rows(lines, page.width, page.height, two_column=two)
            regions = find_regions(body, rows, self.size)
            taken = {id(ln) for reg in regions for ln in reg.lines}
            rest = [ln for ln in lines if id(ln) not in taken]
            holders = [Row([], page.number, region=reg, box=reg.bbox) for reg in regions]
            self.rows += page_rows(rest, page.width, page.height, extra=holders, two_column=two)
            self.graphics[page.number] = [
                b for b in graphic_boxes(body, self.size) if not any(
                    r.kind == "table" and _contains(r.bbox, b) for r in regions)
            ]  # fmt: skip

    def _columns(self) -> dict[tuple[int, str], _Column]:
        groups: dict[tuple[int, str], list[Row]] = {}
        for r in self.rows:
            if r.region is None and abs(r.size - self.size) < 1.0 and len(r.text) > 25:
                groups.setdefault((r.page, r.side), []).append(r)
        out: dict[tuple[int, str], _Column] = {}
        for key, rows in groups.items():
            out[key] = _Column(_mode([r.x0 for r in rows]), _mode([r.x1 for r in rows]))
        by_side: dict[str, list[_Column]] = {}
        for (_, side), col in out.items():
            by_side.setdefault(side, []).append(col)
        self.side_default = {
            side: _Column(_mode([c.left for c in cols]), _mode([c.right for c in cols]))
            for side, cols in by_side.items()
        }
        return out

    def column(self, row: Row) -> _Column:
        col = self.columns.get((row.page, row.side)) or self.side_default.get(row.side)
        if col is not None:
            return col
        if row.side == "full":
            cols = [c for (p, _), c in self.columns.items() if p == row.page]
            if cols:
                return _Column(min(c.left for c in cols), max(c.right for c in cols))
        page = self.pages[row.page]
        return _Column(0.08 * page.width, 0.92 * page.width)

    def _heading_styles(self) -> dict[tuple[float, bool, bool], int]:
        """Font style (size, bold) of numbered headings → the smallest level using it."""
        styles: dict[tuple[float, bool, bool], int] = {}
        for r in self.rows:
            h = self._heading_shape(r)
            if h is None:
                continue
            parsed = parse_heading(h)
            if parsed.number and parsed.number[0].isdigit():
                key = self._style(r)
                styles[key] = min(styles.get(key, 9), parsed.level or 1)
        return styles

    def _style(self, row: Row) -> tuple[float, bool, bool]:
        """(size, bold, italic): what a heading level looks like."""
        bold = row.bold_share >= 0.8
        return (round(row.size * 2) / 2, bold, not bold and row.italic_share >= 0.9)

    # ------------------------------------------------------------------ row predicates
    def text_of(self, row: Row, wide_gap: str = " ") -> str:
        """The row's text with inline math; pieces far apart are joined with ``wide_gap``."""
        rules = self.pages[row.page].rules
        parts: list[str] = []
        pieces: list[Glyph] = []
        last_x1: float | None = None
        bullet = self._bullet(row)
        if bullet is not None:
            parts.append("-")
        for ln in sorted(row.lines, key=lambda ln: ln.bbox[0]):
            if last_x1 is not None and ln.bbox[0] - last_x1 > 2 * self.size and wide_gap != " ":
                parts.append(render_glyphs(pieces, self.style, rules))
                pieces = []
            elif pieces and pieces[-1].c != " ":
                last = pieces[-1]
                pieces.append(Glyph(" ", last.font, last.size, last.bbox, last.x1, last.oy))
            pieces += [g for g in ln.glyphs if g is not bullet]
            last_x1 = ln.bbox[2]
        parts.append(render_glyphs(pieces, self.style, rules))
        if bullet is not None:
            return "- " + " ".join(clean_text(p) for p in parts[1:] if clean_text(p))
        return wide_gap.join(clean_text(p) for p in parts if clean_text(p))

    def _heading_end(self, i: int) -> int:
        """Index after the last row of the heading at row ``i`` (a long heading wraps)."""
        rows = self.rows
        style = self._style(rows[i])
        j = i + 1
        while (
            j < len(rows)
            and rows[j].region is None
            and rows[j].page == rows[i].page
            and rows[j].side == rows[i].side
            and self._style(rows[j]) == style
            and (style[1] or style[2] or rows[j].size >= 1.15 * self.size)
            and 0 < rows[j].baseline - rows[j - 1].baseline <= 1.5 * rows[j].size
            and parse_heading(clean_text(rows[j].text), letters=True).number is None
            and not is_references(clean_text(rows[j].text))
        ):
            j += 1
        return j

    def _join_heading(self, title: str, more: list[Row]) -> str:
        for r in more:
            t = clean_text(r.text)
            if re.search(r"[A-Za-z]-$", title) and t[:1].islower():
                title = title[:-1] + t
            else:
                title = f"{title} {t}"
        return title

    def _bullet(self, row: Row) -> Glyph | None:
        """The bullet glyph opening a list item, if the row starts with one."""
        vis = row.visible
        if len(vis) < 2 or not is_bullet(vis[0]) or vis[1].x0 - vis[0].x1 < 0.15 * self.size:
            return None
        if vis[0].c in "–-*∗" and row.x0 <= self.column(row).left + 0.3 * self.size:
            return None  # a dash at the margin is prose
        return vis[0]

    def _footnote_start(self, row: Row) -> bool:
        """A footnote: smaller text low on the page, opening with a raised mark."""
        vis = row.visible
        if len(vis) < 3 or row.size >= 0.95 * self.size:
            return False
        mark = vis[0]
        page = self.pages[row.page]
        return (
            mark.c in "0123456789*†‡§¶∗⋆"
            and mark.size < 0.9 * row.size
            and mark.oy < row.baseline - 0.15 * row.size
            and row.y0 > 0.5 * page.height
        )

    def _footnote_end(self, i: int) -> int:
        rows = self.rows
        j = i + 1
        while (
            j < len(rows)
            and rows[j].region is None
            and not self._footnote_start(rows[j])
            and rows[j].page == rows[i].page
            and rows[j].side == rows[i].side
            and abs(rows[j].size - rows[i].size) < 0.6
            and 0 < rows[j].baseline - rows[j - 1].baseline <= 1.5 * rows[i].size
        ):
            j += 1
        return j

    def _heading_shape(self, row: Row) -> str | None:
        """The row's text when it looks like a heading (bold or larger, short, not math)."""
        if row.region is not None or row.math_share > 0.3 or len(row.visible) < 2:
            return None
        text = clean_text(row.text)
        if len(text) > 150 or not re.search(r"[A-Za-z]{2}", text):
            return None
        italic = row.italic_share >= 0.9
        if row.bold_share < 0.8 and row.size < 1.15 * self.size and not italic:
            return None
        if any(_contains(b, row.bbox) for b in self.graphics.get(row.page, [])):
            return None
        col = self.column(row)
        at_left = row.x0 <= col.left + 1.5 * self.size
        centred = abs((row.x0 + row.x1) / 2 - col.centre) < 0.1 * col.width
        if not (at_left or centred):
            return None
        return text

    def equation_number(self, row: Row) -> tuple[str, list[Glyph]] | None:
        """A printed equation number at the right end of the row: ``(3)`` → ``"3"``."""
        vis = row.visible
        tail: list[Glyph] = []
        for g in reversed(vis):
            tail.insert(0, g)
            if g.c == "(":
                break
            if len(tail) > 9:
                return None
        text = "".join(g.c for g in tail)
        m = _EQ_NUMBER.fullmatch(text)
        if not m or not tail or tail[0].c != "(":
            return None
        col = self.column(row)
        centred = abs((row.x0 + row.x1) / 2 - col.centre) < 0.1 * col.width
        at_right = tail[-1].x1 >= col.right - 1.5 * self.size
        if not at_right and not centred:
            return None
        before = vis[: len(vis) - len(tail)]
        if before and tail[0].x0 - before[-1].x1 < (0.5 if at_right else 0.8) * self.size:
            return None
        return m.group(1), tail

    def is_equation_row(self, row: Row) -> bool:
        if row.region is not None or not row.visible:
            return False
        if caption_kind(row):
            return False
        col = self.column(row)
        number = self.equation_number(row)
        content = [g for g in row.visible if number is None or g not in number[1]]
        if number is not None and not content:
            return True  # a number alone under a long equation
        mathy = [
            g
            for g in content
            if g.math or (not self.style.prose_is_tex and fonts.is_upright_tex_font(g.font))
        ]
        if number is not None:
            return bool(mathy) or bool(re.search(r"[=<>≤≥∑√]", "".join(g.c for g in content)))
        if self._bullet(row) is not None or self._wordy(content):
            return False
        x0 = min(g.x0 for g in content)
        x1 = max(g.x1 for g in content)
        centred = (
            abs((x0 + x1) / 2 - col.centre) < 0.12 * col.width
            and x1 - x0 < 0.85 * col.width
            and x0 > col.left + 1.5 * self.size
        )
        if mathy and centred:
            return True
        share = len(mathy) / len(content)
        if share >= 0.9 and len(content) >= 3 and x0 > col.left + 0.5 * self.size:
            return True  # a long display, all math
        return share >= 0.6 and x0 > col.left + self.size and x1 - x0 < 0.85 * col.width

    def _wordy(self, glyphs: list[Glyph]) -> bool:
        """Mostly prose words (three or more, not operator names): a line of text, however
        centred, not a display."""
        words = re.findall(
            r"[A-Za-z]{3,}",
            "".join(g.c if not (g.math or self._tex_math([g])) else " " for g in glyphs),
        )
        words = [w for w in words if w not in fonts.FUNCTIONS]
        letters = sum(len(w) for w in words)
        return len(words) >= 3 and letters > 0.5 * len(glyphs)

    def _prose_like(self, row: Row) -> bool:
        """A line of a paragraph: starts at the column's left edge (or a paragraph indent)
        and is written in the prose font."""
        col = self.column(row)
        letters = [g for g in row.visible if g.c.isalpha()]
        prose = [g for g in letters if not g.math and not self._tex_math([g])]
        if len(prose) < 3 or len(prose) < 0.5 * len(letters):
            return False
        return row.x0 <= col.left + 2.5 * self.size

    def _equation_groups(self) -> dict[int, list[Row]]:
        """Rows of each display equation, keyed by the ``id`` of its first row: a seed row
        (``is_equation_row``) with the adjacent rows of the same display (numerators,
        denominators, limits, a number alone) that are not prose."""
        groups: dict[int, list[Row]] = {}
        member: set[int] = set()
        rows = self.rows
        for i, row in enumerate(rows):
            if id(row) in member or not self.is_equation_row(row):
                continue
            group = [row]
            j = i - 1
            while j >= 0 and id(rows[j]) not in member and self._joins(group, rows[j], above=True):
                group.insert(0, rows[j])
                j -= 1
            k = i + 1
            while k < len(rows) and self._joins(group, rows[k], above=False):
                group.append(rows[k])
                k += 1
            member.update(id(r) for r in group)
            groups[id(group[0])] = group
        return groups

    def _joins(self, group: list[Row], row: Row, *, above: bool) -> bool:
        ref = group[0] if above else group[-1]
        if row.region is not None or row.page != ref.page or row.side != ref.side:
            return False
        if caption_kind(row) or (
            self._heading_shape(row) is not None and not self.is_equation_row(row)
        ):
            return False
        gap = (min(r.y0 for r in group) - row.y1) if above else (row.y0 - max(r.y1 for r in group))
        if gap > 0.9 * self.size:
            return False
        if self.is_equation_row(row):
            return True
        return not self._prose_like(row)

    # ------------------------------------------------------------------ the walk
    def read(self) -> Layout:
        """The blocks of the document, read row by row (a step reads one row, or a heading,
        caption or footnote with the rows it continues on)."""
        eq_groups = self._equation_groups()
        in_group = {id(r) for g in eq_groups.values() for r in g}
        self.walk = _Walk(eq_groups=eq_groups, in_group=in_group)
        i = 0
        while i < len(self.rows):
            i = self._step(i)
        if self.walk.mode == "references":
            self._flush_refs()
        self._flush()
        return self.layout

    def _step(self, i: int) -> int:
        """Read the row at ``i`` (with the rows that belong to it); returns the next index."""
        row, w = self.rows[i], self.walk
        if row.region is not None:
            return self._read_region(i)
        if not w.title_done and w.mode == "front":
            title_rows = self._title_rows(i)
            if title_rows:
                title = " ".join(self.text_of(r) for r in title_rows)
                self.layout.blocks.append(Block("title", title))
                w.title_done = True
                return i + len(title_rows)
        heading = self._heading(row, w.seen_numbered or w.after_refs, w.last_key, w.mode == "front")
        if heading is not None:
            return self._read_heading(i, *heading)
        split = self._bold_references(row) if w.mode != "references" else None
        if split is not None:
            self._start_references(split)
            return i + 1
        if w.mode == "references":
            return self._read_reference_row(i)
        if id(row) in w.eq_groups:
            self._flush()
            for eq in self._equations(w.eq_groups[id(row)]):
                self.layout.blocks.append(eq)
            return i + 1
        if id(row) in w.in_group:
            return i + 1
        if self._footnote_start(row):
            return self._read_footnote(i)
        if caption_kind(row) is not None:
            return self._read_caption(i)
        if w.para and self._continues_paragraph(w.para, row, w.mode == "front"):
            w.para.append(row)
        else:
            self._flush()
            w.para = [row]
        return i + 1

    def _flush(self) -> None:
        """End the open paragraph: its text, then the blocks held until it ended."""
        w = self.walk
        if w.para:
            text = self._join(w.para, ", " if w.mode == "front" else " ")
            if text:
                self.layout.blocks.append(Block("text", text))
        w.para = []
        self.layout.blocks.extend(w.pending)
        w.pending.clear()

    def _flush_refs(self) -> None:
        """The reference rows read so far as one text block per entry."""
        for entry in self._reference_entries(self.walk.refs):
            self.layout.blocks.append(Block("text", entry))
        self.walk.refs.clear()

    def _mid_paragraph(self) -> bool:
        """A paragraph is open and its last row does not end it."""
        para = self.walk.para
        return bool(para) and not self._para_ended(para[-1])

    def _place(self, blocks: list[Block], *, hold: bool) -> None:
        """Blocks printed inside a paragraph (``hold``) wait until it ends; others end it."""
        if hold:
            self.walk.pending.extend(blocks)
        else:
            self._flush()
            self.layout.blocks.extend(blocks)

    def _read_region(self, i: int) -> int:
        w = self.walk
        region_blocks = list(self._region_blocks(self.rows[i].region))
        if w.mode == "references":  # a float printed among the references
            self.layout.blocks[w.refs_at : w.refs_at] = region_blocks
            w.refs_at += len(region_blocks)
        else:
            self._place(region_blocks, hold=self._mid_paragraph())
        return i + 1

    def _read_heading(self, i: int, number: str | None, title: str, level: int) -> int:
        """A section heading at row ``i`` (wrapped onto the rows up to the returned index):
        the references, or a section (the first after the references opens the appendix)."""
        w, blocks = self.walk, self.layout.blocks
        if w.mode == "references":
            self._flush_refs()
        else:
            self._flush()
        end = self._heading_end(i)  # a heading wrapped onto more lines
        if end > i + 1:
            title = self._join_heading(title, self.rows[i + 1 : end])
        if is_references(title):
            w.mode, w.refs_at = "references", len(blocks)
            blocks.append(Block("heading", title, level=level, numbered=True))
            w.after_refs = True
            return end
        if number and number[0].isdigit():
            w.seen_numbered = True
            w.last_key = number_key(number)
        starts_appendix = w.after_refs or (number is None and title.lower().startswith("appendix"))
        if starts_appendix and not any(b.kind == "appendix" for b in blocks):
            blocks.append(Block("appendix"))
        w.mode = "body"
        blocks.append(Block("heading", title, level=level, number=number, numbered=True))
        return end

    def _start_references(self, split: Row | bool) -> None:
        """``References`` set as bold text opening a paragraph: a heading, and the rest of
        its row (``split``, or ``False``) is the first reference row."""
        w = self.walk
        self._flush()
        w.refs_at = len(self.layout.blocks)
        self.layout.blocks.append(Block("heading", "References", level=1, numbered=True))
        w.mode, w.after_refs = "references", True
        if split:
            w.refs.append(split)

    def _read_reference_row(self, i: int) -> int:
        """A row among the references: part of an entry, or the caption of a float printed
        among them (kept before the references, with the float)."""
        row, w = self.rows[i], self.walk
        if caption_kind(row) is None:
            w.refs.append(row)
            return i + 1
        j = self._caption_end(i, w.in_group)
        self.layout.blocks.insert(w.refs_at, Block("caption", self._join(self.rows[i:j])))
        w.refs_at += 1
        return j

    def _read_footnote(self, i: int) -> int:
        j = self._footnote_end(i)
        note = re.sub(r"^\[\^([^\]]+)\]\s*", r"[^\1]: ", self._join(self.rows[i:j]))
        self._place([Block("text", note)], hold=self._mid_paragraph())
        return j

    def _read_caption(self, i: int) -> int:
        j = self._caption_end(i, self.walk.in_group)
        block = Block("caption", self._join(self.rows[i:j]))
        # a float between two parts of a paragraph waits for its end (not in the front matter)
        self._place([block], hold=self.walk.mode != "front" and self._mid_paragraph())
        return j

    # ------------------------------------------------------------------ pieces
    def _title_rows(self, i: int) -> list[Row]:
        """The title: the largest text at the top of the first page."""
        row = self.rows[i]
        if row.page != min(self.pages) or row.size < 1.3 * self.size:
            return []
        page_rows_ = [r for r in self.rows if r.page == row.page and r.region is None]
        biggest = max(r.size for r in page_rows_[:12])
        if row.size < biggest - 0.5:
            return []
        out = [row]
        for nxt in self.rows[i + 1 :]:
            if nxt.region is not None or abs(nxt.size - row.size) > 0.5 or nxt.page != row.page:
                break
            if nxt.baseline - out[-1].baseline > 2.0 * row.size:
                break
            out.append(nxt)
        return out

    def _heading(
        self, row: Row, letters: bool, last_key: tuple[int, ...] | None, front: bool = False
    ) -> tuple[str | None, str, int] | None:
        """(number, title, level) when the row is a section heading. In the front matter
        (before the first heading) only the names of unnumbered sections count: authors and
        dates set large are not headings."""
        text = self._heading_shape(row)
        if text is None:
            return None
        parsed = parse_heading(text, letters=letters)
        title = parsed.text
        if not re.match(r"[A-Za-z(]", title) or title.endswith((",", ";")):
            return None
        plain_italic = self._style(row)[2] and row.size < 1.15 * self.size
        if plain_italic and (len(title.split()) > 12 or re.search(r"[.!?:;]$", title)):
            return None  # an italic sentence, not an italic heading
        if parsed.number:
            if parsed.number[0].isdigit():
                if last_key is not None and number_key(parsed.number) <= last_key:
                    return None  # a number going backwards is a list item, not a section
                if int(parsed.number.split(".")[0]) > 40:
                    return None
            if len(title) > 120:
                return None
            return parsed.number, title, parsed.level or 1
        known = bool(_KNOWN_UNNUMBERED.match(title))
        style = self._style(row)
        if front and not known:
            return None
        if not known:
            if style not in self.heading_styles or len(title) > 80 or title.endswith("."):
                return None
            if not title[0].isupper():
                return None
        level = self.heading_styles.get(style, 1)
        return None, title, level

    def _bold_references(self, row: Row) -> Row | bool | None:
        """``References`` as bold text opening a paragraph: returns the rest of the row (a
        row, or ``False`` when nothing follows on it), or None when the row is no such
        thing."""
        vis = row.visible
        bold = []
        for g in vis:
            if not g.bold:
                break
            bold.append(g)
        word = "".join(g.c for g in bold).strip(" .:")
        if not bold or not is_references(word):
            return None
        col = self.column(row)
        if row.x0 > col.left + 1.5 * self.size:
            return None
        rest = [g for g in row.glyphs if g.x0 > bold[-1].x1 + 0.5 and g.c.strip()]
        if not rest:
            return False
        lines = [Line([*ln.spans], ln.bbox, ln.page) for ln in row.lines]
        keep = Row(lines, row.page, row.side)
        keep.lines = [
            Line([s for s in ln.spans if s.bbox[0] > bold[-1].x1 + 0.5], ln.bbox, ln.page)
            for ln in lines
        ]
        keep.lines = [ln for ln in keep.lines if ln.spans]
        return keep if keep.lines else False

    def _para_ended(self, row: Row) -> bool:
        col = self.column(row)
        text = row.text.rstrip()
        return row.x1 < col.right - 2 * self.size and bool(re.search(r"[.!?:]$", text))

    def _caption_end(self, i: int, in_group: set[int]) -> int:
        """Index just after the last row of the caption starting at row ``i``."""
        rows = self.rows
        j = i + 1
        while (
            j < len(rows)
            and rows[j].region is None
            and id(rows[j]) not in in_group
            and self._continues_caption(rows[i:j], rows[j])
        ):
            j += 1
        return j

    def _continues_caption(self, para: list[Row], row: Row) -> bool:
        prev = para[-1]
        return (
            prev.page == row.page
            and prev.side == row.side
            and 0 < row.baseline - prev.baseline <= 1.5 * max(row.size, prev.size)
            and abs(row.size - prev.size) < 0.6
        )

    def _continues_paragraph(self, para: list[Row], row: Row, front: bool) -> bool:
        prev = para[-1]
        col = self.column(row)
        indent = col.left + 0.6 * self.size < row.x0 < col.left + 4 * self.size
        prev_at_left = prev.x0 <= col.left + 0.6 * self.size
        if front:  # title block: centred lines stay apart, a wide paragraph is joined
            wide = prev.x1 - prev.x0 > 0.6 * col.width and row.x1 - row.x0 > 0.3 * col.width
            if not wide or prev.page != row.page:
                return False
        same_column = prev.page == row.page and prev.side == row.side and row.y0 >= prev.y0
        if same_column:
            pitch = row.baseline - prev.baseline
            if pitch > 1.75 * max(row.size, prev.size):
                return False
            if abs(row.size - prev.size) > 1.5:
                return False
        if indent and (prev_at_left or not same_column) and not self._list_continuation(prev, row):
            return False
        return not self._para_ended(prev)

    def _list_continuation(self, prev: Row, row: Row) -> bool:
        return abs(prev.x0 - row.x0) < 0.5 * self.size

    def _join(self, rows: list[Row], wide_gap: str = " ") -> str:
        out = ""
        for r in rows:
            t = self.text_of(r, wide_gap)
            if not t:
                continue
            if not out:
                out = t
            elif re.search(r"[A-Za-z]-$", out) and re.match(r"[a-z]", t):
                out = out[:-1] + t
            elif out.endswith("-") and re.match(r"[A-Z]", t):
                out += t
            else:
                out += " " + t
        return out.strip()

    def _equations(self, group: list[Row]) -> Iterator[Block]:
        numbered: list[tuple[Row, str, list[Glyph]]] = []
        alone: list[tuple[Row, str]] = []
        for r in group:
            n = self.equation_number(r)
            if n is None:
                continue
            if len(n[1]) == len(r.visible):
                alone.append((r, n[0]))
            else:
                numbered.append((r, n[0], n[1]))
        content = [r for r in group if all(r is not a for a, _ in alone)]
        if len(numbered) <= 1:
            parts = [(content, numbered[0][1] if numbered else (alone[0][1] if alone else None))]
        else:
            mains = [r for r, _, _ in numbered]
            members: dict[int, list[Row]] = {id(m): [m] for m in mains}
            for r in content:
                if r in mains:
                    continue
                nearest = min(mains, key=lambda m: abs(m.baseline - r.baseline))
                members[id(nearest)].append(r)
            parts = [(members[id(r)], n) for r, n, _ in numbered]
        drop = {id(g) for _, _, gl in numbered for g in gl}
        for rows, number in parts:
            glyphs = [g for r in rows for g in r.glyphs if id(g) not in drop and g.c.strip()]
            if not glyphs:
                continue
            page = self.pages[rows[0].page]
            box = union([g.bbox for g in glyphs])
            rules = [
                q
                for q in page.rules
                if box[0] - 3 <= q.x0 and q.x1 <= box[2] + 3 and box[1] - 3 <= q.y <= box[3] + 3
            ]
            if any(g.math for g in glyphs) or self._tex_math(glyphs):
                latex = glyphs_to_latex(glyphs, rules)
            else:  # set in the prose font: keep the text as printed
                latex = " ".join(
                    clean_text("".join(g.c for g in r.glyphs if id(g) not in drop)) for r in rows
                ).strip()
            crop = union([r.bbox for r in rows] + ([box] if rules else []))
            for _r, n, gl in numbered:
                if n == number:
                    crop = union([crop, *[g.bbox for g in gl]])
            for r, n in alone:
                if n == number:
                    crop = union([crop, r.bbox])
            block = Block("equation", latex, number=number)
            self.layout.equations.append(EquationCrop(block, page.number, crop))
            yield block

    def _tex_math(self, glyphs: list[Glyph]) -> bool:
        return not self.style.prose_is_tex and any(
            fonts.is_upright_tex_font(g.font) for g in glyphs
        )

    def _region_blocks(self, region: Region) -> Iterator[Block]:
        if region.kind == "table":
            page = self.pages[region.page]
            x0, y0, x1, y1 = region.bbox
            rules = [
                r
                for r in merge_rules(page.rules)
                if x0 - 2 <= r.x0 and r.x1 <= x1 + 2 and y0 - 2 <= r.y <= y1 + 2 and r.width > 3
            ]
            md = table_markdown(
                region.lines, rules, lambda gl: render_glyphs(gl, self.style, page.rules)
            )
            if md:
                yield Block("table", md)
        elif region.kind == "algorithm":
            mid = region.rules[1].y
            caption = [ln for ln in region.lines if (ln.bbox[1] + ln.bbox[3]) / 2 < mid]
            code = [ln for ln in region.lines if (ln.bbox[1] + ln.bbox[3]) / 2 >= mid]
            if caption:
                page = self.pages[region.page]
                rows = page_rows(caption, page.width, page.height, two_column=False)
                yield Block("caption", " ".join(self.text_of(r) for r in rows))
            text = self._code(code, region)
            if text:
                yield Block("code", text)

    def _code(self, lines: list[Line], region: Region) -> str:
        if not lines:
            return ""
        page = self.pages[region.page]
        rows = page_rows(lines, page.width, page.height, two_column=False)
        out = []
        starts = []
        for r in rows:
            vis = r.visible
            body = vis[1:] if re.fullmatch(r"\d+:?", vis[0].c) and len(vis) > 1 else vis
            label = re.match(r"^\s*(\d{1,3}:)\s*", r.text)
            if label:
                skip = len(label.group(1))
                body = vis[skip:] if len(vis) > skip else vis
            starts.append(body[0].x0 if body else r.x0)
            out.append((label.group(1) if label else "", r))
        labelled = [x for (label, _), x in zip(out, starts, strict=True) if label]
        base = min(labelled or starts)
        text_lines = []
        for (label, r), x in zip(out, starts, strict=True):
            depth = max(0, round((x - base) / self.size)) if label or not labelled else 0
            text = self.text_of(r)
            if label and text.startswith(label):
                text = text[len(label) :].strip()
            prefix = f"{label} " if label else ""
            text_lines.append(f"{prefix}{'  ' * depth}{text}".rstrip())
        return "\n".join(text_lines)

    def _reference_entries(self, rows: list[Row]) -> list[str]:
        rows = [r for r in rows if r.visible]
        if not rows:
            return []
        entries: list[list[Row]] = []
        by_col: dict[tuple[int, str], list[Row]] = {}
        for r in rows:
            by_col.setdefault((r.page, r.side), []).append(r)
        left = {k: min(r.x0 for r in v) for k, v in by_col.items()}
        hanging = any(r.x0 > left[(r.page, r.side)] + 0.5 * self.size for r in rows)
        labelled = sum(1 for r in rows if _REF_LABEL.match(r.text)) >= max(2, len(rows) // 6)
        prev: Row | None = None
        for r in rows:
            at_left = r.x0 <= left[(r.page, r.side)] + 0.5 * self.size
            if labelled:
                start = bool(_REF_LABEL.match(r.text))
            elif hanging:
                start = at_left
            else:
                start = (
                    prev is None
                    or prev.page != r.page
                    or prev.side != r.side
                    or r.baseline - prev.baseline > 1.3 * r.size
                    or self._para_ended(prev)
                )
                if prev is not None and (prev.page, prev.side) != (r.page, r.side):
                    start = self._para_ended(prev)
            if start or not entries:
                entries.append([r])
            else:
                entries[-1].append(r)
            prev = r
        return [t for e in entries if (t := self._join(e))]


def _contains(outer: BBox, inner: BBox, tol: float = 1.5) -> bool:
    return (
        outer[0] - tol <= inner[0]
        and inner[2] <= outer[2] + tol
        and outer[1] - tol <= inner[1]
        and inner[3] <= outer[3] + tol
    )


def layout_pages(pages: list[PageContent]) -> Layout:
    """The blocks of a document (and where its display equations are printed)."""
    if not any(p.lines for p in pages):
        return Layout(blocks=[])
    return _Reader(pages).read()


__all__ = ["EquationCrop", "Layout", "layout_pages"]
