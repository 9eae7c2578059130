"""Shared fixtures. Tests marked ``docker`` need a running daemon, tests marked ``tex`` need
``pdflatex``: without them they are skipped with a message on a developer's machine, and fail
under CI (``CI=true``), where ``.ci/run`` installs both."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

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


@functools.cache
def tex_available() -> str | None:
    """None when ``pdflatex`` is installed, else why not."""
    return None if shutil.which("pdflatex") else "pdflatex is not on PATH"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _require_tex(items)
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


def _require_tex(items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("tex")]
    reason = tex_available()
    if not marked or reason is None:
        return
    if in_ci():
        for item in marked:
            item.add_marker(pytest.mark.usefixtures("_tex_required_in_ci"))
        return
    skip = pytest.mark.skip(
        reason=f"no TeX ({reason}); install it to run these, e.g. `apt-get install "
        "--no-install-recommends texlive-latex-base texlive-latex-recommended "
        "texlive-fonts-recommended`"
    )
    for item in marked:
        item.add_marker(skip)


@pytest.fixture
def _docker_required_in_ci() -> None:
    pytest.fail(f"CI=true but no Docker daemon answers: {docker_available()}")


@pytest.fixture(scope="session")
def _tex_required_in_ci() -> None:
    pytest.fail(f"CI=true but TeX is missing: {tex_available()}")


@pytest.fixture(scope="session")
def typeset(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[object, Path]]:
    """``typeset(name)`` → (``texfactory.TexPaper``, its PDF), compiled once per session.
    Names: ``conference``, ``conference-bold``, ``conference-bibliography``, ``journal``."""
    import texfactory

    root = tmp_path_factory.mktemp("tex")
    built: dict[str, tuple[object, Path]] = {}

    def build(name: str) -> tuple[object, Path]:
        reason = tex_available()
        if reason is not None:  # also when a test is collected without the tex marker
            if in_ci():
                pytest.fail(f"CI=true but TeX is missing: {reason}")
            pytest.skip(f"no TeX ({reason})")
        if name not in built:
            paper = texfactory.paper_named(name)
            built[name] = (paper, texfactory.compile_pdf(paper, root / name))
        return built[name]

    return build


def pytest_report_header(config: pytest.Config) -> list[str]:
    reason = docker_available()
    tex = tex_available()
    return [
        "docker: available" if reason is None else f"docker: UNAVAILABLE ({reason})",
        "tex: available" if tex is None else f"tex: UNAVAILABLE ({tex})",
    ]
