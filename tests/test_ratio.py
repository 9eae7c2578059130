"""Changed-line ratio with hand-computed diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.ratio import line_delta, ratio_dirs, ratio_texts
from sandbox.tree import read_text_tree

TEN = "".join(f"line {i}\n" for i in range(1, 11))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("a\nb\nc\n", "a\nb\nc\n", (0, 0)),
        ("a\nb\nc\n", "a\nc\n", (0, 1)),  # one deleted
        ("a\n", "a\nb\n", (1, 0)),  # one added
        ("a\nb\nc\n", "a\nB\nc\n", (1, 1)),  # a changed line is one added + one deleted
        ("a\nb\nc\nd\n", "a\nX\nY\nZ\nd\n", (3, 2)),  # two lines replaced by three
        ("", "x\ny\n", (2, 0)),
        ("x\ny\n", "", (0, 2)),
        ("a\nb", "a\nb\n", (0, 0)),  # only the final newline differs: no line changed
    ],
)
def test_line_delta(before: str, after: str, expected: tuple[int, int]) -> None:
    assert line_delta(before, after) == expected


def test_ratio_over_dicts_counts_added_and_removed_files_fully() -> None:
    generated = {
        "a.py": TEN,  # 10 lines
        "b.py": "x\ny\n",  # 2 lines, removed
        "d.bin": None,  # binary: ignored
        "same.py": "s\n" * 8,  # 8 unchanged lines count in the denominator
    }
    current = {
        "a.py": TEN.replace("line 2\n", "line two\n") + "line 11\n",  # +1 -1, +1
        "c.py": "new\n",  # added: +1
        "d.bin": None,
        "same.py": "s\n" * 8,
    }
    report = ratio_texts(generated, current)
    assert (report.added, report.deleted, report.base_lines) == (3, 3, 20)
    assert report.ratio == pytest.approx(6 / 20)
    assert set(report.files) == {"a.py", "b.py", "c.py"}
    assert report.files["a.py"].model_dump() == {"added": 2, "deleted": 1, "base_lines": 10}
    assert report.files["b.py"].model_dump() == {"added": 0, "deleted": 2, "base_lines": 2}
    assert report.files["c.py"].model_dump() == {"added": 1, "deleted": 0, "base_lines": 0}


def test_file_binary_on_one_side_is_ignored() -> None:
    report = ratio_texts({"img.png": "was text\n", "a.py": "a\n"}, {"img.png": None, "a.py": "a\n"})
    assert (report.changed, report.base_lines, report.ratio) == (0, 1, 0.0)


def test_identical_and_empty_trees() -> None:
    assert ratio_texts({"a.py": TEN}, {"a.py": TEN}).ratio == 0.0
    assert ratio_texts({}, {}).ratio == 0.0
    assert ratio_texts({}, {"a.py": "x\n"}).ratio == 1.0  # nothing generated, something written


def test_ratio_over_directories(tmp_path: Path) -> None:
    gen, cur = tmp_path / "repo.generated", tmp_path / "repo"
    for root in (gen, cur):
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "model.py").write_text("import numpy\n\n\ndef f():\n    return 1\n")
        (root / "weights.bin").write_bytes(b"\x00\x01\x02binary")
        (root / "__pycache__").mkdir()
        (root / "__pycache__" / "junk.py").write_text("ignored\n" * 50)
    (gen / "README.md").write_text("# Title\n\nText.\n")
    (cur / "pkg" / "model.py").write_text("import numpy as np\n\n\ndef f():\n    return 2\n")
    (cur / "weights.bin").write_bytes(b"\x00changed")
    (cur / "requirements.txt").write_text("numpy\npyyaml\n")

    tree = read_text_tree(cur)
    assert tree["weights.bin"] is None
    assert not any(p.startswith("__pycache__") for p in tree)

    report = ratio_dirs(gen, cur)
    # model.py: 2 lines changed (+2 -2); README.md removed (-3); requirements.txt added (+2)
    assert (report.added, report.deleted) == (4, 5)
    assert report.base_lines == 5 + 3
    assert report.ratio == pytest.approx(9 / 8)


def test_missing_directory_is_an_empty_tree(tmp_path: Path) -> None:
    assert read_text_tree(tmp_path / "absent") == {}
