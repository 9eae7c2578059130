"""``--sandbox local``: the sandbox contract with a subprocess, a temporary copy of the repository,
resource limits, a process-group kill on timeout, and a virtualenv per requirements."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from sandbox.factory import make_sandbox
from sandbox.local import LocalSandbox, can_unshare_network
from sandbox.settings import Limits, SandboxSettings

LIMITS = Limits(wall_s=15, memory_mb=512, cpus=1.0, pids=256, output_bytes=100_000)


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venvs")


@pytest.fixture(scope="module")
def box(venvs: Path, tmp_path_factory: pytest.TempPathFactory) -> LocalSandbox:
    """A local sandbox prepared once with an empty requirements.txt (a venv under ``venvs``)."""
    b = make_sandbox(SandboxSettings(kind="local", limits=LIMITS, venv_cache=venvs))
    assert isinstance(b, LocalSandbox)
    empty = tmp_path_factory.mktemp("empty")
    (empty / "requirements.txt").write_text("")
    b.prepare(empty)
    return b


def repo_with(root: Path, files: dict[str, str]) -> Path:
    repo = root / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def alive(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie counts as dead)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "zombie" not in state and "(dead)" not in state


def test_prepare_with_an_empty_requirements_file_makes_a_cached_venv(
    box: LocalSandbox, venvs: Path, tmp_path: Path
) -> None:
    envs = [p for p in venvs.iterdir() if p.is_dir()]
    assert len(envs) == 1 and (envs[0] / ".ready").is_file()
    assert box.python == str(envs[0] / "bin" / "python") and box.builds == 1
    # the same (empty) requirements again: nothing is built
    repo = repo_with(tmp_path, {"main.py": "", "requirements.txt": "# none\n"})
    assert box.prepare(repo) == str(envs[0]) and box.builds == 1
    r = box.run(repo, "python -c 'import sys; print(sys.prefix)'")
    assert r.ok and r.stdout.strip() == str(envs[0])


def test_passing_repo_passes_with_output_and_exit_code(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {"main.py": "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(0)\n"},
    )
    r = box.run(repo, "python main.py")
    assert r.ok and r.sandbox == "local" and r.exit_code == 0
    assert r.stdout == "out\n" and r.stderr.endswith("err\n") and "out" not in r.stderr
    failing = box.run(repo, "python main.py; exit 5")
    assert failing.exit_code == 5 and not failing.ok and not failing.timed_out


def test_the_repo_is_not_modified(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "main.py": (
                "import os, shutil\n"
                "print(open('data/x.txt').read().strip())\n"
                "os.remove('data/x.txt')\n"
                "shutil.rmtree('pkg')\n"
                "open('created.txt', 'w').write('new')\n"
                "open('main.py', 'a').write('# appended\\n')\n"
            ),
            "data/x.txt": "from the repo\n",
            "pkg/__init__.py": "",
        },
    )
    before = snapshot(repo)
    r = box.run(repo, "python main.py")
    assert r.ok, r.stderr
    assert r.stdout == "from the repo\n"
    assert snapshot(repo) == before


def test_infinite_loop_times_out_and_its_process_group_is_killed(
    box: LocalSandbox, tmp_path: Path
) -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
        "print('child', child.pid, flush=True)\n"
        "while True:\n"
        "    time.sleep(0.01)\n"
    )
    repo = repo_with(tmp_path, {"main.py": code})
    wall = 2.0
    t0 = time.monotonic()
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"wall_s": wall}))
    elapsed = time.monotonic() - t0
    assert r.timed_out and r.exit_code is None and not r.ok
    assert wall <= elapsed < wall + 5
    child = int(r.stdout.split("child", 1)[1].split()[0])
    deadline = time.monotonic() + 3
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the grandchild survived the timeout"


def test_memory_limit_yields_memory_error(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"main.py": "x = bytearray(1024 ** 3)\nprint('ALLOCATED')\n"})
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"memory_mb": 256}))
    assert r.exit_code not in (0, None) and not r.ok
    assert "MemoryError" in r.stderr and "ALLOCATED" not in r.stdout
    assert r.oom_killed
    # the same program under a roomier limit succeeds: the limit, not the program, failed it
    roomy = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"memory_mb": 4096}))
    assert roomy.ok and "ALLOCATED" in roomy.stdout


def test_a_file_past_the_workspace_limit_is_a_disk_verdict(
    box: LocalSandbox, tmp_path: Path
) -> None:
    """Per file only (RLIMIT_FSIZE): Python gets EFBIG, a shell is killed by SIGXFSZ."""
    limits = LIMITS.model_copy(update={"workspace_mb": 4})
    code = (
        "with open('big.bin', 'wb') as fh:\n"
        "    for i in range(8):\n"
        "        fh.write(b'x' * 2**20)\n"
        "        print('wrote', i + 1, 'MiB', flush=True)\n"
    )
    r = box.run(repo_with(tmp_path / "py", {"main.py": code}), "python main.py", limits=limits)
    assert r.disk_limit_exceeded and not r.ok and not r.oom_killed and not r.timed_out
    assert "File too large" in r.stderr and r.stdout.splitlines()[-1] == "wrote 4 MiB"
    shell = box.run(
        repo_with(tmp_path / "sh", {"x": ""}),
        "exec dd if=/dev/zero of=big bs=1M count=8",
        limits=limits,
    )
    assert shell.disk_limit_exceeded and shell.exit_code == -25  # SIGXFSZ
    # under the limit, nothing is reported
    ok = box.run(repo_with(tmp_path / "ok", {"main.py": code}), "python main.py")
    assert ok.ok and not ok.disk_limit_exceeded


def test_output_over_the_cap_keeps_the_tail(box: LocalSandbox, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"main.py": "for i in range(3000):\n    print(f'row {i:04d}')\n"})
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"output_bytes": 1000}))
    assert r.ok and r.truncated
    assert "row 2999" in r.stdout and "row 0000" not in r.stdout


@pytest.mark.skipif(
    not can_unshare_network(),
    reason="`unshare -rn` does not work here: --sandbox local cannot cut the network",
)
def test_network_is_cut(box: LocalSandbox, tmp_path: Path) -> None:
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        "s.settimeout(3)\n"
        "s.connect(('1.1.1.1', 53))\n"
        "print('CONNECTED')\n"
    )
    r = box.run(repo_with(tmp_path, {"main.py": code}), "python main.py")
    assert not r.ok and "CONNECTED" not in r.stdout
    assert "OSError" in r.stderr and "[paper2code: network" not in r.stderr
    networked = box.run(
        repo_with(tmp_path / "b", {"main.py": "print('ran')\n"}),
        "python main.py",
        limits=LIMITS.model_copy(update={"network": True}),
    )
    assert networked.ok and networked.stdout == "ran\n"


def test_local_sandbox_uses_the_interpreter_it_was_given(tmp_path: Path) -> None:
    """Before ``prepare``, commands run with the interpreter paper2code itself runs on."""
    b = LocalSandbox(SandboxSettings(kind="local", limits=LIMITS, venv_cache=tmp_path / "v"))
    r = b.run(repo_with(tmp_path, {"main.py": ""}), "python -c 'import sys; print(sys.prefix)'")
    assert r.ok and r.stdout.strip() == sys.prefix
    assert not (tmp_path / "v").exists()
