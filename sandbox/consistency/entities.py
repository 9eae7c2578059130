"""What a name or an expression stands for at one point of a module (:class:`Ctx`, over the
enclosing scopes, :class:`Scope`): a repository module, class or function — a method with how it
binds — or an instance of an obvious class; and the lookup of a method up a chain of
repository classes (:func:`lookup_method`)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.consistency.astutil import all_args, bound_names, header_nodes
from sandbox.consistency.index import Binding, Index, Module, qualname


@dataclass(frozen=True)
class Ent:
    """What an expression names: a module, a class, a function (with how it binds), an object."""

    kind: Literal["module", "class", "func", "instance"]
    module: str
    node: Any = None
    """ClassDef for classes and instances, FunctionDef for functions."""
    owner: Any = None
    """For methods: the ClassDef the method was found in."""
    drop_first: bool = False
    """The first parameter is bound (``self`` of a bound method, ``cls`` of a classmethod)."""
    via_self: bool = False
    """An instance known only as ``self`` (a subclass may override what is called on it)."""


_SPECIAL_BASES = re.compile(r"(Enum|Flag|NamedTuple|TypedDict|Protocol)$")
OBJECT_BASES = {"object", "ABC", "abc.ABC", "Generic", "typing.Generic"}
_TRANSPARENT_DECORATORS = {
    "abc.abstractmethod",
    "functools.cache",
    "functools.lru_cache",
    "torch.no_grad",
    "torch.inference_mode",
    "torch.enable_grad",
    "typing.final",
    "typing.override",
    "typing_extensions.override",
}
_DATACLASS = {"dataclasses.dataclass"}
_TORCH_MODULES = {"torch.nn.Module", "torch.nn.modules.module.Module"}
_FIELD = {"dataclasses.field"}


class Scope:
    """The names one function (or class body, lambda, comprehension) binds."""

    def __init__(self, names: set[str], *, is_class: bool = False) -> None:
        self.names = names
        self.is_class = is_class
        self.instances: dict[str, ast.expr] = {}
        """Names assigned exactly once, from a call: ``trainer = Trainer(...)`` → the callee."""
        self.self_name: str | None = None
        self.self_class: Ent | None = None
        self.stores: Counter[str] = Counter()
        """How often each name is assigned in the scope (parameters not counted)."""


def function_scope(m: Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Scope:
    params = set(all_args(node.args))
    stores = m.stores(node.body)
    single: dict[str, ast.expr] = {}
    declared: set[str] = set()
    for inner in m.nodes(node.body):
        if isinstance(inner, ast.Global | ast.Nonlocal):
            declared.update(inner.names)
        if (
            isinstance(inner, ast.Assign)
            and len(inner.targets) == 1
            and isinstance(inner.targets[0], ast.Name)
            and isinstance(inner.value, ast.Call)
        ):
            single[inner.targets[0].id] = inner.value.func
    scope = Scope((params | set(stores)) - declared)
    scope.stores = stores
    scope.instances = {
        n: f for n, f in single.items() if stores[n] == 1 and n not in params and n not in declared
    }
    return scope


class Ctx:
    """Name resolution at one point of a module: its enclosing scopes, then module level."""

    def __init__(self, index: Index, module: Module, scopes: list[Scope]) -> None:
        self.index = index
        self.module = module
        self.scopes = scopes

    def local(self, name: str) -> tuple[Scope, int] | None:
        """The innermost enclosing scope binding ``name`` (class bodies only when innermost)."""
        for i in range(len(self.scopes) - 1, -1, -1):
            scope = self.scopes[i]
            if scope.is_class and i != len(self.scopes) - 1:
                continue
            if name in scope.names:
                return scope, i
        return None

    def resolve(self, expr: ast.AST, depth: int = 0) -> Ent | None:
        if depth > 8:
            return None
        if isinstance(expr, ast.Name):
            found = self.local(expr.id)
            if found is None:
                return symbol(self.index, self.module.path, expr.id, depth + 1)
            scope, i = found
            if expr.id == scope.self_name:
                return scope.self_class
            callee = scope.instances.get(expr.id)
            if callee is None:
                return None
            made = Ctx(self.index, self.module, self.scopes[: i + 1]).resolve(callee, depth + 1)
            return (
                Ent("instance", made.module, made.node) if made and made.kind == "class" else None
            )
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value, depth + 1)
            return _attribute(self.index, base, expr.attr) if base else None
        if isinstance(expr, ast.Call):  # Trainer(model).fit(...)
            made = self.resolve(expr.func, depth + 1)
            return (
                Ent("instance", made.module, made.node) if made and made.kind == "class" else None
            )
        return None


def symbol(index: Index, module: str, name: str, depth: int = 0) -> Ent | None:
    """What ``module.name`` is, when it is one unambiguous definition of the repository."""
    m = index.modules.get(module)
    if m is None or depth > 8:
        return None
    bindings = m.bindings.get(name, [])
    if len(bindings) > 1 or (m.open and not bindings):
        return None
    if bindings:
        return _from_binding(index, m, bindings[0], depth)
    sub = index.child(index.folder_of(module), name)
    return Ent("module", sub) if sub else None


def _from_binding(index: Index, m: Module, b: Binding, depth: int) -> Ent | None:
    if b.kind == "def":
        return Ent("func", m.path, b.node)
    if b.kind == "class":
        return Ent("class", m.path, b.node)
    if b.kind == "import":
        if b.module is None:
            return None
        if b.name is None:
            return Ent("module", b.module)
        return symbol(index, b.module, b.name, depth + 1)
    node = b.node
    if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
        ctx = Ctx(index, m, [])
        made = ctx.resolve(node.value.func, depth + 1)
        if made is not None and made.kind == "class":
            return Ent("instance", made.module, made.node)
    return None


def _attribute(index: Index, base: Ent, attr: str) -> Ent | None:
    if base.kind == "module":
        return symbol(index, base.module, attr)
    if base.kind not in ("class", "instance"):
        return None
    if base.kind == "instance" and attr in index.attr_names:
        return None  # assigned on some object: may be an instance attribute, not the method
    found = lookup_method(index, base.module, base.node, attr, instance=base.kind == "instance")
    if not isinstance(found, tuple):
        return None
    module, owner, fdef = found
    kind = def_kind(index.modules[module], fdef)
    if kind is None:
        return None
    if base.via_self and attr in index.overridden(base.node):
        return None
    drop = kind == "classmethod" or (kind == "plain" and base.kind == "instance")
    return Ent("func", module, fdef, owner, drop_first=drop)


ABSENT = "absent"


def lookup_method(
    index: Index, module: str, cls: ast.ClassDef, name: str, *, instance: bool, depth: int = 0
) -> tuple[str, ast.ClassDef, ast.FunctionDef] | str | None:
    """The definition of ``name`` for class ``cls``: in its body or up a chain of repository
    classes with one base each; ``ABSENT`` when surely not defined (the chain ends at
    ``object``); None when unknown (an outside base, several bases, a decorator, a metaclass)."""
    key = (id(cls), name, instance)
    if key not in index.methods:
        index.methods[key] = _find_method(index, module, cls, name, instance=instance, depth=depth)
    return index.methods[key]


def _find_method(
    index: Index, module: str, cls: ast.ClassDef, name: str, *, instance: bool, depth: int
) -> tuple[str, ast.ClassDef, ast.FunctionDef] | str | None:
    if depth > 8 or cls.keywords or _has_special_base(cls):
        return None
    defs = [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    named = [d for d in defs if d.name == name]
    other = any(
        name in bound_names(n)
        for stmt in cls.body
        if not isinstance(stmt, ast.FunctionDef)
        for n in header_nodes(stmt)
    )
    if len(named) == 1 and not other:
        return module, cls, named[0]
    if named or other or cls.decorator_list:
        return None
    if instance and any(d.name in ("__getattr__", "__getattribute__") for d in defs):
        return None
    bases = [b for b in cls.bases if ast.unparse(b).split("[")[0] not in OBJECT_BASES]
    if not bases:
        return ABSENT
    if len(bases) != 1:
        return None
    base = Ctx(index, index.modules[module], []).resolve(bases[0])
    if base is None or base.kind != "class":
        return None
    return lookup_method(index, base.module, base.node, name, instance=instance, depth=depth + 1)


def _has_special_base(cls: ast.ClassDef) -> bool:
    return any(_SPECIAL_BASES.search(ast.unparse(b).split("[")[0]) for b in cls.bases)


def def_kind(m: Module, fdef: ast.FunctionDef) -> str | None:
    """``plain``, ``staticmethod`` or ``classmethod``; None when a decorator may change the
    signature (properties, overloads, anything unknown)."""
    kind = "plain"
    for dec in fdef.decorator_list:
        name = qualname(m, dec)
        if name in ("staticmethod", "classmethod"):
            kind = name
        elif name not in _TRANSPARENT_DECORATORS:
            return None
    return kind
