"""Hostile programs in the Docker sandbox: every limit holds, the host is untouched, and the
container and its volume are removed whatever the program did."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from dockerwatch import RecordingClient, no_leftovers_after_the_module  # noqa: F401

from sandbox.settings import Limits, SandboxSettings

pytestmark = [pytest.mark.docker]

LIMITS = Limits(wall_s=10, memory_mb=192, cpus=1.0, pids=64, output_bytes=50_000)


@pytest.fixture
def box():
    from sandbox.docker_sandbox import DockerSandbox

    b = DockerSandbox(SandboxSettings(limits=LIMITS))
    b.image = b.settings.base_image  # the base image has what these programs need
    b.client = RecordingClient(b.client)
    yield b
    b.client.assert_all_removed()


def repo_with(tmp_path: Path, code: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(code)
    return repo


def test_infinite_loop_times_out_near_the_limit(box, tmp_path: Path) -> None:
    wall = 3.0
    repo = repo_with(tmp_path, "print('spinning', flush=True)\nwhile True:\n    pass\n")
    t0 = time.monotonic()
    r = box.run(repo, "python main.py", limits=LIMITS.model_copy(update={"wall_s": wall}))
    elapsed = time.monotonic() - t0
    assert r.timed_out and r.exit_code is None and not r.ok and not r.oom_killed
    assert wall <= r.duration_s < wall + 2
    assert elapsed < wall + 5
    assert r.stdout == "spinning\n"  # output up to the kill is kept
    box.client.assert_all_removed()


def test_sleeping_shell_children_are_killed_at_the_limit_too(box, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, "")
    t0 = time.monotonic()
    r = box.run(
        repo,
        "sleep 300 & sleep 300 & wait",
        limits=LIMITS.model_copy(update={"wall_s": 2}),
    )
    assert r.timed_out and r.exit_code is None
    assert time.monotonic() - t0 < 7


def test_memory_hog_is_oom_killed(box, tmp_path: Path) -> None:
    code = (
        "blocks = []\n"
        "for i in range(20):  # 20 x 50 MiB = 1 GiB, every page touched\n"
        "    blocks.append(b'x' * (50 * 1024 * 1024))\n"
        "    print('allocated', (i + 1) * 50, 'MiB', flush=True)\n"
        "print('SURVIVED')\n"
    )
    r = box.run(repo_with(tmp_path, code), "python main.py")
    assert r.oom_killed, (r.exit_code, r.stderr[-500:])
    assert not r.ok and not r.timed_out and r.exit_code == 137
    assert "SURVIVED" not in r.stdout
    reached = [int(line.split()[1]) for line in r.stdout.splitlines()]
    assert reached and max(reached) <= LIMITS.memory_mb


def test_python_fork_loop_is_refused_at_the_pids_limit(box, tmp_path: Path) -> None:
    code = (
        "import os, time\n"
        "children = 0\n"
        "for _ in range(1000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "    except OSError as exc:\n"
        "        print('refused after', children, exc.errno, flush=True)\n"
        "        break\n"
        "else:\n"
        "    print('never refused', flush=True)\n"
        "os._exit(3)\n"
    )
    r = box.run(
        repo_with(tmp_path, code), "python main.py", limits=LIMITS.model_copy(update={"wall_s": 8})
    )
    assert r.exit_code == 3, (r.stdout, r.stderr[-300:])
    assert "never refused" not in r.stdout
    children = int(r.stdout.split("refused after")[1].split()[0])
    assert 0 < children < LIMITS.pids


def test_bash_fork_bomb_ends_and_the_host_is_fine(box, tmp_path: Path) -> None:
    wall = 4.0
    repo = repo_with(tmp_path, "")
    # the classic bomb, while the main shell stays alive until the wall-clock limit
    (repo / "bomb.sh").write_text("bomb() { bomb | bomb & }\nbomb\nsleep 60\n")
    t0 = time.monotonic()
    r = box.run(repo, "bash bomb.sh", limits=LIMITS.model_copy(update={"wall_s": wall}))
    elapsed = time.monotonic() - t0
    assert r.timed_out and r.exit_code is None and not r.ok
    assert "Resource temporarily unavailable" in r.stderr  # fork refused: the pids limit held
    assert elapsed < wall + 10
    # the test process can still start processes: nothing leaked onto the host
    assert subprocess.run(["true"], check=False).returncode == 0
    assert os.getloadavg()[0] >= 0


def test_network_is_unreachable(box, tmp_path: Path) -> None:
    code = (
        "import os, socket\n"
        "print('interfaces', sorted(os.listdir('/sys/class/net')))\n"
        "try:\n"
        "    socket.getaddrinfo('pypi.org', 443)\n"
        "    print('RESOLVED')\n"
        "except OSError as exc:\n"
        "    print('dns failed', type(exc).__name__)\n"
        "s = socket.socket()\n"
        "s.settimeout(3)\n"
        "s.connect(('1.1.1.1', 53))\n"
        "print('CONNECTED')\n"
    )
    r = box.run(repo_with(tmp_path, code), "python main.py")
    assert r.exit_code not in (0, None)
    assert "interfaces ['lo']" in r.stdout
    assert "dns failed" in r.stdout and "RESOLVED" not in r.stdout
    assert "CONNECTED" not in r.stdout
    assert "OSError" in r.stderr and "Network is unreachable" in r.stderr


def test_pip_cannot_download(box, tmp_path: Path) -> None:
    # the program's venv has no pip (hermetic); the image's own pip lives outside it
    r = box.run(
        repo_with(tmp_path, ""),
        "/opt/paper2code/tools/bin/python -m pip download --no-deps --retries 0 --timeout 3 "
        "-d /tmp/dl six",
        limits=LIMITS.model_copy(update={"wall_s": 20}),
    )
    assert r.exit_code not in (0, None) and not r.timed_out
    assert "No matching distribution found for six" in r.stderr
    assert "Saved" not in r.stdout


def test_writes_outside_the_workspace_fail_and_scratch_space_works(box, tmp_path: Path) -> None:
    code = (
        "import os\n"
        "for target in ['/etc/evil', '/usr/evil', '/usr/local/bin/evil', '/opt/venv/evil',\n"
        "               '/opt/venv/bin/python', '/evil', '/root/evil']:\n"
        "    try:\n"
        "        with open(target, 'a') as fh:\n"
        "            fh.write('x')\n"
        "        print('WROTE', target)\n"
        "    except OSError as exc:\n"
        "        print('refused', target, exc.strerror)\n"
        "for scratch in ['/tmp/ok', '/workspace/ok', os.path.expanduser('~/ok')]:\n"
        "    with open(scratch, 'w') as fh:\n"
        "        fh.write('x')\n"
        "    print('wrote', scratch)\n"
        "for line in open('/proc/self/mounts'):\n"
        "    dev, point, fs, opts = line.split()[:4]\n"
        "    if point in ('/', '/workspace', '/tmp'):\n"
        "        print('mount', point, fs, opts)\n"
    )
    repo = repo_with(tmp_path, code)
    r = box.run(repo, "python main.py")
    assert r.ok, r.stderr
    assert "WROTE" not in r.stdout
    refused = [line for line in r.stdout.splitlines() if line.startswith("refused")]
    assert len(refused) == 7
    assert all(("Read-only" in line or "Permission denied" in line) for line in refused)
    assert "wrote /workspace/ok" in r.stdout
    assert r.stdout.count("wrote /tmp/ok") == 2  # /tmp, and $HOME which is /tmp
    assert not (repo / "ok").exists()
    mounts = {
        line.split()[1]: (line.split()[2], set(line.split()[3].split(",")))
        for line in r.stdout.splitlines()
        if line.startswith("mount ")
    }
    assert "ro" in mounts["/"][1]  # a read-only root filesystem, not just file permissions
    assert "rw" in mounts["/workspace"][1]
    assert mounts["/tmp"][0] == "tmpfs" and {"rw", "nosuid", "nodev"} <= mounts["/tmp"][1]


def test_the_host_is_out_of_reach(box, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "host-secret.txt"
    secret.parent.mkdir()
    secret.write_text("original")
    code = (
        "import os\n"
        f"secret = {str(secret)!r}\n"
        "for path in [secret, '/var/run/docker.sock', '/run/docker.sock']:\n"
        "    print(path, 'exists' if os.path.exists(path) else 'missing')\n"
        "try:\n"
        "    os.makedirs(os.path.dirname(secret), exist_ok=True)\n"
        "    with open(secret, 'w') as fh:\n"
        "        fh.write('tampered')\n"
        "    print('wrote a file of that name, inside the container')\n"
        "except OSError as exc:\n"
        "    print('refused', exc.strerror)\n"
        "print('root entries', sorted(os.listdir('/'))[:40])\n"
    )
    repo = repo_with(tmp_path, code)
    r = box.run(repo, "python main.py")
    assert r.ok, r.stderr
    assert f"{secret} missing" in r.stdout
    assert "/var/run/docker.sock missing" in r.stdout and "/run/docker.sock missing" in r.stdout
    assert secret.read_text() == "original"
    assert sorted(p.name for p in secret.parent.iterdir()) == ["host-secret.txt"]


# ----------------------------------------------------------------------------- disk


WRITE_3_GIB = (
    "import sys\n"
    "written = 0\n"
    "chunk = b'x' * 2**20\n"
    "with open('runaway.bin', 'wb') as fh:\n"
    "    while written < 3 * 1024:  # 3 GiB, in MiB\n"
    "        fh.write(chunk)\n"
    "        written += 1\n"
    "        if written % 256 == 0:\n"
    "            print('written', written, 'MiB', flush=True)\n"
    "print('SURVIVED')\n"
)


def _docker_disk_free() -> int:
    """Free bytes on the filesystem of the daemon's data root (where volumes and layers live)."""
    import shutil

    import docker

    root = docker.from_env().info().get("DockerRootDir", "/var/lib/docker")
    return shutil.disk_usage(root).free


