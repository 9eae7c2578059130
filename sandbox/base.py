"""The sandbox seam: what the repair loop needs from an execution environment, nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from sandbox.settings import Limits

ENOSPC_TEXT = "No space left on device"
"""What a program prints when a write failed for want of space (a disk-limit verdict)."""


class RunResult(BaseModel):
    """Outcome of running a command on a repository. A failing, hanging or memory-hungry
    program is data here, never an exception."""

    model_config = ConfigDict(extra="forbid")

    command: str
    """The shell command that ran (inside the workspace)."""
    exit_code: int | None
    """Process exit status; None when it was killed before exiting (timeout)."""
    timed_out: bool = False
    """The wall-clock limit was hit and the program killed."""
    oom_killed: bool = False
    """The kernel killed the program for exceeding the memory limit."""
    disk_limit_exceeded: bool = False
    """The program wrote past a size limit of the sandbox's filesystems (``/workspace``,
    ``/tmp``): one was full when it ended, or it failed with ENOSPC ("No space left on
    device"), or (local sandbox) a file outgrew ``RLIMIT_FSIZE``. Also set, without a run, when
    the repository itself does not fit in the workspace. Such a run never counts as passed."""
    disk_used_mb: dict[str, int] = {}
    """MiB in use per size-limited filesystem (``/workspace``, ``/tmp``) when the program ended;
    empty when unknown (timeout, local sandbox)."""
    duration_s: float = 0.0
    """Time the program ran, in seconds."""
    stdout: str = ""
    """Captured standard output (tail kept when over the size cap)."""
    stderr: str = ""
    """Captured standard error (tail kept when over the size cap)."""
    truncated: bool = False
    """Some output was dropped because of the size cap."""
    sandbox: str = "docker"
    """Which sandbox ran it: ``docker`` or ``local``."""
    image: str | None = None
    """Image the container ran (docker only)."""
    dropped: list[str] = []
    """Entries of the repository that were not copied into the sandbox, each with its reason:
    symbolic links leading outside the repository, hard links, special files
    (see ``sandbox.tree``)."""

    @property
    def ok(self) -> bool:
        return (
            self.exit_code == 0
            and not self.timed_out
            and not self.oom_killed
            and not self.disk_limit_exceeded
        )

    @property
    def verdict(self) -> str:
        """The outcome in a few words: ``passed``, ``timed out``, ``out of memory``,
        ``disk limit exceeded`` or ``exit code N``."""
        if self.ok:
            return "passed"
        if self.disk_limit_exceeded:
            return "disk limit exceeded"
        if self.timed_out:
            return "timed out"
        if self.oom_killed:
            return "out of memory"
        return f"exit code {self.exit_code}"


@runtime_checkable
class Sandbox(Protocol):
    """An execution environment for a repository."""

    name: str
    """``docker`` or ``local``."""
    workdir: str | None
    """Where the repository copy lives inside the sandbox (``/workspace``), so traceback paths
    map back to the repository; None when it changes from run to run."""

    def prepare(self, repo: Path) -> str:
        """Make the repository's dependencies (``requirements.txt``) available; idempotent and
        cached (a second call with the same requirements builds nothing). Returns an
        environment identifier (an image tag for Docker). Raises ``SandboxError`` only when
        the sandbox itself is broken (e.g. no daemon); a failed ``pip install`` of the
        repository's requirements raises ``DependencyInstallError`` with the pip log tail."""
        ...

    def run(self, repo: Path, command: str, *, limits: Limits | None = None) -> RunResult:
        """Run ``command`` with ``repo`` copied into the workspace (never mounted read-write),
        under limits; the original ``repo`` is never modified."""
        ...
