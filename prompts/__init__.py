"""Prompt templates, one file per agent turn, rendered strictly.

Templates are Jinja2 files in this package (``*.md``). Rendering uses ``StrictUndefined``: a
missing variable is an error, never an empty string. No prompt text lives in Python code.
"""

from __future__ import annotations

import functools
from importlib import resources

import jinja2


class PromptError(Exception):
    """A template is missing or was rendered without one of its variables."""


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _load(name: str) -> str:
    try:
        return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt template {name!r} in the prompts package") from exc


def names() -> list[str]:
    """Every template shipped in this package."""
    return sorted(
        p.name for p in resources.files(__name__).iterdir() if p.name.endswith((".md", ".j2"))
    )


def render(name: str, **variables: object) -> str:
    """Render template ``name`` (e.g. ``"coder.md"``) with ``variables``, strictly."""
    try:
        return _env().get_template(name).render(**variables)
    except jinja2.UndefinedError as exc:
        raise PromptError(f"prompt {name}: {exc.message}") from exc
