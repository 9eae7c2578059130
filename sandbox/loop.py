"""The repair loop: run the smoke command, localize the failure, patch, rerun.

One iteration::

    prepare (dependency image) ─▶ run ─▶ passed? stop
                                          │ no
    localize (traceback + ruff) ─▶ deterministic fix? ─▶ else ask the Fixer for edits
                                                          (rejected edits go back with the
                                                           reason, at most ``max_reflections``)
    apply ─▶ next iteration

A ``DependencyInstallError`` from prepare is a failure like any other (e.g. a requirement that
does not exist). The loop stops when the command passes (``passed``), when the iteration budget
is spent or the same failure signature has been seen ``repeat_limit`` times, or no fix is
available (``failed``), when the fixer raises ``BudgetExceeded`` (``stopped``); anything else
is a bug or a broken sandbox: the summary says ``error`` and the exception propagates.

The loop patches ``repo`` in place (the caller passes a working copy). Every iteration is
written to ``out/iter-NN/`` atomically (staged, then renamed), and ``out/summary.json`` after
each iteration, so an interrupted session resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from sandbox import atomic
from sandbox.base import RunResult, Sandbox
from sandbox.errors import BudgetExceeded, DependencyInstallError
from sandbox.fixes import DeterministicFix, deterministic_fix
from sandbox.localize import (
    DEFAULT_WORKDIRS,
    Failure,
    Suspect,
    diagnose,
    excerpt,
    failure_signature,
    is_serious,
    ruff_diagnostics,
)
from sandbox.patch import ApplyReport, Edit
from sandbox.patch import apply_edits as _apply_edits
from sandbox.ratio import RatioReport, ratio_texts
from sandbox.requirements import canonical, requirement_name
from sandbox.settings import Limits
from sandbox.smoke import discover_smoke_command
from sandbox.tree import read_text_tree, tail

__all__ = [
    "Budget",
    "DebugSummary",
    "EditRecord",
    "FailureReport",
    "FixProposal",
    "Fixer",
    "IterationRecord",
    "LoopProgress",
    "RejectedEdit",
    "rejected_edits",
    "repair",
]

TAIL_CHARS = 6000
MAX_REPORT_SUSPECTS = 10
PREPARE_COMMAND = "pip install -r requirements.txt"

Status = Literal["running", "passed", "failed", "stopped", "error"]


class Budget(BaseModel):
    """When the loop gives up."""

    model_config = ConfigDict(extra="forbid")

    max_iters: int = Field(default=8, ge=1)
    """Runs of the smoke command at most (each failed run but the last is followed by a fix)."""
    repeat_limit: int = Field(default=3, ge=1)
    """Stop (``failed``) when the same failure signature has been seen this many times."""
    max_reflections: int = Field(default=3, ge=0)
    """Per iteration, how often edits that did not apply go back to the fixer with reasons."""
    limits: Limits | None = None
    """Resource limits for each run; None uses the sandbox's own."""


class RejectedEdit(BaseModel):
    """An edit that did not apply, with the reason written for the model."""

    model_config = ConfigDict(extra="forbid")

    path: str
    search: str
    replace: str
    reason: str


def rejected_edits(report: ApplyReport) -> list[RejectedEdit]:
    """The edits of ``report`` that did not apply, with their reasons, to send back."""
    return [
        RejectedEdit(
            path=o.edit.path,
            search=o.edit.search,
            replace=o.edit.replace,
            reason=o.reason or "rejected",
        )
        for o in report.rejected
    ]


class FailureReport(BaseModel):
    """Everything a fixer gets to propose a patch."""

    model_config = ConfigDict(extra="forbid")

    iteration: int
    command: str
    exit_code: int | None
    timed_out: bool = False
    oom_killed: bool = False
    disk_limit_exceeded: bool = False
    error: str
    """One line: ``KeyError: 'lr'``."""
    error_type: str | None = None
    signature: str
    suspects: list[Suspect] = []
    """Traceback suspects first, then serious ruff diagnostics."""
    stdout_tail: str = ""
    stderr_tail: str = ""
    rejected: list[RejectedEdit] = []
    """Edits of the previous attempt that did not apply; the others did and must not be resent."""
    attempt: int = 0
    """0 for the first request of an iteration, then 1, 2… for reflections."""


