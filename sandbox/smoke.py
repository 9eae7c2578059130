"""Find the command that smoke-tests a repository: a seconds-long run of its whole code path.

Looked for in this order, the first that applies wins:

1. ``reproduce.sh`` that mentions ``--smoke``          → ``bash reproduce.sh --smoke``
2. ``config.yaml`` (or ``config.yml``) with ``smoke: {command: ...}`` → that command
3. ``main.py`` whose argument parser accepts ``--smoke`` → ``python main.py --smoke``
4. a ``tests/`` (or ``test/``) folder with ``test_*.py`` / ``*_test.py`` files
                                                       → ``python -m pytest -q``
5. otherwise :class:`~sandbox.errors.SmokeCommandNotFound`, saying what was looked for.

An explicit ``--command`` given by the user bypasses discovery (handled by the caller).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from sandbox.errors import SmokeCommandNotFound

__all__ = ["SmokeCommand", "discover_smoke_command"]


class SmokeCommand(BaseModel):
    """The discovered command and the rule that produced it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str
    """Shell command, run from the repository root."""
    source: str
    """Why this command: ``reproduce.sh``, ``config.yaml``, ``main.py`` or ``tests``."""


_SMOKE_FLAG = re.compile(r"""add_argument\(\s*(?:['"]-\w['"]\s*,\s*)?['"]--smoke['"]""")


def _config_command(repo: Path) -> str | None:
    for name in ("config.yaml", "config.yml"):
        path = repo / name
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            return None
        smoke = data.get("smoke") if isinstance(data, dict) else None
        command = smoke.get("command") if isinstance(smoke, dict) else None
        if isinstance(command, str) and command.strip():
            return command.strip()
    return None


def _has_tests(repo: Path) -> bool:
    for name in ("tests", "test"):
        folder = repo / name
        if folder.is_dir() and any(
            p.is_file() for pat in ("test_*.py", "*_test.py") for p in folder.rglob(pat)
        ):
            return True
    return False


def discover_smoke_command(repo: Path) -> SmokeCommand:
    """The smoke command of ``repo`` by the documented order (see the module docstring)."""
    repo = Path(repo)
    script = repo / "reproduce.sh"
    if script.is_file() and "--smoke" in script.read_text(encoding="utf-8", errors="replace"):
        return SmokeCommand(command="bash reproduce.sh --smoke", source="reproduce.sh")
    command = _config_command(repo)
    if command:
        return SmokeCommand(command=command, source="config.yaml")
    main = repo / "main.py"
    if main.is_file() and _SMOKE_FLAG.search(main.read_text(encoding="utf-8", errors="replace")):
        return SmokeCommand(command="python main.py --smoke", source="main.py")
    if _has_tests(repo):
        return SmokeCommand(command="python -m pytest -q", source="tests")
    raise SmokeCommandNotFound(
        f"no smoke command found in {repo}: looked for reproduce.sh with --smoke, "
        "config.yaml with smoke.command, main.py accepting --smoke, and a tests/ folder. "
        "Pass one explicitly with --command, e.g. --command 'python main.py'."
    )
