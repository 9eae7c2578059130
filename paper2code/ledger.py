"""The requirements ledger after verification: each requirement of the paper with a status,
evidence and the reason, and the coverage figures the report and ``run.json`` show.

Pure functions over the plan's requirements, the repository's text and the verifier's verdicts:

- :func:`check_config` decides a hyperparameter statically where that is reliable: the key the
  ledger names exists in config.yaml with the paper's value and the code reads it;
- :func:`evidence_from` turns the line ranges a verifier cites into excerpts cut from the files
  themselves (a verifier's quote is never trusted);
- :func:`coverage` gives the weighted coverage overall and per category.

Statuses score ``implemented`` 1, ``partial`` ½, ``missing`` and ``contradicted`` 0; a
requirement's weight (1–3) weighs it. Assumptions (category ``assumption``) are listed, never
counted. Every figure is the verifier's judgement (a model's, or a static check's), not a run
of the paper's experiments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from paper2code.schemas import EvidenceRef, IdBatch, Requirement, id_batch_model

Status = Literal["implemented", "partial", "missing", "contradicted"]
UNMET: frozenset[str] = frozenset({"partial", "missing", "contradicted"})
SCORE: dict[str, float] = {"implemented": 1.0, "partial": 0.5, "missing": 0.0, "contradicted": 0.0}
MAX_EXCERPT_LINES = 8

NOTE = (
    "Requirement statuses are the verifier's judgement (a model reading the code, or a static "
    "check of config.yaml), made before the code ran; they are not a run of the paper's "
    "experiments and say nothing about whether its numbers are reproduced."
)


# ----------------------------------------------------------------------------- verifier replies


class Verdict(BaseModel):
    """The verifier's decision on one requirement."""

    id: str
    status: Status
    evidence: list[EvidenceRef]
    """Where the code implements it (or contradicts it); empty when it is missing."""
    reason: str
    """One or two sentences: what the code does, and what is missing or different."""


class VerificationReply(IdBatch):
    """The verifier's answer for one batch of requirements: one verdict per requirement."""

    items_field: ClassVar[str] = "verdicts"
    verdicts: list[Verdict]


def verification_model(ids: Sequence[str]) -> type[VerificationReply]:
    """The reply model of one batch: ``id`` may only name the requirements asked about."""
    return id_batch_model(VerificationReply, Verdict, ids)


# ----------------------------------------------------------------------------- the ledger


class Evidence(BaseModel):
    """Lines of the repository that show a verdict, cut from the file itself."""

    model_config = ConfigDict(extra="forbid")

    file: str
    start_line: int
    end_line: int
    excerpt: str


class LedgerEntry(BaseModel):
    """One requirement and what verification found."""

    model_config = ConfigDict(extra="forbid")

    requirement: Requirement
    status: Status | None = None
    """None until it has been checked."""
    method: Literal["static", "verifier", "none"] = "none"
    """How the status was decided."""
    evidence: list[Evidence] = Field(default_factory=list)
    reason: str = ""
    history: list[Status] = Field(default_factory=list)
    """Every status it was given, in order (before and after refinement)."""

    def decide(
        self, status: Status, method: Literal["static", "verifier"], reason: str, evidence: list
    ) -> None:
        self.status, self.method, self.reason = status, method, reason
        self.evidence = list(evidence)
        self.history.append(status)


class RefineRound(BaseModel):
    """What one round of targeted edits changed."""

    model_config = ConfigDict(extra="forbid")

    n: int
    requirements: list[str]
    """Ids the round worked on."""
    files_changed: list[str] = Field(default_factory=list)
    lines_added: int = 0
    lines_deleted: int = 0
    edits_applied: int = 0
    edits_rejected: int = 0
    fixed: list[str] = Field(default_factory=list)
    """Ids implemented after the round's re-verification."""


class CategoryCoverage(BaseModel):
    """Statuses of one category's requirements."""

    model_config = ConfigDict(extra="forbid")

    total: int = 0
    implemented: int = 0
    partial: int = 0
    missing: int = 0
    contradicted: int = 0
    not_checked: int = 0
    weighted: float = 0.0
    """Weighted coverage of the category, 0–1."""


class Ledger(BaseModel):
    """``verify/ledger.json``."""

    model_config = ConfigDict(extra="forbid")

    entries: list[LedgerEntry]
    assumptions: list[Requirement] = Field(default_factory=list)
    rounds: list[RefineRound] = Field(default_factory=list)
    coverage_before: float = 0.0
    """Weighted coverage after the first verification, before any refinement."""
    coverage_after: float = 0.0
    """Weighted coverage of the repository the execute-repair loop starts from."""
    by_category: dict[str, CategoryCoverage] = Field(default_factory=dict)
    note: str = NOTE

    def unmet(self) -> list[LedgerEntry]:
        return [e for e in self.entries if e.status in UNMET]


