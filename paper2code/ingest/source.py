"""Which reader a path needs, checked against the file's content (magic bytes), not only its
suffix; the user errors for missing, unsupported or mislabelled files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from paper2code.errors import PaperError
from paper2code.ingest.archive import archive_kind, is_archive_name

Format = Literal["pdf", "latex", "markdown", "archive"]

SUFFIXES: dict[str, Format] = {
    ".pdf": "pdf",
    ".tex": "latex",
    ".md": "markdown",
    ".markdown": "markdown",
}
SUPPORTED = (
    ".pdf, .tex (or a folder holding the main .tex), .md/.markdown, a LaTeX source archive "
    "(.tar.gz, .tgz, .zip), arxiv:ID or an arXiv link"
)
_PDF_MAGIC = b"%PDF-"


def _head(path: Path, n: int = 1024) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def detect_format(path: Path) -> Format:
    """The format of ``path``, or a ``PaperError`` saying what is wrong and what is accepted."""
    if not path.exists():
        raise PaperError(f"{path}: no such file or folder; check the path")
    if path.is_dir():
        return "latex"
    if is_archive_name(path):
        if archive_kind(path) is None:
            looks_pdf = _PDF_MAGIC in _head(path)
            raise PaperError(
                f"{path}: named like an archive but "
                + ("contains a PDF; rename it to .pdf" if looks_pdf else "is not one (damaged?)")
            )
        return "archive"
    suffix = path.suffix.lower()
    fmt = SUFFIXES.get(suffix)
    head = _head(path)
    looks_pdf = _PDF_MAGIC in head
    if fmt is None:
        hint = "; it looks like a PDF: rename it to .pdf" if looks_pdf else ""
        raise PaperError(
            f"{path}: unsupported file type {suffix or '(no suffix)'!r}; "
            f"supported: {SUPPORTED}{hint}"
        )
    if fmt == "pdf" and not looks_pdf:
        what = "empty" if not head else "not a PDF (no %PDF- header)"
        raise PaperError(
            f"{path}: the file is {what}; give a real PDF, or a .tex/.md source "
            f"(supported: {SUPPORTED})"
        )
    if fmt != "pdf" and (looks_pdf or b"\x00" in head):
        kind = "a PDF" if looks_pdf else "binary data"
        raise PaperError(
            f"{path}: named {suffix} but contains {kind}; "
            + ("rename it to .pdf" if looks_pdf else f"give a text source (supported: {SUPPORTED})")
        )
    return fmt


def read_text(path: Path) -> str:
    """A text source as str: UTF-8 (with or without BOM), else Latin-1 as old TeX files use."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
