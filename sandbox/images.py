"""Sandbox images: the base image (online from ``python:3.11-slim`` or offline from a
debootstrapped rootfs) and one dependency image per distinct set of requirements.

A dependency image's tag is a hash of the base image id, the normalized requirements and the
pip options, so a second run with the same requirements builds nothing.

Hermetic: the base image's ``/opt/venv`` holds the standard library only; a dependency image
installs exactly ``requirements.txt`` (and its dependencies) into it, with the base image's pip
from outside the venv (``pip --python``). pip tries the local wheels first (the base image's
wheelhouse and the copied ``find_links`` wheels, ``--no-index``), and only when they do not
satisfy everything resolves again with the index. With ``PipOptions.cpu_only``, a requirement on
a GPU framework (``cpu_packages``: torch…) is pinned, through a constraints file, to the newest
local wheel that satisfies it and the image's interpreter accepts, so a CPU wheel in
``find_links`` wins over a newer CUDA build on the index; ``cpu_index_url`` serves the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from sandbox.docker_errors import client as docker_client
from sandbox.docker_errors import docker_errors
from sandbox.errors import DependencyInstallError, ImageBuildError, ImageMissing
from sandbox.requirements import (
    canonical,
    normalize_requirements,
    parsed_requirements,
    requirement_names,
    wheel_name,
)
from sandbox.settings import PipOptions, SandboxSettings

DEPS_REPO = "paper2code-deps"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
"""Colour codes Docker's build output wraps around stderr lines; kept out of logs."""
LOG_TAIL_LINES = 60
BASE_LAYOUT = "2"
BASE_LAYOUT_LABEL = "paper2code.base-layout"
"""``paper2code.base-layout`` label of a base image this module can build on (``Dockerfile``)."""
TOOLS_PIP = "/opt/paper2code/tools/bin/python -m pip --python /opt/venv/bin/python"
"""pip of the base image, installing into the program's venv from outside it."""
WHEELHOUSE = "/opt/paper2code/wheels"
TAGS_FILE = "/opt/paper2code/tags.txt"
"""Wheel tags the base image's interpreter accepts, one a line (``packaging.tags.sys_tags``)."""
PINS_LABEL = "paper2code.cpu-pins"

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


def cpu_pins(
    requirements: Iterable[str],
    wheels: Iterable[Path],
    supported_tags: set[str],
    cpu_packages: Iterable[str],
) -> dict[str, Path]:
    """For each package of ``cpu_packages`` a requirement names: the local wheel of the newest
    version that satisfies every specifier given for it (local versions such as ``2.13.0+cpu``
    included) and that the interpreter accepts (a tag in ``supported_tags``). Packages with no
    such wheel are left out (the index decides for them)."""
    wanted = {canonical(n) for n in cpu_packages}
    specs: dict[str, SpecifierSet] = {}
    for req in parsed_requirements(requirements):
        name = canonical(req.name)
        if name in wanted:
            specs[name] = specs.get(name, SpecifierSet()) & req.specifier
    best: dict[str, tuple[Version, Path]] = {}
    for whl in wheels:
        try:
            name, version, _, tags = parse_wheel_filename(Path(whl).name)
        except InvalidWheelFilename:
            continue
        if name not in specs or not {str(t) for t in tags} & supported_tags:
            continue
        spec = specs[name]  # pre-releases only where a specifier names one, as pip does
        if not spec.contains(version, prereleases=bool(spec.prereleases)):
            continue
        if name not in best or version > best[name][0]:
            best[name] = (version, Path(whl))
    return {name: path for name, (_, path) in sorted(best.items())}


def constraint_lines(pins: Mapping[str, Path]) -> list[str]:
    """``name==version`` of each pinned wheel, for pip's ``--constraint`` file."""
    return [f"{name}=={parse_wheel_filename(path.name)[1]}" for name, path in sorted(pins.items())]


