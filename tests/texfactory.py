"""Test papers typeset by LaTeX: one description (``TexPaper``) written as a LaTeX project and
compiled with ``pdflatex``, so ingestion is tested on what real papers are: LaTeX layout, math
fonts, booktabs rules, floats, running heads.

Two styles:

- ``conference``: two columns, Times text with Computer Modern math, a banner on every page,
  page numbers, a figure drawn with ``picture`` (labels in boxes inside it) and a full-width
  figure included as PDF (labels as text), a booktabs table, a ruled algorithm box, numbered
  display equations (fractions, roots, sub/superscripts, Greek, sums), inline math, a
  ``thebibliography`` and an appendix after it. The references heading is typeset one of three
  ways (``refs_heading``): the class's section heading, bold inline text, or "Bibliography".
- ``journal``: one column, ``twoside`` with running heads ("12 · Liu, Ting and Zhou" on even
  pages, the title on odd ones), a journal footer on every page, ACM-like headings
  ("1. INTRODUCTION", bold "2.1 Title", italic "3.1.1 Title" as ACM sets them), ruled
  algorithm boxes, tables numbered I, II, III, author-year
  references with hanging indents, 30+ pages of deterministic filler.

The LaTeX source is kept (``TexPaper.write``) so that each test compares ingestion with the
source it came from. ``pdflatex`` runs twice (references resolved); ``compile_pdf`` skips when
no TeX is installed (a failure under ``CI=true``; see ``conftest.tex_available``).

    from texfactory import conference_paper, journal_paper, compile_pdf
    paper = conference_paper()
    pdf = compile_pdf(paper, tmp_path / "conf")
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pymupdf
from paperfactory import filler

# ------------------------------------------------------------------------------ description


@dataclass
class Eq:
    """A display equation as written in the source."""

    latex: str
    numbered: bool = True
    number: str | None = None
    """Printed number, filled in by ``TexPaper.finish``."""


@dataclass
class Table:
    caption: str
    rows: list[list[str]]
    """Cells as LaTeX; the first row is the header."""
    spec: str = ""
    """Column spec (default: ``l`` then ``c`` for each further column)."""
    wide: bool = False
    """Across both columns (``table*``)."""


@dataclass
class Figure:
    caption: str
    labels: list[str]
    """Text inside the figure (boxes of a diagram); must never become a heading."""
    kind: Literal["picture", "pdf"] = "picture"
    wide: bool = False


@dataclass
class Algorithm:
    caption: str
    lines: list[str]
    """Source lines of the algorithm body (``algpseudocode``-like commands: ``\\Require``,
    ``\\State``, ``\\For``/``\\EndFor``, ``\\If``/``\\Else``/``\\EndIf``, ``\\Return``), set by
    a small ``algorithmic`` defined in the preamble on ``float``'s ruled style (no
    ``texlive-science`` needed)."""
    words: list[str] = field(default_factory=list)
    """Words the typeset algorithm shows (what a code block must contain)."""


Item = str | Eq | Table | Figure | Algorithm


@dataclass
class Sec:
    number: str | None
    heading: str
    body: list[Item] = field(default_factory=list)
    appendix: bool = False

    @property
    def level(self) -> int:
        return 1 if not self.number else self.number.count(".") + 1

    @property
    def paragraphs(self) -> list[str]:
        return [b for b in self.body if isinstance(b, str)]

    @property
    def equations(self) -> list[Eq]:
        return [b for b in self.body if isinstance(b, Eq)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.body if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.body if isinstance(b, Figure)]

    @property
    def algorithms(self) -> list[Algorithm]:
        return [b for b in self.body if isinstance(b, Algorithm)]


RefsHeading = Literal["section", "bold", "bibliography"]


@dataclass
class TexPaper:
    """A paper and how to typeset it."""

    name: str
    style: Literal["conference", "journal"]
    title: str
    authors: list[str]
    abstract: str
    sections: list[Sec]
    references: list[str]
    """Reference entries as LaTeX (``bibitem`` bodies)."""
    refs_heading: RefsHeading = "section"
    running_heads: list[str] = field(default_factory=list)
    """Page furniture text that must never reach paper.md (without page numbers)."""

    def equations(self) -> list[Eq]:
        return [e for s in self.sections for e in s.equations]

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def refs_title(self) -> str:
        if self.refs_heading == "bibliography":
            return "Bibliography"
        return "REFERENCES" if self.style == "journal" else "References"

    def finish(self) -> TexPaper:
        """Number the sections and equations as LaTeX will."""
        counters = [0, 0, 0]
        eq = 0
        appendix = False
        for s in self.sections:
            if s.appendix and not appendix:
                appendix, counters = True, [0, 0, 0]
            if s.number is not None:
                lvl = s.level
                counters[lvl - 1] += 1
                counters[lvl:] = [0] * (3 - lvl)
                head = chr(64 + counters[0]) if appendix else str(counters[0])
                s.number = ".".join([head, *map(str, counters[1:lvl])])
            for e in s.equations:
                if e.numbered:
                    eq += 1
                    e.number = str(eq)
        return self

    # -------------------------------------------------------------------------- LaTeX
    def tex(self) -> str:
        """The main ``.tex`` file."""
        head = _CONFERENCE_PREAMBLE if self.style == "conference" else _JOURNAL_PREAMBLE
        out = [head]
        authors = " \\and ".join(
            f"{a}\\\\{{\\small University {i + 1}}}" for i, a in enumerate(self.authors)
        )
        out += [
            f"\\title{{{self.title}}}",
            f"\\author{{{authors}}}",
            "\\date{}",
            "\\begin{document}",
            "\\maketitle",
            "\\thispagestyle{firstpage}",
            "\\begin{abstract}",
            self.abstract,
            "\\end{abstract}",
            "",
        ]
        refs_done = False
        for s in self.sections:
            if s.appendix and not refs_done:
                out += self._bibliography()
                out += ["\\appendix", ""]
                refs_done = True
            out.append(_section_tex(s))
        if not refs_done:
            out += self._bibliography()
        out += ["\\end{document}", ""]
        return "\n".join(out)

    def _bibliography(self) -> list[str]:
        out = []
        if self.refs_heading == "bibliography":
            out.append("\\renewcommand{\\refname}{Bibliography}")
        if self.refs_heading == "bold":
            # NeurIPS-like: "References" as bold text at the start of a paragraph, no heading
            out += [
                "\\let\\savedsection\\section",
                "\\renewcommand{\\section}[2]{\\par\\medskip\\noindent\\textbf{#2}\\par}",
            ]
        if self.style == "journal":
            out.append("\\renewcommand{\\refname}{REFERENCES}")
        out.append("\\begin{thebibliography}{99}")
        if self.style == "journal":
            out.append("\\small")
        for i, ref in enumerate(self.references, 1):
            label = f"[{_ref_label(ref)}]" if self.style == "journal" else ""
            out.append(f"\\bibitem{label}{{ref{i}}} {ref}")
        out.append("\\end{thebibliography}")
        if self.refs_heading == "bold":
            out.append("\\let\\section\\savedsection")
        return [*out, ""]

    def write(self, folder: Path) -> Path:
        """Write the LaTeX project (main file and included figure) into ``folder``; returns
        the main file."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for s in self.sections:
            for f in s.figures:
                if f.kind == "pdf":
                    _figure_pdf(folder / f"{_slug(f.caption)}.pdf", f.labels)
        main = folder / "main.tex"
        main.write_text(self.tex())
        return main


