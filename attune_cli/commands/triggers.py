"""``attune trigger`` (with ``webhook enable|disable|regenerate``) and ``attune sensor``.

Rule: a webhook's key is printed together with the receiver URL built from the API URL in
use (the API returns only the key), so it can be pasted into the sending system.
"""

from __future__ import annotations

from typing import Any

import click

from attune_cli.app import ApiGroup, App, complete_refs, load_json_option, paging, pass_app

TRIGGER_COLUMNS = [
    ("REF", "ref"),
    ("ENABLED", "enabled"),
    ("WEBHOOK", "webhook_enabled"),
    ("LABEL", "label"),
    ("DESCRIPTION", "description"),
]
SENSOR_COLUMNS = [
    ("REF", "ref"),
    ("ENABLED", "enabled"),
    ("TRIGGER", "trigger_ref"),
    ("LABEL", "label"),
    ("DESCRIPTION", "description"),
]


@click.group(cls=ApiGroup)
def trigger() -> None:
    """Manage triggers and their webhooks."""


@trigger.command("list")
@click.option("--pack", "pack_ref", help="Only the triggers of this pack.")
@paging
@pass_app
def trigger_list(app: App, pack_ref: str | None, page: int, limit: int) -> None:
    """List triggers.

    Example: attune trigger list --pack core
    """
    path = f"/api/v1/packs/{pack_ref}/triggers" if pack_ref else "/api/v1/triggers"
    result = app.client.page(path, {"page": page, "page_size": limit})
    app.out.items(result.items, TRIGGER_COLUMNS, pagination=result.pagination)


@trigger.command("show")
@click.argument("ref", shell_complete=complete_refs("/api/v1/triggers"))
@pass_app
def trigger_show(app: App, ref: str) -> None:
    """Show a trigger.

    Example: attune trigger show core.webhook
    """
    app.out.item(app.client.get(f"/api/v1/triggers/{ref}"))


@trigger.command("create")
@click.argument("ref", shell_complete=complete_refs("/api/v1/triggers"))
@click.option("--label", help="Label (default: the name part of REF).")
@click.option("--description", help="Description.")
@click.option("--param-schema", help="Parameter schema as JSON (or @file).")
@click.option("--out-schema", help="Payload schema as JSON (or @file).")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@pass_app
def trigger_create(
    app: App,
    ref: str,
    label: str | None,
    description: str | None,
    param_schema: str | None,
    out_schema: str | None,
    disabled: bool,
) -> None:
    """Create an ad-hoc trigger REF (<pack>.<name>).

    Example: attune trigger create mypack.deployed --description "a deploy finished"
    """
    pack_ref, _, name = ref.rpartition(".")
    body: dict[str, Any] = {
        "ref": ref,
        "label": label or name or ref,
        "pack_ref": pack_ref or None,
        "description": description,
        "enabled": not disabled,
        "param_schema": load_json_option(param_schema, "--param-schema"),
        "out_schema": load_json_option(out_schema, "--out-schema"),
    }
    data = app.client.post("/api/v1/triggers", {k: v for k, v in body.items() if v is not None})
    app.out.done(f"trigger {data['ref']} created", data)


@trigger.command("delete")
@click.argument("ref", shell_complete=complete_refs("/api/v1/triggers"))
@pass_app
def trigger_delete(app: App, ref: str) -> None:
    """Delete a trigger.

    Example: attune trigger delete mypack.deployed
    """
    data = app.client.delete(f"/api/v1/triggers/{ref}")
    app.out.done(data.get("message") or f"trigger {ref} deleted", data)


@trigger.group(cls=ApiGroup)
def webhook() -> None:
    """Enable, disable or regenerate a trigger's webhook."""


