"""Command-line interface. User-facing errors are caught once, here, and printed in one line
with exit code 2; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from paper2code.errors import Paper2CodeError
from paper2code.settings import Settings
from sandbox.errors import SandboxError

app = typer.Typer(
    name="paper2code",
    help="Turn a machine-learning paper into a code repository that runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Sandbox images and maintenance.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

console = Console(stderr=True)


def slugify(name: str) -> str:
    """``Attention Is All You Need.pdf`` → ``attention-is-all-you-need``."""
    stem = Path(name).stem if "." in Path(name).name else name
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug[:60] or "paper"


# ------------------------------------------------------------------------------------ ingest


@app.command()
def ingest(
    paper: Annotated[Path, typer.Argument(help="Paper: .pdf, .tex (or a folder with one), .md")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for paper.json and paper.md")
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option(help="Refuse PDFs with more pages (default 60)")
    ] = None,
) -> None:
    """Read a paper into paper.json (structured) and paper.md (readable)."""
    from paper2code.ingest import ingest_paper, write_paper

    settings = Settings()
    if max_pages is not None:
        settings.ingest.max_pages = max_pages
    result = ingest_paper(paper, settings.ingest)
    out = out or Path("runs") / slugify(paper.name) / "paper"
    write_paper(result, out)
    console.print(
        f"[green]ingested[/] {result.title!r}: {len(result.sections)} sections, "
        f"{len(result.references)} references, {result.tokens} tokens → {out}"
    )


# ------------------------------------------------------------------------------------ entry


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, standalone_mode=False)
    except (Paper2CodeError, SandboxError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished artifacts are kept; rerun to resume")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors come through here in standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