class FixProposal(BaseModel):
    """A fixer's answer: why, and the SEARCH/REPLACE edits."""

    rationale: str
    """What causes the failure and why the edits fix it, in one or two sentences."""
    edits: list[Edit] = []
    """SEARCH/REPLACE edits, applied in order."""


@runtime_checkable
class Fixer(Protocol):
    """Proposes SEARCH/REPLACE edits for a failure (the LLM debugger, or a scripted double).
    Raises ``BudgetExceeded`` when the next model call would exceed the cost cap (the client
    layer's budget); the loop then stops with status ``stopped``."""

    async def propose(self, report: FailureReport) -> FixProposal: ...


class EditRecord(BaseModel):
    """One edit as proposed and what became of it."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["deterministic", "model"]
    attempt: int = 0
    path: str
    search: str
    replace: str
    status: Literal["applied", "rejected"]
    how: str | None = None
    reason: str | None = None


class IterationRecord(BaseModel):
    """One run of the smoke command and the fix that followed it."""

    model_config = ConfigDict(extra="forbid")

    n: int
    phase: Literal["prepare", "run"]
    """``prepare`` when installing the dependencies failed, else ``run``."""
    command: str
    passed: bool
    exit_code: int | None
    timed_out: bool = False
    oom_killed: bool = False
    disk_limit_exceeded: bool = False
    """The run wrote past a size limit of the sandbox's filesystems (see ``RunResult``)."""
    duration_s: float = 0.0
    error: str | None = None
    signature: str | None = None
    fix: Literal["deterministic", "model", "none"] = "none"
    fix_description: str | None = None
    applied: int = 0
    rejected: int = 0
    lines_added: int = 0
    """Lines added by this iteration's patch."""
    lines_deleted: int = 0
    ratio: float = 0.0
    """This iteration's changed lines ÷ lines of the baseline."""
    cumulative_ratio: float = 0.0
    """Changed-line ratio of the repository after this iteration, against the baseline."""
    note: str = ""


class DebugSummary(BaseModel):
    """The state of a repair session; ``out/summary.json``."""

    model_config = ConfigDict(extra="forbid")

    status: Status = "running"
    reason: str = ""
    command: str = ""
    command_source: str = ""
    """``--command`` or the discovery rule (``reproduce.sh``, ``config.yaml``…)."""
    baseline: str = ""
    """What the ratio is measured against: the generated tree's path, or ``snapshot``."""
    environment: str | None = None
    """Last environment id from ``Sandbox.prepare`` (image tag)."""
    iterations: list[IterationRecord] = []
    signatures: list[str] = []
    """Failure signature of every failed run, in order."""
    changed_line_ratio: float = 0.0
    lines_added: int = 0
    lines_deleted: int = 0
    base_lines: int = 0
    dropped: list[str] = []
    """Entries of the repository the sandbox did not copy in (links leading outside,
    hard links, special files), with the reason each."""


# ----------------------------------------------------------------------------- helpers


