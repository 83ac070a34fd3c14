"""The ports the engine depends on: small protocols with real and in-memory adapters.

Rule: engine code (executor, worker, sensors, ...) talks to these protocols only. Adapters live
elsewhere (``attune_core.storage`` for the Store, ``attune_core.bus`` and
``attune_services.amqp`` for the Bus, :mod:`attune_core.clock` for clocks) and are chosen by the
composition root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from attune_core.bus import Envelope

__all__ = ["Bus", "Clock", "Delivery"]


@runtime_checkable
class Clock(Protocol):
    """Time as the engine sees it. Tests move a :class:`~attune_core.clock.FakeClock`."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class Delivery(Protocol):
    """A message handed to one consumer. Acknowledge only after the database change committed;
    a delivery neither acked nor nacked when its consumer goes away is redelivered."""

    @property
    def envelope(self) -> Envelope: ...

    async def ack(self) -> None:
        """Done: the message will not be delivered again."""
        ...

    async def nack(self, *, requeue: bool = True) -> None:
        """Not done: requeue it for another delivery, or drop it (dead-letter) if not."""
        ...


class Bus(Protocol):
    """At-least-once messaging with competing consumers per queue (DESIGN.md "The bus port").

    Queues are declared with the routing-key patterns they receive (AMQP topic syntax); every
    message published with a matching key is stored in each such queue, and each stored
    message goes to one consumer of that queue at a time.
    """

    async def declare_queue(
        self,
        name: str,
        bindings: Sequence[str],
        *,
        transient: bool = False,
        unless: Mapping[str, Any] | None = None,
    ) -> None:
        """Create the queue (idempotent) and bind it to ``bindings``.

        ``transient`` marks a queue that belongs to one process (a waiter, a notifier, one
        worker's control channel): the broker may delete it once nobody consumes it, instead
        of keeping it, and filling it, forever.

        ``unless``: a message whose envelope headers hold every one of these values is not
        stored in this queue (every other queue bound to its key still gets it), so its
        consumers are not handed messages they would only acknowledge. Declare a queue with
        the same ``unless`` every time (InMemoryBus refuses another: ``ValueError``); not for
        transient queues (``ValueError``).
        """
        ...

    async def publish(
        self,
        routing_key: str,
        payload: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Envelope:
        """Publish a message; returns the envelope as sent."""
        ...

    def consume(
        self, queue: str, *, prefetch: int = 10
    ) -> AbstractAsyncContextManager[AsyncIterator[Delivery]]:
        """Consume ``queue``: ``async with bus.consume(q) as deliveries: async for d in ...``."""
        ...
