"""The ``generate`` pipeline: ingest → plan → analyze → code → debug, as plain async Python.

Each stage reads its inputs from the run directory and writes its artifacts there atomically
the moment they exist; a rerun with the same directory skips what is done (and says so).
``from_stage`` deletes a stage's artifacts and everything after it, then redoes them. The
stages are listed once, in ``Pipeline.stages`` (the stage table), in the order of ``STAGES``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from autogen_core.models import ChatCompletionClient
from pydantic import BaseModel

import prompts
from agents.analyst import Analyst
from agents.base import AgentOptions, RepoFile, SharedContext
from agents.coder import Coder, file_kind
from agents.planner import TURNS, Planner
from paper2code.debug_session import debug_session
from paper2code.equation_images import EquationImages, load_equation_images
from paper2code.errors import BudgetExceeded, ConfigError, RunStoreError
from paper2code.ledger import Ledger
from paper2code.llm import ModelClients, accepts_images, usage_context
from paper2code.manifest import (
    ConsistencySummary,
    RequirementsSummary,
    RunInput,
    RunStatus,
    StageRecord,
    StageStatus,
)
from paper2code.order import break_cycles
from paper2code.progress import Reporter, SilentReporter
from paper2code.runstore import RunStore, flat, now_iso
from paper2code.schemas import FileAnalysis, Paper, Plan
from paper2code.settings import STAGES, Settings
from sandbox.base import Sandbox
from sandbox.loop import DebugSummary
from sandbox.requirements import merge_requirements
from sandbox.settings import SandboxKind
from sandbox.tree import copy_repo, read_files

log = logging.getLogger(__name__)

EXTRA_FILES: tuple[str, ...] = ("tests/test_smoke.py", "reproduce.sh", "README.md")
"""Files every generated repository gets besides the planned ones, written by the coder."""

BASE_REQUIREMENTS: tuple[str, ...] = ("pyyaml", "pytest")
"""Requirements every generated repository needs (config loading, the smoke test)."""

STAGE_ARTIFACTS: dict[str, tuple[str, ...]] = {
    "ingest": ("paper",),
    "plan": ("planning",),
    "analyze": ("analysis",),
    "code": ("coding",),
    "verify": ("verify", "repo.generated"),
    "debug": ("debug", "repo"),
}
"""Folders each stage owns; ``--from-stage`` deletes these for the stage and the ones after."""

DRAFT = "coding/repo"
"""The repository as the coder wrote it (and the static check reconciled it)."""
REFINED = "verify/repo"
"""The draft after verification and refinement; snapshotted as ``repo.generated/``."""
GENERATED = "repo.generated"
"""The snapshot the execute-repair loop starts from and the changed-line ratio measures
against; never modified."""
WORKING = "repo"
"""The working copy the debugger patches."""

SMOKE_WORKFLOW = f"{DRAFT}/.github/workflows/smoke.yml"
"""Generated repositories carry their own CI: a GitHub Actions smoke test."""


def smoke_workflow() -> str:
    return resources.files("paper2code.assets").joinpath("smoke.yml").read_text("utf-8")


def sha256_file(path: Path | str) -> str:
    """Digest of a file, or of the files of a folder (names and contents, links not followed);
    of the reference itself when it names no local file (``arxiv:ID``)."""
    h = hashlib.sha256()
    path = Path(path)
    if not path.exists():
        h.update(f"reference:{path}".encode())
    elif path.is_dir():
        for rel, data in read_files(path):
            h.update(rel.encode())
            h.update(data)
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def requirements_summary(ledger: Ledger) -> RequirementsSummary:
    """The ledger's figures for run.json and the batch summary."""
    return RequirementsSummary(
        requirements=len(ledger.entries),
        assumptions=len(ledger.assumptions),
        implemented=sum(e.status == "implemented" for e in ledger.entries),
        unmet=len(ledger.unmet()),
        coverage_before=ledger.coverage_before,
        coverage_after=ledger.coverage_after,
        refine_rounds=len(ledger.rounds),
        refine_lines_added=sum(r.lines_added for r in ledger.rounds),
        refine_lines_deleted=sum(r.lines_deleted for r in ledger.rounds),
    )


def requirements_txt(plan: Plan) -> str:
    """requirements.txt from the planned packages (the reference system planned them but never
    wrote the file), plus what every generated repository needs; one line per distribution."""
    return "\n".join(merge_requirements(plan.logic.required_packages, BASE_REQUIREMENTS)) + "\n"


