"""A repository is hostile: a symbolic link to a host file, a hard link to one, and a fifo
never bring the host's data into a sandbox, through any entry point — both sandboxes directly,
``paper2code smoke``, ``paper2code debug``, and ``generate``'s debug stage — and what was left
out is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paper2code.demo_run import demo_paper, demo_settings
from paper2code.llm import build_clients
from paper2code.pipeline import Pipeline
from paper2code.progress import SilentReporter
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import Transcript
from sandbox.local import LocalSandbox
from sandbox.settings import SandboxSettings

BIN = Path(sys.executable).parent / "paper2code"
SECRET = "canary-4f1c9e-host-only"
READER = """\
import os
for name in ("shadow_link", "hard_link", "pipe"):
    try:
        with open(name) as fh:
            print(name, "READ", fh.read(200))
    except OSError as exc:
        print(name, "refused", type(exc).__name__)
print("done")
"""


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    secret = tmp_path / "host" / "canary.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    return secret


def plant(repo: Path, canary: Path) -> None:
    """The hostile entries, beside a program that tries to read them."""
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "main.py").write_text(READER)
    (repo / "shadow_link").symlink_to(canary)
    os.link(canary, repo / "hard_link")
    os.mkfifo(repo / "pipe")


def no_secret_under(root: Path, *, planted: Path | None = None) -> None:
    for path in root.rglob("*"):
        if planted is not None and path.is_relative_to(planted):
            continue  # where the test put the hostile entries itself
        if path.is_file() and not path.is_symlink():
            assert SECRET not in path.read_text(errors="replace"), path


def test_local_sandbox_never_reads_a_host_file(tmp_path: Path, canary: Path) -> None:
    repo = tmp_path / "repo"
    plant(repo, canary)
    r = LocalSandbox(SandboxSettings(kind="local")).run(repo, f"{sys.executable} main.py")
    assert r.ok and "done" in r.stdout and SECRET not in r.stdout + r.stderr
    assert "READ" not in r.stdout
    assert {d.split(":")[0] for d in r.dropped} == {"shadow_link", "hard_link", "pipe"}


@pytest.mark.docker
def test_docker_sandbox_and_smoke_never_read_a_host_file(tmp_path: Path, canary: Path) -> None:
    from sandbox.docker_sandbox import DockerSandbox

    repo = tmp_path / "repo"
    plant(repo, canary)
    r = DockerSandbox(SandboxSettings()).run(repo, "python main.py")
    assert r.ok and "done" in r.stdout and SECRET not in r.stdout + r.stderr
    assert len(r.dropped) == 3
    cli = subprocess.run(
        [str(BIN), "smoke", str(repo), "--command", "python main.py"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert SECRET not in cli.stdout + cli.stderr
    assert "not copied into the sandbox: shadow_link" in " ".join(cli.stderr.split())


@pytest.mark.docker
def test_debug_never_copies_a_host_file(tmp_path: Path, canary: Path) -> None:
    repo = tmp_path / "repo"
    plant(repo, canary)
    out = tmp_path / "session"
    r = subprocess.run(
        [
            str(BIN),
            "debug",
            str(repo),
            "--out",
            str(out),
            "--no-model",
            "--command",
            "python main.py",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    for copy in ("repo", "repo.generated"):
        assert not (out / copy / "shadow_link").exists()
        assert not (out / copy / "shadow_link").is_symlink()
        assert not (out / copy / "hard_link").exists() and not (out / copy / "pipe").exists()
    no_secret_under(out)
    summary = json.loads((out / "debug" / "summary.json").read_text())
    assert len(summary["dropped"]) == 3
    assert any(
        d.startswith("shadow_link") and "outside the repository" in d for d in summary["dropped"]
    )


@pytest.mark.docker
@pytest.mark.slow
async def test_generate_debug_stage_never_copies_a_host_file(tmp_path: Path, canary: Path) -> None:
    out = tmp_path / "run"
    paper = demo_paper(tmp_path / "paper.md")
    with LoopbackServer(Transcript.load()) as server:
        settings = demo_settings(server.base_url)
        clients, structured = build_clients(settings, out)
        p = Pipeline(
            settings, out, clients=clients, reporter=SilentReporter(), structured_output=structured
        )
        await p.run(paper, stages=["ingest", "plan", "analyze", "code"])
        plant(out / "coding" / "repo", canary)  # hostile entries in the coded draft
        (out / "coding" / "repo" / "main.py").unlink()  # the demo's own main.py stays coded
        (out / "coding" / "repo" / "main.py").write_text(
            Path(Transcript.load().files_dir / "main.py").read_text()  # type: ignore[operator]
        )
        outcome = await p.run(paper)
    assert outcome.status == "done"
    for copy in ("verify/repo", "repo.generated", "repo"):
        assert not any(
            (out / copy / n).exists() or (out / copy / n).is_symlink()
            for n in ("shadow_link", "hard_link", "pipe")
        )
    no_secret_under(out, planted=out / "coding" / "repo")
    manifest = json.loads((out / "run.json").read_text())
    assert any("shadow_link" in w and "outside the repository" in w for w in manifest["warnings"])
