"""Signatures as data (:class:`Sig`, read from a ``def``'s arguments, with ``self`` bound or
not) and what is wrong with a call against one (:func:`call_problems`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from sandbox.consistency.wording import did_you_mean, plural


@dataclass(frozen=True)
class Param:
    name: str
    default: str | None = None
    """The default as written (shortened), None for a required parameter."""


@dataclass(frozen=True)
class Sig:
    positional: tuple[Param, ...] = ()
    posonly: int = 0
    """How many of ``positional`` are positional-only."""
    vararg: str | None = None
    kwonly: tuple[Param, ...] = ()
    kwarg: str | None = None

    @classmethod
    def of(cls, args: ast.arguments) -> Sig:
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults += list(args.defaults)
        return cls(
            positional=tuple(
                Param(a.arg, _short(d)) for a, d in zip(positional, defaults, strict=True)
            ),
            posonly=len(args.posonlyargs),
            vararg=args.vararg.arg if args.vararg else None,
            kwonly=tuple(
                Param(a.arg, _short(d))
                for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
            ),
            kwarg=args.kwarg.arg if args.kwarg else None,
        )

    def bound(self) -> Sig | None:
        """The signature with its first parameter taken by ``self``/``cls``."""
        if self.positional:
            rest = self.positional[1:]
            return Sig(rest, max(0, self.posonly - 1), self.vararg, self.kwonly, self.kwarg)
        return self if self.vararg else None

    def render(self) -> str:
        parts = [p.name if p.default is None else f"{p.name}={p.default}" for p in self.positional]
        if self.posonly:
            parts.insert(self.posonly, "/")
        if self.vararg:
            parts.append(f"*{self.vararg}")
        elif self.kwonly:
            parts.append("*")
        parts += [p.name if p.default is None else f"{p.name}={p.default}" for p in self.kwonly]
        if self.kwarg:
            parts.append(f"**{self.kwarg}")
        return f"({', '.join(parts)})"


def _short(node: ast.AST | None) -> str | None:
    if node is None:
        return None
    text = ast.unparse(node)
    return text if len(text) <= 16 else "…"


def call_problems(sig: Sig, call: ast.Call) -> list[str]:
    """What is wrong with ``call`` against ``sig`` (empty when it fits or when unsure)."""
    star_args = any(isinstance(a, ast.Starred) for a in call.args)
    star_kwargs = any(k.arg is None for k in call.keywords)
    n_pos = sum(not isinstance(a, ast.Starred) for a in call.args)
    keywords = [k.arg for k in call.keywords if k.arg is not None]
    problems = []
    if not star_args and sig.vararg is None and n_pos > len(sig.positional):
        problems.append(
            f"takes {plural(len(sig.positional), 'positional argument')} but {n_pos} "
            f"{'was' if n_pos == 1 else 'were'} given"
        )
    named = {p.name for p in sig.positional[sig.posonly :]} | {p.name for p in sig.kwonly}
    posonly = {p.name for p in sig.positional[: sig.posonly]}
    filled = {p.name for p in sig.positional[:n_pos]} if not star_args else set()
    for kw in keywords:
        if sig.kwarg is not None and kw not in named:
            continue
        if kw in posonly:
            problems.append(f"parameter '{kw}' is positional-only")
        elif kw not in named:
            problems.append(f"has no parameter '{kw}'{did_you_mean(kw, named)}")
        elif kw in filled:
            problems.append(f"got multiple values for '{kw}' (positional and keyword)")
    if not star_args and not star_kwargs:
        required = [p.name for p in sig.positional[n_pos:] if p.default is None]
        required += [p.name for p in sig.kwonly if p.default is None]
        missing = [n for n in required if n not in keywords]
        if missing:
            names = ", ".join(f"'{n}'" for n in missing)
            problems.append(f"is missing required argument{'s' * (len(missing) > 1)} {names}")
    return problems
