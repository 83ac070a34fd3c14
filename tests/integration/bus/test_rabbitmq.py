"""RabbitMQ only: what the broker stores and how the adapter behaves where the in-memory bus has
no counterpart (topology on the broker, wire format, malformed messages, outages, closing)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aio_pika
import aiormq.exceptions
import anyio
import pytest

from attune_core.bus import (
    EXCHANGE_DEAD_LETTERS,
    EXCHANGE_EVENTS,
    EXCHANGE_EXECUTIONS,
    EXCHANGE_NOTIFICATIONS,
    exchange_for,
    routing_key_matches,
)
from attune_services.amqp import BusError, RabbitMQBus, _exchanges_for_binding
from tests.conftest import RABBITMQ_URL
from tests.integration.bus.conftest import MAX_DELIVERIES, RabbitMQHarness, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.rabbitmq]

ALL_EXCHANGES = (EXCHANGE_EVENTS, EXCHANGE_EXECUTIONS, EXCHANGE_NOTIFICATIONS)


@pytest.fixture
async def channel() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """A plain aio-pika channel, to look at the broker without the adapter."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


@pytest.mark.parametrize(
    "pattern",
    [
        "execution.requested",
        "execution.*",
        "execution.#",
        "execution",
        "inquiry.#",
        "notification.created",
        "notification.#",
        "event.created",
        "rule.*",
        "*.created",
        "#",
        "#.created",
        "*",
    ],
)
def test_a_binding_reaches_every_exchange_a_matching_key_is_published_to(pattern: str) -> None:
    keys = [
        "execution",
        "execution.requested",
        "execution.status.changed",
        "execution.dispatch.worker.3",
        "inquiry",
        "inquiry.created",
        "notification.created",
        "notification",
        "event.created",
        "rule.enabled",
        "pack.registered",
    ]
    needed = {exchange_for(k) for k in keys if routing_key_matches(pattern, k)}
    bound = set(_exchanges_for_binding(pattern))
    assert needed <= bound
    if pattern.split(".")[0] not in ("*", "#"):
        assert bound == needed  # a literal first word binds nowhere else


async def test_topology_is_durable_and_queues_are_quorum_queues(
    rabbit: RabbitMQHarness, channel: aio_pika.abc.AbstractChannel
) -> None:
    await rabbit.bus.declare_queue("q", ["k"])
    for name in (*ALL_EXCHANGES, EXCHANGE_DEAD_LETTERS):
        # Declaring an existing exchange with other properties fails: it is durable topic.
        await channel.declare_exchange(
            rabbit.prefix + name, aio_pika.ExchangeType.TOPIC, durable=True
        )
    queue = rabbit.prefix + "q"
    expected = {
        "x-queue-type": "quorum",
        "x-delivery-limit": MAX_DELIVERIES - 1,
        "x-dead-letter-exchange": rabbit.prefix + EXCHANGE_DEAD_LETTERS,
        "x-dead-letter-routing-key": queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    await channel.declare_queue(queue, durable=True, arguments=expected)
    await channel.declare_queue(queue + ".dlq", durable=True, arguments={"x-queue-type": "quorum"})
    with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
        await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "classic"})


async def test_messages_are_persistent_json_envelopes(
    rabbit: RabbitMQHarness, channel: aio_pika.abc.AbstractChannel
) -> None:
    await rabbit.bus.declare_queue("q", ["execution.requested"])
    sent = await rabbit.bus.publish(
        "execution.requested", {"execution_id": 9}, headers={"source_service": "api"}
    )
    queue = await channel.declare_queue(rabbit.prefix + "q", passive=True)
    message = await queue.get(timeout=5)
    await message.ack()
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.exchange == rabbit.prefix + EXCHANGE_EXECUTIONS
    assert (message.routing_key, message.type) == ("execution.requested", "execution.requested")
    assert (message.content_type, message.message_id) == ("application/json", sent.message_id)
    assert json.loads(message.body) == sent.to_dict()
    assert sent.to_dict()["headers"]["source_service"] == "api"


