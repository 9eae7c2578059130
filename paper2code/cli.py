"""Command-line interface. User-facing errors are caught once, here, and printed in one line
with exit code 2; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from typer._click.exceptions import ClickException  # typer ≥ 0.29 vendors click (pinned)

from paper2code.errors import ConfigError, Paper2CodeError, PaperError
from paper2code.runlog import run_log
from paper2code.settings import PIPELINE_ROLES, CodingOrder, Settings
from sandbox.errors import SandboxError
from sandbox.loop import DebugSummary
from sandbox.settings import SandboxKind

app = typer.Typer(
    name="paper2code",
    help="Turn a machine-learning paper into a code repository that runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Sandbox images and maintenance.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

console = Console(stderr=True)
INTERRUPTED = "[yellow]interrupted[/]: finished artifacts are kept; rerun to resume"


OPTION_FIELDS: dict[str, tuple[str, ...]] = {
    "model": ("llm", "model"),
    "base_url": ("llm", "base_url"),
    "judge_model": ("llm", "judging_model"),
    "sandbox": ("sandbox", "kind"),
    "timeout": ("sandbox", "limits", "wall_s"),
    "max_cost": ("pipeline", "max_cost_usd"),
    "concurrency": ("pipeline", "concurrency"),
    "coding_order": ("pipeline", "coding_order"),
    "max_debug_iters": ("pipeline", "max_debug_iters"),
    "max_iters": ("pipeline", "max_debug_iters"),
    "max_pages": ("ingest", "max_pages"),
    "samples": ("eval", "samples"),
}
"""CLI option → the setting it overrides."""


def settings_from_options(**options: Any) -> Settings:
    """Settings from the environment, overridden by the CLI options that were given (None means
    not given), validated: a value out of range is a ``ConfigError`` naming the option."""
    nested: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue
        *parents, leaf = OPTION_FIELDS[name]
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    try:
        return Settings(**nested)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(str(p) for p in err["loc"])
        given = [o for o, v in options.items() if v is not None]
        option = next((o for o in given if OPTION_FIELDS[o] == loc), None)
        where = f"--{option.replace('_', '-')}" if option else ".".join(loc)
        raise ConfigError(f"{where}: {err['msg']} (got {err.get('input')!r})") from exc


def _check_endpoint(settings: Settings, roles: tuple[str, ...]) -> None:
    """An endpoint is configured and answers for the models of ``roles``: a wrong URL, key or
    model is a one-line error before any work."""
    from paper2code.llm import require_endpoint
    from paper2code.llm.preflight import preflight

    require_endpoint(settings.llm)
    with console.status(f"checking {settings.llm.base_url or 'api.openai.com'}…"):
        preflight(settings.llm, roles)


def _runs_code(settings: Settings) -> None:
    if settings.sandbox.kind == SandboxKind.none:
        raise ConfigError("this command runs code: choose --sandbox docker or --sandbox local")


PAPER_HELP = (
    "Paper: .pdf, .tex (or a folder with one), a source archive (.tar.gz/.zip), .md, "
    "or arxiv:ID / an arXiv link (downloaded)"
)
SourceOption = typer.Option(
    "--source",
    help="The paper's LaTeX source (file, folder, archive or arxiv:ID), read instead of the PDF",
)


def _require_paper(paper: str) -> None:
    """A local paper exists; an arXiv reference is fetched later, by ingestion."""
    from paper2code.ingest.arxiv import arxiv_id

    if not Path(paper).exists() and arxiv_id(paper) is None:
        raise PaperError(f"{paper}: no such file (nor an arXiv reference such as arxiv:1706.03762)")


# ------------------------------------------------------------------------------------ ingest


@app.command()
def ingest(
    paper: Annotated[str, typer.Argument(help=PAPER_HELP)],
    source: Annotated[str | None, SourceOption] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for paper.json and paper.md (default runs/<slug>/paper)"
        ),
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option(help="Refuse PDFs with more pages (default 60)")
    ] = None,
) -> None:
    """Read a paper into paper.json (structured) and paper.md (readable)."""
    from paper2code.ingest import ingest_paper, paper_slug, write_paper

    settings = settings_from_options(max_pages=max_pages)
    _require_paper(paper)
    out = out or Path("runs") / paper_slug(paper) / "paper"
    result = ingest_paper(paper, settings.ingest, out_dir=out, source=source)
    write_paper(result, out)
    equations = sum(len(section.equations) for section in result.sections)
    console.print(
        f"[green]ingested[/] {result.title!r}: {len(result.sections)} sections, "
        f"{len(result.references)} references, {equations} display equation"
        f"{'' if equations == 1 else 's'}, {result.tokens} tokens → {out}",
        highlight=False,
    )


# ------------------------------------------------------------------------------------ sandbox


@sandbox_app.command("build-base")
def build_base_cmd(
    offline: Annotated[
        bool, typer.Option("--offline", help="Build from a debootstrapped Debian rootfs, no pulls")
    ] = False,
    if_missing: Annotated[
        bool,
        typer.Option("--if-missing", help="Do nothing when an image of the current layout exists"),
    ] = False,
    base_from: Annotated[
        str | None, typer.Option("--base-from", help="Image to start from (python:3.11-slim)")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Tag of the base image")] = None,
) -> None:
    """Build the sandbox base image (a standard-library-only Python venv, a non-root user, and
    a local wheelhouse of numpy/pyyaml/pytest for offline dependency images)."""
    from sandbox.images import base_is_current, build_base

    settings = Settings()
    target = tag or settings.sandbox.base_image
    if if_missing and base_is_current(target):
        console.print(f"{target} exists", highlight=False)
        return

    def on_log(line: str) -> None:
        status.update(f"building {target}: {line[:100]}")

    with console.status(f"building {target}…") as status:
        build_base(
            settings.sandbox, offline=offline, base_from=base_from, tag=target, on_log=on_log
        )
    console.print(f"[green]built[/] {target}", highlight=False)


@sandbox_app.command("cleanup")
def cleanup_cmd(
    everything: Annotated[
        bool,
        typer.Option("--all", help="Also remove those of runs still in progress"),
    ] = False,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Only those of this sandbox run (the id cleanup lists)"),
    ] = None,
) -> None:
    """Remove containers and volumes left behind by paper2code processes that are gone (those
    of a run still in progress are kept unless --all)."""
    from sandbox.docker_sandbox import cleanup_leftovers

    removed = cleanup_leftovers(everything=everything, run=run)
    for r in removed:
        console.print(
            f"removed {r.kind} {r.name} (run {r.run or 'unknown'}, owner {r.owner})",
            highlight=False,
        )
    containers = sum(r.kind == "container" for r in removed)
    console.print(
        f"removed {containers} container(s) and {len(removed) - containers} volume(s)",
        highlight=False,
    )


# ------------------------------------------------------------------------------------ generate

SandboxOption = typer.Option(
    "--sandbox", help="Where the generated code runs: docker (default), local (subprocess), none"
)


CodingOrderOption = Annotated[
    CodingOrder | None,
    typer.Option(
        "--coding-order",
        help="interface: every file at once against the designed interfaces (default); "
        "dependency: each file after the code of its imports",
    ),
]


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends a run like Ctrl-C does: artifacts kept, resumable."""

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """SIGINT and SIGTERM ignored for a short, final step (writing the report)."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_pipeline(
    settings: Settings,
    paper: Path | str,
    out: Path,
    *,
    stages: list[str] | None,
    from_stage: str | None,
    source: str | None = None,
) -> int:
    """Run the pipeline with a live progress display; returns the exit code."""
    from paper2code.llm import build_clients
    from paper2code.pipeline import Pipeline
    from paper2code.progress import RichReporter
    from paper2code.report import write_report
    from paper2code.runstore import RunStore
    from paper2code.settings import STAGES

    reporter = RichReporter(console)
    clients, structured = build_clients(settings, out)
    pipeline = Pipeline(
        settings, out, clients=clients, reporter=reporter, structured_output=structured
    )
    try:
        with _sigterm_as_interrupt(), run_log(out):
            outcome = asyncio.run(
                pipeline.run(
                    paper, stages=stages or list(STAGES), from_stage=from_stage, source=source
                )
            )
        status, message = outcome.status, outcome.message
    except KeyboardInterrupt:
        status, message = RunStore(out).manifest().status, ""
        if status != "done":  # interrupted for real: say so in the report too, then exit 130
            reporter.close()
            with _signals_ignored():
                write_report(out)
            raise
    finally:
        reporter.close()
    with _signals_ignored():  # the run is over: a signal now must not turn it into a failure
        report = write_report(out)
        console.print(f"[bold]run[/] {status}: {out}  (report: {report})", highlight=False)
        if message:
            console.print(message, highlight=False)
    return 0 if status == "done" else 1


@app.command()
def generate(
    paper: Annotated[str, typer.Argument(help=PAPER_HELP)],
    source: Annotated[str | None, SourceOption] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run directory (default runs/<paper-slug>)")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model for every stage")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint, e.g. vLLM/Ollama")
    ] = None,
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated stages to run (default: all)")
    ] = None,
    from_stage: Annotated[
        str | None, typer.Option("--from-stage", help="Redo this stage and every later one")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Model calls in flight (default 4)")
    ] = None,
    coding_order: CodingOrderOption = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop before spending more (USD)")
    ] = None,
    sandbox: Annotated[SandboxKind | None, SandboxOption] = None,
    max_debug_iters: Annotated[
        int | None, typer.Option("--max-debug-iters", help="Repair iterations (default 8)")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start again: delete the run in --out first")
    ] = False,
) -> None:
    """Turn a paper into a repository: ingest, plan, analyze, code, verify, then run and repair
    it. Rerunning with the same --out resumes the run."""
    import shutil

    settings = settings_from_options(
        model=model,
        base_url=base_url,
        sandbox=sandbox,
        max_cost=max_cost,
        concurrency=concurrency,
        coding_order=coding_order,
        max_debug_iters=max_debug_iters,
    )
    from paper2code.ingest import paper_slug

    _require_paper(paper)
    _check_endpoint(settings, PIPELINE_ROLES)
    out = out or Path("runs") / paper_slug(paper)
    if force and out.exists():
        shutil.rmtree(out)
    stage_list = [s.strip() for s in stages.split(",")] if stages else None
    code = _run_pipeline(
        settings, paper, out, stages=stage_list, from_stage=from_stage, source=source
    )
    raise typer.Exit(code)


# ------------------------------------------------------------------------------------ smoke / debug


@app.command()
def smoke(
    repo: Annotated[Path, typer.Argument(help="Repository to smoke-test (not modified)")],
    command: Annotated[
        str | None, typer.Option("--command", help="Command to run instead of the discovered one")
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write the result as JUnit XML here")
    ] = None,
    sandbox: Annotated[SandboxKind | None, SandboxOption] = None,
    timeout: Annotated[float | None, typer.Option(help="Wall-clock limit in seconds")] = None,
) -> None:
    """Run a repository's smoke command once in the sandbox, no repair. Exit 0 pass, 1 fail."""
    from sandbox import atomic
    from sandbox.factory import make_sandbox
    from sandbox.junit import junit_xml
    from sandbox.smoke import discover_smoke_command

    if not repo.is_dir():
        raise typer.BadParameter(f"{repo} is not a directory", param_hint="REPO")
    settings = settings_from_options(sandbox=sandbox, timeout=timeout)
    _runs_code(settings)
    cmd = command or discover_smoke_command(repo).command
    box = make_sandbox(settings.sandbox)
    with console.status(f"preparing the {box.name} sandbox (dependencies)…"):
        box.prepare(repo)
    with console.status(f"running `{cmd}`…"):
        result = box.run(repo, cmd)
    for entry in result.dropped:
        console.print(f"[yellow]not copied into the sandbox:[/] {entry}", highlight=False)
    if junit is not None:
        atomic.write_text(junit, junit_xml(result))
    if result.ok:
        console.print(f"[green]passed[/] `{cmd}` in {result.duration_s:.1f}s", highlight=False)
        raise typer.Exit(0)
    console.print(f"[red]failed[/] `{cmd}`: {result.verdict}", highlight=False)
    tail = "\n".join(result.stderr.strip().splitlines()[-15:])
    if tail:
        console.print(tail, highlight=False, markup=False)
    raise typer.Exit(1)


