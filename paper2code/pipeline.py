"""The ``generate`` pipeline: ingest → plan → analyze → code → debug, as plain async Python.

Each stage reads its inputs from the run directory and writes its artifacts there atomically
the moment they exist; a rerun with the same directory skips what is done (and says so).
``from_stage`` deletes a stage's artifacts and everything after it, then redoes them.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from autogen_core.models import ChatCompletionClient

import prompts
from agents.analyst import Analyst
from agents.base import AgentOptions
from agents.coder import Coder, SourceFile, file_kind
from agents.planner import Planner
from paper2code.errors import BudgetExceeded, ConfigError, RunStoreError
from paper2code.order import break_cycles
from paper2code.progress import Reporter, SilentReporter
from paper2code.runstore import RunStore, now_iso
from paper2code.schemas import FileAnalysis, Paper, Plan
from paper2code.settings import STAGES, Settings

ClientProvider = Callable[[str], ChatCompletionClient]
"""Role (``planning``, ``analysis``, ``coding``, ``debugging``) → model client."""

EXTRA_FILES: tuple[str, ...] = ("tests/test_smoke.py", "reproduce.sh", "README.md")
"""Files every generated repository gets besides the planned ones, written by the coder."""

BASE_REQUIREMENTS: tuple[str, ...] = ("pyyaml", "pytest")
"""Requirements every generated repository needs (config loading, the smoke test)."""

STAGE_ARTIFACTS: dict[str, tuple[str, ...]] = {
    "ingest": ("paper",),
    "plan": ("planning",),
    "analyze": ("analysis",),
    "code": ("coding", "repo.generated", "repo"),
    "debug": ("debug",),
}
"""Folders each stage owns; ``--from-stage`` deletes these for the stage and the ones after."""


SMOKE_WORKFLOW = "repo.generated/.github/workflows/smoke.yml"
"""Generated repositories carry their own CI: a GitHub Actions smoke test."""


def smoke_workflow() -> str:
    return resources.files("paper2code.assets").joinpath("smoke.yml").read_text("utf-8")


def flat(path: str) -> str:
    """``src/model.py`` → ``src__model.py``: one artifact file per repository file."""
    return path.replace("/", "__")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(path)).encode())
                h.update(p.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def requirements_txt(plan: Plan) -> str:
    """requirements.txt from the planned packages (the reference system planned them but never
    wrote the file), plus what every generated repository needs."""
    lines: list[str] = []
    seen: set[str] = set()
    for req in [*plan.logic.required_packages, *BASE_REQUIREMENTS]:
        name = req.strip()
        key = name.lower().replace("_", "-")
        for sep in "<>=!~[; ":
            key = key.split(sep)[0]
        if key and key not in seen:
            seen.add(key)
            lines.append(name)
    return "\n".join(lines) + "\n"


def coding_order(plan: Plan) -> tuple[list[str], dict[str, list[str]]]:
    """All files to write, in task-list order then the extras, with each file's direct
    dependencies (forward references dropped, so the graph is acyclic)."""
    files = [*plan.logic.task_list, *[p for p in EXTRA_FILES if p not in plan.logic.task_list]]
    deps: dict[str, list[str]] = dict(plan.dependencies())
    entry = ["main.py"] if "main.py" in plan.logic.task_list else []
    # The smoke test imports the entry point and what it uses; README.md and reproduce.sh are
    # written from the plan (which fixes main.py's --config/--smoke interface), so they need
    # not wait for any code.
    if "tests/test_smoke.py" not in plan.logic.task_list:
        deps["tests/test_smoke.py"] = entry + deps.get("main.py", [])
    return files, break_cycles(files, deps)


@dataclass
class RunOutcome:
    """What ``generate`` reports back to the CLI."""

    out: Path
    status: str
    """``done`` (every requested stage finished), ``stopped`` (budget), ``failed``."""
    stages: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class Pipeline:
    """One run of ``generate`` over one run directory."""

    def __init__(
        self,
        settings: Settings,
        out: Path,
        *,
        clients: ClientProvider,
        reporter: Reporter | None = None,
        structured_output: bool = True,
        sandbox: Any | None = None,
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
        self._paper_md: str | None = None

    # ------------------------------------------------------------------ driver
    async def run(
        self,
        paper: Path,
        *,
        stages: Sequence[str] = STAGES,
        from_stage: str | None = None,
    ) -> RunOutcome:
        for s in [*stages, *([from_stage] if from_stage else [])]:
            if s not in STAGES:
                raise ConfigError(f"unknown stage {s!r}; stages are: {', '.join(STAGES)}")
        self._claim(paper)
        if from_stage:
            self.reset_from(from_stage)
        status = "done"
        message = ""
        for stage in STAGES:
            if stage not in stages:
                continue
            try:
                await getattr(self, f"stage_{stage}")(paper)
                self._save_usage()
            except BudgetExceeded as exc:
                self._save_usage()
                self.store.set_stage(stage, "stopped", error=str(exc))
                self.reporter.stage_end(stage, "stopped", str(exc))
                status, message = "stopped", str(exc)
                break
            except (KeyboardInterrupt, asyncio.CancelledError):
                self._save_usage()
                self.store.set_stage(stage, "interrupted")
                self.store.update_manifest(status="interrupted")
                raise
            except Exception as exc:
                self._save_usage()
                self.store.set_stage(stage, "failed", error=f"{type(exc).__name__}: {exc}")
                self.reporter.stage_end(stage, "failed", str(exc))
                self.store.update_manifest(status="failed")
                raise
        self.store.update_manifest(status=status, finished_at=now_iso())
        return RunOutcome(
            out=self.store.root,
            status=status,
            stages=self.store.manifest().get("stages", {}),
            message=message,
        )

    def _save_usage(self) -> None:
        """Copy the recorder's totals (per stage and overall) into run.json."""
        recorder = getattr(self.clients, "recorder", None)
        if recorder is not None:
            self.store.update_manifest(usage=recorder.summary())

    def _claim(self, paper: Path) -> None:
        """Tie the run directory to this paper; refuse a directory made for another one."""
        digest = sha256_file(paper)
        manifest = self.store.manifest()
        previous = manifest.get("input", {}).get("sha256")
        if previous and previous != digest:
            raise RunStoreError(
                f"{self.store.root} holds a run of another paper "
                f"({manifest['input'].get('paper')}); choose another --out or delete it"
            )
        if not manifest:
            self.store.update_manifest(created_at=now_iso(), status="running")
        self.store.update_manifest(
            input={"paper": str(paper), "sha256": digest},
            settings=self.settings.public_dict(),
            status="running",
        )

    def reset_from(self, stage: str) -> None:
        """Delete the artifacts of ``stage`` and every later stage."""
        later = STAGES[STAGES.index(stage) :]
        for s in later:
            for folder in STAGE_ARTIFACTS[s]:
                target = self.store.path(folder)
                if target.is_dir():
                    shutil.rmtree(target)
            data = self.store.manifest()
            data.get("stages", {}).pop(s, None)
            self.store.write_json("run.json", data)
        self.reporter.info(f"redoing from {stage}: removed artifacts of {', '.join(later)}")

    def _skip(self, stage: str, note: str) -> None:
        self.store.set_stage(stage, "done", resumed=True)
        self.reporter.stage_end(stage, "skipped", f"already done ({note})")

    # ------------------------------------------------------------------ ingest
    async def stage_ingest(self, paper: Path) -> None:
        from paper2code.ingest import ingest_paper, write_paper

        if self.store.exists("paper", "paper.json"):
            self._skip("ingest", "paper/paper.json")
            return
        self.store.set_stage("ingest", "running")
        self.reporter.stage_start("ingest", None, paper.name)
        result = await asyncio.to_thread(ingest_paper, paper, self.settings.ingest)
        write_paper(result, self.store.path("paper"))
        self.store.set_stage(
            "ingest", "done", sections=len(result.sections), paper_tokens=result.tokens
        )
        self.reporter.stage_end(
            "ingest",
            "done",
            f"{result.title!r}: {len(result.sections)} sections, {result.tokens} tokens",
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
    async def stage_plan(self, paper: Path) -> None:
        if self.store.exists("planning", "plan.json"):
            self._skip("plan", "planning/plan.json")
            return
        from paper2code.llm import usage_context

        self.store.set_stage("plan", "running")
        self.reporter.stage_start("plan", 4, "four turns")
        done = {}
        for turn in ("overall", "architecture", "logic", "config"):
            raw = self.store.path("planning", "turns", f"{turn}.raw.txt")
            if raw.exists():
                done[turn] = raw.read_text(encoding="utf-8")
                self.reporter.advance("plan", turn, "(saved)")

        def save_turn(name: str, value: Any, raw: str) -> None:
            self.store.write_text(f"planning/turns/{name}.raw.txt", raw)
            self.store.write_json(f"planning/turns/{name}.json", value.model_dump(mode="json"))
            self.reporter.advance("plan", name)

        planner = Planner(self.clients("planning"), self.options)
        limit = self.call_limit or asyncio.Semaphore(1)
        async with limit:
            with usage_context(stage="plan", agent="planner"):
                plan = await planner.plan(self.paper_md(), done=done, on_turn=save_turn)
        self.store.write_text("planning/config.yaml", plan.config.config_yaml)
        self.store.write_text("planning/class_diagram.mmd", plan.architecture.class_diagram)
        self.store.write_text("planning/sequence_diagram.mmd", plan.architecture.sequence_diagram)
        self.store.write_text("planning/plan.md", prompts.render("plan_view.md", plan=plan))
        self.store.write_json("planning/plan.json", plan.model_dump(mode="json"))
        self.store.set_stage("plan", "done", files=len(plan.logic.task_list))
        self.reporter.stage_end(
            "plan", "done", f"{len(plan.logic.task_list)} files: {', '.join(plan.logic.task_list)}"
        )

    def plan(self) -> Plan:
        return Plan.model_validate(self.store.read_json("planning/plan.json"))

    def plan_md(self) -> str:
        return self.store.path("planning", "plan.md").read_text(encoding="utf-8")

    # ------------------------------------------------------------------ analyze
    async def stage_analyze(self, paper: Path) -> None:
        from paper2code.llm import usage_context

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
        paper_md, plan_md = self.paper_md(), self.plan_md()
        limit = self.call_limit or asyncio.Semaphore(max(1, self.settings.pipeline.concurrency))

        async def one(path: str) -> None:
            fl = plan.file_logic(path)
            async with limit:
                with usage_context(stage="analyze", agent="analyst", file=path):
                    reply = await analyst.analyze(
                        paper_md=paper_md,
                        plan_md=plan_md,
                        config_yaml=plan.config.config_yaml,
                        path=path,
                        description=fl.description if fl else "",
                        depends_on=fl.depends_on if fl else [],
                    )
            self.store.write_text(f"analysis/{flat(path)}.raw.txt", reply.raw)
            self.store.write_json(
                f"analysis/{flat(path)}.json", reply.value.model_dump(mode="json")
            )
            self.reporter.advance("analyze", path)

        await _gather_all([one(p) for p in todo])
        self.store.set_stage("analyze", "done", files=len(files))
        self.reporter.stage_end("analyze", "done", f"{len(files)} files")

    def analysis(self, path: str) -> FileAnalysis | None:
        if not self.store.exists("analysis", f"{flat(path)}.json"):
            return None
        return FileAnalysis.model_validate(self.store.read_json(f"analysis/{flat(path)}.json"))

    # ------------------------------------------------------------------ code
    async def stage_code(self, paper: Path) -> None:
        from paper2code.llm import usage_context

        plan = self.plan()
        files, deps = coding_order(plan)
        gen = self.store.path("repo.generated")
        if self.store.exists("coding", "done.json") and self.store.exists("repo"):
            self._skip("code", f"{len(files)} files")
            return
        self.store.set_stage("code", "running")
        # Deterministic files first: they come from the plan, not from a model call.
        self.store.write_text("repo.generated/requirements.txt", requirements_txt(plan))
        self.store.write_text("repo.generated/config.yaml", plan.config.config_yaml)
        self.store.write_text(SMOKE_WORKFLOW, smoke_workflow())
        todo = [p for p in files if not (gen / p).exists()]
        self.reporter.stage_start("code", len(files), f"{len(todo)} to do")
        for p in files:
            if p not in todo:
                self.reporter.advance("code", p, "(saved)")
        coder = Coder(self.clients("coding"), self.options)
        paper_md, plan_md = self.paper_md(), self.plan_md()
        limit = self.call_limit or asyncio.Semaphore(max(1, self.settings.pipeline.concurrency))
        finished = {p: asyncio.Event() for p in files}
        for p in files:
            if p not in todo:
                finished[p].set()

        async def one(path: str) -> None:
            for dep in deps.get(path, []):
                await finished[dep].wait()
            analysis = self.analysis(path)
            sources = [
                SourceFile(d, (gen / d).read_text(encoding="utf-8"))
                for d in deps.get(path, [])
                if (gen / d).is_file()
            ]
            async with limit:
                with usage_context(stage="code", agent="coder", file=path):
                    reply = await coder.write(
                        paper_md=paper_md,
                        plan_md=plan_md,
                        config_yaml=plan.config.config_yaml,
                        path=path,
                        analysis=analysis.model_dump_json(indent=2) if analysis else "",
                        dependencies=sources,
                    )
            self.store.write_text(f"coding/{flat(path)}.raw.txt", reply.raw)
            content = reply.value.content
            self.store.write_text(f"repo.generated/{path}", content)
            if file_kind(path) == "shell":
                (gen / path).chmod(0o755)
            finished[path].set()
            self.reporter.advance("code", path)

        await _gather_all([one(p) for p in todo])
        repo = self.store.path("repo")
        if repo.exists():
            shutil.rmtree(repo)
        tmp = self.store.path(".repo.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        shutil.copytree(gen, tmp)
        tmp.rename(repo)
        self.store.write_json("coding/done.json", {"files": files, "at": now_iso()})
        self.store.set_stage("code", "done", files=len(files))
        self.reporter.stage_end("code", "done", f"{len(files)} files → {gen}")

    # ------------------------------------------------------------------ debug
    async def stage_debug(self, paper: Path) -> None:
        summary_path = self.store.path("debug", "summary.json")
        if summary_path.exists():
            summary = self.store.read_json("debug/summary.json")
            if summary.get("status") in {"passed", "failed"}:
                self._skip("debug", f"status {summary.get('status')}")
                return
        if self.settings.sandbox.kind == "none":
            self.store.set_stage("debug", "skipped", reason="--sandbox none: not executed")
            self.reporter.stage_end("debug", "skipped", "--sandbox none: the code was not run")
            return
        from agents.debugger import DebuggerFixer
        from sandbox.factory import make_sandbox
        from sandbox.loop import Budget, repair

        sandbox = self.sandbox or make_sandbox(self.settings.sandbox)
        plan = self.plan()
        intents = {fl.path: fl.description for fl in plan.logic.logic_analysis}
        fixer = DebuggerFixer(
            self.clients("debugging"), self.options, repo=self.store.path("repo"), intents=intents
        )
        budget = Budget(
            max_iters=self.settings.pipeline.max_debug_iters,
            repeat_limit=self.settings.pipeline.repeat_limit,
        )
        self.store.set_stage("debug", "running")
        self.reporter.stage_start("debug", budget.max_iters, f"{sandbox.name} sandbox")

        def on_event(kind: str, **info: Any) -> None:
            if kind == "iteration":
                self.reporter.advance("debug", f"iter {info.get('n')}", str(info.get("note", "")))
            elif kind == "info":
                self.reporter.info(str(info.get("message", "")))

        from paper2code.llm import usage_context

        with usage_context(stage="debug", agent="debugger"):
            summary = await repair(
                self.store.path("repo"),
                sandbox,
                fixer,
                budget,
                out=self.store.path("debug"),
                generated=self.store.path("repo.generated"),
                on_event=on_event,
            )
        data = summary.model_dump(mode="json")
        self.store.set_stage(
            "debug",
            "done",
            result=data.get("status"),
            iterations=len(data.get("iterations", [])),
            changed_line_ratio=data.get("changed_line_ratio"),
        )
        self.store.update_manifest(debug=data)
        self.reporter.stage_end(
            "debug",
            data.get("status", "?"),
            f"{len(data.get('iterations', []))} iterations, changed-line ratio "
            f"{100 * (data.get('changed_line_ratio') or 0):.2f}%",
        )


async def _gather_all(coros: Sequence[Any]) -> None:
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
