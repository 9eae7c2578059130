"""The check's results as data: a finding written for a model (where, what is wrong, the
other side), the report of one check, and how two reports compare (:func:`compare_reports`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Literal

from pydantic import BaseModel, ConfigDict

FindingKind = Literal["unresolved_import", "missing_name", "bad_call", "unknown_config_key", "lint"]
FINDING_KINDS: tuple[FindingKind, ...] = (
    "unresolved_import",
    "missing_name",
    "bad_call",
    "unknown_config_key",
    "lint",
)


class Target(BaseModel):
    """The other side of a finding: the definition a call or import refers to, or the config
    section a key was looked up in."""

    model_config = ConfigDict(extra="forbid")

    file: str
    """Repository-relative path (``trainer.py``, ``config.yaml``)."""
    line: int | None = None
    """1-based line of the definition or section; None when there is none (a missing module)."""
    symbol: str = ""
    """``train``, ``Trainer.fit``, ``optim`` (a config section), or empty for a whole file."""
    excerpt: str = ""
    """The definition's signature or the section's lines, numbered."""

    def __str__(self) -> str:
        return f"{self.file}:{self.symbol}" if self.symbol else self.file


class Finding(BaseModel):
    """One inconsistency, written so a model can fix it."""

    model_config = ConfigDict(extra="forbid")

    kind: FindingKind
    file: str
    """Repository-relative path of the file with the problem."""
    line: int
    """1-based line of the problem."""
    message: str
    """``file:line: what is wrong, and what the other side offers``."""
    excerpt: str = ""
    """Numbered lines around ``line``, the line itself marked with ``>``."""
    target: Target | None = None
    key: str = ""
    """What is wrong, independent of line numbers (kind, file, subject): reports before and
    after a fix are compared by it (:func:`compare_reports`)."""


class ConsistencyReport(BaseModel):
    """What :func:`check_repository` found; written as JSON into the run directory."""

    model_config = ConfigDict(extra="forbid")

    findings: list[Finding] = []
    files: int = 0
    """Python files analysed."""
    lines: int = 0
    """Lines of those files."""
    config: str | None = None
    """The config file keys were checked against, or None when there was none to read."""
    lint: bool = False
    """True when ruff ran."""
    checked: dict[str, int] = {}
    """How much was checked: ``imports`` (of repository modules), ``names`` (imported or used as
    ``module.name``), ``calls`` (resolved to a repository signature), ``config_reads``."""
    seconds: float = 0.0
    """Time of the static analysis (without ruff)."""
    lint_seconds: float = 0.0
    notes: list[str] = []
    """What was not checked, and why (no config.yaml, ruff not installed…)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def counts(self) -> dict[str, int]:
        """Findings per kind (kinds with none left out)."""
        counter = Counter(f.kind for f in self.findings)
        return {k: counter[k] for k in FINDING_KINDS if counter[k]}

    def by_file(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = defaultdict(list)
        for f in self.findings:
            out[f.file].append(f)
        return dict(out)

    def summary(self) -> str:
        """``3 findings (2 bad_call, 1 lint) in 30 files`` — one line for logs and reports."""
        counts = self.counts()
        detail = ", ".join(f"{n} {k}" for k, n in counts.items())
        total = len(self.findings)
        head = f"{total} finding{'s' * (total != 1)}"
        return f"{head}{f' ({detail})' if detail else ''} in {self.files} files"


class ReportDelta(BaseModel):
    """How a report after a reconciliation round compares with the one before it."""

    model_config = ConfigDict(extra="forbid")

    fixed: list[Finding] = []
    remaining: list[Finding] = []
    new: list[Finding] = []


def compare_reports(before: ConsistencyReport, after: ConsistencyReport) -> ReportDelta:
    """Findings of ``before`` gone in ``after`` (fixed), still there, and new ones; findings are
    matched by ``key``, so line shifts from the edits do not matter."""
    left = Counter(f.key for f in after.findings)
    fixed, remaining = [], []
    for f in before.findings:
        if left[f.key] > 0:
            left[f.key] -= 1
            remaining.append(f)
        else:
            fixed.append(f)
    seen = Counter(f.key for f in before.findings)
    new = []
    for f in after.findings:
        if seen[f.key] > 0:
            seen[f.key] -= 1
        else:
            new.append(f)
    return ReportDelta(fixed=fixed, remaining=remaining, new=new)
