"""LaTeX ingestion: includes, comments, numbering, math, tables, captions, bibliography."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from paperfactory import make_latex, sample_spec
from test_ingest_pdf import assert_matches_spec

from paper2code.errors import PaperError
from paper2code.ingest import ingest_paper
from paper2code.ingest.latex import expand_inputs, find_main_tex
from paper2code.ingest.latex_text import latex_to_text, strip_comments, tabular_to_markdown
from paper2code.settings import IngestSettings


@pytest.mark.parametrize("split_files", [True, False])
def test_factory_paper_from_folder_and_main_file(tmp_path: Path, split_files: bool) -> None:
    spec = sample_spec()
    main = make_latex(tmp_path / "src", spec, split_files=split_files)
    for target in (tmp_path / "src", main):
        paper = ingest_paper(target, IngestSettings())
        assert paper.source_format == "latex"
        assert_matches_spec(paper, spec)
        assert paper.authors == spec.authors
        assert paper.abstract == spec.abstract


def test_math_tables_captions_and_comments(tmp_path: Path) -> None:
    paper = ingest_paper(make_latex(tmp_path / "src"), IngestSettings())
    md = paper.to_markdown(include_references=True)
    assert "comment the reader must drop" not in md and "commented-out" not in md
    by_number = {s.number: s for s in paper.sections}
    assert by_number["3.1"].equations == [r"h = \mathrm{softmax}(Q K^T / \sqrt{d}) V"]
    assert by_number["3.1"].captions == [
        "Figure 1: The encoder architecture with stacked attention layers."
    ]
    assert by_number["4"].captions == ["Table 1: Accuracy on the copy task."]
    assert by_number["4"].tables == [
        "| Model | Params | Accuracy |\n|---|---|---|\n| Baseline | 12M | 81.2 |\n| Ours | 9M | 84.7 |"
    ]
    assert "\\label" not in md and "\\begin" not in md


def test_numbering_appendix_refs_and_environments(tmp_path: Path) -> None:
    (tmp_path / "paper.tex").write_text(
        r"""\documentclass{article}
