"""Notifications: one per change (api-contract.md "Notifier"), delivered to subscribers.

Rules of this file:

1. Changes come from the store's commit listener (``Store.on_commit``), so every path that
   changes an execution, event, enforcement, inquiry or workflow execution is covered, and
   nothing is announced that did not commit.
2. The notifications of one commit are published on the bus as one ``notification.created``
   message (payload = the frame the WebSocket sends, or ``{"frames": [...]}`` when the commit
   made several: one message per commit, not per change; :func:`frames_in` reads both); the
   :class:`Notifier` consumes them and fans them out to in-process subscribers
   (``Attune.subscribe``). The WebSocket service does the same over the network.
3. A slow subscriber never slows the engine: its buffer is bounded and, when full, the
   oldest notifications are dropped for it (counted in :attr:`Subscription.dropped`).
4. With a ``linger`` (distributed services: ``message_queue.notification_linger``), the
   notifications of the commits made within that time go out together, in commit order, as
   one message (at most ``MAX_FRAMES`` frames each): a short action's ``running`` and
   ``completed`` then cost the worker one message instead of two. The wait happens in
   :meth:`Notifier.publish_lingering`, never in the committing task; what is pending when the
   service stops is published before it goes.
5. Every notification is also stored, once, in the ``notification`` table by a
   :class:`NotificationRecorder`: one durable queue that all recorders (the embedded engine,
   every executor service) consume as competitors, in batches (one INSERT per batch, never per
   change), acknowledged after the commit. The retention job purges old rows.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import anyio
import anyio.abc

from attune_core.bus import RoutingKey
from attune_core.errors import ValidationError
from attune_core.model import Notification, NotificationState
from attune_core.ports import Bus, Delivery
from attune_core.storage import Change, Store

__all__ = [
    "NOTIFICATION_LOG_QUEUE",
    "NOTIFICATION_TYPES",
    "NotificationRecorder",
    "Notifier",
    "Subscription",
    "frames_in",
    "matches_filter",
    "notifications_for",
    "validate_filter",
]

log = logging.getLogger(__name__)

NOTIFICATION_TYPES = (
    "execution_created",
    "execution_status_changed",
    "event_created",
    "enforcement_created",
    "enforcement_status_changed",
    "inquiry_created",
    "inquiry_responded",
    "inquiry_timeout",
    "workflow_execution_status_changed",
    # output of a running execution was stored (published by the worker: engine/_live_logs.py)
    "execution_log",
)
DEFAULT_BUFFER = 10_000  # notifications kept per subscriber before the oldest are dropped
MAX_FRAMES = 500  # frames of one notification.created message when lingering (rule 4)
# The durable queue the recorders share (competing consumers: each notification stored once).
NOTIFICATION_LOG_QUEUE = "attune.notifications.log"


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _payload(change: Change) -> dict[str, Any]:
    entity = change.entity
    fields: dict[str, Sequence[str]] = {
        "execution": (
            "id",
            "action_ref",
            "status",
            "parent",
            "enforcement",
            "rule_ref",
            "trigger_ref",
            "worker",
            "started_at",
            "created",
            "updated",
        ),
        "event": ("id", "trigger", "trigger_ref", "rule", "rule_ref", "source_ref", "created"),
        "enforcement": (
            "id",
            "rule",
            "rule_ref",
            "trigger_ref",
            "event",
            "status",
            "created",
            "resolved_at",
        ),
        "inquiry": (
            "id",
            "execution",
            "prompt",
            "assigned_to",
            "status",
            "timeout_at",
            "responded_at",
        ),
        "workflow_execution": ("id", "execution", "status", "paused", "error_message"),
    }
    payload = {name: _plain(getattr(entity, name, None)) for name in fields[change.entity_type]}
    if change.kind == "status":
        payload["old_status"] = _plain(change.old_status)
    return payload


def _notification_type(change: Change) -> str | None:
    kind, entity_type = change.kind, change.entity_type
    if entity_type == "inquiry" and kind == "status":
        status = _plain(change.entity.status)
        return {"responded": "inquiry_responded", "timeout": "inquiry_timeout"}.get(status)
    if kind == "created":
        return {
            "execution": "execution_created",
            "event": "event_created",
            "enforcement": "enforcement_created",
            "inquiry": "inquiry_created",
        }.get(entity_type)
    return {
        "execution": "execution_status_changed",
        "enforcement": "enforcement_status_changed",
        "workflow_execution": "workflow_execution_status_changed",
    }.get(entity_type)


def notifications_for(changes: Iterable[Change], now: datetime) -> list[dict[str, Any]]:
    """The notification frames for committed changes (unannounced kinds are skipped)."""
    frames = []
    for change in changes:
        notification_type = _notification_type(change)
        if notification_type is None:
            continue
        frames.append(
            {
                "type": "notification",
                "notification_type": notification_type,
                "entity_type": change.entity_type,
                "entity_id": change.entity.id,
                "user_id": None,
                "payload": _payload(change),
                "timestamp": now.isoformat(),
            }
        )
    return frames


def validate_filter(text: str) -> str:
    """Check a subscription filter; returns it.

    Raises:
        ValidationError: not one of ``all``, ``entity_type:<t>``, ``entity:<t>:<id>``,
            ``notification_type:<n>``, ``user:<id>``.
    """
    if text == "all":
        return text
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
    """Whether the notification ``frame`` passes the subscription filter ``text``."""
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


class Subscription:
    """Notifications matching a set of filters, as an async iterator of frames.

    Use it as ``async with attune.subscribe("entity_type:execution") as sub: async for frame
    in sub: ...``; leaving the block unsubscribes. It is registered as soon as it is created,
    so nothing committed afterwards is missed.

    Attributes:
        filters: The filters (a frame passing any of them is delivered).
        dropped: Notifications dropped because the buffer was full.
    """

    def __init__(
        self, filters: Sequence[str], on_close: Callable[[Subscription], None], buffer: int
    ) -> None:
        self.filters = [validate_filter(f) for f in filters]
        self.dropped = 0
        self._queue: deque[dict[str, Any]] = deque()
        self._buffer = buffer
        self._arrived = anyio.Event()
        self._closed = False
        self._on_close = on_close

    def offer(self, frame: dict[str, Any]) -> None:
        """Queue ``frame`` if it passes the filters (called by the notifier)."""
        if self._closed or not any(matches_filter(f, frame) for f in self.filters):
            return
        if len(self._queue) >= self._buffer:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(frame)
        self._arrived.set()

    def close(self) -> None:
        """Stop receiving; a pending ``async for`` ends."""
        if not self._closed:
            self._closed = True
            self._on_close(self)
            self._arrived.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._arrived = anyio.Event()
            await self._arrived.wait()
        return self._queue.popleft()

    async def get(self, timeout: float | None = None) -> dict[str, Any]:
        """The next notification (waiting at most ``timeout`` seconds, real time)."""
        with anyio.fail_after(timeout):
            return await self.__anext__()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


class Notifier:
    """Turns committed changes into notifications and delivers them to subscribers."""

    def __init__(self, bus: Bus, now: Callable[[], datetime], *, linger: float = 0.0) -> None:
        self._bus = bus
        self._now = now
        self._subscriptions: set[Subscription] = set()
        self._queue = f"attune.notifier.{uuid.uuid4().hex}"
        self._linger = linger
        self._lingering = False  # publish_lingering runs
        self._pending: list[dict[str, Any]] = []
        self._arrived = anyio.Event()

    async def on_commit(self, changes: list[Change]) -> None:
        """The store's commit listener: publish the notifications of a commit (rules 2, 4)."""
        frames = notifications_for(changes, self._now())
        if not frames:
            return
        if not self._lingering:
            await self._publish(frames)
            return
        self._pending += frames
        self._arrived.set()

    async def _publish(self, frames: list[dict[str, Any]]) -> None:
        if len(frames) == 1:
            await self._bus.publish(RoutingKey.NOTIFICATION_CREATED, frames[0])
        else:
            await self._bus.publish(RoutingKey.NOTIFICATION_CREATED, {"frames": frames})

    async def publish_lingering(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Publish the commits' notifications ``linger`` seconds after the first of a batch
        (rule 4) until cancelled; then what is pending. A publish that fails is logged: the
        notifications are lost, the work they describe is not."""
        if self._linger <= 0:
            task_status.started()
            await anyio.sleep_forever()
        self._lingering = True
        task_status.started()
        try:
            while True:
                await self._arrived.wait()
                if len(self._pending) < MAX_FRAMES:
                    await anyio.sleep(self._linger)
                await self._flush()
        finally:
            self._lingering = False
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await self._flush()

    async def _flush(self) -> None:
        frames, self._pending = self._pending, []
        self._arrived = anyio.Event()
        for start in range(0, len(frames), MAX_FRAMES):
            try:
                await self._publish(frames[start : start + MAX_FRAMES])
            except Exception:
                log.exception("%d notifications not published", len(frames[start:]))
                return

    def subscribe(
        self, filters: str | Sequence[str] = "all", *, buffer: int = DEFAULT_BUFFER
    ) -> Subscription:
        """A new subscription (see :class:`Subscription`)."""
        wanted = [filters] if isinstance(filters, str) else list(filters)
        subscription = Subscription(wanted, self._subscriptions.discard, buffer)
        self._subscriptions.add(subscription)
        return subscription

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Deliver ``notification.created`` messages to the subscribers until cancelled."""
        await self._bus.declare_queue(
            self._queue, [RoutingKey.NOTIFICATION_CREATED], transient=True
        )
        async with self._bus.consume(self._queue, prefetch=1000) as deliveries:
            task_status.started()
            async for delivery in deliveries:
                for frame in frames_in(delivery.envelope.payload):
                    for subscription in list(self._subscriptions):
                        subscription.offer(frame)
                await delivery.ack()


def frames_in(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The frames of a ``notification.created`` message: the payload itself, or the list under
    ``frames`` (all the notifications of one commit, rule 2)."""
    frames = payload.get("frames")
    if isinstance(frames, list):
        return [dict(frame) for frame in frames if isinstance(frame, Mapping)]
    return [dict(payload)]


def notification_row(frame: Mapping[str, Any]) -> Notification:
    """The ``notification`` row of a notification frame: ``channel`` is the notification type,
    ``entity`` the entity id as text, ``activity`` what happened, ``content`` the whole frame."""
    notification_type = str(frame.get("notification_type") or "unknown")
    entity_type = str(frame.get("entity_type") or "unknown")
    prefix = f"{entity_type}_"
    activity = (
        notification_type[len(prefix) :]
        if notification_type.startswith(prefix)
        else notification_type
    )
    return Notification(
        channel=notification_type,
        entity_type=entity_type,
        entity=str(frame.get("entity_id")),
        activity=activity,
        state=NotificationState.CREATED,
        content=dict(frame),
    )


class NotificationRecorder:
    """Stores every notification in the ``notification`` table (rule 4 of this file).

    Args:
        store: The database.
        bus: The message bus.
        batch_size: Notifications stored per transaction at most.
        flush_interval: Seconds (real time: this batches I/O, it is not engine time) a
            notification may wait for its batch to fill.
    """

    def __init__(
        self, store: Store, bus: Bus, *, batch_size: int = 500, flush_interval: float = 0.2
    ) -> None:
        self._store = store
        self._bus = bus
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._pending: list[Delivery] = []
        self._full = anyio.Event()
        self.stored = 0

    @property
    def busy(self) -> bool:
        """Whether notifications wait to be stored (for the test kit's settle)."""
        return bool(self._pending)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Store notifications until cancelled."""
        await self._bus.declare_queue(NOTIFICATION_LOG_QUEUE, [RoutingKey.NOTIFICATION_CREATED])
        async with (
            self._bus.consume(NOTIFICATION_LOG_QUEUE, prefetch=self._batch_size) as deliveries,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(self._flush_forever)
            task_status.started()
            async for delivery in deliveries:
                self._pending.append(delivery)
                if len(self._pending) >= self._batch_size:
                    self._full.set()

    async def _flush_forever(self) -> None:
        while True:
            with anyio.move_on_after(self._flush_interval):
                await self._full.wait()
            self._full = anyio.Event()
            if self._pending:
                await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        rows = []
        for delivery in batch:
            for frame in frames_in(delivery.envelope.payload):
                try:
                    rows.append(notification_row(frame))
                except (TypeError, ValueError):  # pragma: no cover - frames are built by us
                    log.warning("unreadable notification dropped: %r", frame)
        try:
            with anyio.CancelScope(shield=True):
                # One INSERT, atomic by itself: no BEGIN and COMMIT around it.
                async with self._store.transaction(autocommit=True) as uow:
                    self.stored += await uow.notifications.add_many(rows)
        except Exception:
            log.exception("storing %d notifications failed; they will be redelivered", len(rows))
            with anyio.CancelScope(shield=True):
                for delivery in batch:
                    await delivery.nack(requeue=True)
            await anyio.sleep(self._flush_interval)
            return
        with anyio.CancelScope(shield=True):
            for delivery in batch:
                await delivery.ack()
