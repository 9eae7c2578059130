"""The repair loop end to end with the real Docker sandbox: run → localize → fix → rerun, with
deterministic fixes, a scripted fixer standing in for the model, budgets, the per-iteration
artifacts and the changed-line ratio against the generated tree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dockerwatch import no_leftovers_after_the_module  # noqa: F401

from sandbox.loop import Budget, DebugSummary, FailureReport, FixProposal, repair
from sandbox.patch import Edit
from sandbox.settings import Limits, SandboxSettings

pytestmark = [pytest.mark.docker]

SETTINGS = SandboxSettings(limits=Limits(wall_s=20, memory_mb=256, cpus=1.0, pids=64))
SMOKE = "python main.py"
ITER_FILES = ("command.txt", "stdout.txt", "stderr.txt", "result.json")


class ScriptedFixer:
    """Stands in for the model: answers each request with the next scripted batch of edits."""

    def __init__(self, *batches: list[Edit]) -> None:
        self.batches = list(batches)
        self.reports: list[FailureReport] = []

    async def propose(self, report: FailureReport) -> FixProposal:
        self.reports.append(report)
        return FixProposal(rationale="scripted", edits=self.batches.pop(0) if self.batches else [])


def make_repo(root: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """(working copy the loop patches, pristine copy as generated)."""
    repo = root / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    generated = root / "repo.generated"
    shutil.copytree(repo, generated, symlinks=True)
    return repo, generated


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def sandbox():
    from sandbox.docker_sandbox import DockerSandbox

    return DockerSandbox(SETTINGS)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def check_artifacts(out: Path, summary: DebugSummary) -> None:
    """iter-NN/ per iteration with the run's files, and summary.json equal to the result."""
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == [f"iter-{it.n:02d}" for it in summary.iterations]
    for it in summary.iterations:
        d = out / f"iter-{it.n:02d}"
        for name in ITER_FILES:
            assert (d / name).is_file(), d / name
        assert (d / "command.txt").read_text() == it.command + "\n"
        assert read_json(d / "result.json")["exit_code"] == it.exit_code
    assert DebugSummary.model_validate(read_json(out / "summary.json")) == summary


