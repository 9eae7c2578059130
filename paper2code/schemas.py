"""Stage inputs and outputs as pydantic models. Stages exchange these as JSON on disk."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

# ---------------------------------------------------------------- ingest


class Equation(BaseModel):
    """A display equation with its printed number and, from a PDF, its image."""

    model_config = ConfigDict(extra="forbid")

    latex: str
    """The formula as linear LaTeX: the source's own text when read from LaTeX or Markdown;
    recovered from the printed glyphs and their positions when read from a PDF
    (``\\mathrm{softmax}(\\frac{QK^T}{\\sqrt{d_k}})V``)."""
    number: str | None = None
    """Printed equation number (``"3"``, ``"A.1"``, ``"2–3"`` for a numbered multi-line
    display), None when unnumbered."""
    image: str | None = None
    """The printed equation cropped to a PNG, relative to the paper folder
    (``equations/eq-001.png``); set for PDFs ingested with a paper folder."""
    page: int | None = None
    """Page the equation is printed on (PDF only)."""


class Section(BaseModel):
    """One section of a paper, in reading order."""

    model_config = ConfigDict(extra="forbid")

    number: str | None = None
    """Section number as printed (``"3"``, ``"3.2"``, ``"A"``), or None when unnumbered."""
    heading: str
    """Heading text without its number."""
    level: int = 1
    """Nesting depth: 1 for a section, 2 for a subsection, …"""
    text: str = ""
    """Body as Markdown: paragraphs, equations (``$$…$$``), tables (Markdown), captions."""
    equations: list[str] = Field(default_factory=list)
    """Display equations found in the section, as LaTeX text (see ``equation_records``)."""
    equation_records: list[Equation] = Field(default_factory=list)
    """The same display equations with their numbers and images, in the same order."""
    tables: list[str] = Field(default_factory=list)
    """Tables of the section as Markdown."""
    captions: list[str] = Field(default_factory=list)
    """Figure and table captions (``Figure 2: …``)."""
    appendix: bool = False
    """True for sections after the appendix starts."""
    tokens: int = 0
    """o200k token count of heading and text, for context budgeting."""


class Paper(BaseModel):
    """A paper as every later stage sees it."""

    model_config = ConfigDict(extra="forbid")

    title: str
    authors: list[str] = Field(default_factory=list)
    abstract: str = ""
    sections: list[Section] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    """Reference list entries, split off; not given to agents unless asked."""
    source: str = ""
    """File name the paper was read from."""
    source_format: Literal["pdf", "latex", "markdown"] = "pdf"
    pages: int | None = None
    """Page count (PDF only)."""
    tokens: int = 0
    """o200k tokens of title, abstract and sections (references excluded)."""

    def to_markdown(self, *, include_references: bool = False) -> str:
        """The paper as readable Markdown (``paper.md``); this is the text agents are given."""
        out = [f"# {self.title}", ""]
        if self.authors:
            out += [", ".join(self.authors), ""]
        if self.abstract:
            out += ["## Abstract", "", self.abstract.strip(), ""]
        for s in self.sections:
            marks = "#" * min(6, s.level + 1)
            num = f"{s.number} " if s.number else ""
            app = " (appendix)" if s.appendix and s.level == 1 else ""
            out += [f"{marks} {num}{s.heading}{app}", ""]
            if s.text.strip():
                out += [s.text.strip(), ""]
        if include_references and self.references:
            out += ["## References", ""]
            out += [f"- {r}" for r in self.references]
            out.append("")
        return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- shared validators


def _check_repo_path(path: str) -> str:
    """A generated file path: relative, POSIX, inside the repository."""
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    parts = p.split("/")
    if not p or p.startswith("/") or ".." in parts or any(part == "" for part in parts):
        raise ValueError(
            f"file path {path!r} must be relative to the repository root, e.g. 'src/model.py'"
        )
    return p


RepoPath = Annotated[str, AfterValidator(_check_repo_path)]

# ---------------------------------------------------------------- plan (five turns)


class OverallPlan(BaseModel):
    """Turn 1: what reproducing the paper requires."""

    summary: str
    """What the paper proposes, in a few sentences."""
    method_components: list[str]
    """The parts of the method that must be implemented."""
    datasets: list[str]
    """Datasets the experiments use (with how to obtain them, if the paper says)."""
    experiments: list[str]
    """Experiments to reproduce, each with its setting."""
    evaluation_metrics: list[str]
    """Metrics and how they are computed."""
    smoke_strategy: str
    """How to exercise the whole code path in seconds on a CPU without network: synthetic or
    tiny data, tiny model, one or two steps."""
    unclear: list[str] = Field(default_factory=list)
    """Points the paper leaves open, and the assumption taken for each."""


class PlannedFile(BaseModel):
    path: RepoPath
    purpose: str


class ArchitectureDesign(BaseModel):
    """Turn 2: files, interfaces and call flow."""

    implementation_approach: str
    files: list[PlannedFile]
    """Every source file of the repository, including the entry point ``main.py``."""
    class_diagram: str
    """Mermaid ``classDiagram`` of data structures and interfaces."""
    sequence_diagram: str
    """Mermaid ``sequenceDiagram`` of the program's call flow."""
    unclear: list[str] = Field(default_factory=list)

    @field_validator("files")
    @classmethod
    def _has_entry_point(cls, files: list[PlannedFile]) -> list[PlannedFile]:
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise ValueError("file paths must be unique")
        if "main.py" not in paths:
            raise ValueError("the file list must include the entry point 'main.py'")
        return files

    @field_validator("class_diagram")
    @classmethod
    def _class_diagram(cls, v: str) -> str:
        if "classDiagram" not in v:
            raise ValueError("class_diagram must be Mermaid text starting with 'classDiagram'")
        return v

    @field_validator("sequence_diagram")
    @classmethod
    def _sequence_diagram(cls, v: str) -> str:
        if "sequenceDiagram" not in v:
            raise ValueError(
                "sequence_diagram must be Mermaid text starting with 'sequenceDiagram'"
            )
        return v


