"""Entry point of the ``attune`` command.

Rule: a user error (bad config, unreachable database, invalid input) ends the command with one
line on stderr naming the problem and a non-zero exit code, never a traceback. Only a bug
shows a traceback (and then with ``-v``).
"""

from __future__ import annotations

from typing import Any

import click

from attune_cli.app import global_options, report_error
from attune_core import __version__
from attune_core.errors import AttuneError

# Exit codes: 1 = the operation failed, 2 = usage or configuration error (click's own usage
# errors use 2 as well); the API commands add 3..6 (attune_cli.client.EXIT_*, docs/cli.md).
EXIT_FAILED = 1
EXIT_CONFIG = 2


class AttuneGroup(click.Group):
    """A click group that turns Attune's errors into one clear line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AttuneError as exc:
            report_error(ctx, exc)  # one line (or an error document with -o json|yaml)


@click.group(
    cls=AttuneGroup,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(__version__, prog_name="attune")
@global_options
def cli() -> None:
    """Attune: event-driven automation and orchestration."""


def _register_commands() -> None:
    from attune_cli.commands.api import API_GROUPS
    from attune_cli.commands.db import db
    from attune_cli.commands.identity import identity
    from attune_cli.commands.serve import serve
    from attune_cli.commands.up import up

    cli.add_command(db)
    for group in API_GROUPS:
        cli.add_command(group)
    cli.add_command(identity)
    cli.add_command(serve)
    cli.add_command(up)


_register_commands()


def main() -> None:
    """Run the command line (console script ``attune``)."""
    cli()
