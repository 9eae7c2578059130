"""A repository as a tree of files: what belongs to it, how to read it, how to copy it without
letting a host file in, and how to tell whether a path stays inside it.

Every repository is treated as hostile. :func:`scan` walks a tree without following a single
symbolic link and sorts what it finds:

- directories and regular files are kept (folders in :data:`IGNORED_DIRS` are skipped);
- a symbolic link is kept, as a link, only when its target (followed to the end) lies inside the
  repository; it is re-pointed relative to its own folder so the copy needs nothing outside;
- a symbolic link that leads outside the repository (``shadow -> /etc/shadow``), a regular file
  with more than one hard link (its other name may be a host file), and special files (fifos,
  sockets, devices) are **dropped**: never copied, never read, and reported as :class:`Dropped`
  so the caller can warn.

:func:`copy_repo` and :func:`read_text_tree`, and through them both sandboxes, the repair loop,
the changed-line ratio, the debugger's tools and ``paper2code eval``, see a repository only
through :func:`scan`. Files are opened with ``O_NOFOLLOW``, so a file swapped for a link after the
scan is refused rather than followed.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

__all__ = [
    "IGNORED_DIRS",
    "TEXT_SUFFIXES",
    "Dropped",
    "Entry",
    "copy_repo",
    "decode_text",
    "inside",
    "iter_text_files",
    "read_bytes",
    "read_files",
    "read_text_tree",
    "scan",
    "tail",
]

IGNORED_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".mypy_cache",
        ".venv",
        "venv",
        "node_modules",
    }
)
"""Folders that are never part of a repository's code: VCS data, caches, virtualenvs."""

TEXT_SUFFIXES = frozenset(
    {".py", ".sh", ".txt", ".md", ".yaml", ".yml", ".toml", ".cfg", ".json", ".ini"}
)
"""Suffixes of the files shown to models (the debugger's search, the judge)."""

TRUNCATION_MARK = "[… output truncated …]\n"


@dataclass(frozen=True)
class Entry:
    """One thing of a repository that may be copied."""

    rel: str
    """Path relative to the repository root, POSIX separators."""
    kind: Literal["dir", "file", "link"]
    target: str = ""
    """For links: the target relative to the link's folder (always inside the repository)."""
    mode: int = 0o644
    """Permission bits (files and directories)."""


@dataclass(frozen=True)
class Dropped:
    """Something of a repository that is not copied, and why."""

    rel: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rel}: {self.reason}"


def _classify(root_real: Path, path: Path, rel: str) -> Entry | Dropped:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        resolved = Path(os.path.realpath(path))
        if resolved != root_real and not resolved.is_relative_to(root_real):
            return Dropped(rel, f"symbolic link to {os.readlink(path)}, outside the repository")
        parent_real = root_real / PurePosixPath(rel).parent
        return Entry(rel, "link", target=os.path.relpath(resolved, parent_real))
    if stat.S_ISDIR(st.st_mode):
        return Entry(rel, "dir", mode=stat.S_IMODE(st.st_mode))
    if stat.S_ISREG(st.st_mode):
        if st.st_nlink > 1:
            return Dropped(rel, f"hard link ({st.st_nlink} names; the others may be host files)")
        return Entry(rel, "file", mode=stat.S_IMODE(st.st_mode))
    return Dropped(rel, "special file (fifo, socket or device)")


def scan(root: Path) -> tuple[list[Entry], list[Dropped]]:
    """Everything under ``root`` that may be copied, sorted by path, and what may not.
    Never follows a symbolic link; a missing ``root`` is an empty tree."""
    root = Path(root)
    entries: list[Entry] = []
    dropped: list[Dropped] = []
    if not root.is_dir():
        return entries, dropped
    root_real = Path(os.path.realpath(root))
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in [*dirnames, *sorted(filenames)]:
            path = base / name
            rel = path.relative_to(root).as_posix()
            item = _classify(root_real, path, rel)
            (dropped if isinstance(item, Dropped) else entries).append(item)  # type: ignore[arg-type]
    entries.sort(key=lambda e: e.rel)
    return entries, dropped


