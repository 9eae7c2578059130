"""The run log: library warnings and log records of a run go to ``run.log`` in its folder, not
to the user's console (which shows paper2code's own progress and errors only).

AutoGen, pydantic and the openai client warn through :mod:`warnings` (AutoGen's "Resolved
model mismatch", for one) and log through :mod:`logging`; while :func:`run_log` is active both
are written, with a timestamp, to the file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

FILE = "run.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def run_log(folder: Path) -> Iterator[Path]:
    """Send warnings and WARNING-or-worse log records to ``folder/run.log`` for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    warnings_logger = logging.getLogger("py.warnings")
    propagate = warnings_logger.propagate
    logging.captureWarnings(True)
    warnings_logger.addHandler(handler)
    warnings_logger.propagate = False
    root.addHandler(handler)  # with a handler on the root, nothing falls back to stderr
    try:
        yield path
    finally:
        root.removeHandler(handler)
        warnings_logger.removeHandler(handler)
        warnings_logger.propagate = propagate
        logging.captureWarnings(False)
        handler.close()
