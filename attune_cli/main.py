"""Entry point of the ``attune`` command."""

from __future__ import annotations

import click

from attune_core import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="attune")
def cli() -> None:
    """Attune: event-driven automation and orchestration."""


def main() -> None:
    """Run the command line (console script ``attune``)."""
    cli()
