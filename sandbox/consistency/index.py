"""The module index (:class:`Index`): every Python module of a repository — files, packages,
namespace packages, extension modules — with its top-level names, and where an import leads
(:meth:`Index.resolve`). A file that does not parse is a ``lint`` finding here and has no
names."""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from sandbox.consistency.astutil import (
    bound_names,
    dotted_parts,
    header_nodes,
    module_level,
    str_const,
    walk_scope,
)
from sandbox.consistency.report import Finding
from sandbox.consistency.wording import excerpt

_COMPILED = (".so", ".pyd")


@dataclass
class Binding:
    """One way a module-level name gets its value."""

    kind: Literal["def", "class", "import", "value"]
    node: ast.AST
    module: str | None = None
    """import: the repository module it names (an ``Index`` key); None when external."""
    name: str | None = None
    """import: the name imported from the module; None when the module itself is bound."""
    source: str = ""
    """import: the dotted name as written (``torch.nn``, ``dataclasses.dataclass``)."""


@dataclass
class Module:
    path: str
    """``pkg/mod.py``, ``pkg/__init__.py``, or ``pkg/`` for a namespace package."""
    tree: ast.Module | None = None
    lines: list[str] = field(default_factory=list)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    """Names listed in ``__all__``."""
    open: bool = False
    """Its names cannot be listed: star import, module ``__getattr__``, ``globals()``…"""
    scope_nodes: dict[int, list[ast.AST]] = field(default_factory=dict)
    scope_stores: dict[int, Counter[str]] = field(default_factory=dict)

    def defined(self) -> list[str]:
        """Public top-level names, for messages."""
        return [n for n in (*self.bindings, *self.exported) if not n.startswith("_")]

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def nodes(self, body: list[ast.stmt] | list[ast.expr]) -> list[ast.AST]:
        """:func:`walk_scope` of a body of this module's tree, computed once."""
        key = id(body)
        if key not in self.scope_nodes:
            self.scope_nodes[key] = list(walk_scope(body))
        return self.scope_nodes[key]

    def stores(self, body: list[ast.stmt]) -> Counter[str]:
        """How often each name is bound in the scope of ``body``, computed once."""
        key = id(body)
        if key not in self.scope_stores:
            self.scope_stores[key] = Counter(
                n for node in self.nodes(body) for n in bound_names(node)
            )
        return self.scope_stores[key]


@dataclass(frozen=True)
class Resolved:
    """Where an import leads: a repository module, a part that does not exist, or outside."""

    module: str | None = None
    others: tuple[str, ...] = ()
    """Other modules the import may lead to, depending on how the program is run (a module of
    the importer's folder and one at the root with the same name)."""
    missing: str | None = None
    """The first dotted part that does not exist (``pkg.nope``, ``.utils``)."""
    near: tuple[str, ...] = ()
    """What exists where the missing part was looked for."""

    @property
    def external(self) -> bool:
        return self.module is None and self.missing is None


_OPEN_MARKERS = re.compile(
    r"\bglobals\(\)|sys\.modules\[__name__\]|\bexec\(|\bsetattr\(sys\.modules"
)