async def test_passing_repo_passes_in_one_iteration(tmp_path: Path) -> None:
    repo, gen = make_repo(tmp_path, {"main.py": "print('trained: loss 0.1')\n"})
    out = tmp_path / "debug"
    summary = await repair(
        repo, sandbox(), None, Budget(max_iters=3), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "passed" and [it.n for it in summary.iterations] == [1]
    assert summary.iterations[0].passed and summary.iterations[0].fix == "none"
    assert summary.changed_line_ratio == 0.0 and summary.base_lines == 1
    assert summary.environment == SETTINGS.base_image
    check_artifacts(out, summary)
    assert (out / "iter-01" / "stdout.txt").read_text() == "trained: loss 0.1\n"
    assert tree(repo) == tree(gen)


async def test_missing_dependency_is_added_and_the_image_rebuilt(tmp_path: Path) -> None:
    files = {"main.py": "import six\n\nprint('six', six.__version__)\n"}
    repo, gen = make_repo(tmp_path, files)
    out = tmp_path / "debug"
    summary = await repair(
        repo, sandbox(), None, Budget(max_iters=3), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "passed", summary.reason
    first, second = summary.iterations
    assert first.error == "ModuleNotFoundError: No module named 'six'"
    assert first.fix == "deterministic" and "six" in (first.fix_description or "")
    assert second.passed
    assert (repo / "requirements.txt").read_text() == "six\n"
    assert not (gen / "requirements.txt").exists()
    # the second run used a dependency image built for the new requirements
    assert read_json(out / "iter-01" / "result.json")["environment"] == SETTINGS.base_image
    env2 = read_json(out / "iter-02" / "result.json")["environment"]
    assert env2.startswith("paper2code-deps:") and summary.environment == env2
    assert (out / "iter-02" / "stdout.txt").read_text().startswith("six 1.")
    # one line added over the generated tree's three
    assert (summary.lines_added, summary.lines_deleted, summary.base_lines) == (1, 0, 3)
    assert summary.changed_line_ratio == pytest.approx(1 / 3)
    check_artifacts(out, summary)


async def test_an_undeclared_package_fails_then_is_declared_deterministically(
    tmp_path: Path,
) -> None:
    """Hermetic smoke runs: yaml imported, only numpy declared. The base image keeps pyyaml in
    its wheelhouse but installs nothing undeclared, so the first run fails as it would on a
    clean machine; the missing-dependency fix declares pyyaml and the rerun passes."""
    files = {
        "main.py": "import numpy as np\nimport yaml\n\nprint(yaml.safe_dump({'n': int(np.ones(3).sum())}))\n",
        "requirements.txt": "numpy\n",
    }
    repo, gen = make_repo(tmp_path, files)
    out = tmp_path / "debug"
    summary = await repair(
        repo, sandbox(), None, Budget(max_iters=3), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "passed", summary.reason
    first, second = summary.iterations
    assert first.error == "ModuleNotFoundError: No module named 'yaml'"
    assert first.fix == "deterministic" and first.fix_description == (
        "add pyyaml to requirements.txt (No module named 'yaml')"
    )
    assert second.passed and second.fix == "none"
    assert (repo / "requirements.txt").read_text() == "numpy\npyyaml\n"
    assert (out / "iter-02" / "stdout.txt").read_text() == "n: 3\n\n"
    env1 = read_json(out / "iter-01" / "result.json")["environment"]
    env2 = read_json(out / "iter-02" / "result.json")["environment"]
    assert env1.startswith("paper2code-deps:") and env2.startswith("paper2code-deps:")
    assert env1 != env2  # a new dependency image for the new requirements
    check_artifacts(out, summary)


async def test_undefined_np_is_imported_without_the_model(tmp_path: Path) -> None:
    source = '"""Entry point."""\n\nx = np.arange(4)\nprint("total", int(x.sum()))\n'
    repo, gen = make_repo(tmp_path, {"main.py": source, "requirements.txt": "numpy\n"})
    out = tmp_path / "debug"
    fixer = ScriptedFixer()  # must not be asked
    summary = await repair(
        repo, sandbox(), fixer, Budget(max_iters=3), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "passed", summary.reason
    assert fixer.reports == []
    assert [it.fix for it in summary.iterations] == ["deterministic", "none"]
    assert summary.iterations[0].error == "NameError: name 'np' is not defined"
    fixed = (repo / "main.py").read_text()
    assert fixed.splitlines()[:3] == ['"""Entry point."""', "", "import numpy as np"]
    assert fixed.count("import numpy as np") == 1
    assert "+import numpy as np" in (out / "iter-01" / "patch.diff").read_text()
    assert (out / "iter-02" / "stdout.txt").read_text() == "total 6\n"
    # one import line added over the generated tree's five (main.py's four, requirements.txt)
    assert (summary.lines_added, summary.lines_deleted, summary.base_lines) == (1, 0, 5)
    assert summary.changed_line_ratio == pytest.approx(1 / 5)
    check_artifacts(out, summary)


async def test_logic_error_is_fixed_by_a_scripted_fixer_after_a_rejected_edit(
    tmp_path: Path,
) -> None:
    source = (
        "def mean(xs):\n"
        "    return sum(xs) / (len(xs) + 1)\n"
        "\n"
        "\n"
        'assert mean([2, 4]) == 3, f"mean([2, 4]) = {mean([2, 4])}"\n'
        'print("mean ok")\n'
    )
    repo, gen = make_repo(tmp_path, {"main.py": source})
    out = tmp_path / "debug"
    fixer = ScriptedFixer(
        [Edit(path="main.py", search="return sum(xs) / len(xs) + 1", replace="return 3")],
        [Edit(path="main.py", search="/ (len(xs) + 1)", replace="/ len(xs)")],
    )
    summary = await repair(
        repo, sandbox(), fixer, Budget(max_iters=4), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "passed", summary.reason
    assert [it.fix for it in summary.iterations] == ["model", "none"]
    first, reflection = fixer.reports
    assert first.error_type == "AssertionError" and "mean([2, 4]) = 2.0" in first.error
    assert first.exit_code == 1 and first.attempt == 0 and first.rejected == []
    assert first.suspects[0].file == "main.py" and first.suspects[0].line == 5
    assert "AssertionError" in first.stderr_tail
    # the edit whose SEARCH matched nothing went back with its reason
    assert reflection.attempt == 1 and len(reflection.rejected) == 1
    assert reflection.rejected[0].search == "return sum(xs) / len(xs) + 1"
    it1 = summary.iterations[0]
    assert (it1.applied, it1.rejected) == (1, 1)
    edits = read_json(out / "iter-01" / "edits.json")["edits"]
    assert [(e["source"], e["status"]) for e in edits] == [
        ("model", "rejected"),
        ("model", "applied"),
    ]
    assert (repo / "main.py").read_text() == source.replace("/ (len(xs) + 1)", "/ len(xs)")
    assert (out / "iter-02" / "stdout.txt").read_text() == "mean ok\n"
    # one line replaced (1 deleted + 1 added) over six generated lines
    assert (summary.lines_added, summary.lines_deleted, summary.base_lines) == (1, 1, 6)
    assert summary.changed_line_ratio == pytest.approx(2 / 6)
    assert read_json(out / "iter-01" / "changes.json")["cumulative_ratio"] == pytest.approx(2 / 6)
    check_artifacts(out, summary)


async def test_unfixable_repo_fails_at_the_iteration_budget(tmp_path: Path) -> None:
    repo, gen = make_repo(tmp_path, {"main.py": "# attempt 0\nraise RuntimeError('diverged')\n"})
    out = tmp_path / "debug"
    # each "fix" changes the code but not the outcome
    fixer = ScriptedFixer(
        [Edit(path="main.py", search="# attempt 0", replace="# attempt 1")],
        [Edit(path="main.py", search="# attempt 1", replace="# attempt 2")],
        [Edit(path="main.py", search="# attempt 2", replace="# attempt 3")],
    )
    summary = await repair(
        repo,
        sandbox(),
        fixer,
        Budget(max_iters=3, repeat_limit=10),
        out=out,
        command=SMOKE,
        generated=gen,
    )
    assert summary.status == "failed"
    assert "iteration budget spent (3 runs)" in summary.reason
    assert [it.n for it in summary.iterations] == [1, 2, 3]
    assert len(fixer.reports) == 2  # the last run is not followed by a fix
    assert len(set(summary.signatures)) == 1 and len(summary.signatures) == 3
    for n in (1, 2, 3):
        d = out / f"iter-{n:02d}"
        assert "RuntimeError: diverged" in (d / "stderr.txt").read_text()
        assert read_json(d / "result.json")["exit_code"] == 1
    assert (repo / "main.py").read_text().startswith("# attempt 2\n")
    # measured against the generated tree, not summed over iterations: 1 line replaced of 2
    assert [it.ratio for it in summary.iterations] == [1.0, 1.0, 0.0]
    assert summary.changed_line_ratio == pytest.approx(2 / 2)
    saved = read_json(out / "summary.json")
    assert saved["status"] == "failed" and len(saved["iterations"]) == 3
    check_artifacts(out, summary)


async def test_unknown_error_without_a_fixer_fails_after_one_run(tmp_path: Path) -> None:
    repo, gen = make_repo(tmp_path, {"main.py": "raise RuntimeError('no idea')\n"})
    out = tmp_path / "debug"
    summary = await repair(
        repo, sandbox(), None, Budget(max_iters=5), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "failed"
    assert "no deterministic fix" in summary.reason and "RuntimeError: no idea" in summary.reason
    assert len(summary.iterations) == 1 and summary.changed_line_ratio == 0.0
    check_artifacts(out, summary)


async def test_uninstallable_requirement_is_a_prepare_failure(tmp_path: Path) -> None:
    repo, gen = make_repo(
        tmp_path,
        {
            "main.py": "print('unreached')\n",
            "requirements.txt": "this-package-does-not-exist-p2c==1.0\n",
        },
    )
    out = tmp_path / "debug"
    summary = await repair(
        repo, sandbox(), None, Budget(max_iters=3), out=out, command=SMOKE, generated=gen
    )
    assert summary.status == "failed"
    (only,) = summary.iterations
    assert only.phase == "prepare" and only.error and "DependencyInstallError" in only.error
    d = out / "iter-01"
    assert (d / "command.txt").read_text() == "pip install -r requirements.txt\n"
    assert (
        "No matching distribution found for this-package-does-not-exist-p2c"
        in (d / "stderr.txt").read_text()
    )
    assert read_json(d / "result.json")["phase"] == "prepare"
    suspects = read_json(d / "suspects.json")["failure"]["suspects"]
    assert suspects[0]["file"] == "requirements.txt" and suspects[0]["line"] == 1
    check_artifacts(out, summary)


async def test_a_runaway_write_is_a_disk_limit_failure(tmp_path: Path) -> None:
    code = (
        "with open('checkpoint.pt', 'wb') as fh:\n    while True:\n        fh.write(b'w' * 2**20)\n"
    )
    repo, gen = make_repo(tmp_path, {"main.py": code})
    out = tmp_path / "debug"
    limits = SETTINGS.limits.model_copy(update={"workspace_mb": 16})
    summary = await repair(
        repo,
        sandbox(),
        None,
        Budget(max_iters=3, limits=limits),
        out=out,
        command=SMOKE,
        generated=gen,
    )
    assert summary.status == "failed"
    (only,) = summary.iterations
    assert only.disk_limit_exceeded and not only.timed_out and not only.oom_killed
    assert (
        only.error
        == "DiskLimitExceeded: wrote past the sandbox's disk limit (in use: /workspace 16 MiB)"
    )
    assert summary.signatures == [
        "DiskLimitExceeded|main.py:<module>|wrote past the sandbox's disk limit"
    ]
    result = read_json(out / "iter-01" / "result.json")
    assert result["disk_limit_exceeded"] is True and result["disk_used_mb"]["/workspace"] == 16
    check_artifacts(out, summary)
