"""Static consistency check: does a generated repository hang together, without running it?

Four checks, no model and no execution:

- **imports**: every import of a repository module resolves to a module of the repository
  (root, packages, ``src/`` layout, relative imports), and every name imported from one
  (``from model import Transformer``, ``model.Transformer``) is defined at its top level, is
  re-exported there, or is a submodule;
- **calls**: calls whose callee resolves to a function, method or class of the repository
  (through imports, ``module.func``, ``Class.method``, ``Class(...)`` → ``__init__`` or the
  fields of a dataclass, and instances whose class is obvious: ``x = Class(...)`` once in the
  scope, ``self`` in a method) pass arguments the signature accepts;
- **config keys**: keys read from the configuration (``config["optim"]["lr"]``,
  ``cfg.get("lr")``, through aliases such as ``opt = config["optim"]`` and ``self.cfg``) exist
  in ``config.yaml`` outside its ``smoke:`` overrides. A variable assigned from a loader
  (``yaml.safe_load``, ``load_config``…) is the whole config; a parameter named ``config``,
  ``cfg``, ``conf``, ``params`` or ``hparams`` may be any section of it, so its key path must
  exist under some section, and is judged only when another read through it does resolve.
  Reads with a default, and keys the code sets, tests with ``in`` or ``setdefault``s anywhere,
  are never reported;
- **lint**: ruff's serious diagnostics (syntax errors, undefined names; see
  :func:`sandbox.localize.is_serious`).

Every finding is written for a model: where, what is wrong, and the other side (the definition,
the config section) so a fixer sees both places. The check never reports when unsure: a false
positive costs a model call. Third-party and standard-library imports are not checked; nor are
names behind star imports or a module ``__getattr__``, decorated callables (except a known
signature-preserving few), classes with a metaclass, Enum, NamedTuple, TypedDict or Protocol
bases, and calls on objects of unknown type.

:func:`check_sources` is the pure core (file texts in, findings out); :func:`check_repository`
reads a repository and runs ruff.
"""

from __future__ import annotations

import ast
import difflib
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from sandbox.localize import excerpt as numbered_excerpt
from sandbox.localize import is_serious, ruff_diagnostics
from sandbox.tree import iter_text_files, scan

__all__ = [
    "FINDING_KINDS",
    "ConsistencyReport",
    "Finding",
    "FindingKind",
    "ReportDelta",
    "Target",
    "check_repository",
    "check_sources",
    "compare_reports",
]

FindingKind = Literal["unresolved_import", "missing_name", "bad_call", "unknown_config_key", "lint"]
FINDING_KINDS: tuple[FindingKind, ...] = (
    "unresolved_import",
    "missing_name",
    "bad_call",
    "unknown_config_key",
    "lint",
)

CONFIG_NAMES = frozenset({"config", "cfg", "conf", "params", "hparams"})
"""Variable names taken to hold the configuration (or one of its sections) when they are
parameters, besides variables assigned from a config loader."""

MAX_FILE_BYTES = 1_000_000
"""Python files larger than this are not analysed."""

EXCERPT_CONTEXT = 2
_COMPILED = (".so", ".pyd")


# ----------------------------------------------------------------------------- models


class Target(BaseModel):
    """The other side of a finding: the definition a call or import refers to, or the config
    section a key was looked up in."""

    model_config = ConfigDict(extra="forbid")

    file: str
    """Repository-relative path (``trainer.py``, ``config.yaml``)."""
    line: int | None = None
    """1-based line of the definition or section; None when there is none (a missing module)."""
    symbol: str = ""
    """``train``, ``Trainer.fit``, ``optim`` (a config section), or empty for a whole file."""
    excerpt: str = ""
    """The definition's signature or the section's lines, numbered."""

    def __str__(self) -> str:
        return f"{self.file}:{self.symbol}" if self.symbol else self.file


class Finding(BaseModel):
    """One inconsistency, written so a model can fix it."""

    model_config = ConfigDict(extra="forbid")

    kind: FindingKind
    file: str
    """Repository-relative path of the file with the problem."""
    line: int
    """1-based line of the problem."""
    message: str
    """``file:line: what is wrong, and what the other side offers``."""
    excerpt: str = ""
    """Numbered lines around ``line``, the line itself marked with ``>``."""
    target: Target | None = None
    key: str = ""
    """What is wrong, independent of line numbers (kind, file, subject): reports before and
    after a fix are compared by it (:func:`compare_reports`)."""