async def test_a_queue_bound_directly_before_gets_each_message_once_once_filtered(
    rabbit: RabbitMQHarness, channel: aio_pika.abc.AbstractChannel
) -> None:
    # The executors' completions queue of an earlier version had a direct binding.
    await rabbit.bus.declare_queue("q", ["execution.completed"])
    await rabbit.bus.declare_queue("q", ["execution.completed"], unless={"follow_up": False})
    await rabbit.bus.publish("execution.completed", {"n": 1})
    await rabbit.bus.publish("execution.completed", {"n": 2}, headers={"follow_up": False})
    queue = await channel.declare_queue(rabbit.prefix + "q", passive=True)
    message = await queue.get(timeout=5)
    await message.ack()
    assert json.loads(message.body)["payload"] == {"n": 1}
    assert message.headers["retry_count"] == 0  # the envelope's headers are the message's
    await anyio.sleep(0.3)
    assert await rabbit.bus.queued_count("q") == 0


async def test_a_malformed_message_is_dead_lettered_and_consumption_goes_on(
    rabbit: RabbitMQHarness, channel: aio_pika.abc.AbstractChannel
) -> None:
    bus = rabbit.bus
    await bus.declare_queue("q", ["k"])
    exchange = await channel.get_exchange(rabbit.prefix + EXCHANGE_EVENTS)
    await exchange.publish(aio_pika.Message(b"not json", message_id="bad"), routing_key="k")
    good = await bus.publish("k", {"n": 1})
    async with bus.consume("q") as deliveries:
        with anyio.fail_after(5):
            delivery = await deliveries.__anext__()
        await delivery.ack()
    assert delivery.envelope.message_id == good.message_id

    async def dead_lettered() -> bool:
        return bool(await bus.dead_letters("q"))

    await eventually(dead_lettered)
    [dead_letter] = await bus.dead_letters("q")
    assert dead_letter.message_id == "bad"
    assert dead_letter.headers["malformed"] is True
    dead = await channel.declare_queue(rabbit.prefix + "q.dlq", passive=True)
    message = await dead.get(timeout=5)
    assert (message.body, message.message_id) == (b"not json", "bad")
    await message.ack()


async def test_connect_to_an_unreachable_broker_is_a_bus_error() -> None:
    with pytest.raises(BusError, match=r"unreachable at amqp://guest:\*\*\*@127\.0\.0\.1:1/"):
        await RabbitMQBus.connect("amqp://guest:secret@127.0.0.1:1/")


async def test_publish_gives_up_after_the_operation_timeout(rabbit: RabbitMQHarness) -> None:
    bus = await rabbit.client(breakable=True, operation_timeout=1.0)
    await bus.declare_queue("q", ["k"])
    rabbit.OUTAGE = 30
    await rabbit.cut(bus, "network")
    started = time.monotonic()
    with pytest.raises(BusError, match="broker unreachable"):
        await bus.publish("k", {"n": 1})
    assert time.monotonic() - started < 5
    assert not bus.connected


async def test_redeclaring_with_another_delivery_limit_is_refused(rabbit: RabbitMQHarness) -> None:
    await rabbit.bus.declare_queue("q", ["k"])
    other = await RabbitMQBus.connect(RABBITMQ_URL, name_prefix=rabbit.prefix, max_deliveries=5)
    try:
        with pytest.raises(BusError, match="refused by the broker"):
            await other.declare_queue("q", ["k"])
        await other.publish("k", {"n": 1})  # the bus is still usable
    finally:
        await other.close()
    assert await rabbit.bus.queued_count("q") == 1


async def test_closing_the_bus_ends_consumption_and_publishing(rabbit: RabbitMQHarness) -> None:
    bus = await rabbit.client()
    await bus.declare_queue("q", ["k"])
    ended = anyio.Event()

    async def consume() -> None:
        async with bus.consume("q") as deliveries:
            async for _ in deliveries:
                pass
        ended.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await anyio.sleep(0.1)
        await bus.close()
        with anyio.fail_after(5):
            await ended.wait()
    with pytest.raises(BusError, match="closed"):
        await bus.publish("k", {})
