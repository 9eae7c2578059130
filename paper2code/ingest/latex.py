"""LaTeX reader: finds the main file, follows ``\\input``/``\\include`` inside the paper's
folder, and turns the document into blocks: sections with computed numbers (letters after
``\\appendix``), display math, tabular → Markdown, captions, ``thebibliography`` (or the
``.bbl`` next to the main file) → references."""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

from paper2code.errors import PaperError
from paper2code.ingest.assemble import parse_authors
from paper2code.ingest.blocks import Block, Draft
from paper2code.ingest.latex_text import (
    REF_PATTERN,
    clean_equation,
    latex_to_text,
    read_args,
    read_group,
    strip_comments,
    tabular_to_markdown,
)
from paper2code.ingest.source import read_text

log = logging.getLogger(__name__)

_MAIN_NAMES = ("main", "ms", "paper", "article", "manuscript", "root")
_INPUT = re.compile(r"\\(input|include|subfile)\s*\{([^}]*)\}")
_MAX_DEPTH = 20
_SECTION_LEVEL = {"chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3}
_TOKEN = re.compile(
    r"\\(?P<sec>chapter|section|subsection|subsubsection|paragraph)(?P<star>\*?)"
    r"\s*(?:\[[^\]]*\]\s*)?(?=\{)"
    r"|\\(?P<appendix>appendix)(?![A-Za-z])"
    r"|\\begin\s*\{(?P<env>[^}]+)\}"
    r"|(?P<bracket>\\\[)"
    r"|(?P<dollars>\$\$)"
)
_MATH_ENVS = {
    "equation",
    "align",
    "gather",
    "multline",
    "eqnarray",
    "flalign",
    "alignat",
    "displaymath",
    "math",
    "dmath",
}
_FLOATS = {"figure", "table", "wrapfigure", "wraptable", "sidewaysfigure", "sidewaystable"}
_TABULARS = {"tabular": 1, "tabular*": 2, "tabularx": 2, "tabulary": 2, "longtable": 1}
_LISTS = {"itemize", "enumerate", "description"}
_CODE = {"verbatim", "verbatim*", "lstlisting", "minted", "Verbatim", "algorithmic", "algorithmic*"}
_SKIP = {"comment", "abstract", "titlepage", "tikzpicture", "picture"}
_THEOREMS = {
    "theorem",
    "lemma",
    "proposition",
    "corollary",
    "definition",
    "proof",
    "remark",
    "assumption",
    "example",
    "claim",
}


# ------------------------------------------------------------------------------ files


def find_main_tex(folder: Path) -> Path:
    """The main ``.tex`` file of a paper folder: the one with ``\\documentclass`` and
    ``\\begin{document}`` (a file with only the first is a fallback), preferring conventional
    names (``main``, ``ms``, ``paper``…), then the shallowest."""
    texts = {p: strip_comments(read_text(p)) for p in sorted(folder.rglob("*.tex"))}
    candidates = [p for p, t in texts.items() if "\\documentclass" in t]
    if not candidates:
        raise PaperError(
            f"{folder}: no .tex file with \\documentclass in this folder; "
            "give the main .tex file or the folder of a LaTeX paper"
        )
    complete = [p for p in candidates if re.search(r"\\begin\s*\{document\}", texts[p])]
    candidates = complete or candidates
    named = [p for p in candidates if p.stem.lower() in _MAIN_NAMES]
    return (named or sorted(candidates, key=lambda p: (len(p.parts), p.name)))[0]


def _resolve_include(name: str, root: Path, including: Path) -> Path | None:
    name = name.strip()
    target = (root / name).resolve()
    if not target.is_relative_to(root.resolve()):
        raise PaperError(
            f"{including}: \\input{{{name}}} points outside the paper's folder {root}; "
            "refusing to read it (copy the file into the folder)"
        )
    for cand in (target, target.with_name(target.name + ".tex")):
        if cand.is_file():
            return cand
    return None


def expand_inputs(path: Path, root: Path, stack: tuple[Path, ...] = ()) -> str:
    """The text of ``path`` with comments stripped and ``\\input``/``\\include`` files spliced
    in (paths relative to ``root``, as LaTeX resolves them). Missing files are skipped with a
    warning; a path leaving ``root`` is refused."""
    if len(stack) > _MAX_DEPTH:
        raise PaperError(f"{path}: \\input nesting deeper than {_MAX_DEPTH}; is there a cycle?")
    text = strip_comments(read_text(path))

    def splice(m: re.Match[str]) -> str:
        target = _resolve_include(m.group(2), root, path)
        if target is None:
            log.warning("%s: \\%s{%s} not found; skipped", path.name, m.group(1), m.group(2))
            return ""
        if target in stack or target == path:
            log.warning("%s: \\%s{%s} includes itself; skipped", path.name, *m.groups())
            return ""
        return "\n" + expand_inputs(target, root, (*stack, path)) + "\n"

    return _INPUT.sub(splice, text)


# ------------------------------------------------------------------------------ front matter


def _command_args(text: str, name: str) -> list[str]:
    out = []
    for m in re.finditer(r"\\" + name + r"(?![A-Za-z])", text):
        args, _ = read_args(text, m.end(), 1)
        out.append(args[0])
    return out


def _title(text: str) -> str | None:
    found = _command_args(text, "title")
    if not found:
        return None
    return latex_to_text(re.sub(r"\\\\", " ", found[0])) or None


def _authors(text: str) -> list[str]:
    lines: list[str] = []
    for arg in _command_args(text, "author") + _command_args(text, "IEEEauthorblockN"):
        arg = re.sub(r"\\(thanks|footnote|inst|textsuperscript|footnotemark)\b", r"\\drop", arg)
        for piece in re.split(r"\\(?:and|AND|And)(?![A-Za-z])", arg):
            first = re.split(r"\\\\|\\IEEEauthorblockA", piece)[0]
            first = re.sub(r"\\drop\s*(\[[^\]]*\])?(\{(?:[^{}]|\{[^{}]*\})*\})?", "", first)
            lines.append(latex_to_text(first))
    return parse_authors(lines)


def _environment(text: str, name: str) -> tuple[str, int, int] | None:
    """(content, start, end) of the first ``name`` environment in ``text``."""
    m = re.search(r"\\begin\s*\{" + re.escape(name) + r"\}", text)
    if not m:
        return None
    content, end = _env_body(text, name, m.end())
    return content, m.start(), end


def _env_body(text: str, name: str, start: int) -> tuple[str, int]:
    """Content of an environment whose ``\\begin`` ends at ``start`` (nesting aware)."""
    pattern = re.compile(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}")
    depth = 1
    for m in pattern.finditer(text, start):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return text[start : m.start()], m.end()
    return text[start:], len(text)


# ------------------------------------------------------------------------------ body


class _Converter:
    """Walks a LaTeX body and emits blocks; keeps the counters LaTeX would."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.references: list[str] = []
        self.sections = [0, 0, 0]
        self.appendix = False
        self.counters = {"figure": 0, "table": 0, "equation": 0}
        self.labels: dict[str, str] = {}
        self.current = ""

    # labels ------------------------------------------------------------------
    def _labels(self, s: str, value: str) -> None:
        for label in _command_args(s, "label"):
            self.labels.setdefault(label.strip(), value)

    # text --------------------------------------------------------------------
    def text(self, s: str) -> None:
        self._labels(s, self.current)
        for para in re.split(r"\n\s*\n|\\par(?![A-Za-z])", s):
            t = latex_to_text(para)
            if t:
                self.blocks.append(Block("text", t))

    def heading(self, kind: str, starred: bool, title: str) -> None:
        text = latex_to_text(title)
        if kind == "paragraph":
            self.blocks.append(Block("text", f"**{text}**"))
            return
        level = _SECTION_LEVEL[kind]
        number = None
        if not starred:
            self.sections[level - 1] += 1
            for i in range(level, 3):
                self.sections[i] = 0
            first = self.sections[0]
            head = chr(ord("A") + first - 1) if self.appendix else str(first)
            number = ".".join([head, *map(str, self.sections[1:level])])
            self.current = number
        self.blocks.append(Block("heading", text, level=level, number=number, numbered=True))

    def start_appendix(self) -> None:
        self.appendix = True
        self.sections = [0, 0, 0]
        self.blocks.append(Block("appendix"))

    def equation(self, body: str, numbered: bool, multiline: bool = False) -> None:
        number = None
        tag = _command_args(body, "tag") or _command_args(body, "tag*")
        if tag:
            number = latex_to_text(tag[0])
            self._labels(body, f"({number})")
        elif numbered:
            lines = re.split(r"\\\\(?:\[[^\]]*\])?", body) if multiline else [body]
            numbers = []
            for line in lines:
                if line.strip() and not re.search(r"\\(nonumber|notag)\b", line):
                    self.counters["equation"] += 1
                    numbers.append(str(self.counters["equation"]))
                    self._labels(line, f"({numbers[-1]})")
            if numbers:
                number = numbers[0] if len(numbers) == 1 else f"{numbers[0]}–{numbers[-1]}"
        eq = clean_equation(re.sub(r"\\tag\*?\s*\{[^{}]*\}", "", body))
        if eq:
            self.blocks.append(Block("equation", eq, number=number))

    def float_(self, env: str, body: str) -> None:
        kind = "table" if "table" in env else "figure"
        for m in re.finditer(r"\\begin\s*\{(tabular\*?|tabularx|tabulary)\}", body):
            self.tabular(m.group(1), _env_body(body, m.group(1), m.end())[0])
        for m in re.finditer(r"\\caption(?![A-Za-z])", body):
            args, _ = read_args(body, m.end(), 1)
            self.counters[kind] += 1
            n = self.counters[kind]
            self._labels(body, str(n))
            label = "Table" if kind == "table" else "Figure"
            self.blocks.append(Block("caption", f"{label} {n}: {latex_to_text(args[0])}"))
        for m in re.finditer(r"\\begin\s*\{(algorithmic\*?)\}", body):
            content, _ = _env_body(body, m.group(1), m.end())
            self.blocks.append(Block("code", content.strip("\n")))

    def tabular(self, env: str, body: str) -> None:
        _, start = read_args(body, 0, _TABULARS.get(env, 1))
        table = tabular_to_markdown(body[start:])
        if table:
            self.blocks.append(Block("table", table))

    def bibliography(self, body: str) -> None:
        _, start = read_args(body, 0, 1)  # {widest label}
        items = re.split(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{[^}]*\}", body[start:])
        for item in items[1:]:
            entry = latex_to_text(re.sub(r"\\newblock\b", " ", item))
            if entry:
                self.references.append(entry)

    # walk --------------------------------------------------------------------
    def convert(self, s: str) -> None:
        pos = 0
        while (m := _TOKEN.search(s, pos)) is not None:
            self.text(s[pos : m.start()])
            pos = self._token(s, m)
        self.text(s[pos:])

    def _token(self, s: str, m: re.Match[str]) -> int:
        if m.group("sec"):
            title, end = read_group(s, m.end())
            self.heading(m.group("sec"), bool(m.group("star")), title)
            return end
        if m.group("appendix"):
            self.start_appendix()
            return m.end()
        if m.group("bracket"):
            end = s.find("\\]", m.end())
            end = len(s) if end < 0 else end
            self.equation(s[m.end() : end], numbered=False)
            return end + 2
        if m.group("dollars"):
            end = s.find("$$", m.end())
            end = len(s) if end < 0 else end
            self.equation(s[m.end() : end], numbered=False)
            return end + 2
        env = m.group("env").strip()
        body, end = _env_body(s, env, m.end())
        self.environment(env, body)
        return end

    def environment(self, env: str, body: str) -> None:
        base = env.rstrip("*")
        if base in _MATH_ENVS:
            numbered = not env.endswith("*") and base not in {"displaymath", "math"}
            multiline = base in {"align", "gather", "eqnarray", "flalign", "alignat", "multline"}
            self.equation(body, numbered=numbered, multiline=multiline and base != "multline")
        elif base in _FLOATS:
            self.float_(base, body)
        elif env in _TABULARS:
            self.tabular(env, body)
        elif env == "thebibliography":
            self.bibliography(body)
        elif env in _CODE:
            if env.startswith("minted"):
                _, start = read_args(body, 0, 1)
                body = body[start:]
            self.blocks.append(Block("code", body.strip("\n")))
        elif base in _SKIP:
            return
        elif base in _LISTS:
            items = re.split(r"\\item(?![A-Za-z])\s*(?:\[([^\]]*)\])?", body)
            self.text(items[0])
            for label, item in zip(items[1::2], items[2::2], strict=False):
                lead = f"**{latex_to_text(label)}** " if label else ""
                before = len(self.blocks)
                self.convert(item)
                if len(self.blocks) > before and self.blocks[before].kind == "text":
                    self.blocks[before].text = f"- {lead}{self.blocks[before].text}"
        elif base in _THEOREMS:
            before = len(self.blocks)
            self.convert(body)
            name = base.capitalize()
            if len(self.blocks) > before and self.blocks[before].kind == "text":
                self.blocks[before].text = f"**{name}.** {self.blocks[before].text}"
        else:  # center, minipage, document, unknown: their content
            self.convert(body)

    def resolve_refs(self) -> None:
        def sub(m: re.Match[str]) -> str:
            return self.labels.get(m.group(1), m.group(1))

        for b in self.blocks:
            b.text = unicodedata.normalize("NFC", REF_PATTERN.sub(sub, b.text))
        self.references = [unicodedata.normalize("NFC", r) for r in self.references]


def _bbl_references(main: Path) -> list[str]:
    """References from the BibTeX output next to the main file (arXiv sources ship it)."""
    bbl = main.with_suffix(".bbl")
    if not bbl.is_file():
        found = sorted(main.parent.glob("*.bbl"))
        if len(found) != 1:
            return []
        bbl = found[0]
    env = _environment(strip_comments(read_text(bbl)), "thebibliography")
    if env is None:
        return []
    conv = _Converter()
    conv.bibliography(env[0])
    return conv.references


def read_latex(path: Path) -> Draft:
    """Read a ``.tex`` file (or the main ``.tex`` of a folder) into a draft."""
    main = find_main_tex(path) if path.is_dir() else path
    root = path if path.is_dir() else path.parent
    text = expand_inputs(main, root)
    begin = re.search(r"\\begin\s*\{document\}", text)
    preamble, body = (text[: begin.start()], text[begin.end() :]) if begin else ("", text)
    end = re.search(r"\\end\s*\{document\}", body)
    body = body[: end.start()] if end else body
    abstract_env = _environment(body, "abstract")
    abstract = None
    if abstract_env is not None:
        abstract = latex_to_text(abstract_env[0])
        body = body[: abstract_env[1]] + body[abstract_env[2] :]
    conv = _Converter()
    conv.convert(body)
    conv.resolve_refs()
    references = conv.references or (_bbl_references(main) if "\\bibliography" in text else [])
    return Draft(
        blocks=conv.blocks,
        title=_title(preamble + body) or "",
        authors=_authors(preamble + body),
        abstract=abstract or "",
        references=references,
    )
