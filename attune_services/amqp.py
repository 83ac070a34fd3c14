"""The RabbitMQ Bus: the Bus port of ``attune_core.ports`` on a RabbitMQ broker (aio-pika).

Rules of this file (DESIGN.md "The bus port" and "Reliability rules"):

1. Same vocabulary, same semantics as :class:`attune_core.bus.InMemoryBus`: the method names of
   the port, topic routing over the contract's exchanges, at-least-once delivery, competing
   consumers, ``prefetch`` unacknowledged deliveries per consumer, ``retry_count`` + 1 on each
   redelivery, dead-lettering after ``max_deliveries`` deliveries or on ``nack(requeue=False)``.
   The shared contract suite (``tests/integration/bus``) runs the same tests on both.
2. Nothing is lost: exchanges and queues are durable, messages persistent, and ``publish``
   returns only once the broker confirmed the message (publisher confirms; concurrent publishes
   share one channel so their confirms are pipelined, never one round trip each).
3. Queues are quorum queues: the broker counts deliveries (``x-delivery-count``) and
   dead-letters a message to ``attune.dlx`` past ``x-delivery-limit`` by itself, with the
   at-least-once dead-letter strategy, so a poison message never loops and never vanishes.
4. Reconnect, never give up silently: the connection is aio-pika's robust connection (exchanges,
   queues, bindings, qos and consumers are restored) with a growing pause between attempts; a
   publish or declaration interrupted by a lost connection is retried once the channel is back,
   until ``operation_timeout`` runs out (then :class:`BusError`).
5. "No duplicate" means no duplicate *work*, not no duplicate *message*: a publish whose confirm
   was lost is sent again (same ``message_id``), and an ack lost with its connection lets the
   broker redeliver. Handlers are idempotent (they re-read the row and act only if it still needs
   it), which is what makes both harmless. A delivery buffered from a dead channel is dropped
   before it reaches the consumer, since the broker already requeued it.
6. asyncio only (aio-pika is): run under anyio's asyncio backend.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aio_pika
import aio_pika.abc
import aiormq.exceptions
import anyio
import attrs
from aio_pika.robust_connection import RobustConnection

from attune_core.bus import (
    EXCHANGE_DEAD_LETTERS,
    EXCHANGE_EVENTS,
    EXCHANGE_EXECUTIONS,
    EXCHANGE_NOTIFICATIONS,
    Envelope,
    exchange_for,
)
from attune_core.errors import AttuneError

__all__ = ["DEFAULT_MAX_DELIVERIES", "BusError", "RabbitMQBus"]

log = logging.getLogger(__name__)

# Same default as InMemoryBus: a message that failed ten times is poison, not bad luck.
DEFAULT_MAX_DELIVERIES = 10
# How long publish/declare keep retrying through a broker outage before raising: long enough
# for a broker restart or a cluster failover, short enough that a caller notices a dead broker.
DEFAULT_OPERATION_TIMEOUT = 60.0
# Reconnect pauses grow with the length of the outage, from 0.5 s up to 30 s (see _Backoff).
RECONNECT_MIN = 0.5
RECONNECT_MAX = 30.0
# Suffix of the dead-letter queue of each queue.
DEAD_LETTER_SUFFIX = ".dlq"
# A transient queue outlives a short disconnection of its process (robust reconnects
# re-declare it) but not its process: unused for a minute, the broker deletes it.
TRANSIENT_QUEUE_EXPIRY_MS = 60_000
# The exchanges messages are published to (attune.dlx only receives dead letters).
PUBLISHING_EXCHANGES = (EXCHANGE_EVENTS, EXCHANGE_EXECUTIONS, EXCHANGE_NOTIFICATIONS)
# Where a queue's ``unless`` filter sends the messages it keeps out: bound to nothing, so the
# broker drops them (see RabbitMQBus.declare_queue).
EXCHANGE_DISCARD = "attune.discard"
# Suffixes of the two exchanges in front of a queue with an ``unless`` filter.
FILTER_SUFFIX, PASS_SUFFIX = ".filter", ".pass"

# Errors that mean "the broker refused this for good": retrying cannot help.
_PERMANENT = (
    aiormq.exceptions.ChannelPreconditionFailed,
    aiormq.exceptions.ChannelNotFoundEntity,
    aiormq.exceptions.ChannelAccessRefused,
    aiormq.exceptions.ChannelLockedResource,
)
# Errors that mean "the connection or channel went away (or the broker could not store the
# message)": wait for the robust connection to come back and try again.
_TRANSIENT = (
    aiormq.exceptions.AMQPError,  # ConnectionClosed, ChannelClosed, DeliveryError (a nack), ...
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)

T = TypeVar("T")


class BusError(AttuneError):
    """The broker could not be reached (or refused the message) for ``operation_timeout``."""

    code = "SERVICE_UNAVAILABLE"


class _BackoffConnection(RobustConnection):
    """aio-pika's robust connection with a reconnect pause that grows with the outage.

    aio-pika sleeps ``reconnect_interval`` between attempts; here that value is half the time
    the connection has been down (so each pause is ~1.5x the previous one: exponential backoff),
    between :data:`RECONNECT_MIN` and :data:`RECONNECT_MAX`, with +-20 % jitter so that many
    services do not reconnect in lockstep after a broker restart.
    """

    _lost_at: float | None = None
    _base_interval: float = RECONNECT_MIN
    max_interval: float = RECONNECT_MAX
    reconnects: int = 0

    @property
    def reconnect_interval(self) -> float:
        if self._lost_at is None:
            return self._base_interval
        down_for = time.monotonic() - self._lost_at
        pause = min(self.max_interval, max(self._base_interval, down_for / 2))
        return pause * random.uniform(0.8, 1.2)

    @reconnect_interval.setter
    def reconnect_interval(self, value: float) -> None:
        self._base_interval = float(value)

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        if not (self._close_called or self.is_closed) and self._lost_at is None:
            self._lost_at = time.monotonic()
            log.warning("RabbitMQ connection lost; reconnecting", extra={"broker": str(self)})
        await super()._on_connection_close(closing)

    async def _on_connected(self) -> None:
        await super()._on_connected()
        if self._lost_at is not None:
            self.reconnects += 1
            log.info(
                "RabbitMQ connection restored after %.1f s",
                time.monotonic() - self._lost_at,
                extra={"broker": str(self)},
            )
            self._lost_at = None


def _exchanges_for_binding(pattern: str) -> tuple[str, ...]:
    """The exchanges that can carry a key matching ``pattern``.

    A key is published to exactly one exchange (:func:`exchange_for`, decided by its first
    word), so a binding goes to every exchange whose keys the pattern can match: all of them
    when the first word is a wildcard, otherwise the exchange of that word (and, for
    ``execution.#`` which also matches the one-word key ``execution``, that key's exchange).
    """
    head, *rest = pattern.split(".")
    if head in ("*", "#"):
        return PUBLISHING_EXCHANGES
    exchanges: list[str] = []
    if rest:  # matches keys of two words or more
        exchanges.append(exchange_for(f"{head}.x"))
    if all(word == "#" for word in rest):  # also matches the one-word key `head`
        exchanges.append(exchange_for(head))
    return tuple(dict.fromkeys(exchanges))


class _Delivery:
    """One message handed to one consumer (the port's ``Delivery``)."""

    def __init__(self, message: aio_pika.abc.AbstractIncomingMessage, envelope: Envelope) -> None:
        self._message = message
        self._envelope = envelope
        self._settled = False

    @property
    def envelope(self) -> Envelope:
        return self._envelope

    async def ack(self) -> None:
        """Done: the broker forgets the message."""
        await self._settle(self._message.ack, "ack")

    async def nack(self, *, requeue: bool = True) -> None:
        """Requeue the message (``retry_count`` + 1), or dead-letter it if not ``requeue``."""
        await self._settle(lambda: self._message.reject(requeue=requeue), "nack")

    async def _settle(self, settle: Callable[[], Awaitable[None]], what: str) -> None:
        if self._settled:
            return
        self._settled = True
        try:
            await settle()
        except _TRANSIENT:
            # The channel this message came on is gone, and with it the delivery: the broker
            # has requeued the message and will hand it out again (rule 5).
            log.warning(
                "%s of %s lost with its channel; the broker redelivers it",
                what,
                self._envelope.message_type,
                extra={"message_id": self._envelope.message_id},
            )


class _Consumer:
    """The async iterator of deliveries of one ``consume`` (one channel, one AMQP consumer)."""

    def __init__(self, queue: str, closed: asyncio.Event) -> None:
        self._queue = queue
        self._bus_closed = closed
        self._messages: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()
        self._held_back: deque[aio_pika.abc.AbstractIncomingMessage] = deque()

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        # The broker stops at `prefetch` unacknowledged messages, which bounds this buffer.
        self._messages.put_nowait(message)

    def __aiter__(self) -> _Consumer:
        return self

    async def __anext__(self) -> _Delivery:
        while True:
            message = await self._next_message()
            try:
                message.channel  # noqa: B018  (raises once the channel is closed)
            except aiormq.exceptions.ChannelInvalidStateError:
                continue  # from a channel that died: the broker already requeued it (rule 5)
            try:
                envelope = _decode(message)
            except (ValueError, KeyError, TypeError):
                log.error(
                    "malformed message on %s dead-lettered",
                    self._queue,
                    extra={"message_id": message.message_id},
                )
                await _Delivery(message, _placeholder(message)).nack(requeue=False)
                continue
            return _Delivery(message, envelope)

    async def _next_message(self) -> aio_pika.abc.AbstractIncomingMessage:
        if self._held_back:
            return self._held_back.popleft()
        if not self._messages.empty():
            return self._messages.get_nowait()
        getter = asyncio.ensure_future(self._messages.get())
        closed = asyncio.ensure_future(self._bus_closed.wait())
        try:
            await asyncio.wait((getter, closed), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            if getter.done() and not getter.cancelled():
                # Cancelled just as a message arrived: keep it for the next call, or it would
                # hold a prefetch slot until the consumer leaves.
                self._held_back.append(getter.result())
            raise
        finally:
            closed.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        raise StopAsyncIteration  # the bus was closed


def _encode(envelope: Envelope) -> aio_pika.Message:
    return aio_pika.Message(
        body=json.dumps(envelope.to_dict(), separators=(",", ":")).encode(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=envelope.message_id,
        correlation_id=envelope.correlation_id,
        type=envelope.message_type,
        timestamp=envelope.timestamp,
        # Also as the message's own headers, which a headers exchange (a queue's ``unless``
        # filter) routes by.
        headers=envelope.headers,
    )


def _decode(message: aio_pika.abc.AbstractIncomingMessage) -> Envelope:
    """The envelope of a delivery, ``retry_count`` raised by the broker's delivery count."""
    envelope = Envelope.from_dict(json.loads(message.body))
    delivered_before = (message.headers or {}).get("x-delivery-count")
    if not isinstance(delivered_before, int) or delivered_before <= 0:
        return envelope
    return attrs.evolve(
        envelope,
        headers={**envelope.headers, "retry_count": envelope.retry_count + delivered_before},
    )


def _placeholder(message: aio_pika.abc.AbstractIncomingMessage) -> Envelope:
    """Stands for a message whose body is not an envelope (``headers.malformed``)."""
    return Envelope(
        message_type=message.type or "",
        payload={},
        message_id=message.message_id or "",
        headers={"malformed": True},
    )


class RabbitMQBus:
    """A Bus on RabbitMQ 3.10+ (quorum queues, publisher confirms, dead letters).

    Open it with :meth:`connect` (or ``async with await RabbitMQBus.connect(url) as bus``) and
    close it with :meth:`close`. Topology (see docs/deployment.md "Message bus (RabbitMQ)"):

    - durable topic exchanges ``attune.events``, ``attune.executions``,
      ``attune.notifications`` (a key goes to :func:`attune_core.bus.exchange_for` its key) and
      ``attune.dlx`` for dead letters;
    - each declared queue is a durable quorum queue bound to the exchanges its patterns can
      match, with ``x-delivery-limit = max_deliveries - 1`` and a dead-letter queue
      ``<queue>.dlq`` bound to ``attune.dlx`` with the queue's name as routing key.

    Every name is prefixed with ``name_prefix`` (empty in production; tests use a random one so
    they can run in parallel on one broker without a vhost each).
    """

    def __init__(
        self,
        connection: aio_pika.abc.AbstractRobustConnection,
        *,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        name_prefix: str = "",
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
    ) -> None:
        """Wrap an open robust connection; prefer :meth:`connect`, which also declares."""
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        self._connection = connection
        self._max_deliveries = max_deliveries
        self._prefix = name_prefix
        self._operation_timeout = operation_timeout
        self._closed = asyncio.Event()
        self._publisher: aio_pika.abc.AbstractRobustChannel | None = None
        self._topology: aio_pika.abc.AbstractRobustChannel | None = None
        self._exchanges: dict[str, aio_pika.abc.AbstractExchange] = {}
        self._declared: dict[str, None] = {}  # queue names (unprefixed), in order
        # Messages confirmed by the broker, by routing key (metrics: `attune serve` logs them).
        self.published: collections.Counter[str] = collections.Counter()

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        name_prefix: str = "",
        connection_name: str | None = None,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
        reconnect_interval: float = RECONNECT_MIN,
        connect_timeout: float = 10.0,
        heartbeat: int = 60,
    ) -> RabbitMQBus:
        """Connect to ``url`` (``amqp://user:password@host:5672/vhost``) and declare exchanges.

        Args:
            url: The broker URL.
            max_deliveries: Deliveries after which a message is dead-lettered (poison). It is
                a queue argument, fixed when a queue is first declared.
            name_prefix: Prefix of every exchange and queue name.
            connection_name: Shown by ``rabbitmqctl list_connections user_provided_name``.
            operation_timeout: Seconds publish and declare retry through an outage.
            reconnect_interval: The first (shortest) pause between reconnect attempts.
            connect_timeout: Seconds to wait for the broker when connecting
                (``message_queue.connect_timeout``).
            heartbeat: AMQP heartbeat in seconds, 0 disables it (``message_queue.heartbeat``).
                It is what detects a peer that vanished without closing the socket.

        Raises:
            BusError: The broker is unreachable now (the first connection does not retry).
        """
        try:
            connection = await aio_pika.connect_robust(
                url,
                connection_class=_BackoffConnection,
                client_properties={"connection_name": connection_name or "attune"},
                reconnect_interval=reconnect_interval,
                heartbeat=heartbeat,
                timeout=connect_timeout,
            )
        except _TRANSIENT as exc:
            raise BusError(f"RabbitMQ is unreachable at {_safe_url(url)}: {exc}") from exc
        bus = cls(
            connection,
            max_deliveries=max_deliveries,
            name_prefix=name_prefix,
            operation_timeout=operation_timeout,
        )
        try:
            await bus._open()
        except BaseException:
            await connection.close()
            raise
        return bus

    async def _open(self) -> None:
        self._publisher = await self._channel(publisher_confirms=True)
        self._topology = await self._channel(publisher_confirms=False)
        for name in (*PUBLISHING_EXCHANGES, EXCHANGE_DEAD_LETTERS):
            self._exchanges[name] = await self._publisher.declare_exchange(
                self._name(name), aio_pika.ExchangeType.TOPIC, durable=True
            )

    async def _channel(self, *, publisher_confirms: bool) -> aio_pika.abc.AbstractRobustChannel:
        channel = self._connection.channel(publisher_confirms=publisher_confirms)
        await channel.initialize()
        assert isinstance(channel, aio_pika.abc.AbstractRobustChannel)
        return channel

    async def close(self) -> None:
        """Close the connection. Unacknowledged deliveries go back to their queues."""
        self._closed.set()
        await self._connection.close()

    async def __aenter__(self) -> RabbitMQBus:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def name_prefix(self) -> str:
        """The prefix of every exchange and queue name of this bus."""
        return self._prefix

    @property
    def declared_queues(self) -> tuple[str, ...]:
        """The queues this bus declared (without the prefix), in order."""
        return tuple(self._declared)

    @property
    def reconnects(self) -> int:
        """How many times the connection was lost and restored (for health and metrics)."""
        connection = self._connection
        return connection.reconnects if isinstance(connection, _BackoffConnection) else 0

    @property
    def connected(self) -> bool:
        """Whether the connection to the broker is up right now."""
        return bool(self._connection.connected.is_set()) and not self._closed.is_set()

    # -- the Bus port -------------------------------------------------------------------------

    async def declare_queue(
        self,
        name: str,
        bindings: Sequence[str],
        *,
        transient: bool = False,
        unless: Mapping[str, Any] | None = None,
    ) -> None:
        """Create the quorum queue and its dead-letter queue (idempotent) and bind it.

        A ``transient`` queue (one process's own) is a classic, non-durable queue without a
        dead-letter queue, which the broker deletes after :data:`TRANSIENT_QUEUE_EXPIRY_MS`
        without consumers.

        With ``unless``, the queue is bound through two exchanges of its own instead: the
        publishing exchanges feed ``{queue}.filter`` (headers) with the queue's patterns; it
        routes messages whose headers hold every value of ``unless`` to ``attune.discard``
        (bound to nothing: dropped) and, as its alternate exchange, everything else to
        ``{queue}.pass`` (fanout), bound to the queue. Direct bindings an earlier declaration
        made are removed, so no message arrives twice.

        Raises:
            BusError: The queue exists with other arguments (e.g. another ``max_deliveries``:
                change it with a policy, see docs/deployment.md), or the broker stayed
                unreachable for ``operation_timeout``.
        """
        channel = self._topology
        assert channel is not None, "RabbitMQBus.connect() opens the bus"
        if transient and unless:
            raise ValueError(f"queue {name!r}: a transient queue takes no 'unless' filter")
        queue_name = self._name(name)
        dead_letters = queue_name + DEAD_LETTER_SUFFIX

        async def declare() -> None:
            if transient:
                own = await channel.declare_queue(
                    queue_name,
                    durable=False,
                    arguments={"x-queue-type": "classic", "x-expires": TRANSIENT_QUEUE_EXPIRY_MS},
                )
                for pattern in bindings:
                    for exchange in _exchanges_for_binding(pattern):
                        await own.bind(self._name(exchange), routing_key=pattern)
                return
            dlq = await channel.declare_queue(
                dead_letters, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await dlq.bind(self._name(EXCHANGE_DEAD_LETTERS), routing_key=queue_name)
            queue = await channel.declare_queue(
                queue_name, durable=True, arguments=self._queue_arguments(queue_name)
            )
            if unless:
                await self._bind_filtered(channel, queue, bindings, unless)
                return
            for pattern in bindings:
                for exchange in _exchanges_for_binding(pattern):
                    await queue.bind(self._name(exchange), routing_key=pattern)

        await self._retrying(f"declare queue {queue_name}", declare)
        self._declared[name] = None

    async def publish(
        self,
        routing_key: str,
        payload: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Envelope:
        """Publish a persistent message; returns once the broker confirmed it.

        Concurrent calls share one channel and are confirmed together (pipelined). A message
        bound to no queue is dropped by the broker, as AMQP does.

        Raises:
            TypeError: ``payload`` or ``headers`` are not JSON-serialisable.
            BusError: Not confirmed within ``operation_timeout`` (broker unreachable).
        """
        envelope = Envelope(
            message_type=routing_key,
            payload=dict(payload),
            correlation_id=correlation_id,
            headers={"retry_count": 0, **(headers or {})},
        )
        message = _encode(envelope)
        exchange = self._exchanges[exchange_for(routing_key)]

        async def send() -> None:
            await exchange.publish(message, routing_key, mandatory=False)

        await self._retrying(f"publish {routing_key}", send)
        self.published[routing_key] += 1
        return envelope

    @asynccontextmanager
    async def consume(self, queue: str, *, prefetch: int = 10) -> AsyncIterator[_Consumer]:
        """Consume ``queue`` on a channel of its own with ``prefetch`` unacked deliveries.

        Leaving the ``async with`` closes the channel: the broker requeues every delivery that
        was not settled (``retry_count`` + 1 on its next delivery). After a reconnect the
        consumer is restored and iteration goes on. Iteration ends when the bus is closed.

        Raises:
            KeyError: ``queue`` was never declared.
            BusError: The broker stayed unreachable for ``operation_timeout``.
        """
        consumer = _Consumer(queue, self._closed)

        async def start() -> aio_pika.abc.AbstractRobustChannel:
            channel = await self._channel(publisher_confirms=False)
            try:
                await channel.set_qos(prefetch_count=max(1, prefetch))
                try:
                    amqp_queue = await channel.declare_queue(self._name(queue), passive=True)
                except aiormq.exceptions.ChannelNotFoundEntity:
                    raise KeyError(f"queue {queue!r} was not declared") from None
                await amqp_queue.consume(consumer.on_message, no_ack=False)
            except BaseException:
                await _close_quietly(channel)
                raise
            return channel

        channel = await self._retrying(f"consume {self._name(queue)}", start)
        try:
            yield consumer
        finally:
            await _close_quietly(channel)

    # -- inspection and housekeeping (tests, tools; the engine does not need them) ------------

    async def queued_count(self, queue: str) -> int:
        """Messages ready in ``queue`` (not handed to a consumer)."""
        return await self._message_count(self._name(queue))

    async def dead_letters(self, queue: str) -> list[Envelope]:
        """The messages dead-lettered from ``queue``, oldest first, left in place.

        Each envelope's headers gain ``dead_letter_reason``: ``rejected`` (``nack(requeue=
        False)``, or a body that is no envelope: then the payload is empty and
        ``headers.malformed`` is true) or ``delivery_limit`` (poison: ``max_deliveries``
        reached).
        """
        channel = await self._channel(publisher_confirms=False)
        found: list[Envelope] = []
        try:
            dlq = await channel.declare_queue(
                self._name(queue) + DEAD_LETTER_SUFFIX, passive=True, robust=False
            )
            # Unacknowledged gets keep each message out of the way of the next get; closing
            # the channel puts them all back.
            while (message := await dlq.get(no_ack=False, fail=False)) is not None:
                try:
                    envelope = Envelope.from_dict(json.loads(message.body))
                except (ValueError, KeyError, TypeError):
                    envelope = _placeholder(message)
                reason = (message.headers or {}).get("x-first-death-reason")
                found.append(
                    attrs.evolve(
                        envelope, headers={**envelope.headers, "dead_letter_reason": reason}
                    )
                )
        finally:
            await _close_quietly(channel)
        return found

    async def delete_topology(self, queues: Iterable[str] | None = None) -> None:
        """Delete queues (default: those this bus declared), their dead-letter queues and the
        exchanges, messages included. For tests and for uninstalling; never while in use."""
        assert self._topology is not None and self._publisher is not None
        for name in list(queues if queues is not None else self._declared):
            queue_name = self._name(name)
            for doomed in (queue_name, queue_name + DEAD_LETTER_SUFFIX):
                await self._topology.queue_delete(doomed, if_unused=False, if_empty=False)
            for exchange in (queue_name + FILTER_SUFFIX, queue_name + PASS_SUFFIX):
                await self._publisher.exchange_delete(exchange)
            self._declared.pop(name, None)
        for exchange in (*PUBLISHING_EXCHANGES, EXCHANGE_DEAD_LETTERS, EXCHANGE_DISCARD):
            await self._publisher.exchange_delete(self._name(exchange))

    # -- internals ------------------------------------------------------------------------------

    async def _bind_filtered(
        self,
        channel: aio_pika.abc.AbstractChannel,
        queue: aio_pika.abc.AbstractQueue,
        bindings: Sequence[str],
        unless: Mapping[str, Any],
    ) -> None:
        """Bind ``queue`` through its filter exchanges (see :meth:`declare_queue`)."""
        discard = await channel.declare_exchange(
            self._name(EXCHANGE_DISCARD), aio_pika.ExchangeType.FANOUT, durable=True
        )
        passed = await channel.declare_exchange(
            queue.name + PASS_SUFFIX, aio_pika.ExchangeType.FANOUT, durable=True
        )
        filtered = await channel.declare_exchange(
            queue.name + FILTER_SUFFIX,
            aio_pika.ExchangeType.HEADERS,
            durable=True,
            arguments={"alternate-exchange": passed.name},
        )
        await discard.bind(filtered, arguments={"x-match": "all", **unless})
        await queue.bind(passed)
        for pattern in bindings:
            for exchange in _exchanges_for_binding(pattern):
                await filtered.bind(self._name(exchange), routing_key=pattern)
                await queue.unbind(self._name(exchange), routing_key=pattern)

    def _name(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def _queue_arguments(self, queue_name: str) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            # The broker counts deliveries; past the limit it dead-letters instead of
            # requeueing. The count starts at 0, so N deliveries are allowed by limit N - 1.
            "x-delivery-limit": self._max_deliveries - 1,
            "x-dead-letter-exchange": self._name(EXCHANGE_DEAD_LETTERS),
            "x-dead-letter-routing-key": queue_name,
            # Keep a dead letter in the source queue until its dead-letter queue confirmed it
            # (the default, at-most-once, may lose it). It requires reject-publish overflow.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    async def _message_count(self, queue_name: str) -> int:
        channel = await self._channel(publisher_confirms=False)
        try:
            queue = await channel.declare_queue(queue_name, passive=True, robust=False)
            declared = queue.declaration_result
            return int(declared.message_count or 0)
        finally:
            await _close_quietly(channel)

    async def _retrying(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation``; on a lost connection wait for the channels and run it again."""
        deadline = time.monotonic() + self._operation_timeout
        pause = 0.05
        while True:
            if self._closed.is_set():
                raise BusError(f"{what}: the bus is closed")
            try:
                return await operation()
            except _PERMANENT as exc:
                raise BusError(f"{what}: refused by the broker: {exc}") from exc
            except _TRANSIENT as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BusError(
                        f"{what}: broker unreachable for {self._operation_timeout:.0f} s: {exc!r}"
                    ) from exc
                log.warning("%s interrupted (%r); retrying once reconnected", what, exc)
                await self._wait_ready(min(pause, remaining), remaining)
                pause = min(pause * 2, 1.0)

    async def _wait_ready(self, pause: float, limit: float) -> None:
        await asyncio.sleep(pause)
        channels = [c for c in (self._publisher, self._topology) if c is not None]
        try:
            async with asyncio.timeout(max(0.0, limit - pause)):
                for channel in channels:
                    await channel.ready()
        except TimeoutError:
            return  # the caller sees the deadline passed on its next failure


async def _close_quietly(channel: aio_pika.abc.AbstractChannel) -> None:
    """Close a channel even while cancelled or disconnected (the broker then drops it anyway)."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(5):
        try:
            await channel.close()
        except _TRANSIENT:
            log.debug("channel close did not complete", exc_info=True)


def _safe_url(url: str) -> str:
    """``url`` without its password, for error messages."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
