"""Markdown ingestion, and the text rules every reader shares (headings, references)."""

from __future__ import annotations

from pathlib import Path

import pytest
from paperfactory import make_markdown, sample_spec
from test_ingest_pdf import assert_matches_spec

from paper2code.ingest import ingest_paper
from paper2code.ingest.assemble import parse_authors
from paper2code.ingest.headings import number_key, parse_heading
from paper2code.ingest.references import split_references
from paper2code.settings import IngestSettings


def test_factory_paper(tmp_path: Path) -> None:
    spec = sample_spec()
    paper = ingest_paper(make_markdown(tmp_path / "paper.md", spec), IngestSettings())
    assert paper.source_format == "markdown" and paper.source == "paper.md"
    assert_matches_spec(paper, spec)
    assert paper.authors == spec.authors
    assert paper.abstract == spec.abstract
    exp = next(s for s in paper.sections if s.number == "4")
    assert exp.tables == ["| Model | Params | Accuracy |\n|---|---|---|\n"
                          "| Baseline | 12M | 81.2 |\n| Ours | 9M | 84.7 |"]  # fmt: skip
    assert exp.captions == ["Table 1: Accuracy on the copy task."]


def test_demo_paper_ships_and_reads() -> None:
    demo = Path(__file__).parents[1] / "paper2code" / "demo" / "paper.md"
    paper = ingest_paper(demo, IngestSettings())
    assert paper.title.startswith("Smoothed Softmax Regression")
    assert [s.number for s in paper.sections] == [
        "1", "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2", "4"
    ]  # fmt: skip
    assert len(paper.references) == 2
    assert paper.sections[3].equations == [r"q_k = (1 - \varepsilon)\,[k = y] + \varepsilon / K."]


def test_unnumbered_headings_code_fences_and_markdown_suffix(tmp_path: Path) -> None:
    src = tmp_path / "notes.markdown"
    src.write_text(
        "Some preface text.\n\n# My Paper\n\n**Abstract.** Short abstract.\n\n"
        "## Background\n\nText with $$x$$ inline.\n\n```python\n# not a heading\n```\n\n"
        "### Details\n\n$$ a = b $$\n\nFigure 3. A plot.\n\n"
        "## Bibliography\n\n1. First ref.\n2. Second ref.\n\n## Appendix\n\nExtra.\n"
    )
    paper = ingest_paper(src, IngestSettings())
    assert paper.title == "My Paper"
    assert paper.abstract == "Short abstract."
    assert [(s.number, s.heading, s.level, s.appendix) for s in paper.sections] == [
        (None, "Background", 1, False),
        (None, "Details", 2, False),
        (None, "Appendix", 1, True),
    ]
    assert "```\n# not a heading\n```" in paper.sections[0].text
    assert paper.sections[1].equations == ["a = b"]
    assert paper.sections[1].captions == ["Figure 3. A plot."]
    assert paper.references == ["First ref.", "Second ref."]


@pytest.mark.parametrize(
    ("text", "number", "heading", "appendix"),
    [
        ("1 Introduction", "1", "Introduction", False),
        ("**3.1. Encoder**", "3.1", "Encoder", False),
        ("2.3.4 Deep Part", "2.3.4", "Deep Part", False),
        ("Appendix A: Proofs", "A", "Proofs", True),
        ("Appendix", None, "Appendix", True),
        ("Appendix and more", None, "Appendix and more", True),
        ("A.2 More Results", "A.2", "More Results", True),
        ("Related Work", None, "Related Work", False),
        ("2017 Was a Year", None, "2017 Was a Year", False),
    ],
)
def test_parse_heading(text: str, number: str | None, heading: str, appendix: bool) -> None:
    h = parse_heading(text)
    assert (h.number, h.text, h.appendix) == (number, heading, appendix)


def test_letter_numbers_only_after_numbered_sections() -> None:
    assert parse_heading("A Study of Attention").number is None
    assert parse_heading("B Proofs", letters=True).number == "B"


def test_number_key_orders_appendix_last() -> None:
    numbers = ["A.1", "10", "2", "2.10", "2.9", "A", "B"]
    assert sorted(numbers, key=number_key) == ["2", "2.9", "2.10", "10", "A", "A.1", "B"]


@pytest.mark.parametrize(
    ("blocks", "entries"),
    [
        (["[1] A. One. [2] B. Two.", "[3] C. Three."], ["A. One.", "B. Two.", "C. Three."]),
        (["[1] A. One, part", "continued here.", "[2] B."], ["A. One, part continued here.", "B."]),
        (["1. A.\n2. B."], ["A.", "B."]),
        (["- A.\n- B.", "- [3] C."], ["A.", "B.", "C."]),
        (
            ["Smith, J. Paper one.", "Doe, J. Paper two."],
            ["Smith, J. Paper one.", "Doe, J. Paper two."],
        ),
        ([" ", ""], []),
    ],
)
def test_split_references(blocks: list[str], entries: list[str]) -> None:
    assert split_references(blocks) == entries


def test_parse_authors_drops_affiliations_and_marks() -> None:
    lines = ["Ada Lovelace1∗, Alan Turing2 and Grace Hopper", "1University of X, jane@x.org"]
    assert parse_authors(lines) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
