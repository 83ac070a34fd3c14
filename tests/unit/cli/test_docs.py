"""docs/cli.md shows every command with an example; every API command's help has one too."""

from __future__ import annotations

from pathlib import Path

import click

from attune_cli.main import cli

DOC = Path(__file__).parents[3] / "docs" / "cli.md"


def _leaves(
    command: click.Command, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], click.Command]]:
    if isinstance(command, click.Group):
        return [
            leaf for name, sub in command.commands.items() for leaf in _leaves(sub, (*path, name))
        ]
    return [(path, command)]


def test_every_command_has_an_example_in_docs_cli_md() -> None:
    text = DOC.read_text()
    missing = [" ".join(p) for p, _ in _leaves(cli, ()) if f"$ attune {' '.join(p)}" not in text]
    assert missing == []


def test_every_api_command_documents_an_example_in_its_help() -> None:
    own = {"db", "up", "serve"}  # the server-side commands have their own help style
    missing = [
        " ".join(path)
        for path, command in _leaves(cli, ())
        if path[0] not in own
        and path != ("identity", "create")
        and "Example:" not in (command.help or "")
    ]
    assert missing == []
