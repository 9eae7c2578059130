"""Run a repository in a Docker container under limits.

The repository is copied in (a tar into a fresh volume at ``/workspace``), never mounted from
the user's tree. The program runs with no network, memory/CPU/pids/wall-clock limits, as uid
1000 with every capability dropped and no-new-privileges, on a read-only root filesystem with
only ``/workspace`` and ``/tmp`` writable, both size-limited. The container and its volume are
always removed, also on timeout, errors and Ctrl-C.

The disk cap. ``/workspace`` is a volume of the ``local`` driver with ``type=tmpfs`` and
``size=Limits.workspace_mb``: writes past it fail with ENOSPC, nothing reaches the host's disk,
and it works on every daemon without privileges on the host. (``--storage-opt size=`` needs
overlay2 on xfs with pquota; the ``local`` driver cannot mount a loop image; a plain
``--tmpfs`` cannot receive ``put_archive`` on a read-only root.) A tmpfs volume is mounted only
while a container uses it, so the container starts first and waits in ``WRAPPER`` until the
copy's last member, ``READY``, exists; then it runs the command, and afterwards prints the fill
of ``/workspace`` and ``/tmp`` as one marker line on stderr, which is parsed and stripped. A
filesystem with no free block or inode left at the end, or "No space left on device" in the
output of a failed run, is the ``disk_limit_exceeded`` verdict. tmpfs pages the program writes
count toward the container's memory cgroup (``Limits.memory_mb``); the copy, written by the
daemon, does not.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.base import ENOSPC_TEXT, RunResult
from sandbox.docker_errors import client as docker_client
from sandbox.docker_errors import docker_errors
from sandbox.images import DepsImage, OnLog, ensure_deps_image
from sandbox.ownership import OWNER, RUN, labels, owner_alive
from sandbox.settings import Limits, SandboxSettings
from sandbox.tree import Dropped, Entry, read_bytes, scan, tail

WORKDIR = "/workspace"
READY = ".paper2code-copied"
"""Last member of the copy: its presence tells ``WRAPPER`` that the repository is in place."""
FS_MARKER = b"\x1ep2c-fs"
"""Starts the line ``WRAPPER`` writes to stderr after the command: the filesystems' fill."""
LIMITED_FS = ("/workspace", "/tmp")
PAGE = 4096

WRAPPER = (
    "i=0; while [ ! -e /workspace/" + READY + " ]; do i=$((i+1)); "
    '[ "$i" -gt 6000 ] && exit 125; sleep 0.01; done; '
    "rm -f /workspace/" + READY + "; "
    '/bin/sh -c "$1"; rc=$?; '
    "fs=$(stat -f --printf ' %n:%a:%b:%S:%d' " + " ".join(LIMITED_FS) + " 2>/dev/null); "
    "printf '\\036p2c-fs%s\\n' \"$fs\" >&2; "
    'exit "$rc"'
)
"""PID 1 of the container (``sh -c WRAPPER paper2code COMMAND``): wait for the copy, run the
command, report each limited filesystem as ``path:free-blocks:blocks:block-size:free-inodes``,
exit with the command's status."""


def repo_tar(
    repo: Path, uid: int = 1000, gid: int = 1000, *, ready: bool = False
) -> tuple[bytes, list[Dropped]]:
    """The repository as a tar owned by the sandbox user, with what :func:`sandbox.tree.scan`
    keeps (links only when they stay inside the repository; caches and VCS folders left out),
    and what was dropped; with ``ready``, ``READY`` is its last member."""
    entries, dropped = scan(repo)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for e in entries:
            info = tarfile.TarInfo(e.rel)
            info.uid, info.gid, info.uname, info.gname = uid, gid, "sandbox", "sandbox"
            info.mode = e.mode
            data = _member(Path(repo), e, info, dropped)
            if data is not None or e.kind != "file":
                tf.addfile(info, io.BytesIO(data) if data is not None else None)
        if ready:
            info = tarfile.TarInfo(READY)
            info.uid, info.gid, info.mode = uid, gid, 0o644
            tf.addfile(info, io.BytesIO(b""))
    return buf.getvalue(), dropped


def _member(repo: Path, e: Entry, info: tarfile.TarInfo, dropped: list[Dropped]) -> bytes | None:
    """Fill ``info`` for entry ``e``; the file's bytes for a regular file (None otherwise, or
    when it cannot be read safely, which drops it)."""
    if e.kind == "dir":
        info.type = tarfile.DIRTYPE
        return None
    if e.kind == "link":
        info.type, info.linkname = tarfile.SYMTYPE, e.target
        return None
    try:
        data = read_bytes(repo / e.rel)
    except OSError as exc:
        dropped.append(Dropped(e.rel, f"unreadable or replaced while copying ({exc})"))
        return None
    info.size = len(data)
    return data


