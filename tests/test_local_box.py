"""`--sandbox local`: the same contract with a subprocess, resource limits and a temp copy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox.factory import make_sandbox
from sandbox.local import LocalSandbox, can_unshare_network
from sandbox.settings import Limits, SandboxSettings

LIMITS = Limits(wall_s=10, memory_mb=512, pids=64)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> LocalSandbox:
    settings = SandboxSettings(
        kind="local", limits=LIMITS, venv_cache=tmp_path_factory.mktemp("venvs")
    )
    b = make_sandbox(settings)
    assert isinstance(b, LocalSandbox)
    empty = tmp_path_factory.mktemp("empty")
    b.prepare(empty)  # a venv without requirements
    return b


def repo_with(tmp_path: Path, code: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(code)
    return repo


def test_passing_repo_and_the_original_is_not_modified(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        "import os\nopen('created.txt', 'w').write('x')\nos.remove('main.py')\nprint('done')\n",
    )
    r = box.run(repo, "python main.py")
    assert r.ok and r.sandbox == "local" and "done" in r.stdout
    assert (repo / "main.py").exists() and not (repo / "created.txt").exists()


def test_infinite_loop_is_killed_with_its_process_group(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'while True: pass'])\nwhile True:\n    pass\n",
    )
    t0 = time.monotonic()
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"wall_s": 2}))
    assert r.timed_out and r.exit_code is None
    assert time.monotonic() - t0 < 10


def test_memory_limit_applies(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, "x = bytearray(2 * 1024 ** 3)\nprint('allocated')\n")
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"memory_mb": 256}))
    assert not r.ok and "allocated" not in r.stdout
    assert "MemoryError" in r.stderr and r.oom_killed


def test_network_is_cut_where_the_os_allows(box: LocalSandbox, tmp_path: Path) -> None:
    if not can_unshare_network():
        pytest.skip("unshare -rn is not available here: --sandbox local cannot cut the network")
    repo = repo_with(
        tmp_path,
        "import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('1.1.1.1', 53))\nprint('connected')\n",
    )
    r = box.run(repo, "python main.py")
    assert not r.ok and "connected" not in r.stdout


def test_unknown_sandbox_kind_lists_the_valid_ones() -> None:
    from sandbox.errors import SandboxError

    settings = SandboxSettings()
    object.__setattr__(settings, "kind", "vm")
    with pytest.raises(SandboxError, match="docker, local"):
        make_sandbox(settings)
