"""arXiv papers by reference: ``arxiv:1706.03762``, ``arXiv:1706.03762v5``, old-style
``arxiv:hep-th/9901001``, or an arXiv link (``/abs/``, ``/pdf/``, ``/e-print/``).

``fetch_arxiv`` downloads the e-print (the LaTeX source: a tar.gz, or a gzipped single
``.tex``) into a given folder. arXiv serves the PDF itself as the e-print of papers submitted
as PDF only; that is recognized by its magic bytes and used as the paper, and when the e-print
is refused (403/404) the PDF is fetched from ``/pdf/ID``. The base URL comes from
``IngestSettings.arxiv_url``. Network failures become one-line ``PaperError``s.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

from paper2code.errors import PaperError
from paper2code.ingest.archive import copy_capped
from paper2code.settings import IngestSettings

_NEW_ID = r"\d{4}\.\d{4,5}(?:v\d+)?"
_OLD_ID = r"[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?"
_ID = re.compile(rf"^(?:{_NEW_ID}|{_OLD_ID})$")
_PREFIX = re.compile(r"^arxiv:\s*(?P<id>\S+)$", re.IGNORECASE)
_URL = re.compile(
    rf"^(?:https?:/+)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|e-print|src|format)/"
    rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_USER_AGENT = "paper2code (+https://github.com/paper2code/paper2code)"


def arxiv_id(ref: str) -> str | None:
    """The arXiv identifier a reference names, or None when it names none."""
    ref = ref.strip()
    m = _PREFIX.match(ref)
    if m:
        ident = m.group("id")
        url = _URL.match(ident)
        ident = url.group("id") if url else ident
        return ident if _ID.match(ident) else None
    m = _URL.match(ref)
    return m.group("id") if m else None


def _get(url: str, dest: Path, settings: IngestSettings, what: str) -> tuple[int, str]:
    """Download ``url`` to ``dest``; returns (HTTP status, content type). HTTP errors come
    back as their status; network failures raise ``PaperError``."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    limit = settings.max_download_mb * 2**20
    try:
        with urllib.request.urlopen(request, timeout=settings.download_timeout_s) as resp:
            too_large = (
                f"{what}: the download is larger than {settings.max_download_mb} MB "
                "(raise PAPER2CODE_INGEST__MAX_DOWNLOAD_MB)"
            )
            copy_capped(resp, dest, limit, too_large)
            return resp.status, resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PaperError(
            f"{what}: cannot download {url} ({reason}); check the network connection, or "
            "download the paper yourself and give the file"
        ) from exc


def _suffix_for(data_head: bytes) -> str:
    if data_head.startswith(b"%PDF-"):
        return ".pdf"
    if data_head.startswith(b"\x1f\x8b"):
        return ".tar.gz"  # archive.unpack_archive tells a tar from a single gzipped file
    if data_head.startswith(b"PK\x03\x04"):
        return ".zip"
    if len(data_head) > 262 and data_head[257:262] == b"ustar":
        return ".tar"
    return ".tex"


def fetch_arxiv(ref: str, dest: Path, settings: IngestSettings | None = None) -> Path:
    """Download the paper ``ref`` names into folder ``dest``: its LaTeX source (an archive or
    a ``.tex``), or its PDF when arXiv has no source. Returns the downloaded file."""
    settings = settings or IngestSettings()
    ident = arxiv_id(ref)
    if ident is None:
        raise PaperError(
            f"{ref}: not an arXiv reference; write arxiv:ID (e.g. arxiv:1706.03762) or an "
            "arxiv.org/abs/ID link"
        )
    base = settings.arxiv_url.rstrip("/")
    stem = ident.replace("/", "_")
    dest.mkdir(parents=True, exist_ok=True)
    part = dest / f"{stem}.download"
    status, _ = _get(f"{base}/e-print/{ident}", part, settings, f"arxiv:{ident}")
    if status == 200 and part.stat().st_size > 0:
        with part.open("rb") as fh:
            head = fh.read(512)
        if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
            status = 404  # an error page served as 200
        else:
            target = dest / f"{stem}{_suffix_for(head)}"
            part.replace(target)
            return target
    part.unlink(missing_ok=True)
    if status in (403, 404, 410) or status == 200:
        pdf = dest / f"{stem}.pdf"
        pdf_status, _ = _get(f"{base}/pdf/{ident}", pdf, settings, f"arxiv:{ident}")
        if pdf_status == 200:
            with pdf.open("rb") as fh:
                if fh.read(5) == b"%PDF-":
                    return pdf
        pdf.unlink(missing_ok=True)
        if pdf_status == 404 and status == 404:
            raise PaperError(f"arxiv:{ident}: arXiv has no paper with this identifier")
        status = pdf_status
    raise PaperError(
        f"arxiv:{ident}: arXiv answered HTTP {status}; try again later, or download the paper "
        "yourself and give the file"
    )
