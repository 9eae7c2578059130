"""Ingestion of papers typeset by LaTeX (``texfactory``), compared with the source they came
from: two-column conference papers (the references heading set three ways) and a 38-page
single-column journal paper with running heads, a journal footer and algorithm boxes.

From the PDF: title, abstract, authors, every heading in order with its number and level, no
figure label or furniture anywhere, paragraphs in their sections, inline math readable,
tables whole with their header, algorithms as code, references split off, appendix marked,
equations recovered (token similarity to the source, mean ≥ 0.8) with their numbers and
images. From the LaTeX source (folder and archive): the same structure and exact equations.
"""

from __future__ import annotations

import re
import statistics
import tarfile
from pathlib import Path

import pytest
from texfactory import TexPaper

from paper2code.ingest import ingest_paper, latex_similarity, write_paper
from paper2code.ingest.latex_text import latex_to_text
from paper2code.schemas import Paper, Section
from paper2code.settings import IngestSettings

pytestmark = pytest.mark.tex

CONFERENCE = ["conference", "conference-bold", "conference-bibliography"]
ALL = [*CONFERENCE, "journal"]


def squash(text: str) -> str:
    """Text for comparison: no whitespace, no hyphens (line-break hyphenation), no math
    delimiters, one spelling of dashes."""
    text = text.replace("–", "-").replace("—", "-")
    return re.sub(r"[\s\-$]+", "", text)


def prose(text: str) -> str:
    """Text without its inline math."""
    return re.sub(r"\$[^$]*\$", " ", text)


def prose_of_markdown(md: str) -> str:
    """paper.md without headings, display math, code, image links and inline math."""
    md = re.sub(r"\$\$.*?\$\$|```.*?```|!\[[^\]]*\]\([^)]*\)", " ", md, flags=re.S)
    md = "\n".join(ln for ln in md.splitlines() if not ln.startswith("#"))
    return prose(md)


def source_text(para: str) -> str:
    """What a source paragraph reads as in the body (its footnote is printed elsewhere)."""
    para = re.sub(r"\\footnote\{[^{}]*(\{[^{}]*\}[^{}]*)*\}", "", para)
    para = re.sub(r"\\(begin|end)\{itemize\}", "", para).replace("\\item", "")
    return latex_to_text(para)


def structure(paper: Paper) -> list[tuple[str | None, str, int, bool]]:
    return [(s.number, s.heading, s.level, s.appendix) for s in paper.sections]


def expected_structure(spec: TexPaper) -> list[tuple[str | None, str, int, bool]]:
    return [(s.number, s.heading, s.level, s.appendix) for s in spec.sections]


def md_cells(table: str) -> list[list[str]]:
    rows = [
        re.split(r"(?<!\\)\|", ln.strip()[1:-1]) for ln in table.splitlines() if ln.startswith("|")
    ]
    return [[c.strip() for c in r] for r in rows if not all(set(c.strip()) <= set("-:") for c in r)]


_cache: dict[str, tuple[TexPaper, Paper, Path]] = {}


@pytest.fixture
def pdf_paper(typeset, request: pytest.FixtureRequest) -> tuple[TexPaper, Paper, Path]:
    """(spec, paper ingested from the PDF with a paper folder, that folder)."""
    name = request.param
    if name not in _cache:
        spec, pdf = typeset(name)
        out = pdf.parent / "ingested" / "paper"
        paper = ingest_paper(pdf, IngestSettings(), out_dir=out)
        write_paper(paper, out)
        _cache[name] = (spec, paper, out)
    return _cache[name]


