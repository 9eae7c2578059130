"""The check of the keys one module reads from the configuration (:class:`ConfigChecker`):
through loaders, copies, aliases, ``self.<attr>`` and config-named parameters, against the
config file. Reads with a default, and keys the repository sets, tests with ``in`` or passes to
``setdefault``, are never reported."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sandbox.consistency.astutil import all_args, dotted_parts, str_const
from sandbox.consistency.config_tree import MISSING, ConfigTree
from sandbox.consistency.index import Module
from sandbox.consistency.report import Finding
from sandbox.consistency.wording import did_you_mean, excerpt, name_listing, one_line

CONFIG_NAMES = frozenset({"config", "cfg", "conf", "params", "hparams"})
"""Variable names taken to hold the configuration (or one of its sections) when they are
parameters, besides variables assigned from a config loader."""


@dataclass(frozen=True)
class _Ref:
    """A value read from the configuration: its keys so far and whether it is anchored at the
    top level (loaded from the file) or is some section (a parameter named ``config``…)."""

    keys: tuple[tuple[str, bool], ...]
    """``(key, read with a default)`` from the root."""
    anchored: bool
    origin: str
    """Where the root came from (scope and name), for the evidence rule."""

    def child(self, key: str, defaulted: bool) -> _Ref:
        return _Ref((*self.keys, (key, defaulted)), self.anchored, self.origin)

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.keys)


_LOADER = re.compile(r"^(load|read|parse|get)_?(config|cfg|conf|yaml|hparams)s?$", re.I)
_YAML_LOADERS = {"yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load"}
_COPIES = {"copy.deepcopy", "copy.copy", "deepcopy", "dict"}
_MERGERS = re.compile(r"smoke|merge|override|apply|update", re.I)


@dataclass
class _Read:
    ref: _Ref
    node: ast.AST


@dataclass(frozen=True)
class _View:
    """What config references are in reach at one point: names, and ``self.<attr>``."""

    names: Mapping[str, _Ref]
    self_name: str | None = None
    self_refs: Mapping[str, _Ref] = field(default_factory=dict)


class ConfigChecker:
    """Keys one module reads from the configuration, checked against the config file."""

    def __init__(self, module: Module, config: ConfigTree) -> None:
        self.module = module
        self.config = config
        self.reads: list[_Read] = []
        self.known: set[str] = set()
        """Keys the module tests (``"k" in cfg``), writes or ``setdefault``s: optional."""
        self.open: set[str] = set()
        """Origins the module ``update``s: any key may be there."""

    def collect(self) -> ConfigChecker:
        """Record the module's reads, and the keys it sets or tests."""
        assert self.module.tree is not None
        body = self.module.tree.body
        view = _View(self._scope(body, [], {}, "<module>", None, {}))
        self._collect(body, view)
        for node in self.module.nodes(body):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(node, view.names, None)
            elif isinstance(node, ast.ClassDef):
                self._class(node, view.names)
        return self

    # ------------------------------------------------------------------ scopes
    def _class(self, cls: ast.ClassDef, outer: Mapping[str, _Ref]) -> None:
        """Methods, with ``self.<attr>`` a reference when every assignment of it in the class
        assigns one (``self.cfg = cfg``)."""
        methods = [s for s in cls.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
        attrs: dict[str, list[_Ref | None]] = defaultdict(list)
        for method in methods:
            view = self._view(method, outer, {})
            for node in self.module.nodes(method.body):
                for target, value in _assignments(node):
                    if isinstance(target, ast.Attribute) and _is_self_attr(target, view.self_name):
                        attrs[target.attr].append(self._eval(value, view))
        self_refs = {a: refs[0] for a, refs in attrs.items() if _consistent(refs) and refs[0]}
        for method in methods:
            self._function(method, outer, self_refs)

    def _view(
        self,
        fn: ast.FunctionDef | ast.AsyncFunctionDef,
        outer: Mapping[str, _Ref],
        self_refs: Mapping[str, _Ref] | None,
    ) -> _View:
        """The references of a function; ``self_refs`` is None for a plain function."""
        params = all_args(fn.args)
        positional = [*fn.args.posonlyargs, *fn.args.args]
        self_name = positional[0].arg if self_refs is not None and positional else None
        scope_id = f"{fn.name}:{fn.lineno}"
        names = self._scope(fn.body, params, outer, scope_id, self_name, self_refs or {})
        return _View(names, self_name, self_refs or {})

    def _function(
        self,
        fn: ast.FunctionDef | ast.AsyncFunctionDef,
        outer: Mapping[str, _Ref],
        self_refs: Mapping[str, _Ref] | None,
    ) -> None:
        view = self._view(fn, outer, self_refs)
        self._collect(fn.body, view)
        for node in self.module.nodes(fn.body):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(node, view.names, None)

    def _scope(
        self,
        body: list[ast.stmt],
        params: list[str],
        outer: Mapping[str, _Ref],
        scope_id: str,
        self_name: str | None,
        self_refs: Mapping[str, _Ref],
    ) -> dict[str, _Ref]:
        """The config references of one scope: parameters with a config-like name, and names
        every assignment of which is a loader call or another reference."""
        stores = self.module.stores(body)
        assigns: list[tuple[str, ast.expr]] = []
        for node in self.module.nodes(body):
            for target, value in _assignments(node):
                if isinstance(target, ast.Name):
                    assigns.append((target.id, value))
        local = {n: _Ref((), False, f"{scope_id}:{n}") for n in params if n in CONFIG_NAMES}
        inherited = {k: v for k, v in outer.items() if k not in stores and k not in params}
        for _ in range(2):  # twice: an assignment may use a name assigned further down
            values: dict[str, list[_Ref | None]] = defaultdict(list)
            view = _View({**inherited, **local}, self_name, self_refs)
            for name, value in assigns:
                values[name].append(self._eval(value, view, name))
            for name, refs in values.items():
                if name in params and name not in CONFIG_NAMES:
                    continue
                if len(refs) == stores[name] and _consistent(refs):
                    local[name] = local.get(name) or refs[0]  # type: ignore[assignment]
                else:
                    local.pop(name, None)
        return {**inherited, **local}

    # ------------------------------------------------------------------ expressions
    def _eval(self, expr: ast.AST, view: _View, target: str | None = None) -> _Ref | None:
        """The config reference ``expr`` evaluates to, if any (``target``: the name it is
        assigned to)."""
        if isinstance(expr, ast.Name):
            return view.names.get(expr.id)
        if isinstance(expr, ast.Attribute) and _is_self_attr(expr, view.self_name):
            return view.self_refs.get(expr.attr)
        if isinstance(expr, ast.Subscript):
            key = str_const(expr.slice)
            base = self._eval(expr.value, view)
            return base.child(key, False) if base and key is not None else None
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and expr.args:
            key = str_const(expr.args[0])
            base = self._eval(func.value, view)
            defaulted = len(expr.args) > 1 or bool(expr.keywords)
            return base.child(key, defaulted) if base and key is not None else None
        return self._eval_call(expr, view, target)

    def _eval_call(self, call: ast.Call, view: _View, target: str | None) -> _Ref | None:
        parts = dotted_parts(call.func) or []
        name = ".".join(parts)
        if name in _YAML_LOADERS or (parts and _LOADER.match(parts[-1])):
            if self._about_config(call, target):
                return _Ref((), True, f"load:{call.lineno}")
            return None
        if not call.args:
            return None
        inner = self._eval(call.args[0], view)
        if name in _COPIES or (parts and _MERGERS.search(parts[-1])):
            return inner
        return None

    def _about_config(self, call: ast.Call, target: str | None) -> bool:
        """A loader call reads the config (not some other YAML file): its result is assigned to a
        config-like name or its arguments mention the config."""
        config_base = PurePosixPath(self.config.name).name
        mentions = False
        for node in ast.walk(call):
            const = str_const(node)
            if const and const.endswith((".yaml", ".yml")):
                if PurePosixPath(const).name != config_base:
                    return False
                mentions = True
            text = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
            mentions |= isinstance(text, str) and ("config" in text or "cfg" in text)
        return mentions or (target is not None and target in CONFIG_NAMES)

    # ------------------------------------------------------------------ reads
    def _collect(self, body: list[ast.stmt], view: _View) -> None:
        """Record the reads, guards and writes of one scope."""
        for node in self.module.nodes(body):
            if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
                key = str_const(node.slice)
                if key and self._eval(node.value, view):
                    self.known.add(key)
                continue
            if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
                key = str_const(node.left)
                if key and self._eval(node.comparators[0], view):
                    self.known.add(key)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                self._method_call(node, view)
            if isinstance(node, ast.Subscript | ast.Call):
                ref = self._eval(node, view)
                if ref is not None and ref.keys:
                    self.reads.append(_Read(ref, node))

    def _method_call(self, node: ast.Call, view: _View) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        if func.attr not in ("setdefault", "update", "pop"):
            return
        base = self._eval(func.value, view)
        if base is None:
            return
        first = node.args[0] if node.args else None
        if func.attr == "update" and isinstance(first, ast.Dict) and not node.keywords:
            self.known.update(k for k in map(str_const, first.keys) if k)  # type: ignore[arg-type]
        elif func.attr == "update":
            self.open.add(base.origin)
        elif first is not None and str_const(first):
            self.known.add(str_const(first))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ findings
    def findings(self, known: set[str]) -> list[Finding]:
        """Reads of keys the config lacks; ``known`` keys (set or tested somewhere in the
        repository) are optional and never reported."""
        evidence = {r.ref.origin for r in self.reads if self._exists(r.ref)}
        first: dict[str, tuple[_Read, tuple[str, ...], list[int]]] = {}
        for read in sorted(self.reads, key=lambda r: getattr(r.node, "lineno", 0)):
            if read.ref.origin in self.open:
                continue
            missing = self._missing(read.ref)
            if missing is None or missing[-1] in known:
                continue
            if not read.ref.anchored and read.ref.origin not in evidence:
                continue
            shown = ".".join(missing)
            line = getattr(read.node, "lineno", 1)
            if shown not in first:
                first[shown] = (read, missing, [line])
            elif line not in first[shown][2]:
                first[shown][2].append(line)
        return [self._finding(read, missing, lines) for read, missing, lines in first.values()]

    def _exists(self, ref: _Ref) -> bool:
        """The whole key path is in the config (at the top level, or for a section anywhere)."""
        if ref.anchored:
            return _resolves(self.config.data, ref.path)
        return any(_resolves(m, ref.path) for _p, m in self.config.mappings)

    def _missing(self, ref: _Ref) -> tuple[str, ...] | None:
        """The shortest key path of ``ref`` that the config lacks (None: it is there, or it
        is read with a default, or it goes below a plain value)."""
        if ref.anchored:
            return _missing_from(self.config.data, ref.keys, ())
        best: tuple[str, ...] | None = None
        for _path, mapping in self.config.mappings:
            missing = _missing_from(mapping, ref.keys, ())
            if missing is None:
                return None
            if best is None or len(missing) > len(best):
                best = missing
        return best

    def _finding(self, read: _Read, missing: tuple[str, ...], lines: list[int]) -> Finding:
        ref, path = read.ref, self.module.path
        line = lines[0]
        shown = ".".join(missing)
        expr = one_line(self.module.lines, read.node)
        text = f"`{expr}` — {self._explain(ref, missing)}"
        if _is_get(read.node) and len(ref.keys) == len(missing):
            text += " (`.get` without a default returns None)"
        if len(lines) > 1:
            text += f" (also read at line{'s' * (len(lines) > 2)} {', '.join(map(str, lines[1:]))})"
        section = missing[:-1] if ref.anchored else self._section_of(missing)
        return Finding(
            kind="unknown_config_key",
            file=path,
            line=line,
            message=f"{path}:{line}: {text}",
            excerpt=excerpt(self.module.lines, line),
            target=self.config.section(section),
            key=f"unknown_config_key|{path}|{'' if ref.anchored else '~'}{shown}",
        )

    def _explain(self, ref: _Ref, missing: tuple[str, ...]) -> str:
        name, key = self.config.name, missing[-1]
        if ref.anchored:
            parent = self.config.lookup(missing[:-1])
            keys = list(parent) if isinstance(parent, dict) else []
            where = f"`{'.'.join(missing[:-1])}`" if missing[:-1] else "the top level"
            text = f"{name} has no key `{'.'.join(missing)}`{did_you_mean(key, keys)}"
            text += f"; {where} has: {name_listing(keys, key)}"
            if self.config.lookup(("smoke", *missing)) is not MISSING:
                text += (
                    "; the key is only under `smoke:`, whose overrides must also be defined "
                    "outside it"
                )
            return text
        section = self._section_of(missing)
        shown = f"`{'.'.join(missing)}`"
        hint = "the variable may hold the whole config or one of its sections"
        if section:
            keys = list(self.config.lookup(section))
            listing = f"`{'.'.join(section)}` has: {name_listing(keys, key)}"
            return f"no section of {name} has the key path {shown}{did_you_mean(key, keys)}; {listing} ({hint})"
        top = [".".join(p) or "(top level)" for p, _ in self.config.mappings[:12]]
        return f"no section of {name} has the key path {shown} ({hint}: {', '.join(top)})"

    def _section_of(self, missing: tuple[str, ...]) -> tuple[str, ...]:
        """The config section a relative read most likely meant (for the target excerpt)."""
        for path, mapping in self.config.mappings:
            if missing[:-1] and _resolves(mapping, missing[:-1]) and "[]" not in path:
                return path + missing[:-1]
        return ()


def _resolves(node: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _missing_from(
    node: Any, keys: tuple[tuple[str, bool], ...], done: tuple[str, ...]
) -> tuple[str, ...] | None:
    for key, defaulted in keys:
        if not isinstance(node, dict):
            return None  # below a plain value or a list: not ours to judge
        if key not in node:
            return None if defaulted else (*done, key)
        node, done = node[key], (*done, key)
    return None


def _assignments(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    """``(target, value)`` pairs of an assignment, tuples unpacked pairwise."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield from _pairs(target, node.value)
    elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
        yield node.target, node.value


def _pairs(target: ast.expr, value: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(target, ast.Tuple | ast.List):
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
            for t, v in zip(target.elts, value.elts, strict=True):
                yield from _pairs(t, v)
        return
    yield target, value


def _is_self_attr(expr: ast.AST, self_name: str | None) -> bool:
    return (
        self_name is not None
        and isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == self_name
    )


def _is_get(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
    )


def _consistent(refs: list[_Ref | None]) -> bool:
    """Every assignment gave a reference, all to the same place."""
    return (
        bool(refs)
        and all(r is not None for r in refs)
        and len({(r.path, r.anchored) for r in refs if r}) == 1
    )