class Index:
    """Every Python module of the repository with its top-level names, and import resolution."""

    def __init__(self, sources: Mapping[str, str], layout: Iterable[str] = ()) -> None:
        self.modules: dict[str, Module] = {}
        self.syntax_errors: list[Finding] = []
        for path in sorted(sources):
            self._parse(path, sources[path])
        for path in layout:
            if path.endswith(_COMPILED):  # an extension module: its names are unknown
                folder, _, name = path.rpartition("/")
                key = f"{folder}/{name.split('.')[0]}.py".lstrip("/")
                self.modules.setdefault(key, Module(key, open=True))
            elif path.endswith("/"):
                self._add_namespaces(path + "-")
        for path in list(self.modules):
            self._add_namespaces(path)
        self.roots = [""] + (["src/"] if any(p.startswith("src/") for p in sources) else [])
        self.attr_names: set[str] = set()
        """Attribute names assigned, ``setattr``'d or ``hasattr``-tested anywhere: a module
        attribute with one of these names may exist at run time, so it is never reported."""
        self.subclasses: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)
        """Base class name → (name, methods) of the repository classes deriving from it."""
        self.methods: dict[tuple[int, str, bool], Any] = {}
        """Cache of :func:`sandbox.consistency.entities.lookup_method` lookups."""
        for module in self.parsed():
            self._survey(module)
        for module in self.parsed():
            _collect_bindings(self, module)

    def _parse(self, path: str, text: str) -> None:
        lines = text.splitlines()
        try:
            tree = ast.parse(text, filename=path)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None) or 1
            msg = getattr(exc, "msg", str(exc))
            self.syntax_errors.append(
                Finding(
                    kind="lint",
                    file=path,
                    line=line,
                    message=f"{path}:{line}: SyntaxError: {msg}",
                    excerpt=excerpt(lines, line),
                    key=f"lint|{path}|SyntaxError",
                )
            )
            tree = None
        module = Module(path, tree, lines)
        module.open = tree is None or bool(_OPEN_MARKERS.search(text))
        self.modules[path] = module

    def _add_namespaces(self, path: str) -> None:
        parts = PurePosixPath(path).parts[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i]) + "/"
            if folder + "__init__.py" not in self.modules and folder not in self.modules:
                self.modules[folder] = Module(folder)

    def parsed(self) -> list[Module]:
        return [m for m in self.modules.values() if m.tree is not None]

    def _survey(self, m: Module) -> None:
        """One walk over a module: attribute names set at run time, methods of subclasses, and
        names declared ``global`` in functions (module-level bindings too)."""
        assert m.tree is not None
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                self.attr_names.add(node.attr)
            elif isinstance(node, ast.Call):
                self._survey_call(m, node)
            elif isinstance(node, ast.ClassDef):
                methods = {
                    s.name
                    for s in node.body
                    if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
                }
                for base in node.bases:
                    self.subclasses[(dotted_parts(base) or [""])[-1]].append((node.name, methods))
            elif isinstance(node, ast.Global):
                for name in node.names:
                    m.bind(name, Binding("value", node))

    def _survey_call(self, m: Module, node: ast.Call) -> None:
        """Attribute names a call may set; a module whose names are set by computed names
        (``setattr(module, name, …)``, ``__all__.append(name)``) is open."""
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"setattr", "hasattr", "getattr"}:
            name = str_const(node.args[1]) if len(node.args) > 1 else None
            if name is not None:
                self.attr_names.add(name)
            elif func.id == "setattr":
                m.open = True
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "__all__"
        ):
            m.open = True

    def overridden(self, cls: ast.ClassDef) -> set[str]:
        """Methods that repository classes deriving from ``cls`` (at any depth) define."""
        methods: set[str] = set()
        todo, seen = [cls.name], {cls.name}
        while todo:
            for name, defined in self.subclasses.get(todo.pop(), []):
                methods |= defined
                if name not in seen:
                    seen.add(name)
                    todo.append(name)
        return methods

    # ------------------------------------------------------------------ import resolution
    def child(self, folder: str | None, name: str) -> str | None:
        """The module ``name`` inside ``folder`` (``""`` is the root): a regular package first,
        then a module file, then a namespace package (Python's order)."""
        if folder is None:
            return None
        for key in (f"{folder}{name}/__init__.py", f"{folder}{name}.py", f"{folder}{name}/"):
            if key in self.modules:
                return key
        return None

    @staticmethod
    def folder_of(module: str) -> str | None:
        """The folder whose files are the submodules of ``module`` (None for a plain module)."""
        if module.endswith("/"):
            return module
        if module.endswith("/__init__.py") or module == "__init__.py":
            return module[: -len("__init__.py")]
        return None

    def children(self, folder: str | None) -> list[str]:
        if folder is None:
            return []
        out = set()
        for key in self.modules:
            if key.startswith(folder) and key != folder:
                rest = key[len(folder) :]
                head = rest.split("/", 1)[0]
                if head != "__init__.py":
                    out.add(head.removesuffix(".py"))
        return sorted(out)

    def resolve(self, importer: str, level: int, dotted: str | None) -> Resolved:
        parts = dotted.split(".") if dotted else []
        if level:
            return self._relative(importer, level, parts)
        return self._absolute(importer, parts)

    def _absolute(self, importer: str, parts: list[str]) -> Resolved:
        """An absolute import, from the repository root (and ``src/``), or from the importer's
        own folder as a script would see it (that folder only finds modules, never reports a
        miss, and not inside a regular package). A standard-library name is left alone even
        when a repository file shadows it; so is a miss below a top-level namespace package (a
        folder without ``__init__.py``): an installed package of that name would win."""
        if parts[0] in sys.stdlib_module_names:
            return Resolved()
        here = str(PurePosixPath(importer).parent)
        script_root = "" if here == "." else here + "/"
        scripts = [script_root] if script_root + "__init__.py" not in self.modules else []
        found: list[str] = []
        misses: list[Resolved] = []
        for root in dict.fromkeys([*self.roots, *scripts]):
            top = self.child(root, parts[0])
            if top is None:
                continue
            one = self._descend(top, parts, 1, "")
            if one.module is not None:
                found.append(one.module)
            elif not top.endswith("/") and root in self.roots:
                misses.append(one)
        if found:
            return Resolved(module=found[0], others=tuple(dict.fromkeys(found[1:])))
        return misses[0] if misses else Resolved()

    def _descend(self, module: str, parts: list[str], start: int, prefix: str) -> Resolved:
        """Follow ``parts[start:]`` down from ``module``; ``prefix`` is the relative dots."""
        for i in range(start, len(parts)):
            folder = self.folder_of(module)
            nxt = self.child(folder, parts[i])
            if nxt is None:
                missing = prefix + ".".join(parts[: i + 1])
                return Resolved(missing=missing, near=tuple(self.children(folder)))
            module = nxt
        return Resolved(module=module)

    def _relative(self, importer: str, level: int, parts: list[str]) -> Resolved:
        folder = PurePosixPath(importer).parent
        for _ in range(level - 1):
            if str(folder) == ".":
                return Resolved()  # above the repository: not ours to judge
            folder = folder.parent
        base = "" if str(folder) == "." else f"{folder}/"
        if not base:
            return Resolved()  # a relative import at the root: depends on how it is run
        package = base + "__init__.py" if base + "__init__.py" in self.modules else base
        if package not in self.modules:
            return Resolved()
        return self._descend(package, parts, 0, "." * level)

    # ------------------------------------------------------------------ names
    def has_name(self, module: str, name: str) -> bool | None:
        """True when ``module`` defines or re-exports ``name`` or has it as a submodule;
        None when that cannot be known (its namespace is open)."""
        if self.child(self.folder_of(module), name):
            return True
        m = self.modules[module]
        if m.open or m.tree is None:  # a namespace package may be an installed one too
            return None
        return name in m.bindings or name in m.exported


