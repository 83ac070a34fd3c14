"""Storing an event from the API (webhooks, ``POST /events``) through the engine's rule engine.

Rules of this file:

1. Every event the API receives goes through the context's
   :class:`attune_core.engine._events.EventIntake`: the event, the enforcements of its matching
   rules and their executions commit together, exactly as for ``Attune.fire`` and the engine's
   webhook receiver (events of concurrent requests share a transaction). This needs only the
   Store, the Bus and the Clock of the :class:`ApiContext`, so it works the same in the
   all-in-one server and in a distributed API (no ``Attune`` facade required).
2. The messages the engine decided (``event.created``, ``enforcement.created``,
   ``execution.requested``) are published after the commit; the executor picks the executions
   up from ``execution.requested``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attune_core.engine._events import EventIntake, parse_trigger_instance
from attune_core.model import Event
from attune_services.api._context import ApiContext

__all__ = ["as_payload", "parse_trigger_instance", "store_event"]


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
    """Store one event and apply its rules (see the module rules); publish after commit.

    Raises:
        NotFound: no trigger ``trigger_ref``, or no rule ``rule_id``.
        ValidationError: the pinned rule belongs to another trigger.
    """
    intake = ctx.intake or EventIntake(ctx.store, ctx.bus, ctx.clock, secret_box=ctx.secrets)
    return await intake.fire(
        trigger_ref, as_payload(payload), rule_id=rule_id, source_ref=source_ref, config=config
    )
