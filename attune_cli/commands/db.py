"""``attune db``: migrate the configured database (uses the engine directly, not the API)."""

from __future__ import annotations

import anyio
import click

from attune_core.config import load_settings
from attune_core.storage import Store, migrate

CONFIG_HELP = "Config file or directory (default: $ATTUNE_CONFIG, then ./config.yaml)."


@click.group()
def db() -> None:
    """Manage the database schema."""


async def _with_store(config: str | None, action: str) -> str:
    settings = load_settings(config_path=config)
    store = await Store.from_settings(settings.database)
    try:
        if action == "upgrade":
            before = await migrate.current(store.engine)
            await migrate.upgrade(store.engine)
            after = await migrate.current(store.engine)
            if before == after:
                return f"database is up to date (revision {after})"
            return f"database upgraded from {before or 'empty'} to revision {after}"
        revision = await migrate.current(store.engine)
        head = migrate.head()
        if revision is None:
            return f"database is empty (not migrated); newest revision is {head}"
        state = "up to date" if revision == head else f"behind; newest revision is {head}"
        return f"{revision} ({state})"
    finally:
        await store.close()


@db.command()
@click.option("--config", "config", envvar="ATTUNE_CONFIG", help=CONFIG_HELP, show_envvar=True)
def upgrade(config: str | None) -> None:
    """Migrate the database to the newest schema (safe to repeat)."""
    click.echo(anyio.run(_with_store, config, "upgrade"))


@db.command()
@click.option("--config", "config", envvar="ATTUNE_CONFIG", help=CONFIG_HELP, show_envvar=True)
def current(config: str | None) -> None:
    """Show the schema revision of the database."""
    click.echo(anyio.run(_with_store, config, "current"))
