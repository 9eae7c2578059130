"""Stage inputs and outputs as pydantic models. Stages exchange these as JSON on disk."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# ---------------------------------------------------------------- ingest


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
    """Display equations found in the section, as text (LaTeX where the source had it)."""
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
