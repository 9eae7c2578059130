"""Builds test papers: one description (``PaperSpec``) rendered as PDF, LaTeX or Markdown.

The PDF is laid out like a conference paper: a full-width title block (title, authors,
abstract) on the first page, then two columns whose text flows from the left column to the
right one and on to the next page, so sections start and end mid-column and span columns and
pages. Section headings are bold and larger than body text, there is a display equation, a
ruled table with its caption, figure captions, a reference list, an appendix, a running header
and page numbers (page furniture the reader must drop).

Importable helper (``tests/`` is on ``sys.path`` under pytest; the benchmark and demo scripts
add it themselves)::

    from paperfactory import make_pdf, make_latex, make_markdown, sample_spec
    make_pdf(tmp_path / "paper.pdf", pages=15)
"""

from __future__ import annotations

import html
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter, points
MARGIN, GUTTER = 54.0, 18.0
RUNNING_HEADER = "Preprint. Under review."

_VOCABULARY = """model training attention layer encoder decoder token sequence gradient loss batch
optimizer learning rate representation embedding dataset benchmark accuracy baseline variance
estimate parameter network residual normalization dropout schedule warmup inference latency
memory throughput objective regularization convergence scaling transformer convolution
recurrent projection softmax temperature sampling corpus"""
_WORDS = tuple(_VOCABULARY.split())


@dataclass
class SectionSpec:
    """One section of a test paper."""

    number: str | None
    """Printed number (``"3"``, ``"3.1"``, ``"A"``) or None for an unnumbered section."""
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    equation: str | None = None
    """A display equation, printed centred with an equation number."""
    table: list[list[str]] | None = None
    """Rows of a table; the first row is the header."""
    table_caption: str | None = None
    figure_caption: str | None = None
    appendix: bool = False

    @property
    def level(self) -> int:
        return 1 if not self.number else self.number.count(".") + 1

    @property
    def title(self) -> str:
        return f"{self.number} {self.heading}" if self.number else self.heading


@dataclass
class PaperSpec:
    """Everything a test paper contains, in reading order."""

    title: str
    authors: list[str]
    abstract: str
    sections: list[SectionSpec]
    references: list[str]


def filler(n_sentences: int, seed: int) -> str:
    """Deterministic, varied prose (``n_sentences`` sentences)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 18))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def sample_spec(*, paragraphs: int = 2, sentences: int = 6, extra_sections: int = 0) -> PaperSpec:
    """A small ML paper: two heading levels, an equation, a table, captions, an appendix.

    ``paragraphs``/``sentences`` set the length of every section; ``extra_sections`` adds
    numbered sections (each with one subsection) before the conclusion, to make long papers.
    """

    def body(seed: int, lead: str) -> list[str]:
        paras = [filler(sentences, seed * 31 + i) for i in range(paragraphs)]
        paras[0] = f"{lead} {paras[0]}"
        return paras

    sections = [
        SectionSpec("1", "Introduction", body(1, "We introduce the Tiny Transformer.")),
        SectionSpec("2", "Related Work", body(2, "Prior work on sequence models is broad.")),
        SectionSpec("3", "Method", body(3, "Our method has two parts.")),
        SectionSpec(
            "3.1",
            "Encoder",
            body(4, "The encoder maps tokens to vectors."),
            equation="h = softmax(Q K^T / sqrt(d)) V",
            figure_caption="Figure 1: The encoder architecture with stacked attention layers.",
        ),
        SectionSpec("3.2", "Decoder", body(5, "The decoder predicts the next token.")),
        SectionSpec(
            "4",
            "Experiments",
            body(6, "We train on a synthetic copy task."),
            table=[
                ["Model", "Params", "Accuracy"],
                ["Baseline", "12M", "81.2"],
                ["Ours", "9M", "84.7"],
            ],
            table_caption="Table 1: Accuracy on the copy task.",
        ),
        SectionSpec("4.1", "Setup", body(7, "We use a learning rate of 0.001 and batch size 32.")),
        SectionSpec("4.2", "Results", body(8, "Our model beats the baseline.")),
    ]
    for k in range(extra_sections):
        n = str(5 + k)
        sections.append(SectionSpec(n, f"Analysis Part {k + 1}", body(20 + k, "We analyse more.")))
        sections.append(SectionSpec(f"{n}.1", f"Ablation {k + 1}", body(40 + k, "We ablate.")))
    last = str(5 + extra_sections)
    sections.append(SectionSpec(last, "Conclusion", body(9, "Small models can copy well.")))
    sections.append(
        SectionSpec("A", "Additional Proofs", body(10, "Here we prove the bound."), appendix=True)
    )
    sections.append(
        SectionSpec("A.1", "Proof of Lemma 1", body(11, "The lemma follows."), appendix=True)
    )
    refs = [
        "Vaswani, A. et al. Attention is all you need. In NeurIPS, 2017.",
        "Kingma, D. and Ba, J. Adam: A method for stochastic optimization. In ICLR, 2015.",
        "He, K. et al. Deep residual learning for image recognition. In CVPR, 2016.",
        "Ba, J. et al. Layer normalization. arXiv preprint arXiv:1607.06450, 2016.",
        "Srivastava, N. et al. Dropout: a simple way to prevent overfitting. JMLR, 2014.",
    ]
    return PaperSpec(
        title="Tiny Transformers Learn to Copy",
        authors=["Ada Lovelace", "Alan Turing", "Grace Hopper"],
        abstract=(
            "We study small transformer models on a synthetic copy task. "
            + filler(3, 99)
            + " Our model reaches 84.7 percent accuracy with nine million parameters."
        ),
        sections=sections,
        references=refs,
    )


# ------------------------------------------------------------------------------------ PDF

_CSS = """
body { font-family: serif; font-size: 9.5pt; }
h1 { font-size: 17pt; font-weight: bold; text-align: center; margin: 0 0 6pt 0; }
h2 { font-size: 12pt; font-weight: bold; margin: 8pt 0 4pt 0; }
h3 { font-size: 10.5pt; font-weight: bold; margin: 6pt 0 3pt 0; }
p { text-align: justify; margin: 0 0 5pt 0; }
p.center { text-align: center; }
p.eq { text-align: center; font-style: italic; margin: 6pt 0 6pt 0; }
p.cap { font-size: 8.5pt; margin: 3pt 0 8pt 0; }
p.ref { font-size: 8.5pt; margin: 0 0 3pt 0; }
table { border-collapse: collapse; margin: 4pt auto 2pt auto; }
td, th { border: 0.8pt solid black; padding: 2pt 6pt; font-size: 9pt; }
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _front_html(spec: PaperSpec) -> str:
    return (
        f"<h1>{_esc(spec.title)}</h1>"
        f'<p class="center">{_esc(", ".join(spec.authors))}</p>'
        '<h3 style="text-align:center">Abstract</h3>'
        f"<p>{_esc(spec.abstract)}</p>"
    )