def coverage(entries: Sequence[LedgerEntry]) -> tuple[float, dict[str, CategoryCoverage]]:
    """Weighted coverage overall (0–1; unchecked requirements count as 0) and per category."""
    cats: dict[str, CategoryCoverage] = {}
    weights: dict[str, tuple[float, float]] = {}
    total_w = total_s = 0.0
    for e in entries:
        r = e.requirement
        c = cats.setdefault(r.category, CategoryCoverage())
        c.total += 1
        key = e.status or "not_checked"
        setattr(c, key, getattr(c, key) + 1)
        score = SCORE.get(e.status or "", 0.0) * r.weight
        w, s = weights.get(r.category, (0.0, 0.0))
        weights[r.category] = (w + r.weight, s + score)
        total_w += r.weight
        total_s += score
    for cat, (w, s) in weights.items():
        cats[cat].weighted = round(s / w, 4) if w else 0.0
    return (round(total_s / total_w, 4) if total_w else 0.0), cats


# ----------------------------------------------------------------------------- evidence


def evidence_from(refs: Sequence[EvidenceRef], texts: Mapping[str, str | None]) -> list[Evidence]:
    """The cited lines, cut from the repository's own text (refs to files that do not exist
    are dropped; ranges are clipped to the file and to a few lines)."""
    out: list[Evidence] = []
    for ref in refs:
        text = texts.get(ref.file.strip().lstrip("./"))
        if text is None:
            continue
        lines = text.splitlines()
        start = min(max(1, ref.start_line), max(1, len(lines)))
        end = min(max(start, ref.end_line), len(lines), start + MAX_EXCERPT_LINES - 1)
        excerpt = "\n".join(lines[start - 1 : end])
        out.append(
            Evidence(
                file=ref.file.strip().lstrip("./"), start_line=start, end_line=end, excerpt=excerpt
            )
        )
    return out


# ----------------------------------------------------------------------------- static checks

_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_POWER = re.compile(r"^(-?\d+(?:\.\d+)?)?\s*(?:[x×·*]\s*)?10\s*\^\s*\{?\s*(-?\d+)\s*\}?$")


def paper_value(text: str) -> Any:
    """The paper's value as data: numbers (``4,000``, ``1e-4``, ``10^{-4}``, ``2×10^-5``),
    lists and sets (``[0.9, 0.98]``, ``{0, 0.1}``), booleans, else the string."""
    s = text.strip().strip("$").replace("−", "-").strip()
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    m = _POWER.match(s.replace("\\times", "×").replace("\\cdot", "·"))
    if m:
        return float(m[1] or 1) * 10 ** int(m[2])
    if s.startswith("{") and s.endswith("}") and ":" not in s:
        s = "[" + s[1:-1] + "]"
    number = _number(s)
    if number is not None:
        return number
    try:
        return yaml.safe_load(s)
    except yaml.YAMLError:
        return s


def _number(value: Any) -> float | None:
    """A number, or a string that spells one (PyYAML reads ``1e-4`` as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def same_value(a: Any, b: Any) -> bool:
    """Equal as data: numbers (or strings that spell them) within a relative 1e-9, sequences
    element by element, other strings without regard to case."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return a == b


def _lookup(data: Any, key: str) -> tuple[bool, Any]:
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _key_line(config_yaml: str, key: str) -> int:
    """1-based line of ``key`` in the YAML text (1 when it cannot be found)."""
    try:
        node = yaml.compose(config_yaml)
    except yaml.YAMLError:
        return 1
    line = 1
    for part in key.split("."):
        if not isinstance(node, yaml.MappingNode):
            return line
        match = next((kv for kv in node.value if kv[0].value == part), None)
        if match is None:
            return line
        line, node = match[0].start_mark.line + 1, match[1]
    return line


def _read_in_code(leaf: str, texts: Mapping[str, str | None]) -> bool:
    pattern = re.compile(rf"""["']{re.escape(leaf)}["']|\.{re.escape(leaf)}\b""")
    return any(t and rel.endswith(".py") and pattern.search(t) for rel, t in texts.items())


def check_config(
    req: Requirement, config_yaml: str, texts: Mapping[str, str | None]
) -> tuple[Status, str, list[Evidence]] | None:
    """A static verdict for a hyperparameter with a value and a config key, or None when a
    static check would not be reliable (then the verifier decides)."""
    if req.category == "assumption" or req.config_key is None or req.value is None:
        return None
    try:
        data = yaml.safe_load(config_yaml) or {}
    except yaml.YAMLError:
        return None
    found, value = _lookup(data, req.config_key)
    if not found:
        return "missing", f"config.yaml has no key {req.config_key}", []
    line = _key_line(config_yaml, req.config_key)
    lines = config_yaml.splitlines()
    ev = [
        Evidence(
            file="config.yaml",
            start_line=line,
            end_line=line,
            excerpt=lines[line - 1] if lines else "",
        )
    ]
    expected = paper_value(req.value)
    if not same_value(value, expected):
        if isinstance(expected, str) and _number(expected) is None:
            return None  # the paper's wording is not a value we can compare
        return (
            "contradicted",
            f"config.yaml sets {req.config_key} = {value!r}; the paper says {req.value}",
            ev,
        )
    leaf = req.config_key.rsplit(".", 1)[-1]
    if not _read_in_code(leaf, texts):
        return "partial", f"{req.config_key} = {value!r} is in config.yaml but no code reads it", ev
    return "implemented", f"config.yaml sets {req.config_key} = {value!r}, read by the code", ev
