"""Sandbox images: the base image (online from ``python:3.11-slim`` or offline from a
debootstrapped rootfs) and one dependency image per distinct set of requirements.

A dependency image's tag is a hash of the base image id, the normalized requirements and the
pip options, so a second run with the same requirements builds nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from sandbox.docker_errors import client as docker_client
from sandbox.docker_errors import docker_errors
from sandbox.errors import DependencyInstallError, ImageBuildError, ImageMissing
from sandbox.requirements import normalize_requirements, requirement_names, wheel_name
from sandbox.settings import PipOptions, SandboxSettings

DEPS_REPO = "paper2code-deps"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
"""Colour codes Docker's build output wraps around stderr lines; kept out of logs."""
LOG_TAIL_LINES = 60

OnLog = Callable[[str], None]


# ------------------------------------------------------------------------------ pure helpers


def matching_wheels(find_links: Iterable[Path], names: set[str]) -> list[Path]:
    """Wheels in the wheelhouses whose distribution is required (only those are copied)."""
    found = []
    for folder in find_links:
        if Path(folder).is_dir():
            for whl in sorted(Path(folder).glob("*.whl")):
                if wheel_name(whl.name) in names:
                    found.append(whl)
    return found


def deps_tag(base_id: str, requirements: list[str], pip: PipOptions, wheels: list[Path]) -> str:
    """``paper2code-deps:<hash>`` of everything that determines the image's contents."""
    h = hashlib.sha256()
    h.update(base_id.encode())
    h.update("\n".join(requirements).encode())
    h.update(
        json.dumps(
            {
                "index_url": pip.index_url,
                "extra_index_urls": list(pip.extra_index_urls),
                "wheels": [w.name for w in wheels],
            },
            sort_keys=True,
        ).encode()
    )
    return f"{DEPS_REPO}:{h.hexdigest()[:20]}"


DEPS_DOCKERFILE = """\
FROM {base}
USER root
COPY p2c/ /tmp/p2c/
RUN set -eu; CERT=""; if [ -s /tmp/p2c/ca.pem ]; then CERT="--cert /tmp/p2c/ca.pem"; fi; \\
    echo "paper2code: pip install -r requirements.txt"; \\
    /opt/venv/bin/pip install $CERT {pip_args} -r /tmp/p2c/requirements.txt \\
    || {{ echo "PAPER2CODE_PIP_FAILED"; exit 97; }}; \\
    rm -rf /tmp/p2c /tmp/* /root/.cache
USER 1000:1000
"""


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tf.addfile(info, io.BytesIO(data))