@app.command()
def debug(
    repo: Annotated[
        Path, typer.Argument(help="Repository to repair (the original is never modified)")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Session folder (default runs/debug-<name>)")
    ] = None,
    max_iters: Annotated[
        int | None, typer.Option("--max-iters", help="Iteration budget (8)")
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", help="Command to run instead of the discovered one")
    ] = None,
    sandbox: Annotated[SandboxKind | None, SandboxOption] = None,
    model: Annotated[str | None, typer.Option(help="Model of the debugger agent")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Model endpoint")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop before spending more (USD)")
    ] = None,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Deterministic fixes only, no LLM")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the session already in --out")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Start again, replacing the session in --out")
    ] = False,
) -> None:
    """The execute-localize-repair loop on a copy of REPO; writes iter-NN/ logs and summary.json."""
    if not repo.is_dir():
        raise typer.BadParameter(f"{repo} is not a directory", param_hint="REPO")
    settings = settings_from_options(
        model=model, base_url=base_url, sandbox=sandbox, max_cost=max_cost, max_iters=max_iters
    )
    _runs_code(settings)
    from paper2code.ingest import paper_slug

    out = out or Path("runs") / f"debug-{paper_slug(repo.resolve().name)}"
    summary = _debug(
        settings, repo, out, command, use_model=not no_model, resume=resume, force=force
    )
    if summary.status == "stopped":
        console.print(summary.reason, highlight=False)
    raise typer.Exit(0 if summary.status == "passed" else 1)


