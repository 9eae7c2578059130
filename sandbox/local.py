"""``--sandbox local``: the sandbox contract with a subprocess, for machines without Docker.

Less isolated than Docker and only used when the user asks for it. The repository is copied to a
temporary folder; the program runs in its own session with resource limits (address space,
processes, CPU time), is killed with its whole process group on timeout, and loses network
access where ``unshare -rn`` works (user namespaces); where it does not, the run is marked as
networked in its stderr header. Dependencies go into a virtualenv per requirements hash.
Disk use is bounded per file only (``RLIMIT_FSIZE`` = ``Limits.workspace_mb``): a file that
outgrows it, or ENOSPC, is the ``disk_limit_exceeded`` verdict; the total is not capped.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import venv
from functools import cache
from pathlib import Path

from sandbox.base import ENOSPC_TEXT, RunResult
from sandbox.errors import DependencyInstallError
from sandbox.requirements import normalize_requirements
from sandbox.settings import Limits, SandboxSettings
from sandbox.tree import copy_repo, tail


@cache
def can_unshare_network() -> bool:
    """True when ``unshare -rn`` can cut the network for a child process here."""
    if shutil.which("unshare") is None:
        return False
    try:
        return (
            subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _limit(limits: Limits) -> None:  # runs in the child, before exec
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(limits.wall_s * max(1.0, limits.cpus)) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    size = limits.workspace_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    if os.getuid() != 0:  # RLIMIT_NPROC does not bind root
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.pids, limits.pids))


class LocalSandbox:
    """The sandbox contract with a subprocess (see the module docstring)."""

    name = "local"
    workdir: str | None = None
    """Each run gets a fresh temporary folder, so there is no fixed workspace path."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.cache = settings.venv_cache or Path.home() / ".cache" / "paper2code" / "venvs"
        self.python: str = sys.executable
        self.builds = 0

    def prepare(self, repo: Path) -> str:
        req = Path(repo) / "requirements.txt"
        lines = normalize_requirements(req.read_text("utf-8")) if req.is_file() else []
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        target = self.cache / digest
        python = target / "bin" / "python"
        if not (target / ".ready").exists():
            if target.exists():
                shutil.rmtree(target)
            venv.EnvBuilder(with_pip=True, clear=True).create(target)
            if lines:
                pip = self.settings.pip
                cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
                cmd += pip.args()
                for folder in pip.find_links:
                    cmd += ["--find-links", str(folder)]
                if pip.ca_bundle:
                    cmd += ["--cert", str(pip.ca_bundle)]
                reqs = target / "requirements.txt"
                reqs.write_text("\n".join(lines) + "\n")
                proc = subprocess.run(
                    [*cmd, "-r", str(reqs)],
                    capture_output=True,
                    text=True,
                    timeout=self.settings.build_timeout_s,
                )
                if proc.returncode != 0:
                    shutil.rmtree(target, ignore_errors=True)
                    raise DependencyInstallError(
                        "pip could not install the repository's requirements.txt",
                        log=(proc.stdout + proc.stderr)[-6000:],
                    )
            (target / ".ready").write_text("ok\n")
            self.builds += 1
        self.python = str(python)
        return str(target)

    def _argv(self, command: str, limits: Limits) -> tuple[list[str], str]:
        """The command line (cut off the network where possible) and a note for stderr."""
        argv = ["/bin/sh", "-c", command]
        if limits.network:
            return argv, ""
        if can_unshare_network():
            return ["unshare", "-rn", *argv], ""
        return argv, "[paper2code: network could not be cut on this machine]\n"

    def run(self, repo: Path, command: str, *, limits: Limits | None = None) -> RunResult:
        limits = limits or self.settings.limits
        argv, header = self._argv(command, limits)
        with tempfile.TemporaryDirectory(prefix="p2c-local-") as tmp:
            work = Path(tmp) / "workspace"
            dropped = copy_repo(repo, work)
            env = {
                "PATH": f"{Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
                "HOME": tmp,
                "TMPDIR": tmp,
                "MPLBACKEND": "Agg",
                "PYTHONUNBUFFERED": "1",
                "LANG": "C.UTF-8",
            }
            started = time.monotonic()
            returncode, out, err, timed_out = _run_limited(argv, work, env, limits)
            duration = time.monotonic() - started
        stdout, t1 = tail(out, limits.output_bytes)
        stderr, t2 = tail(err, limits.output_bytes)
        oom = returncode != 0 and "MemoryError" in stderr
        # SIGXFSZ kills a shell; Python ignores it and raises EFBIG ("File too large") instead
        disk = returncode == -signal.SIGXFSZ or (
            (timed_out or returncode != 0)
            and any(text in stdout + stderr for text in (ENOSPC_TEXT, "File too large"))
        )
        return RunResult(
            command=command,
            exit_code=None if timed_out else returncode,
            timed_out=timed_out,
            oom_killed=oom,
            disk_limit_exceeded=disk,
            duration_s=round(duration, 3),
            stdout=stdout,
            stderr=header + stderr,
            truncated=t1 or t2,
            sandbox="local",
            dropped=[str(d) for d in dropped],
        )


def _run_limited(
    argv: list[str], cwd: Path, env: dict[str, str], limits: Limits
) -> tuple[int, bytes, bytes, bool]:
    """(return code, stdout, stderr, timed out) of ``argv`` in its own session under
    ``limits``; the whole process group is killed at the wall-clock limit or on an error."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: _limit(limits),
    )
    try:
        out, err = proc.communicate(timeout=limits.wall_s)
        return proc.returncode, out, err, False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return proc.returncode, out, err, True
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