def _ref_label(ref: str) -> str:
    """natbib author-year label of a reference written as ``Surname, X. ... 2008. Title``."""
    surname = ref.split(",")[0]
    year = re.search(r"\b(19|20)\d\d\b", ref)
    return f"{surname}({year.group(0) if year else 2000})"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30]


_CONFERENCE_PREAMBLE = r"""\documentclass[10pt,twocolumn,letterpaper]{article}
\usepackage[margin=0.75in,columnsep=0.25in,headsep=14pt]{geometry}
\usepackage{times}
\usepackage{amsmath,amssymb}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{float}
\floatstyle{ruled}
\newfloat{algorithm}{t}{loa}
\floatname{algorithm}{Algorithm}
\newcounter{algline}
\newlength{\alglevel}
\newenvironment{algorithmic}[1][0]{\setcounter{algline}{0}\setlength{\alglevel}{0pt}\par\small}{\par}
\newcommand{\alglabel}{\par\noindent\refstepcounter{algline}\makebox[1.6em][r]{\footnotesize\arabic{algline}:}\hspace*{0.6em}\hspace*{\alglevel}}
\newcommand{\Require}{\par\noindent\textbf{Require:} }
\newcommand{\Ensure}{\par\noindent\textbf{Ensure:} }
\newcommand{\State}{\alglabel}
\newcommand{\For}[1]{\alglabel\textbf{for} #1 \textbf{do}\addtolength{\alglevel}{1em}}
\newcommand{\EndFor}{\addtolength{\alglevel}{-1em}\alglabel\textbf{end for}}
\newcommand{\If}[1]{\alglabel\textbf{if} #1 \textbf{then}\addtolength{\alglevel}{1em}}
\newcommand{\Else}{\addtolength{\alglevel}{-1em}\alglabel\textbf{else}\addtolength{\alglevel}{1em}}
\newcommand{\EndIf}{\addtolength{\alglevel}{-1em}\alglabel\textbf{end if}}
\newcommand{\Return}{\textbf{return} }
\usepackage{fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\fancyhead[C]{\small Preprint. Under review at the Conference on Neural Information Processing Systems.}
\fancyfoot[C]{\thepage}
\renewcommand{\headrulewidth}{0pt}
\fancypagestyle{firstpage}{\fancyhf{}\fancyhead[C]{\small Preprint. Under review at the Conference on Neural Information Processing Systems.}\fancyfoot[C]{\thepage}}
"""