def repo_footprint(repo: Path) -> int:
    """Bytes the copy takes in a tmpfs: each regular file rounded up to whole pages."""
    total = 0
    for e in scan(repo)[0]:
        if e.kind == "file":
            total += -(-(Path(repo) / e.rel).lstat().st_size // PAGE) * PAGE
    return total


def split_fs_report(stderr: bytes) -> tuple[bytes, dict[str, tuple[int, int, int]]]:
    """Strip ``WRAPPER``'s marker line (its last occurrence) from stderr; returns the program's
    stderr and, per filesystem, (bytes used, bytes free, free inodes). Without a marker (the
    container was killed, or the report failed) the report is empty."""
    at = stderr.rfind(FS_MARKER)
    if at < 0:
        return stderr, {}
    end = stderr.find(b"\n", at)
    line = stderr[at + len(FS_MARKER) : end if end >= 0 else len(stderr)]
    rest = stderr[:at] + (stderr[end + 1 :] if end >= 0 else b"")
    report: dict[str, tuple[int, int, int]] = {}
    for item in line.decode("ascii", errors="replace").split():
        parts = item.rsplit(":", 4)
        if len(parts) != 5 or not all(p.isdigit() for p in parts[1:]):
            continue
        path, free, blocks, bsize, inodes = parts[0], *map(int, parts[1:])
        report[path] = ((blocks - free) * bsize, free * bsize, inodes)
    return rest, report


def disk_verdict(
    report: dict[str, tuple[int, int, int]], output: str, *, failed: bool
) -> tuple[bool, dict[str, int]]:
    """(disk limit exceeded, MiB used per filesystem): a limited filesystem without a free block
    or inode at the end, or ENOSPC in the output of a run that failed."""
    full = any(free == 0 or inodes == 0 for _, free, inodes in report.values())
    used = {path: round(u / 2**20) for path, (u, _, _) in report.items()}
    return full or (failed and ENOSPC_TEXT in output), used


def _ids(user: str) -> tuple[int, int]:
    """uid and gid of a ``uid:gid`` user setting (1000 where not numeric)."""
    uid, _, gid = user.partition(":")
    return (
        int(uid) if uid.isdigit() else 1000,
        int(gid) if gid.isdigit() else (int(uid) if uid.isdigit() else 1000),
    )


@dataclass(frozen=True)
class Removed:
    """A container or volume ``cleanup_leftovers`` removed."""

    kind: str
    name: str
    owner: str
    run: str


def cleanup_leftovers(*, everything: bool = False, run: str | None = None) -> list[Removed]:
    """Remove the containers and volumes labelled ``paper2code=1`` whose owning process is gone
    (see ``sandbox.ownership``), or all of them with ``everything``; only those of sandbox run
    ``run`` (its ``paper2code.run`` label) when given. Returns what it removed."""
    import docker.errors

    c = docker_client()
    wanted = {"label": ["paper2code=1", *([f"{RUN}={run}"] if run else [])]}
    removed: list[Removed] = []
    with docker_errors("cleaning up"):
        for ct in c.containers.list(all=True, filters=wanted):
            tags = ct.labels or {}
            owner = tags.get(OWNER, "")
            if everything or not owner_alive(owner):
                ct.remove(force=True, v=True)
                removed.append(Removed("container", ct.name, owner or "unknown", tags.get(RUN, "")))
        for vol in c.volumes.list(filters=wanted):
            tags = (vol.attrs or {}).get("Labels") or {}
            owner = tags.get(OWNER, "")
            if everything or not owner_alive(owner):
                with contextlib.suppress(docker.errors.APIError):  # still in use: leave it
                    vol.remove(force=True)
                    removed.append(
                        Removed("volume", vol.name, owner or "unknown", tags.get(RUN, ""))
                    )
    return removed


@dataclass
class _Outcome:
    """What a finished (or killed) container left behind."""

    exit_code: int | None = None
    timed_out: bool = False
    oom: bool = False
    duration: float = 0.0
    stdout: bytes = b""
    stderr: bytes = b""
    fits: bool = True
    """False when the copy itself did not fit in the workspace."""


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
        self.deps: DepsImage | None = None
        """What the last ``prepare`` made ready: tag, whether it was built, size, CPU pins."""
        self.client = docker_client()
        self.labels = labels()
        """Labels of every container and volume this sandbox makes: the run and its owner."""

    def prepare(self, repo: Path) -> str:
        self.deps = ensure_deps_image(repo, self.settings, on_log=self.on_log)
        self.builds += int(self.deps.built)
        self.image = self.deps.tag
        return self.deps.tag

    def run(self, repo: Path, command: str, *, limits: Limits | None = None) -> RunResult:
        limits = limits or self.settings.limits
        image = self.image or self.prepare(repo)
        footprint = repo_footprint(Path(repo))
        if footprint > limits.workspace_mb * 2**20:
            return self._does_not_fit(command, image, footprint, limits)
        uid, gid = _ids(self.settings.user)
        archive, dropped = repo_tar(Path(repo), uid, gid, ready=True)
        done = self._execute(image, command, archive, limits, uid, gid)
        if not done.fits:
            return self._does_not_fit(command, image, footprint, limits)
        raw_err, report = split_fs_report(done.stderr)
        stdout, t1 = tail(done.stdout, limits.output_bytes)
        stderr, t2 = tail(raw_err, limits.output_bytes)
        oom = done.oom and done.exit_code != 0  # a child killed, the program recovered: no OOM
        failed = done.timed_out or done.exit_code != 0
        disk, used = disk_verdict(report, f"{stdout}\n{stderr}", failed=failed)
        return RunResult(
            command=command,
            exit_code=None if done.timed_out else done.exit_code,
            timed_out=done.timed_out,
            oom_killed=oom and not done.timed_out,
            disk_limit_exceeded=disk,
            disk_used_mb=used,
            duration_s=round(done.duration, 3),
            stdout=stdout,
            stderr=stderr,
            truncated=t1 or t2,
            sandbox="docker",
            image=image,
            dropped=[str(d) for d in dropped],
        )

    def _container(self, image: str, command: str, volume: Any, limits: Limits) -> Any:
        import docker.types

        return self.client.containers.create(
            image,
            ["/bin/sh", "-c", WRAPPER, "paper2code", command],
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
            labels=self.labels,
            detach=True,
        )

    def _execute(
        self, image: str, command: str, archive: bytes, limits: Limits, uid: int, gid: int
    ) -> _Outcome:
        """Create the workspace volume and the container, copy the repository in, run, wait
        (killing it at the wall-clock limit), collect; both are removed whatever happens."""
        import docker.errors

        container: Any = None
        volume: Any = None
        done = _Outcome()
        try:
            with docker_errors("running the repository"):
                volume = self.client.volumes.create(
                    driver="local",
                    driver_opts={
                        "type": "tmpfs",
                        "device": "tmpfs",
                        "o": f"size={limits.workspace_mb}m,uid={uid},gid={gid},mode=0755,"
                        "nosuid,nodev",
                    },
                    labels=self.labels,
                )
                container = self._container(image, command, volume, limits)
                container.start()  # the tmpfs volume is mounted from now until the end
                try:
                    container.put_archive(WORKDIR, archive)
                except docker.errors.APIError as exc:
                    if "no space left" not in str(exc).lower():
                        raise
                    done.fits = False
                    return done
                self._wait(container, limits, done)
        finally:
            # NotFound: already gone; APIError 409: removal already in progress.
            gone = (docker.errors.NotFound, docker.errors.APIError)
            if container is not None:
                with contextlib.suppress(*gone):
                    container.remove(force=True, v=True)
            if volume is not None:
                with contextlib.suppress(*gone):
                    volume.remove(force=True)
        return done

    @staticmethod
    def _wait(container: Any, limits: Limits, done: _Outcome) -> None:
        started = time.monotonic()
        try:
            status = container.wait(timeout=limits.wall_s)
            done.exit_code = int(status.get("StatusCode", -1))
        except Exception as exc:  # requests' ReadTimeout / ConnectionError on timeout
            if "timed out" not in str(exc).lower() and "timeout" not in type(exc).__name__.lower():
                raise
            done.timed_out = True
            container.kill()
            container.wait(timeout=30)
        done.duration = time.monotonic() - started
        container.reload()
        done.oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        done.stdout = container.logs(stdout=True, stderr=False)
        done.stderr = container.logs(stdout=False, stderr=True)

    def _does_not_fit(self, command: str, image: str, footprint: int, limits: Limits) -> RunResult:
        """The verdict for a repository larger than the workspace: nothing ran."""
        mib = footprint / 2**20
        return RunResult(
            command=command,
            exit_code=None,
            disk_limit_exceeded=True,
            disk_used_mb={WORKDIR: round(mib)},
            stderr=(
                f"paper2code: the repository ({mib:.0f} MiB) does not fit in the workspace "
                f"limit ({limits.workspace_mb} MiB): nothing ran. Remove large files (data, "
                "checkpoints) from the repository or raise Limits.workspace_mb.\n"
            ),
            sandbox="docker",
            image=image,
        )
