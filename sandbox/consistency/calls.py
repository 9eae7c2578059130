"""The check of one module's imports and calls (:class:`FileChecker`): imports of repository
modules resolve, names imported from them or read as ``module.name`` exist, and calls fit the
callee's signature. Imports guarded by ``except ImportError`` or ``if TYPE_CHECKING:``, and
attributes guarded by ``except AttributeError``, are left alone."""

from __future__ import annotations

import ast
from collections import Counter

from sandbox.consistency.astutil import all_args, bound_names, dotted_parts, header_nodes
from sandbox.consistency.callables import callee_of
from sandbox.consistency.entities import Ctx, Ent, Scope, def_kind, function_scope
from sandbox.consistency.index import Index, Module, Resolved
from sandbox.consistency.report import Finding, FindingKind, Target
from sandbox.consistency.signatures import call_problems
from sandbox.consistency.wording import did_you_mean, excerpt, name_listing, one_line

_MODULE_DUNDERS = {
    "__doc__",
    "__file__",
    "__name__",
    "__package__",
    "__path__",
    "__spec__",
    "__loader__",
    "__builtins__",
    "__dict__",
    "__cached__",
}
_IMPORT_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_ATTRIBUTE_GUARDS = {"AttributeError", "Exception", "BaseException"}


def _caught(handlers: list[ast.ExceptHandler]) -> set[str]:
    names: set[str] = set()
    for h in handlers:
        if h.type is None:
            names.add("BaseException")
            continue
        types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        names.update((dotted_parts(t) or [""])[-1] for t in types)
    return names