def _body_html(spec: PaperSpec) -> str:
    out: list[str] = []
    refs_done = False
    for sec in spec.sections:
        if sec.appendix and not refs_done:
            out.append(_references_html(spec))
            refs_done = True
        tag = "h2" if sec.level == 1 else "h3"
        out.append(f"<{tag}>{_esc(sec.title)}</{tag}>")
        for i, para in enumerate(sec.paragraphs):
            out.append(f"<p>{_esc(para)}</p>")
            if i == 0 and sec.equation:
                out.append(f'<p class="eq">{_esc(sec.equation)}&#160;&#160;&#160;&#160;(1)</p>')
        if sec.figure_caption:
            out.append(f'<p class="cap">{_esc(sec.figure_caption)}</p>')
        if sec.table:
            head, *rows = sec.table
            cells = "".join(f"<th>{_esc(c)}</th>" for c in head)
            body = "".join(
                "<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            out.append(f"<table><tr>{cells}</tr>{body}</table>")
            if sec.table_caption:
                out.append(f'<p class="cap">{_esc(sec.table_caption)}</p>')
    if not refs_done:
        out.append(_references_html(spec))
    return "".join(out)


def _references_html(spec: PaperSpec) -> str:
    items = "".join(f'<p class="ref">[{i}] {_esc(r)}</p>' for i, r in enumerate(spec.references, 1))
    return f"<h2>References</h2>{items}"


def _render_pdf(spec: PaperSpec, *, two_column: bool, furniture: bool) -> bytes:
    buf = io.BytesIO()
    writer = pymupdf.DocumentWriter(buf)
    front = pymupdf.Story(_front_html(spec), user_css=_CSS)
    story = pymupdf.Story(_body_html(spec), user_css=_CSS)
    width = PAGE_W - 2 * MARGIN
    col_w = (width - GUTTER) / 2 if two_column else width
    columns = [MARGIN, MARGIN + col_w + GUTTER] if two_column else [MARGIN]
    first, more = True, 1
    while more:
        dev = writer.begin_page(pymupdf.Rect(0, 0, PAGE_W, PAGE_H))
        top = MARGIN
        if first:
            _, filled = front.place(pymupdf.Rect(MARGIN, MARGIN, PAGE_W - MARGIN, PAGE_H / 2))
            front.draw(dev)
            top = pymupdf.Rect(filled).y1 + 14
            first = False
        for x0 in columns:
            more, _ = story.place(pymupdf.Rect(x0, top, x0 + col_w, PAGE_H - MARGIN))
            story.draw(dev)
            if not more:
                break
        writer.end_page()
    writer.close()
    if not furniture:
        return buf.getvalue()
    doc = pymupdf.open(stream=buf.getvalue(), filetype="pdf")
    for page in doc:
        page.insert_text((MARGIN, 34), RUNNING_HEADER, fontsize=8, fontname="helv")
        page.insert_text((PAGE_W / 2 - 4, PAGE_H - 28), str(page.number + 1), fontsize=9)
    doc.set_metadata({"title": spec.title, "author": ", ".join(spec.authors)})
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data


def _page_count(data: bytes) -> int:
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        return doc.page_count


def make_pdf(
    path: Path,
    spec: PaperSpec | None = None,
    *,
    two_column: bool = True,
    pages: int | None = None,
    furniture: bool = True,
) -> Path:
    """Write ``spec`` (default: ``sample_spec()``) as a PDF paper at ``path``.

    ``pages``: grow the paper (more sections and longer ones) until it has exactly this many
    pages; ``furniture``: add a running header and page numbers.
    """
    path = Path(path)
    if pages is None:
        data = _render_pdf(spec or sample_spec(), two_column=two_column, furniture=furniture)
    else:
        data = _grow_to_pages(pages, two_column=two_column, furniture=furniture)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _grow_to_pages(pages: int, *, two_column: bool, furniture: bool) -> bytes:
    """The sample paper grown to exactly ``pages`` pages: whole extra sections first, then
    sentences added to the conclusion (each render takes milliseconds)."""

    def render(extra: int, sentences: int) -> bytes:
        spec = sample_spec(paragraphs=3, extra_sections=extra)
        if sentences:
            concl = next(s for s in spec.sections if s.heading == "Conclusion")
            concl.paragraphs.append(filler(sentences, 7))
        return _render_pdf(spec, two_column=two_column, furniture=furniture)

    extra = 0
    while _page_count(render(extra + 1, 0)) <= pages:
        extra += 1
    for sentences in range(0, 200, 2):
        data = render(extra, sentences)
        if _page_count(data) == pages:
            return data
    raise ValueError(f"could not lay out a paper of exactly {pages} pages")


def make_scanned_pdf(path: Path, spec: PaperSpec | None = None) -> Path:
    """A PDF whose pages are only images of text (no text layer), like a scan."""
    src = pymupdf.open(stream=_render_pdf(spec or sample_spec(), two_column=True, furniture=False))
    out = pymupdf.open()
    for page in src:
        pix = page.get_pixmap(dpi=50)
        new = out.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, stream=pix.tobytes("png"))
    Path(path).write_bytes(out.tobytes())
    return Path(path)


