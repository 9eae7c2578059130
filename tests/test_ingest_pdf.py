"""PDF ingestion on two-column papers built by ``paperfactory`` (real PyMuPDF layout analysis)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from paperfactory import RUNNING_HEADER, PaperSpec, make_pdf, sample_spec

from paper2code.ingest import ingest_paper, write_paper
from paper2code.ingest.assemble import assemble, check_numbered_order
from paper2code.ingest.blocks import Block, Draft
from paper2code.ingest.headings import number_key
from paper2code.ingest.reading_order import column_order, is_two_column
from paper2code.schemas import Paper, Section
from paper2code.settings import IngestSettings
from paper2code.tokens import count_tokens


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _cells(table: str) -> list[list[str]]:
    rows = [ln for ln in table.splitlines() if ln.strip().startswith("|")]
    out = [[_norm(c).strip("*").strip() for c in r.strip().strip("|").split("|")] for r in rows]
    return [r for r in out if not all(set(c) <= set("-: ") for c in r)]


def assert_matches_spec(paper: Paper, spec: PaperSpec) -> None:
    """Every heading in order with its number and level, every paragraph in its own section,
    appendix marks, references split off one per entry."""
    assert paper.title == spec.title
    assert [(s.number, s.heading, s.level) for s in paper.sections] == [
        (s.number, s.heading, s.level) for s in spec.sections
    ]
    assert [s.appendix for s in paper.sections] == [s.appendix for s in spec.sections]
    for want, got in zip(spec.sections, paper.sections, strict=True):
        for para in want.paragraphs:
            assert _norm(para) in _norm(got.text), f"paragraph missing from {want.title}"
    assert paper.references == spec.references
    for ref in spec.references:
        assert ref not in paper.to_markdown()


@pytest.fixture(scope="module")
def two_column(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paper, PaperSpec]:
    spec = sample_spec()
    pdf = make_pdf(tmp_path_factory.mktemp("pdf") / "paper.pdf", spec)
    return ingest_paper(pdf, IngestSettings()), spec


def test_two_column_paper_headings_paragraphs_and_references(two_column) -> None:
    paper, spec = two_column
    assert paper.source_format == "pdf" and paper.pages == 4
    assert_matches_spec(paper, spec)


def test_front_matter(two_column) -> None:
    paper, spec = two_column
    assert paper.authors == spec.authors
    assert _norm(paper.abstract) == _norm(spec.abstract)


def test_equation_table_and_captions_land_in_their_sections(two_column) -> None:
    paper, _ = two_column
    by_number = {s.number: s for s in paper.sections}
    encoder, experiments = by_number["3.1"], by_number["4"]
    assert [_norm(e) for e in encoder.equations] == ["h = softmax(Q K^T / sqrt(d)) V"]
    assert "$$\nh = softmax" in encoder.text
    assert encoder.captions == ["Figure 1: The encoder architecture with stacked attention layers."]
    assert experiments.captions == ["Table 1: Accuracy on the copy task."]
    assert len(experiments.tables) == 1
    assert _cells(experiments.tables[0]) == [
        ["Model", "Params", "Accuracy"],
        ["Baseline", "12M", "81.2"],
        ["Ours", "9M", "84.7"],
    ]
    for s in paper.sections:
        if s.number not in {"3.1", "4"}:
            assert not s.equations and not s.tables and not s.captions, s.number


def test_page_furniture_dropped(two_column) -> None:
    paper, _ = two_column
    md = paper.to_markdown()
    assert RUNNING_HEADER not in md
    assert not [ln for ln in md.splitlines() if re.fullmatch(r"\s*\d{1,2}\s*", ln)]


def test_token_counts(two_column) -> None:
    paper, _ = two_column
    for s in paper.sections:
        assert s.tokens == count_tokens(f"{s.number} {s.heading}\n\n{s.text}")
        assert s.tokens > 50
    assert paper.tokens == count_tokens(paper.to_markdown(include_references=False))
    assert paper.tokens > sum(s.tokens for s in paper.sections)


def test_single_column_paper(tmp_path: Path) -> None:
    spec = sample_spec(paragraphs=1)
    paper = ingest_paper(make_pdf(tmp_path / "one.pdf", spec, two_column=False), IngestSettings())
    assert_matches_spec(paper, spec)


@pytest.mark.slow
def test_fifteen_page_paper_keeps_order(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "long.pdf", pages=15)
    paper = ingest_paper(pdf, IngestSettings())
    assert paper.pages == 15
    numbers = [s.number for s in paper.sections]
    assert numbers[:4] == ["1", "2", "3", "3.1"] and numbers[-2:] == ["A", "A.1"]
    assert len(numbers) == len(set(numbers))
    assert numbers == sorted(numbers, key=number_key)  # printed in order, read in order
    assert len(paper.references) == 5


def test_write_paper_round_trips(two_column, tmp_path: Path) -> None:
    paper, _ = two_column
    out = tmp_path / "run" / "paper"
    write_paper(paper, out)
    assert sorted(p.name for p in out.iterdir()) == ["paper.json", "paper.md"]
    assert Paper.model_validate_json((out / "paper.json").read_text()) == paper
    assert (out / "paper.md").read_text() == paper.to_markdown()


# ---------------------------------------------------------------- reading order (pure)

W, H = 612.0, 792.0


def test_column_order_fixes_interleaved_columns() -> None:
    # the order a layout engine produced on a real two-column page: right-column boxes (x=324)
    # slipped between left-column ones
    boxes = {
        "L1 heading": (63, 155, 126, 165),
        "L2": (63, 172, 288, 190),
        "L3": (63, 313, 288, 504),
        "R1": (324, 55, 549, 213),
        "R2": (324, 220, 549, 401),
        "L4": (63, 512, 288, 670),
        "L5": (63, 693, 288, 735),
        "footer": (302, 757, 308, 764),
    }
    names = list(boxes)
    got = column_order(names, [boxes[n] for n in names], W, H)
    assert got == ["L1 heading", "L2", "L3", "L4", "L5", "R1", "R2", "footer"]


def test_column_order_bands_split_by_full_width_boxes() -> None:
    boxes = {
        "title": (150, 60, 460, 80),  # full width, top
        "R-top": (324, 100, 549, 300),
        "L-top": (63, 100, 288, 300),
        "wide table": (63, 320, 549, 420),  # spans both columns
        "R-bottom": (324, 440, 549, 700),
        "L-bottom": (63, 440, 288, 700),
    }
    names = list(boxes)
    got = column_order(names, [boxes[n] for n in names], W, H)
    assert got == ["title", "L-top", "R-top", "wide table", "L-bottom", "R-bottom"]


def test_single_column_page_keeps_engine_order() -> None:
    boxes = [(54, 100, 558, 300), (54, 310, 200, 320), (54, 330, 558, 700)]
    assert not is_two_column(boxes, W, H)
    assert column_order(["a", "b", "c"], boxes, W, H) == ["a", "b", "c"]


def test_section_numbers_never_move_text(caplog: pytest.LogCaptureFixture) -> None:
    """Numbers out of order are reported, and the text stays where it is printed."""

    def sec(number: str | None, heading: str) -> Section:
        return Section(number=number, heading=heading)

    mixed = [sec("1", "Intro"), sec("3", "Exp"), sec("2", "Method"), sec(None, "Acks")]
    with caplog.at_level("WARNING"):
        check_numbered_order(mixed)
    assert "section 2 comes after section 3" in caplog.text
    assert [s.heading for s in mixed] == ["Intro", "Exp", "Method", "Acks"]
    blocks = [Block("title", "T")]
    for number, heading in [("1", "Intro"), ("3", "Exp"), ("2", "Method")]:
        blocks += [Block("heading", heading, level=1, number=number, numbered=True),
                   Block("text", f"Text of {heading}.")]  # fmt: skip
    paper = assemble(Draft(blocks=blocks), source="x.pdf", source_format="pdf")
    assert [(s.number, s.text) for s in paper.sections] == [
        ("1", "Text of Intro."), ("3", "Text of Exp."), ("2", "Text of Method.")
    ]  # fmt: skip
