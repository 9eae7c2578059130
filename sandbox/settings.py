"""Sandbox settings: limits, image and pip options.

The sandbox stands alone (it imports nothing from ``paper2code`` or ``agents``), so its settings
model lives here; ``paper2code.settings.Settings`` nests it as ``settings.sandbox``.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SandboxKind(StrEnum):
    """Where generated code runs; the one list of sandbox kinds (the CLI's choices too)."""

    docker = "docker"
    """A Docker container (default, isolated)."""
    local = "local"
    """A subprocess with resource limits, for machines without Docker; only on request."""
    none = "none"
    """Not at all: the debug stage is skipped."""


class Limits(BaseModel):
    """Resource limits for one run of the program under test."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wall_s: float = Field(default=600.0, gt=0)
    """Wall-clock limit in seconds; on expiry the container is killed and the run reported as timed out."""
    memory_mb: int = Field(default=4096, gt=0)
    """Hard memory cap in MiB (swap included); an OOM kill is reported, not retried. Files the
    program writes into ``/workspace`` and ``/tmp`` are held in RAM (tmpfs) and count toward
    it: keep it above ``workspace_mb`` plus ``SandboxSettings.tmp_mb`` plus what the program
    itself needs, else a runaway write ends as an OOM kill instead of a disk verdict."""
    cpus: float = Field(default=2.0, gt=0)
    """CPU quota in cores (fractions allowed)."""
    pids: int = Field(default=256, gt=0)
    """Maximum number of processes and threads; holds against fork bombs."""
    workspace_mb: int = Field(default=2048, gt=0)
    """Size cap of ``/workspace`` (the repository copy plus everything the program writes there),
    in MiB. Writes past it fail with ENOSPC and the run is reported as ``disk_limit_exceeded``;
    a repository larger than this is not run at all. The workspace is a tmpfs, so what is in it
    counts toward ``memory_mb`` too (Docker sandbox; ``--sandbox local`` caps each file at this
    size with ``RLIMIT_FSIZE`` instead)."""
    output_bytes: int = Field(default=1_000_000, gt=0)
    """Cap on captured stdout and on stderr each, in bytes; the tail is kept, the head dropped."""
    network: bool = False
    """Give the program network access. Off by default: the program under test runs offline."""


def _env_index_url() -> str | None:
    return os.environ.get("PIP_INDEX_URL") or None


def _env_find_links() -> tuple[Path, ...]:
    return tuple(Path(p) for p in os.environ.get("PIP_FIND_LINKS", "").split() if Path(p).is_dir())


def _env_ca_bundle() -> Path | None:
    cert = os.environ.get("PIP_CERT")
    return Path(cert) if cert and Path(cert).is_file() else None


class PipOptions(BaseModel):
    """How pip inside the image reaches packages; corporate proxies and wheelhouses need these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index_url: str | None = Field(default_factory=_env_index_url)
    """Primary package index (pip ``--index-url``). Default: ``$PIP_INDEX_URL``, else pip's
    default (PyPI)."""
    extra_index_urls: tuple[str, ...] = ()
    """Additional indexes (pip ``--extra-index-url``)."""
    find_links: tuple[Path, ...] = Field(default_factory=_env_find_links)
    """Local wheelhouse directories (pip ``--find-links``), copied into the build context.
    Default: the directories in ``$PIP_FIND_LINKS`` when that is set."""
    ca_bundle: Path | None = Field(default_factory=_env_ca_bundle)
    """CA bundle file for TLS-inspecting proxies, passed to pip as ``--cert``.
    Default: ``$PIP_CERT`` when that names a file."""
    timeout_s: int = Field(default=120, gt=0)
    """pip's network timeout per request, in seconds."""
    cpu_only: bool = True
    """Resolve the GPU frameworks in ``cpu_packages`` to CPU builds: a requirement on one of them
    is pinned to the newest local CPU wheel (in ``find_links``) that satisfies it, even when the
    index has a newer (CUDA) build, and ``cpu_index_url`` is consulted for the rest. Default on:
    smoke runs need no GPU, and PyPI's Linux torch pulls in gigabytes of CUDA libraries. Turn it
    off for GPU runs."""
    cpu_index_url: str | None = None
    """An index of CPU builds used (as an extra index) when a requirement names a package of
    ``cpu_packages`` that no local wheel satisfies, e.g. ``https://download.pytorch.org/whl/cpu``
    (whose ``+cpu`` versions sort above PyPI's equal ones). Default: none."""
    cpu_packages: tuple[str, ...] = ("torch", "torchvision", "torchaudio")
    """Distributions (PEP 503 names) whose default Linux builds are GPU builds; ``cpu_only``
    applies to them."""

    def args(self, *, wheelhouse: str | None = None) -> list[str]:
        """pip command-line options for an install (the CA bundle is passed separately:
        the image build copies it in, the local sandbox names the host file)."""
        args = ["--timeout", str(self.timeout_s)]
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        if wheelhouse:
            args += ["--find-links", wheelhouse]
        return args


class SandboxSettings(BaseModel):
    """Everything the sandbox needs to build images and run a repository."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    kind: SandboxKind = SandboxKind.docker
    """``docker`` (default, isolated), ``local`` (subprocess with resource limits, only on request)
    or ``none`` (skip execution entirely)."""
    base_image: str = "paper2code-base:latest"
    """Tag of the sandbox base image built by ``paper2code sandbox build-base``."""
    base_from: str = "python:3.11-slim"
    """Image the Dockerfile starts from when pulls work (``build-base`` without ``--offline``)."""
    rootfs_image: str = "paper2code-rootfs:bookworm"
    """Image the Dockerfile starts from with ``build-base --offline``: a debootstrapped Debian
    root filesystem imported into Docker (built by ``sandbox/bootstrap_rootfs.sh`` if absent)."""
    base_packages: tuple[str, ...] = ("numpy", "pyyaml", "pytest")
    """Packages whose wheels (with their dependencies) the base image keeps in its wheelhouse
    (``/opt/paper2code/wheels``), so most generated repositories' dependency images build
    without the network. They are not installed: the program sees only what its
    ``requirements.txt`` declares."""
    limits: Limits = Field(default_factory=Limits)
    """Resource limits for each run."""
    pip: PipOptions = Field(default_factory=PipOptions)
    """pip options used when dependency images are built."""
    build_timeout_s: float = Field(default=1800.0, gt=0)
    """Limit on building one dependency image, in seconds."""
    user: str = "1000:1000"
    """Non-root uid:gid the program runs as."""
    tmp_mb: int = Field(default=512, gt=0)
    """Size of the tmpfs mounted at ``/tmp`` (also ``$HOME``), in MiB; filling it is reported as
    ``disk_limit_exceeded`` like filling the workspace, and it counts toward
    ``Limits.memory_mb``."""
    venv_cache: Path | None = None
    """Where ``--sandbox local`` keeps its per-requirements virtualenvs
    (default ``~/.cache/paper2code/venvs``)."""
