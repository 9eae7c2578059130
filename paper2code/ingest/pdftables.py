"""A ruled table's printed text → a Markdown table with its header row.

Rows are the printed lines of the table (by baseline, across the page's columns); cells are
the pieces of a row separated by a gap wider than a word space; columns are where the body
rows' cells line up. Header rows (above the rule under the header, booktabs' ``\\midrule``)
are merged column by column into one header row, so a two-level header (``BLEU`` over
``EN-DE`` and ``EN-FR``) becomes ``BLEU EN-DE | BLEU EN-FR``. Pure functions.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from paper2code.ingest.glyphs import Glyph, Line, Rule

Cell = tuple[float, float, list[Glyph]]
"""(x0, x1, glyphs) of one piece of a table row."""


def table_rows(lines: Sequence[Line]) -> list[list[Glyph]]:
    """The glyphs of each printed row of a table, top to bottom, left to right."""
    glyphs = [g for ln in lines for g in ln.glyphs]
    if not glyphs:
        return []
    size = statistics.median(g.size for g in glyphs if g.c.strip()) if glyphs else 10.0
    rows: list[list[Glyph]] = []
    for ln in sorted(lines, key=lambda ln: ln.bbox[3]):
        base = statistics.median(g.oy for g in ln.glyphs if g.c.strip()) if ln.glyphs else 0
        for row in rows:
            rbase = statistics.median(g.oy for g in row if g.c.strip())
            if abs(rbase - base) < 0.45 * size:
                row.extend(ln.glyphs)
                break
        else:
            rows.append(list(ln.glyphs))
    for row in rows:
        row.sort(key=lambda g: g.x0)
    rows.sort(key=lambda r: statistics.median(g.oy for g in r if g.c.strip()))
    return rows


def row_cells(row: list[Glyph], gap: float) -> list[Cell]:
    """Pieces of a row separated by more than ``gap`` points of empty space (spaces between
    the words of a cell are kept)."""
    cells: list[Cell] = []
    current: list[Glyph] = []
    last_x1 = 0.0

    def close() -> None:
        while current and not current[-1].c.strip():
            current.pop()
        if current:
            cells.append((current[0].x0, last_x1, list(current)))
        current.clear()

    for g in row:
        if not g.c.strip():
            if current:
                current.append(g)
            continue
        if current and g.x0 - last_x1 > gap:
            close()
        if not current:
            last_x1 = g.x1
        current.append(g)
        last_x1 = max(last_x1, g.x1)
    close()
    return cells


def _columns(rows: list[list[Cell]]) -> list[tuple[float, float]]:
    spans = sorted((c[0], c[1]) for row in rows for c in row)
    cols: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if cols and x0 <= cols[-1][1] + 0.5:
            cols[-1] = (cols[-1][0], max(cols[-1][1], x1))
        else:
            cols.append((x0, x1))
    return cols


def _column_of(cell: Cell, cols: list[tuple[float, float]]) -> int:
    x0, x1, _ = cell
    best, best_overlap = 0, -1e9
    for k, (c0, c1) in enumerate(cols):
        overlap = min(x1, c1) - max(x0, c0)
        if overlap > best_overlap:
            best, best_overlap = k, overlap
    return best


def table_markdown(
    lines: Sequence[Line],
    rules: Sequence[Rule],
    render: Callable[[list[Glyph]], str],
) -> str:
    """Markdown of a table from its lines and its horizontal rules (top, under the header,
    bottom); ``render`` turns a cell's glyphs into text (with inline math)."""
    rows = table_rows(lines)
    if not rows:
        return ""
    size = statistics.median(g.size for r in rows for g in r if g.c.strip())
    cells = [row_cells(r, 0.75 * size) for r in rows]
    ys = [statistics.median(g.oy for g in r if g.c.strip()) for r in rows]
    width = max((r.width for r in rules), default=0.0)
    full = sorted(r.y for r in rules if r.width >= 0.9 * width)
    partial = [r for r in rules if r.width < 0.9 * width]
    inner = full[1:-1] if len(full) >= 3 else []
    header_end = inner[0] if inner else None
    n_header = sum(1 for y in ys if header_end is not None and y < header_end) or 1
    body = cells[n_header:] if len(cells) > n_header else cells
    cols = _columns(body)
    if len(cols) < 2:
        cols = _columns(cells)
    grid: list[list[str]] = []
    for i, row in enumerate(cells):
        out = [""] * len(cols)
        for cell in row:
            text = render(cell[2]).strip().replace("|", "\\|")
            targets = [_column_of(cell, cols)]
            if i < n_header:  # a header cell over several columns heads each of them
                x0, x1 = cell[0], cell[1]
                below = ys[i + 1] if i + 1 < len(ys) else float("inf")
                for r in partial:  # booktabs' \cmidrule under a spanning cell
                    if ys[i] < r.y < below and min(r.x1, x1) - max(r.x0, x0) > 0:
                        x0, x1 = min(x0, r.x0), max(x1, r.x1)
                targets = [
                    k for k, (c0, c1) in enumerate(cols) if x0 <= (c0 + c1) / 2 <= x1
                ] or targets
            for k in targets:
                out[k] = f"{out[k]} {text}".strip()
        grid.append(out)
    header = [" ".join(filter(None, col)) for col in zip(*grid[:n_header], strict=True)]
    lines_md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(cols)]
    lines_md += ["| " + " | ".join(r) + " |" for r in grid[n_header:]]
    return "\n".join(lines_md)