def make_blank_pdf(path: Path, pages: int = 1) -> Path:
    """A PDF with empty pages."""
    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page()
    Path(path).write_bytes(doc.tobytes())
    return Path(path)


def make_encrypted_pdf(path: Path, spec: PaperSpec | None = None) -> Path:
    """The sample paper, AES-256 encrypted with a user password."""
    doc = pymupdf.open(stream=_render_pdf(spec or sample_spec(), two_column=True, furniture=False))
    doc.save(
        str(path),
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw="secret",
        owner_pw="owner",
    )
    return Path(path)


# ------------------------------------------------------------------------------------ LaTeX


def _tex_escape(text: str) -> str:
    return text.replace("%", r"\%").replace("&", r"\&").replace("_", r"\_").replace("#", r"\#")


def _tex_section(sec: SectionSpec) -> str:
    cmd = {1: "section", 2: "subsection"}.get(sec.level, "subsubsection")
    star = "*" if sec.number is None else ""
    out = [f"\\{cmd}{star}{{{sec.heading}}}\\label{{sec:{sec.heading.lower().replace(' ', '-')}}}"]
    for i, para in enumerate(sec.paragraphs):
        out.append(_tex_escape(para) + " % a comment the reader must drop")
        out.append("")
        if i == 0 and sec.equation:
            eq = sec.equation.replace("sqrt(d)", r"\sqrt{d}").replace(
                "softmax", r"\mathrm{softmax}"
            )
            out += ["\\begin{equation}", f"  {eq} \\label{{eq:main}}", "\\end{equation}", ""]
    if sec.figure_caption:
        cap = sec.figure_caption.split(": ", 1)[1]
        out += [
            "\\begin{figure}[t]",
            "  \\centering",
            "  \\includegraphics[width=\\linewidth]{encoder.pdf}",
            f"  \\caption{{{cap}}}",
            "\\end{figure}",
            "",
        ]
    if sec.table:
        cols = "l" * len(sec.table[0])
        rows = [" & ".join(_tex_escape(c) for c in row) + r" \\" for row in sec.table]
        cap = (sec.table_caption or "Table 1: Results.").split(": ", 1)[1]
        out += [
            "\\begin{table}[t]",
            f"  \\caption{{{cap}}}",
            f"  \\begin{{tabular}}{{{cols}}}",
            "    \\toprule",
            f"    {rows[0]}",
            "    \\midrule",
            *[f"    {r}" for r in rows[1:]],
            "    \\bottomrule",
            "  \\end{tabular}",
            "\\end{table}",
            "",
        ]
    return "\n".join(out)


