"""The in-memory Bus: the same delivery semantics as the RabbitMQ adapter, in one process.

Rules (DESIGN.md "The bus port"), honoured here so the engine is tested against them:
1. At least once: a delivery is settled only by ``ack``; one that is neither acked nor nacked
   when its consumer leaves (``async with`` exits, the task is cancelled) goes back to the
   front of its queue, marked redelivered (``retry_count`` + 1).
2. Competing consumers: each queued message goes to exactly one consumer at a time; at most
   ``prefetch`` unacknowledged deliveries per consumer.
3. Topic routing: a message goes to every queue with a matching binding; with none, it is
   dropped (as AMQP does) but still recorded in :attr:`InMemoryBus.published`.

The routes of a routing key (the queues whose bindings match it) are computed once and kept
until a queue is declared or bound again; waiting uses events created only when somebody waits,
so a publish to a queue nobody is blocked on costs a deque append.
4. Poison messages: after ``max_deliveries`` deliveries, or on ``nack(requeue=False)``, a
   message is dead-lettered (:attr:`InMemoryBus.dead_letters`) instead of redelivered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio

from attune_core.bus._envelope import Envelope, routing_key_matches

__all__ = ["InMemoryBus"]

DEFAULT_MAX_DELIVERIES = 10
# The published log keeps the most recent envelopes only: an embedded engine runs for months.
PUBLISHED_KEPT = 10_000


class _Queue:
    def __init__(self, name: str) -> None:
        self.name = name
        self.bindings: set[str] = set()
        self.unless: dict[str, Any] = {}
        self.messages: deque[Envelope] = deque()
        self._arrived: anyio.Event | None = None

    def put(self, envelope: Envelope, *, front: bool = False) -> None:
        if front:
            self.messages.appendleft(envelope)
        else:
            self.messages.append(envelope)
        if self._arrived is not None:
            self._arrived.set()
            self._arrived = None

    async def get(self) -> Envelope:
        while not self.messages:
            if self._arrived is None:
                self._arrived = anyio.Event()
            await self._arrived.wait()
        return self.messages.popleft()


class _Delivery:
    def __init__(self, consumer: _Consumer, envelope: Envelope) -> None:
        self._consumer = consumer
        self._envelope = envelope
        self.settled = False

    @property
    def envelope(self) -> Envelope:
        return self._envelope

    async def ack(self) -> None:
        self._consumer.settle(self, requeue=None)

    async def nack(self, *, requeue: bool = True) -> None:
        self._consumer.settle(self, requeue=requeue)


class _Consumer:
    def __init__(self, bus: InMemoryBus, queue: _Queue, prefetch: int) -> None:
        self._bus = bus
        self._queue = queue
        self._prefetch = max(1, prefetch)
        self.unacked: list[_Delivery] = []
        self._freed: anyio.Event | None = None

    def settle(self, delivery: _Delivery, *, requeue: bool | None) -> None:
        if delivery.settled:
            return
        delivery.settled = True
        self.unacked.remove(delivery)
        if requeue is True:
            self._bus._requeue(self._queue, delivery.envelope)
        elif requeue is False:
            self._bus.dead_letters.append(delivery.envelope)
        if self._freed is not None:
            self._freed.set()
            self._freed = None

    def release_all(self) -> None:
        for delivery in list(self.unacked):
            self.settle(delivery, requeue=True)

    def __aiter__(self) -> _Consumer:
        return self

    async def __anext__(self) -> _Delivery:
        while len(self.unacked) >= self._prefetch:
            if self._freed is None:
                self._freed = anyio.Event()
            await self._freed.wait()
        envelope = await self._queue.get()
        delivery = _Delivery(self, envelope)
        self.unacked.append(delivery)
        return delivery


class InMemoryBus:
    """A Bus for one process (embedded mode and tests).

    State to inspect: :attr:`published` (the last 10,000 envelopes, in order), :attr:`dead_letters`,
    :meth:`queued` (messages waiting in a queue).
    """

    def __init__(self, *, max_deliveries: int = DEFAULT_MAX_DELIVERIES) -> None:
        self._queues: dict[str, _Queue] = {}
        self._max_deliveries = max_deliveries
        self.published: deque[Envelope] = deque(maxlen=PUBLISHED_KEPT)
        self.dead_letters: list[Envelope] = []
        self._consumers: set[_Consumer] = set()
        self._routes: dict[str, list[_Queue]] = {}

    async def declare_queue(
        self,
        name: str,
        bindings: Sequence[str],
        *,
        transient: bool = False,
        unless: Mapping[str, Any] | None = None,
    ) -> None:
        # Every in-memory queue lives and dies with the process: ``transient`` changes nothing
        # but is refused with a filter, as the broker's adapter refuses it.
        if transient and unless:
            raise ValueError(f"queue {name!r}: a transient queue takes no 'unless' filter")
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = _Queue(name)
            queue.unless = dict(unless or {})
        elif queue.unless != dict(unless or {}):
            raise ValueError(
                f"queue {name!r} was declared with 'unless' {queue.unless!r}, not {unless!r}"
            )
        queue.bindings.update(bindings)
        self._routes.clear()

    async def publish(
        self,
        routing_key: str,
        payload: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Envelope:
        envelope = Envelope(
            message_type=routing_key,
            payload=dict(payload),
            correlation_id=correlation_id,
            headers={"retry_count": 0, **(headers or {})},
        )
        self.published.append(envelope)
        for queue in self._route(routing_key):
            if not queue.unless or not _holds(envelope.headers, queue.unless):
                queue.put(envelope)
        return envelope

    def _route(self, routing_key: str) -> list[_Queue]:
        queues = self._routes.get(routing_key)
        if queues is None:
            queues = self._routes[routing_key] = [
                queue
                for queue in self._queues.values()
                if any(routing_key_matches(pattern, routing_key) for pattern in queue.bindings)
            ]
        return queues

    @asynccontextmanager
    async def consume(self, queue: str, *, prefetch: int = 10) -> AsyncIterator[_Consumer]:
        if queue not in self._queues:
            raise KeyError(f"queue {queue!r} was not declared")
        consumer = _Consumer(self, self._queues[queue], prefetch)
        self._consumers.add(consumer)
        try:
            yield consumer
        finally:
            self._consumers.discard(consumer)
            consumer.release_all()

    @property
    def in_flight(self) -> int:
        """Messages queued or handed out and not yet settled, over all queues."""
        queued = sum(len(queue.messages) for queue in self._queues.values())
        return queued + sum(len(consumer.unacked) for consumer in self._consumers)

    def handed_out(self) -> list[Envelope]:
        """Messages handed to a consumer and not yet settled (state to inspect)."""
        return [d.envelope for consumer in self._consumers for d in consumer.unacked]

    def queued(self, queue: str) -> list[Envelope]:
        """Messages waiting in ``queue`` (not handed to a consumer)."""
        return list(self._queues[queue].messages)

    def _requeue(self, queue: _Queue, envelope: Envelope) -> None:
        again = envelope.redelivered()
        if again.retry_count >= self._max_deliveries:
            self.dead_letters.append(again)
        else:
            queue.put(again, front=True)


def _holds(headers: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether ``headers`` hold every one of ``values`` (as an AMQP headers exchange with
    ``x-match: all`` compares them)."""
    return all(name in headers and headers[name] == value for name, value in values.items())
