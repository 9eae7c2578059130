"""Display math from glyph positions (``mathlayout``) on hand-placed glyphs, and the
normalization that scores recovered formulas against their source (``mathscore``)."""

from __future__ import annotations

import pytest

from paper2code.ingest.glyphs import Glyph, Rule
from paper2code.ingest.mathlayout import glyphs_to_latex
from paper2code.ingest.mathscore import latex_similarity, normalize_latex

BASE = 100.0  # baseline of the main line


def g(c: str, x: float, y: float = BASE, size: float = 10.0, font: str = "CMMI10") -> Glyph:
    """A glyph at origin (x, y) with a plausible outline box."""
    width = 0.5 * size
    return Glyph(c, font, size, (x, y - 0.7 * size, x + width, y), x, y)


def word(
    text: str, x: float, y: float = BASE, size: float = 10.0, font: str = "CMR10"
) -> list[Glyph]:
    return [g(c, x + i * 0.5 * size, y, size, font) for i, c in enumerate(text)]


def test_scripts() -> None:
    glyphs = [g("x", 0), g("i", 5, BASE + 2, 7), g("2", 5, BASE - 4, 7, "CMR7"), g("+", 12, font="CMR10"),
              g("y", 20), g("k", 25, BASE + 2, 7), g("′", 28, BASE - 4, 7, "CMSY7")]  # fmt: skip
    assert glyphs_to_latex(glyphs) == "x_i^2+y_k'"


def test_fraction_and_root() -> None:
    # \frac{a}{\sqrt{b}} = c
    glyphs = [g("a", 12, BASE - 6), g("√", 5, BASE + 8, font="CMSY10"), g("b", 13, BASE + 11),
              g("=", 25, font="CMR10"), g("c", 35)]  # fmt: skip
    radical = Glyph("√", "CMSY10", 10.0, (5, BASE + 1.5, 12.5, BASE + 12), 5, BASE + 1.5)
    glyphs[1] = radical
    rules = [Rule(4, 20, BASE - 3), Rule(12.5, 19, BASE + 1.5)]
    assert glyphs_to_latex(glyphs, rules) == r"\frac{a}{\sqrt{b}} = c"


def test_greek_operator_names_and_sum_limits() -> None:
    sigma = Glyph("X", "CMEX10", 10.0, (10, BASE - 10, 20, BASE + 4), 10, BASE - 10)  # ∑
    glyphs = [
        sigma,
        g("i", 11, BASE + 9, 7),
        g("=", 13, BASE + 9, 7, "CMR7"),
        g("1", 17, BASE + 9, 7, "CMR7"),
        g("n", 13, BASE - 12, 7),
        *word("log", 22),
        g("α", 38),
    ]
    assert glyphs_to_latex(glyphs) == r"\sum_{i = 1}^n \log \alpha"


@pytest.mark.parametrize(
    ("latex", "tokens"),
    [
        (r"\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V",
         ["s", "o", "f", "t", "m", "a", "x", "(", "\\frac", "Q", "K", "^", "T", "\\sqrt", "d",
          "_", "k", ")", "V"]),
        (r"a \le b \quad c\,\to d", ["a", "\\leq", "b", "c", "\\rightarrow", "d"]),
        (r"\log x \mid y", ["l", "o", "g", "x", "|", "y"]),
        (r"x^{\prime} \label{eq:1}", ["x", "'"]),
        (r"\text{if } x \ldots", ["i", "f", "x", "\\dots"]),
    ],
)  # fmt: skip
def test_normalize_latex(latex: str, tokens: list[str]) -> None:
    assert normalize_latex(latex) == tokens


def test_similarity() -> None:
    assert latex_similarity(r"\frac{a}{b}", r"\dfrac{a}{b}") == 1.0
    assert latex_similarity("", "") == 1.0
    assert latex_similarity("x+y", r"\alpha") == 0.0
    assert 0.5 < latex_similarity(r"\frac{a}{b}+c", r"\frac{a}{b}") < 1.0
