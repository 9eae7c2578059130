"""The Docker sandbox against a real daemon: capture, exit codes, the output cap, copy-not-mount,
the unprivileged user, dependency images cached by requirements, and the errors of a broken
sandbox. Every container and volume a test creates must be gone when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from dockerwatch import RecordingClient, no_leftovers_after_the_module  # noqa: F401

from sandbox.errors import DaemonUnavailable, DependencyInstallError
from sandbox.settings import Limits, SandboxSettings

docker_only = pytest.mark.docker

LIMITS = Limits(wall_s=15, memory_mb=256, cpus=1.0, pids=64, output_bytes=100_000)


@pytest.fixture
def box():
    """A DockerSandbox on the base image (the standard library only) whose creations are noted;
    after each test every container and volume it made must be gone."""
    from sandbox.docker_sandbox import DockerSandbox

    b = DockerSandbox(SandboxSettings(limits=LIMITS))
    b.image = b.settings.base_image
    b.client = RecordingClient(b.client)
    yield b
    if b.client.containers_made:
        b.client.assert_all_removed()


def repo_with(root: Path, files: dict[str, str]) -> Path:
    repo = root / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root``: (content, mode)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------- runs


@docker_only
def test_passing_repo_passes_with_stdout_captured(box, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "main.py": "import numpy as np\nprint('sum', int(np.arange(5).sum()))\n",
            "requirements.txt": "numpy\n",
        },
    )
    tag = box.prepare(repo)
    r = box.run(repo, "python main.py")
    assert r.ok and r.exit_code == 0
    assert r.stdout == "sum 10\n" and r.stderr == ""
    assert not (r.timed_out or r.oom_killed or r.truncated or r.disk_limit_exceeded)
    assert r.sandbox == "docker" and r.image == tag and tag.startswith("paper2code-deps:")
    assert r.command == "python main.py" and 0 < r.duration_s < LIMITS.wall_s


@docker_only
def test_stdout_and_stderr_are_captured_separately(box, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for i in range(3):\n"
        "    print('out', i)\n"
        "    print('err', i, file=sys.stderr)\n"
    )
    r = box.run(repo_with(tmp_path, {"main.py": code}), "python main.py")
    assert r.ok
    assert r.stdout == "out 0\nout 1\nout 2\n"
    assert r.stderr == "err 0\nerr 1\nerr 2\n"


@docker_only
@pytest.mark.parametrize("code", [7, 1, 42])
def test_exit_code_is_propagated(box, tmp_path: Path, code: int) -> None:
    main = f"import sys\nprint('bye', file=sys.stderr)\nsys.exit({code})\n"
    r = box.run(repo_with(tmp_path, {"main.py": main}), "python main.py")
    assert r.exit_code == code and not r.ok
    assert not r.timed_out and not r.oom_killed
    assert r.stderr == "bye\n"


@docker_only
def test_a_python_traceback_comes_back_in_stderr(box, tmp_path: Path) -> None:
    main = "def f():\n    return {}['lr']\n\nf()\n"
    r = box.run(repo_with(tmp_path, {"main.py": main}), "python main.py")
    assert r.exit_code == 1
    assert 'File "/workspace/main.py", line 2' in r.stderr and "KeyError: 'lr'" in r.stderr


@docker_only
def test_output_over_the_cap_is_truncated_keeping_the_tail(box, tmp_path: Path) -> None:
    cap = 4_000
    code = (
        "import sys\n"
        "for i in range(5000):\n"
        "    print(f'line {i:05d}')\n"
        "print('short stderr', file=sys.stderr)\n"
    )
    r = box.run(
        repo_with(tmp_path, {"main.py": code}),
        "python main.py",
        limits=LIMITS.model_copy(update={"output_bytes": cap}),
    )
    assert r.ok and r.truncated
    assert "line 04999\n" in r.stdout and "line 00000" not in r.stdout
    assert "truncated" in r.stdout.splitlines()[0]
    kept = r.stdout.split("\n", 1)[1]
    assert len(kept.encode()) <= cap and len(kept.encode()) > cap - 20
    assert r.stderr == "short stderr\n"  # under the cap: whole


@docker_only
def test_the_repo_is_copied_not_mounted(box, tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {
            "main.py": (
                "import os, pathlib, shutil\n"
                "print(open('data/input.txt').read().strip())\n"
                "os.remove('data/input.txt')\n"
                "shutil.rmtree('pkg')\n"
                "pathlib.Path('created.txt').write_text('new')\n"
                "with open('main.py', 'a') as fh:\n"
                "    fh.write('# appended inside the container\\n')\n"
                "os.chmod('run.sh', 0o777)\n"
                "print(sorted(os.listdir('.')))\n"
            ),
            "data/input.txt": "hello from the host\n",
            "pkg/__init__.py": "X = 1\n",
            "run.sh": "echo hi\n",
        },
    )
    before = snapshot(repo)
    r = box.run(repo, "python main.py")
    assert r.ok, r.stderr
    first, listing = r.stdout.splitlines()
    assert first == "hello from the host"
    assert listing == "['created.txt', 'data', 'main.py', 'run.sh']"
    assert snapshot(repo) == before
    assert not (repo / "created.txt").exists()


@docker_only
def test_the_program_runs_as_uid_1000_with_no_capabilities(box, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"main.py": "pass\n"})
    r = box.run(
        repo,
        "id -u; id -g; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/self/status; "
        "stat -c '%u %a' /workspace /workspace/main.py",
    )
    assert r.ok, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "1000" and lines[1] == "1000"
    status = dict(line.split(":\t") for line in lines[2:6])
    assert int(status["CapEff"], 16) == 0
    assert int(status["CapPrm"], 16) == 0
    assert int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"] == "1"
    assert [ln.split()[0] for ln in lines[6:8]] == ["1000", "1000"]  # the copy is the user's


# ----------------------------------------------------------------------------- images


@docker_only
def test_dependency_image_is_built_once_then_cached(tmp_path: Path) -> None:
    import docker

    from sandbox.docker_sandbox import DockerSandbox

    settings = SandboxSettings(limits=LIMITS)
    repo = repo_with(
        tmp_path,
        {
            "main.py": "import six\nprint('six', six.__version__)\n",
            "requirements.txt": "six==1.17.0\n",
        },
    )
    # a cold start: drop the image an earlier session may have left
    probe = DockerSandbox(settings)
    tag = probe.prepare(repo)
    assert tag.startswith("paper2code-deps:")
    docker.from_env().images.remove(tag, force=True)

    first = DockerSandbox(settings)
    assert first.prepare(repo) == tag and first.builds == 1
    image = docker.from_env().images.get(tag)
    assert image.labels.get("paper2code") == "1"

    second = DockerSandbox(settings)
    assert second.prepare(repo) == tag
    assert second.builds == 0  # a cache hit (its time is bench/sandbox_bench.py's)

    # the same requirements written differently are the same image
    (repo / "requirements.txt").write_text("# pinned\n\nsix==1.17.0   # compat\nsix==1.17.0\n")
    third = DockerSandbox(settings)
    assert third.prepare(repo) == tag and third.builds == 0

    r = second.run(repo, "python main.py")
    assert r.ok and r.stdout == "six 1.17.0\n" and r.image == tag


LIST_DISTS = (
    'python -c "import importlib.metadata as m; '
    "print(sorted(d.metadata['Name'].lower() for d in m.distributions()))\"; "
    "for mod in pip setuptools pkg_resources numpy yaml pytest; do "
    'python -c "import $mod" 2>/dev/null && echo importable $mod; done; true'
)


@docker_only
def test_the_base_image_holds_the_standard_library_only(box, tmp_path: Path) -> None:
    """Hermetic: nothing importable that a repository did not declare, not even pip."""
    r = box.run(repo_with(tmp_path, {"main.py": ""}), LIST_DISTS)
    assert r.ok, r.stderr
    assert r.stdout == "[]\n"


@docker_only
def test_a_dependency_image_holds_exactly_what_is_declared(tmp_path: Path) -> None:
    """numpy declared: numpy importable, nothing else; it comes from the base image's wheelhouse
    without the index (the image is removed first, so this is a real build)."""
    import docker

    from sandbox.docker_sandbox import DockerSandbox

    settings = SandboxSettings(limits=LIMITS)
    repo = repo_with(tmp_path, {"main.py": "", "requirements.txt": "numpy\n"})
    lines: list[str] = []
    probe = DockerSandbox(settings)
    tag = probe.prepare(repo)
    docker.from_env().images.remove(tag, force=True)
    b = DockerSandbox(settings, on_log=lines.append)
    assert b.prepare(repo) == tag and b.builds == 1
    assert "paper2code: installed from local wheels only" in lines
    assert b.deps is not None and b.deps.size_bytes > 0 and b.deps.cpu_pins == []
    assert any(line.startswith(f"paper2code: built dependency image {tag}: ") for line in lines)
    r = b.run(repo, LIST_DISTS)
    assert r.ok, r.stderr
    assert r.stdout == "['numpy']\nimportable numpy\n"
    # a reproduce.sh that starts with `pip install -r requirements.txt` still works offline
    r = b.run(repo, "pip install --no-index -r requirements.txt")
    assert r.ok, r.stderr
    assert "Requirement already satisfied: numpy" in r.stdout


@docker_only
def test_a_base_image_of_the_old_layout_is_refused_with_how_to_rebuild(tmp_path: Path) -> None:
    """A base image from before the hermetic layout (packages preinstalled) must not be used."""
    import io

    import docker

    from sandbox.docker_sandbox import DockerSandbox
    from sandbox.errors import ImageMissing

    c = docker.from_env()
    old = "paper2code-test-old-layout:latest"
    dockerfile = f"FROM {SandboxSettings().base_image}\nLABEL paper2code.base-layout=1\n"
    c.images.build(
        fileobj=io.BytesIO(dockerfile.encode()),
        tag=old,
        labels={"paper2code": "1"},
        rm=True,
        forcerm=True,
    )
    try:
        b = DockerSandbox(SandboxSettings(base_image=old))
        repo = repo_with(tmp_path, {"main.py": "", "requirements.txt": "six\n"})
        with pytest.raises(ImageMissing, match=r"older paper2code.*build-base"):
            b.prepare(repo)
    finally:
        c.images.remove(old, force=True)


@docker_only
def test_empty_requirements_use_the_base_image(tmp_path: Path) -> None:
    from sandbox.docker_sandbox import DockerSandbox

    settings = SandboxSettings(limits=LIMITS)
    repo = repo_with(tmp_path, {"main.py": "", "requirements.txt": "# nothing\n\n"})
    b = DockerSandbox(settings)
    assert b.prepare(repo) == settings.base_image and b.builds == 0


@docker_only
def test_a_requirement_that_does_not_exist_raises_with_the_pip_log(tmp_path: Path) -> None:
    from sandbox.docker_sandbox import DockerSandbox

    repo = repo_with(
        tmp_path, {"main.py": "", "requirements.txt": "this-package-does-not-exist-p2c==1.0\n"}
    )
    b = DockerSandbox(SandboxSettings(limits=LIMITS))
    with pytest.raises(DependencyInstallError, match=r"requirements\.txt") as info:
        b.prepare(repo)
    log = info.value.log
    assert "No matching distribution found for this-package-does-not-exist-p2c==1.0" in log
    assert b.builds == 0 and b.image is None


def test_no_daemon_raises_daemon_unavailable_saying_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sandbox.docker_sandbox import DockerSandbox
    from sandbox.factory import make_sandbox

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    with pytest.raises(DaemonUnavailable) as info:
        DockerSandbox(SandboxSettings())
    message = str(info.value)
    assert "unix:///nonexistent.sock" in message
    assert "dockerd" in message and "--sandbox local" in message
    with pytest.raises(DaemonUnavailable):
        make_sandbox(SandboxSettings(kind="docker"))


# ----------------------------------------------------------------------------- disk report


def test_the_fs_report_is_parsed_and_stripped_from_stderr() -> None:
    from sandbox.docker_sandbox import disk_verdict, split_fs_report

    report = b"\x1ep2c-fs /workspace:0:524288:4096:3085507 /tmp:131072:131072:4096:3085510\n"
    rest, fs = split_fs_report(b"Traceback...\nOSError: [Errno 28]\n" + report)
    assert rest == b"Traceback...\nOSError: [Errno 28]\n"
    assert fs == {
        "/workspace": (2 * 1024**3, 0, 3085507),
        "/tmp": (0, 512 * 2**20, 3085510),
    }
    assert disk_verdict(fs, "", failed=False) == (True, {"/workspace": 2048, "/tmp": 0})
    # a program's last line without a newline gets it back exactly
    rest, _ = split_fs_report(b"no newline" + report)
    assert rest == b"no newline"
    # only the last marker counts (a forged earlier one is program output, left alone)
    forged = b"\x1ep2c-fs /workspace:0:1:4096:1\n"
    rest, fs = split_fs_report(forged + b"x\n" + report)
    assert rest == forged + b"x\n" and fs["/workspace"][1] == 0
    # no marker (killed): no report, stderr untouched
    assert split_fs_report(b"Killed\n") == (b"Killed\n", {})


def test_disk_verdict_rules() -> None:
    from sandbox.docker_sandbox import disk_verdict

    roomy = {"/workspace": (4096, 2**20, 100), "/tmp": (0, 2**20, 100)}
    assert disk_verdict(roomy, "all good", failed=False) == (False, {"/workspace": 0, "/tmp": 0})
    no_inodes = {"/workspace": (4096, 2**20, 0)}
    assert disk_verdict(no_inodes, "", failed=False)[0] is True
    # ENOSPC in the output counts when the run failed (the file may have been deleted since;
    # /dev/shm has no report), not when it passed
    enospc = "OSError: [Errno 28] No space left on device"
    assert disk_verdict(roomy, enospc, failed=True)[0] is True
    assert disk_verdict(roomy, enospc, failed=False)[0] is False
    assert disk_verdict({}, enospc, failed=True) == (True, {})


def test_repo_footprint_counts_whole_pages_and_skips_caches(tmp_path: Path) -> None:
    from sandbox.docker_sandbox import repo_footprint, repo_tar

    repo = repo_with(tmp_path, {"a.py": "x", "pkg/b.bin": "y" * 5000, ".git/objects/big": "z"})
    (repo / "link").symlink_to("a.py")
    assert repo_footprint(repo) == 4096 + 8192
    import io
    import tarfile

    def names(data: bytes) -> list[str]:
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            return tf.getnames()

    marked = names(repo_tar(repo, ready=True)[0])
    assert marked[-1] == ".paper2code-copied" and ".git" not in marked
    assert names(repo_tar(repo)[0]) == marked[:-1]


# ----------------------------------------------------------------------------- CPU builds

CP311 = {"cp311-cp311-manylinux_2_28_x86_64", "cp311-cp311-linux_x86_64", "py3-none-any"}


def _wheels(*names: str) -> list[Path]:
    return [Path("/wheels") / n for n in names]


def test_cpu_pins_prefer_the_newest_local_wheel_that_satisfies_the_requirement() -> None:
    from sandbox.images import constraint_lines, cpu_pins, unpinned_cpu_packages

    wheels = _wheels(
        "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.12.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.14.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",  # another Python
        "torch-2.14.0+cpu-cp311-cp311-macosx_11_0_arm64.whl",  # another platform
        "torch-2.15.0rc1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",  # a pre-release
        "torchvision-0.28.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64.whl",  # not a GPU framework
        "not a wheel.whl",
    )
    gpu = ("torch", "torchvision", "torchaudio")
    pins = cpu_pins(["torch>=2.1", "numpy"], wheels, CP311, gpu)
    assert pins == {"torch": wheels[0]}
    assert constraint_lines(pins) == ["torch==2.13.0+cpu"]
    # every specifier given counts; an unsatisfiable one pins nothing
    assert cpu_pins(["torch>=2.1", "torch<2.13"], wheels, CP311, gpu) == {"torch": wheels[1]}
    assert cpu_pins(["torch==2.1.0"], wheels, CP311, gpu) == {}
    assert cpu_pins(["torch>=2.15.0rc1"], wheels, CP311, gpu) == {"torch": wheels[4]}
    # names are normalized; extras and markers do not matter; only named frameworks are pinned
    both = cpu_pins(
        ["TorchVision[extra]>=0.20 ; python_version >= '3.9'", "Torch"], wheels, CP311, gpu
    )
    assert both == {"torch": wheels[0], "torchvision": wheels[5]}
    assert cpu_pins(["numpy", "-e .", "git+https://x/y.git"], wheels, CP311, gpu) == {}
    assert unpinned_cpu_packages(["torch>=2.1", "torchaudio", "numpy"], pins, gpu) == ["torchaudio"]


def test_the_dependency_build_context_carries_pins_and_the_cpu_index() -> None:
    import io
    import tarfile

    from sandbox.images import deps_context, deps_tag
    from sandbox.settings import PipOptions

    pip = PipOptions(ca_bundle=None, find_links=(), index_url=None)
    data = deps_context(
        ["torch>=2.1"],
        pip,
        [],
        "base:x",
        constraints=["torch==2.13.0+cpu"],
        extra_index_urls=["https://download.pytorch.org/whl/cpu"],
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        dockerfile = tf.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
        constraints = tf.extractfile("p2c/constraints.txt").read().decode()  # type: ignore[union-attr]
    assert constraints == "torch==2.13.0+cpu\n"
    assert "-c /tmp/p2c/constraints.txt" in dockerfile and "--no-index" in dockerfile
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in dockerfile
    assert "--python /opt/venv/bin/python" in dockerfile
    # the CPU settings are part of the image's identity
    gpu = pip.model_copy(update={"cpu_only": False})
    assert deps_tag("id", ["torch"], pip, []) != deps_tag("id", ["torch"], gpu, [])


def test_without_cpu_only_nothing_is_pinned_and_every_wheel_is_offered() -> None:
    """The GPU switch: ``cpu_only=False`` leaves the resolution to pip (and the index)."""
    from sandbox.images import _cpu_plan
    from sandbox.settings import PipOptions

    wheels = _wheels(
        "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.12.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
    )
    gpu_run = SandboxSettings(pip=PipOptions(cpu_only=False))
    assert _cpu_plan(["torch>=2.1"], wheels, gpu_run, None) == (wheels, [], [])


def test_a_framework_without_a_local_wheel_goes_to_the_cpu_index_or_is_warned_about() -> None:
    from sandbox.images import _cpu_plan
    from sandbox.settings import PipOptions

    lines: list[str] = []
    plain = SandboxSettings(pip=PipOptions(find_links=()))
    assert _cpu_plan(["torchaudio"], [], plain, lines.append) == ([], [], [])
    assert "no local CPU wheel satisfies torchaudio" in lines[0]
    url = "https://download.pytorch.org/whl/cpu"
    indexed = SandboxSettings(pip=PipOptions(find_links=(), cpu_index_url=url))
    assert _cpu_plan(["torchaudio", "six"], [], indexed, lines.append) == ([], [], [url])
    assert lines[1] == f"paper2code: torchaudio from the CPU index {url}"
    # no GPU framework named: nothing to say, nothing added
    assert _cpu_plan(["six"], [], indexed, lines.append) == ([], [], [])
    assert len(lines) == 2


def _local_torch_wheel(settings: SandboxSettings) -> Path | None:
    for folder in settings.pip.find_links:
        for whl in sorted(Path(folder).glob("torch-*+cpu-*.whl")):
            return whl
    return None


@docker_only
@pytest.mark.slow
def test_torch_resolves_to_the_local_cpu_wheel_without_nvidia_packages(tmp_path: Path) -> None:
    """``torch>=2.1`` with a CPU wheel in find-links (``$PIP_FIND_LINKS``): the index's newest
    torch is a CUDA build with a dozen nvidia-* packages; the image gets the local CPU wheel.
    One build (cached afterwards, like any dependency image)."""
    from conftest import in_ci

    from sandbox.docker_sandbox import DockerSandbox
    from sandbox.images import constraint_lines

    settings = SandboxSettings(limits=LIMITS.model_copy(update={"wall_s": 120, "memory_mb": 2048}))
    whl = _local_torch_wheel(settings)
    if whl is None:
        message = f"no torch CPU wheel in find_links {settings.pip.find_links} ($PIP_FIND_LINKS)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    pin = constraint_lines({"torch": whl})[0]
    repo = repo_with(
        tmp_path,
        {
            "main.py": "import torch\nprint(torch.__version__, torch.cuda.is_available())\n",
            "requirements.txt": "torch>=2.1\n",
        },
    )
    lines: list[str] = []
    b = DockerSandbox(settings, on_log=lines.append)
    b.prepare(repo)
    assert b.deps is not None and b.deps.cpu_pins == [pin]
    if b.builds:
        assert f"paper2code: pinned {pin} (a local CPU wheel)" in lines
    assert any(line.startswith("paper2code: ") and line.endswith(" MiB") for line in lines)
    assert b.deps.size_bytes < 2.5 * 1024**3, b.deps.size_bytes
    r = b.run(repo, f"python main.py && {LIST_DISTS}")
    assert r.ok, r.stderr[-2000:]
    first, dists = r.stdout.splitlines()[:2]
    assert first == f"{pin.split('==')[1]} False"
    assert "'torch'" in dists and "nvidia" not in dists and "triton" not in dists