@pytest.mark.slow
def test_a_3_gib_write_is_stopped_at_the_workspace_limit(box, tmp_path: Path) -> None:
    """The workspace is capped (2 GiB here, the default): the write fails with ENOSPC, the
    verdict is the disk limit (not a timeout, not OOM), and nothing reached the host's disk.
    memory_mb is above the cap, as the settings ask, since tmpfs pages count toward it."""
    limits = LIMITS.model_copy(update={"wall_s": 60, "memory_mb": 3072, "workspace_mb": 2048})
    free_before = _docker_disk_free()
    t0 = time.monotonic()
    r = box.run(repo_with(tmp_path, WRITE_3_GIB), "python main.py", limits=limits)
    elapsed = time.monotonic() - t0
    free_after = _docker_disk_free()
    assert r.disk_limit_exceeded, (r.exit_code, r.stderr[-500:])
    assert not r.ok and not r.timed_out and not r.oom_killed and r.exit_code == 1
    assert "OSError: [Errno 28] No space left on device" in r.stderr
    assert "SURVIVED" not in r.stdout
    reached = [int(line.split()[1]) for line in r.stdout.splitlines()]
    assert 1792 <= reached[-1] <= 2048  # up to the cap (the last write may be buffered), no more
    assert r.disk_used_mb["/workspace"] == 2048 and r.disk_used_mb["/tmp"] == 0
    assert "p2c-fs" not in r.stderr  # the wrapper's report is stripped
    assert elapsed < 45
    # 2 GiB were written before the cap stopped it; none of it landed on the host's disk
    assert free_before - free_after < 1024**3


