"""Repository trees: what a copy keeps and drops (hostile links, hard links, special files),
reading text files without following links, path containment and output tails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.tree import (
    copy_repo,
    inside,
    iter_text_files,
    read_text_tree,
    scan,
    tail,
)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A repository with every kind of entry a copy must not materialize, and ordinary ones."""
    secret = tmp_path / "host" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:secret-hash:19000\n")
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "main.py").write_text("print('ok')\n")
    (repo / "pkg" / "model.py").write_text("W = 1\n")
    os.chmod(repo / "main.py", 0o755)
    (repo / "shadow_link").symlink_to(secret)  # absolute, outside
    (repo / "pkg" / "climb").symlink_to("../../host/shadow")  # relative, climbs out
    (repo / "hostdir").symlink_to(secret.parent, target_is_directory=True)
    (repo / "via_inside").symlink_to("shadow_link")  # a chain that ends outside
    (repo / "alias.py").symlink_to("pkg/model.py")  # inside: kept as a link
    (repo / "pkgdir").symlink_to("pkg", target_is_directory=True)
    os.link(secret, repo / "hard")  # a second name of a host file
    os.mkfifo(repo / "fifo")
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    (repo / "__pycache__").mkdir()
    (repo / "__pycache__" / "x.pyc").write_bytes(b"\0\1")
    return repo


def test_scan_keeps_the_repository_and_drops_what_leads_out(hostile: Path) -> None:
    entries, dropped = scan(hostile)
    kept = {e.rel: e.kind for e in entries}
    assert kept == {
        "alias.py": "link",
        "main.py": "file",
        "pkg": "dir",
        "pkg/model.py": "file",
        "pkgdir": "link",
    }
    reasons = {d.rel: d.reason for d in dropped}
    assert set(reasons) == {"shadow_link", "pkg/climb", "hostdir", "via_inside", "hard", "fifo"}
    assert "outside the repository" in reasons["shadow_link"]
    assert "hard link" in reasons["hard"] and "special file" in reasons["fifo"]


def test_copy_never_materializes_a_host_file(hostile: Path, tmp_path: Path) -> None:
    dst = tmp_path / "copy"
    dropped = copy_repo(hostile, dst)
    assert len(dropped) == 6
    for path in dst.rglob("*"):
        if path.is_file():
            assert "secret-hash" not in path.read_text(errors="replace"), path
    assert not (dst / "shadow_link").exists() and not (dst / "shadow_link").is_symlink()
    assert not (dst / "hard").exists() and not (dst / "fifo").exists()
    assert not (dst / ".git").exists() and not (dst / "__pycache__").exists()
    # links inside the repository stay links, relative, and work in the copy
    assert os.readlink(dst / "alias.py") == "pkg/model.py"
    assert (dst / "alias.py").read_text() == "W = 1\n"
    assert (dst / "pkgdir" / "model.py").read_text() == "W = 1\n"
    assert os.stat(dst / "main.py").st_mode & 0o777 == 0o755


def test_copy_refuses_an_existing_destination_and_leaves_nothing_half_done(
    hostile: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "copy"
    dst.mkdir()
    with pytest.raises(FileExistsError):
        copy_repo(hostile, dst)
    assert not list(tmp_path.glob(".copy.copying"))


def test_readers_never_follow_links(hostile: Path) -> None:
    tree = read_text_tree(hostile)
    assert set(tree) == {"main.py", "pkg/model.py"}
    assert [rel for rel, _ in iter_text_files(hostile)] == ["main.py", "pkg/model.py"]


def test_inside_refuses_what_leaves_the_root(hostile: Path) -> None:
    assert inside(hostile, "pkg/model.py") == (hostile / "pkg" / "model.py").resolve()
    assert inside(hostile, "alias.py") == (hostile / "pkg" / "model.py").resolve()
    for bad in ("/etc/passwd", "../x", "pkg/../../x", "shadow_link", "hostdir/shadow", "", "."):
        assert inside(hostile, bad) is None, bad


def test_tail_keeps_the_end_and_says_so() -> None:
    assert tail("short", 100) == ("short", False)
    text, cut = tail("".join(f"line {i}\n" for i in range(1000)), 50)
    assert cut and text.startswith("[… output truncated …]\n")
    assert text.endswith("line 999\n") and "\nline" not in text.split("\n", 1)[0]
    data, cut = tail(b"\xff" * 10 + b"abc", 3)
    assert cut and data.endswith("abc")