def coding_order(plan: Plan, *, acyclic: bool = True) -> tuple[list[str], dict[str, list[str]]]:
    """All files to write, in task-list order then the extras, with each file's direct
    dependencies (with ``acyclic``, forward references dropped so no file waits in a cycle)."""
    files = [*plan.logic.task_list, *[p for p in EXTRA_FILES if p not in plan.logic.task_list]]
    deps: dict[str, list[str]] = dict(plan.dependencies())
    entry = ["main.py"] if "main.py" in plan.logic.task_list else []
    # The smoke test imports the entry point and what it uses; README.md and reproduce.sh are
    # written from the plan (which fixes main.py's --config/--smoke interface), so they need
    # not wait for any code.
    if "tests/test_smoke.py" not in plan.logic.task_list:
        deps["tests/test_smoke.py"] = entry + deps.get("main.py", [])
    if not acyclic:
        return files, {p: [d for d in deps.get(p, []) if d in files and d != p] for p in files}
    return files, break_cycles(files, deps)


@dataclass
class RunOutcome:
    """What ``generate`` reports back to the CLI."""

    out: Path
    status: RunStatus
    """``done`` (every requested stage finished), ``stopped`` (budget), ``failed``."""
    stages: dict[str, StageRecord] = field(default_factory=dict)
    message: str = ""