def _requirement_line(lines: list[str], log: str) -> int:
    """1-based line of the first requirement whose name the pip log mentions (else 1)."""
    mentioned = {canonical(word) for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", log)}
    for n, text in enumerate(lines, 1):
        if requirement_name(text) in mentioned:
            return n
    return 1


def _dependency_failure(exc: DependencyInstallError, repo: Path) -> Failure:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else "pip install failed"
    suspects: list[Suspect] = []
    req = repo / "requirements.txt"
    if req.is_file():
        lines = req.read_text(encoding="utf-8", errors="replace").splitlines()
        line = _requirement_line(lines, exc.log or "")
        suspects.append(
            Suspect(
                file="requirements.txt",
                line=line,
                excerpt=excerpt(lines, line, context=len(lines)),
                kind="requirements",
                message=message,
            )
        )
    return Failure(
        error_type="DependencyInstallError",
        message=message,
        signature=failure_signature("DependencyInstallError", message, suspects),
        source="prepare",
        suspects=suspects,
    )


def _disk_note(result: RunResult, prefix: str) -> str:
    """`` (prefix /tmp 512 MiB, …)`` of the filesystems holding at least 1 MiB, or ''."""
    used = [f"{path} {mib} MiB" for path, mib in sorted(result.disk_used_mb.items()) if mib]
    return f" ({prefix} {', '.join(used)})" if used else ""


def _run_failure(result: RunResult, repo: Path, workdirs: tuple[str, ...]) -> Failure:
    failure = diagnose(f"{result.stdout}\n{result.stderr}", repo, workdirs=workdirs)
    if result.disk_limit_exceeded or result.timed_out or result.oom_killed:
        if result.disk_limit_exceeded:  # first: a full tmpfs can also end in a kill
            kind, message = "DiskLimitExceeded", "wrote past the sandbox's disk limit"
            note = _disk_note(result, "in use:")
        elif result.timed_out:
            kind, message, note = "Timeout", "killed at the wall-clock limit", ""
        else:
            kind, message = "OutOfMemory", "killed for exceeding the memory limit"
            note = _disk_note(result, "files held in RAM:")  # tmpfs counts toward memory
        return failure.model_copy(
            update={
                "error_type": kind,
                "message": message + note,
                # the signature leaves out the sizes, so a repeat is recognized as one
                "signature": failure_signature(kind, message, failure.suspects),
            }
        )
    if failure.error_type is None:
        message = failure.message or f"exit code {result.exit_code}"
        return failure.model_copy(
            update={
                "message": message,
                "signature": failure_signature(f"Exit{result.exit_code}", message, []),
            }
        )
    return failure


def _records(report: ApplyReport, source: str, attempt: int = 0) -> list[EditRecord]:
    return [
        EditRecord(
            source=source,  # type: ignore[arg-type]
            attempt=attempt,
            path=o.edit.path,
            search=o.edit.search,
            replace=o.edit.replace,
            status=o.status,
            how=o.how,
            reason=o.reason,
        )
        for o in report.outcomes
    ]


class _Iteration:
    """Collects what one iteration produced, then writes ``iter-NN/`` in one rename."""

    def __init__(self, n: int, command: str) -> None:
        self.n = n
        self.command = command
        self.phase: Literal["prepare", "run"] = "run"
        self.result: RunResult | None = None
        self.environment: str | None = None
        self.failure: Failure | None = None
        self.lint: list[Suspect] = []
        self.report: FailureReport | None = None
        self.edits: list[EditRecord] = []
        self.diffs: list[str] = []
        self.fix: Literal["deterministic", "model", "none"] = "none"
        self.fix_description: str | None = None
        self.note = ""

    def add(self, report: ApplyReport, source: str, attempt: int = 0) -> None:
        self.edits.extend(_records(report, source, attempt))
        if report.diff:
            self.diffs.append(report.diff)

    def record(self, delta: RatioReport, total: RatioReport) -> IterationRecord:
        r = self.result
        assert r is not None
        base = total.base_lines
        changed = delta.added + delta.deleted
        return IterationRecord(
            n=self.n,
            phase=self.phase,
            command=r.command,
            passed=r.ok,
            exit_code=r.exit_code,
            timed_out=r.timed_out,
            oom_killed=r.oom_killed,
            disk_limit_exceeded=r.disk_limit_exceeded,
            duration_s=r.duration_s,
            error=self.failure.error if self.failure else None,
            signature=self.failure.signature if self.failure else None,
            fix=self.fix,
            fix_description=self.fix_description,
            applied=sum(e.status == "applied" for e in self.edits),
            rejected=sum(e.status == "rejected" for e in self.edits),
            lines_added=delta.added,
            lines_deleted=delta.deleted,
            ratio=(changed / base) if base else float(changed > 0),
            cumulative_ratio=total.ratio,
            note=self.note,
        )

    def write(
        self, out: Path, rec: IterationRecord, delta: RatioReport, total: RatioReport
    ) -> None:
        name = f"iter-{self.n:02d}"
        stage = out / f".{name}.tmp"
        if stage.exists():
            shutil.rmtree(stage)
        r = self.result
        assert r is not None
        atomic.write_text(stage / "command.txt", r.command + "\n")
        atomic.write_text(stage / "stdout.txt", r.stdout)
        atomic.write_text(stage / "stderr.txt", r.stderr)
        info = r.model_dump(mode="json", exclude={"stdout", "stderr"})
        info.update(phase=self.phase, environment=self.environment, ok=r.ok)
        atomic.write_json(stage / "result.json", info)
        atomic.write_json(
            stage / "suspects.json",
            {
                "failure": self.failure.model_dump(mode="json") if self.failure else None,
                "lint": [s.model_dump(mode="json") for s in self.lint],
            },
        )
        if self.report is not None:
            atomic.write_json(stage / "report.json", self.report.model_dump(mode="json"))
        atomic.write_json(
            stage / "edits.json",
            {
                "fix": self.fix,
                "description": self.fix_description,
                "edits": [e.model_dump(mode="json") for e in self.edits],
            },
        )
        atomic.write_text(stage / "patch.diff", "".join(self.diffs))
        atomic.write_json(
            stage / "changes.json",
            {
                "lines_added": delta.added,
                "lines_deleted": delta.deleted,
                "ratio": rec.ratio,
                "cumulative_lines_added": total.added,
                "cumulative_lines_deleted": total.deleted,
                "cumulative_ratio": total.ratio,
                "base_lines": total.base_lines,
                "files": {k: v.model_dump() for k, v in delta.files.items()},
            },
        )
        final = out / name
        if final.exists():
            shutil.rmtree(final)  # a stale directory of an interrupted session
        os.replace(stage, final)


def _load_summary(out: Path) -> DebugSummary | None:
    path = out / "summary.json"
    if not path.is_file():
        return None
    summary = DebugSummary.model_validate_json(path.read_text(encoding="utf-8"))
    if summary.status in {"passed", "failed"}:
        return None  # a finished session: start a new one
    kept = [it for it in summary.iterations if (out / f"iter-{it.n:02d}").is_dir()]
    return summary.model_copy(update={"iterations": kept, "status": "running", "reason": ""})


def _baseline(out: Path, repo: Path, generated: Path | None, fresh: bool) -> dict[str, str | None]:
    if generated is not None:
        return read_text_tree(generated)
    snap = out / "baseline.json"
    if snap.is_file() and not fresh:
        return json.loads(snap.read_text(encoding="utf-8"))
    tree = read_text_tree(repo)
    atomic.write_json(snap, tree)
    return tree


# ----------------------------------------------------------------------------- the loop


class LoopProgress(Protocol):
    """Where the loop reports progress; ``paper2code.progress.Reporter`` satisfies it."""

    def advance(self, stage: str, item: str, note: str = "") -> None: ...
    def info(self, message: str) -> None: ...


class _Quiet:
    """The progress sink when the caller gives none."""

    def advance(self, stage: str, item: str, note: str = "") -> None:
        pass

    def info(self, message: str) -> None:
        pass


def _save(out: Path, summary: DebugSummary) -> None:
    atomic.write_json(out / "summary.json", summary.model_dump(mode="json"))


def _choose_command(summary: DebugSummary, repo: Path, command: str | None) -> None:
    if command:
        summary.command, summary.command_source = command, "--command"
    else:
        found = discover_smoke_command(repo)
        summary.command, summary.command_source = found.command, found.source


def _workdirs(sandbox: Sandbox) -> tuple[str, ...]:
    """Where the sandbox puts the repository, then the usual places: paths to map back."""
    return tuple(dict.fromkeys(w for w in (sandbox.workdir, *DEFAULT_WORKDIRS) if w))


async def repair(
    repo: Path,
    sandbox: Sandbox,
    fixer: Fixer | None,
    budget: Budget | None = None,
    *,
    out: Path,
    command: str | None = None,
    generated: Path | None = None,
    progress: LoopProgress | None = None,
    dropped: Sequence[str] = (),
) -> DebugSummary:
    """Run ``command`` (default: the discovered smoke command) on ``repo`` in ``sandbox`` and
    repair it in place until it passes or a budget is spent. ``fixer`` None means deterministic
    fixes only. The changed-line ratio is measured against ``generated`` when given, else
    against a snapshot of ``repo`` taken when the session started. ``progress`` hears of each
    iteration (``advance("debug", "iter N", note)``) and of notable facts (``info``).
    ``dropped`` names entries left out when the caller made the working copy; they are
    recorded in the summary with any the sandbox leaves out itself."""
    repo, out = Path(repo), Path(out)
    budget = budget or Budget()
    progress = progress or _Quiet()
    out.mkdir(parents=True, exist_ok=True)
    previous = _load_summary(out)
    if previous is None:  # a new session: drop the artifacts of an older one
        for old in out.glob("iter-[0-9][0-9]*"):
            shutil.rmtree(old)
    summary = previous or DebugSummary()
    if dropped:
        summary.dropped = list(dict.fromkeys([*summary.dropped, *dropped]))
        progress.info("left out of the working copy: " + "; ".join(dropped))
    try:
        _choose_command(summary, repo, command)
        base_tree = _baseline(out, repo, generated, fresh=previous is None)
        summary.baseline = str(generated) if generated is not None else "snapshot"
        if previous is not None and previous.iterations:
            progress.info(f"resuming after iteration {previous.iterations[-1].n}")
        progress.info(f"smoke command: {summary.command} (from {summary.command_source})")
        _save(out, summary)
        session = _Session(repo, sandbox, fixer, budget, out, base_tree, progress)
        n = max((it.n for it in summary.iterations), default=0)
        while summary.status == "running":
            n += 1
            await session.iterate(n, summary)
        return summary
    except BaseException as exc:
        summary.status = "error"
        summary.reason = f"{type(exc).__name__}: {exc}"
        _save(out, summary)
        raise


class _Session:
    """What stays the same across the iterations of one repair session."""

    def __init__(
        self,
        repo: Path,
        sandbox: Sandbox,
        fixer: Fixer | None,
        budget: Budget,
        out: Path,
        base_tree: dict[str, str | None],
        progress: LoopProgress,
    ) -> None:
        self.repo, self.sandbox, self.fixer, self.budget = repo, sandbox, fixer, budget
        self.out, self.base_tree, self.progress = out, base_tree, progress
        self.workdirs = _workdirs(sandbox)

    async def iterate(self, n: int, summary: DebugSummary) -> None:
        """One iteration: run, fix, record it in ``iter-NN/`` and in ``summary`` (saved)."""
        it = _Iteration(n, summary.command)
        before = read_text_tree(self.repo)
        status, reason = await _one_iteration(
            it, self.repo, self.sandbox, self.fixer, self.budget, summary, self.workdirs
        )
        after = read_text_tree(self.repo)
        delta, total = ratio_texts(before, after), ratio_texts(self.base_tree, after)
        rec = it.record(delta, total)
        it.write(self.out, rec, delta, total)
        summary.iterations.append(rec)
        if it.failure is not None and it.result is not None and not it.result.ok:
            summary.signatures.append(it.failure.signature)
        new = [d for d in (it.result.dropped if it.result else []) if d not in summary.dropped]
        if new:
            summary.dropped += new
            self.progress.info("not copied into the sandbox: " + "; ".join(new))
        summary.environment = it.environment or summary.environment
        summary.changed_line_ratio = total.ratio
        summary.lines_added, summary.lines_deleted = total.added, total.deleted
        summary.base_lines = total.base_lines
        summary.status, summary.reason = status, reason
        _save(self.out, summary)
        self.progress.advance("debug", f"iter {n}", rec.note)


async def _one_iteration(
    it: _Iteration,
    repo: Path,
    sandbox: Sandbox,
    fixer: Fixer | None,
    budget: Budget,
    summary: DebugSummary,
    workdirs: tuple[str, ...],
) -> tuple[Status, str]:
    """Run, and on failure fix. Returns the session status after it (``running`` to go on)."""
    pip_log: str | None = None
    try:
        it.environment = await asyncio.to_thread(sandbox.prepare, repo)
    except DependencyInstallError as exc:
        it.phase = "prepare"
        pip_log = f"{exc.log}\n{exc}"
        it.result = RunResult(
            command=PREPARE_COMMAND,
            exit_code=1,
            stderr=pip_log,
            sandbox=sandbox.name,
        )
        it.failure = _dependency_failure(exc, repo)
    else:
        it.result = await asyncio.to_thread(sandbox.run, repo, it.command, limits=budget.limits)
        if it.result.ok:
            it.note = "passed"
            return "passed", f"the smoke command passed (iteration {it.n})"
        it.failure = await asyncio.to_thread(_run_failure, it.result, repo, workdirs)
    failure = it.failure
    assert failure is not None
    it.lint = await asyncio.to_thread(ruff_diagnostics, repo)
    it.note = failure.error[:120]

    seen = summary.signatures.count(failure.signature) + 1
    if seen >= budget.repeat_limit:
        it.note += f" (seen {seen} times)"
        return "failed", f"the same failure repeated {seen} times: {failure.error}"
    if it.n >= budget.max_iters:
        return "failed", f"iteration budget spent ({budget.max_iters} runs): {failure.error}"

    fix = deterministic_fix(failure, repo, it.lint, pip_log=pip_log)
    if fix is not None and _apply_fix(it, repo, fix):
        return "running", ""
    if fixer is None:
        return "failed", f"no deterministic fix applies and no model fixer is set: {failure.error}"
    return await _ask_fixer(it, repo, fixer, budget, failure)


def _apply_fix(it: _Iteration, repo: Path, fix: DeterministicFix) -> bool:
    report = _apply_edits(repo, fix.edits)
    it.add(report, "deterministic")
    if report.applied and report.changed_files:
        it.fix, it.fix_description = "deterministic", fix.description
        it.note += f" → {fix.description}"
        return True
    return False


async def _ask_fixer(
    it: _Iteration, repo: Path, fixer: Fixer, budget: Budget, failure: Failure
) -> tuple[Status, str]:
    result = it.result
    assert result is not None
    extra = [s for s in it.lint if is_serious(s)]
    seen = {(s.file, s.line) for s in failure.suspects}
    suspects = failure.suspects + [s for s in extra if (s.file, s.line) not in seen]
    report = FailureReport(
        iteration=it.n,
        command=result.command,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        oom_killed=result.oom_killed,
        disk_limit_exceeded=result.disk_limit_exceeded,
        error=failure.error or f"exit code {result.exit_code}",
        error_type=failure.error_type,
        signature=failure.signature,
        suspects=suspects[:MAX_REPORT_SUSPECTS],
        stdout_tail=tail(result.stdout, TAIL_CHARS)[0],
        stderr_tail=tail(result.stderr, TAIL_CHARS)[0],
    )
    it.fix = "model"
    applied = 0
    for attempt in range(budget.max_reflections + 1):
        it.report = report
        try:
            proposal = await fixer.propose(report)
        except BudgetExceeded as exc:
            it.note += " → cost budget spent"
            return "stopped", f"cost budget spent: {exc}"
        it.fix_description = it.fix_description or proposal.rationale
        applied_report = _apply_edits(repo, proposal.edits)
        it.add(applied_report, "model", attempt)
        applied += len(applied_report.applied)
        if not applied_report.rejected:
            break
        report = report.model_copy(
            update={"attempt": attempt + 1, "rejected": rejected_edits(applied_report)}
        )
    rejected = sum(e.status == "rejected" for e in it.edits if e.source == "model")
    it.note += f" → model: {applied} applied, {rejected} rejected"
    return "running", ""
