"""The in-memory bus honours the Bus port's delivery semantics."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from attune_core.bus import Envelope, InMemoryBus, routing_key_matches, worker_dispatch_key
from attune_core.ports import Bus

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("execution.requested", "execution.requested", True),
        ("execution.*", "execution.requested", True),
        ("execution.*", "execution.status.changed", False),
        ("execution.#", "execution.status.changed", True),
        ("#", "anything.at.all", True),
        ("execution.dispatch.worker.*", "execution.dispatch.worker.7", True),
        ("execution.dispatch.worker.*", "execution.dispatch.worker", False),
    ],
)
def test_topic_matching(pattern: str, key: str, matches: bool) -> None:
    assert routing_key_matches(pattern, key) is matches


async def test_routing_fans_out_to_every_bound_queue() -> None:
    bus: Bus = InMemoryBus()
    await bus.declare_queue("executor", ["execution.requested", "execution.completed"])
    await bus.declare_queue("audit", ["execution.#"])
    await bus.publish("execution.requested", {"execution_id": 1})
    await bus.publish("event.created", {"event_id": 2})  # bound nowhere: dropped
    assert isinstance(bus, InMemoryBus)
    assert [e.payload for e in bus.queued("executor")] == [{"execution_id": 1}]
    assert [e.payload for e in bus.queued("audit")] == [{"execution_id": 1}]
    assert [e.message_type for e in bus.published] == ["execution.requested", "event.created"]


async def test_unacked_delivery_is_redelivered_when_its_consumer_leaves() -> None:
    bus = InMemoryBus()
    await bus.declare_queue("q", ["a.b"])
    await bus.publish("a.b", {"n": 1})
    async with bus.consume("q") as deliveries:
        first = await deliveries.__anext__()
        assert first.envelope.retry_count == 0
    # The consumer died holding it: the next consumer gets the same message again.
    async with bus.consume("q") as deliveries:
        again = await deliveries.__anext__()
        await again.ack()
    assert again.envelope.message_id == first.envelope.message_id
    assert again.envelope.retry_count == 1
    assert bus.queued("q") == []


async def test_competing_consumers_each_message_once() -> None:
    bus = InMemoryBus()
    await bus.declare_queue("work", ["job"])
    for n in range(50):
        await bus.publish("job", {"n": n})
    seen: dict[str, list[int]] = {"a": [], "b": []}

    async def worker(name: str) -> None:
        async with bus.consume("work", prefetch=3) as deliveries:
            async for delivery in deliveries:
                await anyio.lowlevel.checkpoint()
                await delivery.ack()
                seen[name].append(delivery.envelope.payload["n"])
                if len(seen["a"]) + len(seen["b"]) == 50:
                    tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(worker, "a")
        tg.start_soon(worker, "b")
    assert sorted(seen["a"] + seen["b"]) == list(range(50))
    assert seen["a"] and seen["b"]


async def test_prefetch_limits_unacked_deliveries() -> None:
    bus = InMemoryBus()
    await bus.declare_queue("q", ["k"])
    for n in range(5):
        await bus.publish("k", {"n": n})
    async with bus.consume("q", prefetch=2) as deliveries:
        first = await deliveries.__anext__()
        await deliveries.__anext__()
        with anyio.move_on_after(0.05) as scope:
            await deliveries.__anext__()
        assert scope.cancelled_caught  # a third needs an ack first
        await first.ack()
        third = await deliveries.__anext__()
        assert third.envelope.payload == {"n": 2}
        await third.ack()


async def test_nack_requeues_or_dead_letters_and_poison_is_dead_lettered() -> None:
    bus = InMemoryBus(max_deliveries=3)
    await bus.declare_queue("q", ["k"])
    await bus.publish("k", {"n": "retry"})
    await bus.publish("k", {"n": "drop"})
    async with bus.consume("q") as deliveries:
        retried = await deliveries.__anext__()
        await retried.nack()
        again = await deliveries.__anext__()
        assert again.envelope.payload == {"n": "retry"}
        await again.nack()
        await (await deliveries.__anext__()).nack()  # third delivery: poison
        dropped = await deliveries.__anext__()
        assert dropped.envelope.payload == {"n": "drop"}
        await dropped.nack(requeue=False)
    assert [e.payload["n"] for e in bus.dead_letters] == ["retry", "drop"]
    assert bus.queued("q") == []


def test_envelope_round_trips_and_names_the_contract_fields() -> None:
    envelope = Envelope(
        message_type="execution.requested",
        payload={"execution_id": 3},
        correlation_id="c1",
        headers={"source_service": "api"},
    )
    wire = envelope.to_dict()
    assert set(wire) == {
        "message_id",
        "correlation_id",
        "message_type",
        "version",
        "timestamp",
        "headers",
        "payload",
    }
    assert wire["headers"] == {"retry_count": 0, "source_service": "api", "trace_id": None}
    parsed = Envelope.from_dict(wire)
    assert parsed.to_dict() == wire
    assert (parsed.message_id, parsed.payload, parsed.timestamp) == (
        envelope.message_id,
        envelope.payload,
        envelope.timestamp,
    )
    assert worker_dispatch_key(4) == "execution.dispatch.worker.4"
