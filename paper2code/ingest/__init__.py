"""Paper ingestion (no LLM): a PDF, LaTeX source (file, folder or archive), Markdown file or
arXiv reference → ``Paper``.

``ingest_paper`` resolves the reference (downloads ``arxiv:ID``, unpacks archives), picks the
reader from the content, parses the whole paper and returns it; given a paper folder, it also
crops each display equation of a PDF to ``equations/eq-NNN.png`` there. ``write_paper`` stores
``paper.json`` and ``paper.md``. Bad input raises ``PaperError`` with a one-line message that
says what to do.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from paper2code.errors import PaperError
from paper2code.ingest.archive import ARCHIVE_SUFFIXES, unpack_archive
from paper2code.ingest.arxiv import arxiv_id, fetch_arxiv
from paper2code.ingest.assemble import assemble
from paper2code.ingest.mathscore import latex_similarity, normalize_latex
from paper2code.ingest.source import SUPPORTED, detect_format
from paper2code.ingest.write import write_paper
from paper2code.schemas import Paper
from paper2code.settings import IngestSettings

__all__ = [
    "SUPPORTED",
    "arxiv_id",
    "fetch_arxiv",
    "ingest_paper",
    "latex_similarity",
    "normalize_latex",
    "paper_slug",
    "resolve_paper",
    "unpack_archive",
    "write_paper",
]

log = logging.getLogger(__name__)

DOWNLOAD_DIR = "download"
"""Folder (inside the paper folder) where arXiv downloads are kept."""
SOURCE_DIR = "source"
"""Folder (inside the paper folder) where source archives are unpacked."""


@contextlib.contextmanager
def _work_dir(out_dir: Path | None) -> Iterator[Path]:
    """The paper folder (created; removed again if ingestion fails and it did not exist), or
    a temporary folder."""
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="paper2code-ingest-") as tmp:
            yield Path(tmp)
        return
    out_dir = Path(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield out_dir
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def paper_slug(paper: Path | str) -> str:
    """A folder name for a paper reference: ``arxiv:1706.03762v5`` → ``arxiv-1706-03762v5``,
    ``src.tar.gz`` → ``src``, ``Attention Is All You Need.pdf`` →
    ``attention-is-all-you-need``."""
    text = str(paper)
    ident = arxiv_id(text)
    if ident is not None and not Path(text).exists():
        stem = f"arxiv-{ident}"
    else:
        name = Path(text).name
        lower = name.lower()
        suffix = next((s for s in (*ARCHIVE_SUFFIXES, ".pdf", ".tex", ".md", ".markdown")
                       if lower.endswith(s)), "")  # fmt: skip
        stem = name[: len(name) - len(suffix)] if suffix else name
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug[:60] or "paper"


def resolve_paper(
    paper: Path | str, work_dir: Path, settings: IngestSettings | None = None
) -> tuple[Path, str]:
    """A local file or folder for a paper reference, and the name to record as its source.

    ``arxiv:ID`` and arXiv links are downloaded into ``work_dir/download/``; source archives
    (given or downloaded) are unpacked into ``work_dir/source/<name>/``. Anything else is
    returned as it is (``detect_format`` checks it).
    """
    settings = settings or IngestSettings()
    text = str(paper)
    name = Path(text).name
    ident = arxiv_id(text)
    path = Path(paper)
    if ident is not None and not path.exists():
        path = fetch_arxiv(text, work_dir / DOWNLOAD_DIR, settings)
        name = f"arxiv:{ident}"
    if path.is_file() and detect_format(path) == "archive":
        stem = path.name.split(".")[0] or "paper"
        dest = work_dir / SOURCE_DIR / stem
        if dest.exists():
            shutil.rmtree(dest)
        path = unpack_archive(
            path,
            dest,
            max_mb=settings.max_archive_mb,
            max_members=settings.max_archive_members,
        )
        if not any(dest.rglob("*.tex")):
            pdfs = sorted(dest.rglob("*.pdf"))
            if len(pdfs) == 1:
                path = pdfs[0]
    return path, name


def _read(path: Path, name: str, settings: IngestSettings, paper_dir: Path | None) -> Paper:
    fmt = detect_format(path)
    if fmt == "pdf":
        from paper2code.ingest.pdf import EQUATIONS_DIR, read_pdf

        if paper_dir is not None:
            shutil.rmtree(paper_dir / EQUATIONS_DIR, ignore_errors=True)
        draft, pages = read_pdf(path, settings, paper_dir)
        return assemble(draft, source=name, source_format="pdf", pages=pages)
    if fmt == "latex":
        from paper2code.ingest.latex import read_latex

        return assemble(read_latex(path), source=name, source_format="latex")
    if fmt == "archive":  # resolve_paper unpacks archives; reaching here means a nested one
        raise PaperError(f"{name}: an archive inside an archive; unpack it first")
    from paper2code.ingest.markdown import read_markdown

    return assemble(read_markdown(path), source=name, source_format="markdown")


def ingest_paper(
    paper: Path | str,
    settings: IngestSettings | None = None,
    *,
    out_dir: Path | None = None,
    source: Path | str | None = None,
) -> Paper:
    """Read a paper: ``.pdf``, ``.tex`` (or a folder with the main ``.tex``), a source archive
    (``.tar.gz``/``.tgz``/``.zip``/``.gz``), ``.md``/``.markdown``, or ``arxiv:ID`` / an arXiv
    link (downloaded: its LaTeX source, or its PDF when it has none).

    ``out_dir`` is the paper folder of the run (``<run>/paper``): downloads go to
    ``out_dir/download/``, archives are unpacked into ``out_dir/source/``, and each display
    equation of a PDF is cropped to ``out_dir/equations/eq-NNN.png`` and linked from the
    paper's Markdown. Without it a temporary folder is used and no images are written.

    ``source``: the LaTeX source of the same paper (file, folder, archive or arXiv reference).
    When given, it is read instead of ``paper`` (LaTeX carries exact equations and structure);
    if it cannot be read, a warning is logged and ``paper`` is read. The page count comes from
    ``paper`` when it is a PDF.

    Raises ``PaperError`` for input it cannot read.
    """
    settings = settings or IngestSettings()
    with _work_dir(out_dir) as work:
        if source is not None:
            try:
                path, name = resolve_paper(source, work, settings)
                result = _read(path, name, settings, out_dir)
            except PaperError as exc:
                log.warning("%s; reading %s instead", exc, paper)
            else:
                result.pages = _pdf_pages(paper)
                return result
        path, name = resolve_paper(paper, work, settings)
        return _read(path, name, settings, out_dir)


def _pdf_pages(paper: Path | str) -> int | None:
    path = Path(paper)
    if not path.is_file() or path.suffix.lower() != ".pdf":
        return None
    try:
        import pymupdf

        with pymupdf.open(path) as doc:
            return doc.page_count
    except (RuntimeError, ValueError):  # the page count is a courtesy; the source was read
        return None