class ConsistencyReport(BaseModel):
    """What :func:`check_repository` found; written as JSON into the run directory."""

    model_config = ConfigDict(extra="forbid")

    findings: list[Finding] = []
    files: int = 0
    """Python files analysed."""
    lines: int = 0
    """Lines of those files."""
    config: str | None = None
    """The config file keys were checked against, or None when there was none to read."""
    lint: bool = False
    """True when ruff ran."""
    checked: dict[str, int] = {}
    """How much was checked: ``imports`` (of repository modules), ``names`` (imported or used as
    ``module.name``), ``calls`` (resolved to a repository signature), ``config_reads``."""
    seconds: float = 0.0
    """Time of the static analysis (without ruff)."""
    lint_seconds: float = 0.0
    notes: list[str] = []
    """What was not checked, and why (no config.yaml, ruff not installed…)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def counts(self) -> dict[str, int]:
        """Findings per kind (kinds with none left out)."""
        counter = Counter(f.kind for f in self.findings)
        return {k: counter[k] for k in FINDING_KINDS if counter[k]}

    def by_file(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = defaultdict(list)
        for f in self.findings:
            out[f.file].append(f)
        return dict(out)

    def summary(self) -> str:
        """``3 findings (2 bad_call, 1 lint) in 30 files`` — one line for logs and reports."""
        counts = self.counts()
        detail = ", ".join(f"{n} {k}" for k, n in counts.items())
        total = len(self.findings)
        head = f"{total} finding{'s' * (total != 1)}"
        return f"{head}{f' ({detail})' if detail else ''} in {self.files} files"


class ReportDelta(BaseModel):
    """How a report after a reconciliation round compares with the one before it."""

    model_config = ConfigDict(extra="forbid")

    fixed: list[Finding] = []
    remaining: list[Finding] = []
    new: list[Finding] = []


def compare_reports(before: ConsistencyReport, after: ConsistencyReport) -> ReportDelta:
    """Findings of ``before`` gone in ``after`` (fixed), still there, and new ones; findings are
    matched by ``key``, so line shifts from the edits do not matter."""
    left = Counter(f.key for f in after.findings)
    fixed, remaining = [], []
    for f in before.findings:
        if left[f.key] > 0:
            left[f.key] -= 1
            remaining.append(f)
        else:
            fixed.append(f)
    seen = Counter(f.key for f in before.findings)
    new = []
    for f in after.findings:
        if seen[f.key] > 0:
            seen[f.key] -= 1
        else:
            new.append(f)
    return ReportDelta(fixed=fixed, remaining=remaining, new=new)


# ----------------------------------------------------------------------------- entry points


def check_repository(
    repo: Path, *, config: str = "config.yaml", lint: bool = True
) -> ConsistencyReport:
    """Check the repository at ``repo``: imports, calls and config keys statically, plus ruff's
    serious diagnostics when ``lint`` (and ruff is installed). ``config`` is the config file,
    relative to ``repo``; keys are not checked when it is absent."""
    repo = Path(repo)
    sources = dict(iter_text_files(repo, suffixes=frozenset({".py"}), max_bytes=MAX_FILE_BYTES))
    entries = scan(repo)[0]
    layout = [e.rel + "/" if e.kind == "dir" else e.rel for e in entries if e.kind != "link"]
    config_text = None
    config_path = repo / config
    if config_path.is_file() and not config_path.is_symlink():
        config_text = config_path.read_text(encoding="utf-8", errors="replace")
    report = check_sources(sources, config_yaml=config_text, config_name=config, layout=layout)
    if lint:
        started = time.perf_counter()
        lint_findings = _lint(repo, sources, {f.file for f in report.findings if _syntax(f)})
        report.lint_seconds = round(time.perf_counter() - started, 4)
        if lint_findings is None:
            report.notes.append("ruff is not installed: lint not checked")
        else:
            report.lint = True
            report.findings = _sorted([*report.findings, *lint_findings])
    return report


def check_sources(
    sources: Mapping[str, str],
    *,
    config_yaml: str | None = None,
    config_name: str = "config.yaml",
    layout: Iterable[str] = (),
) -> ConsistencyReport:
    """The static checks over ``{repository-relative path: text}`` of the repository's Python
    files and the text of its config file (None: keys are not checked). ``layout`` may list the
    repository's other paths, folders with a trailing ``/``: folders can be imported as
    namespace packages, and extension modules (``pkg/_ops.cpython-311-x86_64-linux-gnu.so``)
    exist though their names are unknown. Pure: nothing is read or run. Files that do not
    parse are reported as ``lint`` findings and otherwise skipped."""
    started = time.perf_counter()
    py = {p: t for p, t in sources.items() if p.endswith(".py")}
    index = _Index(py, layout)
    findings: list[Finding] = list(index.syntax_errors)
    notes: list[str] = []
    tree = _ConfigTree.parse(config_yaml, config_name) if config_yaml is not None else None
    if config_yaml is None:
        notes.append(f"{config_name} not found: config keys not checked")
    elif tree is None:
        notes.append(f"{config_name} is not a YAML mapping: config keys not checked")
    checked: Counter[str] = Counter()
    config_checkers = []
    for module in index.parsed():
        checker = _FileChecker(index, module)
        findings += checker.run()
        checked.update(checker.checked)
        if tree is not None:
            config_checkers.append(_ConfigChecker(module, tree).collect())
    known = {key for c in config_checkers for key in c.known}  # keys set anywhere count
    for config_checker in config_checkers:
        findings += config_checker.findings(known)
        checked["config_reads"] += len(config_checker.reads)
    return ConsistencyReport(
        findings=_sorted(_dedupe(findings)),
        files=len(py),
        lines=sum(t.count("\n") + 1 for t in py.values()),
        config=config_name if tree is not None else None,
        checked={k: checked[k] for k in ("imports", "names", "calls", "config_reads")},
        seconds=round(time.perf_counter() - started, 4),
        notes=notes,
    )


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file, f.line, FINDING_KINDS.index(f.kind)))


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for f in findings:
        if (f.key, f.line, f.message) not in seen:
            seen.add((f.key, f.line, f.message))
            out.append(f)
    return out


def _syntax(f: Finding) -> bool:
    return f.kind == "lint" and "SyntaxError" in f.message


def _lint(repo: Path, sources: Mapping[str, str], parsed_badly: set[str]) -> list[Finding] | None:
    """ruff's serious diagnostics as findings, one per file and message with the other lines
    listed (None when ruff is missing); syntax errors of files the parser already reported are
    left out."""
    suspects = ruff_diagnostics(repo)
    if not suspects and not _ruff_installed():
        return None
    groups: dict[tuple[str, str], list[int]] = {}
    for s in suspects:
        if is_serious(s) and s.file not in parsed_badly and s.file in sources:
            lines = groups.setdefault((s.file, s.message), [])
            if s.line not in lines:
                lines.append(s.line)
    out = []
    for (path, message), lines in groups.items():
        also = f" (also at line{'s' * (len(lines) > 2)} {', '.join(map(str, lines[1:]))})"
        out.append(
            Finding(
                kind="lint",
                file=path,
                line=lines[0],
                message=f"{path}:{lines[0]}: {message}{also if len(lines) > 1 else ''}",
                excerpt=_excerpt(sources[path].splitlines(), lines[0]),
                key=f"lint|{path}|{message}",
            )
        )
    return out


def _ruff_installed() -> bool:
    from sandbox.localize import _ruff_executable

    return _ruff_executable() is not None


# ----------------------------------------------------------------------------- small helpers


def _excerpt(lines: list[str], line: int, context: int = EXCERPT_CONTEXT) -> str:
    return numbered_excerpt(lines, line, context)


def _dotted(expr: ast.AST) -> list[str] | None:
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


def _str_const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _source(text_lines: list[str], node: ast.AST, limit: int = 90) -> str:
    """The source of ``node`` on one line, shortened."""
    segment = ast.get_source_segment("\n".join(text_lines), node) or ""
    segment = re.sub(r"\s+", " ", segment).strip()
    return segment if len(segment) <= limit else segment[: limit - 1] + "…"


def _closest(word: str, options: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, sorted(set(options)), n=n, cutoff=0.6)


def _listing(names: Iterable[str], word: str, limit: int = 15) -> str:
    """Names, closest to ``word`` first, at most ``limit``."""
    names = sorted(set(names))
    close = _closest(word, names)
    ordered = close + [n for n in names if n not in close]
    shown = ", ".join(ordered[:limit])
    return shown + (f", … ({len(ordered) - limit} more)" if len(ordered) > limit else "")


def _did_you_mean(word: str, names: Iterable[str]) -> str:
    close = _closest(word, names, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _walk_scope(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
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


def _bound_names(node: ast.AST) -> Iterator[str]:
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


def _all_args(args: ast.arguments) -> list[str]:
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return names


# ----------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class _Param:
    name: str
    default: str | None = None
    """The default as written (shortened), None for a required parameter."""


@dataclass(frozen=True)
class _Sig:
    positional: tuple[_Param, ...] = ()
    posonly: int = 0
    """How many of ``positional`` are positional-only."""
    vararg: str | None = None
    kwonly: tuple[_Param, ...] = ()
    kwarg: str | None = None

    @classmethod
    def of(cls, args: ast.arguments) -> _Sig:
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults += list(args.defaults)
        return cls(
            positional=tuple(
                _Param(a.arg, _short(d)) for a, d in zip(positional, defaults, strict=True)
            ),
            posonly=len(args.posonlyargs),
            vararg=args.vararg.arg if args.vararg else None,
            kwonly=tuple(
                _Param(a.arg, _short(d))
                for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
            ),
            kwarg=args.kwarg.arg if args.kwarg else None,
        )

    def bound(self) -> _Sig | None:
        """The signature with its first parameter taken by ``self``/``cls``."""
        if self.positional:
            rest = self.positional[1:]
            return _Sig(rest, max(0, self.posonly - 1), self.vararg, self.kwonly, self.kwarg)
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _call_problems(sig: _Sig, call: ast.Call) -> list[str]:
    """What is wrong with ``call`` against ``sig`` (empty when it fits or when unsure)."""
    star_args = any(isinstance(a, ast.Starred) for a in call.args)
    star_kwargs = any(k.arg is None for k in call.keywords)
    n_pos = sum(not isinstance(a, ast.Starred) for a in call.args)
    keywords = [k.arg for k in call.keywords if k.arg is not None]
    problems = []
    if not star_args and sig.vararg is None and n_pos > len(sig.positional):
        problems.append(
            f"takes {_plural(len(sig.positional), 'positional argument')} but {n_pos} "
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
            problems.append(f"has no parameter '{kw}'{_did_you_mean(kw, named)}")
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


# ----------------------------------------------------------------------------- the module index


@dataclass
class _Binding:
    """One way a module-level name gets its value."""

    kind: Literal["def", "class", "import", "value"]
    node: ast.AST
    module: str | None = None
    """import: the repository module it names (an ``_Index`` key); None when external."""
    name: str | None = None
    """import: the name imported from the module; None when the module itself is bound."""
    source: str = ""
    """import: the dotted name as written (``torch.nn``, ``dataclasses.dataclass``)."""


@dataclass
class _Module:
    path: str
    """``pkg/mod.py``, ``pkg/__init__.py``, or ``pkg/`` for a namespace package."""
    tree: ast.Module | None = None
    lines: list[str] = field(default_factory=list)
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    """Names listed in ``__all__``."""
    open: bool = False
    """Its names cannot be listed: star import, module ``__getattr__``, ``globals()``…"""
    scope_nodes: dict[int, list[ast.AST]] = field(default_factory=dict)
    scope_stores: dict[int, Counter[str]] = field(default_factory=dict)

    def defined(self) -> list[str]:
        """Public top-level names, for messages."""
        return [n for n in (*self.bindings, *self.exported) if not n.startswith("_")]

    def bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def nodes(self, body: list[ast.stmt] | list[ast.expr]) -> list[ast.AST]:
        """:func:`_walk_scope` of a body of this module's tree, computed once."""
        key = id(body)
        if key not in self.scope_nodes:
            self.scope_nodes[key] = list(_walk_scope(body))
        return self.scope_nodes[key]

    def stores(self, body: list[ast.stmt]) -> Counter[str]:
        """How often each name is bound in the scope of ``body``, computed once."""
        key = id(body)
        if key not in self.scope_stores:
            self.scope_stores[key] = Counter(
                n for node in self.nodes(body) for n in _bound_names(node)
            )
        return self.scope_stores[key]


