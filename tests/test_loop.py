"""The repair loop with a real subprocess sandbox (temporary copies) and scripted fixers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paper2code.progress import SilentReporter
from sandbox.base import RunResult, Sandbox
from sandbox.errors import BudgetExceeded, DependencyInstallError, SandboxError
from sandbox.loop import Budget, DebugSummary, FailureReport, Fixer, FixProposal, repair
from sandbox.patch import Edit
from sandbox.settings import Limits

PY = sys.executable
ITER_FILES = {
    "command.txt",
    "stdout.txt",
    "stderr.txt",
    "result.json",
    "suspects.json",
    "edits.json",
    "patch.diff",
    "changes.json",
}


class SubprocessSandbox:
    """Runs the command with ``subprocess`` in a fresh copy of the repository, like the real
    sandboxes do (the original is never touched). ``prepare`` refuses requirement lines listed
    in ``uninstallable`` the way pip would."""

    name = "local"
    workdir = None

    def __init__(self, scratch: Path, uninstallable: tuple[str, ...] = ()) -> None:
        self.scratch = scratch
        self.uninstallable = uninstallable
        self.commands: list[str] = []
        self.prepared = 0

    def prepare(self, repo: Path) -> str:
        self.prepared += 1
        req = repo / "requirements.txt"
        lines = req.read_text().split() if req.is_file() else []
        for bad in self.uninstallable:
            if any(line.startswith(bad) for line in lines):
                raise DependencyInstallError(
                    "pip could not install the repository's requirements",
                    log=f"ERROR: Could not find a version that satisfies the requirement {bad}\n"
                    f"ERROR: No matching distribution found for {bad}\n",
                )
        return f"env-{len(lines)}"

    def run(self, repo: Path, command: str, *, limits: Limits | None = None) -> RunResult:
        self.commands.append(command)
        work = self.scratch / f"run-{len(self.commands)}" / "workspace"
        shutil.copytree(repo, work, symlinks=True)
        start = time.monotonic()
        proc = subprocess.run(
            command, shell=True, cwd=work, capture_output=True, text=True, timeout=60, check=False
        )
        return RunResult(
            command=command,
            exit_code=proc.returncode,
            duration_s=time.monotonic() - start,
            stdout=proc.stdout,
            stderr=proc.stderr,
            sandbox="local",
        )


class ScriptedFixer:
    """Answers each request with the next scripted list of edits (or raises it)."""

    def __init__(self, *replies: list[Edit] | BaseException) -> None:
        self.replies = list(replies)
        self.reports: list[FailureReport] = []

    async def propose(self, report: FailureReport) -> FixProposal:
        self.reports.append(report)
        reply = self.replies.pop(0) if self.replies else []
        if isinstance(reply, BaseException):
            raise reply
        return FixProposal(rationale="scripted", edits=reply)


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def iter_dirs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir())


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_protocols_are_satisfied_by_the_doubles(tmp_path: Path) -> None:
    assert isinstance(SubprocessSandbox(tmp_path), Sandbox)
    assert isinstance(ScriptedFixer(), Fixer)


async def test_passing_repo_passes_in_one_iteration(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": "print('ok')\n"})
    sandbox = SubprocessSandbox(tmp_path / "scratch")
    fixer = ScriptedFixer()
    progress = SilentReporter()
    out = tmp_path / "debug"
    summary = await repair(
        repo,
        sandbox,
        fixer,
        Budget(),
        out=out,
        command=f"{PY} main.py",
        progress=progress,
    )
    assert summary.status == "passed"
    assert [it.n for it in summary.iterations] == [1]
    assert summary.changed_line_ratio == 0.0
    assert fixer.reports == []
    assert iter_dirs(out) == ["iter-01"]
    files = {p.name for p in (out / "iter-01").iterdir()}
    assert files >= ITER_FILES
    assert (out / "iter-01" / "stdout.txt").read_text() == "ok\n"
    assert read_json(out / "iter-01" / "result.json")["exit_code"] == 0
    assert DebugSummary.model_validate(read_json(out / "summary.json")) == summary
    assert [line.split()[0] for line in progress.lines].count("advance") == 1


async def test_missing_numpy_import_is_fixed_deterministically(tmp_path: Path) -> None:
    source = (
        '"""Entry."""\n\ndef mean(xs):\n    return float(np.mean(xs))\n\nprint(mean([1, 2, 3]))\n'
    )
    repo = make_repo(tmp_path / "repo", {"main.py": source})
    out = tmp_path / "debug"
    fixer = ScriptedFixer()
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        fixer,
        Budget(),
        out=out,
        command=f"{PY} main.py",
    )
    assert summary.status == "passed"
    assert len(summary.iterations) == 2
    first = summary.iterations[0]
    assert first.error == "NameError: name 'np' is not defined"
    assert first.fix == "deterministic"
    assert (first.lines_added, first.lines_deleted) == (1, 0)
    assert first.ratio == pytest.approx(1 / 6)
    assert summary.changed_line_ratio == pytest.approx(1 / 6)
    assert fixer.reports == []  # no model needed
    edits = read_json(out / "iter-01" / "edits.json")
    assert edits["fix"] == "deterministic"
    assert [e["source"] for e in edits["edits"]] == ["deterministic"]
    assert "+import numpy as np\n" in (out / "iter-01" / "patch.diff").read_text()
    suspects = read_json(out / "iter-01" / "suspects.json")
    assert suspects["failure"]["suspects"][0]["file"] == "main.py"
    assert suspects["failure"]["suspects"][0]["function"] == "mean"
    assert (out / "iter-02" / "stdout.txt").read_text() == "2.0\n"
    assert "import numpy as np\n" in (repo / "main.py").read_text()  # patched in place


async def test_logic_error_is_fixed_by_the_fixer(tmp_path: Path) -> None:
    source = 'def scale(x, k):\n    return x + k\n\n\nassert scale(2, 3) == 6, "scale is wrong"\n'
    repo = make_repo(tmp_path / "repo", {"main.py": source})
    generated = tmp_path / "repo.generated"
    shutil.copytree(repo, generated, symlinks=True)
    fixer = ScriptedFixer([Edit(path="main.py", search="return x + k", replace="return x * k")])
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        fixer,
        Budget(),
        out=tmp_path / "debug",
        command=f"{PY} main.py",
        generated=generated,
    )
    assert summary.status == "passed"
    assert [it.fix for it in summary.iterations] == ["model", "none"]
    report = fixer.reports[0]
    assert report.error == "AssertionError: scale is wrong"
    assert report.exit_code == 1
    assert report.suspects[0].file == "main.py" and report.suspects[0].line == 5
    assert "Traceback" in report.stderr_tail
    assert summary.baseline == str(generated)
    assert summary.changed_line_ratio == pytest.approx(2 / 5)  # one line changed: +1 -1
    assert (generated / "main.py").read_text() == source  # the generated tree is untouched
    assert read_json(tmp_path / "debug" / "iter-01" / "report.json")["error"] == report.error


UNFIXABLE = "import sys\nsys.exit('still broken')\n"


async def test_unfixable_stops_at_the_iteration_budget(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": UNFIXABLE})
    fixer = ScriptedFixer(
        [Edit(path="main.py", search="import sys\n", replace="import sys  # try 1\n")],
        [Edit(path="main.py", search="  # try 1\n", replace="  # try 2\n")],
    )
    out = tmp_path / "debug"
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        fixer,
        Budget(max_iters=3, repeat_limit=10),
        out=out,
        command=f"{PY} main.py",
    )
    assert summary.status == "failed"
    assert "iteration budget" in summary.reason
    assert iter_dirs(out) == ["iter-01", "iter-02", "iter-03"]
    for name in iter_dirs(out):
        assert {p.name for p in (out / name).iterdir()} >= ITER_FILES
    assert len(fixer.reports) == 2  # the last run is not followed by a fix
    assert [it.fix for it in summary.iterations] == ["model", "model", "none"]
    assert summary.signatures == [summary.signatures[0]] * 3
    assert read_json(out / "summary.json")["status"] == "failed"
    assert summary.changed_line_ratio == pytest.approx(2 / 2)  # line 1 changed: +1 -1 of 2


async def test_repeated_failure_signature_stops_early(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": UNFIXABLE})
    fixer = ScriptedFixer()  # proposes nothing
    out = tmp_path / "debug"
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        fixer,
        Budget(max_iters=8, repeat_limit=2),
        out=out,
        command=f"{PY} main.py",
    )
    assert summary.status == "failed"
    assert "repeated 2 times" in summary.reason
    assert iter_dirs(out) == ["iter-01", "iter-02"]


async def test_rejected_edit_goes_back_with_the_reason(tmp_path: Path) -> None:
    source = "def scale(x, k):\n    return x + k\n\n\nassert scale(2, 3) == 6\n"
    repo = make_repo(tmp_path / "repo", {"main.py": source})
    fixer = ScriptedFixer(
        [
            Edit(path="main.py", search="    return x - k\n", replace="    return x * k\n"),
            Edit(path="../evil.py", search="", replace="print('escape')\n"),
        ],
        [Edit(path="main.py", search="    return x + k\n", replace="    return x * k\n")],
    )
    out = tmp_path / "debug"
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        fixer,
        Budget(),
        out=out,
        command=f"{PY} main.py",
    )
    assert summary.status == "passed"
    assert len(fixer.reports) == 2
    retry = fixer.reports[1]
    assert retry.attempt == 1 and retry.iteration == 1
    assert [r.path for r in retry.rejected] == ["main.py", "../evil.py"]
    assert "Did you mean" in retry.rejected[0].reason
    assert "2 |     return x + k" in retry.rejected[0].reason
    assert retry.rejected[1].reason.startswith("refused")
    assert not (tmp_path / "evil.py").exists()
    edits = read_json(out / "iter-01" / "edits.json")["edits"]
    assert [(e["attempt"], e["status"]) for e in edits] == [
        (0, "rejected"),
        (0, "rejected"),
        (1, "applied"),
    ]
    assert summary.iterations[0].applied == 1 and summary.iterations[0].rejected == 2


async def test_reflections_are_bounded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": UNFIXABLE})
    bad = [Edit(path="main.py", search="nothing like this", replace="x")]
    fixer = ScriptedFixer(*([bad] * 10))
    await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        fixer,
        Budget(max_iters=2, max_reflections=2),
        out=tmp_path / "debug",
        command=f"{PY} main.py",
    )
    assert [r.attempt for r in fixer.reports] == [0, 1, 2]


async def test_budget_exceeded_stops_and_a_rerun_resumes(tmp_path: Path) -> None:
    from paper2code.errors import BudgetExceeded as PipelineBudgetExceeded

    source = 'def scale(x, k):\n    return x + k\n\n\nassert scale(2, 3) == 6, "scale is wrong"\n'
    repo = make_repo(tmp_path / "repo", {"main.py": source})
    out = tmp_path / "debug"
    sandbox = SubprocessSandbox(tmp_path / "scratch")
    stopped = await repair(
        repo,
        sandbox,
        ScriptedFixer(PipelineBudgetExceeded("max cost $0.10 reached")),
        Budget(),
        out=out,
        command=f"{PY} main.py",
    )
    assert stopped.status == "stopped"
    assert "max cost" in stopped.reason
    assert read_json(out / "summary.json")["status"] == "stopped"
    assert iter_dirs(out) == ["iter-01"]

    fixer = ScriptedFixer([Edit(path="main.py", search="x + k", replace="x * k")])
    resumed = await repair(repo, sandbox, fixer, Budget(), out=out, command=f"{PY} main.py")
    assert resumed.status == "passed"
    assert [it.n for it in resumed.iterations] == [1, 2, 3]
    assert iter_dirs(out) == ["iter-01", "iter-02", "iter-03"]
    # the resumed session still measures against the snapshot taken when it first started
    assert resumed.changed_line_ratio == pytest.approx(2 / 5)


async def test_sandbox_budget_exceeded_is_caught_too(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": UNFIXABLE})
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        ScriptedFixer(BudgetExceeded("no money")),
        Budget(),
        out=tmp_path / "debug",
        command=f"{PY} main.py",
    )
    assert (summary.status, summary.reason) == ("stopped", "cost budget spent: no money")


async def test_dependency_install_error_is_a_failure_to_fix(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"main.py": "print('ok')\n", "requirements.txt": "numpy\nsklearn>=1.3\n"},
    )
    sandbox = SubprocessSandbox(tmp_path / "scratch", uninstallable=("sklearn",))
    out = tmp_path / "debug"
    summary = await repair(repo, sandbox, None, Budget(), out=out, command=f"{PY} main.py")
    assert summary.status == "passed"
    first = summary.iterations[0]
    assert (first.phase, first.fix) == ("prepare", "deterministic")
    assert first.error.startswith("DependencyInstallError")
    assert (repo / "requirements.txt").read_text() == "numpy\nscikit-learn>=1.3\n"
    assert sandbox.commands == [f"{PY} main.py"]  # the program ran only once it could install
    suspects = read_json(out / "iter-01" / "suspects.json")["failure"]["suspects"]
    assert (suspects[0]["file"], suspects[0]["line"]) == ("requirements.txt", 2)


async def test_no_fixer_and_no_deterministic_fix_fails(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": UNFIXABLE})
    summary = await repair(
        repo,
        SubprocessSandbox(tmp_path / "scratch"),
        None,
        Budget(),
        out=tmp_path / "debug",
        command=f"{PY} main.py",
    )
    assert summary.status == "failed"
    assert "no model fixer" in summary.reason
    assert summary.iterations[0].error == "still broken"


class ScriptedSandbox:
    """Returns canned results; for what a subprocess cannot show cheaply (a timeout)."""

    name = "scripted"
    workdir = "/workspace"

    def __init__(self, *results: RunResult) -> None:
        self.results = list(results)

    def prepare(self, repo: Path) -> str:
        return "img"

    def run(self, repo: Path, command: str, *, limits: Limits | None = None) -> RunResult:
        return self.results.pop(0)


async def test_timeout_is_reported_to_the_fixer(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.py": "while True:\n    pass\n"})
    sandbox = ScriptedSandbox(
        RunResult(command="python main.py", exit_code=None, timed_out=True, duration_s=600),
        RunResult(command="python main.py", exit_code=0),
    )
    fixer = ScriptedFixer(
        [Edit(path="main.py", search="while True:\n    pass\n", replace="pass\n")]
    )
    summary = await repair(
        repo, sandbox, fixer, Budget(), out=tmp_path / "debug", command="python main.py"
    )
    assert summary.status == "passed"
    assert fixer.reports[0].timed_out
    assert fixer.reports[0].error_type == "Timeout"
    assert summary.signatures[0].startswith("Timeout|")
    assert read_json(tmp_path / "debug" / "iter-01" / "result.json")["timed_out"] is True


async def test_smoke_command_is_discovered(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"main.py": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--smoke')\n"},
    )
    sandbox = ScriptedSandbox(RunResult(command="python main.py --smoke", exit_code=0))
    summary = await repair(repo, sandbox, None, Budget(), out=tmp_path / "debug")
    assert (summary.command, summary.command_source) == ("python main.py --smoke", "main.py")


async def test_broken_sandbox_is_an_error_that_propagates(tmp_path: Path) -> None:
    class Broken(ScriptedSandbox):
        def prepare(self, repo: Path) -> str:
            raise SandboxError("no Docker daemon; start one with `sudo dockerd &`")

    repo = make_repo(tmp_path / "repo", {"main.py": "print(1)\n"})
    with pytest.raises(SandboxError):
        await repair(
            repo, Broken(), None, Budget(), out=tmp_path / "debug", command="python main.py"
        )
    saved = read_json(tmp_path / "debug" / "summary.json")
    assert saved["status"] == "error"
    assert "no Docker daemon" in saved["reason"]