_JOURNAL_PREAMBLE = r"""\documentclass[10pt,twoside]{article}
\usepackage[paperwidth=7in,paperheight=10in,top=0.9in,bottom=0.9in,inner=0.85in,outer=0.85in,headsep=16pt,footskip=28pt]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage[authoryear]{natbib}
\usepackage{float}
\floatstyle{ruled}
\newfloat{algorithm}{t}{loa}
\floatname{algorithm}{Algorithm}
\newcounter{algline}
\newlength{\alglevel}
\newenvironment{algorithmic}[1][0]{\setcounter{algline}{0}\setlength{\alglevel}{0pt}\par\small}{\par}
\newcommand{\alglabel}{\par\noindent\refstepcounter{algline}\makebox[1.6em][r]{\footnotesize\arabic{algline}:}\hspace*{0.6em}\hspace*{\alglevel}}
\newcommand{\Require}{\par\noindent\textbf{Require:} }
\newcommand{\Ensure}{\par\noindent\textbf{Ensure:} }
\newcommand{\State}{\alglabel}
\newcommand{\For}[1]{\alglabel\textbf{for} #1 \textbf{do}\addtolength{\alglevel}{1em}}
\newcommand{\EndFor}{\addtolength{\alglevel}{-1em}\alglabel\textbf{end for}}
\newcommand{\If}[1]{\alglabel\textbf{if} #1 \textbf{then}\addtolength{\alglevel}{1em}}
\newcommand{\Else}{\addtolength{\alglevel}{-1em}\alglabel\textbf{else}\addtolength{\alglevel}{1em}}
\newcommand{\EndIf}{\addtolength{\alglevel}{-1em}\alglabel\textbf{end if}}
\newcommand{\Return}{\textbf{return} }
\usepackage{fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\fancyhead[LE]{\small\thepage\quad$\cdot$\quad Liu, Ting and Zhou}
\fancyhead[RO]{\small Isolation-based Anomaly Detection\quad$\cdot$\quad\thepage}
\fancyfoot[L]{\scriptsize ACM Transactions on Knowledge Discovery from Data, Vol. 6, No. 1, Article 3, Publication date: March 2012.}
\renewcommand{\headrulewidth}{0pt}
\fancypagestyle{firstpage}{\fancyhf{}\fancyfoot[L]{\scriptsize ACM Transactions on Knowledge Discovery from Data, Vol. 6, No. 1, Article 3, Publication date: March 2012.}}
\renewcommand{\thetable}{\Roman{table}}
\makeatletter
\renewcommand\section{\@startsection{section}{1}{\z@}{-14pt plus -2pt minus -1pt}{6pt}{\normalfont\normalsize\bfseries}}
\renewcommand\subsection{\@startsection{subsection}{2}{\z@}{-12pt plus -2pt minus -1pt}{4pt}{\normalfont\normalsize\bfseries}}
\renewcommand\subsubsection{\@startsection{subsubsection}{3}{\z@}{-10pt plus -2pt minus -1pt}{3pt}{\normalfont\normalsize\itshape}}
\def\@seccntformat#1{\csname the#1\endcsname\csname dot@#1\endcsname\quad}
\def\dot@section{.}
\makeatother
"""


def _section_tex(s: Sec) -> str:
    cmd = {1: "section", 2: "subsection"}.get(s.level, "subsubsection")
    star = "*" if s.number is None else ""
    out = [f"\\{cmd}{star}{{{s.heading}}}"]
    for item in s.body:
        if isinstance(item, str):
            out += [item, ""]
        elif isinstance(item, Eq):
            env = "equation" if item.numbered else "equation*"
            out += [f"\\begin{{{env}}}", f"  {item.latex}", f"\\end{{{env}}}"]
        elif isinstance(item, Table):
            out.append(_table_tex(item))
        elif isinstance(item, Figure):
            out.append(_figure_tex(item))
        else:
            out.append(_algorithm_tex(item, s))
    return "\n".join(out) + "\n"


def _table_tex(t: Table) -> str:
    spec = t.spec or "l" + "c" * (len(t.rows[0]) - 1)
    rows = [" & ".join(r) + r" \\" for r in t.rows]
    env = "table*" if t.wide else "table"
    return "\n".join(
        [
            f"\\begin{{{env}}}[t]",
            "\\centering",
            f"\\caption{{{t.caption}}}",
            "\\medskip",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            rows[0],
            "\\midrule",
            *rows[1:],
            "\\bottomrule",
            "\\end{tabular}",
            f"\\end{{{env}}}",
            "",
        ]
    )