def test_filling_tmp_is_a_disk_verdict_too(box, tmp_path: Path) -> None:
    box.settings = box.settings.model_copy(update={"tmp_mb": 64})
    code = (
        "import os\n"
        "with open('/tmp/fill', 'wb') as fh:\n"
        "    for _ in range(128):\n"
        "        fh.write(b'x' * 2**20)\n"
    )
    r = box.run(repo_with(tmp_path, code), "python main.py")
    assert r.disk_limit_exceeded and not r.ok and not r.oom_killed and not r.timed_out
    assert r.disk_used_mb == {"/workspace": 0, "/tmp": 64}
    assert "No space left on device" in r.stderr


def test_a_program_that_swallows_enospc_still_does_not_pass(box, tmp_path: Path) -> None:
    """Writes were refused: exit code 0 does not make it a pass (a full filesystem at the end
    is the verdict, whatever the program did with the error)."""
    code = (
        "try:\n"
        "    with open('log.txt', 'wb') as fh:\n"
        "        fh.write(b'x' * 40 * 2**20)\n"
        "except OSError as exc:\n"
        "    print('ignored', exc.errno)\n"
        "print('done')\n"
    )
    limits = LIMITS.model_copy(update={"workspace_mb": 16})
    r = box.run(repo_with(tmp_path, code), "python main.py", limits=limits)
    assert r.exit_code == 0 and r.stdout == "ignored 28\ndone\n"
    assert r.disk_limit_exceeded and not r.ok
    assert r.disk_used_mb["/workspace"] == 16


