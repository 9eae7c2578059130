"""The execute-localize-repair loop with the real Docker sandbox, and dependency images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sandbox.errors import DaemonUnavailable, DependencyInstallError
from sandbox.loop import Budget, FailureReport, repair
from sandbox.patch import Edit
from sandbox.settings import Limits, SandboxSettings

pytestmark = [pytest.mark.docker]

SETTINGS = SandboxSettings(limits=Limits(wall_s=30, memory_mb=512, pids=64))


def make_repo(root: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """(working copy, pristine copy as generated)."""
    repo = root / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    generated = root / "repo.generated"
    shutil.copytree(repo, generated)
    return repo, generated


SMOKE = "python main.py"


class ScriptedFixer:
    """Returns prepared edits, one batch per request."""

    def __init__(self, batches: list[list[Edit]]) -> None:
        self.batches = batches
        self.reports: list[FailureReport] = []

    async def propose(self, report: FailureReport) -> list[Edit]:
        self.reports.append(report)
        return self.batches.pop(0) if self.batches else []


def box():
    from sandbox.docker_sandbox import DockerSandbox

    return DockerSandbox(SETTINGS)


async def test_passing_repo_passes_in_one_iteration(tmp_path: Path) -> None:
    repo, gen = make_repo(tmp_path, {"main.py": "print('ok')\n"})
    summary = await repair(
        repo, box(), None, Budget(max_iters=3), out=tmp_path / "debug", command=SMOKE, generated=gen
    )
    assert summary.status == "passed" and len(summary.iterations) == 1
    assert summary.changed_line_ratio == 0.0


async def test_missing_dependency_is_added_without_the_model(tmp_path: Path) -> None:
    repo, gen = make_repo(
        tmp_path,
        {
            "main.py": "from tqdm import tqdm\nprint(sum(1 for _ in tqdm(range(3))))\n",
            "requirements.txt": "numpy\n",
        },
    )
    summary = await repair(
        repo, box(), None, Budget(max_iters=3), out=tmp_path / "debug", command=SMOKE, generated=gen
    )
    assert summary.status == "passed", summary.reason
    assert summary.iterations[0].fix == "deterministic"
    assert "tqdm" in (repo / "requirements.txt").read_text()
    assert "tqdm" not in (gen / "requirements.txt").read_text()
    assert summary.lines_added == 1


async def test_undefined_numpy_alias_is_imported_without_the_model(tmp_path: Path) -> None:
    repo, gen = make_repo(tmp_path, {"main.py": "x = np.arange(3)\nprint(x.sum())\n"})
    summary = await repair(
        repo, box(), None, Budget(max_iters=3), out=tmp_path / "debug", command=SMOKE, generated=gen
    )
    assert summary.status == "passed"
    assert "import numpy as np" in (repo / "main.py").read_text()
    assert (tmp_path / "debug" / "iter-01" / "patch.diff").read_text().count(
        "+import numpy as np"
    ) == 1


async def test_logic_error_is_fixed_by_the_scripted_debugger(tmp_path: Path) -> None:
    code = "import numpy as np\nX = np.ones((4, 2))\nw = np.ones((4, 3))\nprint((X @ w).shape)\n"
    repo, gen = make_repo(tmp_path, {"main.py": code})
    fixer = ScriptedFixer(
        [[Edit(path="main.py", search="print((X @ w).shape)", replace="print((X.T @ w).shape)")]]
    )
    summary = await repair(
        repo,
        box(),
        fixer,
        Budget(max_iters=4),
        out=tmp_path / "debug",
        command=SMOKE,
        generated=gen,
    )
    assert summary.status == "passed"
    assert [it.fix for it in summary.iterations] == ["model", "none"]
    report = fixer.reports[0]
    assert report.suspects and report.suspects[0].file == "main.py" and report.suspects[0].line == 4
    assert "matmul" in report.error
    assert summary.changed_line_ratio == pytest.approx(2 / 4)


async def test_unfixable_repo_stops_at_its_budget_with_a_log_per_iteration(tmp_path: Path) -> None:
    repo, gen = make_repo(
        tmp_path, {"main.py": "import json\nraise SystemExit(json.dumps({'ok': False}) and 3)\n"}
    )
    # each "fix" changes the code but not the outcome
    fixer = ScriptedFixer(
        [
            [Edit(path="main.py", search="import json\n", replace="import json  # try 1\n")],
            [Edit(path="main.py", search="# try 1", replace="# try 2")],
            [Edit(path="main.py", search="# try 2", replace="# try 3")],
        ]
    )
    out = tmp_path / "debug"
    summary = await repair(
        repo,
        box(),
        fixer,
        Budget(max_iters=3, repeat_limit=5),
        out=out,
        command=SMOKE,
        generated=gen,
    )
    assert summary.status == "failed"
    assert len(summary.iterations) == 3
    for n in (1, 2, 3):
        d = out / f"iter-{n:02d}"
        for name in ("command.txt", "stdout.txt", "stderr.txt", "result.json"):
            assert (d / name).exists(), d / name
        assert json.loads((d / "result.json").read_text())["exit_code"] == 3
    saved = json.loads((out / "summary.json").read_text())
    assert saved["status"] == "failed" and len(saved["iterations"]) == 3


def test_dependency_image_is_cached_by_requirements(tmp_path: Path) -> None:
    repo, _ = make_repo(
        tmp_path, {"main.py": "import tqdm\n", "requirements.txt": "tqdm\n# a comment\n"}
    )
    first = box()
    tag = first.prepare(repo)
    second = box()
    assert second.prepare(repo) == tag and second.builds == 0
    (repo / "requirements.txt").write_text("# reordered\ntqdm\n\n")
    assert box().prepare(repo) == tag  # same normalized requirements, same image


def test_uninstallable_requirement_is_a_dependency_error(tmp_path: Path) -> None:
    repo, _ = make_repo(
        tmp_path, {"main.py": "", "requirements.txt": "this-package-does-not-exist-p2c==1.0\n"}
    )
    with pytest.raises(DependencyInstallError) as info:
        box().prepare(repo)
    assert "this-package-does-not-exist-p2c" in info.value.log


def test_no_daemon_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    from sandbox.docker_sandbox import DockerSandbox

    with pytest.raises(DaemonUnavailable, match="--sandbox local"):
        DockerSandbox(SETTINGS)


def test_smoke_cli_exit_codes_and_junit(tmp_path: Path) -> None:
    import subprocess
    import sys
    from xml.etree import ElementTree as ET

    bin_ = Path(sys.executable).parent / "paper2code"
    good, _ = make_repo(
        tmp_path / "good",
        {"reproduce.sh": "set -e\n[ \"$1\" = --smoke ] && python -c 'print(42)'\n"},
    )
    bad, _ = make_repo(tmp_path / "bad", {"main.py": "raise ValueError('boom')\n"})
    r = subprocess.run(
        [str(bin_), "smoke", str(good), "--junit", str(tmp_path / "good.xml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert ET.parse(tmp_path / "good.xml").getroot().get("failures") == "0"
    r = subprocess.run(
        [
            str(bin_),
            "smoke",
            str(bad),
            "--command",
            "python main.py",
            "--junit",
            str(tmp_path / "bad.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "boom" in r.stderr
    failure = ET.parse(tmp_path / "bad.xml").getroot().find(".//failure")
    assert failure is not None and "ValueError: boom" in failure.text
    r = subprocess.run(
        [str(bin_), "smoke", str(tmp_path / "bad" / "repo.generated")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "--command" in r.stderr and "Traceback" not in r.stderr


def test_debug_cli_never_modifies_the_original(tmp_path: Path) -> None:
    import subprocess
    import sys

    bin_ = Path(sys.executable).parent / "paper2code"
    repo, _ = make_repo(tmp_path, {"main.py": "print(np.zeros(2))\n"})
    before = (repo / "main.py").read_text()
    r = subprocess.run(
        [
            str(bin_),
            "debug",
            str(repo),
            "--out",
            str(tmp_path / "session"),
            "--no-model",
            "--command",
            "python main.py",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    assert (repo / "main.py").read_text() == before
    assert "import numpy as np" in (tmp_path / "session" / "repo" / "main.py").read_text()
    assert (
        json.loads((tmp_path / "session" / "debug" / "summary.json").read_text())["status"]
        == "passed"
    )