class FileChecker(ast.NodeVisitor):
    """Imports, module attributes and calls of one module."""

    def __init__(self, index: Index, module: Module) -> None:
        self.index = index
        self.module = module
        self.scopes: list[Scope] = []
        self.caught: list[set[str]] = []
        self.findings: list[Finding] = []
        self.checked: Counter[str] = Counter()

    def run(self) -> list[Finding]:
        assert self.module.tree is not None
        self.visit(self.module.tree)
        return self.findings

    # ------------------------------------------------------------------ reporting
    def _guarded(self, names: set[str]) -> bool:
        return any(c & names for c in self.caught)

    def report(
        self, kind: FindingKind, node: ast.AST, text: str, key: str, target: Target | None = None
    ) -> None:
        line = getattr(node, "lineno", 1)
        path = self.module.path
        self.findings.append(
            Finding(
                kind=kind,
                file=path,
                line=line,
                message=f"{path}:{line}: {text}",
                excerpt=excerpt(self.module.lines, line),
                target=target,
                key=f"{kind}|{path}|{key}",
            )
        )

    def ctx(self) -> Ctx:
        return Ctx(self.index, self.module, self.scopes)

    # ------------------------------------------------------------------ scopes
    def visit_Try(self, node: ast.Try) -> None:
        self.caught.append(_caught(node.handlers))
        for stmt in node.body:
            self.visit(stmt)
        self.caught.pop()
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        """Imports under ``if TYPE_CHECKING:`` never run (they may name stub-only names)."""
        typing_only = (dotted_parts(node.test) or [""])[-1] == "TYPE_CHECKING"
        self.caught.append(_IMPORT_GUARDS if typing_only else set())
        for stmt in node.body:
            self.visit(stmt)
        self.caught.pop()
        self.visit(node.test)
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for part in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if part is not None:
                self.visit(part)
        scope = function_scope(self.module, node)
        enclosing = self.scopes[-1] if self.scopes else None
        if enclosing is not None and enclosing.is_class and enclosing.self_class is not None:
            self._bind_self(node, scope, enclosing.self_class)
        self.scopes.append(scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _bind_self(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope, cls: Ent
    ) -> None:
        positional = [*node.args.posonlyargs, *node.args.args]
        if not positional or def_kind(self.module, node) != "plain":  # type: ignore[arg-type]
            return
        first = positional[0].arg
        if not scope.stores[first]:
            scope.self_name = first
            scope.self_class = Ent("instance", cls.module, cls.node, via_self=True)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for part in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(part)
        names = {n for stmt in node.body for h in header_nodes(stmt) for n in bound_names(h)}
        names |= {
            s.name
            for s in node.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        scope = Scope(names, is_class=True)
        if not self.scopes:  # only top-level classes are looked up by name
            scope.self_class = Ent("class", self.module.path, node)
        self.scopes.append(scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for d in node.args.defaults:
            self.visit(d)
        self.scopes.append(Scope(set(all_args(node.args))))
        self.visit(node.body)
        self.scopes.pop()

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        names = {n for g in node.generators for t in ast.walk(g.target) for n in bound_names(t)}
        self.scopes.append(Scope(names))
        self.generic_visit(node)
        self.scopes.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    # ------------------------------------------------------------------ imports
    def visit_Import(self, node: ast.Import) -> None:
        if self._guarded(_IMPORT_GUARDS):
            return
        for alias in node.names:
            found = self.index.resolve(self.module.path, 0, alias.name)
            self.checked["imports"] += not found.external
            if found.missing:
                self._unresolved(node, f"import {alias.name}", found)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self._guarded(_IMPORT_GUARDS):
            return
        found = self.index.resolve(self.module.path, node.level, node.module)
        dotted = "." * node.level + (node.module or "")
        self.checked["imports"] += not found.external
        if found.missing:
            names = ", ".join(a.name for a in node.names)
            self._unresolved(node, f"from {dotted} import {names}", found)
            return
        if found.module is None:
            return
        candidates = [found.module, *found.others]
        for alias in node.names:
            if alias.name == "*" or alias.name in _MODULE_DUNDERS:
                continue
            self.checked["names"] += 1
            if any(self.index.has_name(c, alias.name) is not False for c in candidates):
                continue
            self._missing_name(node, f"from {dotted} import {alias.name}", found.module, alias.name)

    def _unresolved(self, node: ast.AST, shown: str, found: Resolved) -> None:
        assert found.missing is not None
        last = found.missing.rsplit(".", 1)[-1]
        near = f"; modules there: {name_listing(found.near, last)}" if found.near else ""
        text = (
            f"`{shown}` — the repository has no module `{found.missing}`"
            f"{did_you_mean(last, found.near)}{near}"
        )
        self.report("unresolved_import", node, text, found.missing)

    def _missing_name(self, node: ast.AST, shown: str, module: str, name: str) -> None:
        m = self.index.modules[module]
        defined = m.defined() + self.index.children(self.index.folder_of(module))
        listing = (
            f"; it defines: {name_listing(defined, name)}" if defined else "; it defines nothing"
        )
        label = module.removesuffix("/__init__.py") + (
            "/" if module.endswith("__init__.py") else ""
        )
        text = f"`{shown}` — {label} has no `{name}`{did_you_mean(name, defined)}{listing}"
        target = Target(file=module, symbol=name)
        self.report("missing_name", node, text, f"{module}:{name}", target)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or node.attr.startswith("__"):
            return
        if node.attr in self.index.attr_names or self._guarded(_ATTRIBUTE_GUARDS):
            return
        base = self.ctx().resolve(node.value)
        if base is None or base.kind != "module":
            return
        self.checked["names"] += 1
        if self.index.has_name(base.module, node.attr) is False:
            shown = one_line(self.module.lines, node)
            self._missing_name(node, shown, base.module, node.attr)

    # ------------------------------------------------------------------ calls
    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        ent = self.ctx().resolve(node.func)
        if ent is None:
            return
        callee = callee_of(self.index, ent)
        if callee is None:
            return
        self.checked["calls"] += 1
        problems = call_problems(callee.sig, node)
        if not problems:
            return
        where = callee.target.file
        text = (
            f"`{one_line(self.module.lines, node)}` — {callee.display}() in {where} "
            f"{'; '.join(problems)}; it accepts {callee.sig.render()}"
        )
        key = f"{where}:{callee.display}|{'; '.join(problems)}"
        self.report("bad_call", node, text, key, callee.target)
