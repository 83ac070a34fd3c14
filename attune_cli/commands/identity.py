"""``attune identity``: the group, and ``create``, which works directly on the database (the
first administrator); :mod:`attune_cli.commands.identities` adds the API commands."""

from __future__ import annotations

import anyio
import click

from attune_core.config import load_settings
from attune_core.storage import Store, migrate


@click.group()
def identity() -> None:
    """Manage identities (users and service accounts) and their roles.

    `create` works directly on the configured database (no server needed): use it for the
    first administrator. The other commands go through the API with the stored token.
    """


async def _create(
    config: str | None, login: str, password: str, display_name: str | None, roles: tuple[str, ...]
) -> int:
    from attune_services.api._auth import create_identity, ensure_builtin_sets

    settings = load_settings(config_path=config)
    store = await Store.from_settings(settings.database)
    try:
        await migrate.upgrade(store.engine)
        await ensure_builtin_sets(store)
        created = await create_identity(
            store, login, password, display_name=display_name, roles=list(roles)
        )
        assert created.id is not None
        return created.id
    finally:
        await store.close()


@identity.command("create")
@click.argument("login")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (prompted when not given).",
)
@click.option("--display-name", default=None)
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=("core.admin",),
    help="Permission set to assign (repeatable).",
)
@click.option("--config", "config", default=None, help="Config file or directory.")
def create(
    login: str, password: str, display_name: str | None, roles: tuple[str, ...], config: str | None
) -> None:
    """Create an identity (by default an administrator)."""
    if not 8 <= len(password) <= 128:
        raise click.BadParameter("must be 8 to 128 characters", param_hint="--password")
    identity_id = anyio.run(_create, config, login, password, display_name, roles)
    click.echo(f"identity {login} created (id {identity_id}, roles {', '.join(roles)})")