\title{On \emph{Things}\\ and Stuff}
\author{Jane Doe\thanks{Work done at X.} \\ Some University \and John Roe}
\begin{document}
\maketitle
\begin{abstract}We study things~\cite{a,b}.\end{abstract}
\section*{Preface}
Unnumbered.
\section{Intro}\label{sec:intro}
See Section~\ref{sec:method} and Eq.~\eqref{eq:loss}; 50\% of $x_i$ \textbf{matter}.
\begin{itemize}
\item first point
\item[Key] second point
\end{itemize}
\section{Method}\label{sec:method}
\subsection{Loss}
\begin{align}
L &= \sum_i \ell_i \label{eq:loss} \\
R &= \lambda \|w\|^2 \nonumber
\end{align}
\[ y = f(x) \]
\begin{theorem} Every loss is bounded. \end{theorem}
\subsubsection{Details}
\begin{verbatim}
x = 1  % not a comment in code? (stripped like LaTeX would not; fine)
\end{verbatim}
\begin{table}
\begin{tabular}{|l|c|}\hline
\multicolumn{2}{c}{Results} \\ \hline
a & 1 \\
b \& c & 2 \\ \hline
\end{tabular}
\caption{Scores (see Section~\ref{sec:intro}).}\label{tab:s}
\end{table}
\appendix
\section{Proofs}
\subsection{More}
Text.
\bibliography{refs}
\end{document}
"""
    )
    (tmp_path / "paper.bbl").write_text(
        "\\begin{thebibliography}{2}\n\\bibitem{a} A.~Author.\n\\newblock Title A.\n"
        "\\bibitem[B(2020)]{b} B.~Author.\n\\newblock Title B, 2020.\n\\end{thebibliography}\n"
    )
    paper = ingest_paper(tmp_path / "paper.tex", IngestSettings())
    assert paper.title == "On *Things* and Stuff"
    assert paper.authors == ["Jane Doe", "John Roe"]
    assert paper.abstract == "We study things [a,b]."
    assert [(s.number, s.heading, s.level, s.appendix) for s in paper.sections] == [
        (None, "Preface", 1, False),
        ("1", "Intro", 1, False),
        ("2", "Method", 1, False),
        ("2.1", "Loss", 2, False),
        ("2.1.1", "Details", 3, False),
        ("A", "Proofs", 1, True),
        ("A.1", "More", 2, True),
    ]
    intro, loss, details = paper.sections[1], paper.sections[3], paper.sections[4]
    assert "See Section 2 and Eq. (1); 50% of $x_i$ **matter**." in intro.text
    assert "- first point" in intro.text and "- **Key** second point" in intro.text
    assert loss.equations == ["L &= \\sum_i \\ell_i \\\\\nR &= \\lambda \\|w\\|^2", "y = f(x)"]
    assert "**Theorem.** Every loss is bounded." in loss.text
    assert "```\nx = 1" in details.text
    assert details.tables == ["| Results |  |\n|---|---|\n| a | 1 |\n| b & c | 2 |"]
    assert details.captions == ["Table 1: Scores (see Section 1)."]
    assert paper.references == ["A. Author. Title A.", "B. Author. Title B, 2020."]


def test_input_outside_folder_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.tex").write_text("secret")
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.tex").write_text("\\documentclass{article}\\begin{document}\\input{../secret}")
    with pytest.raises(PaperError, match=r"outside the paper's folder"):
        ingest_paper(src, IngestSettings())


def test_missing_input_skipped_with_warning(tmp_path: Path, caplog) -> None:
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\\section{A}\\input{gone}Body text.\\end{document}"
    )
    with caplog.at_level(logging.WARNING):
        paper = ingest_paper(tmp_path, IngestSettings())
    assert paper.sections[0].text == "Body text."
    assert "gone" in caplog.text


def test_self_include_does_not_loop(tmp_path: Path) -> None:
    main = tmp_path / "main.tex"
    main.write_text("\\documentclass{article}\nA \\input{main} B")
    assert expand_inputs(main, tmp_path).split() == ["\\documentclass{article}", "A", "B"]


def test_find_main_tex_prefers_documentclass_and_conventional_name(tmp_path: Path) -> None:
    (tmp_path / "intro.tex").write_text("\\section{Intro}")
    (tmp_path / "z.tex").write_text("\\documentclass{article}")
    assert find_main_tex(tmp_path).name == "z.tex"
    (tmp_path / "main.tex").write_text("% x\n\\documentclass{article}")
    assert find_main_tex(tmp_path).name == "main.tex"
    (tmp_path / "main.tex").write_text("% \\documentclass{article}")  # commented out
    assert find_main_tex(tmp_path).name == "z.tex"


def test_strip_comments_keeps_escaped_percent() -> None:
    assert strip_comments("50\\% done % note\n\\\\% gone") == "50\\% done \n\\\\"


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"\textit{a}~b", "*a* b"),
        (r"\href{http://x}{site} and \url{u}", "site and u"),
        (r"``q'' -- x --- y", "“q” – x — y"),
        (r"Caf\'e na\"ive", "Café naïve"),
        (r"a\footnote{note} b", "a (note) b"),
        (r"$\alpha\label{x}$ and \(\beta\)", r"$\alpha$ and $\beta$"),
        (r"\unknown{kept} \newpage", "kept"),
    ],
)
def test_latex_to_text(tex: str, text: str) -> None:
    assert latex_to_text(tex) == text


def test_tabular_multirow_and_pipes() -> None:
    md = tabular_to_markdown(
        "\\toprule A & B \\\\ \\midrule \\multirow{2}{*}{x} & a|b \\\\ & c \\\\ \\bottomrule"
    )
    assert md == "| A | B |\n|---|---|\n| x | a\\|b |\n|  | c |"
