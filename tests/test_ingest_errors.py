"""Bad input at the CLI: one actionable line on stderr, exit code 2, no traceback, and no
output written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from paperfactory import (
    make_blank_pdf,
    make_encrypted_pdf,
    make_markdown,
    make_pdf,
    make_scanned_pdf,
    sample_spec,
)

from paper2code.cli import main


def _missing(tmp: Path) -> Path:
    return tmp / "nope.pdf"


def _docx(tmp: Path) -> Path:
    (tmp / "paper.docx").write_bytes(b"PK\x03\x04 word")
    return tmp / "paper.docx"


def _pdf_without_suffix(tmp: Path) -> Path:
    return make_blank_pdf(tmp / "paper.bin")


def _markdown_named_pdf(tmp: Path) -> Path:
    return make_markdown(tmp / "paper.pdf")


def _pdf_named_markdown(tmp: Path) -> Path:
    return make_blank_pdf(tmp / "paper.md")


def _corrupt(tmp: Path) -> Path:
    (tmp / "bad.pdf").write_bytes(b"%PDF-1.7\n1 0 obj garbage\n")
    return tmp / "bad.pdf"


def _truncated(tmp: Path) -> Path:
    data = make_pdf(tmp / "whole.pdf").read_bytes()
    (tmp / "cut.pdf").write_bytes(data[:3000])
    return tmp / "cut.pdf"


def _encrypted(tmp: Path) -> Path:
    return make_encrypted_pdf(tmp / "locked.pdf")


def _scanned(tmp: Path) -> Path:
    return make_scanned_pdf(tmp / "scan.pdf")


def _blank(tmp: Path) -> Path:
    return make_blank_pdf(tmp / "blank.pdf", pages=2)


def _empty_markdown(tmp: Path) -> Path:
    (tmp / "empty.md").write_text("\n  \n")
    return tmp / "empty.md"


def _escaping_tex(tmp: Path) -> Path:
    (tmp / "outside.tex").write_text("\\section{Secret}")
    (tmp / "src").mkdir()
    (tmp / "src" / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\\input{../outside}\\end{document}"
    )
    return tmp / "src"


def _folder_without_main(tmp: Path) -> Path:
    (tmp / "src").mkdir()
    (tmp / "src" / "intro.tex").write_text("\\section{Intro} text")
    return tmp / "src"


CASES: list[tuple[str, Callable[[Path], Path], list[str], list[str]]] = [
    ("missing", _missing, ["nope.pdf: no such file"], []),
    ("unsupported", _docx, ["unsupported file type '.docx'", "supported: .pdf, .tex"], []),
    ("pdf-no-suffix", _pdf_without_suffix, ["unsupported file type", "rename it to .pdf"], []),
    ("not-a-pdf", _markdown_named_pdf, ["not a PDF (no %PDF- header)", "supported:"], []),
    ("pdf-named-md", _pdf_named_markdown, ["named .md but contains a PDF", "rename"], []),
    ("corrupt", _corrupt, ["corrupt", "qpdf"], []),
    ("truncated", _truncated, ["corrupt", "truncated"], []),
    ("encrypted", _encrypted, ["encrypted", "qpdf --decrypt"], []),
    ("scanned", _scanned, ["no text layer", "OCR", "ocrmypdf in.pdf out.pdf"], []),
    ("blank", _blank, ["empty"], []),
    ("empty-md", _empty_markdown, ["empty"], []),
    (
        "too-many-pages",
        lambda t: make_pdf(t / "p.pdf", sample_spec(paragraphs=1)),
        ["more than the limit of 1", "--max-pages"],
        ["--max-pages", "1"],
    ),
    ("tex-escape", _escaping_tex, ["outside the paper's folder"], []),
    ("tex-no-main", _folder_without_main, ["no .tex file with \\documentclass"], []),
]


@pytest.mark.parametrize(("build", "expected", "extra"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    build: Callable[[Path], Path],
    expected: list[str],
    extra: list[str],
) -> None:
    paper = build(tmp_path)
    out = tmp_path / "out"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["ingest", str(paper), "--out", str(out), *extra])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    for phrase in expected:
        assert phrase in err
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()


def test_good_input_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paper = make_markdown(tmp_path / "paper.md")
    out = tmp_path / "out"
    main(["ingest", str(paper), "--out", str(out)])  # returns normally on success
    assert sorted(p.name for p in out.iterdir()) == ["paper.json", "paper.md"]
    assert "11 sections, 5 references" in capsys.readouterr().err