def _debug(
    settings: Settings,
    repo: Path,
    out: Path,
    command: str | None,
    *,
    use_model: bool,
    resume: bool,
    force: bool,
) -> DebugSummary:
    """A ``paper2code debug`` session in ``out``, with a live progress display."""
    from agents.base import AgentOptions
    from paper2code.debug_session import BASELINE, WORKING_COPY, debug_session
    from paper2code.debug_session import start_session_folder as start
    from paper2code.llm import build_clients, has_endpoint
    from paper2code.progress import RichReporter

    dropped = [str(d) for d in start(repo, out, resume=resume, force=force)]
    clients, structured = None, False
    if use_model and has_endpoint(settings.llm):
        clients, structured = build_clients(settings, out)
    else:
        console.print("no model endpoint (or --no-model): deterministic fixes only")
    reporter = RichReporter(console)
    try:
        with _sigterm_as_interrupt(), run_log(out):
            summary = asyncio.run(
                debug_session(
                    settings,
                    out / WORKING_COPY,
                    generated=out / BASELINE,
                    out=out / "debug",
                    clients=clients,
                    options=AgentOptions(structured, settings.llm.validation_retries),
                    reporter=reporter,
                    command=command,
                    dropped=dropped,
                )
            )
    finally:
        reporter.close()
    reporter.stage_end(
        "debug",
        summary.status,
        f"{len(summary.iterations)} iterations, changed-line ratio "
        f"{100 * summary.changed_line_ratio:.2f}% → {out}",
    )
    return summary


