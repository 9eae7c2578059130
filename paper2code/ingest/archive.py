"""LaTeX source archives (arXiv e-prints, ``.tar.gz``/``.tgz``/``.tar``/``.zip``, a gzipped
single ``.tex``) unpacked safely into a folder.

Archives are hostile input: a member with an absolute path or ``..``, a link (symbolic or
hard) pointing outside the folder, a device or FIFO is refused with a ``PaperError``; so is an
archive whose members add up to more than the size cap or exceed the member cap. Links that
stay inside are copied as the files they point to (never created as links).
"""

from __future__ import annotations

import gzip
import logging
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from paper2code.errors import PaperError

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip", ".gz", ".tar.bz2", ".tbz2", ".tar.xz")
"""Names ingestion treats as source archives."""

_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"
_BZIP = b"BZh"
_XZ = b"\xfd7zXZ\x00"
_CHUNK = 1 << 16


def archive_kind(path: Path) -> str | None:
    """``tar``, ``zip``, ``gzip`` (one compressed file) from the file's content, or None."""
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith(_ZIP):
        return "zip"
    if head.startswith((_GZIP, _BZIP, _XZ)) or head[257:262] == b"ustar":
        try:
            if tarfile.is_tarfile(path):
                return "tar"
        except (OSError, EOFError, tarfile.TarError):
            pass
        return "gzip" if head.startswith(_GZIP) else None
    return None


def is_archive_name(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _member_path(name: str, archive: Path) -> PurePosixPath:
    """The relative path of a member, or a ``PaperError`` when it leaves the folder."""
    clean = name.replace("\\", "/")
    p = PurePosixPath(clean)
    if clean.startswith("/") or p.is_absolute() or (len(clean) > 1 and clean[1] == ":"):
        raise PaperError(
            f"{archive.name}: refusing to unpack: member {name!r} has an absolute path"
        )
    if ".." in p.parts:
        raise PaperError(
            f"{archive.name}: refusing to unpack: member {name!r} points outside the archive (..)"
        )
    return PurePosixPath(*[part for part in p.parts if part not in ("", ".")])


def _inside(base: PurePosixPath, target: str) -> PurePosixPath | None:
    """A link target resolved against the link's folder; None when it leaves the archive."""
    if target.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(str(base), target))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return PurePosixPath(joined)


def _check_budget(total: int, count: int, archive: Path, max_bytes: int, max_members: int) -> None:
    if total > max_bytes:
        raise PaperError(
            f"{archive.name}: refusing to unpack: more than {max_bytes // 2**20} MB unpacked "
            "(raise PAPER2CODE_INGEST__MAX_ARCHIVE_MB if the paper really is that large)"
        )
    if count > max_members:
        raise PaperError(
            f"{archive.name}: refusing to unpack: more than {max_members} members "
            "(raise PAPER2CODE_INGEST__MAX_ARCHIVE_MEMBERS if the paper really has that many)"
        )


def copy_capped(src: BinaryIO, dest: Path, budget: int, too_large: str) -> int:
    """Copy a stream to ``dest`` and return the bytes written; raise ``PaperError(too_large)``
    as soon as it would exceed ``budget`` bytes (archive members, downloads)."""
    written = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise PaperError(too_large)
            out.write(chunk)
    return written


def _copy_member(src: BinaryIO, dest: Path, budget: int, archive: Path) -> int:
    """An archive member to ``dest``, within what is left of the archive's size cap."""
    return copy_capped(
        src,
        dest,
        budget,
        f"{archive.name}: refusing to unpack: a member grows past the size cap (an archive bomb?)",
    )


def _tar_members(
    tf: tarfile.TarFile, archive: Path
) -> Iterator[tuple[tarfile.TarInfo, PurePosixPath]]:
    for m in tf:
        rel = _member_path(m.name, archive)
        if m.ischr() or m.isblk() or m.isfifo() or m.isdev():
            raise PaperError(
                f"{archive.name}: refusing to unpack: member {m.name!r} is a device or FIFO"
            )
        if m.issym() or m.islnk():
            base = rel.parent if m.issym() else PurePosixPath()
            if _inside(base, m.linkname) is None:
                kind = "symbolic" if m.issym() else "hard"
                raise PaperError(
                    f"{archive.name}: refusing to unpack: {kind} link {m.name!r} points outside "
                    f"the archive ({m.linkname})"
                )
        yield m, rel


