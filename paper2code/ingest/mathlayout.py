"""Display math from glyph positions: printed glyphs and rules → a linear LaTeX form.

TeX leaves the structure of a formula in its geometry: a fraction is a rule with a numerator
above and a denominator below; a root is a radical sign whose vinculum (a rule) covers the
radicand; a superscript is a smaller glyph above the baseline of the glyph before it, a
subscript one below; a big operator carries its limits above and below. Recovery is therefore:

1. glyphs → atoms (LaTeX for each glyph: Greek letters and operators by Unicode, TeX's
   extension-font glyphs by character code, calligraphic/blackboard/bold letters by font);
2. structures, widest rule first: radicals (a radical glyph touching the rule's left end),
   then fractions (atoms above and below the rule), each part converted recursively; then big
   operators with limits;
3. the remaining atoms left to right against the main baseline: off-baseline runs become
   ``^{…}`` (above) or ``_{…}`` (below) of the atom before, recursively; upright letter runs
   become ``\\mathrm{word}`` or an operator name (``\\log``, ``\\max``).

Comparisons use the math axis (baseline minus a quarter of the font size) rather than the
baseline, because fraction bars, big delimiters and big operators are centred on the axis.
Pure functions over ``Glyph`` and ``Rule``.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from paper2code.ingest import fonts
from paper2code.ingest.glyphs import Glyph, Rule

_BIG = frozenset({"open", "close", "delim", "op", "frac", "sqrt", "radical"})
_RELATIONS = frozenset(
    [
        "=",
        "<",
        ">",
        "\\leq",
        "\\geq",
        "\\neq",
        "\\approx",
        "\\equiv",
        "\\sim",
        "\\simeq",
        "\\propto",
        "\\in",
        "\\notin",
        "\\subset",
        "\\subseteq",
        "\\rightarrow",
        "\\leftarrow",
        "\\Rightarrow",
        "\\Leftarrow",
        "\\Leftrightarrow",
        "\\mapsto",
        ":=",
        "\\triangleq",
        "\\ll",
        "\\gg",
        "\\cong",
    ]
)
_OPEN_CHARS = "([{⟨⌈⌊"
ACCENTS = {
    "ˆ": "\\hat", "^": "\\hat", "˜": "\\tilde", "~": "\\tilde", "¯": "\\bar", "ˉ": "\\bar",
    "˙": "\\dot", "¨": "\\ddot", "ˇ": "\\check", "˘": "\\breve", "´": "\\acute", "`": "\\grave",
    "⃗": "\\vec",
}  # fmt: skip
"""Accent glyphs set above a letter → the LaTeX accent command."""
_LIMIT_WORDS = frozenset(
    {"max", "min", "lim", "sup", "inf", "limsup", "liminf", "argmax", "argmin"}
)
_ARRAYS = {"(": "pmatrix", "[": "bmatrix", "|": "vmatrix", "\\|": "Vmatrix", "\\{": "Bmatrix"}
_STANDARD_FUNCTIONS = fonts.FUNCTIONS - {"argmax", "argmin"}


@dataclass
class Atom:
    """A glyph or a built structure, with the geometry layout needs."""

    latex: str
    x0: float
    y0: float
    x1: float
    y1: float
    axis: float
    """Height of the math axis this atom sits on (y, downwards)."""
    size: float
    kind: str = "char"
    """char, upright (roman letter), digit, open, close, delim, op, radical, piece, frac,
    sqrt, accent."""
    parts: list[Atom] = field(default_factory=list)

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


# ---------------------------------------------------------------------------- glyphs → atoms


def _letter_latex(c: str, g: Glyph) -> tuple[str, str]:
    font = g.font
    if fonts.is_symbol_font(font) and c.isupper():
        return f"\\mathcal{{{c}}}", "char"
    if fonts.is_blackboard(font):
        return f"\\mathbb{{{c}}}", "char"
    if fonts.is_fraktur(font):
        return f"\\mathfrak{{{c}}}", "char"
    if fonts.is_bold(font, g.flags) and not fonts.is_italic(font, g.flags):
        return f"\\mathbf{{{c}}}", "char"
    if fonts.is_math_italic(font) or fonts.is_italic(font, g.flags):
        return c, "char"
    return c, "upright"


def glyph_atom(g: Glyph) -> Atom | None:
    """The atom of one glyph, or None for spaces and glyphs without meaning."""
    c = g.c
    if not c or not c.strip() or c == "\ufffd":
        return None
    x0, y0, x1, y1 = g.bbox
    if y1 - y0 < 0.05:  # outline-less glyph (a space drawn as a glyph)
        y0, y1 = g.oy - 0.7 * g.size, g.oy
    axis = g.oy - 0.25 * g.size
    centre = (y0 + y1) / 2
    if fonts.is_extension_font(g.font):
        code = ord(c[0])
        if code < 256 and code in fonts.CMEX_CODES:
            latex, role = fonts.CMEX_CODES[code]
        else:
            latex, role = fonts.SYMBOLS.get(c, c), "char"
        kind = role.split("-")[0] if role.startswith("piece") else role
        if role.startswith("piece"):
            kind = "piece"
            latex = latex or "|"
        return Atom(latex, x0, y0, x1, y1, centre, g.size, kind if kind != "char" else "delim")
    if c == "√":
        return Atom("\\sqrt", x0, y0, x1, y1, centre, g.size, "radical")
    if (c in ACCENTS and not fonts.is_math_italic(g.font)) or c == "\u20d7":
        return Atom(ACCENTS.get(c, "\\vec"), x0, y0, x1, y1, centre, g.size, "accent")
    if c in "∑∏∫∮⋃⋂" and g.y1 - g.y0 > 0.9 * g.size:
        return Atom(fonts.SYMBOLS[c], x0, y0, x1, y1, centre, g.size, "op")
    if len(c) == 1 and c.isascii() and c.isalpha():
        latex, kind = _letter_latex(c, g)
        return Atom(latex, x0, y0, x1, y1, axis, g.size, kind)
    if len(c) == 1 and c.isdigit():
        bold = fonts.is_bold(g.font, g.flags)
        return Atom(f"\\mathbf{{{c}}}" if bold else c, x0, y0, x1, y1, axis, g.size, "digit")
    latex = fonts.SYMBOLS.get(c, c)
    kind = "open" if c in _OPEN_CHARS else "char"
    return Atom(latex, x0, y0, x1, y1, axis, g.size, kind)


def _merge_pieces(atoms: list[Atom]) -> list[Atom]:
    """Extensible delimiters are printed as stacked pieces: one atom per stack."""
    pieces = [a for a in atoms if a.kind == "piece"]
    if not pieces:
        return atoms
    rest = [a for a in atoms if a.kind != "piece"]
    stacks: list[list[Atom]] = []
    for p in sorted(pieces, key=lambda a: (a.x0, a.y0)):
        for st in stacks:
            if abs(st[0].x0 - p.x0) < 1.5 and p.y0 - max(a.y1 for a in st) < 2.0:
                st.append(p)
                break
        else:
            stacks.append([p])
    for st in stacks:
        latex = next((a.latex for a in st if a.latex not in {"|", ""}), st[0].latex)
        kind = (
            "open"
            if latex in {"(", "[", "\\{"}
            else "close"
            if latex in {")", "]", "\\}"}
            else "delim"
        )
        x0, y0 = min(a.x0 for a in st), min(a.y0 for a in st)
        x1, y1 = max(a.x1 for a in st), max(a.y1 for a in st)
        rest.append(Atom(latex, x0, y0, x1, y1, (y0 + y1) / 2, st[0].size, kind))
    return rest


# ---------------------------------------------------------------------------- structures


def _contiguous(candidates: list[Atom], start: float, upwards: bool) -> list[Atom]:
    """Atoms reachable from height ``start`` without a vertical gap wider than about half
    their size (numerator above a bar, denominator below it, limits of an operator)."""
    chosen: list[Atom] = []
    edge = start
    key = (lambda a: -a.y1) if upwards else (lambda a: a.y0)
    for a in sorted(candidates, key=key):
        gap = (edge - a.y1) if upwards else (a.y0 - edge)
        if gap > 0.55 * a.size + 1.0:
            break
        chosen.append(a)
        edge = min(edge, a.y0) if upwards else max(edge, a.y1)
    return chosen


def _rules_within(rules: Iterable[Rule], atoms: list[Atom]) -> list[Rule]:
    if not atoms:
        return []
    x0, x1 = min(a.x0 for a in atoms) - 1, max(a.x1 for a in atoms) + 1
    y0, y1 = min(a.y0 for a in atoms) - 1, max(a.y1 for a in atoms) + 1
    return [r for r in rules if x0 <= r.x0 and r.x1 <= x1 and y0 <= r.y <= y1]


def _radical_at(pool: list[Atom], r: Rule) -> Atom | None:
    """The radical sign whose top touches the left end of the rule ``r`` (its vinculum)."""
    return next(
        (
            a
            for a in pool
            if a.kind == "radical"
            and abs(a.x1 - r.x0) <= 2.0
            and abs(a.y0 - r.y) <= max(2.5, 0.3 * a.size)
        ),
        None,
    )


def _radicand(pool: list[Atom], rad: Atom, r: Rule) -> tuple[list[Atom], list[Atom]]:
    """The atoms under the vinculum ``r`` of the radical sign ``rad``, and those of its index
    (small atoms over the sign's left part: the 3 of a cube root)."""
    inner = [
        a
        for a in pool
        if a is not rad
        and r.x0 - 0.5 <= a.cx <= r.x1 + 0.5
        and a.y0 >= r.y - 1.0
        and a.y1 <= rad.y1 + 1.5
    ]
    index = [
        a
        for a in pool
        if a is not rad
        and a not in inner
        and a.x0 >= rad.x0 - 0.6 * rad.size
        and a.x1 <= rad.x0 + 0.7 * (rad.x1 - rad.x0)
        and a.y1 <= rad.cy
        and a.size < 0.8 * rad.size
    ]
    return inner, index


@dataclass
class _Folding:
    """``build``'s pass over the rules, widest first: the atoms (a structure replaces its
    parts), the rules, and the ids of the rules already folded into a structure."""

    pool: list[Atom]
    rules: list[Rule]
    used: set[int] = field(default_factory=set)

    def unused_within(self, atoms: list[Atom]) -> list[Rule]:
        return [q for q in _rules_within(self.rules, atoms) if id(q) not in self.used]

    def radical(self, rad: Atom, r: Rule) -> None:
        """Fold a radical sign, its radicand under the rule ``r`` and its index into one
        ``\\sqrt`` atom."""
        inner, index = _radicand(self.pool, rad, r)
        sub_rules = self.unused_within(inner)
        self.used.update(id(q) for q in sub_rules)
        body, axis, size = layout(build(inner, sub_rules))
        idx = f"[{layout(build(index, []))[0]}]" if index else ""
        group = [rad, *inner, *index]
        atom = Atom(
            f"\\sqrt{idx}{{{body}}}",
            min(a.x0 for a in group),
            min(r.y, *(a.y0 for a in group)),
            max(r.x1, *(a.x1 for a in group)),
            max(a.y1 for a in group),
            axis if inner else rad.cy,
            size if inner else rad.size,
            "sqrt",
        )
        self.pool = [a for a in self.pool if a not in group] + [atom]

    def fraction(self, r: Rule) -> None:
        """Fold the atoms just above and just below the rule ``r`` into one ``\\frac`` atom;
        an overline or underline (nothing on one side) is left alone."""
        column = [a for a in self.pool if r.x0 - 1.0 <= a.cx <= r.x1 + 1.0]
        above = _contiguous([a for a in column if a.y1 <= r.y + 0.8], r.y, upwards=True)
        below = _contiguous([a for a in column if a.y0 >= r.y - 0.8], r.y, upwards=False)
        if not above or not below:
            return
        num_rules = self.unused_within(above)
        den_rules = self.unused_within(below)
        self.used.update(id(q) for q in num_rules + den_rules)
        num, _, num_size = layout(build(above, num_rules))
        den, _, den_size = layout(build(below, den_rules))
        group = above + below
        atom = Atom(
            f"\\frac{{{num}}}{{{den}}}",
            min(r.x0, *(a.x0 for a in group)),
            min(a.y0 for a in above),
            max(r.x1, *(a.x1 for a in group)),
            max(a.y1 for a in below),
            r.y,
            max(num_size, den_size),
            "frac",
        )
        self.pool = [a for a in self.pool if a not in group] + [atom]


def build(atoms: list[Atom], rules: list[Rule]) -> list[Atom]:
    """Atoms with arrays (``cases``, matrices), radicals, fractions, accents and the limits of
    big operators and of ``\\max``-like words folded into structures."""
    pool, rules = _arrays(_merge_pieces(list(atoms)), list(rules))
    folding = _Folding(pool, sorted(rules, key=lambda r: -r.width))
    for r in folding.rules:
        if id(r) in folding.used:
            continue
        folding.used.add(id(r))
        rad = _radical_at(folding.pool, r)
        if rad is not None:
            folding.radical(rad, r)
        else:
            folding.fraction(r)
    pool = _accents(folding.pool)
    return _operator_limits(_word_limits(pool))


def _row_groups(
    atoms: list[Atom], rules: list[Rule], gap: float
) -> list[tuple[list[Atom], list[Rule]]]:
    """Atoms (and rules) in horizontal bands separated by more than ``gap`` of empty height;
    a rule joins the atoms just above and below it (a fraction stays in one band)."""
    if not atoms:
        return []
    size = max(a.size for a in atoms)
    spans = [(a.y0, a.y1) for a in atoms] + [(r.y - 0.45 * size, r.y + 0.45 * size) for r in rules]
    spans.sort()
    bands: list[tuple[float, float]] = []
    for y0, y1 in spans:
        if bands and y0 <= bands[-1][1] + gap:
            bands[-1] = (bands[-1][0], max(bands[-1][1], y1))
        else:
            bands.append((y0, y1))
    out = []
    for y0, y1 in bands:
        band_atoms = [a for a in atoms if y0 <= a.cy <= y1]
        if band_atoms:
            out.append((band_atoms, [r for r in rules if y0 <= r.y <= y1]))
    return out


def _columns(atoms: list[Atom], gap: float) -> list[list[Atom]]:
    cols: list[list[Atom]] = []
    right = None
    for a in sorted(atoms, key=lambda a: a.x0):
        if cols and right is not None and a.x0 - right <= gap:
            cols[-1].append(a)
            right = max(right, a.x1)
        else:
            cols.append([a])
            right = a.x1
    return cols


def _closing_delimiter(pool: list[Atom], left: Atom) -> Atom | None:
    """The nearest delimiter right of the tall opening delimiter ``left`` that is as tall and
    centred with it: the other side of a matrix."""
    height = left.y1 - left.y0
    closes = [
        a
        for a in pool
        if a.kind in {"close", "delim"}
        and a.x0 > left.x1
        and abs(a.cy - left.cy) < 0.2 * height
        and abs((a.y1 - a.y0) - height) < 0.3 * height
    ]
    return min(closes, key=lambda a: a.x0) if closes else None


def _delimited(
    pool: list[Atom], rules: list[Rule], left: Atom, right: Atom | None
) -> tuple[list[Atom], list[Rule]]:
    """The atoms and rules between the delimiters ``left`` and ``right`` (right of ``left``
    when there is no ``right``), within the height of ``left``."""
    limit = right.x0 if right is not None else float("inf")
    inner = [
        a
        for a in pool
        if a is not left
        and a is not right
        and left.x1 - 0.5 <= a.x0
        and a.x1 <= limit + 0.5
        and left.y0 - 1 <= a.cy <= left.y1 + 1
    ]
    inner_rules = [
        r for r in rules if left.x1 <= r.x0 and r.x1 <= limit and left.y0 <= r.y <= left.y1
    ]
    return inner, inner_rules


def _array_rows(built: list[Atom]) -> tuple[list[list[Atom]], float] | None:
    """Built atoms of an array's body in rows, one per axis of full-size atoms (a row's
    fractions and roots are already single atoms), and that full size; None for one row."""
    size = max(a.size for a in built)
    axes: list[float] = []
    for a in sorted((a for a in built if a.size >= 0.85 * size), key=lambda a: a.axis):
        if not axes or a.axis - axes[-1] > 0.6 * size:
            axes.append(a.axis)
    if len(axes) < 2:
        return None
    rows: list[list[Atom]] = [[] for _ in axes]
    for a in built:
        rows[min(range(len(axes)), key=lambda k: abs(axes[k] - a.axis))].append(a)
    return rows, size


def _array_body(rows: list[list[Atom]], size: float) -> str:
    """Rows of atoms as an array body: columns joined with ``&``, rows with ``\\\\``."""
    lines = [
        " & ".join(layout(col)[0] for col in _columns(row_atoms, 0.8 * size))
        for row_atoms in rows
        if row_atoms
    ]
    return " \\\\ ".join(lines)


def _arrays(pool: list[Atom], rules: list[Rule]) -> tuple[list[Atom], list[Rule]]:
    """``cases`` (a tall ``{`` with rows of content right of it) and matrices (a pair of tall
    delimiters with rows of content between them) as ``\\begin{…}…\\end{…}`` atoms."""
    for left in sorted((a for a in pool if a.kind == "open"), key=lambda a: a.x0):
        if left not in pool or left.y1 - left.y0 < 1.8 * left.size:
            continue
        right = _closing_delimiter(pool, left)
        inner, inner_rules = _delimited(pool, rules, left, right)
        if not inner or (right is None and left.latex != "\\{"):
            continue
        # rows are the baselines of full-size atoms once fractions and roots are built
        found = _array_rows(build(inner, inner_rules))
        if found is None:
            continue
        rows, size = found
        env = "cases" if right is None else _ARRAYS.get(left.latex, "matrix")
        group = [left, *inner, *([right] if right is not None else [])]
        atom = Atom(
            f"\\begin{{{env}}} {_array_body(rows, size)} \\end{{{env}}}",
            min(a.x0 for a in group),
            min(a.y0 for a in group),
            max(a.x1 for a in group),
            max(a.y1 for a in group),
            left.cy,
            size,
            "frac",
        )
        pool = [a for a in pool if a not in group] + [atom]
        rules = [r for r in rules if r not in inner_rules]
    return pool, rules


def _accents(pool: list[Atom]) -> list[Atom]:
    """An accent glyph over the atom(s) below it: ``\\hat{y}``."""
    for acc in [a for a in pool if a.kind == "accent"]:
        below = [
            a
            for a in pool
            if a.kind != "accent"
            and a.x0 - 1 <= acc.cx <= a.x1 + 1
            and a.y0 >= acc.y1 - 0.35 * a.size
            and a.y0 - acc.y1 <= 0.5 * a.size
        ]
        if (acc.x1 - acc.x0) > 1.5 * acc.size:  # a wide accent covers several atoms
            below = [
                a
                for a in pool
                if a.kind != "accent"
                and acc.x0 - 1 <= a.cx <= acc.x1 + 1
                and 0 <= a.y0 - acc.y1 + 0.35 * a.size <= a.size
            ]
        if not below:
            continue
        base = (
            min(below, key=lambda a: a.y0 - acc.y1)
            if len(below) > 1 and acc.x1 - acc.x0 <= 1.5 * acc.size
            else None
        )
        parts = [base] if base is not None else below
        body = layout(parts)[0]
        first = parts[0]
        atom = Atom(
            f"{acc.latex}{{{body}}}",
            min(a.x0 for a in [acc, *parts]),
            acc.y0,
            max(a.x1 for a in [acc, *parts]),
            max(a.y1 for a in parts),
            first.axis,
            first.size,
            "char",
        )
        pool = [a for a in pool if a is not acc and a not in parts] + [atom]
    return pool


def _word_limits(pool: list[Atom]) -> list[Atom]:
    """``\\max``, ``\\min``, ``\\lim``… with limits printed under them become operator atoms, so
    that ``_operator_limits`` folds the limits in."""
    letters = sorted((a for a in pool if a.kind == "upright"), key=lambda a: a.x0)
    words: list[list[Atom]] = []
    for a in letters:
        w = words[-1] if words else None
        if w and a.x0 - w[-1].x1 < 0.2 * a.size and abs(a.axis - w[-1].axis) < 0.1 * a.size:
            w.append(a)
        else:
            words.append([a])
    for w in words:
        text = "".join(a.latex for a in w)
        if text not in _LIMIT_WORDS:
            continue
        x0, x1 = w[0].x0, w[-1].x1
        y1 = max(a.y1 for a in w)
        size = w[0].size
        if not any(
            a.kind != "upright" and a.x1 > x0 and a.x0 < x1 and y1 - 0.3 <= a.y0 <= y1 + 0.8 * size
            for a in pool
        ):
            continue
        latex = f"\\arg\\{text[3:]}" if text.startswith("arg") else f"\\{text}"
        op = Atom(latex, x0, min(a.y0 for a in w), x1, y1, w[0].axis, size, "op")
        pool = [a for a in pool if a not in w] + [op]
    return pool


def _operator_limits(pool: list[Atom]) -> list[Atom]:
    """``\\sum`` (and other big operators, and ``\\lim``-like words) with limits above and
    below, as printed in display style, folded into one atom."""
    for op in sorted((a for a in pool if a.kind == "op"), key=lambda a: -a.size):
        if op not in pool:
            continue
        others = [a for a in pool if a is not op and a.kind != "op"]
        ops = [a for a in pool if a.kind == "op"]

        def limit(
            below: bool, op: Atom = op, others: list[Atom] = others, ops: list[Atom] = ops
        ) -> list[Atom]:
            if below:
                near = [a for a in others if a.y0 >= op.y1 - 1.0 and a.y0 <= op.y1 + 0.6 * op.size]
            else:
                near = [a for a in others if a.y1 <= op.y0 + 1.0 and a.y1 >= op.y0 - 0.6 * op.size]
            seeds = [a for a in near if a.x1 > op.x0 - 1 and a.x0 < op.x1 + 1]
            if not seeds:
                return []
            band0, band1 = min(a.y0 for a in seeds), max(a.y1 for a in seeds)
            row = [
                a
                for a in near
                if band0 - 1 <= a.cy <= band1 + 1 and min(ops, key=lambda o: abs(o.cx - a.cx)) is op
            ]
            chosen = list(seeds)
            grown = True
            while grown:
                grown = False
                lo, hi = min(a.x0 for a in chosen), max(a.x1 for a in chosen)
                for a in row:
                    if a not in chosen and (
                        lo - 0.5 * a.size <= a.x1 and a.x0 <= hi + 0.5 * a.size
                    ):
                        chosen.append(a)
                        grown = True
            return chosen

        lower, upper = limit(True), limit(False)
        if not lower and not upper:
            continue
        text = op.latex
        if lower:
            text += _script("_", layout(build(lower, []))[0])
        if upper:
            text += _script("^", layout(build(upper, []))[0])
        group = [op, *lower, *upper]
        atom = Atom(
            text,
            min(a.x0 for a in group),
            min(a.y0 for a in group),
            max(a.x1 for a in group),
            max(a.y1 for a in group),
            op.axis,
            op.size,
            "op",
        )
        atom.parts = [op]
        pool = [a for a in pool if a not in group] + [atom]
    return pool


# ---------------------------------------------------------------------------- linear layout


def _script(mark: str, body: str) -> str:
    if not body:
        return ""
    if len(_tokens(body)) == 1:
        return f"{mark}{body}" if not body.startswith("\\") else f"{mark}{{{body}}}"
    return f"{mark}{{{body}}}"


def _tokens(latex: str) -> list[str]:
    return re.findall(r"\\[A-Za-z]+(?:\{[^{}]*\})?|\\.|\S", latex)


def _base(atoms: list[Atom]) -> tuple[float, float]:
    """(axis, size) of the main baseline of a set of atoms."""
    regular = [a for a in atoms if a.kind not in _BIG] or atoms
    top = max(a.size for a in regular)
    main = [a for a in regular if a.size >= 0.9 * top]
    return statistics.median(a.axis for a in main), top


def _on_base(a: Atom, axis: float, size: float) -> bool:
    if a.kind in {"frac", "sqrt"} and abs(a.axis - axis) <= 0.3 * size:
        return True
    if a.kind in _BIG and a.y0 - 1.0 <= axis <= a.y1 + 1.0 and a.size >= 0.8 * size:
        return True
    return a.size >= 0.8 * size and abs(a.axis - axis) <= 0.22 * size


@dataclass
class _Item:
    atoms: list[Atom]
    sub: str = ""
    sup: str = ""


def layout(atoms: list[Atom]) -> tuple[str, float, float]:
    """LaTeX of atoms on one line (with their scripts), its axis and its size."""
    if not atoms:
        return "", 0.0, 0.0
    atoms = sorted(atoms, key=lambda a: (a.x0, a.y0))
    axis, size = _base(atoms)
    items: list[_Item] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        if _on_base(a, axis, size):
            items.append(_Item([a]))
            i += 1
            continue
        run = []
        while i < len(atoms) and not _on_base(atoms[i], axis, size):
            run.append(atoms[i])
            i += 1
        sup = [x for x in run if x.axis < axis - 0.05 * size]
        sub = [x for x in run if x not in sup]
        target = items[-1] if items else _Item([])
        if not items:
            items.append(target)
        if sub:
            target.sub += layout(sub)[0]
        if sup:
            target.sup += layout(sup)[0]
    return _render(items, size), axis, size


def _dots(items: list[_Item]) -> list[_Item]:
    """Three printed dots in a row are ``\\dots``."""
    out: list[_Item] = []
    for it in items:
        out.append(it)
        tail = out[-3:]
        if (
            len(tail) == 3
            and all(len(t.atoms) == 1 and not t.sub and not t.sup for t in tail)
            and len({t.atoms[0].latex for t in tail}) == 1
            and tail[0].atoms[0].latex in {".", "\\cdot"}
        ):
            a, c = tail[0].atoms[0], tail[2].atoms[0]
            dots = Atom("\\dots", a.x0, a.y0, c.x1, c.y1, a.axis, a.size, "char")
            del out[-3:]
            out.append(_Item([dots]))
    return out


def _render(items: list[_Item], size: float) -> str:
    items = _dots(items)
    pieces: list[str] = []
    k = 0
    while k < len(items):
        it = items[k]
        # a run of adjacent upright letters is a word (\mathrm{softmax}, \log)
        if it.atoms and it.atoms[0].kind == "upright":
            word = [it]
            while (
                not word[-1].sub
                and not word[-1].sup
                and k + len(word) < len(items)
                and items[k + len(word)].atoms
                and items[k + len(word)].atoms[0].kind == "upright"
                and items[k + len(word)].atoms[0].x0 - word[-1].atoms[0].x1 < 0.45 * size
            ):
                word.append(items[k + len(word)])
            text = word[0].atoms[0].latex
            for prev, w in itertools.pairwise(word):
                gap = w.atoms[0].x0 - prev.atoms[0].x1
                text += (" " if gap >= 0.2 * size else "") + w.atoms[0].latex
            pieces.append(_word_latex(text) + _scripts(word[-1]))
            k += len(word)
            continue
        base = "".join(a.latex for a in it.atoms) or "{}"
        pieces.append(base + _scripts(it))
        k += 1
    return join_latex(pieces)


def _word_latex(text: str) -> str:
    """Upright words: an operator name (``\\log``, ``\\arg\\max``), a name (``\\mathrm{softmax}``)
    or words of text (``\\text{if the data}``)."""
    words = text.split()
    if all(w in _STANDARD_FUNCTIONS for w in words):
        return "".join(f"\\{w}" for w in words)
    if len(words) > 1:
        return f"\\text{{{text}}}"
    return f"\\mathrm{{{text}}}"


def _scripts(it: _Item) -> str:
    out = ""
    if it.sub:
        out += _script("_", it.sub)
    if it.sup:
        primes = it.sup.replace(" ", "")
        out += primes if set(primes) == {"'"} else _script("^", it.sup)
    return out


def join_latex(pieces: list[str]) -> str:
    """Concatenate LaTeX pieces: a space after a command word before a letter, spaces around
    relations, none elsewhere."""
    out = ""
    for p in pieces:
        if not p:
            continue
        if p in _RELATIONS:
            out = out.rstrip() + f" {p} "
            continue
        if re.search(r"\\[A-Za-z]+$|[_^][A-Za-z0-9]$", out) and re.match(r"[A-Za-z0-9\\]", p):
            out += " "
        out += p
    return out.strip()


# ---------------------------------------------------------------------------- entry point


def _split_lines(atoms: list[Atom], rules: list[Rule]) -> list[tuple[list[Atom], list[Rule]]]:
    """Lines of a multi-line display (``align``): bands separated by empty height that no atom
    and no rule crosses; a band of small glyphs only (the limits of an operator) stays with
    the line next to it."""
    if not atoms:
        return []
    size = max(a.size for a in atoms)
    bands = _row_groups(atoms, rules, 0.45 * size)
    merged: list[tuple[list[Atom], list[Rule]]] = []
    for band in bands:
        small = all(a.size < 0.85 * size for a in band[0])
        if merged and (small or all(a.size < 0.85 * size for a in merged[-1][0])):
            merged[-1] = (merged[-1][0] + band[0], merged[-1][1] + band[1])
        else:
            merged.append(band)
    return merged


def glyphs_to_latex(glyphs: Iterable[Glyph], rules: Iterable[Rule] = ()) -> str:
    """A display formula's LaTeX from its glyphs and the rules drawn inside it; lines of a
    multi-line display are joined with ``\\\\``."""
    atoms = [a for g in glyphs if (a := glyph_atom(g)) is not None]
    lines = _split_lines(atoms, list(rules))
    return " \\\\ ".join(layout(build(a, r))[0] for a, r in lines).strip()