def _webhook(app: App, ref: str, verb: str) -> None:
    data = app.client.post(f"/api/v1/triggers/{ref}/webhooks/{verb}", {})
    key = data.get("webhook_key")
    url = f"{app.api_url}/api/v1/webhooks/{key}" if key else None
    summary = {
        "trigger": ref,
        "webhook_enabled": data.get("webhook_enabled"),
        "webhook_key": key,
        "url": url,
    }
    if app.out.structured:
        app.out.item(summary)
    elif url:
        click.echo(url)
    app.out.status(
        f"webhook of {ref} {'disabled' if verb == 'disable' else verb + 'd'}"
        + ("" if url else " (key revoked)")
    )


@webhook.command("enable")
@click.argument("ref", shell_complete=complete_refs("/api/v1/triggers"))
@pass_app
def webhook_enable(app: App, ref: str) -> None:
    """Enable the webhook of trigger REF and print its URL.

    Example: attune trigger webhook enable mypack.deployed
    """
    _webhook(app, ref, "enable")


@webhook.command("disable")
@click.argument("ref", shell_complete=complete_refs("/api/v1/triggers"))
@pass_app
def webhook_disable(app: App, ref: str) -> None:
    """Disable the webhook of trigger REF (its key is revoked).

    Example: attune trigger webhook disable mypack.deployed
    """
    _webhook(app, ref, "disable")


@webhook.command("regenerate")
@click.argument("ref", shell_complete=complete_refs("/api/v1/triggers"))
@pass_app
def webhook_regenerate(app: App, ref: str) -> None:
    """Give trigger REF's webhook a new key (the old URL stops working).

    Example: attune trigger webhook regenerate mypack.deployed
    """
    _webhook(app, ref, "regenerate")


@click.group(cls=ApiGroup)
def sensor() -> None:
    """Manage sensors."""


@sensor.command("list")
@click.option("--pack", "pack_ref", help="Only the sensors of this pack.")
@paging
@pass_app
def sensor_list(app: App, pack_ref: str | None, page: int, limit: int) -> None:
    """List sensors.

    Example: attune sensor list
    """
    path = f"/api/v1/packs/{pack_ref}/sensors" if pack_ref else "/api/v1/sensors"
    result = app.client.page(path, {"page": page, "page_size": limit})
    app.out.items(result.items, SENSOR_COLUMNS, pagination=result.pagination)


@sensor.command("show")
@click.argument("ref", shell_complete=complete_refs("/api/v1/sensors"))
@pass_app
def sensor_show(app: App, ref: str) -> None:
    """Show a sensor.

    Example: attune sensor show mypack.watcher
    """
    app.out.item(app.client.get(f"/api/v1/sensors/{ref}"))


@sensor.command("enable")
@click.argument("ref", shell_complete=complete_refs("/api/v1/sensors"))
@pass_app
def sensor_enable(app: App, ref: str) -> None:
    """Enable a sensor.

    Example: attune sensor enable mypack.watcher
    """
    app.out.done(f"sensor {ref} enabled", app.client.post(f"/api/v1/sensors/{ref}/enable", {}))


@sensor.command("disable")
@click.argument("ref", shell_complete=complete_refs("/api/v1/sensors"))
@pass_app
def sensor_disable(app: App, ref: str) -> None:
    """Disable a sensor.

    Example: attune sensor disable mypack.watcher
    """
    app.out.done(f"sensor {ref} disabled", app.client.post(f"/api/v1/sensors/{ref}/disable", {}))


@sensor.command("logs")
@click.argument("ref", shell_complete=complete_refs("/api/v1/sensors"))
@pass_app
def sensor_logs(app: App, ref: str) -> None:
    """Print a sensor's log.

    Example: attune sensor logs mypack.watcher
    """
    data = app.client.get(f"/api/v1/sensors/{ref}/logs")
    if app.out.structured or not isinstance(data, dict):
        app.out.item(data)
        return
    content = data.get("content") or data.get("logs") or data.get("stdout") or ""
    if isinstance(content, list):
        content = "\n".join(str(line) for line in content)
    if content:
        app.out.text(str(content))
    else:
        app.out.status(f"sensor {ref} has no log")