# ------------------------------------------------------------------------------------ eval / batch / demo


@app.command("eval")
def eval_(
    run_dir: Annotated[Path, typer.Argument(help="Run directory made by generate")],
    ref: Annotated[
        Path | None, typer.Option("--ref", help="The authors' implementation (reference-based)")
    ] = None,
    rubric: Annotated[
        Path | None,
        typer.Option(
            "--rubric", help="A PaperBench rubric.json: grade its Code Development leaves"
        ),
    ] = None,
    samples: Annotated[int | None, typer.Option(help="Judge samples per mode (default 3)")] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="Judge model")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Model endpoint")] = None,
) -> None:
    """Judge a generated repository (reference-free, reference-based with --ref, a PaperBench
    rubric with --rubric); eval.json and the report."""
    from paper2code.evaluate import evaluate_run
    from paper2code.llm import build_clients
    from paper2code.report import write_report

    settings = settings_from_options(base_url=base_url, judge_model=judge_model, samples=samples)
    _check_endpoint(settings, ("judging",))
    clients, structured = build_clients(settings, run_dir)
    with console.status("judging…"), run_log(run_dir):
        result = asyncio.run(
            evaluate_run(
                run_dir,
                settings,
                clients("judging"),
                structured_output=structured,
                reference=ref,
                rubric=rubric,
            )
        )
    for name, mode in (
        ("reference-free", result.reference_free),
        ("reference-based", result.reference_based),
    ):
        if mode is not None:
            console.print(
                f"{name}: {mode.score.mean:.2f} ± {mode.score.std:.2f} over {mode.samples} samples"
                + (f"; left out: {', '.join(mode.omitted_files)}" if mode.omitted_files else ""),
                highlight=False,
            )
    if result.rubric is not None:
        r = result.rubric
        skipped = ", ".join(f"{n} {c}" for c, n in r.not_graded.items()) or "none"
        console.print(
            f"rubric: {100 * (r.score or 0):.1f}% over {r.graded_leaves} Code Development leaves "
            f"({r.samples} samples each); not graded: {skipped}",
            highlight=False,
        )
    write_report(run_dir)
    console.print(f"wrote {run_dir / 'eval.json'} and the report", highlight=False)


