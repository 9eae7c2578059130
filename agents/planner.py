"""The planner: one conversation, five turns (overall plan → architecture → logic → config →
requirements ledger).

Each turn's validated reply is handed to ``on_turn`` the moment it exists, so the caller can
save it; on resume, saved turns are replayed into the conversation as they were and only the
missing turns are asked.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from autogen_core.models import AssistantMessage, ChatCompletionClient, UserMessage
from pydantic import BaseModel, ValidationError

import prompts
from agents.base import AgentOptions, ask, make_agent, new_context, schema_text
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
    config_keys,
    ledger_reply_model,
)

TURNS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("overall", OverallPlan, "planner_overall.md"),
    ("architecture", ArchitectureDesign, "planner_architecture.md"),
    ("logic", LogicDesign, "planner_logic.md"),
    ("config", ConfigDesign, "planner_config.md"),
    ("requirements", RequirementsLedger, "planner_requirements.md"),
)
"""The planning turns: (name, reply model, prompt template)."""

OnTurn = Callable[[str, BaseModel, str], Awaitable[None] | None]


def turn_task(template: str, schema: type[BaseModel], paper_md: str, options: AgentOptions) -> str:
    """The user message of one turn (only the first carries the paper)."""
    variables: dict[str, Any] = {"schema": schema_text(schema, options), "turns": len(TURNS)}
    if template == "planner_overall.md":
        variables["paper"] = paper_md
    return prompts.render(template, **variables)


def turn_schema(
    name: str, schema: type[BaseModel], results: Mapping[str, BaseModel]
) -> type[BaseModel]:
    """The reply model of a turn: the requirements turn may only name the planned files and the
    keys of the planned config (enums the endpoint enforces); other turns are fixed."""
    if name != "requirements":
        return schema
    logic = reconcile(results["architecture"], results["logic"])  # type: ignore[arg-type]
    config = results["config"]
    assert isinstance(config, ConfigDesign)
    files = [*logic.task_list, *[p for p in TRACEABLE_EXTRAS if p not in logic.task_list]]
    return ledger_reply_model(files, config_keys(config.config_yaml))


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
    ) -> Plan:
        """Plan the repository for ``paper_md``. ``done`` maps turn names to raw replies saved
        by an earlier run; those turns are replayed, not asked again."""
        done = dict(done or {})
        system = prompts.render("system.md")
        context = new_context()
        results: dict[str, BaseModel] = {}
        replaying = True
        for name, base, template in TURNS:
            schema = turn_schema(name, base, results)
            task = turn_task(template, schema, paper_md, self.options)
            raw = done.get(name)
            if replaying and raw is not None:
                try:
                    results[name] = parse_reply(raw, schema)
                except ValidationError:
                    pass  # a stale or foreign artifact: ask this turn (and the later ones) again
                else:
                    await context.add_message(UserMessage(content=task, source="user"))
                    await context.add_message(AssistantMessage(content=raw, source="planner"))
                    continue
            replaying = False  # later turns depend on this one: never reuse them
            agent = make_agent(
                "planner", self.client, system, schema, self.options, context=context
            )
            reply = await ask(agent, context, task, schema, self.options)
            results[name] = reply.value
            if on_turn is not None:
                maybe = on_turn(name, reply.value, reply.raw)
                if inspect.isawaitable(maybe):
                    await maybe
        architecture = results["architecture"]
        logic = reconcile(architecture, results["logic"])  # type: ignore[arg-type]
        return Plan(
            overall=results["overall"],  # type: ignore[arg-type]
            architecture=architecture,  # type: ignore[arg-type]
            logic=logic,
            config=results["config"],  # type: ignore[arg-type]
            requirements=RequirementsLedger.model_validate(results["requirements"].model_dump()),
        )
