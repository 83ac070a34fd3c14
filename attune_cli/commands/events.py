"""``attune event`` and ``attune enforcement``: what fired, and what the rules made of it."""

from __future__ import annotations

import click

from attune_cli.app import ApiGroup, App, paging, pass_app

EVENT_COLUMNS = [
    ("ID", "id"),
    ("TRIGGER", "trigger_ref"),
    ("RULE", "rule_ref"),
    ("SOURCE", "source_ref"),
    ("PAYLOAD", "payload"),
    ("CREATED", "created"),
]
ENFORCEMENT_COLUMNS = [
    ("ID", "id"),
    ("RULE", "rule_ref"),
    ("TRIGGER", "trigger_ref"),
    ("EVENT", "event"),
    ("STATUS", "status"),
    ("CREATED", "created"),
]


@click.group(cls=ApiGroup)
def event() -> None:
    """Inspect events (trigger instances)."""


@event.command("list")
@click.option("--trigger", "trigger_ref", help="Only events of this trigger ref.")
@click.option("--rule", "rule_ref", help="Only events pinned to this rule ref (timers).")
@click.option("--source", help="Only events from this source.")
@paging
@pass_app
def event_list(
    app: App,
    trigger_ref: str | None,
    rule_ref: str | None,
    source: str | None,
    page: int,
    limit: int,
) -> None:
    """List events, newest first.

    Example: attune event list --trigger core.webhook
    """
    result = app.client.page(
        "/api/v1/events",
        {
            "trigger_ref": trigger_ref,
            "rule_ref": rule_ref,
            "source": source,
            "page": page,
            "page_size": limit,
        },
    )
    app.out.items(result.items, EVENT_COLUMNS, pagination=result.pagination)


@event.command("show")
@click.argument("event_id", type=int)
@pass_app
def event_show(app: App, event_id: int) -> None:
    """Show an event and its payload.

    Example: attune event show 7
    """
    app.out.item(app.client.get(f"/api/v1/events/{event_id}"))


@click.group(cls=ApiGroup)
def enforcement() -> None:
    """Inspect enforcements (a rule matching an event)."""


@enforcement.command("list")
@click.option("--rule", "rule_ref", help="Only enforcements of this rule ref.")
@click.option("--event", "event_id", type=int, help="Only enforcements of this event.")
@click.option(
    "--status", type=click.Choice(["created", "processed", "disabled"]), help="Only this status."
)
@click.option("--trigger", "trigger_ref", help="Only enforcements of this trigger ref.")
@paging
@pass_app
def enforcement_list(
    app: App,
    rule_ref: str | None,
    event_id: int | None,
    status: str | None,
    trigger_ref: str | None,
    page: int,
    limit: int,
) -> None:
    """List enforcements, newest first.

    Example: attune enforcement list --rule mypack.greet
    """
    result = app.client.page(
        "/api/v1/enforcements",
        {
            "rule_ref": rule_ref,
            "event": event_id,
            "status": status,
            "trigger_ref": trigger_ref,
            "page": page,
            "page_size": limit,
        },
    )
    app.out.items(result.items, ENFORCEMENT_COLUMNS, pagination=result.pagination)


@enforcement.command("show")
@click.argument("enforcement_id", type=int)
@pass_app
def enforcement_show(app: App, enforcement_id: int) -> None:
    """Show an enforcement.

    Example: attune enforcement show 3
    """
    app.out.item(app.client.get(f"/api/v1/enforcements/{enforcement_id}"))
