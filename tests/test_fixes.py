"""Deterministic fixes: missing dependencies and missing imports, as edits that apply."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandbox.fixes import (
    deterministic_fix,
    fix_bad_requirement,
    fix_missing_module,
    fix_undefined_names,
)
from sandbox.localize import Failure, Suspect, diagnose
from sandbox.patch import apply_edits
from sandbox.requirements import canonical


def apply(repo: Path, fix) -> None:
    assert fix is not None
    report = apply_edits(repo, fix.edits)
    assert not report.rejected, report.rejected


# ------------------------------------------------------------------ requirements


@pytest.mark.parametrize(
    ("module", "dist"),
    [
        ("yaml", "pyyaml"),
        ("sklearn", "scikit-learn"),
        ("sklearn.linear_model", "scikit-learn"),
        ("cv2", "opencv-python-headless"),
        ("PIL", "pillow"),
        ("einops", "einops"),
    ],
)
def test_missing_module_appends_its_distribution(tmp_path: Path, module: str, dist: str) -> None:
    (tmp_path / "requirements.txt").write_text("numpy>=1.24\ntorch\n")
    fix = fix_missing_module(module, tmp_path)
    apply(tmp_path, fix)
    assert (tmp_path / "requirements.txt").read_text() == f"numpy>=1.24\ntorch\n{dist}\n"
    assert dist in fix.description


def test_missing_requirements_file_is_created(tmp_path: Path) -> None:
    apply(tmp_path, fix_missing_module("yaml", tmp_path))
    assert (tmp_path / "requirements.txt").read_text() == "pyyaml\n"


def test_requirements_without_final_newline_and_duplicate_lines(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\ntorch\nnumpy")
    apply(tmp_path, fix_missing_module("pandas", tmp_path))
    assert (tmp_path / "requirements.txt").read_text() == "numpy\ntorch\nnumpy\npandas\n"


def test_never_duplicates_a_listed_distribution(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("PyYAML>=6.0  # config\nscikit_learn==1.5\n")
    assert fix_missing_module("yaml", tmp_path) is None
    assert fix_missing_module("sklearn", tmp_path) is None
    assert canonical("Scikit_Learn") == "scikit-learn"


def test_local_stdlib_and_unknown_modules_are_not_dependencies(tmp_path: Path) -> None:
    # both names are also PyPI distributions in the map: the local file must win
    (tmp_path / "evaluate.py").write_text("X = 1\n")
    (tmp_path / "src" / "datasets").mkdir(parents=True)
    assert fix_missing_module("evaluate", tmp_path) is None  # a file of the repository
    assert fix_missing_module("datasets.mnist", tmp_path) is None  # a package under src/
    assert fix_missing_module("tomllib", tmp_path) is None  # standard library
    assert fix_missing_module("made_up_pkg_xyz", tmp_path) is None  # unknown: not guessed
    assert not (tmp_path / "requirements.txt").exists()


def test_bad_requirement_import_name_gets_distribution_name(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\nsklearn>=1.3\nargparse\n")
    log = "ERROR: Could not find a version that satisfies the requirement sklearn>=1.3\n"
    fix = fix_bad_requirement(log, tmp_path)
    apply(tmp_path, fix)
    assert (tmp_path / "requirements.txt").read_text() == "numpy\nscikit-learn>=1.3\nargparse\n"

    log = "ERROR: No matching distribution found for argparse\n"
    apply(tmp_path, fix_bad_requirement(log, tmp_path))
    assert (tmp_path / "requirements.txt").read_text() == "numpy\nscikit-learn>=1.3\n"

    assert (
        fix_bad_requirement("ERROR: No matching distribution found for torch==9.9", tmp_path)
        is None
    )


# ------------------------------------------------------------------ imports


MODEL = '''\
"""Softmax regression."""

from __future__ import annotations

import math


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()
'''


def test_alias_import_goes_after_docstring_and_future(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL)
    apply(tmp_path, fix_undefined_names(tmp_path, {"model.py": {"np"}}))
    text = (tmp_path / "model.py").read_text()
    assert text.splitlines()[:6] == [
        '"""Softmax regression."""',
        "",
        "from __future__ import annotations",
        "",
        "import numpy as np",
        "import math",
    ]
    assert len(text.splitlines()) == len(MODEL.splitlines()) + 1  # one line added, no more
    ast.parse(text)


def test_import_at_top_of_file_without_docstring(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("def f(x):\n    return F.relu(nn.Linear(2, 2)(x))\n")
    fix = fix_undefined_names(tmp_path, {"train.py": {"nn", "F"}})
    apply(tmp_path, fix)
    assert (tmp_path / "train.py").read_text() == (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n"
        "def f(x):\n    return F.relu(nn.Linear(2, 2)(x))\n"
    )


def test_docstring_only_file_and_typing_names(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('"""Doc."""\ndef f(x: Optional[int]) -> Path:\n    return x\n')
    apply(tmp_path, fix_undefined_names(tmp_path, {"a.py": {"Optional", "Path"}}))
    assert (tmp_path / "a.py").read_text().splitlines()[:3] == [
        '"""Doc."""',
        "from pathlib import Path",
        "from typing import Optional",
    ]


def test_no_fix_for_unknown_names_or_existing_imports(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import numpy as np\n\ndef f():\n    return np.zeros(1) + foo\n")
    assert fix_undefined_names(tmp_path, {"a.py": {"np"}}) is None  # already imported
    assert fix_undefined_names(tmp_path, {"a.py": {"foo"}}) is None  # not a known alias
    (tmp_path / "broken.py").write_text("def f(:\n")
    assert fix_undefined_names(tmp_path, {"broken.py": {"np"}}) is None


# ------------------------------------------------------------------ dispatch


def test_deterministic_fix_from_name_error_and_lint(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "plot.py").write_text("def show(x):\n    plt.plot(x)\n")
    out = """\
Traceback (most recent call last):
  File "/workspace/model.py", line 9, in softmax
    e = np.exp(z - z.max())
        ^^
NameError: name 'np' is not defined
"""
    failure = diagnose(out, tmp_path)
    lint = [
        Suspect(file="plot.py", line=2, kind="lint", message="F821 Undefined name `plt`"),
        Suspect(file="plot.py", line=2, kind="lint", message="F821 Undefined name `mystery`"),
    ]
    fix = deterministic_fix(failure, tmp_path, lint)
    assert fix is not None
    assert [e.path for e in fix.edits] == ["model.py", "plot.py"]
    apply(tmp_path, fix)
    assert "import numpy as np\n" in (tmp_path / "model.py").read_text()
    assert (tmp_path / "plot.py").read_text().startswith("import matplotlib.pyplot as plt\n")


def test_deterministic_fix_for_missing_module_and_nothing_else(tmp_path: Path) -> None:
    failure = Failure(
        error_type="ModuleNotFoundError", message="No module named 'yaml'", missing_module="yaml"
    )
    fix = deterministic_fix(failure, tmp_path)
    assert fix is not None and fix.edits[0].path == "requirements.txt"
    assert deterministic_fix(Failure(error_type="KeyError", message="'lr'"), tmp_path) is None
