"""SEARCH/REPLACE application: exact, whitespace- and indentation-tolerant matches,
refusals with reasons for the model, path safety, syntax rollback, diffs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.patch import (
    Edit,
    PatchRejected,
    apply_edits,
    apply_to_text,
    resolve_inside,
)

TRAIN = """\
import numpy as np


def train(model, X, targets, steps):
    n = X.shape[0]
    for _ in range(steps):
        probs = model.predict_proba(X)
        grad_w = X @ (probs - targets) / n
        model.W -= 0.1 * grad_w
    return model
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "train.py").write_text(TRAIN)
    (root / "reproduce.sh").write_text("#!/bin/sh\npython main.py\n")
    os.chmod(root / "reproduce.sh", 0o755)
    return root


# ------------------------------------------------------------------ matching (pure)


def test_exact_match_once() -> None:
    new, how = apply_to_text(TRAIN, "X @ (probs", "X.T @ (probs")
    assert how == "exact"
    assert "grad_w = X.T @ (probs - targets) / n" in new
    assert new.count("\n") == TRAIN.count("\n")


def test_exact_match_twice_is_refused() -> None:
    with pytest.raises(PatchRejected, match="matches 2 places"):
        apply_to_text("a = 1\nb = 2\na = 1\n", "a = 1\n", "a = 3\n")


def test_trailing_whitespace_is_normalized() -> None:
    text = "def f():\n    return 1   \n\nx = f()\n"
    new, how = apply_to_text(text, "def f():\n    return 1\n", "def f():\n    return 2\n")
    assert how == "trailing-whitespace"
    assert new == "def f():\n    return 2\n\nx = f()\n"


def test_indentation_is_normalized_and_replacement_reindented() -> None:
    search = "probs = model.predict_proba(X)\ngrad_w = X @ (probs - targets) / n\n"
    replace = (
        "probs = model.predict_proba(X)\n"
        "if probs.ndim == 1:\n"
        "    probs = probs[:, None]\n"
        "grad_w = X.T @ (probs - targets) / n\n"
    )
    new, how = apply_to_text(TRAIN, search, replace)
    assert how == "indentation"
    assert (
        "        probs = model.predict_proba(X)\n"
        "        if probs.ndim == 1:\n"
        "            probs = probs[:, None]\n"
        "        grad_w = X.T @ (probs - targets) / n\n"
    ) in new
    compile(new, "train.py", "exec")


def test_indentation_match_needs_same_relative_indentation() -> None:
    text = "if a:\n    b()\n"
    with pytest.raises(PatchRejected):
        apply_to_text(text, "if a:\nb()\n", "if a:\nc()\n")


def test_ambiguous_after_normalization_is_refused() -> None:
    text = "def f():\n    x = 1 \n\ndef g():\n        x = 1  \n"
    with pytest.raises(PatchRejected, match="2 places once whitespace is ignored"):
        apply_to_text(text, "x = 1\n", "x = 2\n")


def test_approximate_match_is_refused_with_did_you_mean() -> None:
    with pytest.raises(PatchRejected) as info:
        apply_to_text(TRAIN, "        grad_w = X @ (prob - target) / n\n", "x\n")
    reason = info.value.reason
    assert "does not match" in reason
    assert "Did you mean" in reason
    assert "8 |         grad_w = X @ (probs - targets) / n" in reason


def test_unrelated_search_gets_no_misleading_hint() -> None:
    with pytest.raises(PatchRejected) as info:
        apply_to_text(TRAIN, "completely different content here\n", "x\n")
    assert "Did you mean" not in info.value.reason
    assert "Read the file again" in info.value.reason


def test_file_without_trailing_newline_keeps_it() -> None:
    new, how = apply_to_text("a = 1\nb = 2", "b = 2  \n", "b = 3\n")
    assert (new, how) == ("a = 1\nb = 3", "trailing-whitespace")


# ------------------------------------------------------------------ applying to a repository


def test_apply_edits_reports_outcomes_and_diff(repo: Path) -> None:
    report = apply_edits(
        repo,
        [
            Edit(path="train.py", search="X @ (probs", replace="X.T @ (probs"),
            Edit(path="train.py", search="no such line", replace="x"),
            Edit(path="utils/helpers.py", search="", replace="def one():\n    return 1\n"),
        ],
    )
    assert [o.status for o in report.outcomes] == ["applied", "rejected", "applied"]
    assert [o.how for o in report.outcomes] == ["exact", None, "created"]
    assert report.changed_files == ["train.py", "utils/helpers.py"]
    assert "X.T @ (probs" in (repo / "train.py").read_text()
    assert (repo / "utils/helpers.py").read_text() == "def one():\n    return 1\n"
    assert "--- a/train.py\n+++ b/train.py\n" in report.diff
    assert "-        grad_w = X @ (probs - targets) / n\n" in report.diff
    assert "+        grad_w = X.T @ (probs - targets) / n\n" in report.diff
    assert "--- /dev/null\n+++ b/utils/helpers.py\n" in report.diff
    assert len(report.applied) == 2 and len(report.rejected) == 1


