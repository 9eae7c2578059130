"""Small helpers over Python's AST that every check shares: dotted names, string constants,
what one scope contains and binds, and which statements run at module level."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator


def dotted_parts(expr: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]`` (calls stripped: ``torch.no_grad()`` → torch, no_grad);
    None for anything else."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return parts[::-1]


def str_const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def walk_scope(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under ``nodes`` that belongs to the same scope: nested function and class
    bodies and lambdas are not entered (their decorators, defaults and bases are)."""
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            stack.extend(node.decorator_list)
            stack.extend(d for d in [*node.args.defaults, *node.args.kw_defaults] if d)
        elif isinstance(node, ast.ClassDef):
            stack.extend([*node.decorator_list, *node.bases, *node.keywords])
        elif isinstance(node, ast.Lambda):
            stack.extend(node.args.defaults)
        else:
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, ast.AST):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(v for v in reversed(value) if isinstance(v, ast.AST))


def bound_names(node: ast.AST) -> Iterator[str]:
    """Names a single node binds in its scope."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        yield node.id
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            if alias.name != "*":
                yield alias.asname or alias.name.split(".")[0]
    elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
        yield node.name
    elif isinstance(node, ast.MatchMapping) and node.rest:
        yield node.rest


def all_args(args: ast.arguments) -> list[str]:
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return names


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements executed at module level: compound statements and what they contain,
    function and class bodies excluded."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for _, value in ast.iter_fields(stmt):
            if not isinstance(value, list):
                continue
            for item in value:
                if isinstance(item, ast.stmt):
                    yield from module_level([item])
                elif isinstance(item, ast.ExceptHandler | ast.match_case):
                    yield from module_level(item.body)


def header_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The parts of a statement outside its nested statement lists."""
    for _, value in ast.iter_fields(stmt):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, ast.stmt):
                continue
            if isinstance(item, ast.ExceptHandler):
                yield item
            elif isinstance(item, ast.match_case):
                yield from ast.walk(item.pattern)
            elif isinstance(item, ast.AST):
                yield from walk_scope([item])
