"""PDF reader: checks the file (corrupt, encrypted, scanned, empty, too long), reads every
page into plain data (``pdfpage``), lays the document out into blocks in reading order
(``pdflayout``: furniture dropped, floats found, headings, equations, paragraphs, references)
and crops each display equation to a PNG when given a folder for images.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf

from paper2code.errors import PaperError
from paper2code.ingest.blocks import Draft
from paper2code.ingest.pdflayout import EquationCrop, layout_pages
from paper2code.ingest.pdfpage import read_page
from paper2code.settings import IngestSettings
from sandbox import atomic

EQUATIONS_DIR = "equations"
"""Folder (inside the paper folder) of the cropped equation images."""
EQUATION_DPI = 200
_CROP_MARGIN = 3.0


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


def _crop_equations(
    doc: pymupdf.Document, crops: list[EquationCrop], paper_dir: Path, dpi: int
) -> None:
    """Render each display equation to ``paper_dir/equations/eq-NNN.png`` and record the
    relative path on its block."""
    for k, crop in enumerate(crops, 1):
        page = doc[crop.page - 1]
        x0, y0, x1, y1 = crop.bbox
        rect = pymupdf.Rect(
            x0 - _CROP_MARGIN, y0 - _CROP_MARGIN, x1 + _CROP_MARGIN, y1 + _CROP_MARGIN
        )
        rect &= page.rect
        if rect.is_empty:
            continue
        pix = page.get_pixmap(clip=rect, dpi=dpi)
        name = f"{EQUATIONS_DIR}/eq-{k:03d}.png"
        atomic.write_bytes(paper_dir / name, pix.tobytes("png"))
        crop.block.image = name
        crop.block.page = crop.page


def read_pdf(
    path: Path, settings: IngestSettings, paper_dir: Path | None = None
) -> tuple[Draft, int]:
    """Read a PDF into a draft; returns it with the page count. With ``paper_dir``, display
    equations are cropped to PNGs under ``paper_dir/equations/``."""
    doc = open_pdf(path, settings)
    try:
        pages = [read_page(page) for page in doc]
        meta_title = (doc.metadata or {}).get("title") or None
        layout = layout_pages(pages)
        for crop in layout.equations:
            crop.block.page = crop.page
        if paper_dir is not None and layout.equations:
            _crop_equations(doc, layout.equations, Path(paper_dir), settings.equation_dpi)
        count = doc.page_count
    finally:
        doc.close()
    return Draft(blocks=layout.blocks, metadata_title=meta_title), count