def read_bytes(path: Path) -> bytes:
    """The content of a regular file, refusing (``OSError``) a symbolic link or anything but a
    single-named regular file at the moment it is opened."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            raise OSError(f"{path}: not a single-named regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def copy_repo(src: Path, dst: Path) -> list[Dropped]:
    """Copy the repository ``src`` to ``dst`` (which must not exist), keeping only what
    :func:`scan` keeps; returns what was dropped. The copy is staged beside ``dst`` and renamed
    into place, so ``dst`` is either complete or absent."""
    src, dst = Path(src), Path(dst)
    if dst.exists() or dst.is_symlink():
        raise FileExistsError(f"{dst} exists")
    entries, dropped = scan(src)
    stage = dst.with_name(f".{dst.name}.copying")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    try:
        for e in entries:
            target = stage / e.rel
            if e.kind == "dir":
                target.mkdir(exist_ok=True)
            elif e.kind == "link":
                os.symlink(e.target, target)
            else:
                try:
                    data = read_bytes(src / e.rel)
                except OSError as exc:  # changed under our feet: drop it, never follow it
                    dropped.append(Dropped(e.rel, f"unreadable or replaced while copying ({exc})"))
                    continue
                target.write_bytes(data)
                os.chmod(target, e.mode & 0o777)
        for e in entries:
            if e.kind == "dir":
                os.chmod(stage / e.rel, (e.mode & 0o777) | 0o700)
        os.replace(stage, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return dropped


def decode_text(data: bytes) -> str | None:
    """``data`` as text, or None for binary content (a NUL byte, or not UTF-8)."""
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_files(root: Path) -> Iterator[tuple[str, bytes]]:
    """``(relative path, content)`` of every regular file under ``root``, sorted by path;
    links and dropped entries are left out. A missing ``root`` is an empty tree."""
    for e in scan(root)[0]:
        if e.kind == "file":
            try:
                yield e.rel, read_bytes(Path(root) / e.rel)
            except OSError:
                continue


def read_text_tree(root: Path) -> dict[str, str | None]:
    """``{relative path: text}`` of every regular file under ``root`` (None for binary files)."""
    return {rel: decode_text(data) for rel, data in read_files(root)}


def iter_text_files(
    root: Path, *, suffixes: frozenset[str] = TEXT_SUFFIXES, max_bytes: int | None = None
) -> Iterator[tuple[str, str]]:
    """``(relative path, text)`` of the text files under ``root`` with one of ``suffixes``,
    sorted by path; files over ``max_bytes`` and binary files are skipped."""
    root = Path(root)
    for e in scan(root)[0]:
        if e.kind != "file" or PurePosixPath(e.rel).suffix.lower() not in suffixes:
            continue
        path = root / e.rel
        try:
            if max_bytes is not None and path.lstat().st_size > max_bytes:
                continue
            text = decode_text(read_bytes(path))
        except OSError:
            continue
        if text is not None:
            yield e.rel, text


def inside(root: Path, rel: str) -> Path | None:
    """The path ``rel`` names under ``root``, resolved through links, when it stays strictly
    inside ``root``; None when it is absolute, climbs out with ``..`` or leads out by a link."""
    raw = rel.strip().replace("\\", "/")
    pure = PurePosixPath(raw)
    if not raw or pure.is_absolute() or (len(raw) > 1 and raw[1] == ":") or ".." in pure.parts:
        return None
    base = Path(os.path.realpath(root))
    target = Path(os.path.realpath(base / pure))
    if target == base or not target.is_relative_to(base):
        return None
    return target


def tail(data: str | bytes, limit: int) -> tuple[str, bool]:
    """The end of ``data`` (at most ``limit`` characters, or bytes for ``bytes``) as text, cut
    at a line start when one is near and marked as truncated; True when something was dropped."""
    if len(data) <= limit:
        text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
        return text, False
    cut = data[-limit:]
    text = cut if isinstance(cut, str) else cut.decode("utf-8", errors="replace")
    nl = text.find("\n")
    if 0 <= nl < 200:
        text = text[nl + 1 :]
    return TRUNCATION_MARK + text, True
