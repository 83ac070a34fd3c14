"""Storing an event from the API (webhooks, ``POST /events``) and announcing it on the bus.

The rule engine consumes ``event.created`` (``{"event_id", "trigger_ref", "rule_id"}``) and
creates the enforcements; the event row is the truth, the message a hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attune_core.bus import RoutingKey
from attune_core.errors import NotFound, ValidationError
from attune_core.model import Event
from attune_services.api._context import ApiContext


def as_payload(value: Any) -> dict[str, Any]:
    """Event payloads are objects; any other JSON value is kept under ``value``."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    return {"value": value}


async def store_event(
    ctx: ApiContext,
    trigger_ref: str,
    payload: Any,
    *,
    rule_id: int | None = None,
    source_ref: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> Event:
    async with ctx.store.transaction() as uow:
        trigger = await uow.triggers.find_by_ref(trigger_ref)
        if trigger is None:
            raise NotFound(f"trigger {trigger_ref!r} not found")
        rule_ref = None
        if rule_id is not None:
            rule = await uow.rules.find(rule_id)
            if rule is None:
                raise NotFound(f"rule {rule_id} not found")
            if rule.trigger_ref != trigger_ref:
                raise ValidationError(
                    f"rule {rule.ref} is a rule of trigger {rule.trigger_ref}, not {trigger_ref}",
                    field="trigger_instance_id",
                )
            rule_ref = rule.ref
        source = None
        if source_ref is not None:
            sensor = await uow.sensors.find_by_ref(source_ref)
            source = sensor.id if sensor is not None else None
        event = await uow.events.create(
            Event(
                trigger=trigger.id,
                trigger_ref=trigger_ref,
                payload=as_payload(payload),
                config=dict(config) if config is not None else None,
                source=source,
                source_ref=source_ref,
                rule=rule_id,
                rule_ref=rule_ref,
            )
        )
    await ctx.bus.publish(
        RoutingKey.EVENT_CREATED,
        {"event_id": event.id, "trigger_ref": trigger_ref, "rule_id": rule_id},
    )
    return event


def parse_trigger_instance(value: Any) -> int | None:
    """The rule id of a ``trigger_instance_id`` (``"rule_<id>"``)."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.startswith("rule_") and text[5:].isdigit():
        return int(text[5:])
    raise ValidationError(
        f"trigger_instance_id must be 'rule_<id>', got {value!r}", field="trigger_instance_id"
    )
