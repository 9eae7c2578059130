"""Run a repository in a Docker container under limits.

The repository is copied in (a tar into a fresh volume at ``/workspace``), never mounted from
the user's tree. The program runs with no network, memory/CPU/pids/wall-clock limits, as uid
1000 with every capability dropped and no-new-privileges, on a read-only root filesystem with
only ``/workspace`` and a tmpfs ``/tmp`` writable. The container and its volume are always
removed, also on timeout, errors and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
from pathlib import Path
from typing import Any

from sandbox.base import RunResult
from sandbox.docker_errors import client as docker_client
from sandbox.docker_errors import docker_errors
from sandbox.images import OnLog, ensure_deps_image
from sandbox.settings import Limits, SandboxSettings
from sandbox.tree import Dropped, read_bytes, scan, tail

LABEL = {"paper2code": "1"}
WORKDIR = "/workspace"


def repo_tar(repo: Path, uid: int = 1000, gid: int = 1000) -> tuple[bytes, list[Dropped]]:
    """The repository as a tar owned by the sandbox user, with what :func:`sandbox.tree.scan`
    keeps (links only when they stay inside the repository; caches and VCS folders left out),
    and what was dropped."""
    entries, dropped = scan(repo)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for e in entries:
            info = tarfile.TarInfo(e.rel)
            info.uid, info.gid, info.uname, info.gname = uid, gid, "sandbox", "sandbox"
            info.mode = e.mode
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif e.kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
                tf.addfile(info)
            else:
                try:
                    data = read_bytes(Path(repo) / e.rel)
                except OSError as exc:
                    dropped.append(Dropped(e.rel, f"unreadable or replaced while copying ({exc})"))
                    continue
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue(), dropped


def cleanup_leftovers() -> int:
    """Remove containers and volumes labelled ``paper2code=1`` (left by a killed process)."""
    c = docker_client()
    n = 0
    with docker_errors("cleaning up"):
        for ct in c.containers.list(all=True, filters={"label": "paper2code=1"}):
            ct.remove(force=True)
            n += 1
        for vol in c.volumes.list(filters={"label": "paper2code=1"}):
            vol.remove(force=True)
    return n


class DockerSandbox:
    """The default sandbox."""

    name = "docker"
    workdir: str | None = WORKDIR

    def __init__(self, settings: SandboxSettings, *, on_log: OnLog | None = None) -> None:
        self.settings = settings
        self.on_log = on_log
        self.image: str | None = None
        self.builds = 0
        """Dependency images built by this instance (0 when every prepare hit the cache)."""
        self.client = docker_client()

    def prepare(self, repo: Path) -> str:
        tag, built = ensure_deps_image(repo, self.settings, on_log=self.on_log)
        self.builds += int(built)
        self.image = tag
        return tag

    def run(self, repo: Path, command: str, *, limits: Limits | None = None) -> RunResult:
        limits = limits or self.settings.limits
        image = self.image or self.prepare(repo)
        archive, dropped = repo_tar(Path(repo))
        container: Any = None
        volume: Any = None
        started = time.monotonic()
        timed_out = False
        exit_code: int | None = None
        try:
            with docker_errors("running the repository"):
                volume = self.client.volumes.create(labels=LABEL)
                import docker.types

                container = self.client.containers.create(
                    image,
                    ["/bin/sh", "-c", command],
                    working_dir=WORKDIR,
                    user=self.settings.user,
                    environment={"HOME": "/tmp", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"},
                    network_mode="bridge" if limits.network else "none",
                    mem_limit=f"{limits.memory_mb}m",
                    memswap_limit=f"{limits.memory_mb}m",
                    nano_cpus=int(limits.cpus * 1e9),
                    pids_limit=limits.pids,
                    cap_drop=["ALL"],
                    security_opt=["no-new-privileges"],
                    read_only=True,
                    tmpfs={"/tmp": f"rw,nosuid,nodev,size={self.settings.tmp_mb}m,mode=1777"},
                    mounts=[docker.types.Mount(WORKDIR, volume.name, type="volume")],
                    labels=LABEL,
                    detach=True,
                )
                container.put_archive(WORKDIR, archive)
                started = time.monotonic()
                container.start()
                try:
                    status = container.wait(timeout=limits.wall_s)
                    exit_code = int(status.get("StatusCode", -1))
                except Exception as exc:  # requests' ReadTimeout / ConnectionError on timeout
                    if (
                        "timed out" not in str(exc).lower()
                        and "timeout" not in type(exc).__name__.lower()
                    ):
                        raise
                    timed_out = True
                    container.kill()
                    container.wait(timeout=30)
                duration = time.monotonic() - started
                container.reload()
                oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
                cap = limits.output_bytes
                stdout, t1 = tail(container.logs(stdout=True, stderr=False), cap)
                stderr, t2 = tail(container.logs(stdout=False, stderr=True), cap)
        finally:
            import docker.errors

            # NotFound: already gone; APIError 409: removal already in progress.
            gone = (docker.errors.NotFound, docker.errors.APIError)
            if container is not None:
                with contextlib.suppress(*gone):
                    container.remove(force=True, v=True)
            if volume is not None:
                with contextlib.suppress(*gone):
                    volume.remove(force=True)
        if oom and exit_code == 0:
            oom = False  # a child was killed but the program recovered: not an OOM failure
        return RunResult(
            command=command,
            exit_code=None if timed_out else exit_code,
            timed_out=timed_out,
            oom_killed=oom and not timed_out,
            duration_s=round(duration, 3),
            stdout=stdout,
            stderr=stderr,
            truncated=t1 or t2,
            sandbox="docker",
            image=image,
            dropped=[str(d) for d in dropped],
        )