def by_param(names: list[str]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("pdf_paper", names, indirect=True)


# ------------------------------------------------------------------------- front and structure


@by_param(ALL)
def test_title_abstract_authors(pdf_paper) -> None:
    spec, paper, _ = pdf_paper
    assert paper.title == spec.title
    assert paper.authors == spec.authors
    assert squash(paper.abstract) == squash(latex_to_text(spec.abstract))
    assert paper.source_format == "pdf"
    if spec.style == "journal":
        assert paper.pages and paper.pages >= 30


@by_param(ALL)
def test_every_heading_in_order_with_number_level_and_appendix_mark(pdf_paper) -> None:
    spec, paper, _ = pdf_paper
    assert structure(paper) == expected_structure(spec)


@by_param(ALL)
def test_no_furniture_figure_label_or_html_in_paper_md(pdf_paper) -> None:
    spec, _, out = pdf_paper
    md = (out / "paper.md").read_text()
    for furniture in spec.running_heads:
        assert furniture not in md
    assert not re.search(r"Preprint\. Under review|Publication date", md)
    text = prose_of_markdown(md)
    for sec in spec.sections:
        for fig in sec.figures:
            for label in fig.labels:
                assert label not in text, label
    assert not re.search(r"<[a-zA-Z/!][^>]*>", md), "HTML markup in paper.md"
    assert "~~" not in md and "<sup>" not in md
    assert not [ln for ln in md.splitlines() if re.fullmatch(r"\s*\d{1,3}\s*", ln)]


@by_param(ALL)
def test_paragraphs_stay_in_their_sections_in_order(pdf_paper) -> None:
    spec, paper, _ = pdf_paper
    for want, got in zip(spec.sections, paper.sections, strict=True):
        text = squash(prose(got.text))
        pos = 0
        for para in want.paragraphs:
            expected = squash(prose(source_text(para)))
            found = text.find(expected, pos)
            assert found >= 0, f"paragraph missing or out of order in {want.number} {want.heading}"
            pos = found + len(expected)


def test_inline_math_is_readable(typeset) -> None:
    _, pdf = typeset("conference")
    paper = ingest_paper(pdf, IngestSettings())
    text = "\n".join(s.text for s in paper.sections)
    for math in (r"$d_k$", r"$d_v$", r"$1/\sqrt{d_k}$", r"$\alpha_{ij}$", r"$W_i^Q$",
                 r"$d_{\mathrm{model}}$"):  # fmt: skip
        assert math in text, math


def test_inline_math_footnotes_and_lists_in_a_computer_modern_paper(typeset) -> None:
    """Prose and math share Computer Modern: digits, brackets, ``=`` and ``log`` are set in
    the prose font and still belong to the formulas."""
    _, pdf = typeset("journal")
    paper = ingest_paper(pdf, IngestSettings())
    text = "\n".join(s.text for s in paper.sections)
    for piece in (
        r"We write $h(x)$ for the path length of $x$ and $c(n)$ for its average",
        r"$E(h(x)) \rightarrow 0$",
        r"$s(x,n) = 2^{-E(h(x))/c(n)}$",
        r"Sorting takes $O(n\log n)$ time, while a subsample of $\psi = 256$ points suffices",
        "[^1]: We use $t = 100$ trees in all experiments.",
        "- distance-based methods need $O(n^2)$ comparisons;",
        "- density-based methods need a neighbourhood size $k$ chosen in advance.",
        "Swamping. Normal points",
    ):
        assert piece in text, piece


@by_param(ALL)
def test_references_split_off(pdf_paper) -> None:
    spec, paper, out = pdf_paper
    assert [squash(r) for r in paper.references] == [
        squash(latex_to_text(r)) for r in spec.references
    ]
    md = (out / "paper.md").read_text()
    for ref in paper.references:
        assert ref not in md
    assert all(not re.match(r"(?i)references|bibliography", s.heading) for s in paper.sections)


@by_param(ALL)
def test_tables_whole_with_header(pdf_paper) -> None:
    spec, paper, _ = pdf_paper
    want = [[[latex_to_text(c) for c in row] for row in t.rows] for t in spec.tables()]
    got = [md_cells(t) for s in paper.sections for t in s.tables]
    assert got == want
    # a float is read where it is printed (the top of a page), maybe a section further on
    captions = [squash(c) for s in paper.sections for c in s.captions]
    for t in spec.tables():
        assert any(squash(latex_to_text(t.caption)) in c for c in captions)


@by_param(ALL)
def test_algorithms_are_code_blocks(pdf_paper) -> None:
    spec, paper, _ = pdf_paper
    blocks = [b for s in paper.sections for b in re.findall(r"```\n(.*?)\n```", s.text, re.S)]
    algorithms = [a for s in spec.sections for a in s.algorithms]
    assert len(blocks) == len(algorithms)
    for alg, code in zip(algorithms, blocks, strict=True):
        for words in alg.words:
            assert words in code
        assert len(code.splitlines()) >= len(alg.lines) - 2
    assert not [s for s in paper.sections if s.heading.lower().startswith("algorithm")]


# ------------------------------------------------------------------------- equations


def _records(paper: Paper) -> list[tuple[Section, object]]:
    return [(s, e) for s in paper.sections for e in s.equation_records]


@by_param(ALL)
def test_equations_recovered_with_numbers(pdf_paper) -> None:
    spec, paper, _ = pdf_paper
    want = {e.number: e.latex for e in spec.equations()}
    got = {e.number: e.latex for _, e in _records(paper)}
    assert sorted(got, key=int) == sorted(want, key=int)
    scores = {n: latex_similarity(got[n], want[n]) for n in want}
    assert statistics.mean(scores.values()) >= 0.8, scores
    assert min(scores.values()) >= 0.6, scores
    for sec in spec.sections:
        ours = next(s for s in paper.sections if (s.number, s.heading) == (sec.number, sec.heading))
        assert [e.number for e in ours.equation_records] == [e.number for e in sec.equations]


@by_param(["conference"])
def test_equation_images_cropped_and_linked(pdf_paper) -> None:
    spec, paper, out = pdf_paper
    md = (out / "paper.md").read_text()
    records = [e for _, e in _records(paper)]
    assert len(records) == len(spec.equations())
    for e in records:
        assert e.image and e.page
        png = out / e.image
        assert png.read_bytes().startswith(b"\x89PNG")
        assert f"![Equation ({e.number})]({e.image})" in md
        assert f"\\tag{{{e.number}}}" in md
    assert sorted(p.name for p in (out / "equations").iterdir()) == [
        f"eq-{k:03d}.png" for k in range(1, len(records) + 1)
    ]
    attention = next(e for e in records if "Attention" in e.latex)
    assert (
        attention.latex == r"\mathrm{Attention}(Q,K,V) = \mathrm{softmax}(\frac{QK^T}{\sqrt{d_k}})V"
    )


@by_param(["conference"])
def test_paper_md_reads_back_with_equation_numbers_and_images(pdf_paper) -> None:
    _, paper, out = pdf_paper
    again = ingest_paper(out / "paper.md", IngestSettings())
    assert [(e.latex, e.number, e.image) for _, e in _records(again)] == [
        (e.latex, e.number, e.image) for _, e in _records(paper)
    ]


def test_without_a_paper_folder_no_images(typeset) -> None:
    _, pdf = typeset("conference")
    paper = ingest_paper(pdf, IngestSettings())
    assert all(e.image is None for _, e in _records(paper))
    assert "![Equation" not in paper.to_markdown()


# ------------------------------------------------------------------------- from the source


def _tar(folder: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tf:
        for p in sorted(folder.iterdir()):
            if p.name == "main.tex" or (p.suffix == ".pdf" and p.stem != "main"):
                tf.add(p, arcname=p.name)  # the LaTeX source and its figures
    return dest


@pytest.mark.parametrize("name", ["conference", "journal"])
@pytest.mark.parametrize("form", ["folder", "archive", "pdf+source"])
def test_from_latex_source_exact_equations(typeset, tmp_path: Path, name: str, form: str) -> None:
    spec, pdf = typeset(name)
    folder = pdf.parent
    if form == "folder":
        paper = ingest_paper(folder, IngestSettings())
    elif form == "archive":
        paper = ingest_paper(
            _tar(folder, tmp_path / "src.tar.gz"), IngestSettings(), out_dir=tmp_path / "p"
        )
        assert (tmp_path / "p" / "source" / "src" / "main.tex").is_file()
    else:
        paper = ingest_paper(pdf, IngestSettings(), source=folder)
        assert paper.pages == pdf_pages(pdf)
    assert paper.source_format == "latex"
    assert paper.title == spec.title
    assert structure(paper) == expected_structure(spec)
    assert [(e.number, e.latex) for _, e in _records(paper)] == [
        (e.number, e.latex) for e in spec.equations()
    ]
    assert len(paper.references) == len(spec.references)


def pdf_pages(pdf: Path) -> int:
    import pymupdf

    with pymupdf.open(pdf) as doc:
        return doc.page_count
