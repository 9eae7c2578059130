"""What calling a repository entity accepts (:func:`callee_of`): a function's or method's
signature, a class's ``__init__`` or its dataclass fields, an instance's ``__call__`` or, for a
``torch.nn.Module``, its ``forward``; each with its definition, the other side of a finding."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from sandbox.consistency.astutil import str_const
from sandbox.consistency.entities import ABSENT, OBJECT_BASES, Ctx, Ent, def_kind, lookup_method
from sandbox.consistency.index import Index, Module, qualname
from sandbox.consistency.report import Target
from sandbox.consistency.signatures import Param, Sig

_DATACLASS = {"dataclasses.dataclass"}
_TORCH_MODULES = {"torch.nn.Module", "torch.nn.modules.module.Module"}
_FIELD = {"dataclasses.field"}


@dataclass(frozen=True)
class Callee:
    sig: Sig
    display: str
    """``train``, ``Trainer.fit``, ``Trainer`` (a constructor)."""
    target: Target


def callee_of(index: Index, ent: Ent) -> Callee | None:
    if ent.kind == "func":
        return _function_callee(index, ent)
    if ent.kind == "class":
        return _constructor(index, ent)
    if ent.kind == "instance" and not ent.via_self:
        return _instance_call(index, ent)
    return None


def _instance_call(index: Index, ent: Ent) -> Callee | None:
    """Calling an object of an obvious class: its ``__call__``, or for a ``torch.nn.Module``
    its ``forward`` (which ``Module.__call__`` passes every argument to)."""
    if {"__call__", "forward"} & index.attr_names:
        return None
    found = lookup_method(index, ent.module, ent.node, "__call__", instance=True)
    if found is None and _outside_base(index, ent.module, ent.node) in _TORCH_MODULES:
        found = lookup_method(index, ent.module, ent.node, "forward", instance=True)
    if not isinstance(found, tuple):
        return None
    module, owner, fdef = found
    return _function_callee(index, Ent("func", module, fdef, owner, drop_first=True))


def _outside_base(index: Index, module: str, cls: ast.ClassDef, depth: int = 0) -> str | None:
    """The qualified name of the outside class a chain of single-base repository classes
    derives from (``torch.nn.Module``); empty for ``object``, None when unclear."""
    bases = [b for b in cls.bases if ast.unparse(b).split("[")[0] not in OBJECT_BASES]
    if not bases or depth > 8:
        return "" if not bases else None
    if len(bases) != 1:
        return None
    base = Ctx(index, index.modules[module], []).resolve(bases[0])
    if base is None:
        return qualname(index.modules[module], bases[0])
    if base.kind != "class":
        return None
    return _outside_base(index, base.module, base.node, depth + 1)


def _function_callee(index: Index, ent: Ent) -> Callee | None:
    m = index.modules[ent.module]
    fdef = ent.node
    kind = def_kind(m, fdef)
    if kind is None:
        return None
    sig: Sig | None = Sig.of(fdef.args)
    if ent.drop_first:
        sig = sig.bound() if sig else None
    if sig is None:
        return None
    display = f"{ent.owner.name}.{fdef.name}" if ent.owner is not None else fdef.name
    return Callee(sig, display, _def_target(m, fdef, display))


def _def_target(m: Module, node: ast.FunctionDef | ast.ClassDef, symbol: str) -> Target:
    first = node.lineno
    body_start = node.body[0].lineno if node.body else node.lineno
    last = max(first, min(body_start - 1, first + 7))
    if isinstance(node, ast.ClassDef):
        last = first
    shown = "\n".join(f"  {n:>4} | {m.lines[n - 1]}" for n in range(first, last + 1))
    return Target(file=m.path, line=first, symbol=symbol, excerpt=shown)


def _constructor(index: Index, ent: Ent) -> Callee | None:
    m = index.modules[ent.module]
    cls: ast.ClassDef = ent.node
    if any(qualname(m, d) in _DATACLASS for d in cls.decorator_list):
        return _dataclass_callee(index, ent)
    if cls.decorator_list:
        return None  # a class decorator may replace the class or its __init__
    found = lookup_method(index, ent.module, cls, "__init__", instance=False)
    if found is None:
        return None
    new = lookup_method(index, ent.module, cls, "__new__", instance=False)
    if isinstance(new, tuple):
        return None
    if found == ABSENT:
        return Callee(Sig(), cls.name, _def_target(m, cls, cls.name))
    assert isinstance(found, tuple)
    init_module, owner, init = found
    sig = Sig.of(init.args).bound()
    if sig is None or def_kind(index.modules[init_module], init) != "plain":
        return None
    target = _def_target(index.modules[init_module], init, f"{owner.name}.__init__")
    return Callee(sig, cls.name, target)


def _dataclass_options(m: Module, cls: ast.ClassDef) -> dict[str, bool] | None:
    for dec in cls.decorator_list:
        if qualname(m, dec) in _DATACLASS:
            if not isinstance(dec, ast.Call):
                return {}
            options = {}
            for kw in dec.keywords:
                if kw.arg is None or not isinstance(kw.value, ast.Constant):
                    return None
                options[kw.arg] = bool(kw.value.value)
            return options
    return None


def _dataclass_fields(
    index: Index, module: str, cls: ast.ClassDef, depth: int = 0
) -> list[tuple[str, bool, bool]] | None:
    """``(name, has_default, keyword_only)`` of the dataclass ``cls``'s ``__init__``, base
    fields first; None when unsure (a base that is not a repository dataclass…)."""
    m = index.modules[module]
    options = _dataclass_options(m, cls)
    if options is None or depth > 8 or cls.keywords or len(cls.decorator_list) != 1:
        return None
    fields: dict[str, tuple[str, bool, bool]] = {}
    for base in cls.bases:
        if ast.unparse(base).split("[")[0] in OBJECT_BASES:
            continue
        ent = Ctx(index, m, []).resolve(base)
        inherited = _dataclass_fields(index, ent.module, ent.node, depth + 1) if ent else None
        if ent is None or ent.kind != "class" or inherited is None:
            return None
        fields.update({f[0]: f for f in inherited})
    kw_only = options.get("kw_only", False)
    for stmt in cls.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        annotation = _annotation_name(m, stmt.annotation)
        if annotation.endswith("ClassVar"):
            continue
        if annotation.endswith("KW_ONLY"):
            kw_only = True
            continue
        spec = _field_spec(index, m, stmt.value)
        if spec is None:
            return None
        init, has_default, field_kw = spec
        if init:
            name = stmt.target.id
            fields[name] = (name, has_default, kw_only if field_kw is None else field_kw)
    return list(fields.values())


def _annotation_name(m: Module, annotation: ast.expr) -> str:
    """``typing.ClassVar`` for ``ClassVar[int]``, ``"ClassVar[int]"``, ``t.ClassVar[int]``…"""
    text = str_const(annotation)
    if text is not None:
        return text.split("[")[0].strip()
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    return qualname(m, annotation)


def _field_spec(
    index: Index, m: Module, value: ast.expr | None
) -> tuple[bool, bool, bool | None] | None:
    """``(in __init__, has a default, keyword-only override)`` of one dataclass field."""
    if value is None:
        return True, False, None
    if not (isinstance(value, ast.Call) and qualname(m, value.func) in _FIELD):
        return True, True, None
    opts: dict[str, Any] = {}
    for kw in value.keywords:
        if kw.arg is None:
            return None
        opts[kw.arg] = kw.value.value if isinstance(kw.value, ast.Constant) else kw.value
    has_default = "default" in opts or "default_factory" in opts
    kw_only = opts.get("kw_only")
    return bool(opts.get("init", True)), has_default, None if kw_only is None else bool(kw_only)


def _dataclass_callee(index: Index, ent: Ent) -> Callee | None:
    m = index.modules[ent.module]
    cls: ast.ClassDef = ent.node
    options = _dataclass_options(m, cls)
    own_init = [s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"]
    if options is None or own_init or options.get("init") is False:
        return None  # an explicit or suppressed __init__: rare enough to skip
    fields = _dataclass_fields(index, ent.module, cls)
    if fields is None:
        return None
    positional = tuple(Param(n, "…" if d else None) for n, d, kw in fields if not kw)
    kwonly = tuple(Param(n, "…" if d else None) for n, d, kw in fields if kw)
    sig = Sig(positional=positional, kwonly=kwonly)
    return Callee(sig, cls.name, _def_target(m, cls, f"{cls.name} (dataclass fields)"))