def _figure_tex(f: Figure) -> str:
    env = "figure*" if f.wide else "figure"
    if f.kind == "pdf":
        body = [f"\\includegraphics[width=0.8\\linewidth]{{{_slug(f.caption)}.pdf}}"]
    else:
        body = ["\\setlength{\\unitlength}{1pt}", "\\begin{picture}(200,95)"]
        body.append(f"\\put(10,60){{\\framebox(180,26){{\\textbf{{{f.labels[0]}}}}}}}")
        for i, label in enumerate(f.labels[1:3]):
            body.append(f"\\put({10 + 100 * i},8){{\\framebox(80,24){{\\small {label}}}}}")
        body += ["\\put(50,32){\\vector(0,1){28}}", "\\put(150,32){\\vector(0,1){28}}"]
        body.append("\\end{picture}")
    return "\n".join(
        [
            f"\\begin{{{env}}}[t]",
            "\\centering",
            *body,
            f"\\caption{{{f.caption}}}",
            f"\\end{{{env}}}",
            "",
        ]
    )


def _algorithm_tex(a: Algorithm, s: Sec) -> str:
    return "\n".join(
        [
            "\\begin{algorithm}[t]",
            f"\\caption{{{a.caption}}}",
            "\\begin{algorithmic}[1]",
            *a.lines,
            "\\end{algorithmic}",
            "\\end{algorithm}",
            "",
        ]
    )


def _figure_pdf(path: Path, labels: list[str]) -> None:
    """A vector figure like the ones papers include: a bold title above the diagram (as in
    "Attention Is All You Need", where it became a spurious heading), boxes with labels,
    arrows. ``labels[0]`` is the title, the others label the boxes."""
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=150)
    page.insert_text((150, 22), labels[0], fontname="hebo", fontsize=12)
    boxes = labels[1:]
    w = 380 / len(boxes)
    for i, label in enumerate(boxes):
        r = pymupdf.Rect(20 + i * w + 6, 40, 20 + (i + 1) * w - 6, 100)
        page.draw_rect(r, color=(0, 0, 0), fill=(0.9, 0.93, 1.0), width=1)
        page.insert_textbox(
            pymupdf.Rect(r.x0 + 4, r.y0 + 20, r.x1 - 4, r.y1),
            label,
            fontname="hebo",
            fontsize=11,
            align=1,
        )
        if i:
            page.draw_line((r.x0 - 12, 70), (r.x0, 70), color=(0, 0, 0), width=1)
    page.insert_text((20, 130), "input", fontname="helv", fontsize=9)
    path.write_bytes(doc.tobytes())
    doc.close()


# ------------------------------------------------------------------------------ compiling


def pdflatex() -> str | None:
    """Path of ``pdflatex``, or None when TeX is not installed."""
    return shutil.which("pdflatex")


def compile_pdf(paper: TexPaper, folder: Path) -> Path:
    """Write ``paper`` into ``folder`` and typeset it (two runs, for references); returns the
    PDF. Raises ``RuntimeError`` with the end of the log when LaTeX fails."""
    exe = pdflatex()
    if exe is None:
        raise RuntimeError("pdflatex is not installed")
    main = paper.write(folder)
    for _ in range(2):
        proc = subprocess.run(
            [exe, "-interaction=nonstopmode", "-halt-on-error", main.name],
            cwd=folder,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=120,
            env={
                "PATH": "/usr/bin:/bin",
                "SOURCE_DATE_EPOCH": "1700000000",
                "FORCE_SOURCE_DATE": "1",
                "HOME": str(folder),
            },
        )
        if proc.returncode != 0:
            raise RuntimeError(f"pdflatex failed on {main}:\n{proc.stdout[-3000:]}")
    return main.with_suffix(".pdf")


# ------------------------------------------------------------------------------ the papers

_ATTN = r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"

CONFERENCE_EQUATIONS = [
    _ATTN,
    r"\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)W^O",
    r"\mathrm{head}_i = \mathrm{Attention}(QW_i^Q, KW_i^K, VW_i^V)",
    r"\mathrm{FFN}(x) = \max(0, xW_1 + b_1)W_2 + b_2",
    r"PE_{(pos, 2i)} = \sin\left(\frac{pos}{10000^{2i/d_{\mathrm{model}}}}\right)",
    r"lrate = d_{\mathrm{model}}^{-0.5} \cdot \min(step^{-0.5}, step \cdot warmup^{-1.5})",
    r"\mathcal{L}(\theta) = -\frac{1}{N}\sum_{i=1}^{N} \log p_\theta(y_i \mid x_i) + \lambda \|\theta\|^2",
    r"\epsilon_{ls} = \frac{\alpha}{K} + (1 - \alpha)\,\delta_{k,y}",
    r"\sigma(z)_j = \frac{e^{z_j}}{\sum_{k=1}^{K} e^{z_k}}",
    r"\hat{y}_t = \arg\max_{y \in \mathcal{V}} p(y \mid y_{<t}, x)",
    r"\mathbf{h}_t = \tanh(W_{hh}\mathbf{h}_{t-1} + W_{xh}\mathbf{x}_t)",
    r"\nabla_\theta J(\theta) = \mathbb{E}_{x \sim p_{\mathrm{data}}}\left[\frac{\partial \ell(x; \theta)}{\partial \theta}\right]",
    r"\|W\|_F^2 = \sum_{i=1}^{m}\sum_{j=1}^{n} |w_{ij}|^2",
    r"\mathcal{N}(x \mid \mu, \sigma^2) = \frac{1}{\sqrt{2\pi\sigma^2}}\exp\left(-\frac{(x - \mu)^2}{2\sigma^2}\right)",
    r"\mathrm{ReLU}(x) = \begin{cases} x & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"\tilde{x}_i = \bar{x} + \sqrt[3]{\epsilon}\, z_i^\top",
]

