"""How close a recovered equation is to its LaTeX source: both are normalized to a list of
tokens and compared with difflib's ratio. Pure; used by the tests and the ingestion benchmark.

Normalization removes what does not change the printed formula: ``\\left``/``\\right`` and
size commands, spacing commands, font and text wrappers (``\\mathrm{x}`` → ``x``, so an
operator name is its letters), labels and alignment marks, braces. Synonyms get one spelling
(``\\le`` → ``\\leq``, ``\\to`` → ``\\rightarrow``, ``\\ldots`` → ``\\dots``, ``\\mid`` →
``|``). Tokens are commands (``\\frac``), single characters and ``_``/``^``.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from paper2code.ingest.fonts import FUNCTIONS

_DROP_WITH_ARG = re.compile(r"\\(?:label|tag\*?|nonumber|notag)(?:\{[^{}]*\})?")
_DROP = re.compile(
    r"\\(?:left|right|middle|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|"
    r"displaystyle|textstyle|scriptstyle|scriptscriptstyle|limits|nolimits|quad|qquad|"
    r"enspace|thinspace|medspace|thickspace|negthinspace|mathstrut|strut|allowbreak|"
    r"hfill|hspace\*?\{[^{}]*\}|mspace\{[^{}]*\}|phantom\{[^{}]*\}|vphantom\{[^{}]*\}|"
    r"hphantom\{[^{}]*\})(?![A-Za-z])"
)
_SPACING = re.compile(r"\\[,;:! ]|~|&|\\\\(?:\[[^\]]*\])?")
_WRAPPERS = (
    "mathrm|mathit|mathbf|mathsf|mathtt|mathnormal|mathcal|mathscr|mathbb|mathfrak|boldsymbol|"
    "bm|text|textrm|textit|textbf|textsf|texttt|textnormal|mbox|hbox|operatorname\\*?|"
    "mathop|mathbin|mathrel|mathord|mathopen|mathclose|mathpunct|rm|it|bf|cal|sf|tt"
)
_WRAPPER = re.compile(r"\\(?:" + _WRAPPERS + r")(?![A-Za-z])\s*")
_SYNONYMS = {
    "\\le": "\\leq",
    "\\ge": "\\geq",
    "\\leqslant": "\\leq",
    "\\geqslant": "\\geq",
    "\\ne": "\\neq",
    "\\to": "\\rightarrow",
    "\\gets": "\\leftarrow",
    "\\ldots": "\\dots",
    "\\cdots": "\\dots",
    "\\dotsc": "\\dots",
    "\\dotsb": "\\dots",
    "\\mid": "|",
    "\\vert": "|",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\Vert": "\\|",
    "\\lVert": "\\|",
    "\\rVert": "\\|",
    "\\lbrace": "\\{",
    "\\rbrace": "\\}",
    "\\lbrack": "[",
    "\\rbrack": "]",
    "\\tfrac": "\\frac",
    "\\dfrac": "\\frac",
    "\\cfrac": "\\frac",
    "\\varepsilon": "\\epsilon",
    "\\varphi": "\\phi",
    "\\vartheta": "\\theta",
    "\\land": "\\wedge",
    "\\lor": "\\vee",
    "\\lnot": "\\neg",
    "\\colon": ":",
    "\\ast": "*",
    "\\prime": "'",
    "\\lnsim": "\\sim",
}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\S")


def normalize_latex(latex: str) -> list[str]:
    """The tokens of a formula after normalization (see the module docstring)."""
    s = _DROP_WITH_ARG.sub(" ", latex)
    s = _DROP.sub(" ", s)
    s = _SPACING.sub(" ", s)
    s = _WRAPPER.sub(" ", s)
    s = re.sub(r"\^\{?\\prime\}?", "'", s)
    tokens: list[str] = []
    for tok in _TOKEN.findall(s):
        if tok in "{}":
            continue
        tok = _SYNONYMS.get(tok, tok)
        if tok.startswith("\\") and tok[1:] in FUNCTIONS:
            tokens += list(tok[1:])  # \log → l o g, as \mathrm{log} becomes
            continue
        tokens.append(tok)
    return tokens


def latex_similarity(recovered: str, source: str) -> float:
    """Token-level similarity in [0, 1] of a recovered formula and its LaTeX source
    (difflib ``SequenceMatcher.ratio`` over normalized tokens); 1.0 for two empty formulas."""
    a, b = normalize_latex(recovered), normalize_latex(source)
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()