class FileLogic(BaseModel):
    path: RepoPath
    description: str
    """What the file does and how, step by step."""
    depends_on: list[RepoPath] = Field(default_factory=list)
    """Files of this repository it imports from."""


class LogicDesign(BaseModel):
    """Turn 3: packages, per-file logic, task order, shared knowledge."""

    required_packages: list[str]
    """pip requirement specifiers, e.g. ``numpy>=1.24``; standard-library modules excluded."""
    logic_analysis: list[FileLogic]
    task_list: list[RepoPath]
    """Files in the order they should be written: dependencies first."""
    shared_knowledge: str
    """Constants, conventions and interfaces shared across files."""
    unclear: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> LogicDesign:
        if len(set(self.task_list)) != len(self.task_list):
            raise ValueError("task_list must not repeat a file")
        tasks = set(self.task_list)
        for fl in self.logic_analysis:
            if fl.path not in tasks:
                raise ValueError(f"logic_analysis names {fl.path!r}, which is not in task_list")
            unknown = [d for d in fl.depends_on if d not in tasks]
            if unknown:
                raise ValueError(f"{fl.path!r} depends on {unknown}, which are not in task_list")
        for req in self.required_packages:
            if not req.strip() or req.strip().startswith("-") or " " in req.strip():
                raise ValueError(f"required_packages entry {req!r} is not a pip requirement")
        return self