def test_files_count_toward_memory_so_a_small_memory_limit_ends_in_oom(box, tmp_path: Path) -> None:
    """The documented interplay: with memory_mb below workspace_mb, a runaway write is killed
    by the memory limit first. The host is protected either way; the files' size is reported."""
    code = (
        "with open('big.bin', 'wb') as fh:\n"
        "    for i in range(1024):\n"
        "        fh.write(b'x' * 2**20)\n"
        "print('SURVIVED')\n"
    )
    limits = LIMITS.model_copy(update={"memory_mb": 192, "workspace_mb": 2048})
    r = box.run(repo_with(tmp_path, code), "python main.py", limits=limits)
    assert r.oom_killed and not r.disk_limit_exceeded and not r.ok
    assert "SURVIVED" not in r.stdout
    assert 64 <= r.disk_used_mb["/workspace"] <= 192


def test_a_repository_larger_than_the_workspace_is_not_run(tmp_path: Path) -> None:
    from sandbox.docker_sandbox import DockerSandbox

    b = DockerSandbox(SandboxSettings(limits=LIMITS.model_copy(update={"workspace_mb": 1})))
    b.image = b.settings.base_image
    b.client = RecordingClient(b.client)
    repo = repo_with(tmp_path, "print('ran')\n")
    (repo / "data.bin").write_bytes(b"\0" * (2 * 2**20))
    r = b.run(repo, "python main.py")
    assert r.disk_limit_exceeded and not r.ok and r.exit_code is None
    assert "does not fit in the workspace limit (1 MiB)" in r.stderr and r.stdout == ""
    assert r.disk_used_mb == {"/workspace": 2}
    assert b.client.containers_made == [] and b.client.volumes_made == []
    # under the limit it fits and runs
    (repo / "data.bin").write_bytes(b"\0" * (2**20 - 64 * 1024))
    ok = b.run(repo, "python main.py")
    assert ok.ok and ok.stdout == "ran\n" and ok.disk_used_mb["/workspace"] == 1
    b.client.assert_all_removed()


def test_stderr_is_returned_exactly_around_the_report(box, tmp_path: Path) -> None:
    code = "import sys\nprint('out')\nsys.stderr.write('no newline at the end')\n"
    r = box.run(repo_with(tmp_path, code), "python main.py")
    assert r.ok and r.stdout == "out\n" and r.stderr == "no newline at the end"
    assert r.disk_used_mb == {"/workspace": 0, "/tmp": 0} and not r.disk_limit_exceeded
