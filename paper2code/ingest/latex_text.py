"""LaTeX source text → readable Markdown text: comments, groups, inline markup, special
characters, tabular → Markdown table. Pure functions; structure (sections, environments)
is ``latex.py``'s job."""

from __future__ import annotations

import re
import unicodedata

REF_MARK = "\x00ref:{}\x00"
"""Placeholder for ``\\ref{label}``; ``latex.py`` replaces it with the label's number."""
REF_PATTERN = re.compile("\x00ref:([^\x00]*)\x00")

_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%.*$", re.MULTILINE)
_INLINE_MATH = re.compile(r"(?<!\\)\$(?:\\.|[^$\\])+?(?<!\\)\$|\\\((?:.|\n)+?\\\)")
_DROP_WITH_ARGS = (
    "label",
    "vspace",
    "hspace",
    "includegraphics",
    "bibliographystyle",
    "bibliography",
    "thanks",
    "addbibresource",
    "setlength",
    "pagestyle",
    "thispagestyle",
    "newcommand",
    "renewcommand",
    "usepackage",
    "title",
    "author",
    "date",
    "affiliation",
    "email",
    "institute",
    "keywords",
    "IEEEauthorblockN",
    "IEEEauthorblockA",
)
_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303"}


def strip_comments(text: str) -> str:
    """Remove ``%`` comments (an escaped ``\\%`` stays)."""
    return _COMMENT.sub(r"\1", text)


def read_group(s: str, i: int, open_: str = "{", close: str = "}") -> tuple[str, int]:
    """The content of the group opening at ``s[i]`` and the index just after it closes.

    Escaped braces do not count. An unclosed group runs to the end of ``s``.
    """
    if i >= len(s) or s[i] != open_:
        return "", i
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
        j += 1
    return s[i + 1 :], len(s)


def skip_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n":
        i += 1
    return i


def read_args(s: str, i: int, required: int, optional: bool = True) -> tuple[list[str], int]:
    """Skip optional ``[...]`` arguments and read ``required`` braced ones from ``s[i:]``."""
    args: list[str] = []
    i = skip_space(s, i)
    while optional and i < len(s) and s[i] == "[":
        _, i = read_group(s, i, "[", "]")
        i = skip_space(s, i)
    for _ in range(required):
        i = skip_space(s, i)
        arg, i = read_group(s, i)
        args.append(arg)
    return args, i


def _replace_command(s: str, name: str, fn, nargs: int = 1) -> str:
    """Replace every ``\\name[..]{a}{b}`` in ``s`` by ``fn(args)``."""
    pattern = re.compile(r"\\" + re.escape(name) + r"\*?(?![A-Za-z])")
    out, pos = [], 0
    while (m := pattern.search(s, pos)) is not None:
        args, end = read_args(s, m.end(), nargs)
        out.append(s[pos : m.start()])
        out.append(fn(args))
        pos = end
    out.append(s[pos:])
    return "".join(out)


def _clean_math(math: str) -> str:
    math = _replace_command(math, "label", lambda a: "")
    return re.sub(r"\\(nonumber|notag)\b", "", math)


def _text_only(s: str) -> str:
    """Markup outside math: commands to Markdown or plain text."""
    for name in _DROP_WITH_ARGS:
        s = _replace_command(s, name, lambda a: "")
    s = _replace_command(s, "textbf", lambda a: f"**{a[0]}**")
    for name in ("emph", "textit", "textsl"):
        s = _replace_command(s, name, lambda a: f"*{a[0]}*")
    s = _replace_command(s, "texttt", lambda a: f"`{a[0]}`")
    s = _replace_command(s, "href", lambda a: a[1], nargs=2)
    s = _replace_command(s, "footnote", lambda a: f" ({a[0].strip()})")
    for name in ("cite", "citep", "citet", "citeauthor", "citeyear", "citealp", "parencite"):
        s = _replace_command(s, name, lambda a: f"[{a[0].replace(' ', '')}]")
    for name in ("ref", "eqref", "cref", "Cref", "autoref", "pageref"):
        s = _replace_command(s, name, lambda a: REF_MARK.format(a[0].split(",")[0].strip()))
    s = re.sub(r"\\([%&_#${}])", r"\1", s)
    s = re.sub(r"\\(?:ldots|dots)\b\s?", "…", s)
    s = re.sub(r"\\(?:LaTeX)\b", "LaTeX", s)
    s = re.sub(r"\\(?:TeX)\b", "TeX", s)
    s = re.sub(r"\\([`'\"^~])\{?([A-Za-z])\}?", lambda m: m.group(2) + _ACCENTS[m.group(1)], s)
    s = re.sub(r"\\\\(\[[^\]]*\])?|\\newline\b", " ", s)
    s = s.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    s = re.sub(r"(?<!\\)~", " ", s)
    s = re.sub(r"\\[A-Za-z]+\*?(?:\[[^\]]*\])?", "", s)  # unknown commands: keep their {args}
    s = re.sub(r"\\[,;:! ]", " ", s)
    s = re.sub(r"(?<!\\)[{}]", "", s)
    return s


def latex_to_text(s: str) -> str:
    """A paragraph (or caption, title, cell) of LaTeX as Markdown text; inline math is kept
    as ``$…$``; whitespace is collapsed."""
    out, pos = [], 0
    for m in _INLINE_MATH.finditer(s):
        out.append(_text_only(s[pos : m.start()]))
        math = m.group(0)
        if math.startswith("\\("):
            math = "$" + math[2:-2] + "$"
        out.append(_clean_math(math))
        pos = m.end()
    out.append(_text_only(s[pos:]))
    text = re.sub(r"\s+", " ", "".join(out)).strip()
    return unicodedata.normalize("NFC", text)


def clean_equation(s: str) -> str:
    """A display equation's LaTeX without labels and numbering switches."""
    lines = [re.sub(r"[ \t]{2,}", " ", ln).rstrip() for ln in _clean_math(s).strip().splitlines()]
    return "\n".join(ln for ln in lines if ln.strip())


def _split_unescaped(s: str, sep: str) -> list[str]:
    parts = re.split(r"(?<!\\)" + re.escape(sep), s)
    return parts


def tabular_to_markdown(body: str) -> str:
    """A ``tabular`` body (after its column spec) as a Markdown table; the first row is the
    header. Rules (``\\hline``, booktabs) are dropped, ``\\multicolumn`` spans keep their text
    and pad with empty cells."""
    body = re.sub(r"\\(hline|toprule|midrule|bottomrule|endhead|endfirsthead|endfoot)\b", "", body)
    body = re.sub(r"\\(cline|cmidrule)(\([^)]*\))?\{[^}]*\}", "", body)
    rows: list[list[str]] = []
    for raw in re.split(r"\\\\(?:\[[^\]]*\])?|\\tabularnewline\b", body):
        if not raw.strip():
            continue
        cells: list[str] = []
        for cell in _split_unescaped(raw, "&"):
            span = 1
            m = re.match(r"\s*\\multicolumn\s*\{(\d+)\}", cell)
            if m:
                args, _ = read_args(cell, cell.index("\\multicolumn") + len("\\multicolumn"), 3)
                span, cell = int(args[0] or 1), args[2]
            cell = _replace_command(cell, "multirow", lambda a: a[-1], nargs=3)
            text = latex_to_text(cell).replace("|", "\\|")
            cells += [text] + [""] * (span - 1)
        if any(c for c in cells):
            rows.append(cells)
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)