def _unpack_tar(archive: Path, dest: Path, max_bytes: int, max_members: int) -> None:
    links: list[tuple[PurePosixPath, PurePosixPath]] = []
    total = count = 0
    try:
        with tarfile.open(archive) as tf:
            for m, rel in _tar_members(tf, archive):
                count += 1
                _check_budget(total + max(m.size, 0), count, archive, max_bytes, max_members)
                if not rel.parts:
                    continue
                if m.isdir():
                    (dest / rel).mkdir(parents=True, exist_ok=True)
                elif m.issym() or m.islnk():
                    base = rel.parent if m.issym() else PurePosixPath()
                    target = _inside(base, m.linkname)
                    if target is not None:
                        links.append((rel, target))
                elif m.isfile():
                    fh = tf.extractfile(m)
                    if fh is not None:
                        total += _copy_member(fh, dest / rel, max_bytes - total, archive)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise PaperError(f"{archive.name}: the archive is damaged ({exc}); re-download it") from exc
    _copy_links(links, dest)


def _unpack_zip(archive: Path, dest: Path, max_bytes: int, max_members: int) -> None:
    links: list[tuple[PurePosixPath, PurePosixPath]] = []
    total = count = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = _member_path(info.filename, archive)
                count += 1
                _check_budget(total + info.file_size, count, archive, max_bytes, max_members)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    target = _inside(rel.parent, zf.read(info).decode("utf-8", "replace"))
                    if target is None:
                        raise PaperError(
                            f"{archive.name}: refusing to unpack: symbolic link "
                            f"{info.filename!r} points outside the archive"
                        )
                    links.append((rel, target))
                    continue
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                    raise PaperError(
                        f"{archive.name}: refusing to unpack: member {info.filename!r} is a "
                        "device or FIFO"
                    )
                if not rel.parts:
                    continue
                if info.is_dir():
                    (dest / rel).mkdir(parents=True, exist_ok=True)
                    continue
                with zf.open(info) as fh:
                    total += _copy_member(fh, dest / rel, max_bytes - total, archive)
    except (zipfile.BadZipFile, OSError, zlib.error) as exc:
        raise PaperError(f"{archive.name}: the archive is damaged ({exc}); re-download it") from exc
    _copy_links(links, dest)


def _unpack_gzip(archive: Path, dest: Path, max_bytes: int) -> None:
    name = archive.name
    for suffix in (".gz", ".tgz"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    if not name.lower().endswith(".tex"):
        name = "main.tex"
    try:
        with gzip.open(archive, "rb") as fh:
            _copy_member(fh, dest / name, max_bytes, archive)
    except (OSError, EOFError, zlib.error) as exc:
        raise PaperError(f"{archive.name}: the archive is damaged ({exc}); re-download it") from exc


def _copy_links(links: list[tuple[PurePosixPath, PurePosixPath]], dest: Path) -> None:
    for rel, target in links:
        src = dest / target
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
        else:
            log.warning("archive link %s → %s: target missing; skipped", rel, target)


def unpack_archive(
    archive: Path, dest: Path, *, max_mb: int = 500, max_members: int = 20_000
) -> Path:
    """Unpack a source archive into ``dest`` (created; must be empty or absent) and return
    ``dest``. Raises ``PaperError`` for hostile or damaged archives."""
    kind = archive_kind(archive)
    if kind is None:
        raise PaperError(
            f"{archive.name}: not a source archive (expected .tar.gz, .tgz, .tar, .zip or .gz)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    max_bytes = max_mb * 2**20
    if kind == "tar":
        _unpack_tar(archive, dest, max_bytes, max_members)
    elif kind == "zip":
        _unpack_zip(archive, dest, max_bytes, max_members)
    else:
        _unpack_gzip(archive, dest, max_bytes)
    return dest