@app.command()
def batch(
    papers: Annotated[
        list[str], typer.Argument(help="Papers to run (files, folders, archives, arxiv:ID)")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the runs and the summary")] = Path(
        "runs/batch"
    ),
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Papers processed at once")] = 2,
    model: Annotated[str | None, typer.Option(help="Model for every stage")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Model endpoint")] = None,
    sandbox: Annotated[SandboxKind | None, SandboxOption] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Cost cap per paper (USD)")
    ] = None,
    coding_order: CodingOrderOption = None,
) -> None:
    """Run many papers; resumes unfinished ones; writes summary.csv and summary.md."""
    from paper2code.batch import run_batch
    from paper2code.llm import build_clients
    from paper2code.progress import RichReporter

    settings = settings_from_options(
        model=model,
        base_url=base_url,
        sandbox=sandbox,
        max_cost=max_cost,
        coding_order=coding_order,
    )
    _check_endpoint(settings, PIPELINE_ROLES)
    reporter = RichReporter(console)
    try:
        with run_log(out):
            rows = asyncio.run(
                run_batch(
                    papers,
                    out,
                    settings,
                    jobs=jobs,
                    clients_for=lambda run_dir: build_clients(settings, run_dir),
                    reporter=reporter,
                )
            )
    finally:
        reporter.close()
    failed = [r for r in rows if r.status != "done"]
    console.print(
        f"{len(rows) - len(failed)}/{len(rows)} finished; summary: {out / 'summary.md'}",
        highlight=False,
    )
    raise typer.Exit(1 if failed else 0)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Run directory")] = Path("runs/demo"),
    sandbox: Annotated[SandboxKind | None, SandboxOption] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Delete an earlier demo run first (default: resume it)")
    ] = False,
) -> None:
    """Every stage offline on the shipped sample paper, with SCRIPTED model replies served by a
    local OpenAI-compatible test server; the repository runs and is repaired in the sandbox."""
    import shutil

    from paper2code.demo_run import DEMO_NOTE, demo_paper, demo_settings, serve_transcript
    from paper2code.runstore import RunStore

    if fresh and out.exists():
        shutil.rmtree(out)
    paper = demo_paper(out / "demo-paper.md")
    console.print(
        "[bold yellow]demo:[/] the model replies are scripted (paper2code/demo/transcript.yaml), "
        "served by a loopback OpenAI-compatible server; no real model is called.",
        highlight=False,
    )
    with RunStore(out).editing() as manifest:
        manifest.notes = [DEMO_NOTE]
    with serve_transcript() as server:
        settings = demo_settings(server.base_url)
        if sandbox:
            settings.sandbox.kind = sandbox
        _check_endpoint(settings, PIPELINE_ROLES)
        code = _run_pipeline(settings, paper, out, stages=None, from_stage=None)
    raise typer.Exit(code)


# ------------------------------------------------------------------------------------ entry


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code != 0:  # typer.Exit(n) is returned, not raised, here
            if code == 130:  # typer turns Ctrl-C (and our SIGTERM handler) into Exit(130)
                console.print(INTERRUPTED)
            sys.exit(code)
    except (Paper2CodeError, SandboxError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):  # typer turns Ctrl-C into Abort
        console.print(INTERRUPTED)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except ClickException as exc:  # usage errors: a bad option, a missing argument
        exc.show()
        sys.exit(exc.exit_code)