def test_edits_to_one_file_apply_in_order(repo: Path) -> None:
    report = apply_edits(
        repo,
        [
            Edit(path="train.py", search="targets, steps):", replace="targets, steps, lr=0.1):"),
            Edit(path="train.py", search="0.1 * grad_w", replace="lr * grad_w"),
        ],
    )
    assert not report.rejected
    text = (repo / "train.py").read_text()
    assert "def train(model, X, targets, steps, lr=0.1):" in text
    assert "model.W -= lr * grad_w" in text


def test_missing_file_with_search_is_refused(repo: Path) -> None:
    report = apply_edits(repo, [Edit(path="nope.py", search="x = 1", replace="x = 2")])
    assert report.rejected[0].reason.startswith("the file nope.py does not exist")
    assert not (repo / "nope.py").exists()


def test_empty_search_on_existing_file_is_refused(repo: Path) -> None:
    report = apply_edits(repo, [Edit(path="train.py", search="", replace="x = 1\n")])
    assert "SEARCH is empty but the file exists" in report.rejected[0].reason
    assert (repo / "train.py").read_text() == TRAIN


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../outside.py", "sub/../../outside.py", ".git/config", "C:/x.py", ""],
)
def test_paths_outside_the_repository_are_refused(repo: Path, path: str) -> None:
    report = apply_edits(repo, [Edit(path=path, search="", replace="pwned\n")])
    assert report.outcomes[0].status == "rejected"
    assert report.outcomes[0].reason.startswith("refused")
    assert not (repo.parent / "outside.py").exists()


def test_symlink_escaping_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("x = 1\n")
    (repo / "link").symlink_to(outside, target_is_directory=True)
    report = apply_edits(repo, [Edit(path="link/secret.py", search="x = 1", replace="x = 2")])
    assert report.outcomes[0].reason == "refused: the path resolves outside the repository."
    assert (outside / "secret.py").read_text() == "x = 1\n"
    with pytest.raises(PatchRejected):
        resolve_inside(repo, "link/secret.py")
    assert resolve_inside(repo, "./train.py") == (repo / "train.py").resolve()


def test_syntax_error_rolls_back_that_file_only(repo: Path) -> None:
    (repo / "ok.py").write_text("A = 1\n")
    report = apply_edits(
        repo,
        [
            Edit(path="train.py", search="    return model\n", replace="    return model +\n"),
            Edit(path="train.py", search="0.1 * grad_w", replace="0.2 * grad_w"),
            Edit(path="ok.py", search="A = 1", replace="A = 2"),
        ],
    )
    assert (repo / "train.py").read_text() == TRAIN
    assert (repo / "ok.py").read_text() == "A = 2\n"
    assert report.changed_files == ["ok.py"]
    reasons = [o.reason for o in report.outcomes[:2]]
    assert all(r and "undone" in r and "SyntaxError (line 10" in r for r in reasons)
    assert report.outcomes[2].status == "applied"
    assert "train.py" not in report.diff


def test_file_that_was_already_broken_may_stay_broken(repo: Path) -> None:
    (repo / "bad.py").write_text("def f(:\n    pass\nx = 1\n")
    report = apply_edits(repo, [Edit(path="bad.py", search="x = 1", replace="x = 2")])
    assert report.outcomes[0].status == "applied"


def test_file_mode_is_preserved(repo: Path) -> None:
    apply_edits(
        repo, [Edit(path="reproduce.sh", search="python main.py", replace="python3 main.py")]
    )
    assert os.stat(repo / "reproduce.sh").st_mode & 0o777 == 0o755
    assert (repo / "reproduce.sh").read_text() == "#!/bin/sh\npython3 main.py\n"


def test_crlf_files_keep_their_line_endings(repo: Path) -> None:
    (repo / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    report = apply_edits(
        repo, [Edit(path="win.py", search="a = 1\nb = 2\n", replace="a = 1\nb = 3\n")]
    )
    assert report.outcomes[0].status == "applied"
    assert (repo / "win.py").read_bytes() == b"a = 1\r\nb = 3\r\n"
