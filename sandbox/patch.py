"""SEARCH/REPLACE edits: apply them to a repository, say why one did not apply.

An edit names a file and replaces one occurrence of its SEARCH text with REPLACE. It applies
where SEARCH matches exactly once; failing that, exactly once after normalizing trailing
whitespace, then exactly once after normalizing indentation (the replacement is re-indented by
the same offset). It never applies where SEARCH matches twice or only approximately: such an
edit is rejected with a reason written for the model, including the closest excerpt of the
file ("did you mean"). An empty SEARCH creates a file that does not exist yet.

Paths outside the repository (absolute, ``..``, symlinks that lead out) are refused. After the
edits, every changed ``.py`` file is syntax-checked; a file whose edits break its syntax is
restored and its edits reported as rejected. The result carries a unified diff of the change.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sandbox.tree import inside

__all__ = [
    "ApplyReport",
    "Edit",
    "EditOutcome",
    "PatchRejected",
    "apply_edits",
    "apply_to_text",
    "resolve_inside",
    "unified_diff",
]

MAX_FUZZY_LINES = 20_000
"""Files longer than this get no "did you mean" search (it is quadratic)."""


class PatchRejected(Exception):
    """An edit that cannot be applied. Not a bug: its message goes back to the model, which
    may send a corrected edit."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Edit(BaseModel):
    """Replace the one occurrence of ``search`` in ``path`` by ``replace``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    """File relative to the repository root."""
    search: str
    """Exact current text to replace; empty to create a new file."""
    replace: str
    """Replacement text."""


class EditOutcome(BaseModel):
    """What happened to one edit."""

    model_config = ConfigDict(extra="forbid")

    edit: Edit
    status: Literal["applied", "rejected"]
    how: Literal["exact", "trailing-whitespace", "indentation", "created"] | None = None
    """How SEARCH was matched (applied edits only)."""
    reason: str | None = None
    """Why it was rejected, written for the model (rejected edits only)."""


class ApplyReport(BaseModel):
    """The outcome of every edit, the files changed and their unified diff."""

    model_config = ConfigDict(extra="forbid")

    outcomes: list[EditOutcome] = []
    changed_files: list[str] = []
    """Repository-relative paths whose content changed (created files included)."""
    diff: str = ""
    """Unified diff of all changes (``a/`` and ``b/`` prefixes, ``/dev/null`` for new files)."""

    @property
    def applied(self) -> list[EditOutcome]:
        return [o for o in self.outcomes if o.status == "applied"]

    @property
    def rejected(self) -> list[EditOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]


# ----------------------------------------------------------------------------- matching (pure)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _trim_blank_edges(lines: list[str]) -> list[str]:
    lo, hi = 0, len(lines)
    while lo < hi and not lines[lo].strip():
        lo += 1
    while hi > lo and not lines[hi - 1].strip():
        hi -= 1
    return lines[lo:hi]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _min_indent(lines: list[str]) -> str:
    indents = [_indent(ln) for ln in lines if ln.strip()]
    return min(indents, key=len) if indents else ""


def _dedented(lines: list[str]) -> list[str]:
    base = len(_min_indent(lines))
    return [ln.rstrip()[base:] if ln.strip() else "" for ln in lines]


def _windows(haystack: list[str], needle: list[str], key: Callable[[str], str]) -> list[int]:
    want = [key(n) for n in needle]
    got = [key(h) for h in haystack]
    n = len(needle)
    return [i for i in range(len(got) - n + 1) if got[i : i + n] == want]


def _with_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _closest(text: str, search: str) -> str:
    """The excerpt of ``text`` most similar to ``search``, numbered, for a "did you mean"."""
    hay = text.splitlines()
    needle = _trim_blank_edges(search.splitlines())
    if not hay or not needle or len(hay) > MAX_FUZZY_LINES:
        return ""
    n = len(needle)
    target = "\n".join(s.strip() for s in needle)
    best, best_at = 0.0, 0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for i in range(max(1, len(hay) - n + 1)):
        matcher.set_seq1("\n".join(s.strip() for s in hay[i : i + n]))
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        r = matcher.ratio()
        if r > best:
            best, best_at = r, i
    if best < 0.5:
        return ""
    lo, hi = best_at, min(len(hay), best_at + n)
    width = len(str(hi))
    body = "\n".join(f"{k + 1:>{width}} | {hay[k]}" for k in range(lo, hi))
    return f"Did you mean these lines ({100 * best:.0f}% similar)?\n{body}"


def _reindent(replace_lines: list[str], old: str, new: str) -> list[str]:
    """Move ``replace_lines`` from base indentation ``old`` to ``new``."""
    out = []
    for ln in replace_lines:
        if not ln.strip():
            out.append(ln)
        elif ln.startswith(old):
            out.append(new + ln[len(old) :])
        else:
            out.append(new + ln.lstrip(" \t"))
    return out


def apply_to_text(text: str, search: str, replace: str, path: str = "file") -> tuple[str, str]:
    """Replace the single occurrence of ``search`` in ``text``. Returns the new text and how
    it matched (``exact``, ``trailing-whitespace``, ``indentation``). Raises
    :class:`PatchRejected` when it matches nowhere, several times, or only approximately."""
    if not search.strip():
        raise PatchRejected(
            path,
            "SEARCH is empty but the file exists; quote the exact lines to replace "
            "(an empty SEARCH only creates a new file).",
        )
    count = text.count(search)
    if count == 1:
        return text.replace(search, replace, 1), "exact"
    if count > 1:
        raise PatchRejected(
            path,
            f"SEARCH matches {count} places; add surrounding lines so it matches exactly one.",
        )
    hay = _lines(_with_newline(text))
    needle = _trim_blank_edges(_lines(_with_newline(search)))
    repl = _lines(_with_newline(replace)) if replace else []
    if needle:
        for how, key in (
            ("trailing-whitespace", lambda s: s.rstrip()),
            ("indentation", lambda s: s.strip()),
        ):
            hits = _windows(hay, needle, key)
            if how == "indentation":
                # relative indentation must agree: compare with each block's base indent removed
                want = _dedented(needle)
                hits = [i for i in hits if _dedented(hay[i : i + len(needle)]) == want]
            if len(hits) > 1:
                raise PatchRejected(
                    path,
                    f"SEARCH matches {len(hits)} places once whitespace is ignored; add "
                    "surrounding lines so it matches exactly one.",
                )
            if len(hits) == 1:
                i = hits[0]
                window = hay[i : i + len(needle)]
                new = repl
                if how == "indentation":
                    new = _reindent(repl, _min_indent(needle), _min_indent(window))
                out = "".join(hay[:i] + new + hay[i + len(needle) :])
                if not text.endswith("\n") and out.endswith("\n"):
                    out = out[:-1]
                return out, how
    hint = _closest(text, search)
    reason = "SEARCH does not match the file (not even ignoring whitespace)."
    if hint:
        reason += f" {hint}\nCopy SEARCH exactly from the current file."
    else:
        reason += " Read the file again and copy SEARCH exactly from it."
    raise PatchRejected(path, reason)


# ----------------------------------------------------------------------------- effects


def resolve_inside(repo: Path, path: str) -> Path:
    """The file ``path`` names inside ``repo``; :class:`PatchRejected` when it is absolute,
    climbs with ``..``, points into ``.git``, or resolves (through symlinks) outside."""
    raw = path.strip().replace("\\", "/")
    pure = PurePosixPath(raw)
    if not raw or pure.is_absolute() or re.match(r"^[A-Za-z]:", raw):
        raise PatchRejected(path, "refused: the path must be relative to the repository root.")
    if ".." in pure.parts:
        raise PatchRejected(path, "refused: the path leaves the repository ('..').")
    if ".git" in pure.parts:
        raise PatchRejected(path, "refused: files under .git are not editable.")
    target = inside(repo, raw)
    if target is None:
        raise PatchRejected(path, "refused: the path resolves outside the repository.")
    return target


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _write(path: Path, text: str, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _syntax_error(text: str, rel: str) -> SyntaxError | None:
    try:
        compile(text, rel, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc
    except ValueError as exc:  # null bytes
        return SyntaxError(str(exc))
    return None


def unified_diff(rel: str, before: str | None, after: str | None) -> str:
    """Unified diff of one file; ``None`` stands for a file that does not exist."""
    a = _lines(before or "")
    b = _lines(after or "")
    for side in (a, b):
        if side and not side[-1].endswith("\n"):
            side[-1] += "\n\\ No newline at end of file\n"
    return "".join(
        difflib.unified_diff(
            a,
            b,
            fromfile="/dev/null" if before is None else f"a/{rel}",
            tofile="/dev/null" if after is None else f"b/{rel}",
        )
    )


@dataclass
class _FileState:
    """One file while edits are applied to it in memory."""

    target: Path
    original: str | None
    """Text before the edits; None for a file that does not exist yet."""
    mode: int | None
    current: str | None = None
    applied: list[int] = field(default_factory=list)
    """Indexes of the edits applied to it."""

    @classmethod
    def load(cls, target: Path) -> _FileState:
        """Raises :class:`PatchRejected` for a path that is not a regular UTF-8 file."""
        exists = target.is_file()
        if target.exists() and not exists:
            raise PatchRejected(str(target), "refused: the path is not a regular file.")
        try:
            original = _read(target) if exists else None
        except UnicodeDecodeError as exc:
            raise PatchRejected(str(target), "refused: the file is not UTF-8 text.") from exc
        mode = stat.S_IMODE(target.stat().st_mode) if exists else None
        return cls(target=target, original=original, mode=mode, current=original)

    def apply(self, edit: Edit, rel: str) -> str:
        """Apply ``edit`` to the current text; returns how SEARCH matched."""
        current = self.current
        search, replace = edit.search, edit.replace
        if current is not None and "\r\n" in current:
            search = search.replace("\r\n", "\n").replace("\n", "\r\n")
            replace = replace.replace("\r\n", "\n").replace("\n", "\r\n")
        if current is None:
            if search.strip():
                raise PatchRejected(
                    edit.path,
                    f"the file {rel} does not exist. To create it, send an empty SEARCH; "
                    "otherwise check the path.",
                )
            self.current, how = replace, "created"
        elif not current and not search.strip():
            self.current, how = replace, "exact"
        else:
            self.current, how = apply_to_text(current, search, replace, edit.path)
        return how

    def broken_syntax(self, rel: str) -> str | None:
        """Why the edited ``.py`` file cannot be kept (it compiled before, not after), or None."""
        if not rel.endswith(".py") or self.current is None:
            return None
        err = _syntax_error(self.current, rel)
        if err is None or (self.original is not None and _syntax_error(self.original, rel)):
            return None
        where = f"line {err.lineno}: " if err.lineno else ""
        return (
            f"the edits to {rel} were undone: together they make a SyntaxError "
            f"({where}{err.msg}). Send corrected edits for this file."
        )


def apply_edits(repo: Path, edits: Iterable[Edit]) -> ApplyReport:
    """Apply ``edits`` to the files of ``repo`` in place, each where it matches exactly once.

    Edits to one file apply in order on its current text; a rejected edit does not stop the
    others. A ``.py`` file that no longer compiles after its edits is restored and all its
    edits are reported rejected with the syntax error (unless it did not compile before
    either). Never raises for a bad edit: see the outcomes."""
    edit_list = list(edits)
    outcomes: dict[int, EditOutcome] = {}
    files: dict[str, _FileState] = {}
    root = Path(repo).resolve()
    for idx, edit in enumerate(edit_list):
        try:
            target = resolve_inside(repo, edit.path)
            rel = target.relative_to(root).as_posix()
            if rel not in files:
                files[rel] = _FileState.load(target)
            how = files[rel].apply(edit, rel)
        except PatchRejected as exc:
            outcomes[idx] = EditOutcome(edit=edit, status="rejected", reason=exc.reason)
            continue
        files[rel].applied.append(idx)
        outcomes[idx] = EditOutcome(edit=edit, status="applied", how=how)  # type: ignore[arg-type]
    changed, diffs = [], []
    for rel, st in files.items():
        if st.current == st.original or st.current is None:
            continue
        reason = st.broken_syntax(rel)
        if reason is not None:
            for idx in st.applied:
                outcomes[idx] = EditOutcome(edit=edit_list[idx], status="rejected", reason=reason)
            continue
        _write(st.target, st.current, st.mode)
        changed.append(rel)
        diffs.append(unified_diff(rel, st.original, st.current))
    final = [outcomes[i] for i in sorted(outcomes)]
    return ApplyReport(outcomes=final, changed_files=changed, diff="".join(diffs))
