"""``attune key``: list, get, set, delete keys (the key-value store), and rotate the
encryption key.

Rules of this file:

1. ``get`` masks an encrypted value unless ``--decrypt`` is given: a secret is only printed
   when asked for by name.
2. ``set`` stores the value as a string unless ``--json`` says to parse it; it creates the key,
   or changes the value of an existing one.
3. ``rotate`` works on the database directly (like ``attune db``): it re-encrypts every
   encrypted key under a new encryption key in one transaction; the servers must then be
   restarted with ``security.encryption_key`` set to the new key.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import click

from attune_cli.app import ApiGroup, App, complete_refs, paging, pass_app
from attune_cli.client import ApiError

MASK = "********"
OWNER_TYPES = ["system", "identity", "pack", "action", "sensor"]
KEY_COLUMNS = [
    ("REF", "ref"),
    ("SCOPE", "owner_type"),
    ("OWNER", "owner"),
    ("ENCRYPTED", "encrypted"),
    ("UPDATED", "updated"),
]


@click.group(cls=ApiGroup)
def key() -> None:
    """Manage keys (values and encrypted secrets)."""


@key.command("list")
@click.option("--scope", "owner_type", type=click.Choice(OWNER_TYPES), help="Only this scope.")
@click.option("--owner", help="Only keys of this owner (pack ref, action ref, identity id).")
@paging
@pass_app
def list_(app: App, owner_type: str | None, owner: str | None, page: int, limit: int) -> None:
    """List keys (without values).

    Example: attune key list --scope pack --owner mypack
    """
    result = app.client.page(
        "/api/v1/keys",
        {"owner_type": owner_type, "owner": owner, "page": page, "page_size": limit},
    )
    app.out.items(result.items, KEY_COLUMNS, pagination=result.pagination)


@key.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/keys"))
@click.option("--decrypt", is_flag=True, help="Show an encrypted value in clear.")
@pass_app
def get(app: App, ref: str, decrypt: bool) -> None:
    """Print the value of key REF.

    Example: attune key get mypack.api_token --decrypt
    """
    data = app.client.get(f"/api/v1/keys/{ref}")
    if data.get("encrypted") and not decrypt:
        data["value"] = MASK
    if app.out.structured:
        app.out.item(data)
        return
    value = data.get("value")
    click.echo(value if isinstance(value, str) else json.dumps(value))
    if data.get("encrypted") and not decrypt:
        app.out.status("(encrypted: add --decrypt to see the value)")


@key.command("set")
@click.argument("ref", shell_complete=complete_refs("/api/v1/keys"))
@click.argument("value")
@click.option("--json", "as_json", is_flag=True, help="Parse VALUE as JSON (number, list...).")
@click.option(
    "--encrypt/--no-encrypt",
    default=None,
    help="Store encrypted (default: keep the key's setting; new keys unencrypted).",
)
@click.option(
    "--scope",
    "owner_type",
    type=click.Choice(OWNER_TYPES),
    default="system",
    help="Owner type of a new key.",
)
@click.option(
    "--owner", help="Owner of a new key: a pack, action or sensor ref, or an identity id."
)
@pass_app
def set_(
    app: App,
    ref: str,
    value: str,
    as_json: bool,
    encrypt: bool | None,
    owner_type: str,
    owner: str | None,
) -> None:
    """Create key REF or change its value.

    Example: attune key set mypack.api_token s3cr3t --encrypt --scope pack --owner mypack
    """
    parsed: Any = value
    if as_json:
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="VALUE") from exc
    try:
        app.client.get(f"/api/v1/keys/{ref}")
        exists = True
    except ApiError as exc:
        if exc.code != "NOT_FOUND":
            raise
        exists = False
    if exists:
        body: dict[str, Any] = {"value": parsed}
        if encrypt is not None:
            body["encrypted"] = encrypt
        data = app.client.put(f"/api/v1/keys/{ref}", body)
        verb = "updated"
    else:
        body = {
            "ref": ref,
            "name": ref.rsplit(".", 1)[-1],
            "value": parsed,
            "owner_type": owner_type,
            "encrypted": bool(encrypt),
        }
        if owner is not None and owner_type != "system":
            field = "owner_identity" if owner_type == "identity" else f"owner_{owner_type}_ref"
            body[field] = int(owner) if owner_type == "identity" else owner
        data = app.client.post("/api/v1/keys", body)
        verb = "created"
    if data.get("encrypted"):
        data["value"] = MASK
    app.out.done(f"key {ref} {verb}" + (" (encrypted)" if data.get("encrypted") else ""), data)


@key.command()
@click.argument("ref", shell_complete=complete_refs("/api/v1/keys"))
@pass_app
def delete(app: App, ref: str) -> None:
    """Delete key REF.

    Example: attune key delete mypack.api_token
    """
    data = app.client.delete(f"/api/v1/keys/{ref}")
    app.out.done(data.get("message") or f"key {ref} deleted", data)


async def _rotate(config: str | None, new_key: str) -> int:
    from attune_core.config import load_settings
    from attune_core.engine._keys import rotate
    from attune_core.security import SecretBox
    from attune_core.storage import Store

    settings = load_settings(config_path=config)
    store = await Store.from_settings(settings.database)
    try:
        async with store.transaction() as uow:
            return await rotate(
                uow, SecretBox(settings.security.encryption_key), SecretBox(new_key)
            )
    finally:
        await store.close()


@key.command()
@click.option(
    "--new-key",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="ATTUNE_NEW_ENCRYPTION_KEY",
    show_envvar=True,
    help="The new encryption key (prompted when not given).",
)
@click.option(
    "--config",
    "config",
    envvar="ATTUNE_CONFIG",
    show_envvar=True,
    help="Config file or directory of the server (its database and current key).",
)
@pass_app
def rotate(app: App, new_key: str, config: str | None) -> None:
    """Re-encrypt every encrypted key under a new encryption key (database, not API).

    Stop the servers first, then restart them with security.encryption_key (or
    ATTUNE__SECURITY__ENCRYPTION_KEY) set to the new key.

    Example: attune key rotate --config /etc/attune/config.yaml
    """
    count = anyio.run(_rotate, config, new_key)
    app.out.done(
        f"{count} encrypted key(s) re-encrypted; restart the servers with "
        "security.encryption_key set to the new key",
        {"rotated": count},
    )
