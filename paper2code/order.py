"""Dependency order of the files to code: pure functions over the plan's dependency map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def break_cycles(order: Sequence[str], deps: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Drop dependencies that point forward in ``order`` (the planner's task list), which removes
    every cycle while keeping each file's dependencies on files listed before it. Unknown files
    and self-references are dropped too."""
    position = {path: i for i, path in enumerate(order)}
    result: dict[str, list[str]] = {}
    for path in order:
        keep = []
        for dep in deps.get(path, ()):
            if dep in position and position[dep] < position[path] and dep not in keep:
                keep.append(dep)
        result[path] = keep
    return result


def levels(order: Sequence[str], deps: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Group files into levels: every file's dependencies lie in earlier levels. Files of one
    level can be written concurrently; within a level the task-list order is kept."""
    acyclic = break_cycles(order, deps)
    depth: dict[str, int] = {}
    for path in order:  # dependencies always come earlier in ``order`` after break_cycles
        depth[path] = 1 + max((depth[d] for d in acyclic[path]), default=-1)
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for path in order:
        out[depth[path]].append(path)
    return out


def transitive(path: str, deps: Mapping[str, Sequence[str]]) -> list[str]:
    """All files ``path`` depends on, directly or not, nearest first, without repeats."""
    seen: list[str] = []
    frontier = list(deps.get(path, ()))
    while frontier:
        nxt = frontier.pop(0)
        if nxt == path or nxt in seen:
            continue
        seen.append(nxt)
        frontier.extend(deps.get(nxt, ()))
    return seen
