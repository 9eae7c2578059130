"""Printed text with inline math → readable Markdown text: prose as printed, math runs as
``$…$`` in the linear LaTeX form of ``mathlayout`` (``$d_k$``, ``$1/\\sqrt{d_k}$``), never HTML.

A glyph belongs to a math run when its font is a math font, when it is set in TeX's upright
math fonts in a document whose prose is not (Computer Modern digits and parentheses in a
Times paper), or when it is a script: smaller than the line's text and off its baseline.
Pure functions over glyphs.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from paper2code.ingest import fonts
from paper2code.ingest.glyphs import Glyph, Rule
from paper2code.ingest.mathlayout import glyphs_to_latex


@dataclass(frozen=True)
class TextStyle:
    """What prose looks like in this document."""

    size: float = 10.0
    """Body font size."""
    prose_is_tex: bool = True
    """Prose is set in Computer/Latin Modern (then ``CMR`` glyphs are prose, not math)."""


def document_style(glyphs: Iterable[Glyph]) -> TextStyle:
    """The body size and prose font family of a document, from (a sample of) its glyphs."""
    sizes: Counter[float] = Counter()
    tex = 0
    total = 0
    for g in glyphs:
        if not g.c.strip():
            continue
        sizes[round(g.size, 1)] += 1
        total += 1
        if fonts.is_upright_tex_font(g.font) or fonts.is_math_font(g.font):
            tex += 1
    size = sizes.most_common(1)[0][0] if sizes else 10.0
    return TextStyle(size=size, prose_is_tex=total > 0 and tex / total > 0.5)


def _is_math(g: Glyph, style: TextStyle, size: float, baseline: float) -> bool:
    if not g.c.strip():
        return False
    if fonts.is_math_font(g.font):
        return True
    if not style.prose_is_tex and fonts.is_upright_tex_font(g.font):
        return True
    if g.c in "√∑∏∫":
        return True
    return g.size < 0.85 * size and abs(g.oy - baseline) > 0.12 * size and g.c.isalnum()


BULLETS = "•◦▪▫‣∙●○■□–-*∗"


def is_bullet(g: Glyph) -> bool:
    """A list bullet: a bullet character, or a glyph without meaning (a bitmap bullet)."""
    return g.c in BULLETS or bool(_CONTROL.fullmatch(g.c))


def render_glyphs(glyphs: Sequence[Glyph], style: TextStyle, rules: Sequence[Rule] = ()) -> str:
    """The text of glyphs on one printed line (in reading order, spaces included), with inline
    math as ``$…$``."""
    visible = [g for g in glyphs if g.c.strip()]
    if not visible:
        return ""
    sizes = Counter(round(g.size, 1) for g in visible)
    size = sizes.most_common(1)[0][0]
    baseline = statistics.median(g.oy for g in visible if abs(g.size - size) < 0.3)
    flags = [_is_math(g, style, size, baseline) for g in glyphs]
    if not any(flags):
        return "".join(g.c for g in glyphs)
    _grow_math(glyphs, flags, size, baseline)
    out: list[str] = []
    i = 0
    while i < len(glyphs):
        if not flags[i]:
            out.append(glyphs[i].c)
            i += 1
            continue
        j = i
        run: list[Glyph] = []
        while j < len(glyphs):
            if flags[j]:
                run.append(glyphs[j])
                j += 1
            elif not glyphs[j].c.strip():
                k = j
                while k < len(glyphs) and not glyphs[k].c.strip():
                    k += 1
                if k < len(glyphs) and (flags[k] or _operand(run, glyphs[k])):
                    j = k
                else:
                    break
            elif _operand(run, glyphs[j]):
                run.append(glyphs[j])
                j += 1
            else:
                break
        out.append(_math_run(run, rules, size, baseline))
        i = j
    return "".join(out)


_BRIDGE = frozenset("0123456789=+-−<>/,.()[]|:")


def _word_at(glyphs: Sequence[Glyph], k: int) -> str:
    out = ""
    while k < len(glyphs) and glyphs[k].c.isalpha():
        out += glyphs[k].c
        k += 1
    return out


def _grow_math(glyphs: Sequence[Glyph], flags: list[bool], size: float, baseline: float) -> None:
    """Widen the math runs over prose-font glyphs that belong to them, as Computer Modern
    papers set digits, brackets, ``=`` and operator names in the prose font:

    - a word right before a script (``shrink`` in ``shrink_τ``) is an operator name;
    - digits, brackets and operators between two math glyphs join them (``$x + 1 = y$``);
    - a closing bracket right after a run that opened one closes it (``$f(x)$``).
    """
    n = len(glyphs)
    for i in range(1, n):
        g = glyphs[i]
        script = g.size < 0.85 * size and abs(g.oy - baseline) > 0.1 * size
        if flags[i] and script and not flags[i - 1] and glyphs[i - 1].c.isalpha():
            k = i - 1
            while k >= 0 and glyphs[k].c.isalpha() and not flags[k]:
                flags[k] = True
                k -= 1
    i = 0
    while i < n:
        if not flags[i]:
            i += 1
            continue
        j = i
        while j < n and flags[j]:
            j += 1
        k, bridged = j, 0
        while k < n and not flags[k]:
            c = glyphs[k].c
            if not c.strip() or c in _BRIDGE:
                bridged += bool(c.strip())
                k += 1
                continue
            word = _word_at(glyphs, k)
            if word in fonts.FUNCTIONS:  # \log, \max… set in the prose font
                bridged += len(word)
                k += len(word)
                continue
            break
        if k < n and flags[k] and j < k and bridged <= 8 and glyphs[k - 1].c not in ",.":
            for t in range(j, k):
                flags[t] = True
            continue
        while k > j and not glyphs[k - 1].c.strip():
            k -= 1
        tail = "".join(g.c for g in glyphs[j:k] if g.c.strip())
        if j < k and re.fullmatch(r"[=<>≤≥+−-]\d+(?:\.\d+)?[.,;:]?", tail):
            for t in range(j, k):  # "$\psi = 256$": a relation and a number close the formula
                flags[t] = glyphs[t].c not in ".,;:" or t < k - 1
            continue
        if j < n and glyphs[j].c in ")]":
            run = "".join(g.c for g in glyphs[i:j])
            opener = "(" if glyphs[j].c == ")" else "["
            if run.count(opener) > run.count(glyphs[j].c):
                flags[j] = True
                continue
        i = j


_OPERATORS = "=<>+−-≤≥≈×·∈∼≠→"


def _operand(run: list[Glyph], g: Glyph) -> bool:
    """A number right after a relation or operator belongs to the formula (``$\\alpha \\leq
    0.5$`` where the digits are in the prose font)."""
    last = next((x for x in reversed(run) if x.c.strip()), None)
    if last is None or g.c not in "0123456789.":
        return False
    if last.c in _OPERATORS:
        return g.c.isdigit()
    return (
        last.c in "0123456789."
        and not fonts.is_math_font(last.font)
        and (g.c.isdigit() or g.c == ".")
    )


_MARKS = "0123456789*†‡§¶∗⋆"


def _math_run(run: list[Glyph], rules: Sequence[Rule], size: float, baseline: float) -> str:
    # punctuation closing a sentence after a formula stays outside the $…$
    tail = ""
    while run and run[-1].c in ",.;:" and not fonts.is_math_font(run[-1].font):
        tail = run[-1].c + tail
        run = run[:-1]
    if not run:
        return tail
    marks = [g for g in run if g.c.strip()]
    if all(g.c in _MARKS and g.size < 0.85 * size and g.oy < baseline - 0.15 * size for g in marks):
        return f"[^{''.join(g.c for g in marks)}]{tail}"  # a footnote mark
    x0 = min(g.x0 for g in run) - 2
    x1 = max(g.x1 for g in run) + 2
    y0 = min(g.y0 for g in run) - 2
    y1 = max(g.y1 for g in run) + 2
    inside = [r for r in rules if x0 <= r.x0 and r.x1 <= x1 and y0 <= r.y <= y1]
    latex = glyphs_to_latex(run, inside)
    if not latex:
        return tail
    if re.fullmatch(r"[.,;:]+", latex):  # punctuation set in a math font is prose
        return "".join(g.c for g in run) + tail
    return f"${latex}${tail}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")


def clean_text(text: str) -> str:
    """Whitespace collapsed; no-break spaces and soft hyphens normalized; control characters
    and glyphs without meaning (unmapped codes, private use) dropped."""
    text = _CONTROL.sub("", text.replace("\u00a0", " ").replace("\u00ad", ""))
    return re.sub(r"[ \t]+", " ", text).strip()
