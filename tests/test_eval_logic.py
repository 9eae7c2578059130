"""Pure parts of eval and batch: context packing, aggregation, summaries."""

from __future__ import annotations

from pathlib import Path

from agents.judge import RepoFile
from paper2code.batch import BatchRow, summary_csv, summary_markdown, unique_dirs
from paper2code.evaluate import aggregate, pack, read_repo, relevance
from paper2code.schemas import ComponentJudgement, Judgement
from paper2code.tokens import count_tokens


def judgement(score: int, method: int) -> Judgement:
    comps = [
        ComponentJudgement(component=c, score=method if c == "method" else 3)
        for c in ("data processing", "method", "training", "evaluation")
    ]
    return Judgement(components=comps, score=score, summary="s")


def test_relevance_puts_planned_files_first_and_tests_last() -> None:
    planned = ["model.py", "train.py"]
    paths = ["tests/test_smoke.py", "README.md", "utils.py", "train.py", "config.yaml", "model.py"]
    ranked = sorted(paths, key=lambda p: relevance(p, planned))
    assert ranked == [
        "model.py",
        "train.py",
        "utils.py",
        "config.yaml",
        "README.md",
        "tests/test_smoke.py",
    ]


def test_pack_keeps_what_fits_and_names_the_rest() -> None:
    small = RepoFile("model.py", "x = 1\n" * 10)
    big = RepoFile("data.py", "y = 2\n" * 5000)
    budget = count_tokens(small.content) + 100
    included, omitted = pack([big, small], budget, planned=["data.py", "model.py"])
    assert [f.path for f in included] == ["model.py"]
    assert omitted == ["data.py"]
    included, omitted = pack([big, small], 10**9)
    assert omitted == [] and len(included) == 2


def test_aggregate_mean_and_spread() -> None:
    result = aggregate([judgement(3, 2), judgement(5, 4)], ["model.py"], ["big.py"])
    assert result.samples == 2
    assert result.score.mean == 4.0 and result.score.std == 1.4142
    assert result.components["method"].mean == 3.0
    assert result.components["training"].std == 0.0
    assert result.omitted_files == ["big.py"]


def test_read_repo_skips_binary_caches_and_git(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print(1)\n")
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    assert [f.path for f in read_repo(tmp_path)] == ["main.py"]


def test_unique_run_dirs_for_same_slug(tmp_path: Path) -> None:
    dirs = unique_dirs(
        [Path("a/paper.pdf"), Path("b/paper.pdf"), Path("c.md"), "arxiv:1706.03762v5"],
        tmp_path,
    )
    assert [d.name for d in dirs] == ["paper", "paper-2", "c", "arxiv-1706-03762v5"]


def test_summary_tables() -> None:
    rows = [
        BatchRow(
            paper="x.pdf",
            run_dir="r/x",
            status="done",
            smoke="passed",
            changed_line_ratio=0.01,
            requirements_coverage=0.875,
            cost_usd=0.5,
            score=4.0,
        ),
        BatchRow(paper="y.pdf", run_dir="r/y", status="failed", error="PaperError: corrupt | bad"),
    ]
    md = summary_markdown(rows)
    assert "| x.pdf | done | 87.5% | passed | 1.000% | 0.5000 | 4.00 |" in md
    assert "corrupt \\| bad" in md
    assert "papers: 2, finished: 1, smoke passed: 1" in md
    assert "not a reproduction" in md
    csv_text = summary_csv(rows)
    assert csv_text.splitlines()[0].startswith("paper,run_dir,status")
    assert len(csv_text.splitlines()) == 3