class ConfigDesign(BaseModel):
    """Turn 4: config.yaml with every hyperparameter the paper states, and a smoke section."""

    config_yaml: str

    @field_validator("config_yaml")
    @classmethod
    def _valid_yaml(cls, v: str) -> str:
        try:
            data = yaml.safe_load(v)
        except yaml.YAMLError as exc:
            raise ValueError(f"config_yaml is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("config_yaml must be a YAML mapping")
        if not isinstance(data.get("smoke"), dict):
            raise ValueError(
                "config_yaml needs a 'smoke' mapping with the tiny settings of a seconds-long CPU run"
            )
        return v


# ---------------------------------------------------------------- requirements ledger

TRACEABLE_EXTRAS: tuple[str, ...] = ("config.yaml", "reproduce.sh", "README.md")
"""Files besides the planned ones that may implement a requirement (the config holds the
hyperparameters, ``reproduce.sh`` runs the experiments, the README reports)."""

RequirementCategory = Literal[
    "data", "method", "training", "evaluation", "hyperparameter", "reporting", "assumption"
]
"""What a requirement is about; ``assumption`` marks what the planner chose where the paper is
silent (recorded, never counted as a requirement of the paper)."""


class PaperLocation(BaseModel):
    """Where the paper says it."""

    section: str
    """Section number or title (``3.2``, ``Appendix B``); empty when unknown."""
    anchor: str
    """Equation, table, figure or algorithm (``Eq. 3``, ``Table 2``); empty when none."""
    quote: str
    """A short quote of the paper's words (at most a sentence); empty for assumptions."""


class Requirement(BaseModel):
    """One atomic, checkable thing a faithful reproduction must do."""

    id: str
    """``R1``, ``R2``… (``A1``… for assumptions); unique."""
    text: str
    """One checkable sentence."""
    category: RequirementCategory
    where: PaperLocation
    value: str | None
    """The paper's value for a hyperparameter, as written (``0.1``, ``4000``, ``[0.9, 0.98]``);
    None for other requirements."""
    weight: int = Field(ge=1, le=3)
    """How much it matters to a faithful reproduction: 3 core, 2 important, 1 detail."""
    files: list[str]
    """Repository files that must implement it (``config.yaml`` for values it holds)."""
    config_key: str | None
    """Dotted key of config.yaml that holds the value (``optimization.lr``), or None; the
    configuration turn writes config.yaml with these keys."""

    @field_validator("files")
    @classmethod
    def _some_file(cls, v: list[str]) -> list[str]:
        return [_check_repo_path(p) for p in v]

    @field_validator("config_key")
    @classmethod
    def _dotted_key(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*", v):
            raise ValueError(f"config_key {v!r} must be a dotted key such as 'optimization.lr'")
        return v


class RequirementsLedger(BaseModel):
    """Planning turn 5: the paper as a list of atomic requirements, traced to files."""

    requirements: list[Requirement]

    @model_validator(mode="after")
    def _unique(self) -> RequirementsLedger:
        ids = [r.id for r in self.requirements]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"requirement ids must be unique; repeated: {', '.join(dup)}")
        if not any(r.category != "assumption" for r in self.requirements):
            raise ValueError("list the paper's requirements, not only assumptions")
        return self

    def of_file(self, path: str) -> list[Requirement]:
        """The requirements (assumptions included) assigned to ``path``."""
        return [r for r in self.requirements if path in r.files]


def ledger_reply_model(files: Sequence[str]) -> type[RequirementsLedger]:
    """The schema of the requirements turn for one plan: ``files`` may only name the planned
    files (an enum the endpoint enforces)."""
    file_type: Any = Literal[tuple(files)]  # type: ignore[valid-type]
    requirement = create_model("Requirement", __base__=Requirement, files=(list[file_type], ...))
    return create_model(
        "RequirementsLedger", __base__=RequirementsLedger, requirements=(list[requirement], ...)
    )


def config_reply_model(keys: Sequence[str]) -> type[ConfigDesign]:
    """The schema of the configuration turn for one plan: config.yaml must hold every key of
    ``keys`` (the ledger's ``config_key`` values) as a value."""

    class PlannedConfig(ConfigDesign):
        required_keys: ClassVar[tuple[str, ...]] = tuple(keys)

        @model_validator(mode="after")
        def _holds_the_ledgers_keys(self) -> PlannedConfig:
            present = set(config_keys(self.config_yaml))
            missing = [k for k in self.required_keys if k not in present]
            if missing:
                raise ValueError(
                    "config_yaml must hold every config_key of the requirements ledger as a "
                    f"value; missing: {', '.join(missing)}"
                )
            return self

    PlannedConfig.__name__ = "ConfigDesign"
    return PlannedConfig


def config_keys(config_yaml: str) -> list[str]:
    """Dotted paths of the leaves of a config (the ``smoke`` overrides left out)."""
    data = yaml.safe_load(config_yaml) or {}
    out: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for k, v in node.items():
                if prefix or k != "smoke":
                    walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif prefix:
            out.append(prefix)

    walk(data, "")
    return out


class Plan(BaseModel):
    """The planning stage's result: the five turns together."""

    overall: OverallPlan
    architecture: ArchitectureDesign
    logic: LogicDesign
    config: ConfigDesign
    requirements: RequirementsLedger

    def file_logic(self, path: str) -> FileLogic | None:
        return next((f for f in self.logic.logic_analysis if f.path == path), None)

    def dependencies(self) -> dict[str, list[str]]:
        """File → files it depends on, for every file in the task list."""
        deps = {p: [] for p in self.logic.task_list}
        for fl in self.logic.logic_analysis:
            deps[fl.path] = [d for d in fl.depends_on if d != fl.path]
        return deps


# ---------------------------------------------------------------- analysis


class FunctionSpec(BaseModel):
    name: str
    signature: str
    """Python signature with type hints, e.g. ``def forward(self, x: Tensor) -> Tensor``."""
    description: str


class ClassSpec(BaseModel):
    name: str
    description: str
    methods: list[FunctionSpec] = Field(default_factory=list)


class FileAnalysis(BaseModel):
    """Detailed design of one file."""

    path: RepoPath
    purpose: str
    classes: list[ClassSpec] = Field(default_factory=list)
    functions: list[FunctionSpec] = Field(default_factory=list)
    imports_from_repo: list[str] = Field(default_factory=list)
    """Names it imports from other files of the repository (``module.Name``)."""
    equations: list[str] = Field(default_factory=list)
    """Equations of the paper this file implements, as text, with where they are used."""
    config_keys: list[str] = Field(default_factory=list)
    """Keys of config.yaml the file reads."""
    inputs_outputs: str = ""
    """Data in and out: shapes, types, files."""
    notes: str = ""
    """Edge cases, numerical care, anything the coder must not miss."""
    requirements: list[str] = Field(default_factory=list)
    """Ids of the ledger's requirements this file implements, each addressed by the design."""


# ---------------------------------------------------------------- code


class TraceEntry(BaseModel):
    """Where a file implements one requirement."""

    requirement: str
    """The requirement's id (``R7``)."""
    symbol: str
    """The function, class or method (``MultiHeadAttention.forward``), or ``config.yaml:key``
    for a value read from the config."""


class CodedFile(BaseModel):
    """The coder's reply for one file: its complete contents."""

    path: RepoPath
    content: str
    implements: list[TraceEntry] = Field(default_factory=list)
    """For each requirement of the file, where it is implemented."""

    @field_validator("content")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("content must be the complete file, not empty")
        return v if v.endswith("\n") else v + "\n"


# ---------------------------------------------------------------- replies judging items by id


class EvidenceRef(BaseModel):
    """Lines of a repository file a model cites (the excerpt is cut from the file by us)."""

    file: str
    start_line: int
    end_line: int


class IdBatch(BaseModel):
    """A reply that judges several items named by id (a verifier's verdicts, a grader's
    grades): each item asked about is judged exactly once. Subclasses name the list field in
    ``items_field``; :func:`id_batch_model` makes the per-request model whose ``id`` is an enum
    of the ids asked about."""

    items_field: ClassVar[str] = ""
    expected: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _every_id_once(self) -> IdBatch:
        ids = [item.id for item in getattr(self, self.items_field)]
        if self.expected:
            missing = [i for i in self.expected if i not in ids]
            extra = sorted({i for i in ids if i not in self.expected or ids.count(i) > 1})
            if missing or extra:
                raise ValueError(
                    f"give exactly one entry per id {', '.join(self.expected)}"
                    + (f"; missing: {', '.join(missing)}" if missing else "")
                    + (f"; unknown or repeated: {', '.join(extra)}" if extra else "")
                )
        return self


B = TypeVar("B", bound=IdBatch)


def id_batch_model(base: type[B], item: type[BaseModel], ids: Sequence[str]) -> type[B]:
    """``base`` for one request: the items' ``id`` may only name ``ids``, each exactly once.
    The same arguments give the same class, so the schema a prompt shows and the one its
    request enforces are one object, built once."""
    return _id_batch_model(base, item, tuple(ids))


@functools.lru_cache(maxsize=256)
def _id_batch_model(base: type[B], item: type[BaseModel], ids: tuple[str, ...]) -> type[B]:
    id_type: Any = Literal[ids]  # type: ignore[valid-type]
    narrowed = create_model(item.__name__, __base__=item, id=(id_type, ...))
    model = create_model(base.__name__, __base__=base, **{base.items_field: (list[narrowed], ...)})
    model.expected = tuple(ids)
    return model


# ---------------------------------------------------------------- evaluation

Component = Literal["data processing", "method", "training", "evaluation"]
Severity = Literal["high", "medium", "low"]


class JudgedItem(BaseModel):
    description: str
    severity: Severity
    """high: breaks the method or its results; medium: changes results; low: minor, or in the
    evaluation code."""
    file: str | None = None
    """Repository file concerned, if any."""


class ComponentJudgement(BaseModel):
    component: Component
    found: list[str] = Field(default_factory=list)
    """What the paper requires and the repository implements correctly."""
    missing: list[JudgedItem] = Field(default_factory=list)
    incorrect: list[JudgedItem] = Field(default_factory=list)
    score: int = Field(ge=1, le=5)
    """1 (absent or wrong) … 5 (complete and faithful)."""


class Judgement(BaseModel):
    """One judge sample."""

    components: list[ComponentJudgement]
    score: int = Field(ge=1, le=5)
    """Overall correctness of the repository with respect to the paper, 1–5."""
    summary: str

    @field_validator("components")
    @classmethod
    def _all_components(cls, v: list[ComponentJudgement]) -> list[ComponentJudgement]:
        names = [c.component for c in v]
        expected = ["data processing", "method", "training", "evaluation"]
        missing = [c for c in expected if c not in names]
        if missing or len(names) != len(set(names)):
            raise ValueError(f"judge each component exactly once: {', '.join(expected)}")
        return v


# ---------------------------------------------------------------- rubric grading


class LeafGrade(BaseModel):
    """A grader's decision on one Code Development leaf of a PaperBench rubric."""

    id: str
    score: Literal[0, 1]
    """1 when the repository's code satisfies the leaf's requirement, else 0."""
    explanation: str
    """Why, in one or two sentences, naming what the code does or lacks."""
    evidence: list[EvidenceRef]
    """Where the code satisfies it; empty for a 0."""


class RubricGrades(IdBatch):
    """The grader's answer for one batch of leaves: one grade per leaf."""

    items_field: ClassVar[str] = "grades"
    grades: list[LeafGrade]