JOURNAL_EQUATIONS = [
    r"c(n) = 2H(n-1) - \frac{2(n-1)}{n}",
    r"s(x, n) = 2^{-\frac{E(h(x))}{c(n)}}",
    r"H(i) \approx \ln(i) + 0.5772156649",
    r"l = \lceil \log_2 \psi \rceil",
    r"E(h(x)) = \frac{1}{t}\sum_{i=1}^{t} h_i(x)",
    r"\mathrm{AUC} = \frac{1}{|P| \cdot |N|}\sum_{p \in P}\sum_{q \in N} \mathbf{1}[s_p > s_q]",
    r"\beta = \sqrt{\frac{\psi}{n}} \leq \gamma",
    r"P(h(x) \leq k) = \prod_{i=1}^{k}\left(1 - \frac{1}{n - i + 1}\right)",
    r"h(x) = \begin{cases} e & \text{if } T \text{ is an external node} \\ h(x, T') + 1 & \text{otherwise} \end{cases}",
    r"\int_0^1 f(t)\,dt \approx \frac{1}{N}\sum_{i=1}^{N} f(t_i)",
    r"\hat{\sigma}^2 = \frac{1}{n-1}\sum_{i=1}^{n}(x_i - \bar{x})^2",
]

JOURNAL_INLINE = [
    r"We write $h(x)$ for the path length of $x$ and $c(n)$ for its average, so that $s \to 1$"
    r" when $E(h(x)) \to 0$ and the score of $x$ is $s(x, n) = 2^{-E(h(x))/c(n)}$.",
    r"Sorting takes $O(n \log n)$ time, while a subsample of $\psi = 256$ points suffices"
    r" for every data set we tried.\footnote{We use $t = 100$ trees in all experiments.}",
    r"\paragraph{Swamping.} Normal points close to anomalies are wrongly identified as anomalies"
    r" when the sample is large, and masking hides anomalies that form a dense cluster.",
    r"\begin{itemize}\item distance-based methods need $O(n^2)$ comparisons;"
    r" \item density-based methods need a neighbourhood size $k$ chosen in advance.\end{itemize}",
]
"""Paragraphs of the journal paper with inline math in a Computer Modern paper, a footnote, a
run-in paragraph heading and a list."""

_INLINE = [
    r"The keys have dimension $d_k$ and the values have dimension $d_v$.",
    r"We scale the dot products by $1/\sqrt{d_k}$ so that the softmax is not saturated.",
    r"For every position the weight $\alpha_{ij}$ lies in $[0, 1]$ and the sum over $j$ is one.",
    r"Each projection $W_i^Q$ maps a vector of size $d_{\mathrm{model}}$ to size $d_k$.",
]


def _para(seed: int, n: int, lead: str = "") -> str:
    text = filler(n, seed)
    return f"{lead} {text}" if lead else text


