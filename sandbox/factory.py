"""``make_sandbox(settings)``: the sandbox named by ``settings.kind``."""

from __future__ import annotations

from sandbox.base import Sandbox
from sandbox.errors import SandboxError
from sandbox.settings import SandboxSettings

KINDS = ("docker", "local")


def make_sandbox(settings: SandboxSettings) -> Sandbox:
    """A ready sandbox; raises ``DaemonUnavailable`` (with how to start one) for docker."""
    if settings.kind == "docker":
        from sandbox.docker_sandbox import DockerSandbox

        return DockerSandbox(settings)
    if settings.kind == "local":
        from sandbox.local import LocalSandbox

        return LocalSandbox(settings)
    raise SandboxError(f"unknown sandbox {settings.kind!r}; valid sandboxes: {', '.join(KINDS)}")
