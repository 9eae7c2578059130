"""The README's CLI reference lists every option of every command: each command's row names
each of its options (generated from the Typer app, so a new option without docs fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from paper2code.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def commands() -> dict[str, list[str]]:
    """``paper2code <command>`` → its option names (``--out``…) and argument names."""
    out: dict[str, list[str]] = {}

    def walk(group: object, prefix: str) -> None:
        for name, cmd in sorted(group.commands.items()):  # type: ignore[attr-defined]
            if hasattr(cmd, "commands"):
                walk(cmd, f"{prefix} {name}")
                continue
            names = []
            for p in cmd.params:
                if p.param_type_name == "option":
                    names += [o for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
                else:
                    names.append(p.name.upper())
            out[f"{prefix} {name}"] = names

    walk(typer.main.get_command(app), "paper2code")
    return out


def test_every_option_of_every_command_is_in_the_readme_cli_table() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
    rows = {
        m[1]: m[0]
        for m in re.finditer(r"^\| `(paper2code [a-z-]+(?: [a-z-]+)?)\b[^|]*\|.*$", table, re.M)
    }
    missing = {}
    for command, names in commands().items():
        row = rows.get(command)
        if row is None:
            missing[command] = ["(no row)"]
            continue
        absent = [n for n in names if not re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", row)]
        if absent:
            missing[command] = absent
    assert not missing, f"README CLI table lacks: {missing}"