def conference_paper(
    refs_heading: RefsHeading = "section", *, extra_sections: int = 0, sentences: int = 7
) -> TexPaper:
    """A two-column conference paper modelled on "Attention Is All You Need" (about 8 pages;
    ``extra_sections`` adds numbered sections to make it longer)."""

    def p(seed: int, lead: str = "") -> str:
        return _para(seed, sentences, lead)

    eqs = [Eq(e) for e in CONFERENCE_EQUATIONS]
    table = Table(
        "Translation quality and training cost of the models.",
        [
            ["Model", "BLEU EN-DE", "BLEU EN-FR", "Cost (FLOPs)"],
            ["ByteNet", "23.75", "--", "--"],
            ["ConvS2S", "25.16", "40.46", "9.6e18"],
            ["MoE", "26.03", "40.56", "2.0e19"],
            ["Transformer (base)", "27.3", "38.1", "3.3e18"],
            ["Transformer (big)", "28.4", "41.8", "2.3e19"],
        ],
        wide=True,
    )
    table2 = Table(
        "Variations of the base model on the development set.",
        [
            ["Setting", "$N$", "$d_{\\mathrm{model}}$", "$h$", "PPL", "BLEU"],
            ["base", "6", "512", "8", "4.92", "25.8"],
            ["(A)", "6", "512", "4", "5.00", "25.5"],
            ["(B)", "6", "512", "16", "4.91", "25.8"],
            ["big", "6", "1024", "16", "4.33", "26.4"],
        ],
    )
    algorithm = Algorithm(
        "Training with warmup",
        [
            r"\Require data $D$, number of steps $T$",
            r"\For{$t = 1$ to $T$}",
            r"\State sample a batch $B$ from $D$",
            r"\State update the parameters with rate $lrate(t)$",
            r"\EndFor",
            r"\State \Return the parameters",
        ],
        words=["sample a batch", "update the parameters", "return the parameters"],
    )
    sections = [
        Sec(
            None,
            "Introduction",
            [p(1, "Recurrent models dominate sequence modelling."), p(2, _INLINE[0]), p(3)],
        ),
        Sec(
            None,
            "Background",
            [p(4, "Reducing sequential computation is a goal."), eqs[9], p(5), eqs[10]],
        ),
        Sec(None, "Model Architecture", [p(6, "Most competitive models have an encoder.")]),
        Sec(
            None,
            "Scaled Dot-Product Attention",
            [
                p(7, _INLINE[1]),
                eqs[0],
                Figure(
                    "The attention block: scores, softmax and the weighted sum.",
                    ["Scaled Dot-Product Attention", "MatMul", "SoftMax"],
                ),
                p(8, _INLINE[2]),
            ],
        ),
        Sec(
            None,
            "Multi-Head Attention",
            [
                p(9, "Multi-head attention attends to several subspaces."),
                eqs[1],
                p(10, "where the heads are"),
                eqs[2],
                p(11, _INLINE[3]),
                Figure(
                    "Multi-head attention consists of several attention layers in parallel.",
                    [
                        "Multi-Head Attention",
                        "Linear Projection",
                        "Scaled Attention Heads",
                        "Concat",
                    ],
                    kind="pdf",
                    wide=True,
                ),
            ],
        ),
        Sec(None, "Position-wise Feed-Forward Networks", [p(12), eqs[3], p(13), eqs[14]]),
        Sec(None, "Positional Encoding", [p(14), eqs[4], p(15), eqs[15]]),
        Sec(None, "Training", [p(16, "This section describes the training regime.")]),
        Sec(None, "Optimizer", [p(17), eqs[5], algorithm, p(18), eqs[11]]),
        Sec(None, "Regularization", [p(19), eqs[6], p(20), eqs[7], p(21), eqs[12]]),
        Sec(
            None,
            "Results",
            [p(22, "Our big model outperforms the best models."), table, p(23), table2, p(24)],
        ),
    ]
    for k in range(extra_sections):
        sections.append(Sec(None, f"Analysis Part {k + 1}", [p(60 + k), p(80 + k)]))
        sections.append(Sec(None, f"Ablation {k + 1}", [p(100 + k), p(120 + k)]))
    sections += [
        Sec(None, "Conclusion", [p(25, "We presented the Transformer."), p(26)]),
        Sec(None, "Attention Visualizations", [p(27), eqs[8], p(28)], appendix=True),
        Sec(None, "Proof Details", [p(29), eqs[13]], appendix=True),
    ]
    levels = [1, 1, 1, 2, 2, 2, 2, 1, 2, 2, 1, *[1, 2] * extra_sections, 1, 1, 2]
    references = [
        "A. Vaswani, N. Shazeer, N. Parmar and J. Uszkoreit. Attention is all you need. In Advances in Neural Information Processing Systems, 2017.",
        "D. P. Kingma and J. Ba. Adam: a method for stochastic optimization. In International Conference on Learning Representations, 2015.",
        "K. He, X. Zhang, S. Ren and J. Sun. Deep residual learning for image recognition. In Computer Vision and Pattern Recognition, 2016.",
        "J. L. Ba, J. R. Kiros and G. E. Hinton. Layer normalization. arXiv preprint arXiv:1607.06450, 2016.",
        "N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and R. Salakhutdinov. Dropout: a simple way to prevent neural networks from overfitting. Journal of Machine Learning Research, 15:1929--1958, 2014.",
        "D. Bahdanau, K. Cho and Y. Bengio. Neural machine translation by jointly learning to align and translate. In International Conference on Learning Representations, 2015.",
        "J. Gehring, M. Auli, D. Grangier, D. Yarats and Y. N. Dauphin. Convolutional sequence to sequence learning. In International Conference on Machine Learning, 2017.",
        "S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation, 9(8):1735--1780, 1997.",
    ]
    _set_levels(sections, levels)
    paper = TexPaper(
        name=f"conference-{refs_heading}",
        style="conference",
        title="Attention Suffices for Sequence Transduction",
        authors=["Ada Lovelace", "Alan Turing", "Grace Hopper"],
        abstract=(
            "The dominant sequence transduction models are based on recurrent networks. "
            + filler(4, 999)
            + " Our model reaches 28.4 BLEU on the English-to-German task."
        ),
        sections=sections,
        references=references,
        refs_heading=refs_heading,
        running_heads=["Preprint. Under review at the Conference on Neural Information"],
    )
    return paper.finish()


