"""Errors of a broken sandbox (no daemon, image build failed). A failing program under test is
never an error: it comes back as a ``RunResult``."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of sandbox errors; the message says what to do."""


class DaemonUnavailable(SandboxError):
    """Raised when no Docker daemon answers."""


class ImageBuildError(SandboxError):
    """Raised when the base or a dependency image cannot be built; carries the build log tail."""


class ImageMissing(SandboxError):
    """Raised when the sandbox base image does not exist yet."""


class DependencyInstallError(SandboxError):
    """Raised when pip cannot install a repository's requirements. Unlike the others this is
    about the repository, so the repair loop catches it and treats it as a failure to fix
    (its ``log`` holds the pip output tail)."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class SmokeCommandNotFound(SandboxError):
    """Raised when a repository has no discoverable smoke command (see ``sandbox.smoke``); the
    message lists what was looked for and suggests ``--command``."""


class BudgetExceeded(Exception):
    """Raised by a repair loop ``Fixer`` when the next model call would exceed the cost budget;
    the loop stops with status ``stopped`` (resumable with a larger budget).
    ``paper2code.errors.BudgetExceeded`` derives from it, so either is caught."""
