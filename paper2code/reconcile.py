"""After coding: the static consistency check (``sandbox.consistency``) and its one
reconciliation round, before anything runs.

    check ─▶ clean? done (no edits, no calls)
          └▶ undefined conventional aliases (``np``, ``nn``…): their imports, no model
          └▶ the rest: one reconciler call per file with findings (edits through the patch
             machinery, one reflection on edits that did not apply)
    ─▶ check again ─▶ ``coding/consistency.json`` (before, after, what was fixed and how)

Files were written at the same time from their designs (interface-first coding), so what one
expects of another can differ; this round makes them agree before ``verify`` and ``debug``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from agents.reconciler import Reconciler
from paper2code.llm import usage_context
from paper2code.progress import Reporter
from sandbox.consistency import ConsistencyReport, Finding, check_repository, compare_reports
from sandbox.fixes import fix_undefined_names
from sandbox.loop import rejected_edits
from sandbox.patch import ApplyReport, apply_edits
from sandbox.tree import read_text_tree

_UNDEFINED = re.compile(r"F821 Undefined name `(\w+)`")


class FileReconciliation(BaseModel):
    """What the reconciler did to one file."""

    model_config = ConfigDict(extra="forbid")

    findings: list[str]
    calls: int = 0
    rationale: str = ""
    applied: int = 0
    rejected: int = 0
    diff: str = ""


class Reconciliation(BaseModel):
    """``coding/consistency.json``."""

    model_config = ConfigDict(extra="forbid")

    before: ConsistencyReport
    after: ConsistencyReport
    deterministic: str | None = None
    """The imports added without a model (undefined conventional aliases), if any."""
    files: dict[str, FileReconciliation] = Field(default_factory=dict)
    fixed: list[str] = Field(default_factory=list)
    """Messages of the findings gone after the round."""
    remaining: list[str] = Field(default_factory=list)
    new: list[str] = Field(default_factory=list)
    calls: int = 0
    """Reconciler calls made (0 when the code was consistent)."""


def _alias_fix(draft: Path, findings: Sequence[Finding]) -> str | None:
    """Insert the imports of undefined conventional aliases; the fix's description, or None."""
    names: dict[str, set[str]] = {}
    for f in findings:
        m = _UNDEFINED.search(f.message) if f.kind == "lint" else None
        if m:
            names.setdefault(f.file, set()).add(m[1])
    fix = fix_undefined_names(draft, names) if names else None
    if fix is None or not apply_edits(draft, fix.edits).changed_files:
        return None
    return fix.description


async def reconcile(
    draft: Path, reconciler: Reconciler, *, limit: asyncio.Semaphore, reporter: Reporter
) -> Reconciliation:
    """Check ``draft``; when it is not consistent, run the round and check it again."""
    before = await asyncio.to_thread(check_repository, draft)
    if before.ok:
        return Reconciliation(before=before, after=before)
    deterministic = await asyncio.to_thread(_alias_fix, draft, before.findings)
    middle = await asyncio.to_thread(check_repository, draft) if deterministic else before
    files: dict[str, FileReconciliation] = {}
    groups = middle.by_file()
    for path in groups:
        n = len(groups[path])
        reporter.advance("code", f"reconcile {path}", f"{n} finding{'' if n == 1 else 's'}")
    await asyncio.gather(
        *(_one_file(draft, reconciler, path, found, limit, files) for path, found in groups.items())
    )
    after = await asyncio.to_thread(check_repository, draft)
    delta = compare_reports(before, after)
    return Reconciliation(
        before=before,
        after=after,
        deterministic=deterministic,
        files=files,
        fixed=[f.message for f in delta.fixed],
        remaining=[f.message for f in delta.remaining],
        new=[f.message for f in delta.new],
        calls=sum(r.calls for r in files.values()),
    )


async def _one_file(
    draft: Path,
    reconciler: Reconciler,
    path: str,
    findings: list[Finding],
    limit: asyncio.Semaphore,
    out: dict[str, FileReconciliation],
) -> None:
    record = FileReconciliation(findings=[f.message for f in findings])
    out[path] = record
    reports: list[ApplyReport] = []
    rejected = []
    for _ in range(2):  # the proposal, then one reflection on edits that did not apply
        text = read_text_tree(draft).get(path)
        async with limit:
            with usage_context(stage="code", agent="reconciler", file=path):
                reply = await reconciler.propose(path, text, findings, rejected)
        record.calls += 1
        record.rationale = record.rationale or reply.value.rationale
        report = apply_edits(draft, reply.value.edits)
        reports.append(report)
        rejected = rejected_edits(report)
        if not rejected:
            break
    record.applied = sum(len(r.applied) for r in reports)
    record.rejected = len(reports[-1].rejected)
    record.diff = "".join(r.diff for r in reports)
