"""Usage of every model call: one JSON line in ``events.jsonl`` and totals for ``run.json``.

The caller says what a call is for with ``usage_context(stage=…, agent=…, file=…)``; the context
travels with asyncio tasks (contextvars), so concurrent calls are attributed correctly::

    with usage_context(stage="code", agent="coder", file="model.py"):
        reply = await agent.run(task=...)

Cached prompt tokens (OpenAI and vLLM prefix caching) are not in AutoGen's ``RequestUsage``;
they are read from the raw response that AutoGen's OpenAI client logs as an ``LLMCallEvent`` on
``autogen_core.EVENT_LOGGER_NAME`` (``capture_call`` collects it for the call in progress).

One event (written by ``RecordingClient``) has these fields: ``ts`` (Unix time), the context
fields (``stage``, ``agent``, ``file`` when given), ``model``, ``prompt_tokens``,
``completion_tokens``, ``cached_tokens`` (prompt tokens the endpoint served from its prefix
cache), ``latency_s``, ``cost_usd``, ``priced`` (false: no price known, cost counted as 0),
``cache_hit`` (answered from paper2code's response cache: no call made, cost 0) and
``stream`` (true for streamed calls, whose cached tokens AutoGen does not report).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autogen_core import EVENT_LOGGER_NAME
from autogen_core.logging import LLMCallEvent

from paper2code.manifest import UsageSummary, UsageTotals

_context: contextvars.ContextVar[tuple[tuple[str, Any], ...]] = contextvars.ContextVar(
    "paper2code_usage_context", default=()
)
_call: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "paper2code_current_call", default=None
)


@contextlib.contextmanager
def usage_context(**fields: Any) -> Iterator[None]:
    """Attribute the model calls made inside to ``fields`` (stage, agent, file)."""
    token = _context.set(tuple({**dict(_context.get()), **fields}.items()))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_context.get())


@contextlib.contextmanager
def capture_call() -> Iterator[dict[str, Any]]:
    """Collect what the client logs about the call made inside (raw usage details)."""
    slot: dict[str, Any] = {}
    token = _call.set(slot)
    try:
        yield slot
    finally:
        _call.reset(token)


class _EventCapture(logging.Handler):
    """Copies the raw usage of ``LLMCallEvent``s into the slot of the call in progress."""

    def emit(self, record: logging.LogRecord) -> None:
        slot = _call.get()
        if slot is None or not isinstance(record.msg, LLMCallEvent):
            return
        response = record.msg.kwargs.get("response") or {}
        usage = response.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        slot["cached_tokens"] = int(details.get("cached_tokens") or 0)
        slot["raw_usage"] = usage


_handler_lock = threading.Lock()
_handler: _EventCapture | None = None


def install_event_capture() -> None:
    """Attach the capture handler to AutoGen's event logger (once per process)."""
    global _handler
    # AutoGen logs the parsed structured response through pydantic's serializer, which warns
    # that ``parsed`` holds our model instead of None; harmless noise on every structured call.
    warnings.filterwarnings(
        "ignore",
        message="Pydantic serializer warnings",
        category=UserWarning,
        module="pydantic.main",
    )
    with _handler_lock:
        if _handler is None:
            _handler = _EventCapture(level=logging.INFO)
            logger = logging.getLogger(EVENT_LOGGER_NAME)
            logger.addHandler(_handler)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)


def append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline with one ``write`` on an ``O_APPEND`` descriptor, so a
    line is never interleaved with another writer's and a crash leaves at most one cut line."""
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):  # only on a full disk or a signal; finish the line
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)


class UsageRecorder:
    """Appends one line per call to ``events.jsonl`` and keeps totals per stage.

    Existing lines are read on start, so a resumed run's totals include what earlier attempts
    spent."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        if self.path and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self.events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut by a crash: ignore it, keep the rest

    def record(self, **event: Any) -> dict[str, Any]:
        entry = {"ts": round(time.time(), 3), **current_context(), **event}
        with self._lock:
            self.events.append(entry)
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                append_line(self.path, json.dumps(entry, ensure_ascii=False))
        return entry

    @property
    def total_cost(self) -> float:
        return sum(float(e.get("cost_usd") or 0.0) for e in self.events)

    def summary(self) -> UsageSummary:
        """Calls, tokens and cost per stage and overall."""
        stages: dict[str, UsageTotals] = {}
        total = UsageTotals()
        unpriced: set[str] = set()
        local: set[str] = set()
        for e in self.events:
            uncounted = e.get("priced") is False or bool(e.get("local"))
            stage = stages.setdefault(str(e.get("stage", "other")), UsageTotals())
            for acc in (stage, total):
                acc.calls += 1
                acc.prompt_tokens += int(e.get("prompt_tokens") or 0)
                acc.cached_tokens += int(e.get("cached_tokens") or 0)
                acc.completion_tokens += int(e.get("completion_tokens") or 0)
                acc.cost_usd = round(acc.cost_usd + float(e.get("cost_usd") or 0.0), 6)
                acc.uncounted_calls += int(uncounted)
            if e.get("priced") is False:
                unpriced.add(str(e.get("model")))
            if e.get("local"):
                local.add(str(e.get("model")))
        return UsageSummary(
            stages=stages,
            total=total,
            unpriced_models=sorted(unpriced),
            local_models=sorted(local),
        )
