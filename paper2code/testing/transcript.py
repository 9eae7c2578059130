"""A scripted transcript: model replies chosen by rules over the request, for the demo and tests.

The same transcript answers through the loopback OpenAI-compatible server (the real ``openai``
client and AutoGen's ``OpenAIChatCompletionClient`` end to end) and through the scripted client.
Rules are data (``paper2code/demo/transcript.yaml``); see that file for their fields. Two more
optional fields, ``agent`` and ``stage``, match the caller's ``usage_context`` (the tag a call
is made under); only the scripted client sees that context, so rules using them never match
through the loopback server, which sees HTTP only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DEMO = "paper2code.demo"


@dataclass
class ScriptedReply:
    """What the model says: text content, or tool calls."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    rule: str = ""


class NoRuleMatched(LookupError):
    """The transcript has no reply for this request."""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


_FILE_IN_REQUEST = re.compile(r"(?:contents of|design of the file) `([^`]+)`")


def requested_file(message: str) -> str | None:
    """The file a coder or analyst request names (our own prompt wording, not model output)."""
    m = _FILE_IN_REQUEST.search(message)
    return m.group(1) if m else None


class Transcript:
    """Rules loaded from a YAML file, with the files and analyses they refer to."""

    def __init__(self, data: dict[str, Any], files_dir: Path | None) -> None:
        self.rules: list[dict[str, Any]] = list(data.get("rules", []))
        self.analyses: dict[str, Any] = dict(data.get("analyses", {}))
        self.traces: dict[str, list[dict[str, str]]] = dict(data.get("traces", {}))
        self.files_dir = files_dir
        self.used: list[str] = []

    @classmethod
    def from_rules(cls, rules: list[dict[str, Any]], files_dir: Path | None = None) -> Transcript:
        """A transcript from rules given in code (tests)."""
        return cls({"rules": rules}, files_dir)

    @classmethod
    def load(cls, path: Path | None = None) -> Transcript:
        """Load ``path``, or the demo transcript shipped with the package."""
        if path is None:
            base = resources.files(DEMO)
            data = yaml.safe_load(base.joinpath("transcript.yaml").read_text(encoding="utf-8"))
            files = Path(str(base.joinpath("replies").joinpath("repo")))
        else:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            files = Path(path).parent / "replies" / "repo"
        return cls(data, files if files.is_dir() else None)

    def respond(
        self, messages: list[dict[str, Any]], tags: Mapping[str, Any] | None = None
    ) -> ScriptedReply:
        """The reply to a chat request given as OpenAI-format messages; ``tags`` (the caller's
        usage context: stage, agent, file) is matched by rules with ``agent``/``stage``."""
        tags = tags or {}
        system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
        last = messages[-1] if messages else {}
        last_text = _text(last.get("content"))
        last_role = last.get("role", "")
        for rule in self.rules:
            if rule.get("system") and rule["system"] not in system:
                continue
            wanted = rule.get("last") or []
            if any(w not in last_text for w in ([wanted] if isinstance(wanted, str) else wanted)):
                continue
            if rule.get("last_role") and rule["last_role"] != last_role:
                continue
            if any(rule.get(k) and rule[k] != tags.get(k) for k in ("agent", "stage")):
                continue
            reply = self._reply(rule, last_text)
            self.used.append(reply.rule)
            return reply
        raise NoRuleMatched(
            f"no transcript rule matches a request whose last {last_role} message starts "
            f"{last_text[:120]!r}"
        )

    def _reply(self, rule: dict[str, Any], last_text: str) -> ScriptedReply:
        name = rule.get("name", "?")
        if "json" in rule:
            return ScriptedReply(content=json.dumps(rule["json"]), rule=name)
        if "text" in rule:
            return ScriptedReply(content=str(rule["text"]), rule=name)
        if "tool_call" in rule:
            call = rule["tool_call"]
            return ScriptedReply(
                tool_calls=[{"name": call["name"], "arguments": json.dumps(call["arguments"])}],
                rule=name,
            )
        path = requested_file(last_text)
        if path is None:
            raise NoRuleMatched(f"rule {name}: the request names no file")
        if rule.get("analysis"):
            body = dict(self.analyses.get(path, {"purpose": f"{path} as planned"}))
            return ScriptedReply(content=json.dumps({"path": path, **body}), rule=f"{name}:{path}")
        if rule.get("file"):
            if self.files_dir is None or not (self.files_dir / path).is_file():
                raise NoRuleMatched(f"rule {name}: no scripted contents for {path}")
            content = (self.files_dir / path).read_text(encoding="utf-8")
            body = {"path": path, "content": content, "implements": self.traces.get(path, [])}
            return ScriptedReply(content=json.dumps(body), rule=f"{name}:{path}")
        raise NoRuleMatched(f"rule {name} has no reply")
