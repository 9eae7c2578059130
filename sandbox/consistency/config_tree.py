"""The config file as the key check sees it (:class:`ConfigTree`): its data with string keys,
every mapping outside the ``smoke:`` overrides with its path, and the lines of each section
for the finding's excerpt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from sandbox.consistency.report import Target


@dataclass
class ConfigTree:
    """The config file: its data, every mapping outside ``smoke:``, and where sections are."""

    name: str
    data: dict[str, Any]
    lines: list[str]
    mappings: list[tuple[tuple[str, ...], dict[str, Any]]]
    spans: dict[tuple[str, ...], tuple[int, int]]

    @classmethod
    def parse(cls, text: str, name: str) -> ConfigTree | None:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
        if not isinstance(data, dict):
            return None
        data = _str_keys(data)
        mappings: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        _mappings(data, (), mappings)
        return cls(name, data, text.splitlines(), mappings, _spans(text))

    def lookup(self, path: tuple[str, ...]) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return MISSING
            node = node[key]
        return node

    def section(self, path: tuple[str, ...]) -> Target:
        first, last = self.spans.get(path, (1, len(self.lines)))
        last = min(last, first + 11)
        shown = "\n".join(f"  {n:>4} | {self.lines[n - 1]}" for n in range(first, last + 1))
        symbol = ".".join(path) or "(top level)"
        return Target(file=self.name, line=first, symbol=symbol, excerpt=shown)


MISSING = object()


def _str_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _str_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_str_keys(v) for v in value]
    return value


def _mappings(value: Any, path: tuple[str, ...], out: list[tuple[tuple[str, ...], dict]]) -> None:
    """Every mapping in the config, with its path; the ``smoke`` overrides are left out."""
    if isinstance(value, dict):
        out.append((path, value))
        for k, v in value.items():
            if not (path == () and k == "smoke"):
                _mappings(v, (*path, k), out)
    elif isinstance(value, list):
        for v in value:
            _mappings(v, (*path, "[]"), out)


def _spans(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """1-based line spans of the config's mappings, by path (best effort)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    spans: dict[tuple[str, ...], tuple[int, int]] = {}
    stack: list[tuple[tuple[str, ...], Any, int]] = [((), root, 0)]
    while stack:
        path, node, first = stack.pop()
        if isinstance(node, yaml.MappingNode):
            last = max(first + 1, node.end_mark.line)
            spans[path] = (first + 1, last)
            for key, value in node.value:
                stack.append(((*path, str(key.value)), value, key.start_mark.line))
    return spans
