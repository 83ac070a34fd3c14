"""Queues of the engine and the small helpers every service uses to talk over the Bus.

Rule: a message is a hint to look at a row (``{"execution_id": 7}``), never the data itself;
the handler re-reads the row and acts only if it still needs to (DESIGN.md "Reliability").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import anyio

from attune_core.bus import RoutingKey, worker_dispatch_key
from attune_core.model import Execution, ExecutionStatus
from attune_core.ports import Bus, Delivery

__all__ = [
    "ANY_RUNTIME",
    "EXECUTOR_COMPLETIONS",
    "EXECUTOR_REQUESTS",
    "NOTHING_TO_FOLLOW",
    "VERSIONS_CAPABILITY",
    "Publish",
    "consume_forever",
    "created_message",
    "database_unavailable",
    "follow_up_needed",
    "publish_all",
    "unavailable_delay",
    "worker_control_queue",
    "worker_queue",
]

log = logging.getLogger(__name__)

# capabilities.runtimes entry meaning "every registered runtime" (the embedded worker).
ANY_RUNTIME = "*"
# The capability listing the runtime versions a worker verified on its machine:
# {runtime ref: [version, ...]} (only those available there).
VERSIONS_CAPABILITY = "runtime_versions"

EXECUTOR_REQUESTS = "attune.executor.requests"
EXECUTOR_COMPLETIONS = "attune.executor.completions"

# A message to send once the transaction that decided it has committed.
Publish = tuple[str, Mapping[str, Any]]

# The header of an ``execution.completed`` that leaves the executors nothing to do, which
# their queue is declared to keep out (``unless``): the completion of a top-level execution
# whose action had no concurrency policy, or one whose follow-up its worker's process did.
NOTHING_TO_FOLLOW: Mapping[str, Any] = MappingProxyType({"follow_up": False})


def follow_up_needed(payload: Mapping[str, Any]) -> bool:
    """Whether the executors have work on an ``execution.completed`` with this payload (a
    workflow to advance, a policy slot to free), as far as the payload tells: ``False`` only
    when it says so (``followed``, or no parent and ``policies`` false), so a completion
    from elsewhere, which says neither, still reaches them."""
    if payload.get("followed"):
        return False
    return not (
        "parent" in payload and payload["parent"] is None and payload.get("policies") is False
    )


def _headers(routing_key: str, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if routing_key == RoutingKey.EXECUTION_COMPLETED and not follow_up_needed(payload):
        return NOTHING_TO_FOLLOW
    return None


def created_message(execution: Execution) -> Publish:
    """What to publish once a new execution committed: its dispatch when it was created
    scheduled on a worker (``Executor.place``), else ``execution.requested``."""
    if execution.status is ExecutionStatus.SCHEDULED and execution.worker is not None:
        return (worker_dispatch_key(execution.worker), {"execution_id": execution.id})
    return (RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id})


def worker_queue(worker_id: int) -> tuple[str, Sequence[str]]:
    """The queue (and its bindings) of executions dispatched to one worker."""
    return f"attune.worker.{worker_id}", [worker_dispatch_key(worker_id)]


def worker_control_queue(worker_id: int) -> tuple[str, Sequence[str]]:
    """The queue (and its bindings) on which a worker hears cancel requests."""
    return f"attune.worker.{worker_id}.control", [RoutingKey.EXECUTION_CANCEL]


# Publishers of one publish_all: enough confirms in flight to hide a broker's round trip,
# few enough that a batch of events (hundreds of messages) does not spawn a task per message.
PUBLISHERS = 8


async def publish_all(bus: Bus, messages: Sequence[Publish]) -> None:
    """Publish messages decided by a committed transaction.

    Several messages are published concurrently (by at most ``PUBLISHERS`` tasks), so a
    broker adapter with pipelined publisher confirms pays about one round trip per
    ``PUBLISHERS`` messages instead of one per message. They are hints to look at committed
    rows, so their relative order does not matter.
    """
    if len(messages) == 1:
        routing_key, payload = messages[0]
        await bus.publish(routing_key, payload, headers=_headers(routing_key, payload))
        return

    async def publish(share: Sequence[Publish]) -> None:
        for routing_key, payload in share:
            await bus.publish(routing_key, payload, headers=_headers(routing_key, payload))

    publishers = min(len(messages), PUBLISHERS)
    async with anyio.create_task_group() as tg:
        for first in range(publishers):
            tg.start_soon(publish, messages[first::publishers])


def unavailable_delay(retry_count: int) -> float:
    """Seconds a message waits before it is requeued while the database is unavailable."""
    return float(min(0.5 * 2 ** min(retry_count, 10), 10.0))


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (not that the work is wrong)."""
    import sqlalchemy.exc as sa_exc

    from attune_core.errors import StorageError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageError | OSError | sa_exc.DBAPIError | TimeoutError):
            return True
        if isinstance(current, sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


async def consume_forever(
    bus: Bus,
    queue: str,
    handler: Callable[[Mapping[str, Any]], Awaitable[None]],
    *,
    prefetch: int,
    name: str,
) -> None:
    """Handle every message of ``queue`` concurrently (up to ``prefetch`` at once).

    A message is acknowledged after its handler returned (its transaction committed). A
    handler that raises gets its message requeued (and dead-lettered after repeated failures
    by the bus), is logged, and never stops the consumer. When the database cannot be reached
    (a restart, a failover), the message is held ``unavailable_delay`` seconds before it goes
    back (0.5 s doubling to 10 s with each delivery), so an outage of up to about a minute
    does not use up its deliveries and dead-letter it.
    """

    async def handle(delivery: Delivery) -> None:
        try:
            await handler(delivery.envelope.payload)
        except Exception as exc:
            unavailable = database_unavailable(exc)
            if unavailable:
                log.warning(
                    "%s could not handle %s: the database is unavailable (%s); retrying",
                    name,
                    delivery.envelope.message_type,
                    exc,
                    extra={"message_id": delivery.envelope.message_id},
                )
                await anyio.sleep(unavailable_delay(delivery.envelope.retry_count))
            else:
                log.exception(
                    "%s failed to handle %s",
                    name,
                    delivery.envelope.message_type,
                    extra={"message_id": delivery.envelope.message_id},
                )
            await delivery.nack(requeue=True)
        else:
            await delivery.ack()

    async with bus.consume(queue, prefetch=prefetch) as deliveries, anyio.create_task_group() as tg:
        async for delivery in deliveries:
            tg.start_soon(handle, delivery)
