"""One debug session, the same for ``paper2code debug`` and the pipeline's debug stage: the
sandbox, the fixer (the debugger agent, or none for deterministic fixes only), the iteration
budget, and the repair loop over a working copy measured against its baseline.

The cost cap is not here: it lives in the client layer (``--max-cost`` becomes the clients'
``CostBudget``), which raises ``BudgetExceeded`` before a call that could exceed it; the loop
then stops with status ``stopped``. ``paper2code debug`` lays out its session folder with
:func:`start_session_folder`; the pipeline's working copy is made by its code stage.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from agents.base import AgentOptions
from agents.debugger import DebuggerFixer
from paper2code.errors import ConfigError
from paper2code.llm import ModelClients, usage_context
from paper2code.progress import Reporter
from paper2code.settings import Settings
from sandbox.base import Sandbox
from sandbox.factory import make_sandbox
from sandbox.loop import Budget, DebugSummary, repair
from sandbox.tree import Dropped, copy_repo

BASELINE = "repo.generated"
"""The session folder's copy of the repository as it was given; never modified."""
WORKING_COPY = "repo"
"""The session folder's copy the loop patches."""


def start_session_folder(repo: Path, folder: Path, *, resume: bool, force: bool) -> list[Dropped]:
    """Lay out a session folder for ``repo``: ``repo.generated/`` and ``repo/``, both copied
    with :func:`sandbox.tree.copy_repo` (links leading outside, hard links and special files
    are dropped and returned). An existing folder is refused unless ``resume`` (continue it as
    it is) or ``force`` (start again)."""
    if folder.exists() and not (resume or force):
        raise ConfigError(
            f"{folder} exists (an earlier debug session): pass --resume to continue it, "
            "--force to start again from the repository, or choose another --out"
        )
    if resume and folder.exists():
        if not (folder / WORKING_COPY).is_dir() or not (folder / BASELINE).is_dir():
            raise ConfigError(f"{folder} is not a debug session folder; use --force or --out")
        return []
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    dropped = copy_repo(repo, folder / BASELINE)
    copy_repo(repo, folder / WORKING_COPY)
    return dropped


async def debug_session(
    settings: Settings,
    work: Path,
    *,
    generated: Path,
    out: Path,
    clients: ModelClients | None,
    options: AgentOptions,
    reporter: Reporter,
    intents: Mapping[str, str] | None = None,
    command: str | None = None,
    sandbox: Sandbox | None = None,
    dropped: Sequence[str] = (),
) -> DebugSummary:
    """Repair ``work`` in place until its smoke command (or ``command``) passes or a budget is
    spent; iterations go to ``out/iter-NN/``, the ratio is measured against ``generated``.
    ``clients`` None means deterministic fixes only; ``intents`` (file → what the plan meant it
    to do) go to the debugger with each suspect; ``dropped`` (entries left out when the working
    copy was made) are recorded in the summary."""
    box = sandbox or make_sandbox(settings.sandbox)
    fixer = (
        DebuggerFixer(clients("debugging"), options, repo=work, intents=intents)
        if clients is not None
        else None
    )
    budget = Budget(
        max_iters=settings.pipeline.max_debug_iters,
        repeat_limit=settings.pipeline.repeat_limit,
    )
    reporter.stage_start("debug", budget.max_iters, f"{box.name} sandbox")
    with usage_context(stage="debug", agent="debugger"):
        return await repair(
            work,
            box,
            fixer,
            budget,
            out=out,
            command=command,
            generated=generated,
            progress=reporter,
            dropped=dropped,
        )
