"""Docker errors translated once, at the boundary, into ``sandbox.errors`` types."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from sandbox.errors import DaemonUnavailable, SandboxError

HOW_TO_START = (
    "Start one (`sudo systemctl start docker`, or `sudo dockerd &`), or run with "
    "--sandbox local to use a subprocess with resource limits instead."
)


def daemon_address() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


@contextlib.contextmanager
def docker_errors(action: str = "talking to Docker") -> Iterator[None]:
    """Turn docker-py / requests failures into ``DaemonUnavailable`` or ``SandboxError``."""
    import docker.errors
    import requests

    try:
        yield
    except docker.errors.DockerException as exc:
        text = str(exc)
        if isinstance(exc, docker.errors.APIError):
            raise SandboxError(f"Docker refused {action}: {exc.explanation or text}") from exc
        if "Connection" in text or "connect" in text or "FileNotFoundError" in text:
            raise DaemonUnavailable(
                f"No Docker daemon answers at {daemon_address()}. {HOW_TO_START}"
            ) from exc
        raise SandboxError(f"Docker failed while {action}: {text}") from exc
    except requests.exceptions.ConnectionError as exc:
        raise DaemonUnavailable(
            f"No Docker daemon answers at {daemon_address()}. {HOW_TO_START}"
        ) from exc


def client(timeout: int = 60):
    """A docker-py client that has answered a ping."""
    import docker

    with docker_errors("connecting"):
        c = docker.from_env(timeout=timeout)
        c.ping()
        return c
