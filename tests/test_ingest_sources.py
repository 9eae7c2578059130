"""Paper sources other than a single file: arXiv references downloaded from a local HTTP server
standing in for arxiv.org (tar.gz e-print, gzipped single .tex, PDF-only e-print, refused
e-print, unknown paper, offline), source archives (hostile members refused, size caps) and
folders (the main file found), and a PDF given with its source."""

from __future__ import annotations

import gzip
import io
import json
import logging
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from paperfactory import make_latex, make_pdf, sample_spec
from test_ingest_pdf import assert_matches_spec

from paper2code.cli import main
from paper2code.errors import PaperError
from paper2code.ingest import arxiv_id, fetch_arxiv, ingest_paper, paper_slug, unpack_archive
from paper2code.ingest.latex import find_main_tex
from paper2code.settings import IngestSettings

# ------------------------------------------------------------------------- arXiv references


@pytest.mark.parametrize(
    ("ref", "ident"),
    [
        ("arxiv:1706.03762", "1706.03762"),
        ("arXiv:1706.03762v5", "1706.03762v5"),
        ("arxiv: 2101.00001", "2101.00001"),
        ("https://arxiv.org/abs/1706.03762", "1706.03762"),
        ("https://arxiv.org/pdf/1706.03762v7.pdf", "1706.03762v7"),
        ("https:/arxiv.org/pdf/1706.03762", "1706.03762"),  # what Path() makes of a URL
        ("http://export.arxiv.org/e-print/1706.03762", "1706.03762"),
        ("arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("arxiv:math.GT/0309136", "math.GT/0309136"),
        ("arxiv:https://arxiv.org/abs/2101.00001", "2101.00001"),
        ("paper.pdf", None),
        ("arxiv:not-an-id", None),
        ("https://example.org/abs/1706.03762", None),
    ],
)
def test_arxiv_id(ref: str, ident: str | None) -> None:
    assert arxiv_id(ref) == ident


@pytest.mark.parametrize(
    ("ref", "slug"),
    [
        ("arxiv:1706.03762v5", "arxiv-1706-03762v5"),
        ("https://arxiv.org/abs/1706.03762", "arxiv-1706-03762"),
        ("papers/src.tar.gz", "src"),
        ("Attention Is All You Need.pdf", "attention-is-all-you-need"),
        ("paper_folder", "paper-folder"),
    ],
)
def test_paper_slug(ref: str, slug: str) -> None:
    assert paper_slug(ref) == slug


class _Arxiv(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, body = self.routes.get(self.path, (404, b"<html>not found</html>"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def arxiv_server() -> Iterator[tuple[str, dict[str, tuple[int, bytes]], list[str]]]:
    """(base URL, routes to fill, paths requested) of a local stand-in for arxiv.org."""
    routes: dict[str, tuple[int, bytes]] = {}
    seen: list[str] = []
    handler = type("Handler", (_Arxiv,), {"routes": routes, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes, seen
    finally:
        server.shutdown()
        server.server_close()


def _tar_gz(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for p in sorted(folder.rglob("*")):
            tf.add(p, arcname=str(p.relative_to(folder)), recursive=False)
    return buf.getvalue()


def test_arxiv_tar_gz_eprint(arxiv_server, tmp_path: Path) -> None:
    base, routes, seen = arxiv_server
    spec = sample_spec()
    make_latex(tmp_path / "src", spec)
    routes["/e-print/2101.00001"] = (200, _tar_gz(tmp_path / "src"))
    out = tmp_path / "run" / "paper"
    paper = ingest_paper("arxiv:2101.00001", IngestSettings(arxiv_url=base), out_dir=out)
    assert paper.source_format == "latex" and paper.source == "arxiv:2101.00001"
    assert_matches_spec(paper, spec)
    assert (out / "download" / "2101.00001.tar.gz").is_file()
    assert (out / "source" / "2101" / "main.tex").is_file()
    assert seen == ["/e-print/2101.00001"]


def test_arxiv_gzipped_single_tex_eprint(arxiv_server, tmp_path: Path) -> None:
    base, routes, _ = arxiv_server
    spec = sample_spec()
    main_tex = make_latex(tmp_path / "src", spec, split_files=False)
    routes["/e-print/2101.00002v2"] = (200, gzip.compress(main_tex.read_bytes()))
    paper = ingest_paper("https://arxiv.org/abs/2101.00002v2", IngestSettings(arxiv_url=base))
    assert paper.source_format == "latex"
    assert_matches_spec(paper, spec)


def test_arxiv_pdf_only_eprint_falls_back_to_the_pdf(arxiv_server, tmp_path: Path) -> None:
    base, routes, _ = arxiv_server
    spec = sample_spec()
    routes["/e-print/2101.00003"] = (200, make_pdf(tmp_path / "p.pdf", spec).read_bytes())
    out = tmp_path / "paper"
    paper = ingest_paper("arxiv:2101.00003", IngestSettings(arxiv_url=base), out_dir=out)
    assert paper.source_format == "pdf" and paper.pages == 4
    assert_matches_spec(paper, spec)
    assert (out / "download" / "2101.00003.pdf").read_bytes().startswith(b"%PDF-")


def test_arxiv_refused_eprint_fetches_the_pdf(arxiv_server, tmp_path: Path) -> None:
    base, routes, seen = arxiv_server
    routes["/e-print/2101.00004"] = (403, b"<html>no source</html>")
    routes["/pdf/2101.00004"] = (200, make_pdf(tmp_path / "p.pdf").read_bytes())
    paper = ingest_paper("arxiv:2101.00004", IngestSettings(arxiv_url=base))
    assert paper.source_format == "pdf"
    assert seen == ["/e-print/2101.00004", "/pdf/2101.00004"]


def test_arxiv_unknown_paper(arxiv_server, tmp_path: Path) -> None:
    base, _, _ = arxiv_server
    with pytest.raises(PaperError, match=r"^arxiv:2101\.99999: arXiv has no paper"):
        fetch_arxiv("arxiv:2101.99999", tmp_path, IngestSettings(arxiv_url=base))


def test_arxiv_offline_is_one_clear_line(tmp_path: Path) -> None:
    settings = IngestSettings(arxiv_url="http://127.0.0.1:9", download_timeout_s=5)
    with pytest.raises(PaperError) as exc:
        ingest_paper("arxiv:1706.03762", settings, out_dir=tmp_path / "paper")
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith("arxiv:1706.03762: cannot download http://127.0.0.1:9/e-print/")
    assert "check the network connection" in message


def test_arxiv_offline_at_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAPER2CODE_INGEST__ARXIV_URL", "http://127.0.0.1:9")
    with pytest.raises(SystemExit) as exc:
        main(["ingest", "arxiv:1706.03762", "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: arxiv:1706.03762: cannot download") and "\n" not in err


# ------------------------------------------------------------------------- archives


def _tar_with(tmp: Path, add: object, name: str = "evil.tar.gz") -> Path:
    path = tmp / name
    with tarfile.open(path, "w:gz") as tf:
        main = b"\\documentclass{article}\\begin{document}\\section{A}Text.\\end{document}"
        info = tarfile.TarInfo("main.tex")
        info.size = len(main)
        tf.addfile(info, io.BytesIO(main))
        add(tf)  # type: ignore[operator]
    return path


def _member(name: str, data: bytes = b"x", **kw: object) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    return info, io.BytesIO(data)


@pytest.mark.parametrize(
    ("add", "phrase"),
    [
        (lambda tf: tf.addfile(*_member("/etc/evil.tex")), "absolute path"),
        (lambda tf: tf.addfile(*_member("../evil.tex")), "points outside the archive (..)"),
        (lambda tf: tf.addfile(*_member("a/../../evil.tex")), "points outside"),
        (
            lambda tf: tf.addfile(_member("link", type=tarfile.SYMTYPE, linkname="/etc/passwd")[0]),
            "symbolic link 'link' points outside",
        ),
        (
            lambda tf: tf.addfile(_member("a/l", type=tarfile.SYMTYPE, linkname="../../x")[0]),
            "symbolic link 'a/l' points outside",
        ),
        (
            lambda tf: tf.addfile(_member("hard", type=tarfile.LNKTYPE, linkname="../x")[0]),
            "hard link 'hard' points outside",
        ),
        (
            lambda tf: tf.addfile(_member("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)[0]),
            "device or FIFO",
        ),
        (lambda tf: tf.addfile(_member("fifo", type=tarfile.FIFOTYPE)[0]), "device or FIFO"),
    ],
    ids=[
        "absolute",
        "dotdot",
        "nested-dotdot",
        "symlink-abs",
        "symlink-up",
        "hardlink",
        "dev",
        "fifo",
    ],
)
def test_hostile_tar_members_refused(tmp_path: Path, add: object, phrase: str) -> None:
    archive = _tar_with(tmp_path, add)
    with pytest.raises(PaperError, match="refusing to unpack") as exc:
        ingest_paper(archive, IngestSettings(), out_dir=tmp_path / "run")
    assert phrase in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "evil.tex").exists() and not Path("/etc/evil.tex").exists()


def test_links_inside_the_archive_are_copied(tmp_path: Path) -> None:
    def add(tf: tarfile.TarFile) -> None:
        tf.addfile(*_member("sections/intro.tex", b"\\section{Intro} Hello."))
        tf.addfile(_member("intro.tex", type=tarfile.SYMTYPE, linkname="sections/intro.tex")[0])

    dest = unpack_archive(_tar_with(tmp_path, add, "ok.tar.gz"), tmp_path / "out")
    assert not (dest / "intro.tex").is_symlink()
    assert (dest / "intro.tex").read_bytes() == b"\\section{Intro} Hello."


def test_archive_size_and_member_caps(tmp_path: Path) -> None:
    big = _tar_with(tmp_path, lambda tf: tf.addfile(*_member("big.bin", b"0" * (2 * 2**20))))
    with pytest.raises(PaperError, match=r"more than 1 MB unpacked"):
        ingest_paper(big, IngestSettings(max_archive_mb=1), out_dir=tmp_path / "a")

    def many(tf: tarfile.TarFile) -> None:
        for k in range(30):
            tf.addfile(*_member(f"f{k}.tex"))

    with pytest.raises(PaperError, match=r"more than 10 members"):
        ingest_paper(_tar_with(tmp_path, many, "many.tgz"), IngestSettings(max_archive_members=10))


def test_gzip_bomb_capped(tmp_path: Path) -> None:
    bomb = tmp_path / "paper.tex.gz"
    bomb.write_bytes(gzip.compress(b"%" * (3 * 2**20)))
    with pytest.raises(PaperError, match="size cap"):
        ingest_paper(bomb, IngestSettings(max_archive_mb=1))


def test_zip_archive_and_hostile_zip(tmp_path: Path) -> None:
    spec = sample_spec()
    src = tmp_path / "src"
    make_latex(src, spec)
    good = tmp_path / "paper.zip"
    with zipfile.ZipFile(good, "w") as zf:
        for p in src.rglob("*"):
            zf.write(p, p.relative_to(src))
    assert_matches_spec(ingest_paper(good, IngestSettings()), spec)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../evil.tex", "x")
    with pytest.raises(PaperError, match=r"points outside the archive"):
        ingest_paper(evil, IngestSettings())


def test_damaged_archive(tmp_path: Path) -> None:
    spec_dir = tmp_path / "src"
    make_latex(spec_dir)
    data = _tar_gz(spec_dir)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PaperError, match=r"damaged"):
        ingest_paper(cut, IngestSettings())
    fake = tmp_path / "fake.tgz"
    fake.write_bytes(b"hello")
    with pytest.raises(PaperError, match=r"named like an archive but is not one"):
        ingest_paper(fake, IngestSettings())


# ------------------------------------------------------------------------- folders, both


def test_main_file_has_documentclass_and_begin_document(tmp_path: Path) -> None:
    (tmp_path / "main.tex").write_text("\\documentclass{article}\n% a stub, no document")
    (tmp_path / "paper_v2.tex").write_text(
        "\\documentclass{article}\\begin{document}\\section{Real}Text.\\end{document}"
    )
    (tmp_path / "sec.tex").write_text("\\section{Part}")
    assert find_main_tex(tmp_path).name == "paper_v2.tex"
    assert ingest_paper(tmp_path, IngestSettings()).sections[0].heading == "Real"


def test_pdf_and_source_prefers_the_source(tmp_path: Path, caplog) -> None:
    spec = sample_spec()
    pdf = make_pdf(tmp_path / "paper.pdf", spec)
    src = make_latex(tmp_path / "src", spec).parent
    paper = ingest_paper(pdf, IngestSettings(), source=src)
    assert paper.source_format == "latex" and paper.pages == 4
    assert paper.sections[3].equations == [r"h = \mathrm{softmax}(Q K^T / \sqrt{d}) V"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with caplog.at_level(logging.WARNING):
        paper = ingest_paper(pdf, IngestSettings(), source=empty)
    assert paper.source_format == "pdf"
    assert "no .tex file with \\documentclass" in caplog.text and "reading" in caplog.text


def test_cli_ingest_with_source_writes_the_default_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = sample_spec()
    pdf = make_pdf(tmp_path / "My Paper.pdf", spec)
    src = make_latex(tmp_path / "src", spec).parent
    monkeypatch.chdir(tmp_path)
    main(["ingest", str(pdf), "--source", str(src)])
    out = tmp_path / "runs" / "my-paper" / "paper"
    assert (out / "paper.json").is_file() and (out / "paper.md").is_file()
    paper = json.loads((out / "paper.json").read_text(encoding="utf-8"))
    assert paper["source_format"] == "latex" and paper["pages"] == 4
    shown = sum(len(s["equations"]) for s in paper["sections"])
    said = " ".join(capsys.readouterr().err.split())
    assert shown == 1 and "1 display equation," in said and "→ runs/my-paper/paper" in said


def test_cli_generate_refuses_a_missing_paper_that_is_no_arxiv_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(tmp_path / "nope.pdf"), "--out", str(tmp_path / "run")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "nope.pdf: no such file (nor an arXiv reference" in err and "\n" not in err
    assert not (tmp_path / "run").exists()
