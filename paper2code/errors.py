"""User-facing errors. Each says what went wrong and what to do; the CLI prints it in one line
and exits with code 2. Anything that is not one of these is a bug and keeps its traceback."""

from __future__ import annotations

from sandbox import errors as sandbox_errors


class Paper2CodeError(Exception):
    """Base of every error the user is meant to read and act on."""


class PaperError(Paper2CodeError):
    """Raised by ingestion for input it cannot read: missing file, wrong format, corrupt,
    encrypted or scanned PDF, empty document, too many pages."""


class ConfigError(Paper2CodeError):
    """Raised when settings are missing or inconsistent (no API key and no base URL, an unknown
    stage name, a bad price table)."""


class ModelError(Paper2CodeError):
    """Raised when the model endpoint fails after retries, or its reply never validates."""


class RunStoreError(Paper2CodeError):
    """Raised when a run directory is unusable (belongs to another paper, corrupt manifest)."""


class BudgetExceeded(Paper2CodeError, sandbox_errors.BudgetExceeded):
    """Raised before a model call that would exceed ``--max-cost``; the run stops cleanly and
    can be resumed with a larger budget. (Also a ``sandbox.errors.BudgetExceeded``, so the
    repair loop, which cannot import ``paper2code``, stops on it with status ``stopped``.)"""
