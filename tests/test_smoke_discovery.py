"""Smoke command discovery follows the documented order."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.errors import SandboxError, SmokeCommandNotFound
from sandbox.smoke import discover_smoke_command

MAIN_WITH_SMOKE = """\
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--smoke", action="store_true", help="tiny run")
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


ALL = {
    "reproduce.sh": '#!/bin/bash\nif [ "$1" = --smoke ]; then python main.py --smoke; fi\n',
    "config.yaml": "smoke:\n  command: python main.py --config config.yaml --smoke\n",
    "main.py": MAIN_WITH_SMOKE,
    "tests/test_model.py": "def test_x():\n    assert True\n",
}


@pytest.mark.parametrize(
    ("drop", "command", "source"),
    [
        ((), "bash reproduce.sh --smoke", "reproduce.sh"),
        (("reproduce.sh",), "python main.py --config config.yaml --smoke", "config.yaml"),
        (("reproduce.sh", "config.yaml"), "python main.py --smoke", "main.py"),
        (("reproduce.sh", "config.yaml", "main.py"), "python -m pytest -q", "tests"),
    ],
)
def test_order(tmp_path: Path, drop: tuple[str, ...], command: str, source: str) -> None:
    repo = write(tmp_path, {k: v for k, v in ALL.items() if k not in drop})
    found = discover_smoke_command(repo)
    assert (found.command, found.source) == (command, source)


def test_reproduce_sh_without_smoke_flag_is_skipped(tmp_path: Path) -> None:
    repo = write(tmp_path, {"reproduce.sh": "python main.py\n", "main.py": MAIN_WITH_SMOKE})
    assert discover_smoke_command(repo).command == "python main.py --smoke"


def test_config_without_smoke_command_and_main_without_flag(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "config.yaml": "smoke:\n  steps: 5\n",  # a smoke section, but no command
            "main.py": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--smokey')\n",
            "test/model_test.py": "def test_x():\n    pass\n",
        },
    )
    assert discover_smoke_command(repo).source == "tests"


def test_malformed_config_is_skipped(tmp_path: Path) -> None:
    repo = write(tmp_path, {"config.yaml": "smoke: [unclosed\n", "main.py": MAIN_WITH_SMOKE})
    assert discover_smoke_command(repo).source == "main.py"


def test_nothing_found_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": "print('hi')\n", "tests/README.md": "no tests here\n"})
    with pytest.raises(SmokeCommandNotFound, match="--command") as info:
        discover_smoke_command(tmp_path)
    assert isinstance(info.value, SandboxError)  # the CLI prints it in one line
    assert "reproduce.sh" in str(info.value) and "config.yaml" in str(info.value)
