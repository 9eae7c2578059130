"""Deterministic fixes: repairs that need no model, expressed as SEARCH/REPLACE edits so they
are applied, linted and recorded like any other patch.

- A ``ModuleNotFoundError`` for a known third-party module adds its distribution to
  ``requirements.txt`` (``sklearn`` → ``scikit-learn``). A module that is a file or package of
  the repository, or of the standard library, is not a dependency: no fix.
- pip failing on a requirement that is an import name (``sklearn``) gets the distribution name;
  one that names a standard-library module (``argparse``, ``os``) is removed.
- An undefined common alias (``NameError`` or ruff F821: ``np``, ``pd``, ``plt``, ``nn``, ``F``,
  ``Path``, ``Optional``…) gets its import inserted after the module docstring and the
  ``from __future__`` lines.

Every function returns None when no deterministic fix applies.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sandbox.localize import Failure, Suspect, undefined_names
from sandbox.patch import Edit
from sandbox.requirements import canonical, requirement_name

__all__ = [
    "ALIAS_IMPORTS",
    "MODULE_TO_DIST",
    "DeterministicFix",
    "deterministic_fix",
    "fix_bad_requirement",
    "fix_missing_module",
    "fix_undefined_names",
]

MODULE_TO_DIST: dict[str, str] = {
    # import name differs from the distribution name
    "sklearn": "scikit-learn",
    "cv2": "opencv-python-headless",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "dotenv": "python-dotenv",
    "attr": "attrs",
    "Crypto": "pycryptodome",
    "google.protobuf": "protobuf",
    "dateutil": "python-dateutil",
    "jose": "python-jose",
    "serial": "pyserial",
    "fitz": "pymupdf",
    "git": "gitpython",
    "magic": "python-magic",
    "tensorflow_datasets": "tensorflow-datasets",
    "torch_geometric": "torch-geometric",
    "absl": "absl-py",
    "pyro": "pyro-ppl",
    "huggingface_hub": "huggingface-hub",
    "pytorch_lightning": "pytorch-lightning",
    "lightning": "lightning",
    "sentence_transformers": "sentence-transformers",
    "faiss": "faiss-cpu",
    "gym": "gym",
    "gymnasium": "gymnasium",
    "jax": "jax",
    "flax": "flax",
    "optax": "optax",
    "igraph": "python-igraph",
    "Levenshtein": "levenshtein",
    "umap": "umap-learn",
    "hydra": "hydra-core",
    "omegaconf": "omegaconf",
    "lxml": "lxml",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "wandb": "wandb",
    "mpl_toolkits": "matplotlib",
    "tensorboardX": "tensorboardx",
    # same name
    **{
        m: m
        for m in (
            "torch",
            "torchvision",
            "torchaudio",
            "torchtext",
            "numpy",
            "pandas",
            "scipy",
            "matplotlib",
            "seaborn",
            "tqdm",
            "einops",
            "transformers",
            "datasets",
            "tokenizers",
            "accelerate",
            "peft",
            "timm",
            "networkx",
            "sympy",
            "statsmodels",
            "xgboost",
            "lightgbm",
            "catboost",
            "nltk",
            "spacy",
            "gensim",
            "requests",
            "six",
            "h5py",
            "numba",
            "joblib",
            "tabulate",
            "rich",
            "click",
            "typer",
            "pydantic",
            "jsonschema",
            "toml",
            "tomli",
            "tensorboard",
            "tensorflow",
            "keras",
            "sentencepiece",
            "tiktoken",
            "safetensors",
            "evaluate",
            "pytest",
            "imageio",
            "shapely",
            "plotly",
            "regex",
            "ftfy",
            "filelock",
            "psutil",
            "dill",
            "cloudpickle",
            "pyarrow",
            "polars",
            "opt_einsum",
            "ml_collections",
            "soundfile",
            "librosa",
            "tensorly",
            "cvxpy",
            "pymc",
            "arviz",
            "gpytorch",
            "botorch",
            "dgl",
        )
    },
}
"""Import name → pip distribution, for the modules generated research code commonly uses."""

ALIAS_IMPORTS: dict[str, str] = {
    "np": "import numpy as np",
    "pd": "import pandas as pd",
    "plt": "import matplotlib.pyplot as plt",
    "sns": "import seaborn as sns",
    "torch": "import torch",
    "nn": "import torch.nn as nn",
    "F": "import torch.nn.functional as F",
    "optim": "import torch.optim as optim",
    "DataLoader": "from torch.utils.data import DataLoader",
    "Dataset": "from torch.utils.data import Dataset",
    "TensorDataset": "from torch.utils.data import TensorDataset",
    "tqdm": "from tqdm import tqdm",
    "yaml": "import yaml",
    "scipy": "import scipy",
    "math": "import math",
    "os": "import os",
    "sys": "import sys",
    "re": "import re",
    "json": "import json",
    "random": "import random",
    "time": "import time",
    "copy": "import copy",
    "glob": "import glob",
    "shutil": "import shutil",
    "pickle": "import pickle",
    "csv": "import csv",
    "logging": "import logging",
    "argparse": "import argparse",
    "itertools": "import itertools",
    "functools": "import functools",
    "collections": "import collections",
    "warnings": "import warnings",
    "subprocess": "import subprocess",
    "dataclasses": "import dataclasses",
    "typing": "import typing",
    "Path": "from pathlib import Path",
    "dataclass": "from dataclasses import dataclass",
    "field": "from dataclasses import field",
    "asdict": "from dataclasses import asdict",
    "defaultdict": "from collections import defaultdict",
    "Counter": "from collections import Counter",
    "OrderedDict": "from collections import OrderedDict",
    "deque": "from collections import deque",
    "namedtuple": "from collections import namedtuple",
    "partial": "from functools import partial",
    "deepcopy": "from copy import deepcopy",
    "datetime": "import datetime",
    "abstractmethod": "from abc import abstractmethod",
    "ABC": "from abc import ABC",
    **{
        name: f"from typing import {name}"
        for name in (
            "Any",
            "Callable",
            "Dict",
            "Iterable",
            "Iterator",
            "List",
            "Mapping",
            "Optional",
            "Sequence",
            "Set",
            "Tuple",
            "Union",
        )
    },
}
"""Undefined name → the import that defines it, for unambiguous, conventional aliases."""

REQUIREMENTS = "requirements.txt"


class DeterministicFix(BaseModel):
    """Edits that repair a failure without a model, and why."""

    model_config = ConfigDict(extra="forbid")

    description: str
    """One line, e.g. ``add pyyaml to requirements.txt (No module named 'yaml')``."""
    edits: list[Edit]


def _is_local_module(module: str, repo: Path) -> bool:
    """A file or package of the repository (at its root or one level down, e.g. ``src/``)."""
    top = module.split(".")[0]
    for base in [repo, *(p for p in repo.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        if (base / f"{top}.py").is_file() or (base / top).is_dir():
            return True
    return False


def _tail_anchor(text: str) -> str:
    """The shortest tail of ``text`` (whole lines) that occurs exactly once in it."""
    lines = text.splitlines(keepends=True)
    for k in range(1, len(lines) + 1):
        tail = "".join(lines[-k:])
        if tail.strip() and text.count(tail) == 1:
            return tail
    return text


def _append_line_edit(path: str, text: str | None, line: str) -> Edit:
    if text is None or not text.strip():
        return Edit(path=path, search=text or "", replace=line + "\n")
    anchor = _tail_anchor(text)
    sep = "" if anchor.endswith("\n") else "\n"
    return Edit(path=path, search=anchor, replace=f"{anchor}{sep}{line}\n")


def fix_missing_module(module: str, repo: Path) -> DeterministicFix | None:
    """Add the distribution of a missing third-party ``module`` to ``requirements.txt``."""
    repo = Path(repo)
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or _is_local_module(module, repo):
        return None
    dist = MODULE_TO_DIST.get(module) or MODULE_TO_DIST.get(top)
    if dist is None:
        return None
    req = repo / REQUIREMENTS
    text = req.read_text(encoding="utf-8") if req.is_file() else None
    present = {requirement_name(ln) for ln in (text or "").splitlines()}
    if canonical(dist) in present:
        return None  # listed yet missing: not something a requirement line fixes
    return DeterministicFix(
        description=f"add {dist} to {REQUIREMENTS} (No module named {module!r})",
        edits=[_append_line_edit(REQUIREMENTS, text, dist)],
    )


_PIP_BAD = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the "
    r"requirement)\s+([A-Za-z0-9][A-Za-z0-9._-]*)"
)


def fix_bad_requirement(pip_log: str, repo: Path) -> DeterministicFix | None:
    """pip could not find a requirement: an import name is replaced by its distribution name
    (``sklearn`` → ``scikit-learn``), a standard-library module is removed."""
    m = _PIP_BAD.search(pip_log)
    req = Path(repo) / REQUIREMENTS
    if not m or not req.is_file():
        return None
    bad = canonical(m[1])
    text = req.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    hits = [ln for ln in lines if requirement_name(ln) == bad]
    if len(hits) != 1 or text.count(hits[0]) != 1:
        return None
    line = hits[0]
    stdlib = {canonical(n) for n in sys.stdlib_module_names}
    by_import = {canonical(k): v for k, v in MODULE_TO_DIST.items()}
    if bad in stdlib:
        return DeterministicFix(
            description=f"remove {m[1]} from {REQUIREMENTS} (part of the standard library)",
            edits=[Edit(path=REQUIREMENTS, search=line, replace="")],
        )
    dist = by_import.get(bad)
    if dist and canonical(dist) != bad:
        present = {requirement_name(ln) for ln in lines}
        stripped = line.lstrip()
        name_len = len(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", stripped)[0])  # type: ignore[index]
        new = line[: len(line) - len(stripped)] + dist + stripped[name_len:]
        if canonical(dist) in present:
            new = ""
        return DeterministicFix(
            description=f"{REQUIREMENTS}: {m[1]} is an import name; the distribution is {dist}",
            edits=[Edit(path=REQUIREMENTS, search=line, replace=new)],
        )
    return None


def _insertion_line(tree: ast.Module) -> int:
    """0-based line index after the module docstring and ``from __future__`` imports."""
    after = 0
    for i, node in enumerate(tree.body):
        is_doc = (
            i == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if is_doc or is_future:
            after = node.end_lineno or after
        else:
            break
    return after


def _has_module_import(tree: ast.Module, statement: str) -> bool:
    want = ast.dump(ast.parse(statement).body[0])
    return any(ast.dump(node) == want for node in tree.body)


def _import_edit(repo: Path, rel: str, names: Iterable[str]) -> tuple[Edit, list[str]] | None:
    path = Path(repo) / rel
    if not path.is_file() or not rel.endswith(".py"):
        return None
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    statements = []
    for name in sorted(set(names)):
        stmt = ALIAS_IMPORTS.get(name)
        if stmt and not _has_module_import(tree, stmt) and stmt not in statements:
            statements.append(stmt)
    if not statements:
        return None
    statements.sort()
    block = "".join(s + "\n" for s in statements)
    if not text.strip():
        return Edit(path=rel, search=text, replace=block), statements
    lines = text.splitlines(keepends=True)
    at = _insertion_line(tree)
    if at == 0:  # nothing to skip: insert above the shortest unique head of the file
        for k in range(1, len(lines) + 1):
            head = "".join(lines[:k])
            if head.strip() and text.count(head) == 1:
                return Edit(path=rel, search=head, replace=block + "\n" + head), statements
        return None
    end = at + 1 if at < len(lines) and not lines[at].strip() else at  # keep one blank line
    for k in range(1, at + 1):
        anchor = "".join(lines[at - k : end])
        if anchor.strip() and text.count(anchor) == 1:
            if not anchor.endswith("\n"):
                return Edit(path=rel, search=anchor, replace=anchor + "\n" + block), statements
            return Edit(path=rel, search=anchor, replace=anchor + block), statements
    return None


def fix_undefined_names(
    repo: Path, names_by_file: Mapping[str, Iterable[str]]
) -> DeterministicFix | None:
    """Insert the conventional import for each undefined alias in each file."""
    edits: list[Edit] = []
    added: list[str] = []
    for rel in sorted(names_by_file):
        made = _import_edit(repo, rel, names_by_file[rel])
        if made:
            edits.append(made[0])
            added.extend(f"{rel}: {s}" for s in made[1])
    if not edits:
        return None
    return DeterministicFix(
        description="add missing imports (" + "; ".join(added) + ")", edits=edits
    )


def deterministic_fix(
    failure: Failure,
    repo: Path,
    lint: list[Suspect] | None = None,
    *,
    pip_log: str | None = None,
) -> DeterministicFix | None:
    """The deterministic fix for ``failure``, or None. ``lint`` (ruff suspects) adds the
    imports of undefined aliases in every file, not only the one that failed; ``pip_log`` is
    the output of a failed dependency install."""
    repo = Path(repo)
    if pip_log:
        fix = fix_bad_requirement(pip_log, repo)
        if fix:
            return fix
    if failure.missing_module:
        fix = fix_missing_module(failure.missing_module, repo)
        if fix:
            return fix
    names: dict[str, set[str]] = {f: set(n) for f, n in undefined_names(lint or []).items()}
    if failure.undefined_name and failure.suspects:
        names.setdefault(failure.suspects[0].file, set()).add(failure.undefined_name)
    names = {f: {n for n in ns if n in ALIAS_IMPORTS} for f, ns in names.items()}
    names = {f: ns for f, ns in names.items() if ns}
    return fix_undefined_names(repo, names) if names else None
