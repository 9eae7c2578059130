"""The planner: five turns over one shared conversation prefix, two of them side by side.

    overall plan ─▶ architecture ─┬─▶ logic design ──────────┬─▶ configuration
                                  └─▶ requirements ledger ───┘

Every turn continues the conversation of the turns it builds on (``Turn.after``), so all of them
open with the same bytes (system message, paper, overall plan, architecture) and an endpoint's
prefix cache serves that part. The logic design and the requirements ledger need only the
architecture, so they run at the same time; the configuration turn sees both and must hold every
config key the ledger names (its reply is validated against them).

Each turn's validated reply is handed to ``on_turn`` the moment it exists, so the caller can
save it; on resume, saved turns are replayed into their conversations as they were and only the
missing turns (and those built on a redone one) are asked.

When the planning model accepts images, the first turn's user message also carries the printed
display equations (``EquationImage``), each after a label naming it: the paper's text, then an
introduction (``prompts/planner_equation_images.md``), then label and image by turn
(``prompts/planner_equation_label.md``). Every later turn replays that same multimodal message
as its history, so all turns still open with the same bytes. Only planning sees images: analysis
and coding make one call per file, and the plan they read already holds what the images
settled.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autogen_core import Image
from autogen_core.models import ChatCompletionClient
from pydantic import BaseModel, ValidationError

import prompts
from agents.base import AgentOptions, UserContent, ask, make_agent, new_context, schema_text
from paper2code.llm.client import accepts_images
from paper2code.llm.structured import parse_reply
from paper2code.schemas import (
    TRACEABLE_EXTRAS,
    ArchitectureDesign,
    ConfigDesign,
    FileLogic,
    LogicDesign,
    OverallPlan,
    Plan,
    RequirementsLedger,
    config_reply_model,
    ledger_reply_model,
)


@dataclass(frozen=True)
class Turn:
    """One planning turn: its reply model, its prompt, and the turns it continues."""

    name: str
    schema: type[BaseModel]
    template: str
    after: tuple[str, ...]
    """The turns whose (task, reply) pairs precede this one in its conversation, in order."""


PAPER_TEMPLATE = "planner_overall.md"
"""The template of the turn whose user message carries the paper (and its equation images)."""

TURNS: tuple[Turn, ...] = (
    Turn("overall", OverallPlan, PAPER_TEMPLATE, ()),
    Turn("architecture", ArchitectureDesign, "planner_architecture.md", ("overall",)),
    Turn("logic", LogicDesign, "planner_logic.md", ("overall", "architecture")),
    Turn(
        "requirements", RequirementsLedger, "planner_requirements.md", ("overall", "architecture")
    ),
    Turn(
        "config",
        ConfigDesign,
        "planner_config.md",
        ("overall", "architecture", "logic", "requirements"),
    ),
)
"""The planning turns in the order they are numbered."""

OnTurn = Callable[[str, BaseModel, str], Awaitable[None] | None]


@dataclass(frozen=True)
class EquationImage:
    """A display equation as printed, cropped from the paper's PDF, and where it stands."""

    number: str | None
    """Its printed number (``"3"``), None when unnumbered."""
    section_number: str | None
    """The number of the section it is in (``"3.2"``), None when unnumbered."""
    section_heading: str
    """The heading of that section, without its number."""
    image: Image


def with_images(
    task: str, images: Sequence[EquationImage], *, total: int | None = None
) -> UserContent:
    """The first turn's user message: ``task`` alone without images; else ``task``, an
    introduction saying how many of the paper's ``total`` equations follow, then each image
    after its label."""
    if not images:
        return task
    shown = len(images)
    content: list[str | Image] = [
        task,
        prompts.render("planner_equation_images.md", shown=shown, total=max(total or 0, shown)),
    ]
    for eq in images:
        label = prompts.render(
            "planner_equation_label.md",
            number=eq.number,
            section_number=eq.section_number,
            section_heading=eq.section_heading,
        )
        content += [label, eq.image]
    return content


def turn_task(template: str, schema: type[BaseModel], paper_md: str, options: AgentOptions) -> str:
    """The user message of one turn (only the first carries the paper)."""
    variables: dict[str, Any] = {"schema": schema_text(schema, options), "turns": len(TURNS)}
    if template == PAPER_TEMPLATE:
        variables["paper"] = paper_md
    return prompts.render(template, **variables)


def turn_schema(turn: Turn, results: Mapping[str, BaseModel]) -> type[BaseModel]:
    """The reply model of a turn for this plan: the requirements ledger may only name the
    planned files; the configuration must hold every config key the ledger names."""
    if turn.name == "requirements":
        architecture = results["architecture"]
        assert isinstance(architecture, ArchitectureDesign)
        planned = [f.path for f in architecture.files]
        return ledger_reply_model([*planned, *[p for p in TRACEABLE_EXTRAS if p not in planned]])
    if turn.name == "config":
        ledger = results["requirements"]
        assert isinstance(ledger, RequirementsLedger)
        return config_reply_model(
            sorted({r.config_key for r in ledger.requirements if r.config_key})
        )
    return turn.schema