def _set_levels(sections: list[Sec], levels: list[int]) -> None:
    """Give each section a number of the right depth (``finish`` computes the real ones)."""
    for s, lvl in zip(sections, levels, strict=True):
        s.number = ".".join(["0"] * lvl)


def journal_paper(*, paragraphs: int = 5, sentences: int = 9) -> TexPaper:
    """A single-column journal paper modelled on "Isolation-based Anomaly Detection" (ACM
    TKDD): 30+ pages with running heads and a journal footer on every page."""

    def body(seed: int, lead: str = "") -> list[str]:
        paras = [_para(seed * 37 + i, sentences) for i in range(paragraphs)]
        if lead:
            paras[0] = f"{lead} {paras[0]}"
        return paras

    eqs = [Eq(e) for e in JOURNAL_EQUATIONS]
    iforest = Algorithm(
        "iForest$(X, t, \\psi)$",
        [
            r"\Require $X$ input data, $t$ number of trees, $\psi$ subsampling size",
            r"\Ensure a set of $t$ isolation trees",
            r"\State initialize the forest",
            r"\State set the height limit $l$ from the subsampling size",
            r"\For{$i = 1$ to $t$}",
            r"  \State draw a sample of size $\psi$ from $X$",
            r"  \State add the tree grown on the sample to the forest",
            r"\EndFor",
            r"\State \Return the forest",
        ],
        words=["initialize the forest", "draw a sample of size", "add the tree grown"],
    )
    itree = Algorithm(
        "iTree$(X, e, l)$",
        [
            r"\Require $X$ input data, $e$ current height, $l$ height limit",
            r"\Ensure an isolation tree",
            r"\If{$e \geq l$ or the data cannot be divided}",
            r"  \State \Return an external node holding the size of the data",
            r"\Else",
            r"  \State choose an attribute and a split value at random",
            r"  \State \Return an internal node with two subtrees",
            r"\EndIf",
        ],
        words=["choose an attribute and a split value", "an internal node with two subtrees"],
    )
    path_length = Algorithm(
        "PathLength$(x, T, e)$",
        [
            r"\Require $x$ an instance, $T$ an isolation tree, $e$ current path length",
            r"\Ensure the path length of the instance",
            r"\If{$T$ is an external node}",
            r"  \State \Return the current length plus an adjustment",
            r"\EndIf",
            r"\State follow the branch the instance falls into and add one",
        ],
        words=["follow the branch the instance falls into"],
    )
    tables = [
        Table(
            "Notation used in this paper.",
            [
                ["Symbol", "Meaning"],
                ["$x$", "a data point"],
                ["$X$", "a data set of $n$ instances"],
                ["$T$", "a tree"],
                ["$t$", "number of trees"],
                ["$\\psi$", "subsampling size"],
            ],
            spec="ll",
        ),
        Table(
            "Default parameters of the detectors.",
            [
                ["Detector", "Parameter", "Default"],
                ["iForest", "trees", "100"],
                ["iForest", "subsample", "256"],
                ["ORCA", "neighbours", "10"],
                ["LOF", "neighbours", "10"],
            ],
        ),
        Table(
            "Data set sizes and the classes taken as anomalies.",
            [
                ["Data set", "$n$", "$d$", "Anomaly class"],
                ["Http (KDDCUP99)", "567497", "3", "attack (0.4\\%)"],
                ["ForestCover", "286048", "10", "class 4 (0.9\\%)"],
                ["Mulcross", "262144", "4", "2 clusters (10\\%)"],
                ["Smtp (KDDCUP99)", "95156", "3", "attack (0.03\\%)"],
                ["Shuttle", "49097", "9", "classes 2, 3, 5, 6, 7 (7\\%)"],
                ["Mammography", "11183", "6", "class 1 (2\\%)"],
                ["Satellite", "6435", "36", "3 smallest classes (32\\%)"],
                ["Pima", "768", "8", "pos (35\\%)"],
            ],
        ),
    ]
    sections = [
        Sec(
            "1",
            "INTRODUCTION",
            [
                *body(1, "Anomalies are data patterns that differ from the rest."),
                JOURNAL_INLINE[0],
                JOURNAL_INLINE[1],
            ],
        ),
        Sec(
            "1",
            "ISOLATION AND ISOLATION TREES",
            [
                *body(2, "In this paper the term isolation means separating an instance."),
                eqs[0],
                *body(3),
                eqs[1],
                tables[0],
            ],
        ),
        Sec("1.1", "Characteristic of Isolation Trees", [*body(4), eqs[2], *body(5)]),
        Sec(
            "1.1",
            "Anomaly Score",
            [
                *body(6),
                Figure(
                    "Anomalies are isolated closer to the root of the tree.",
                    ["Isolation Tree", "split attribute", "leaf size"],
                ),
                *body(7),
                eqs[7],
            ],
        ),
        Sec(
            "1",
            "ANOMALY DETECTION USING IFOREST",
            body(8, "Anomaly detection using iForest is a two-stage process."),
        ),
        Sec("1.1", "Training Stage", [*body(9), iforest, eqs[3], *body(10), itree]),
        Sec("1.1.1", "Sub-sampling Size", body(11)),
        Sec("1.1", "Evaluating Stage", [*body(12), eqs[4], path_length, *body(13), eqs[8]]),
        Sec("1", "EMPIRICAL EVALUATION", body(14, "This section presents the experiments.")),
        Sec("1.1", "Comparison with Other Methods", [*body(15), tables[1], *body(16)]),
        Sec("1.1", "Efficiency Analysis", [*body(17), tables[2], eqs[5]]),
        Sec("1.1.1", "Memory Requirement", body(18)),
        Sec("1.1", "Breaking the Curse of Dimensionality", [*body(19), eqs[6], *body(20)]),
        Sec("1", "RELATED WORK", [*body(21), JOURNAL_INLINE[2], JOURNAL_INLINE[3]]),
        Sec("1", "CONCLUSIONS", body(22, "This paper proposes a fundamentally different model.")),
        Sec("1", "PROOFS", [*body(23), eqs[10]], appendix=True),
        Sec("1.1", "Average Path Length", [*body(24), eqs[9]], appendix=True),
    ]
    references = [
        "Abe, N., Zadrozny, B., and Langford, J. 2006. Outlier detection by active learning. In Proceedings of the 12th International Conference on Knowledge Discovery and Data Mining. 504--509.",
        "Bay, S. D. and Schwabacher, M. 2003. Mining distance-based outliers in near linear time with randomization and a simple pruning rule. In Proceedings of the 9th International Conference on Knowledge Discovery and Data Mining. 29--38.",
        "Breunig, M. M., Kriegel, H.-P., Ng, R. T., and Sander, J. 2000. LOF: identifying density-based local outliers. ACM SIGMOD Record 29, 2, 93--104.",
        "Breiman, L. 2001. Random forests. Machine Learning 45, 1, 5--32.",
        "Chandola, V., Banerjee, A., and Kumar, V. 2009. Anomaly detection: a survey. ACM Computing Surveys 41, 3, 1--58.",
        "Liu, F. T., Ting, K. M., and Zhou, Z. 2008. Isolation forest. In Proceedings of the Eighth International Conference on Data Mining. 413--422.",
        "Preparata, F. P. and Shamos, M. I. 1985. Computational Geometry: an Introduction. Springer.",
        "Rocke, D. M. and Woodruff, D. L. 1996. Identification of outliers in multivariate data. Journal of the American Statistical Association 91, 435, 1047--1061.",
    ]
    return TexPaper(
        name="journal",
        style="journal",
        title="Isolation-Based Anomaly Detection",
        authors=["Fei Tony Liu", "Kai Ming Ting", "Zhi Hua Zhou"],
        abstract=(
            "Anomalies are data points that are few and different. "
            + filler(5, 555)
            + " The proposed method has a linear time complexity with a low constant."
        ),
        sections=sections,
        references=references,
        refs_heading="section",
        running_heads=[
            "Liu, Ting and Zhou",
            "Isolation-based Anomaly Detection",
            "ACM Transactions on Knowledge Discovery from Data",
        ],
    ).finish()


def paper_named(name: str) -> TexPaper:
    """The test papers by name: ``conference`` (references under a section heading),
    ``conference-bold`` (bold inline "References"), ``conference-bibliography``
    ("Bibliography" heading), ``conference-15`` (grown to about 15 pages), ``journal``."""
    if name == "journal":
        return journal_paper()
    if name == "conference-15":
        return conference_paper(extra_sections=8, sentences=10)
    style = name.removeprefix("conference").strip("-") or "section"
    if style not in ("section", "bold", "bibliography"):
        raise ValueError(f"unknown test paper {name!r}")
    return conference_paper(style)  # type: ignore[arg-type]


__all__ = [
    "CONFERENCE_EQUATIONS",
    "JOURNAL_EQUATIONS",
    "Algorithm",
    "Eq",
    "Figure",
    "Sec",
    "Table",
    "TexPaper",
    "compile_pdf",
    "conference_paper",
    "journal_paper",
    "paper_named",
    "pdflatex",
]
