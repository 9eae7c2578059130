"""Hostile code in the Docker sandbox: every limit holds, and no container is left behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox.settings import Limits, SandboxSettings

pytestmark = [pytest.mark.docker]

LIMITS = Limits(wall_s=8, memory_mb=192, cpus=1.0, pids=48, output_bytes=20_000)


@pytest.fixture(scope="module")
def box():
    from sandbox.docker_sandbox import DockerSandbox

    b = DockerSandbox(SandboxSettings(limits=LIMITS))
    b.image = b.settings.base_image  # the base image has what these programs need
    return b


@pytest.fixture(autouse=True)
def no_leftovers():
    yield
    import docker

    c = docker.from_env()
    assert c.containers.list(all=True, filters={"label": "paper2code=1"}) == []
    assert c.volumes.list(filters={"label": "paper2code=1"}) == []


def repo_with(tmp_path: Path, code: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(code)
    return repo


def test_infinite_loop_times_out_and_container_is_gone(box, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, "while True:\n    pass\n")
    t0 = time.monotonic()
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"wall_s": 3}))
    elapsed = time.monotonic() - t0
    assert r.timed_out and r.exit_code is None and not r.ok
    assert 3 <= elapsed < 15


def test_memory_hog_is_reported_as_oom(box, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path, "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n"
    )
    r = box.run(repo, "python main.py")
    assert r.oom_killed, (r.exit_code, r.stderr[-500:])
    assert not r.ok


def test_fork_bomb_is_held_by_the_pids_limit(box, tmp_path: Path) -> None:
    code = (
        "import os, time\n"
        "children = 0\n"
        "for _ in range(1000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "    except OSError as exc:\n"
        "        print('fork refused after', children, exc)\n"
        "        break\n"
        "os._exit(0)\n"
    )
    r = box.run(
        repo_with(tmp_path, code), "python main.py", limits=LIMITS.model_copy(update={"wall_s": 6})
    )
    assert "fork refused after" in r.stdout
    refused_after = int(r.stdout.split("fork refused after")[1].split()[0])
    assert refused_after < LIMITS.pids


def test_no_network(box, tmp_path: Path) -> None:
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        "s.settimeout(3)\n"
        "s.connect(('1.1.1.1', 53))\n"
        "print('connected')\n"
    )
    r = box.run(repo_with(tmp_path, code), "python main.py")
    assert r.exit_code != 0 and "connected" not in r.stdout
    assert "OSError" in r.stderr or "unreachable" in r.stderr.lower()


def test_writes_outside_the_workspace_fail_and_the_host_is_untouched(box, tmp_path: Path) -> None:
    host_file = tmp_path / "host-secret.txt"
    host_file.write_text("original")
    code = (
        "import os\n"
        f"targets = ['/etc/evil', '/usr/evil', '/opt/venv/evil', {str(host_file)!r}]\n"
        "for t in targets:\n"
        "    try:\n"
        "        open(t, 'w').write('x')\n"
        "        print('WROTE', t)\n"
        "    except OSError as exc:\n"
        "        print('refused', t, type(exc).__name__)\n"
        "open('/tmp/ok', 'w').write('x')\n"
        "open('/workspace/ok', 'w').write('x')\n"
        "print('scratch ok')\n"
        "print(os.getuid(), open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
    )
    repo = repo_with(tmp_path, code)
    r = box.run(repo, "python main.py")
    assert r.ok, r.stderr
    assert "WROTE" not in r.stdout
    assert r.stdout.count("refused") == 4
    assert "scratch ok" in r.stdout
    uid, caps = r.stdout.strip().splitlines()[-1].split()
    assert uid == "1000" and int(caps, 16) == 0
    assert host_file.read_text() == "original"
    assert not (repo / "ok").exists()  # the workspace is a copy: the user's tree is untouched


def test_output_is_capped_keeping_the_tail(box, tmp_path: Path) -> None:
    code = "import sys\nfor i in range(20000):\n    print('line', i)\nprint('THE END', file=sys.stderr)\n"
    r = box.run(repo_with(tmp_path, code), "python main.py")
    assert r.ok and r.truncated
    assert len(r.stdout) < 25_000 and "line 19999" in r.stdout and "line 0\n" not in r.stdout
    assert "THE END" in r.stderr
