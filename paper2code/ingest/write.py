"""Writing an ingested paper: ``paper.json`` and ``paper.md``, each atomically."""

from __future__ import annotations

from pathlib import Path

from paper2code.schemas import Paper
from sandbox import atomic


def write_paper(paper: Paper, out_dir: Path) -> None:
    """Write ``paper.json`` (structured) and ``paper.md`` (what agents read) into ``out_dir``.

    Equation images are written by ``ingest_paper(..., out_dir=out_dir)`` into
    ``out_dir/equations/``; ``paper.md`` links them by relative path, so write the paper into
    the same folder it was ingested with.

    Both texts are rendered before anything touches the disk, and each file is written via a
    temporary file and a rename, so a failure leaves no half-written artifact. ``paper.json``
    goes last: its presence marks the ingest stage as done.
    """
    markdown = paper.to_markdown()
    data = paper.model_dump(mode="json")
    out_dir = Path(out_dir)
    atomic.write_text(out_dir / "paper.md", markdown)
    atomic.write_json(out_dir / "paper.json", data)