def unpinned_cpu_packages(
    requirements: Iterable[str], pins: Mapping[str, Path], cpu_packages: Iterable[str]
) -> list[str]:
    """Packages of ``cpu_packages`` the requirements name that no local wheel pins."""
    wanted = {canonical(n) for n in cpu_packages}
    named = {canonical(r.name) for r in parsed_requirements(requirements)}
    return sorted((named & wanted) - set(pins))


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
                "cpu_only": pip.cpu_only,
                "cpu_index_url": pip.cpu_index_url,
                "cpu_packages": sorted(canonical(n) for n in pip.cpu_packages),
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
    PIP="{tools_pip} install $CERT --find-links {wheelhouse} {find_links} \\
         -c /tmp/p2c/constraints.txt -r /tmp/p2c/requirements.txt"; \\
    echo "paper2code: pip install -r requirements.txt"; \\
    if $PIP --no-index >/tmp/p2c/local.log 2>&1; then \\
        echo "paper2code: installed from local wheels only"; \\
    else \\
        echo "paper2code: the local wheels do not satisfy everything: resolving with the index"; \\
        $PIP {pip_args} || {{ echo "PAPER2CODE_PIP_FAILED"; exit 97; }}; \\
    fi; \\
    rm -rf /tmp/p2c /tmp/* /root/.cache
USER 1000:1000
"""
"""The local attempt's output is kept out of the log: its "No matching distribution" lines
would read as the repository's error."""


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tf.addfile(info, io.BytesIO(data))


def deps_context(
    requirements: list[str],
    pip: PipOptions,
    wheels: list[Path],
    base: str,
    *,
    constraints: list[str] | None = None,
    extra_index_urls: list[str] | None = None,
) -> bytes:
    """The build context (a tar) of a dependency image: the Dockerfile, requirements.txt, the
    constraints (CPU pins), the CA bundle and the local wheels to offer pip."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        args = pip.args()
        for url in extra_index_urls or []:
            args += ["--extra-index-url", url]
        dockerfile = DEPS_DOCKERFILE.format(
            base=base,
            tools_pip=TOOLS_PIP,
            wheelhouse=WHEELHOUSE,
            find_links="--find-links /tmp/p2c/wheels" if wheels else "",
            pip_args=" ".join(args),
        )
        _add_bytes(tf, "Dockerfile", dockerfile.encode())
        _add_bytes(tf, "p2c/requirements.txt", ("\n".join(requirements) + "\n").encode())
        _add_bytes(tf, "p2c/constraints.txt", "".join(f"{c}\n" for c in constraints or []).encode())
        if pip.ca_bundle and Path(pip.ca_bundle).is_file():
            _add_bytes(tf, "p2c/ca.pem", Path(pip.ca_bundle).read_bytes())
        for whl in wheels:
            tf.add(str(whl), arcname=f"p2c/wheels/{whl.name}")
    return buf.getvalue()


class DepsImage(BaseModel):
    """The environment ``ensure_deps_image`` made ready."""

    model_config = ConfigDict(extra="forbid")

    tag: str
    """Image tag (the base image when there are no requirements)."""
    built: bool
    """Built by this call (False on a cache hit)."""
    size_bytes: int
    """The image's size as Docker reports it (all layers, base included)."""
    cpu_pins: list[str] = []
    """``name==version`` pins that chose local CPU wheels of GPU frameworks."""


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


def _image(tag: str) -> Any | None:
    import docker.errors

    c = docker_client()
    with docker_errors(f"inspecting image {tag}"):
        try:
            return c.images.get(tag)
        except docker.errors.ImageNotFound:
            return None


def image_id(tag: str) -> str | None:
    image = _image(tag)
    return None if image is None else image.id


def image_tags(image: str) -> set[str] | None:
    """The wheel tags ``image``'s interpreter accepts (``TAGS_FILE``, read from a container that
    is created, never started); None when the image has no such file."""
    import docker.errors

    c = docker_client()
    with docker_errors(f"reading {TAGS_FILE} of {image}"):
        container = c.containers.create(image, ["true"], labels={"paper2code": "1"})
        try:
            chunks, _ = container.get_archive(TAGS_FILE)
            with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tf:
                member = tf.extractfile(tf.getmembers()[0])
                text = member.read().decode() if member else ""
        except docker.errors.NotFound:
            return None
        finally:
            container.remove(force=True)
    return {line.strip() for line in text.splitlines() if line.strip()}


STEP_IMAGE = re.compile(r"^\s*---> ([0-9a-f]{12})\s*$")


def _drop_failed_build_layers(lines: list[str]) -> None:
    """Remove the untagged layers a failed build left (the steps before the failing ``RUN``);
    the base image, being tagged, stays. Best effort: a layer still used elsewhere stays too."""
    import docker.errors

    steps = [m[1] for line in lines if (m := STEP_IMAGE.match(line))]
    if not steps:
        return
    c = docker_client()
    with contextlib.suppress(docker.errors.APIError):
        image = c.images.get(steps[-1])
        if not image.tags:
            c.images.remove(image.id, noprune=False)


def _size_line(tag: str, size: int, how: str) -> str:
    return f"paper2code: {how} {tag}: {size / 2**20:.0f} MiB"


def _cpu_plan(
    requirements: list[str], wheels: list[Path], settings: SandboxSettings, on_log: OnLog | None
) -> tuple[list[Path], list[str], list[str]]:
    """With ``cpu_only``: (the wheels to offer, of a GPU framework only the pinned one; the pins
    as constraint lines; the CPU index as an extra index when a named framework has no local
    wheel). Without: everything unchanged."""
    pip = settings.pip
    if not pip.cpu_only:
        return wheels, [], []
    log = on_log or (lambda line: None)
    gpu = {canonical(n) for n in pip.cpu_packages}
    candidates = [w for w in wheels if wheel_name(w.name) in gpu]
    pins = (
        cpu_pins(requirements, candidates, image_tags(settings.base_image) or set(), gpu)
        if candidates
        else {}
    )
    offered = [w for w in wheels if wheel_name(w.name) not in gpu or w in pins.values()]
    constraints = constraint_lines(pins)
    for line in constraints:
        log(f"paper2code: pinned {line} (a local CPU wheel)")
    unpinned = unpinned_cpu_packages(requirements, pins, gpu)
    if unpinned and pip.cpu_index_url:
        log(f"paper2code: {', '.join(unpinned)} from the CPU index {pip.cpu_index_url}")
        return offered, constraints, [pip.cpu_index_url]
    if unpinned:
        log(
            f"paper2code: no local CPU wheel satisfies {', '.join(unpinned)}: the index may "
            "give a multi-GB CUDA build (put a CPU wheel in a find-links directory or set "
            "pip.cpu_index_url)"
        )
    return offered, constraints, []


def base_is_current(tag: str) -> bool:
    """True when the image ``tag`` exists and has the base layout this paper2code expects."""
    image = _image(tag)
    return image is not None and (image.labels or {}).get(BASE_LAYOUT_LABEL) == BASE_LAYOUT


def _base_image(settings: SandboxSettings) -> Any:
    """The base image, refused when it is missing or of the old, non-hermetic layout."""
    base = _image(settings.base_image)
    if base is None:
        raise ImageMissing(
            f"the sandbox base image {settings.base_image} does not exist: build it with "
            "`make sandbox-image` (or `paper2code sandbox build-base --offline` where pulls fail)"
        )
    if (base.labels or {}).get(BASE_LAYOUT_LABEL) != BASE_LAYOUT:
        raise ImageMissing(
            f"the sandbox base image {settings.base_image} was built by an older paper2code "
            "(it preinstalls packages, so smoke runs are not hermetic): rebuild it with "
            "`paper2code sandbox build-base` (add --offline where pulls fail)"
        )
    return base


def ensure_deps_image(
    repo: Path, settings: SandboxSettings, *, on_log: OnLog | None = None
) -> DepsImage:
    """The dependency image for ``repo``'s requirements.txt, built unless cached. Empty or
    missing requirements use the base image itself. Its size is logged through ``on_log``."""
    log = on_log or (lambda line: None)
    base = _base_image(settings)
    req_file = Path(repo) / "requirements.txt"
    requirements = (
        normalize_requirements(req_file.read_text(encoding="utf-8")) if req_file.is_file() else []
    )
    if not requirements:
        size = int(base.attrs.get("Size", 0))
        log(_size_line(settings.base_image, size, "no requirements: using the base image"))
        return DepsImage(tag=settings.base_image, built=False, size_bytes=size)
    wheels = matching_wheels(settings.pip.find_links, requirement_names(requirements))
    tag = deps_tag(base.id, requirements, settings.pip, wheels)
    cached = _image(tag)
    if cached is not None:
        size = int(cached.attrs.get("Size", 0))
        log(_size_line(tag, size, "cached dependency image"))
        pins_text = (cached.labels or {}).get(PINS_LABEL, "")
        return DepsImage(tag=tag, built=False, size_bytes=size, cpu_pins=pins_text.split())
    constraints = _build_deps(tag, requirements, wheels, settings, on_log)
    built = _image(tag)
    size = int(built.attrs.get("Size", 0)) if built is not None else 0
    log(_size_line(tag, size, "built dependency image"))
    return DepsImage(tag=tag, built=True, size_bytes=size, cpu_pins=constraints)


def _build_deps(
    tag: str,
    requirements: list[str],
    wheels: list[Path],
    settings: SandboxSettings,
    on_log: OnLog | None,
) -> list[str]:
    """Build the dependency image ``tag``; returns the CPU pins it was built with. A failing
    ``pip install`` raises ``DependencyInstallError``, anything else ``ImageBuildError``."""
    wheels, constraints, extra_index = _cpu_plan(requirements, wheels, settings, on_log)
    c = docker_client(timeout=int(settings.build_timeout_s))
    context = deps_context(
        requirements,
        settings.pip,
        wheels,
        settings.base_image,
        constraints=constraints,
        extra_index_urls=extra_index,
    )
    with docker_errors("building the dependency image"):
        ok, lines, error = _stream_build(
            c.api,
            on_log=on_log,
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=tag,
            labels={"paper2code": "1", PINS_LABEL: " ".join(constraints)},
            timeout=int(settings.build_timeout_s),
        )
    if not ok:
        _drop_failed_build_layers(lines)
        tail = "\n".join(lines[-LOG_TAIL_LINES:])
        if "PAPER2CODE_PIP_FAILED" in tail or "exit code: 97" in error or "code: 97" in error:
            raise DependencyInstallError(
                "pip could not install the repository's requirements.txt", log=tail
            )
        raise ImageBuildError(f"building {tag} failed: {error}\n{tail}")
    return constraints


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
