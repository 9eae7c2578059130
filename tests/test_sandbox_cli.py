"""The sandbox CLI commands against the real daemon: `smoke` exit codes and JUnit XML, and
`debug`, which works on a copy and never modifies the original."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker]


def make_repo(root: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """(working copy, pristine copy)."""
    repo = root / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    generated = root / "repo.generated"
    shutil.copytree(repo, generated, symlinks=True)
    return repo, generated


def test_smoke_cli_exit_codes_and_junit(tmp_path: Path) -> None:
    import subprocess
    import sys
    from xml.etree import ElementTree as ET

    bin_ = Path(sys.executable).parent / "paper2code"
    good, _ = make_repo(
        tmp_path / "good",
        {"reproduce.sh": "set -e\n[ \"$1\" = --smoke ] && python -c 'print(42)'\n"},
    )
    bad, _ = make_repo(tmp_path / "bad", {"main.py": "raise ValueError('boom')\n"})
    r = subprocess.run(
        [str(bin_), "smoke", str(good), "--junit", str(tmp_path / "good.xml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert ET.parse(tmp_path / "good.xml").getroot().get("failures") == "0"
    r = subprocess.run(
        [
            str(bin_),
            "smoke",
            str(bad),
            "--command",
            "python main.py",
            "--junit",
            str(tmp_path / "bad.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "boom" in r.stderr
    failure = ET.parse(tmp_path / "bad.xml").getroot().find(".//failure")
    assert failure is not None and "ValueError: boom" in failure.text
    r = subprocess.run(
        [str(bin_), "smoke", str(tmp_path / "bad" / "repo.generated")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "--command" in r.stderr and "Traceback" not in r.stderr


def test_debug_cli_never_modifies_the_original(tmp_path: Path) -> None:
    import subprocess
    import sys

    bin_ = Path(sys.executable).parent / "paper2code"
    repo, _ = make_repo(tmp_path, {"main.py": "print(np.zeros(2))\n"})
    before = (repo / "main.py").read_text()
    r = subprocess.run(
        [
            str(bin_),
            "debug",
            str(repo),
            "--out",
            str(tmp_path / "session"),
            "--no-model",
            "--command",
            "python main.py",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    assert (repo / "main.py").read_text() == before
    assert "import numpy as np" in (tmp_path / "session" / "repo" / "main.py").read_text()
    assert (
        json.loads((tmp_path / "session" / "debug" / "summary.json").read_text())["status"]
        == "passed"
    )


def test_unknown_sandbox_kind_lists_the_valid_ones() -> None:
    from sandbox.errors import SandboxError
    from sandbox.factory import make_sandbox
    from sandbox.settings import SandboxSettings

    settings = SandboxSettings()
    object.__setattr__(settings, "kind", "vm")
    with pytest.raises(SandboxError, match="docker, local"):
        make_sandbox(settings)
