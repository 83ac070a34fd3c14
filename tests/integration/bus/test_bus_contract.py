"""The Bus contract: every test runs on InMemoryBus and on RabbitMQBus (see conftest.py).

What a test may rely on is what the port promises (DESIGN.md "The bus port"): topic routing,
at-least-once delivery, one consumer per message at a time, prefetch, redelivery with
``retry_count`` + 1, dead letters. Not the order in which a requeued message comes back
relative to messages a consumer already holds (RabbitMQ pushes up to ``prefetch`` ahead).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from attune_core.bus import routing_key_matches
from attune_core.ports import Bus, Delivery
from tests.integration.bus.conftest import MAX_DELIVERIES, Cut, Harness, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.rabbitmq]

# Long enough for a broker on the same machine to have pushed a message it was going to push.
QUIET = 0.3


async def next_delivery(deliveries: AsyncIterator[Delivery], timeout: float = 5) -> Delivery:
    with anyio.fail_after(timeout):
        return await deliveries.__anext__()


async def nothing_more(deliveries: AsyncIterator[Delivery]) -> bool:
    """True if no delivery arrives within :data:`QUIET` seconds."""
    with anyio.move_on_after(QUIET) as scope:
        delivery = await deliveries.__anext__()
        await delivery.nack()
    return scope.cancelled_caught


async def drain(bus: Bus, queue: str, count: int) -> list[dict[str, Any]]:
    """Consume and ack ``count`` messages; fail if more arrive."""
    payloads = []
    async with bus.consume(queue) as deliveries:
        for _ in range(count):
            delivery = await next_delivery(deliveries)
            payloads.append(dict(delivery.envelope.payload))
            await delivery.ack()
        assert await nothing_more(deliveries)
    return payloads


async def test_routing_fans_out_to_every_bound_queue(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("executor", ["execution.requested", "execution.completed"])
    await bus.declare_queue("audit", ["execution.#"])
    sent = await bus.publish("execution.requested", {"execution_id": 1}, correlation_id="c-1")
    await bus.publish("event.created", {"event_id": 2})  # bound nowhere: dropped
    assert (await harness.queued("executor"), await harness.queued("audit")) == (1, 1)
    async with bus.consume("executor") as deliveries:
        delivery = await next_delivery(deliveries)
        await delivery.ack()
    assert delivery.envelope.to_dict() == sent.to_dict()  # the envelope travels intact
    assert delivery.envelope.correlation_id == "c-1"
    assert await drain(bus, "audit", 1) == [{"execution_id": 1}]


async def test_transient_queue_routes_and_redelivers_like_any_other(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("waiter", ["execution.completed"], transient=True)
    await bus.publish("execution.completed", {"execution_id": 7})
    async with bus.consume("waiter") as deliveries:
        first = await next_delivery(deliveries)  # left unacked: comes back
    async with bus.consume("waiter") as deliveries:
        again = await next_delivery(deliveries)
        await again.ack()
        assert await nothing_more(deliveries)
    assert again.envelope.message_id == first.envelope.message_id
    assert again.envelope.payload == {"execution_id": 7}


async def test_a_queue_filter_keeps_out_only_what_it_names(harness: Harness) -> None:
    bus = harness.bus
    nothing = {"follow_up": False}
    await bus.declare_queue("followers", ["execution.completed"], unless=nothing)
    await bus.declare_queue("followers", ["execution.completed"], unless=nothing)  # idempotent
    await bus.declare_queue("everything", ["execution.#"])
    await bus.publish("execution.completed", {"n": 1}, headers={"follow_up": False})
    await bus.publish("execution.completed", {"n": 2}, headers={"follow_up": True})
    await bus.publish("execution.completed", {"n": 3})  # says nothing: not kept out
    await bus.publish("execution.completed", {"n": 4}, headers={"follow_up": False, "x": 1})
    await bus.publish("execution.requested", {"n": 5}, headers={"follow_up": False})
    followed = await drain(bus, "followers", 2)
    assert sorted(p["n"] for p in followed) == [2, 3]
    everything = await drain(bus, "everything", 5)
    assert sorted(p["n"] for p in everything) == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="transient"):
        await bus.declare_queue("waiter", ["execution.completed"], transient=True, unless=nothing)


async def test_topic_patterns_route_like_amqp(harness: Harness) -> None:
    bus = harness.bus
    queues = {
        "one-word": ["execution.*"],
        "many-words": ["execution.#"],
        "everything": ["#"],
        "created": ["*.created"],
        "workers": ["execution.dispatch.worker.*"],
        "notifications": ["notification.#", "rule.enabled"],
    }
    keys = [
        "execution.requested",
        "execution.status.changed",
        "execution.dispatch.worker.7",
        "event.created",
        "inquiry.created",
        "notification.created",
        "rule.enabled",
        "pack.registered",
        "execution",  # one word: matched by execution.# and #, published to attune.events
    ]
    for name, patterns in queues.items():
        await bus.declare_queue(name, patterns)
    for key in keys:
        await bus.publish(key, {"key": key})
    for name, patterns in queues.items():
        expected = {k for k in keys if any(routing_key_matches(p, k) for p in patterns)}
        received = await drain(bus, name, len(expected))
        assert {p["key"] for p in received} == expected, name


async def test_competing_consumers_each_message_once(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("work", ["job"])
    for n in range(50):
        await bus.publish("job", {"n": n})
    seen: dict[str, list[int]] = {"a": [], "b": []}
    both_started = anyio.Event()
    started: set[str] = set()

    async def worker(name: str) -> None:
        async with bus.consume("work", prefetch=3) as deliveries:
            started.add(name)
            if len(started) == 2:
                both_started.set()
            await both_started.wait()
            async for delivery in deliveries:
                await anyio.sleep(0.001)  # some work, so the other consumer gets its share
                seen[name].append(delivery.envelope.payload["n"])
                await delivery.ack()
                if len(seen["a"]) + len(seen["b"]) == 50:
                    tg.cancel_scope.cancel()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker, "a")
            tg.start_soon(worker, "b")
    assert sorted(seen["a"] + seen["b"]) == list(range(50))  # each once: none lost, none twice
    assert seen["a"] and seen["b"]
    assert await harness.queued("work") == 0


async def test_prefetch_limits_unacked_deliveries(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("q", ["k"])
    for n in range(5):
        await bus.publish("k", {"n": n})
    async with bus.consume("q", prefetch=2) as deliveries:
        first = await next_delivery(deliveries)
        second = await next_delivery(deliveries)
        with anyio.move_on_after(QUIET) as scope:
            await deliveries.__anext__()
        assert scope.cancelled_caught  # a third needs an ack first
        await first.ack()
        third = await next_delivery(deliveries)
        assert [d.envelope.payload["n"] for d in (first, second, third)] == [0, 1, 2]
        await second.ack()
        await third.ack()

    async def unsettled_went_back() -> bool:  # the two it held unacked when it left
        return await harness.queued("q") == 2

    await eventually(unsettled_went_back)


async def test_unacked_delivery_is_redelivered_when_its_consumer_leaves(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("q", ["a.b"])
    await bus.publish("a.b", {"n": 1})
    async with bus.consume("q") as deliveries:
        first = await next_delivery(deliveries)
        assert first.envelope.retry_count == 0
    # The consumer left holding it: the next consumer gets the same message again.
    async with bus.consume("q") as deliveries:
        again = await next_delivery(deliveries)
        await again.ack()
    assert again.envelope.message_id == first.envelope.message_id
    assert again.envelope.retry_count == 1
    await first.ack()  # too late: its consumer is gone; harmless
    assert await harness.queued("q") == 0


async def test_a_crashed_holder_on_another_client_hands_its_work_over(harness: Harness) -> None:
    """A consumer task that dies (cancelled, its client closed: a process that stopped)."""
    bus = harness.bus
    await bus.declare_queue("q", ["k"])
    for n in range(3):
        await bus.publish("k", {"n": n})
    doomed = await harness.client()
    held: list[int] = []

    async def holder(task_status: anyio.abc.TaskStatus[None]) -> None:
        async with doomed.consume("q", prefetch=2) as deliveries:
            for _ in range(2):
                held.append((await deliveries.__anext__()).envelope.payload["n"])
            task_status.started()
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        await tg.start(holder)
        tg.cancel_scope.cancel()
    await harness.close_client(doomed)
    assert held == [0, 1]
    async with bus.consume("q") as deliveries:
        got = {}
        for _ in range(3):
            delivery = await next_delivery(deliveries)
            got[delivery.envelope.payload["n"]] = delivery.envelope.retry_count
            await delivery.ack()
    assert got == {0: 1, 1: 1, 2: 0}


async def test_nack_requeues_with_a_higher_retry_count(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("q", ["k"])
    await bus.publish("k", {"n": "retry"})
    async with bus.consume("q", prefetch=1) as deliveries:
        first = await next_delivery(deliveries)
        await first.nack()
        again = await next_delivery(deliveries)
        await again.ack()
    assert again.envelope.payload == {"n": "retry"}
    assert (first.envelope.retry_count, again.envelope.retry_count) == (0, 1)
    assert await harness.queued("q") == 0
    assert await harness.dead_letters("q") == []


async def test_nack_without_requeue_dead_letters(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("q", ["k"])
    sent = await bus.publish("k", {"n": "drop"})
    async with bus.consume("q") as deliveries:
        await (await next_delivery(deliveries)).nack(requeue=False)
        assert await nothing_more(deliveries)

    async def dead_lettered() -> bool:
        return len(await harness.dead_letters("q")) == 1

    await eventually(dead_lettered)
    [dead] = await harness.dead_letters("q")
    assert (dead.message_id, dead.payload) == (sent.message_id, {"n": "drop"})
    assert await harness.queued("q") == 0


async def test_poison_message_is_dead_lettered_after_max_deliveries(harness: Harness) -> None:
    bus = harness.bus
    await bus.declare_queue("q", ["k"])
    await bus.publish("k", {"n": "poison"})
    counts = []
    async with bus.consume("q", prefetch=1) as deliveries:
        for _ in range(MAX_DELIVERIES):
            delivery = await next_delivery(deliveries)
            counts.append(delivery.envelope.retry_count)
            await delivery.nack()  # the handler fails every time
        assert await nothing_more(deliveries)
    assert counts == list(range(MAX_DELIVERIES))

    async def dead_lettered() -> bool:
        return [d.payload for d in await harness.dead_letters("q")] == [{"n": "poison"}]

    await eventually(dead_lettered)
    assert await harness.queued("q") == 0


async def test_consuming_an_undeclared_queue_is_an_error(harness: Harness) -> None:
    with pytest.raises(KeyError, match="never-declared"):
        async with harness.bus.consume("never-declared"):
            pass
    await harness.bus.declare_queue("q", ["k"])  # the bus is still usable
    await harness.bus.publish("k", {})
    assert await harness.queued("q") == 1


async def test_messages_outlive_the_client_that_published_them(harness: Harness) -> None:
    """Durable queues, persistent messages: a new client consumes what a closed one sent."""
    publisher = await harness.client()
    await publisher.declare_queue("q", ["k"])
    sent = [(await publisher.publish("k", {"n": n})).message_id for n in range(20)]
    await harness.close_client(publisher)

    consumer = await harness.client()
    await consumer.declare_queue("q", ["k"])  # a service declares its queues on start
    received = []
    async with consumer.consume("q") as deliveries:
        for _ in range(20):
            delivery = await next_delivery(deliveries)
            received.append(delivery.envelope.message_id)
            await delivery.ack()
    assert received == sent


async def test_publisher_confirms_are_pipelined(harness: Harness) -> None:
    """1,000 concurrent publishes, each confirmed, against sequential round trips."""
    bus = harness.bus
    await bus.declare_queue("q", ["k"])
    sequential = 50
    started = time.perf_counter()
    for n in range(sequential):
        await bus.publish("k", {"n": n})
    round_trip = (time.perf_counter() - started) / sequential

    total = 1_000
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for n in range(total):
            tg.start_soon(lambda n=n: bus.publish("k", {"n": n}))
    elapsed = time.perf_counter() - started
    # Every publish returned, so every message was confirmed; the broker holds them all.
    assert await harness.queued("q") == sequential + total
    print(
        f"\n[{harness.kind}] {total} confirmed publishes in {elapsed * 1000:.0f} ms "
        f"({total / elapsed:,.0f}/s); one sequential publish {round_trip * 1000:.2f} ms, "
        f"so {total} round trips would take {round_trip * total * 1000:.0f} ms "
        f"(x{round_trip * total / elapsed:.1f})"
    )


@pytest.mark.parametrize("how", ["server", "network"])
async def test_publishing_and_consuming_survive_a_lost_connection(
    harness: Harness, how: Cut
) -> None:
    """Cut the connection in the middle of publishing and consuming: nothing is lost.

    ``server``: the broker closes the connection (``rabbitmqctl close_connection``).
    ``network``: the sockets are reset and new connections refused for a second.
    """
    bus = await harness.client(breakable=how == "network")
    # A duplicate here is a message handled twice because its ack was lost with the connection
    # (the broker redelivers it): at-least-once, made harmless by idempotent handlers.
    await bus.declare_queue("q", ["job"])
    total = 300
    received: list[int] = []
    redelivered = 0
    all_received = anyio.Event()
    busy = anyio.Event()
    cut_done = anyio.Event()

    async def handle(delivery: Delivery) -> None:
        nonlocal redelivered
        await anyio.sleep(0.05)  # work in progress when the connection goes: its ack is lost
        received.append(delivery.envelope.payload["n"])
        if len(received) == 50:
            busy.set()
        redelivered += delivery.envelope.retry_count > 0
        await delivery.ack()
        if len(set(received)) == total:
            all_received.set()

    async def consumer() -> None:  # as attune_core.engine consume_forever does
        async with bus.consume("q", prefetch=20) as deliveries, anyio.create_task_group() as tg:
            async for delivery in deliveries:
                tg.start_soon(handle, delivery)

    async def cut_when_busy() -> None:
        await busy.wait()
        await harness.cut(bus, how)
        cut_done.set()

    with anyio.fail_after(45):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consumer)
            tg.start_soon(cut_when_busy)
            for n in range(total):
                if n == total * 2 // 3:
                    await cut_done.wait()  # the last third is published after the cut for sure
                await bus.publish("job", {"n": n})
                await anyio.sleep(0.01)  # keep publishing while the connection is lost
            await all_received.wait()
            tg.cancel_scope.cancel()
    await harness.assert_reconnected(bus)
    assert set(received) == set(range(total))  # none lost
    duplicates = len(received) - total
    print(
        f"\n[{harness.kind}/{how}] published {total}, received {len(received)} "
        f"(distinct {len(set(received))}, duplicates {duplicates}, redelivered {redelivered})"
    )
