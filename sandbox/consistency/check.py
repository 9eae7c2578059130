"""The two entry points: :func:`check_sources`, the pure core (file texts in, a report out),
and :func:`check_repository`, which reads a repository and adds ruff's findings."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from sandbox.consistency.calls import FileChecker
from sandbox.consistency.config_keys import ConfigChecker
from sandbox.consistency.config_tree import ConfigTree
from sandbox.consistency.index import Index
from sandbox.consistency.lint import is_syntax_error, ruff_findings
from sandbox.consistency.report import FINDING_KINDS, ConsistencyReport, Finding
from sandbox.tree import iter_text_files, scan

MAX_FILE_BYTES = 1_000_000
"""Python files larger than this are not analysed."""


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
        lint_findings = ruff_findings(
            repo, sources, {f.file for f in report.findings if is_syntax_error(f)}
        )
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
    index = Index(py, layout)
    findings: list[Finding] = list(index.syntax_errors)
    notes: list[str] = []
    tree = ConfigTree.parse(config_yaml, config_name) if config_yaml is not None else None
    if config_yaml is None:
        notes.append(f"{config_name} not found: config keys not checked")
    elif tree is None:
        notes.append(f"{config_name} is not a YAML mapping: config keys not checked")
    checked: Counter[str] = Counter()
    config_checkers = []
    for module in index.parsed():
        checker = FileChecker(index, module)
        findings += checker.run()
        checked.update(checker.checked)
        if tree is not None:
            config_checkers.append(ConfigChecker(module, tree).collect())
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