@dataclass(frozen=True)
class _Resolved:
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


class _Index:
    """Every Python module of the repository with its top-level names, and import resolution."""

    def __init__(self, sources: Mapping[str, str], layout: Iterable[str] = ()) -> None:
        self.modules: dict[str, _Module] = {}
        self.syntax_errors: list[Finding] = []
        for path in sorted(sources):
            self._parse(path, sources[path])
        for path in layout:
            if path.endswith(_COMPILED):  # an extension module: its names are unknown
                folder, _, name = path.rpartition("/")
                key = f"{folder}/{name.split('.')[0]}.py".lstrip("/")
                self.modules.setdefault(key, _Module(key, open=True))
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
        """Cache of :func:`_method` lookups."""
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
                    excerpt=_excerpt(lines, line),
                    key=f"lint|{path}|SyntaxError",
                )
            )
            tree = None
        module = _Module(path, tree, lines)
        module.open = tree is None or bool(_OPEN_MARKERS.search(text))
        self.modules[path] = module

    def _add_namespaces(self, path: str) -> None:
        parts = PurePosixPath(path).parts[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i]) + "/"
            if folder + "__init__.py" not in self.modules and folder not in self.modules:
                self.modules[folder] = _Module(folder)

    def parsed(self) -> list[_Module]:
        return [m for m in self.modules.values() if m.tree is not None]

    def _survey(self, m: _Module) -> None:
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
                    self.subclasses[(_dotted(base) or [""])[-1]].append((node.name, methods))
            elif isinstance(node, ast.Global):
                for name in node.names:
                    m.bind(name, _Binding("value", node))

    def _survey_call(self, m: _Module, node: ast.Call) -> None:
        """Attribute names a call may set; a module whose names are set by computed names
        (``setattr(module, name, …)``, ``__all__.append(name)``) is open."""
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"setattr", "hasattr", "getattr"}:
            name = _str_const(node.args[1]) if len(node.args) > 1 else None
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

    def resolve(self, importer: str, level: int, dotted: str | None) -> _Resolved:
        parts = dotted.split(".") if dotted else []
        if level:
            return self._relative(importer, level, parts)
        return self._absolute(importer, parts)

    def _absolute(self, importer: str, parts: list[str]) -> _Resolved:
        """An absolute import, from the repository root (and ``src/``), or from the importer's
        own folder as a script would see it (that folder only finds modules, never reports a
        miss, and not inside a regular package). A standard-library name is left alone even
        when a repository file shadows it; so is a miss below a top-level namespace package (a
        folder without ``__init__.py``): an installed package of that name would win."""
        if parts[0] in sys.stdlib_module_names:
            return _Resolved()
        here = str(PurePosixPath(importer).parent)
        script_root = "" if here == "." else here + "/"
        scripts = [script_root] if script_root + "__init__.py" not in self.modules else []
        found: list[str] = []
        misses: list[_Resolved] = []
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
            return _Resolved(module=found[0], others=tuple(dict.fromkeys(found[1:])))
        return misses[0] if misses else _Resolved()

    def _descend(self, module: str, parts: list[str], start: int, prefix: str) -> _Resolved:
        """Follow ``parts[start:]`` down from ``module``; ``prefix`` is the relative dots."""
        for i in range(start, len(parts)):
            folder = self.folder_of(module)
            nxt = self.child(folder, parts[i])
            if nxt is None:
                missing = prefix + ".".join(parts[: i + 1])
                return _Resolved(missing=missing, near=tuple(self.children(folder)))
            module = nxt
        return _Resolved(module=module)

    def _relative(self, importer: str, level: int, parts: list[str]) -> _Resolved:
        folder = PurePosixPath(importer).parent
        for _ in range(level - 1):
            if str(folder) == ".":
                return _Resolved()  # above the repository: not ours to judge
            folder = folder.parent
        base = "" if str(folder) == "." else f"{folder}/"
        if not base:
            return _Resolved()  # a relative import at the root: depends on how it is run
        package = base + "__init__.py" if base + "__init__.py" in self.modules else base
        if package not in self.modules:
            return _Resolved()
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

    def symbol(self, module: str, name: str, depth: int = 0) -> _Ent | None:
        """What ``module.name`` is, when it is one unambiguous definition of the repository."""
        m = self.modules.get(module)
        if m is None or depth > 8:
            return None
        bindings = m.bindings.get(name, [])
        if len(bindings) > 1 or (m.open and not bindings):
            return None
        if bindings:
            return self._from_binding(m, bindings[0], depth)
        sub = self.child(self.folder_of(module), name)
        return _Ent("module", sub) if sub else None

    def _from_binding(self, m: _Module, b: _Binding, depth: int) -> _Ent | None:
        if b.kind == "def":
            return _Ent("func", m.path, b.node)
        if b.kind == "class":
            return _Ent("class", m.path, b.node)
        if b.kind == "import":
            if b.module is None:
                return None
            if b.name is None:
                return _Ent("module", b.module)
            return self.symbol(b.module, b.name, depth + 1)
        node = b.node
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            ctx = _Ctx(self, m, [])
            made = ctx.resolve(node.value.func, depth + 1)
            if made is not None and made.kind == "class":
                return _Ent("instance", made.module, made.node)
        return None


