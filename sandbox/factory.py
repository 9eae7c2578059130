"""``make_sandbox(settings)``: the sandbox named by ``settings.kind``."""

from __future__ import annotations

from sandbox.base import Sandbox
from sandbox.errors import SandboxError
from sandbox.settings import SandboxKind, SandboxSettings


def make_sandbox(settings: SandboxSettings) -> Sandbox:
    """A ready sandbox; raises ``DaemonUnavailable`` (with how to start one) for docker."""
    if settings.kind == SandboxKind.docker:
        from sandbox.docker_sandbox import DockerSandbox

        return DockerSandbox(settings)
    if settings.kind == SandboxKind.local:
        from sandbox.local import LocalSandbox

        return LocalSandbox(settings)
    runs = ", ".join(k.value for k in SandboxKind if k != SandboxKind.none)
    raise SandboxError(f"sandbox {str(settings.kind)!r} runs nothing; valid sandboxes: {runs}")
