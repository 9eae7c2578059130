"""Shared fixtures. Tests marked ``docker`` need a running daemon: without one they are skipped
with a message on a developer's machine, and fail under CI (``CI=true``)."""

from __future__ import annotations

import functools
import os

import pytest


@functools.cache
def docker_available() -> str | None:
    """None when a daemon answers, else the reason it does not."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("docker") for item in items):
        return
    reason = docker_available()
    if reason is None:
        return
    if in_ci():
        fail = pytest.mark.usefixtures("_docker_required_in_ci")
        for item in items:
            if item.get_closest_marker("docker"):
                item.add_marker(fail)
        return
    skip = pytest.mark.skip(
        reason=f"no Docker daemon ({reason}); start one (e.g. `sudo dockerd &`) to run these"
    )
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(skip)


@pytest.fixture
def _docker_required_in_ci() -> None:
    pytest.fail(f"CI=true but no Docker daemon answers: {docker_available()}")


def pytest_report_header(config: pytest.Config) -> str:
    reason = docker_available()
    return "docker: available" if reason is None else f"docker: UNAVAILABLE ({reason})"