def _qualname(m: _Module, expr: ast.AST) -> str:
    """The dotted name ``expr`` stands for, through the module's imports
    (``dc.dataclass`` with ``import dataclasses as dc`` → ``dataclasses.dataclass``)."""
    parts = _dotted(expr)
    if not parts:
        return ""
    bindings = m.bindings.get(parts[0], [])
    if len(bindings) == 1 and bindings[0].kind == "import":
        return ".".join([bindings[0].source, *parts[1:]])
    return ".".join(parts)


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
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
                    yield from _module_level([item])
                elif isinstance(item, ast.ExceptHandler | ast.match_case):
                    yield from _module_level(item.body)


def _header_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
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
                yield from _walk_scope([item])


def _collect_bindings(index: _Index, m: _Module) -> None:
    """Fill ``m.bindings`` and ``m.exported`` from its module-level statements."""
    assert m.tree is not None
    for stmt in _module_level(m.tree.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            m.bind(stmt.name, _Binding("def", stmt))
            m.open |= stmt.name == "__getattr__"
        elif isinstance(stmt, ast.ClassDef):
            m.bind(stmt.name, _Binding("class", stmt))
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                _bind_import(index, m, stmt, alias)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                _bind_from(index, m, stmt, alias)
        else:
            for node in _header_nodes(stmt):
                for name in _bound_names(node):
                    m.bind(name, _Binding("value", stmt))
            m.exported |= _all_names(stmt)


def _bind_import(index: _Index, m: _Module, stmt: ast.Import, alias: ast.alias) -> None:
    name = alias.name if alias.asname else alias.name.split(".")[0]
    found = index.resolve(m.path, 0, name)
    module = None if found.others else found.module
    m.bind(alias.asname or name, _Binding("import", stmt, module, None, name))


def _bind_from(index: _Index, m: _Module, stmt: ast.ImportFrom, alias: ast.alias) -> None:
    if alias.name == "*":
        m.open = True
        return
    found = index.resolve(m.path, stmt.level, stmt.module)
    source = "." * stmt.level + (stmt.module or "")
    qual = f"{source}.{alias.name}" if stmt.module else f"{source}{alias.name}"
    module = None if found.others else found.module
    m.bind(alias.asname or alias.name, _Binding("import", stmt, module, alias.name, qual))


def _all_names(stmt: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
        return set()
    value = getattr(stmt, "value", None)
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return {s for s in map(_str_const, value.elts) if s}
    return set()


# ----------------------------------------------------------------------------- entities and scopes


@dataclass(frozen=True)
class _Ent:
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
_OBJECT_BASES = {"object", "ABC", "abc.ABC", "Generic", "typing.Generic"}
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


class _Scope:
    """The names one function (or class body, lambda, comprehension) binds."""

    def __init__(self, names: set[str], *, is_class: bool = False) -> None:
        self.names = names
        self.is_class = is_class
        self.instances: dict[str, ast.expr] = {}
        """Names assigned exactly once, from a call: ``trainer = Trainer(...)`` → the callee."""
        self.self_name: str | None = None
        self.self_class: _Ent | None = None
        self.stores: Counter[str] = Counter()
        """How often each name is assigned in the scope (parameters not counted)."""


def _function_scope(m: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> _Scope:
    params = set(_all_args(node.args))
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
    scope = _Scope((params | set(stores)) - declared)
    scope.stores = stores
    scope.instances = {
        n: f for n, f in single.items() if stores[n] == 1 and n not in params and n not in declared
    }
    return scope


class _Ctx:
    """Name resolution at one point of a module: its enclosing scopes, then module level."""

    def __init__(self, index: _Index, module: _Module, scopes: list[_Scope]) -> None:
        self.index = index
        self.module = module
        self.scopes = scopes

    def local(self, name: str) -> tuple[_Scope, int] | None:
        """The innermost enclosing scope binding ``name`` (class bodies only when innermost)."""
        for i in range(len(self.scopes) - 1, -1, -1):
            scope = self.scopes[i]
            if scope.is_class and i != len(self.scopes) - 1:
                continue
            if name in scope.names:
                return scope, i
        return None

    def resolve(self, expr: ast.AST, depth: int = 0) -> _Ent | None:
        if depth > 8:
            return None
        if isinstance(expr, ast.Name):
            found = self.local(expr.id)
            if found is None:
                return self.index.symbol(self.module.path, expr.id, depth + 1)
            scope, i = found
            if expr.id == scope.self_name:
                return scope.self_class
            callee = scope.instances.get(expr.id)
            if callee is None:
                return None
            made = _Ctx(self.index, self.module, self.scopes[: i + 1]).resolve(callee, depth + 1)
            return (
                _Ent("instance", made.module, made.node) if made and made.kind == "class" else None
            )
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value, depth + 1)
            return _attribute(self.index, base, expr.attr) if base else None
        if isinstance(expr, ast.Call):  # Trainer(model).fit(...)
            made = self.resolve(expr.func, depth + 1)
            return (
                _Ent("instance", made.module, made.node) if made and made.kind == "class" else None
            )
        return None


def _attribute(index: _Index, base: _Ent, attr: str) -> _Ent | None:
    if base.kind == "module":
        return index.symbol(base.module, attr)
    if base.kind not in ("class", "instance"):
        return None
    if base.kind == "instance" and attr in index.attr_names:
        return None  # assigned on some object: may be an instance attribute, not the method
    found = _method(index, base.module, base.node, attr, instance=base.kind == "instance")
    if not isinstance(found, tuple):
        return None
    module, owner, fdef = found
    kind = _def_kind(index.modules[module], fdef)
    if kind is None:
        return None
    if base.via_self and attr in index.overridden(base.node):
        return None
    drop = kind == "classmethod" or (kind == "plain" and base.kind == "instance")
    return _Ent("func", module, fdef, owner, drop_first=drop)


_ABSENT = "absent"


def _method(
    index: _Index, module: str, cls: ast.ClassDef, name: str, *, instance: bool, depth: int = 0
) -> tuple[str, ast.ClassDef, ast.FunctionDef] | str | None:
    """The definition of ``name`` for class ``cls``: in its body or up a chain of repository
    classes with one base each; ``_ABSENT`` when surely not defined (the chain ends at
    ``object``); None when unknown (an outside base, several bases, a decorator, a metaclass)."""
    key = (id(cls), name, instance)
    if key not in index.methods:
        index.methods[key] = _find_method(index, module, cls, name, instance=instance, depth=depth)
    return index.methods[key]


def _find_method(
    index: _Index, module: str, cls: ast.ClassDef, name: str, *, instance: bool, depth: int
) -> tuple[str, ast.ClassDef, ast.FunctionDef] | str | None:
    if depth > 8 or cls.keywords or _has_special_base(cls):
        return None
    defs = [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    named = [d for d in defs if d.name == name]
    other = any(
        name in _bound_names(n)
        for stmt in cls.body
        if not isinstance(stmt, ast.FunctionDef)
        for n in _header_nodes(stmt)
    )
    if len(named) == 1 and not other:
        return module, cls, named[0]
    if named or other or cls.decorator_list:
        return None
    if instance and any(d.name in ("__getattr__", "__getattribute__") for d in defs):
        return None
    bases = [b for b in cls.bases if ast.unparse(b).split("[")[0] not in _OBJECT_BASES]
    if not bases:
        return _ABSENT
    if len(bases) != 1:
        return None
    base = _Ctx(index, index.modules[module], []).resolve(bases[0])
    if base is None or base.kind != "class":
        return None
    return _method(index, base.module, base.node, name, instance=instance, depth=depth + 1)


def _has_special_base(cls: ast.ClassDef) -> bool:
    return any(_SPECIAL_BASES.search(ast.unparse(b).split("[")[0]) for b in cls.bases)


def _def_kind(m: _Module, fdef: ast.FunctionDef) -> str | None:
    """``plain``, ``staticmethod`` or ``classmethod``; None when a decorator may change the
    signature (properties, overloads, anything unknown)."""
    kind = "plain"
    for dec in fdef.decorator_list:
        name = _qualname(m, dec)
        if name in ("staticmethod", "classmethod"):
            kind = name
        elif name not in _TRANSPARENT_DECORATORS:
            return None
    return kind


# ----------------------------------------------------------------------------- callables


@dataclass(frozen=True)
class _Callee:
    sig: _Sig
    display: str
    """``train``, ``Trainer.fit``, ``Trainer`` (a constructor)."""
    target: Target


def _callee(index: _Index, ent: _Ent) -> _Callee | None:
    if ent.kind == "func":
        return _function_callee(index, ent)
    if ent.kind == "class":
        return _constructor(index, ent)
    if ent.kind == "instance" and not ent.via_self:
        return _instance_call(index, ent)
    return None


def _instance_call(index: _Index, ent: _Ent) -> _Callee | None:
    """Calling an object of an obvious class: its ``__call__``, or for a ``torch.nn.Module``
    its ``forward`` (which ``Module.__call__`` passes every argument to)."""
    if {"__call__", "forward"} & index.attr_names:
        return None
    found = _method(index, ent.module, ent.node, "__call__", instance=True)
    if found is None and _outside_base(index, ent.module, ent.node) in _TORCH_MODULES:
        found = _method(index, ent.module, ent.node, "forward", instance=True)
    if not isinstance(found, tuple):
        return None
    module, owner, fdef = found
    return _function_callee(index, _Ent("func", module, fdef, owner, drop_first=True))


def _outside_base(index: _Index, module: str, cls: ast.ClassDef, depth: int = 0) -> str | None:
    """The qualified name of the outside class a chain of single-base repository classes
    derives from (``torch.nn.Module``); empty for ``object``, None when unclear."""
    bases = [b for b in cls.bases if ast.unparse(b).split("[")[0] not in _OBJECT_BASES]
    if not bases or depth > 8:
        return "" if not bases else None
    if len(bases) != 1:
        return None
    base = _Ctx(index, index.modules[module], []).resolve(bases[0])
    if base is None:
        return _qualname(index.modules[module], bases[0])
    if base.kind != "class":
        return None
    return _outside_base(index, base.module, base.node, depth + 1)


def _function_callee(index: _Index, ent: _Ent) -> _Callee | None:
    m = index.modules[ent.module]
    fdef = ent.node
    kind = _def_kind(m, fdef)
    if kind is None:
        return None
    sig: _Sig | None = _Sig.of(fdef.args)
    if ent.drop_first:
        sig = sig.bound() if sig else None
    if sig is None:
        return None
    display = f"{ent.owner.name}.{fdef.name}" if ent.owner is not None else fdef.name
    return _Callee(sig, display, _def_target(m, fdef, display))


def _def_target(m: _Module, node: ast.FunctionDef | ast.ClassDef, symbol: str) -> Target:
    first = node.lineno
    body_start = node.body[0].lineno if node.body else node.lineno
    last = max(first, min(body_start - 1, first + 7))
    if isinstance(node, ast.ClassDef):
        last = first
    shown = "\n".join(f"  {n:>4} | {m.lines[n - 1]}" for n in range(first, last + 1))
    return Target(file=m.path, line=first, symbol=symbol, excerpt=shown)


def _constructor(index: _Index, ent: _Ent) -> _Callee | None:
    m = index.modules[ent.module]
    cls: ast.ClassDef = ent.node
    if any(_qualname(m, d) in _DATACLASS for d in cls.decorator_list):
        return _dataclass_callee(index, ent)
    if cls.decorator_list:
        return None  # a class decorator may replace the class or its __init__
    found = _method(index, ent.module, cls, "__init__", instance=False)
    if found is None:
        return None
    new = _method(index, ent.module, cls, "__new__", instance=False)
    if isinstance(new, tuple):
        return None
    if found == _ABSENT:
        return _Callee(_Sig(), cls.name, _def_target(m, cls, cls.name))
    assert isinstance(found, tuple)
    init_module, owner, init = found
    sig = _Sig.of(init.args).bound()
    if sig is None or _def_kind(index.modules[init_module], init) != "plain":
        return None
    target = _def_target(index.modules[init_module], init, f"{owner.name}.__init__")
    return _Callee(sig, cls.name, target)


def _dataclass_options(m: _Module, cls: ast.ClassDef) -> dict[str, bool] | None:
    for dec in cls.decorator_list:
        if _qualname(m, dec) in _DATACLASS:
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
    index: _Index, module: str, cls: ast.ClassDef, depth: int = 0
) -> list[tuple[str, bool, bool]] | None:
    """``(name, has_default, keyword_only)`` of the dataclass ``cls``'s ``__init__``, base
    fields first; None when unsure (a base that is not a repository dataclass…)."""
    m = index.modules[module]
    options = _dataclass_options(m, cls)
    if options is None or depth > 8 or cls.keywords or len(cls.decorator_list) != 1:
        return None
    fields: dict[str, tuple[str, bool, bool]] = {}
    for base in cls.bases:
        if ast.unparse(base).split("[")[0] in _OBJECT_BASES:
            continue
        ent = _Ctx(index, m, []).resolve(base)
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


def _annotation_name(m: _Module, annotation: ast.expr) -> str:
    """``typing.ClassVar`` for ``ClassVar[int]``, ``"ClassVar[int]"``, ``t.ClassVar[int]``…"""
    text = _str_const(annotation)
    if text is not None:
        return text.split("[")[0].strip()
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    return _qualname(m, annotation)


def _field_spec(
    index: _Index, m: _Module, value: ast.expr | None
) -> tuple[bool, bool, bool | None] | None:
    """``(in __init__, has a default, keyword-only override)`` of one dataclass field."""
    if value is None:
        return True, False, None
    if not (isinstance(value, ast.Call) and _qualname(m, value.func) in _FIELD):
        return True, True, None
    opts: dict[str, Any] = {}
    for kw in value.keywords:
        if kw.arg is None:
            return None
        opts[kw.arg] = kw.value.value if isinstance(kw.value, ast.Constant) else kw.value
    has_default = "default" in opts or "default_factory" in opts
    kw_only = opts.get("kw_only")
    return bool(opts.get("init", True)), has_default, None if kw_only is None else bool(kw_only)


def _dataclass_callee(index: _Index, ent: _Ent) -> _Callee | None:
    m = index.modules[ent.module]
    cls: ast.ClassDef = ent.node
    options = _dataclass_options(m, cls)
    own_init = [s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"]
    if options is None or own_init or options.get("init") is False:
        return None  # an explicit or suppressed __init__: rare enough to skip
    fields = _dataclass_fields(index, ent.module, cls)
    if fields is None:
        return None
    positional = tuple(_Param(n, "…" if d else None) for n, d, kw in fields if not kw)
    kwonly = tuple(_Param(n, "…" if d else None) for n, d, kw in fields if kw)
    sig = _Sig(positional=positional, kwonly=kwonly)
    return _Callee(sig, cls.name, _def_target(m, cls, f"{cls.name} (dataclass fields)"))


# ----------------------------------------------------------------------------- imports and calls


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
        names.update((_dotted(t) or [""])[-1] for t in types)
    return names


class _FileChecker(ast.NodeVisitor):
    """Imports, module attributes and calls of one module."""

    def __init__(self, index: _Index, module: _Module) -> None:
        self.index = index
        self.module = module
        self.scopes: list[_Scope] = []
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
                excerpt=_excerpt(self.module.lines, line),
                target=target,
                key=f"{kind}|{path}|{key}",
            )
        )

    def ctx(self) -> _Ctx:
        return _Ctx(self.index, self.module, self.scopes)

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
        typing_only = (_dotted(node.test) or [""])[-1] == "TYPE_CHECKING"
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
        scope = _function_scope(self.module, node)
        enclosing = self.scopes[-1] if self.scopes else None
        if enclosing is not None and enclosing.is_class and enclosing.self_class is not None:
            self._bind_self(node, scope, enclosing.self_class)
        self.scopes.append(scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _bind_self(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope, cls: _Ent
    ) -> None:
        positional = [*node.args.posonlyargs, *node.args.args]
        if not positional or _def_kind(self.module, node) != "plain":  # type: ignore[arg-type]
            return
        first = positional[0].arg
        if not scope.stores[first]:
            scope.self_name = first
            scope.self_class = _Ent("instance", cls.module, cls.node, via_self=True)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for part in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(part)
        names = {n for stmt in node.body for h in _header_nodes(stmt) for n in _bound_names(h)}
        names |= {
            s.name
            for s in node.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        scope = _Scope(names, is_class=True)
        if not self.scopes:  # only top-level classes are looked up by name
            scope.self_class = _Ent("class", self.module.path, node)
        self.scopes.append(scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for d in node.args.defaults:
            self.visit(d)
        self.scopes.append(_Scope(set(_all_args(node.args))))
        self.visit(node.body)
        self.scopes.pop()

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        names = {n for g in node.generators for t in ast.walk(g.target) for n in _bound_names(t)}
        self.scopes.append(_Scope(names))
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

    def _unresolved(self, node: ast.AST, shown: str, found: _Resolved) -> None:
        assert found.missing is not None
        last = found.missing.rsplit(".", 1)[-1]
        near = f"; modules there: {_listing(found.near, last)}" if found.near else ""
        text = (
            f"`{shown}` — the repository has no module `{found.missing}`"
            f"{_did_you_mean(last, found.near)}{near}"
        )
        self.report("unresolved_import", node, text, found.missing)

    def _missing_name(self, node: ast.AST, shown: str, module: str, name: str) -> None:
        m = self.index.modules[module]
        defined = m.defined() + self.index.children(self.index.folder_of(module))
        listing = f"; it defines: {_listing(defined, name)}" if defined else "; it defines nothing"
        label = module.removesuffix("/__init__.py") + (
            "/" if module.endswith("__init__.py") else ""
        )
        text = f"`{shown}` — {label} has no `{name}`{_did_you_mean(name, defined)}{listing}"
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
            shown = _source(self.module.lines, node)
            self._missing_name(node, shown, base.module, node.attr)

    # ------------------------------------------------------------------ calls
    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        ent = self.ctx().resolve(node.func)
        if ent is None:
            return
        callee = _callee(self.index, ent)
        if callee is None:
            return
        self.checked["calls"] += 1
        problems = _call_problems(callee.sig, node)
        if not problems:
            return
        where = callee.target.file
        text = (
            f"`{_source(self.module.lines, node)}` — {callee.display}() in {where} "
            f"{'; '.join(problems)}; it accepts {callee.sig.render()}"
        )
        key = f"{where}:{callee.display}|{'; '.join(problems)}"
        self.report("bad_call", node, text, key, callee.target)


# ----------------------------------------------------------------------------- config keys


@dataclass
class _ConfigTree:
    """The config file: its data, every mapping outside ``smoke:``, and where sections are."""

    name: str
    data: dict[str, Any]
    lines: list[str]
    mappings: list[tuple[tuple[str, ...], dict[str, Any]]]
    spans: dict[tuple[str, ...], tuple[int, int]]

    @classmethod
    def parse(cls, text: str, name: str) -> _ConfigTree | None:
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
                return _MISSING
            node = node[key]
        return node

    def section(self, path: tuple[str, ...]) -> Target:
        first, last = self.spans.get(path, (1, len(self.lines)))
        last = min(last, first + 11)
        shown = "\n".join(f"  {n:>4} | {self.lines[n - 1]}" for n in range(first, last + 1))
        symbol = ".".join(path) or "(top level)"
        return Target(file=self.name, line=first, symbol=symbol, excerpt=shown)


_MISSING = object()


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


class _ConfigChecker:
    """Keys one module reads from the configuration, checked against the config file."""

    def __init__(self, module: _Module, config: _ConfigTree) -> None:
        self.module = module
        self.config = config
        self.reads: list[_Read] = []
        self.known: set[str] = set()
        """Keys the module tests (``"k" in cfg``), writes or ``setdefault``s: optional."""
        self.open: set[str] = set()
        """Origins the module ``update``s: any key may be there."""

    def collect(self) -> _ConfigChecker:
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
        params = _all_args(fn.args)
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
            key = _str_const(expr.slice)
            base = self._eval(expr.value, view)
            return base.child(key, False) if base and key is not None else None
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and expr.args:
            key = _str_const(expr.args[0])
            base = self._eval(func.value, view)
            defaulted = len(expr.args) > 1 or bool(expr.keywords)
            return base.child(key, defaulted) if base and key is not None else None
        return self._eval_call(expr, view, target)

    def _eval_call(self, call: ast.Call, view: _View, target: str | None) -> _Ref | None:
        parts = _dotted(call.func) or []
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
            const = _str_const(node)
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
                key = _str_const(node.slice)
                if key and self._eval(node.value, view):
                    self.known.add(key)
                continue
            if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
                key = _str_const(node.left)
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
            self.known.update(k for k in map(_str_const, first.keys) if k)  # type: ignore[arg-type]
        elif func.attr == "update":
            self.open.add(base.origin)
        elif first is not None and _str_const(first):
            self.known.add(_str_const(first))  # type: ignore[arg-type]

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
        expr = _source(self.module.lines, read.node)
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
            excerpt=_excerpt(self.module.lines, line),
            target=self.config.section(section),
            key=f"unknown_config_key|{path}|{'' if ref.anchored else '~'}{shown}",
        )

    def _explain(self, ref: _Ref, missing: tuple[str, ...]) -> str:
        name, key = self.config.name, missing[-1]
        if ref.anchored:
            parent = self.config.lookup(missing[:-1])
            keys = list(parent) if isinstance(parent, dict) else []
            where = f"`{'.'.join(missing[:-1])}`" if missing[:-1] else "the top level"
            text = f"{name} has no key `{'.'.join(missing)}`{_did_you_mean(key, keys)}"
            text += f"; {where} has: {_listing(keys, key)}"
            if self.config.lookup(("smoke", *missing)) is not _MISSING:
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
            listing = f"`{'.'.join(section)}` has: {_listing(keys, key)}"
            return f"no section of {name} has the key path {shown}{_did_you_mean(key, keys)}; {listing} ({hint})"
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


def _is_store(node: ast.AST) -> bool:
    return isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load)


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
