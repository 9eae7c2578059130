"""PDF reader: checks the file (corrupt, encrypted, scanned, empty, too long), runs PyMuPDF's
layout analysis (pymupdf4llm, which uses ``pymupdf.layout`` when installed, as in the PyMuPDF
2.0 wheel) and turns its per-page boxes into blocks in reading order.

pymupdf4llm classifies every box (section-header, text, table, caption, formula, page-header,
…) and renders it as Markdown; on two-column pages its box order can interleave the columns,
so the boxes are re-ordered by geometry (``reading_order.column_order``) before use.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf

from paper2code.errors import PaperError
from paper2code.ingest.blocks import Block, Draft
from paper2code.ingest.reading_order import column_order
from paper2code.settings import IngestSettings

_DROP = {"page-header", "page-footer", "picture"}
_CAPTION = re.compile(r"^\W{0,3}(figure|fig\.|table|tab\.|algorithm)\s*[A-Z]?\d+[.:]", re.I)
_EQ_NUMBER = re.compile(r"\s*\((\d{1,3}[a-z]?)\)\s*$")
_EQ_SYMBOL = re.compile(r"[=<>≤≥≈∝∑∫∏→←]|:=")
_PAGE_NUMBER = re.compile(r"^\W*(page\s*)?\d{1,4}\W*$", re.I)
_HTML = re.compile(r"<!--.*?-->|<br\s*/?>|!\[\]\([^)]*\)", re.S)


@dataclass
class Box:
    """A layout box of one page with its Markdown text."""

    kind: str
    bbox: tuple[float, float, float, float]
    text: str
    page: int


def open_pdf(path: Path, settings: IngestSettings) -> pymupdf.Document:
    """Open a PDF, refusing what cannot be read with a ``PaperError`` that says what to do."""
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError, ValueError) as exc:
        raise PaperError(
            f"{path}: the PDF is corrupt and cannot be opened ({exc}); "
            "re-download it or repair it, e.g. `qpdf in.pdf out.pdf`"
        ) from exc
    try:
        if doc.needs_pass:
            raise PaperError(
                f"{path}: the PDF is encrypted with a password; decrypt it first, "
                "e.g. `qpdf --decrypt --password=PASSWORD in.pdf out.pdf`"
            )
        if doc.page_count == 0 and doc.is_repaired:
            raise PaperError(
                f"{path}: the PDF is corrupt (damaged or truncated; no readable page); "
                "re-download it or repair it, e.g. `qpdf in.pdf out.pdf`"
            )
        if doc.page_count == 0:
            raise PaperError(f"{path}: the document is empty (the PDF has no pages)")
        if doc.page_count > settings.max_pages:
            raise PaperError(
                f"{path}: the PDF has {doc.page_count} pages, more than the limit of "
                f"{settings.max_pages}; raise it with `--max-pages {doc.page_count}` "
                "(or PAPER2CODE_INGEST__MAX_PAGES) if this really is one paper"
            )
        _check_text_layer(path, doc, settings)
    except BaseException:
        doc.close()
        raise
    return doc


def _check_text_layer(path: Path, doc: pymupdf.Document, settings: IngestSettings) -> None:
    chars = sum(len(page.get_text("text").strip()) for page in doc)
    if chars / doc.page_count >= settings.min_chars_per_page:
        return
    has_images = any(page.get_images(full=False) for page in doc)
    if has_images:
        raise PaperError(
            f"{path}: the PDF has no text layer (a scan?): only {chars} characters of text in "
            f"{doc.page_count} pages. Run OCR first, e.g. `ocrmypdf in.pdf out.pdf`"
        )
    if doc.is_repaired:
        raise PaperError(
            f"{path}: the PDF is corrupt (damaged or truncated; no readable text); "
            "re-download it or repair it, e.g. `qpdf in.pdf out.pdf`"
        )
    raise PaperError(f"{path}: the document is empty (no text on any of its pages)")


def _layout_chunks(doc: pymupdf.Document) -> list[dict[str, Any]]:
    import pymupdf4llm

    return pymupdf4llm.to_markdown(
        doc,
        page_chunks=True,
        header=False,
        footer=False,
        use_ocr=False,
        write_images=False,
        embed_images=False,
        show_progress=False,
    )


def page_boxes(doc: pymupdf.Document) -> list[Box]:
    """Every box of the document, page by page, each page in reading order."""
    out: list[Box] = []
    for chunk in _layout_chunks(doc):
        number = int(chunk["metadata"]["page_number"])
        page = doc[number - 1]
        text = chunk["text"]
        boxes = [
            Box(b["class"], tuple(b["bbox"]), text[b["pos"][0] : b["pos"][1]], number)
            for b in chunk["page_boxes"]
        ]
        out += column_order(boxes, [b.bbox for b in boxes], page.rect.width, page.rect.height)
    return out


def _repeated_lines(boxes: list[Box], pages: int) -> set[str]:
    """Short texts found on at least half the pages (running headers the engine missed)."""
    if pages < 3:
        return set()
    per_page = {(b.page, b.text.strip()) for b in boxes if 0 < len(b.text.strip()) < 120}
    seen = Counter(text for _, text in per_page)
    return {t for t, n in seen.items() if n >= max(3, pages // 2)}


def _clean(text: str) -> str:
    text = _HTML.sub(" ", text)
    lines = [ln.rstrip() for ln in text.strip().splitlines()]
    return "\n".join(lines).strip()


def _strip_emphasis(text: str) -> str:
    return re.sub(r"(\*\*|(?<!\w)_|_(?!\w)|(?<!\w)\*|\*(?!\w))", "", text).strip()


def box_to_block(box: Box) -> Block | None:
    """The block a layout box stands for, or None for page furniture and pictures."""
    if box.kind in _DROP:
        return None
    text = _clean(box.text)
    if not text or _PAGE_NUMBER.match(text):
        return None
    if box.kind != "table" and (eq := _numbered_equation(text)) is not None:
        return Block("equation", eq)
    if box.kind in ("section-header", "title"):
        hashes = len(text) - len(text.lstrip("#"))
        heading = text.lstrip("#").strip()
        if box.kind == "title" and box.page == 1:
            return Block("title", heading)
        return Block("heading", heading, level=hashes or None)
    if box.kind == "table":
        return Block("table", text)
    if box.kind == "formula":
        return Block("equation", _EQ_NUMBER.sub("", _strip_emphasis(text)))
    plain = _strip_emphasis(text)
    if box.kind == "caption" or _CAPTION.match(plain):
        return Block("caption", plain)
    return Block("text", text)


def _numbered_equation(text: str) -> str | None:
    """The equation of a one-line box like ``y = f(x)   (3)``, without its number."""
    plain = _strip_emphasis(text.lstrip("#"))
    if "\n" in plain or len(plain) > 200 or not _EQ_NUMBER.search(plain):
        return None
    body = _EQ_NUMBER.sub("", plain).strip()
    return body if _EQ_SYMBOL.search(body) else None


def join_continuations(blocks: list[Block]) -> list[Block]:
    """Join a paragraph broken across columns or pages: a text block that does not end a
    sentence, followed by one that starts in lower case."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == "text"
            and b.kind == "text"
            and not re.search(r"[.!?:;)\]\"”]\s*$", prev.text)
            and re.match(r"^[a-z]", b.text)
        ):
            if prev.text.endswith("-"):
                prev.text = prev.text[:-1] + b.text
            else:
                prev.text = f"{prev.text} {b.text}"
            continue
        out.append(Block(b.kind, b.text, b.level, b.number, b.numbered))
    return out


def read_pdf(path: Path, settings: IngestSettings) -> tuple[Draft, int]:
    """Read a PDF into a draft; returns it with the page count."""
    doc = open_pdf(path, settings)
    try:
        boxes = page_boxes(doc)
        pages = doc.page_count
        meta_title = (doc.metadata or {}).get("title") or None
    finally:
        doc.close()
    furniture = _repeated_lines(boxes, pages)
    blocks = [
        blk
        for box in boxes
        if box.text.strip() not in furniture and (blk := box_to_block(box)) is not None
    ]
    return Draft(blocks=join_continuations(blocks), metadata_title=meta_title), pages
