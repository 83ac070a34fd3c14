"""In-process fan-out of notification frames to subscriptions with filters."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import anyio
import anyio.abc

from attune_core.bus import RoutingKey
from attune_core.engine._notifier import frames_in
from attune_core.errors import ValidationError
from attune_core.ports import Bus

BUFFER = 1000  # frames kept per subscription before the oldest are dropped


def validate_filter(text: Any) -> str:
    """``all`` | ``entity_type:<t>`` | ``entity:<t>:<id>`` | ``notification_type:<n>`` |
    ``user:<id>``; :class:`ValidationError` otherwise."""
    if text == "all":
        return "all"
    if isinstance(text, str):
        kind, _, rest = text.partition(":")
        if kind in ("entity_type", "notification_type", "user") and rest:
            return text
        if kind == "entity" and rest.count(":") == 1 and all(rest.split(":")):
            return text
    raise ValidationError(
        f"invalid filter {text!r}: use all, entity_type:<t>, entity:<t>:<id>, "
        "notification_type:<n> or user:<id>",
        field="filter",
    )


def matches_filter(text: str, frame: Mapping[str, Any]) -> bool:
    if text == "all":
        return True
    kind, _, rest = text.partition(":")
    if kind == "entity_type":
        return str(frame.get("entity_type")) == rest
    if kind == "notification_type":
        return str(frame.get("notification_type")) == rest
    if kind == "user":
        return str(frame.get("user_id")) == rest
    if kind == "entity":
        entity_type, _, entity_id = rest.partition(":")
        return (
            str(frame.get("entity_type")) == entity_type
            and str(frame.get("entity_id")) == entity_id
        )
    return False


class HubSubscription:
    """Frames passing any of ``filters``; filters can change while subscribed."""

    def __init__(self, hub: NotificationHub, filters: Iterable[str]) -> None:
        self.filters: set[str] = {validate_filter(f) for f in filters}
        self.dropped = 0
        self._hub = hub
        self._queue: deque[dict[str, Any]] = deque()
        self._arrived = anyio.Event()
        self.closed = False

    def offer(self, frame: dict[str, Any]) -> None:
        if self.closed or not any(matches_filter(f, frame) for f in self.filters):
            return
        if len(self._queue) >= BUFFER:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(frame)
        self._arrived.set()

    async def get_or_timeout(self, timeout: float) -> dict[str, Any] | None:
        """The next frame, or ``None`` after ``timeout`` seconds (or once closed)."""
        if not self._queue and not self.closed:
            self._arrived = anyio.Event()
            with anyio.move_on_after(timeout):
                await self._arrived.wait()
        return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        self.closed = True
        self._hub._subscriptions.discard(self)
        self._arrived.set()


class NotificationHub:
    """Consumes ``notification.created`` from the bus and offers frames to subscriptions."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._subscriptions: set[HubSubscription] = set()
        self._queue = f"attune.notifier.ws.{uuid.uuid4().hex}"
        self.delivered = 0

    def subscribe(self, filters: Iterable[str] = ()) -> HubSubscription:
        subscription = HubSubscription(self, filters)
        self._subscriptions.add(subscription)
        return subscription

    def publish_local(self, frame: dict[str, Any]) -> None:
        """Offer a frame to every subscription (what the bus consumer does per message)."""
        self.delivered += 1
        for subscription in list(self._subscriptions):
            subscription.offer(frame)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        # One queue per hub (per API or notifier process): transient, so a stopped process
        # leaves no queue behind to fill up.
        await self._bus.declare_queue(
            self._queue, [RoutingKey.NOTIFICATION_CREATED], transient=True
        )
        async with self._bus.consume(self._queue, prefetch=1000) as deliveries:
            task_status.started()
            async for delivery in deliveries:
                for frame in frames_in(delivery.envelope.payload):
                    frame.setdefault("type", "notification")
                    self.publish_local(frame)
                await delivery.ack()