def reconcile(architecture: ArchitectureDesign, logic: LogicDesign) -> LogicDesign:
    """Make the task list cover exactly the architecture's files: drop files the architecture
    does not have, append planned files the task list forgot (in architecture order), and give
    every file a logic description."""
    planned = [f.path for f in architecture.files]
    tasks = [p for p in logic.task_list if p in planned]
    tasks += [p for p in planned if p not in tasks]
    analysis = [
        fl.model_copy(update={"depends_on": [d for d in fl.depends_on if d in tasks]})
        for fl in logic.logic_analysis
        if fl.path in tasks
    ]
    described = {fl.path for fl in analysis}
    analysis += [
        FileLogic(path=f.path, description=f.purpose)
        for f in architecture.files
        if f.path not in described
    ]
    return logic.model_copy(update={"task_list": tasks, "logic_analysis": analysis})


class Planner:
    """Runs the planning turns against one model client."""

    def __init__(self, client: ChatCompletionClient, options: AgentOptions) -> None:
        self.client = client
        self.options = options

    async def plan(
        self,
        paper_md: str,
        *,
        done: Mapping[str, str] | None = None,
        on_turn: OnTurn | None = None,
        limit: asyncio.Semaphore | None = None,
        images: Sequence[EquationImage] = (),
        total_images: int | None = None,
    ) -> Plan:
        """Plan the repository for ``paper_md``. ``done`` maps turn names to raw replies saved
        by an earlier run; those turns are replayed, not asked again. ``limit`` bounds the turns
        in flight (two can run side by side). ``images`` (of the paper's ``total_images``
        equations) go with the first turn when the client's model accepts images, and are left
        out otherwise."""
        shown = list(images) if accepts_images(self.client) else []
        run = _Run(self, paper_md, dict(done or {}), on_turn, limit or asyncio.Semaphore(2))
        run.images, run.total_images = shown, max(total_images or 0, len(shown))
        pending = list(TURNS)
        while pending:
            ready = [t for t in pending if all(a in run.results for a in t.after)]
            await asyncio.gather(*(run.turn(t) for t in ready))
            pending = [t for t in pending if t.name not in run.results]
        r = run.results
        return Plan(
            overall=r["overall"],  # type: ignore[arg-type]
            architecture=r["architecture"],  # type: ignore[arg-type]
            logic=reconcile(r["architecture"], r["logic"]),  # type: ignore[arg-type]
            config=ConfigDesign.model_validate(r["config"].model_dump()),
            requirements=RequirementsLedger.model_validate(r["requirements"].model_dump()),
        )


class _Run:
    """The state of one planning run: replies so far, and which were asked anew."""

    def __init__(
        self,
        planner: Planner,
        paper_md: str,
        done: dict[str, str],
        on_turn: OnTurn | None,
        limit: asyncio.Semaphore,
    ) -> None:
        self.planner, self.paper_md, self.done = planner, paper_md, done
        self.on_turn, self.limit = on_turn, limit
        self.images: list[EquationImage] = []
        """Equation images for the first turn (empty: text only)."""
        self.total_images = 0
        """Equations of the paper with an image (more than ``images`` when capped)."""
        self.results: dict[str, BaseModel] = {}
        self.raws: dict[str, str] = {}
        self.tasks: dict[str, UserContent] = {}
        self.fresh: set[str] = set()
        """Turns asked in this run: the turns built on them cannot be replayed."""

    async def turn(self, turn: Turn) -> None:
        options = self.planner.options
        schema = turn_schema(turn, self.results)
        task: UserContent = turn_task(turn.template, schema, self.paper_md, options)
        if turn.template == PAPER_TEMPLATE:
            task = with_images(task, self.images, total=self.total_images)
        self.tasks[turn.name] = task
        saved = self.done.get(turn.name)
        if saved is not None and not self.fresh & set(turn.after):
            try:
                self.results[turn.name], self.raws[turn.name] = parse_reply(saved, schema), saved
                return
            except ValidationError:
                pass  # a stale or foreign artifact: ask this turn (and those built on it) again
        history = [(self.tasks[a], self.raws[a]) for a in turn.after]
        context = new_context(history, speaker="planner")
        system = prompts.render("system.md")
        agent = make_agent("planner", self.planner.client, system, schema, options, context=context)
        async with self.limit:
            reply = await ask(agent, context, task, schema, options)
        self.results[turn.name], self.raws[turn.name] = reply.value, reply.raw
        self.fresh.add(turn.name)
        if self.on_turn is not None:
            maybe = self.on_turn(turn.name, reply.value, reply.raw)
            if inspect.isawaitable(maybe):
                await maybe