def deps_context(requirements: list[str], pip: PipOptions, wheels: list[Path], base: str) -> bytes:
    """The build context (a tar) of a dependency image."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        wheelhouse = "/tmp/p2c/wheels" if wheels else None
        dockerfile = DEPS_DOCKERFILE.format(
            base=base, pip_args=" ".join(pip.args(wheelhouse=wheelhouse))
        )
        _add_bytes(tf, "Dockerfile", dockerfile.encode())
        _add_bytes(tf, "p2c/requirements.txt", ("\n".join(requirements) + "\n").encode())
        if pip.ca_bundle and Path(pip.ca_bundle).is_file():
            _add_bytes(tf, "p2c/ca.pem", Path(pip.ca_bundle).read_bytes())
        for whl in wheels:
            tf.add(str(whl), arcname=f"p2c/wheels/{whl.name}")
    return buf.getvalue()


# ------------------------------------------------------------------------------ docker side


def _stream_build(api: Any, *, on_log: OnLog | None, **kwargs: Any) -> tuple[bool, list[str], str]:
    """Run a build; returns (ok, log lines, error message)."""
    lines: list[str] = []
    error = ""
    for chunk in api.build(decode=True, rm=True, forcerm=True, **kwargs):
        text = ANSI.sub("", chunk.get("stream") or chunk.get("status") or "")
        if text:
            for line in text.rstrip("\n").splitlines():
                lines.append(line)
                if on_log:
                    on_log(line)
        if "errorDetail" in chunk or "error" in chunk:
            error = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error", "")
    return not error, lines, error


def image_id(tag: str) -> str | None:
    import docker.errors

    c = docker_client()
    with docker_errors(f"inspecting image {tag}"):
        try:
            return c.images.get(tag).id
        except docker.errors.ImageNotFound:
            return None


def ensure_deps_image(
    repo: Path, settings: SandboxSettings, *, on_log: OnLog | None = None
) -> tuple[str, bool]:
    """The dependency image for ``repo``'s requirements.txt: (tag, built_now). Empty or missing
    requirements use the base image itself."""
    base_id = image_id(settings.base_image)
    if base_id is None:
        raise ImageMissing(
            f"the sandbox base image {settings.base_image} does not exist: build it with "
            "`make sandbox-image` (or `paper2code sandbox build-base --offline` where pulls fail)"
        )
    req_file = Path(repo) / "requirements.txt"
    requirements = (
        normalize_requirements(req_file.read_text(encoding="utf-8")) if req_file.is_file() else []
    )
    if not requirements:
        return settings.base_image, False
    wheels = matching_wheels(settings.pip.find_links, requirement_names(requirements))
    tag = deps_tag(base_id, requirements, settings.pip, wheels)
    if image_id(tag) is not None:
        return tag, False
    c = docker_client(timeout=int(settings.build_timeout_s))
    context = deps_context(requirements, settings.pip, wheels, settings.base_image)
    with docker_errors("building the dependency image"):
        ok, lines, error = _stream_build(
            c.api,
            on_log=on_log,
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=tag,
            labels={"paper2code": "1"},
            timeout=int(settings.build_timeout_s),
        )
    if not ok:
        tail = "\n".join(lines[-LOG_TAIL_LINES:])
        if "PAPER2CODE_PIP_FAILED" in tail or "exit code: 97" in error or "code: 97" in error:
            raise DependencyInstallError(
                "pip could not install the repository's requirements.txt", log=tail
            )
        raise ImageBuildError(f"building {tag} failed: {error}\n{tail}")
    return tag, True


def build_base(
    settings: SandboxSettings,
    *,
    offline: bool = False,
    base_from: str | None = None,
    tag: str | None = None,
    on_log: OnLog | None = None,
) -> str:
    """Build the base image from ``sandbox/Dockerfile``; returns its tag."""
    tag = tag or settings.base_image
    base = base_from or (settings.rootfs_image if offline else settings.base_from)
    if offline and image_id(base) is None:
        bootstrap_rootfs(base, on_log=on_log)
    with tempfile.TemporaryDirectory(prefix="p2c-base-") as tmp:
        ctx = Path(tmp)
        dockerfile = resources.files("sandbox").joinpath("Dockerfile").read_text("utf-8")
        (ctx / "Dockerfile").write_text(dockerfile)
        (ctx / "pip").mkdir()
        (ctx / "pip" / "ca.pem").write_bytes(
            Path(settings.pip.ca_bundle).read_bytes()
            if settings.pip.ca_bundle and Path(settings.pip.ca_bundle).is_file()
            else b""
        )
        c = docker_client(timeout=int(settings.build_timeout_s))
        with docker_errors("building the base image"):
            ok, lines, error = _stream_build(
                c.api,
                on_log=on_log,
                path=str(ctx),
                tag=tag,
                labels={"paper2code": "1"},
                pull=False,
                buildargs={
                    "BASE": base,
                    "BASE_PACKAGES": " ".join(settings.base_packages),
                    "PIP_ARGS": " ".join(settings.pip.args()),
                },
            )
    if not ok:
        hint = (
            " (pulling the base failed? use --offline to build from Debian packages)"
            if not offline and "pull" in error.lower()
            else ""
        )
        raise ImageBuildError(
            f"building {tag} from {base} failed: {error}{hint}\n"
            + "\n".join(lines[-LOG_TAIL_LINES:])
        )
    return tag


def bootstrap_rootfs(tag: str, *, on_log: OnLog | None = None) -> None:
    """debootstrap + docker import (``sandbox/bootstrap_rootfs.sh``); needs root."""
    script = resources.files("sandbox").joinpath("bootstrap_rootfs.sh")
    with resources.as_file(script) as path:
        if shutil.which("bash") is None:
            raise ImageBuildError("bash is needed to bootstrap the offline rootfs")
        proc = subprocess.Popen(
            ["bash", str(path), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip())
            if on_log:
                on_log(line.rstrip())
        if proc.wait() != 0:
            raise ImageBuildError(
                f"bootstrapping the offline rootfs {tag} failed:\n"
                + "\n".join(lines[-LOG_TAIL_LINES:])
            )