def make_latex(folder: Path, spec: PaperSpec | None = None, *, split_files: bool = True) -> Path:
    """Write ``spec`` as a LaTeX project in ``folder``; returns the path of ``main.tex``.

    With ``split_files`` the body sections live in ``sections/*.tex`` pulled in with
    ``\\input`` and ``\\include``.
    """
    spec = spec or sample_spec()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    body = [s for s in spec.sections if not s.appendix]
    appendix = [s for s in spec.sections if s.appendix]
    bib = "\n".join(
        f"\\bibitem{{ref{i}}} {_tex_escape(r)}" for i, r in enumerate(spec.references, 1)
    )
    head = [
        "\\documentclass{article}",
        "\\usepackage{amsmath,booktabs,graphicx}",
        "% \\title{A commented-out title}",
        f"\\title{{{spec.title}}}",
        "\\author{"
        + " \\and ".join(f"{a}\\thanks{{Equal contribution.}}" for a in spec.authors)
        + "}",
        "\\begin{document}",
        "\\maketitle",
        "\\begin{abstract}",
        _tex_escape(spec.abstract),
        "\\end{abstract}",
        "",
    ]
    parts: list[str] = []
    if split_files:
        (folder / "sections").mkdir(exist_ok=True)
        half = len(body) // 2
        (folder / "sections" / "first.tex").write_text(
            "\n\n".join(_tex_section(s) for s in body[:half]) + "\n"
        )
        (folder / "sections" / "second.tex").write_text(
            "\n\n".join(_tex_section(s) for s in body[half:]) + "\n"
        )
        parts += ["\\input{sections/first}", "\\include{sections/second.tex}"]
    else:
        parts += [_tex_section(s) for s in body]
    tail = [
        "",
        "\\begin{thebibliography}{9}",
        bib,
        "\\end{thebibliography}",
        "",
        "\\appendix",
        *[_tex_section(s) for s in appendix],
        "\\end{document}",
        "",
    ]
    main = folder / "main.tex"
    main.write_text("\n".join(head + parts + tail))
    return main


# ------------------------------------------------------------------------------------ Markdown


def markdown_text(spec: PaperSpec | None = None) -> str:
    """``spec`` as a Markdown paper (title as H1, sections as H2/H3 with numbers)."""
    spec = spec or sample_spec()
    out = [f"# {spec.title}", "", ", ".join(spec.authors), "", "## Abstract", "", spec.abstract, ""]
    refs_done = False

    def refs() -> list[str]:
        return ["## References", "", *[f"- {r}" for r in spec.references], ""]

    for sec in spec.sections:
        if sec.appendix and not refs_done:
            out += refs()
            refs_done = True
        out += [f"{'#' * (sec.level + 1)} {sec.title}", ""]
        for i, para in enumerate(sec.paragraphs):
            out += [para, ""]
            if i == 0 and sec.equation:
                out += ["$$", sec.equation, "$$", ""]
        if sec.figure_caption:
            out += [sec.figure_caption, ""]
        if sec.table:
            head, *rows = sec.table
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join(r) + " |" for r in rows]
            out += ["", sec.table_caption or "", ""]
    if not refs_done:
        out += refs()
    return "\n".join(out)


def make_markdown(path: Path, spec: PaperSpec | None = None) -> Path:
    """Write ``spec`` as a Markdown paper at ``path``."""
    Path(path).write_text(markdown_text(spec))
    return Path(path)


__all__ = [
    "PaperSpec",
    "SectionSpec",
    "make_blank_pdf",
    "make_encrypted_pdf",
    "make_latex",
    "make_markdown",
    "make_pdf",
    "make_scanned_pdf",
    "markdown_text",
    "sample_spec",
]
