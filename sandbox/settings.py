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
    """Hard memory cap in MiB (swap included); an OOM kill is reported, not retried."""
    cpus: float = Field(default=2.0, gt=0)
    """CPU quota in cores (fractions allowed)."""
    pids: int = Field(default=256, gt=0)
    """Maximum number of processes and threads; holds against fork bombs."""
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
    """Packages preinstalled in the base image, so most generated repositories need no network
    to build their dependency image."""
    limits: Limits = Field(default_factory=Limits)
    """Resource limits for each run."""
    pip: PipOptions = Field(default_factory=PipOptions)
    """pip options used when dependency images are built."""
    build_timeout_s: float = Field(default=1800.0, gt=0)
    """Limit on building one dependency image, in seconds."""
    user: str = "1000:1000"
    """Non-root uid:gid the program runs as."""
    tmp_mb: int = Field(default=512, gt=0)
    """Size of the tmpfs mounted at ``/tmp`` (also ``$HOME``), in MiB."""
    venv_cache: Path | None = None
    """Where ``--sandbox local`` keeps its per-requirements virtualenvs
    (default ``~/.cache/paper2code/venvs``)."""