class Pipeline:
    """One run of ``generate`` over one run directory."""

    def __init__(
        self,
        settings: Settings,
        out: Path,
        *,
        clients: ModelClients,
        reporter: Reporter | None = None,
        structured_output: bool = True,
        sandbox: Sandbox | None = None,
        call_limit: asyncio.Semaphore | None = None,
    ) -> None:
        self.settings = settings
        self.store = RunStore(out)
        self.clients = clients
        self.reporter = reporter or SilentReporter()
        self.options = AgentOptions(
            structured_output=structured_output,
            validation_retries=settings.llm.validation_retries,
        )
        self.sandbox = sandbox
        self.call_limit = call_limit
        """Bounds model calls in flight; shared across the runs of a batch."""
        self.paper_ref: Path | str | None = None
        """The paper of the current run (set by :meth:`run`): a path or an arXiv reference."""
        self.latex_source: Path | str | None = None
        """Its LaTeX source, read instead of it when given."""
        self._paper_md: str | None = None
        self.stages: dict[str, Callable[[], Awaitable[None]]] = {
            "ingest": self.stage_ingest,
            "plan": self.stage_plan,
            "analyze": self.stage_analyze,
            "code": self.stage_code,
            "verify": self.stage_verify,
            "debug": self.stage_debug,
        }
        """The stage table, in the order of ``STAGES``."""

    # ------------------------------------------------------------------ driver
    async def run(
        self,
        paper: Path | str,
        *,
        stages: Sequence[str] = STAGES,
        from_stage: str | None = None,
        source: Path | str | None = None,
    ) -> RunOutcome:
        """Run ``stages`` (all by default) for ``paper`` (a path or an arXiv reference; its
        LaTeX ``source``, when given, is read instead), resuming what is done."""
        for s in [*stages, *([from_stage] if from_stage else [])]:
            if s not in self.stages:
                raise ConfigError(f"unknown stage {s!r}; stages are: {', '.join(STAGES)}")
        self.paper_ref, self.latex_source = paper, source
        self._claim(paper, source)
        if from_stage:
            self.reset_from(from_stage)
        status: RunStatus = "done"
        message = ""
        for stage in STAGES:
            if stage not in stages:
                continue
            try:
                await self.stages[stage]()
            except BudgetExceeded as exc:
                self._end(stage, "stopped", str(exc))
                status, message = "stopped", str(exc)
                break
            except (KeyboardInterrupt, asyncio.CancelledError):
                self._end(stage, "interrupted", None, run_status="interrupted")
                raise
            except Exception as exc:
                self._end(stage, "failed", f"{type(exc).__name__}: {exc}", run_status="failed")
                raise
            self._save_usage()
        with self.store.editing() as manifest:
            manifest.status, manifest.finished_at = status, now_iso()
        stages_done = self.store.manifest().stages
        return RunOutcome(out=self.store.root, status=status, stages=stages_done, message=message)

    def _end(
        self,
        stage: str,
        status: StageStatus,
        error: str | None,
        *,
        run_status: RunStatus | None = None,
    ) -> None:
        """A stage that did not finish: its status, the usage so far, the run's status."""
        self._save_usage()
        self.store.set_stage(stage, status, error=error)
        if error is not None:
            self.reporter.stage_end(stage, status, error)
        if run_status is not None:
            with self.store.editing() as manifest:
                manifest.status = run_status

    def _save_usage(self) -> None:
        """Copy the clients' usage totals (per stage and overall) into run.json."""
        usage = self.clients.usage()
        with self.store.editing() as manifest:
            manifest.usage = usage

    def _claim(self, paper: Path | str, source: Path | str | None) -> None:
        """Tie the run directory to this paper; refuse a directory made for another one."""
        digest = sha256_file(paper)
        with self.store.editing() as manifest:
            if manifest.input is not None and manifest.input.sha256 != digest:
                raise RunStoreError(
                    f"{self.store.root} holds a run of another paper "
                    f"({manifest.input.paper}); choose another --out or delete it"
                )
            manifest.created_at = manifest.created_at or now_iso()
            manifest.input = RunInput(
                paper=str(paper), sha256=digest, source=None if source is None else str(source)
            )
            manifest.model = self.settings.llm.model
            manifest.settings = self.settings.public_dict()
            manifest.status = "running"

    def reset_from(self, stage: str) -> None:
        """Delete the artifacts of ``stage`` and every later stage."""
        later = STAGES[STAGES.index(stage) :]
        with self.store.editing() as manifest:
            for s in later:
                for folder in STAGE_ARTIFACTS[s]:
                    target = self.store.path(folder)
                    if target.is_dir():
                        shutil.rmtree(target)
                manifest.stages.pop(s, None)
                if s == "debug":
                    manifest.debug = None
        self.reporter.info(f"redoing from {stage}: removed artifacts of {', '.join(later)}")

    def _skip(self, stage: str, note: str) -> None:
        self.store.set_stage(stage, "done", resumed=True)
        self.reporter.stage_end(stage, "skipped", f"already done ({note})")

    def _done(self, stage: str, summary: str) -> None:
        self.store.set_stage(stage, "done", summary=summary)
        self.reporter.stage_end(stage, "done", summary)

    def _limit(self) -> asyncio.Semaphore:
        """The bound on model calls in flight: the batch's, or this stage's own."""
        return self.call_limit or asyncio.Semaphore(self.settings.pipeline.concurrency)

    # ------------------------------------------------------------------ ingest
    async def stage_ingest(self) -> None:
        from paper2code.ingest import ingest_paper, write_paper

        if self.store.exists("paper", "paper.json"):
            self._skip("ingest", "paper/paper.json")
            return
        assert self.paper_ref is not None, "run() sets the paper"
        self.store.set_stage("ingest", "running")
        self.reporter.stage_start("ingest", None, str(self.latex_source or self.paper_ref))
        folder = self.store.path("paper")
        result = await asyncio.to_thread(
            ingest_paper,
            self.paper_ref,
            self.settings.ingest,
            out_dir=folder,
            source=self.latex_source,
        )
        write_paper(result, folder)
        self._done(
            "ingest", f"{result.title!r}: {len(result.sections)} sections, {result.tokens} tokens"
        )

    def paper(self) -> Paper:
        return Paper.model_validate(self.store.read_json("paper/paper.json"))

    def paper_md(self) -> str:
        if self._paper_md is None:
            self._paper_md = self.paper().to_markdown(
                include_references=self.settings.ingest.keep_references
            )
        return self._paper_md

    # ------------------------------------------------------------------ plan
    async def stage_plan(self) -> None:
        if self.store.exists("planning", "plan.json"):
            self._skip("plan", "planning/plan.json")
            return
        self.store.set_stage("plan", "running")
        self.reporter.stage_start("plan", len(TURNS), f"{len(TURNS)} turns, two side by side")
        done = {}
        for turn in TURNS:
            raw = self.store.path("planning", "turns", f"{turn.name}.raw.txt")
            if raw.exists():
                done[turn.name] = raw.read_text(encoding="utf-8")
                self.reporter.advance("plan", turn.name, "(saved)")

        def save_turn(name: str, value: BaseModel, raw: str) -> None:
            self.store.write_text(f"planning/turns/{name}.raw.txt", raw)
            self.store.write_json(f"planning/turns/{name}.json", value.model_dump(mode="json"))
            self.reporter.advance("plan", name)

        client = self.clients("planning")
        shown = await self._equation_images(client)
        planner = Planner(client, self.options)
        with usage_context(stage="plan", agent="planner"):
            plan = await planner.plan(
                self.paper_md(),
                done=done,
                on_turn=save_turn,
                limit=self._limit(),
                images=shown.images,
                total_images=shown.total,
            )
        self.store.write_text("planning/config.yaml", plan.config.config_yaml)
        self.store.write_text("planning/class_diagram.mmd", plan.architecture.class_diagram)
        self.store.write_text("planning/sequence_diagram.mmd", plan.architecture.sequence_diagram)
        self.store.write_text("planning/plan.md", prompts.render("plan_view.md", plan=plan))
        self.store.write_json(
            "planning/requirements.json", plan.requirements.model_dump(mode="json")
        )
        self.store.write_json("planning/plan.json", plan.model_dump(mode="json"))
        files = plan.logic.task_list
        n = sum(r.category != "assumption" for r in plan.requirements.requirements)
        seen = f", {len(shown.images)} equation images seen" if shown.images else ""
        self._done("plan", f"{len(files)} files, {n} requirements{seen}: {', '.join(files)}")

    async def _equation_images(self, client: ChatCompletionClient) -> EquationImages:
        """The equation images the planning model is shown (none when the setting is off or
        the model does not accept images); how many in run.json, what was left out in its
        warnings."""
        settings = self.settings.pipeline
        shown = EquationImages()
        if settings.equation_images == "auto" and accepts_images(client):
            shown = await asyncio.to_thread(
                load_equation_images,
                self.paper(),
                self.store.path("paper"),
                settings.max_equation_images,
            )
        notes = [f"equation image {m}: not shown to the planning model" for m in shown.missing]
        if shown.capped:
            notes.append(
                f"the planning model was shown {len(shown.images)} of {shown.total} equation "
                f"images (PAPER2CODE_PIPELINE__MAX_EQUATION_IMAGES={settings.max_equation_images})"
            )
        for note in notes:
            log.warning(note)
        with self.store.editing() as manifest:
            manifest.equation_images = len(shown.images)
            manifest.warnings += [n for n in notes if n not in manifest.warnings]
        if shown.images:
            self.reporter.info(f"plan: {len(shown.images)} equation images go with the paper")
        return shown

    def plan(self) -> Plan:
        return Plan.model_validate(self.store.read_json("planning/plan.json"))

    def shared_context(self) -> SharedContext:
        """The prefix every analysis and coding request opens with."""
        plan_md = self.store.path("planning", "plan.md").read_text(encoding="utf-8")
        return SharedContext(self.paper_md(), plan_md, self.plan().config.config_yaml)

    # ------------------------------------------------------------------ analyze
    async def stage_analyze(self) -> None:
        plan = self.plan()
        files = list(plan.logic.task_list)
        todo = [p for p in files if not self.store.exists("analysis", f"{flat(p)}.json")]
        if not todo:
            self._skip("analyze", f"{len(files)} analyses")
            return
        self.store.set_stage("analyze", "running")
        self.reporter.stage_start("analyze", len(files), f"{len(todo)} to do")
        for p in files:
            if p not in todo:
                self.reporter.advance("analyze", p, "(saved)")
        analyst = Analyst(self.clients("analysis"), self.options)
        shared, limit = self.shared_context(), self._limit()

        async def one(path: str) -> None:
            fl = plan.file_logic(path)
            description, depends_on = (fl.description, fl.depends_on) if fl else ("", [])
            async with limit:
                with usage_context(stage="analyze", agent="analyst", file=path):
                    reply = await analyst.analyze(
                        shared, path, description, depends_on, plan.requirements.of_file(path)
                    )
            self.store.write_text(f"analysis/{flat(path)}.raw.txt", reply.raw)
            self.store.write_json(
                f"analysis/{flat(path)}.json", reply.value.model_dump(mode="json")
            )
            self.reporter.advance("analyze", path)

        await _gather_all([one(p) for p in todo])
        self._done("analyze", f"{len(files)} files")

    def analysis(self, path: str) -> FileAnalysis | None:
        if not self.store.exists("analysis", f"{flat(path)}.json"):
            return None
        return FileAnalysis.model_validate(self.store.read_json(f"analysis/{flat(path)}.json"))

    # ------------------------------------------------------------------ code
    async def stage_code(self) -> None:
        plan = self.plan()
        files, deps = coding_order(plan, acyclic=self.settings.pipeline.coding_order != "interface")
        if self.store.exists("coding", "done.json"):
            self._skip("code", f"{len(files)} files")
            return
        self.store.set_stage("code", "running")
        # Deterministic files first: they come from the plan, not from a model call.
        self.store.write_text(f"{DRAFT}/requirements.txt", requirements_txt(plan))
        self.store.write_text(f"{DRAFT}/config.yaml", plan.config.config_yaml)
        self.store.write_text(SMOKE_WORKFLOW, smoke_workflow())
        draft = self.store.path(DRAFT)
        todo = [p for p in files if not (draft / p).exists()]
        self.reporter.stage_start("code", len(files), f"{len(todo)} to do")
        for p in files:
            if p not in todo:
                self.reporter.advance("code", p, "(saved)")
        await self._code_files(plan, files, deps, todo)
        summary = await self._reconcile()
        self.store.write_json("coding/done.json", {"files": files, "at": now_iso()})
        self._done("code", f"{len(files)} files → {draft}; static check: {summary}")

    async def _reconcile(self) -> str:
        """The static consistency check and its reconciliation round; a one-line summary."""
        from agents.reconciler import Reconciler
        from paper2code.reconcile import reconcile

        draft = self.store.path(DRAFT)
        reconciler = Reconciler(self.clients("coding"), self.options, repo=draft)
        done = await reconcile(draft, reconciler, limit=self._limit(), reporter=self.reporter)
        self.store.write_json("coding/consistency.json", done.model_dump(mode="json"))
        with self.store.editing() as manifest:
            manifest.consistency = ConsistencySummary(
                before=len(done.before.findings),
                after=len(done.after.findings),
                by_kind=done.before.counts(),
                calls=done.calls,
            )
        if done.before.ok:
            return "consistent"
        n = len(done.before.findings)
        return f"{n} finding{'' if n == 1 else 's'} → {len(done.after.findings)} after reconciling"

    async def _code_files(
        self, plan: Plan, files: list[str], deps: dict[str, list[str]], todo: list[str]
    ) -> None:
        """Code the files of ``todo`` concurrently: in ``interface`` order all at once, each
        shown the designed interfaces of the files it imports; in ``dependency`` order each
        once the files it imports are written, shown their code."""
        draft = self.store.path(DRAFT)
        coder = Coder(self.clients("coding"), self.options)
        shared, limit = self.shared_context(), self._limit()
        by_interface = self.settings.pipeline.coding_order == "interface"
        finished = {p: asyncio.Event() for p in files}
        for p in files:
            if by_interface or p not in todo:
                finished[p].set()

        async def one(path: str) -> None:
            for dep in deps.get(path, []):
                await finished[dep].wait()
            analysis = self.analysis(path)
            design = analysis.model_dump_json(indent=2) if analysis else ""
            imports = deps.get(path, [])
            sources = [] if by_interface else self._sources(imports)
            interfaces = self._interfaces(imports) if by_interface else []
            reqs = plan.requirements.of_file(path)
            async with limit:
                with usage_context(stage="code", agent="coder", file=path):
                    reply = await coder.write(shared, path, design, sources, reqs, interfaces)
            self.store.write_text(f"coding/{flat(path)}.raw.txt", reply.raw)
            trace = reply.value.model_dump(mode="json", include={"path", "implements"})
            self.store.write_json(f"coding/{flat(path)}.trace.json", trace)
            self.store.write_text(f"{DRAFT}/{path}", reply.value.content)
            if file_kind(path) == "shell":
                (draft / path).chmod(0o755)
            finished[path].set()
            self.reporter.advance("code", path)

        await _gather_all([one(p) for p in todo])

    def _sources(self, paths: Sequence[str]) -> list[RepoFile]:
        """The code of ``paths`` as written so far."""
        draft = self.store.path(DRAFT)
        return [
            RepoFile(p, (draft / p).read_text(encoding="utf-8"))
            for p in paths
            if (draft / p).is_file()
        ]

    def _interfaces(self, paths: Sequence[str]) -> list[RepoFile]:
        """The designed interfaces (from the analyses) of ``paths``."""
        shown = []
        for p in paths:
            analysis = self.analysis(p)
            if analysis is not None:
                shown.append(RepoFile(p, prompts.render("interface_view.md", design=analysis)))
        return shown

    # ------------------------------------------------------------------ verify
    async def stage_verify(self) -> None:
        if self.store.exists("verify", "ledger.json") and self.store.exists(GENERATED):
            self._skip("verify", "verify/ledger.json")
            return
        from agents.verifier import Refiner, Verifier
        from paper2code.verify import VerifyStage, load_trace

        self.store.set_stage("verify", "running")
        self.reporter.stage_start(
            "verify", None, "requirements: static checks, verifier, refinement"
        )
        refined = self.store.path(REFINED)
        if not refined.exists():
            self._copy(self.store.path(DRAFT), refined)
        client = self.clients("verifying")
        stage = VerifyStage(
            self.store,
            self.plan(),
            verifier=Verifier(client, self.options, repo=refined),
            refiner=Refiner(client, self.options, repo=refined),
            rounds=self.settings.pipeline.refine_rounds,
            limit=self._limit(),
            reporter=self.reporter,
            trace=load_trace(self.store.path("coding")),
        )
        ledger = await stage.run()
        self._snapshot(refined)
        summary = requirements_summary(ledger)
        with self.store.editing() as manifest:
            manifest.requirements = summary
        self._done(
            "verify",
            f"{summary.implemented}/{summary.requirements} requirements implemented; weighted "
            f"coverage {100 * summary.coverage_before:.1f}% → {100 * summary.coverage_after:.1f}%",
        )

    def _copy(self, source: Path, target: Path) -> None:
        """``source`` copied to ``target`` (replaced), what was left out noted in run.json."""
        if target.exists():
            shutil.rmtree(target)
        dropped = copy_repo(source, target)
        if dropped:
            with self.store.editing() as manifest:
                manifest.warnings += [f"not copied into {target.name}/: {d}" for d in dropped]

    def _snapshot(self, source: Path) -> None:
        """``repo.generated/`` (never modified after this) and ``repo/`` from ``source``."""
        self._copy(source, self.store.path(GENERATED))
        self._copy(source, self.store.path(WORKING))

    # ------------------------------------------------------------------ debug
    async def stage_debug(self) -> None:
        summary_path = self.store.path("debug", "summary.json")
        if summary_path.exists():
            previous = DebugSummary.model_validate_json(summary_path.read_text("utf-8"))
            if previous.status in {"passed", "failed"}:
                self._skip("debug", f"status {previous.status}")
                return
        if self.settings.sandbox.kind == SandboxKind.none:
            self.store.set_stage("debug", "skipped", reason="--sandbox none: not executed")
            self.reporter.stage_end("debug", "skipped", "--sandbox none: the code was not run")
            return
        self._ensure_working_copy()
        plan = self.plan()
        self.store.set_stage("debug", "running")
        summary = await debug_session(
            self.settings,
            self.store.path(WORKING),
            generated=self.store.path(GENERATED),
            out=self.store.path("debug"),
            clients=self.clients,
            options=self.options,
            reporter=self.reporter,
            intents={fl.path: fl.description for fl in plan.logic.logic_analysis},
            sandbox=self.sandbox,
        )
        with self.store.editing() as manifest:
            manifest.debug = summary
        note = (
            f"{len(summary.iterations)} iterations, changed-line ratio "
            f"{100 * summary.changed_line_ratio:.2f}%"
        )
        self.store.set_stage("debug", "done", summary=f"{summary.status}: {note}")
        self.reporter.stage_end("debug", summary.status, note)

    def _ensure_working_copy(self) -> None:
        """``repo/`` from ``repo.generated/``; without a verify stage, the snapshot is taken
        from the coded draft (and the run says so)."""
        if not self.store.exists(GENERATED):
            source = REFINED if self.store.exists(REFINED) else DRAFT
            self.reporter.info(f"verify stage not run: executing {source}/ as it is")
            with self.store.editing() as manifest:
                manifest.warnings.append("the verify stage did not run: requirements unchecked")
            self._snapshot(self.store.path(source))
        elif not self.store.exists(WORKING):
            self._copy(self.store.path(GENERATED), self.store.path(WORKING))


async def _gather_all(coros: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines concurrently; on the first failure cancel the rest (their finished
    artifacts are already on disk) and re-raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
