"""Paper ingestion (no LLM): a PDF, LaTeX source or Markdown file → ``Paper``.

``ingest_paper`` picks the reader from the file's suffix and content, parses the whole paper
and returns it; ``write_paper`` stores it. Bad input raises ``PaperError`` with a one-line
message that says what to do.
"""

from __future__ import annotations

from pathlib import Path

from paper2code.ingest.assemble import assemble
from paper2code.ingest.source import SUPPORTED, detect_format
from paper2code.ingest.write import write_paper
from paper2code.schemas import Paper
from paper2code.settings import IngestSettings

__all__ = ["SUPPORTED", "ingest_paper", "write_paper"]


def ingest_paper(path: Path, settings: IngestSettings | None = None) -> Paper:
    """Read the paper at ``path``: ``.pdf``, ``.tex`` (or a folder with the main ``.tex``),
    ``.md``/``.markdown``. Raises ``PaperError`` for input it cannot read."""
    path = Path(path)
    settings = settings or IngestSettings()
    fmt = detect_format(path)
    if fmt == "pdf":
        from paper2code.ingest.pdf import read_pdf

        draft, pages = read_pdf(path, settings)
        return assemble(draft, source=path.name, source_format="pdf", pages=pages)
    if fmt == "latex":
        from paper2code.ingest.latex import read_latex

        return assemble(read_latex(path), source=path.name, source_format="latex")
    from paper2code.ingest.markdown import read_markdown

    return assemble(read_markdown(path), source=path.name, source_format="markdown")