def qualname(m: Module, expr: ast.AST) -> str:
    """The dotted name ``expr`` stands for, through the module's imports
    (``dc.dataclass`` with ``import dataclasses as dc`` → ``dataclasses.dataclass``)."""
    parts = dotted_parts(expr)
    if not parts:
        return ""
    bindings = m.bindings.get(parts[0], [])
    if len(bindings) == 1 and bindings[0].kind == "import":
        return ".".join([bindings[0].source, *parts[1:]])
    return ".".join(parts)


def _collect_bindings(index: Index, m: Module) -> None:
    """Fill ``m.bindings`` and ``m.exported`` from its module-level statements."""
    assert m.tree is not None
    for stmt in module_level(m.tree.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            m.bind(stmt.name, Binding("def", stmt))
            m.open |= stmt.name == "__getattr__"
        elif isinstance(stmt, ast.ClassDef):
            m.bind(stmt.name, Binding("class", stmt))
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                _bind_import(index, m, stmt, alias)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                _bind_from(index, m, stmt, alias)
        else:
            for node in header_nodes(stmt):
                for name in bound_names(node):
                    m.bind(name, Binding("value", stmt))
            m.exported |= _all_names(stmt)


def _bind_import(index: Index, m: Module, stmt: ast.Import, alias: ast.alias) -> None:
    name = alias.name if alias.asname else alias.name.split(".")[0]
    found = index.resolve(m.path, 0, name)
    module = None if found.others else found.module
    m.bind(alias.asname or name, Binding("import", stmt, module, None, name))


def _bind_from(index: Index, m: Module, stmt: ast.ImportFrom, alias: ast.alias) -> None:
    if alias.name == "*":
        m.open = True
        return
    found = index.resolve(m.path, stmt.level, stmt.module)
    source = "." * stmt.level + (stmt.module or "")
    qual = f"{source}.{alias.name}" if stmt.module else f"{source}{alias.name}"
    module = None if found.others else found.module
    m.bind(alias.asname or alias.name, Binding("import", stmt, module, alias.name, qual))


def _all_names(stmt: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
        return set()
    value = getattr(stmt, "value", None)
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return {s for s in map(str_const, value.elts) if s}
    return set()
