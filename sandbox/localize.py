"""Program output → ranked suspects: where in the repository the failure most likely lives.

Reads what a failed run printed (stdout and stderr together) and finds:

- Python tracebacks, including chained ones ("During handling of the above exception…",
  "The above exception was the direct cause…"), exception groups, and truncated recursion;
- compile errors (``SyntaxError``, ``IndentationError``, ``TabError``), whose location is a
  ``File "…", line N`` header without a function name;
- pytest failure reports in the long, short and line ``--tb`` styles, collection errors included;
- shell errors (``reproduce.sh: line 3: python: command not found``) and argparse usage errors.

Paths are mapped back to repository-relative ones: the container's workspace (``/workspace/…``),
absolute paths under ``repo``, relative paths, and as a last resort the longest path suffix that
names a file of the repository. Frames outside the repository (stdlib, site-packages) are dropped;
the innermost repository frame of the exception that ended the program is ranked first.

The parsing functions are pure over strings; :func:`diagnose` reads the
repository only to map paths and cut excerpts. :func:`ruff_diagnostics` runs ruff.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_WORKDIRS",
    "Failure",
    "ParsedError",
    "RawFrame",
    "Suspect",
    "diagnose",
    "excerpt",
    "failure_signature",
    "is_serious",
    "map_path",
    "normalize_message",
    "parse_pytest",
    "parse_python_tracebacks",
    "ruff_diagnostics",
    "undefined_names",
]

DEFAULT_WORKDIRS: tuple[str, ...] = ("/workspace",)
"""Directories where sandboxes place the repository copy; their paths map to ``repo``."""

MAX_SUSPECTS = 8
EXCERPT_CONTEXT = 3

SERIOUS_LINT: tuple[str, ...] = ("E9", "F82", "F63", "F7")
"""Ruff code prefixes of diagnostics that stop a program (syntax errors, undefined names,
misplaced statements); a fixer sees these even when the traceback points elsewhere."""

# Ruff codes that are about style or dead code, not about a program that cannot run.
_LINT_NOISE = {"F401", "F403", "F405", "F541", "F811", "F841", "F842"}
_OUTSIDE_PARTS = {"site-packages", "dist-packages", ".venv", "venv", "__pycache__"}


class Suspect(BaseModel):
    """A place in the repository that likely causes the failure, most likely first."""

    model_config = ConfigDict(extra="forbid")

    file: str
    """Path relative to the repository root (POSIX separators)."""
    line: int
    """1-based line number."""
    function: str | None = None
    """Enclosing function (``<module>`` at top level); None for compile errors."""
    excerpt: str = ""
    """A few numbered lines around ``line``; the line itself is marked with ``>``."""
    kind: str
    """``syntax``, ``exception`` (innermost repository frame), ``frame`` (a caller),
    ``import`` (a module a failed import names), ``shell``, ``usage`` or ``lint``."""
    message: str = ""
    """What points here, e.g. ``KeyError: 'lr'`` or ``F821 Undefined name `np```."""


class Failure(BaseModel):
    """What went wrong, in one place: the error, its stable signature and the suspects."""

    model_config = ConfigDict(extra="forbid")

    error_type: str | None = None
    """Exception class name (``KeyError``, ``torch.OutOfMemoryError``), ``ShellError``,
    ``UsageError``; None when the output shows no recognizable error."""
    message: str = ""
    """First line of the error message (or the last output line when there is no error)."""
    signature: str = ""
    """Stable across reruns of the same failure; see :func:`failure_signature`."""
    source: str = "unknown"
    """Which parser found the error: ``python``, ``pytest``, ``shell``, ``usage``, ``unknown``."""
    suspects: list[Suspect] = []
    """Ranked places in the repository, most likely first."""
    missing_module: str | None = None
    """Top-level module of a ``ModuleNotFoundError`` (``yaml`` for ``No module named 'yaml'``)."""
    undefined_name: str | None = None
    """Name of a ``NameError`` (``np`` for ``name 'np' is not defined``)."""

    @property
    def error(self) -> str:
        """``Type: message`` as one line."""
        if self.error_type and self.message:
            return f"{self.error_type}: {self.message}"
        return self.error_type or self.message


# ----------------------------------------------------------------------------- pure parsing


@dataclass
class RawFrame:
    """One traceback entry as printed; ``path`` is not yet mapped to the repository."""

    path: str
    line: int
    function: str | None = None
    """None for a compile-error location (no ``, in name``)."""


@dataclass
class ParsedError:
    """One exception (or one pytest failure section) and its frames, outermost first."""

    error_type: str | None
    message: str
    frames: list[RawFrame] = field(default_factory=list)
    source: str = "python"


_TB_HEADER = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+?))?\s*$')
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::(?: (?P<msg>.*))?)?$")
_EG_SEPARATOR = re.compile(r"^\s*\+[-+]*-{3,}.*$")
_EG_PREFIX = re.compile(r"^(\s*)[+|] ?")


def _strip_exception_group(text: str) -> str:
    """Remove the ``|`` / ``+`` gutter Python draws around exception-group tracebacks."""
    out: list[str] = []
    for line in text.splitlines():
        if _EG_SEPARATOR.match(line):
            out.append("")
            continue
        m = _EG_PREFIX.match(line)
        out.append(line[m.end() :] if m else line)
    return "\n".join(out)


def parse_python_tracebacks(text: str) -> list[ParsedError]:
    """Every Python exception printed in ``text``, in print order (a chain's cause first, the
    exception that ended the program last). Frames of each are outermost first."""
    if "Exception Group Traceback" in text:
        text = _strip_exception_group(text)
    errors: list[ParsedError] = []
    frames: list[RawFrame] | None = None
    for line in text.splitlines():
        if _TB_HEADER.match(line):
            frames = []
            continue
        m = _FRAME.match(line)
        if m:
            if frames is None:
                frames = []
            frames.append(RawFrame(m["path"], int(m["line"]), m["func"]))
            continue
        if frames is None:
            continue
        if not line.strip() or line[0] in " \t":
            continue  # source line, caret line, "[Previous line repeated …]"
        e = _EXC_LINE.match(line.rstrip())
        if e and frames:
            errors.append(ParsedError(e["type"], (e["msg"] or "").strip(), frames))
        frames = None
    return errors


_PYTEST_MARKERS = re.compile(
    r"^(=+ (FAILURES|ERRORS) =+|=+ short test summary info =+|=+ test session starts =+)\s*$",
    re.M,
)
_PYTEST_HEADER = re.compile(r"^_{3,} (?P<title>.+?) _{3,}\s*$")
_PYTEST_RULE = re.compile(r"^=+.*=+\s*$")
_PYTEST_LOC = re.compile(r"^(?P<path>[^\s:<][^:]*?\.py):(?P<line>\d+):(?: (?P<rest>.*))?$")
_PYTEST_E = re.compile(r"^E(?: |$)")
_PYTEST_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (?P<node>\S+)(?: - (?P<msg>.*))?$")


def _error_from_text(line: str) -> tuple[str | None, str]:
    line = line.strip()
    if line.startswith("assert ") or line == "assert":
        return "AssertionError", line
    m = _EXC_LINE.match(line)
    if m and re.search(r"(Error|Exception|Exit|Interrupt|Iteration|Failed|Warning)$", m["type"]):
        return m["type"], (m["msg"] or "").strip()
    return None, line


def _pytest_sections(lines: list[str]) -> tuple[list[list[str]], list[str]]:
    """The failure sections of pytest output (``____ test ____`` headers, or bare ``--tb=line``
    locations under FAILURES), and the messages of its short test summary, in order."""
    sections: list[list[str]] = []
    current: list[str] | None = None
    in_summary = in_failures = False
    summaries: list[str] = []
    loose: list[list[str]] = []  # --tb=line: bare "path:N: Error: msg" lines under FAILURES
    for line in lines:
        if _PYTEST_HEADER.match(line):
            current = []
            sections.append(current)
            in_summary = False
        elif _PYTEST_RULE.match(line):
            current = None
            in_summary = "short test summary info" in line
            in_failures = " FAILURES " in line or " ERRORS " in line
        elif in_summary:
            m = _PYTEST_SUMMARY.match(line)
            if m:
                summaries.append(m["msg"] or "")
        elif current is not None:
            if line.startswith("---") and "Captured" in line:
                current = None  # captured output of the test, not the failure
            else:
                current.append(line)
        elif in_failures:
            m = _PYTEST_LOC.match(line)
            if m and m["rest"] and not m["rest"].startswith("in "):
                loose.append([line])
    return sections or loose, summaries


def _pytest_error(body: list[str], summary: str | None) -> ParsedError | None:
    """The error one failure section reports (``summary`` is its short-summary message)."""
    frames: list[RawFrame] = []
    e_lines: list[str] = []
    crash_type: str | None = None
    crash_msg = ""
    for line in body:
        loc = _PYTEST_LOC.match(line)
        if loc:
            rest = (loc["rest"] or "").strip()
            func = rest[3:].strip() if rest.startswith("in ") else ""
            frames.append(RawFrame(loc["path"], int(loc["line"]), func))
            if rest and not func:  # the crash entry: "train.py:7: ValueError[: msg]"
                crash_type, crash_msg = _error_from_text(rest)
        elif _PYTEST_E.match(line):
            e_lines.append(line[1:])
    nested = parse_python_tracebacks(textwrap.dedent("\n".join(e_lines))) if e_lines else []
    if nested:  # e.g. a SyntaxError while collecting: its location is inside the E block
        inner = nested[-1]
        return ParsedError(inner.error_type, inner.message, frames + inner.frames, "pytest")
    error_type, message = None, ""
    for raw in e_lines:
        error_type, message = _error_from_text(raw)
        if error_type:
            break
    if crash_type and crash_type != error_type:
        error_type, message = crash_type, crash_msg or message
    if not error_type and summary is not None:
        error_type, message = _error_from_text(summary)
    if not message and e_lines:
        message = e_lines[0].strip()
    return ParsedError(error_type, message, frames, "pytest") if frames or error_type else None


def parse_pytest(text: str) -> list[ParsedError]:
    """pytest failure and error sections in print order; empty when ``text`` is not pytest
    output. Works for ``--tb=long|short|line``; ``--tb=native`` is a Python traceback."""
    if not _PYTEST_MARKERS.search(text):
        return []
    sections, summaries = _pytest_sections(text.splitlines())
    errors = [
        _pytest_error(body, summaries[i] if i < len(summaries) else None)
        for i, body in enumerate(sections)
    ]
    return [e for e in errors if e is not None]


_SHELL = re.compile(r"^(?P<path>[^\s:]+): line (?P<line>\d+): (?P<msg>.+)$", re.M)
_USAGE = re.compile(r"^(?P<prog>[\w./-]+\.py): error: (?P<msg>.+)$", re.M)


# ----------------------------------------------------------------------------- repository mapping


def _is_outside(path: str) -> bool:
    parts = PurePosixPath(path).parts
    if any(p in _OUTSIDE_PARTS for p in parts):
        return True
    if path.startswith("<"):
        return True  # <frozen runpy>, <string>, <stdin>
    return bool(re.search(r"/lib/python\d", path) or re.search(r"/lib/pypy", path))


def map_path(raw: str, repo: Path, workdirs: tuple[str, ...] = DEFAULT_WORKDIRS) -> str | None:
    """The repository-relative POSIX path a printed path refers to, or None when it is outside
    the repository (stdlib, site-packages, a file that does not exist in ``repo``)."""
    raw = raw.strip().replace("\\", "/")
    if not raw or _is_outside(raw):
        return None
    root = Path(repo).resolve()
    candidates: list[str] = []
    for wd in workdirs:
        wd = wd.rstrip("/")
        if raw.startswith(wd + "/"):
            candidates.append(raw[len(wd) + 1 :])
    p = PurePosixPath(raw)
    if p.is_absolute():
        with contextlib.suppress(ValueError, OSError):
            candidates.append(Path(raw).resolve().relative_to(root).as_posix())
        parts = p.parts[1:]
        candidates.extend(PurePosixPath(*parts[i:]).as_posix() for i in range(len(parts)))
    else:
        candidates.append(p.as_posix().removeprefix("./"))
    for rel in candidates:
        if not rel or ".." in PurePosixPath(rel).parts:
            continue
        target = root / rel
        try:
            if target.is_file() and target.resolve().is_relative_to(root):
                return PurePosixPath(rel).as_posix()
        except OSError:
            continue
    return None


def _read_lines(repo: Path, rel: str) -> list[str]:
    try:
        return (Path(repo) / rel).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def excerpt(lines: list[str], line: int, context: int = EXCERPT_CONTEXT) -> str:
    """Numbered lines around ``line`` (1-based), the line itself marked with ``>``."""
    if not lines:
        return ""
    line = min(max(line, 1), len(lines))
    lo, hi = max(1, line - context), min(len(lines), line + context)
    width = len(str(hi))
    return "\n".join(
        f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}" for n in range(lo, hi + 1)
    )


def _enclosing_function(lines: list[str], line: int) -> str:
    """Name of the innermost ``def`` enclosing ``line`` (1-based), else ``<module>``."""
    if not lines or line < 1:
        return "<module>"
    target = lines[min(line, len(lines)) - 1]
    indent = len(target) - len(target.lstrip())
    for n in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[n]
        stripped = text.lstrip()
        if not stripped:
            continue
        level = len(text) - len(stripped)
        m = re.match(r"(?:async\s+)?def\s+(\w+)", stripped)
        if m and (level < indent or n == line - 1):
            return m[1]
        if level < indent:
            indent = level
    return "<module>"


# ----------------------------------------------------------------------------- signature


def normalize_message(message: str) -> str:
    """The message with what changes between runs removed: addresses, numbers, temp paths."""
    msg = message.strip().splitlines()[0] if message.strip() else ""
    msg = re.sub(r"0x[0-9a-fA-F]+", "<addr>", msg)
    msg = re.sub(r"(/[\w.-]+)+/([\w.-]+)", r"\2", msg)  # /tmp/abc/workspace/x.py -> x.py
    msg = re.sub(r"\d+(?:x\d+)+", "N", msg)  # shapes: 32x784
    msg = re.sub(r"(?<![A-Za-z_])\d+(\.\d+)?(e[-+]?\d+)?", "N", msg)  # not in names: mat1
    return re.sub(r"\s+", " ", msg)[:200]


def failure_signature(error_type: str | None, message: str, suspects: list[Suspect]) -> str:
    """Stable identity of a failure: error type, innermost repository file:function and the
    normalized message. Line numbers are left out (an edit above the failure shifts them)."""
    where = ""
    if suspects:
        top = suspects[0]
        where = f"{top.file}:{top.function or top.kind}"
    return f"{error_type or 'Error'}|{where}|{normalize_message(message)}"


# ----------------------------------------------------------------------------- diagnosis


@dataclass
class _Ranker:
    repo: Path
    workdirs: tuple[str, ...]
    suspects: list[Suspect] = field(default_factory=list)
    _seen: set[tuple[str, int]] = field(default_factory=set)
    _cache: dict[str, list[str]] = field(default_factory=dict)

    def lines(self, rel: str) -> list[str]:
        if rel not in self._cache:
            self._cache[rel] = _read_lines(self.repo, rel)
        return self._cache[rel]

    def add(self, rel: str, line: int, function: str | None, kind: str, message: str) -> None:
        if (rel, line) in self._seen:
            return
        self._seen.add((rel, line))
        lines = self.lines(rel)
        if function == "" and kind != "syntax":
            function = _enclosing_function(lines, line)
        self.suspects.append(
            Suspect(
                file=rel,
                line=line,
                function=function or None,
                excerpt=excerpt(lines, line),
                kind=kind,
                message=message,
            )
        )

    def repo_frames(self, err: ParsedError) -> list[tuple[str, RawFrame]]:
        """Frames inside the repository, innermost first."""
        out = []
        for fr in reversed(err.frames):
            rel = map_path(fr.path, self.repo, self.workdirs)
            if rel is not None:
                out.append((rel, fr))
        return out


def _error_text(err: ParsedError) -> str:
    if err.error_type and err.message:
        return f"{err.error_type}: {err.message}"
    return err.error_type or err.message


def _rank(primary: ParsedError, others: list[ParsedError], ranker: _Ranker) -> None:
    """Innermost repository frame of the primary error, then of the others (in the given
    order), then every caller, innermost first."""
    ordered = [primary, *others]
    per_error = [ranker.repo_frames(e) for e in ordered]
    for err, frames in zip(ordered, per_error, strict=True):
        if frames:
            rel, fr = frames[0]
            kind = "syntax" if fr.function is None else "exception"
            ranker.add(rel, fr.line, fr.function, kind, _error_text(err))
        if err is primary:
            _add_import_target(err, ranker)
    for err, frames in zip(ordered, per_error, strict=True):
        for rel, fr in frames[1:]:
            ranker.add(
                rel, fr.line, fr.function, "frame", f"on the call path to {_error_text(err)}"
            )


_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>[\w.]+)' from '(?P<mod>[\w.]+)'")


def _add_import_target(err: ParsedError, ranker: _Ranker) -> None:
    """``cannot import name 'x' from 'model'``: point at model.py, at the closest definition."""
    m = _CANNOT_IMPORT.search(err.message)
    if not m:
        return
    rel = m["mod"].replace(".", "/") + ".py"
    if not (ranker.repo / rel).is_file():
        rel = m["mod"].replace(".", "/") + "/__init__.py"
        if not (ranker.repo / rel).is_file():
            return
    lines = ranker.lines(rel)
    defs = {}
    for n, text in enumerate(lines, 1):
        d = re.match(r"(?:async\s+def|def|class)\s+(\w+)|(\w+)\s*(?::[^=]*)?=", text)
        if d:
            defs.setdefault(d[1] or d[2], n)
    close = difflib.get_close_matches(m["name"], list(defs), n=3, cutoff=0.5)
    line = defs[close[0]] if close else 1
    hint = f"; it defines {', '.join(close)}" if close else ""
    ranker.add(rel, line, "", "import", f"{m['mod']} has no name {m['name']!r}{hint}")


def _non_python_error(
    output: str, repo: Path, workdirs: tuple[str, ...], ranker: _Ranker
) -> tuple[str, str | None, str]:
    """(source, error type, message) of output without a traceback: a shell error, an argparse
    usage error, or else just the last line printed."""
    shell = [m for m in _SHELL.finditer(output) if map_path(m["path"], repo, workdirs)]
    if shell:
        for m in shell:
            rel = map_path(m["path"], repo, workdirs)
            assert rel is not None
            ranker.add(rel, int(m["line"]), None, "shell", m["msg"].strip())
        return "shell", "ShellError", shell[0]["msg"].strip()
    usage = _USAGE.search(output)
    if usage:
        message = usage["msg"].strip()
        rel = map_path(usage["prog"], repo, workdirs)
        if rel:
            lines = ranker.lines(rel)
            line = next((n for n, t in enumerate(lines, 1) if "ArgumentParser(" in t), 1)
            ranker.add(rel, line, "", "usage", f"{usage['prog']}: error: {message}")
        return "usage", "UsageError", message
    tail = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return "unknown", None, tail[-1] if tail else ""


def _named(error_type: str | None, message: str, types: set[str], pattern: str) -> str | None:
    """The name a ``ModuleNotFoundError`` / ``NameError`` message is about, if it is one."""
    if not error_type or error_type.split(".")[-1] not in types:
        return None
    m = re.search(pattern, message)
    return m[1] if m else None


def diagnose(
    output: str,
    repo: Path,
    *,
    workdirs: tuple[str, ...] = DEFAULT_WORKDIRS,
    max_suspects: int = MAX_SUSPECTS,
) -> Failure:
    """Find the error in a failed run's ``output`` (stdout and stderr together) and rank the
    places in ``repo`` that likely cause it."""
    repo = Path(repo)
    ranker = _Ranker(repo, workdirs)
    errors = parse_pytest(output)
    source = "pytest" if errors else "python"
    if not errors:
        errors = parse_python_tracebacks(output)
    if errors:
        if source == "pytest":  # the first failure printed is the primary one
            primary, others = errors[0], errors[1:]
        else:  # the exception that ended the program is printed last; its causes before it
            primary, others = errors[-1], errors[-2::-1]
        _rank(primary, others, ranker)
        error_type, message = primary.error_type, primary.message
    else:
        source, error_type, message = _non_python_error(output, repo, workdirs, ranker)
    suspects = ranker.suspects[:max_suspects]
    missing = _named(
        error_type, message, {"ModuleNotFoundError", "ImportError"}, r"No module named '([\w.]+)'"
    )
    return Failure(
        error_type=error_type,
        message=message,
        signature=failure_signature(error_type, message, suspects),
        source=source,
        suspects=suspects,
        missing_module=missing.split(".")[0] if missing else None,
        undefined_name=_named(
            error_type, message, {"NameError", "UnboundLocalError"}, r"name '(\w+)' is not defined"
        ),
    )


# ----------------------------------------------------------------------------- ruff


def _ruff_executable() -> str | None:
    beside = Path(sys.executable).parent / "ruff"
    if beside.is_file():
        return str(beside)
    return shutil.which("ruff")


def ruff_diagnostics(repo: Path, *, timeout_s: float = 60.0) -> list[Suspect]:
    """Pyflakes and syntax diagnostics (``ruff check --select F,E9``) that can break a run,
    as suspects of kind ``lint``. Style and dead-code codes (unused imports…) are left out.
    Returns an empty list when ruff is not installed."""
    exe = _ruff_executable()
    if exe is None:
        return []
    repo = Path(repo).resolve()
    args = ["check", "--isolated", "--no-cache", "--select", "F,E9", "--output-format", "json"]
    proc = subprocess.run(
        [exe, *args, "--exit-zero", "."],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        return []
    suspects: list[Suspect] = []
    cache: dict[str, list[str]] = {}
    for item in items:
        code = item.get("code") or "E999"  # syntax errors come without a code in some versions
        if code in _LINT_NOISE:
            continue
        try:
            rel = Path(item["filename"]).resolve().relative_to(repo).as_posix()
        except (KeyError, ValueError):
            continue
        row = int((item.get("location") or {}).get("row") or 1)
        if rel not in cache:
            cache[rel] = _read_lines(repo, rel)
        suspects.append(
            Suspect(
                file=rel,
                line=row,
                function=_enclosing_function(cache[rel], row),
                excerpt=excerpt(cache[rel], row),
                kind="lint",
                message=f"{code} {item.get('message', '')}".strip(),
            )
        )
    suspects.sort(key=lambda s: (not is_serious(s), s.file, s.line))
    return suspects


def is_serious(suspect: Suspect) -> bool:
    """A lint suspect whose code is one of :data:`SERIOUS_LINT`."""
    return suspect.message.startswith(SERIOUS_LINT)


def undefined_names(lint: list[Suspect]) -> dict[str, set[str]]:
    """``{file: {name, …}}`` from ruff F821 (undefined name) suspects."""
    out: dict[str, set[str]] = {}
    for s in lint:
        m = re.match(r"F821 Undefined name `(\w+)`", s.message)
        if m:
            out.setdefault(s.file, set()).add(m[1])
    return out
