"""PaperBench rubrics: read a rubric tree in PaperBench's own format, pick the leaves paper2code
grades, and aggregate leaf scores up the tree the way PaperBench does.

A rubric is a tree of nodes ``{"id", "requirements", "weight", "sub_tasks": [...]}``; leaves
carry a ``task_category``: ``Code Development`` (is the code there and right?), ``Code
Execution`` (did running it produce something?) or ``Result Analysis`` (do the results match?).
Like PaperBench's Code-Dev variant, only Code Development leaves are graded — from the code
alone; the other leaves need the paper's experiments to run and are reported as not graded. A
node's score is the weighted mean of its children's scores, over the children that have at
least one graded leaf below them; a subtree without one is left out of its parent's mean.

Pure functions; the grading calls are in ``paper2code.evaluate``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paper2code.errors import Paper2CodeError

GRADED = "Code Development"
"""The leaf category paper2code grades (PaperBench's Code-Dev variant)."""

NOT_GRADED_NOTE = (
    "Only Code Development leaves are graded, from the code alone, as in PaperBench's Code-Dev "
    "variant. Code Execution and Result Analysis leaves need the paper's experiments to be run "
    "and their results compared, which paper2code does not do: they are counted, not scored."
)


class RubricNode(BaseModel):
    """One node of a PaperBench rubric (other keys of the format are kept as they are)."""

    model_config = ConfigDict(extra="allow")

    id: str
    requirements: str
    weight: float = Field(default=1.0, ge=0)
    sub_tasks: list[RubricNode] = Field(default_factory=list)
    task_category: str | None = None
    finegrained_task_category: str | None = None

    @property
    def is_leaf(self) -> bool:
        return not self.sub_tasks

    def leaves(self) -> list[RubricNode]:
        """Every leaf below (or this node, for a leaf), in order."""
        if self.is_leaf:
            return [self]
        return [leaf for child in self.sub_tasks for leaf in child.leaves()]

    def graded_leaves(self) -> list[RubricNode]:
        return [leaf for leaf in self.leaves() if leaf.task_category == GRADED]


class NodeScore(BaseModel):
    """A node's score after aggregation (None: nothing below it is graded)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    requirements: str
    weight: float
    task_category: str | None = None
    score: float | None = None
    children: list[NodeScore] = Field(default_factory=list)


def load_rubric(path: Path) -> RubricNode:
    """The rubric tree in ``path`` (a PaperBench ``rubric.json``); ``Paper2CodeError`` with the
    reason when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise Paper2CodeError(f"--rubric {path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Paper2CodeError(f"--rubric {path}: not JSON ({exc})") from exc
    try:
        root = RubricNode.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise Paper2CodeError(
            f"--rubric {path}: not a PaperBench rubric tree ({where}: {err['msg']})"
        ) from exc
    ids = [n.id for n in _walk(root)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise Paper2CodeError(f"--rubric {path}: node ids repeat: {', '.join(repeated[:5])}")
    if not root.graded_leaves():
        raise Paper2CodeError(f"--rubric {path}: no leaf has task_category {GRADED!r}")
    return root


def _walk(node: RubricNode) -> list[RubricNode]:
    return [node, *(n for child in node.sub_tasks for n in _walk(child))]


def not_graded(root: RubricNode) -> dict[str, int]:
    """Leaves left out of the score, counted by category."""
    out: dict[str, int] = {}
    for leaf in root.leaves():
        if leaf.task_category != GRADED:
            key = leaf.task_category or "(no category)"
            out[key] = out.get(key, 0) + 1
    return out


def aggregate(node: RubricNode, grades: Mapping[str, float]) -> NodeScore:
    """Scores up the tree: a graded leaf's score is its grade (0–1, a mean over samples); a
    parent's is the weighted mean of its children that have a score."""
    children = [aggregate(child, grades) for child in node.sub_tasks]
    if node.is_leaf:
        score = grades.get(node.id) if node.task_category == GRADED else None
    else:
        score = _weighted_mean([(c.weight, c.score) for c in children if c.score is not None])
    return NodeScore(
        id=node.id,
        requirements=node.requirements,
        weight=node.weight,
        task_category=node.task_category,
        score=None if score is None else round(score, 6),
        children=children,
    )


def _weighted_mean(scored: list[tuple[float, float]]) -> float | None:
    """None without scores; 0 when every weight is 0 (as PaperBench does)."""
    if not scored:
        return None
    total = sum(w for w, _ in scored)
    return sum(w * s for w, s in scored) / total if total > 0 else 0.0


def ancestry(root: RubricNode) -> dict[str, list[str]]:
    """Leaf id → the requirements of its ancestors, outermost first (context for grading)."""
    out: dict[str, list[str]] = {}

    def walk(node: RubricNode, path: list[str]) -> None:
        if node.is_leaf:
            out[node.id] = path
        for child in node.sub_tasks:
            walk(child, [*path, node.requirements])

    walk(root, [])
    return out
