"""Bus benchmark: publish + consume throughput of InMemoryBus and RabbitMQBus.

One queue, one consumer (prefetch 100, acks every message, as ``consume_forever`` does), and
the messages published either one after the other (each ``publish`` awaits its confirm: one
round trip per message, as ``publish_all`` does today) or by 16 concurrent publishers (confirms
pipelined on the shared channel). The clock runs from the first publish to the last ack.

Prints messages/s for each bus and mode and the in-memory/RabbitMQ ratio. Run with
``pytest -p no:xdist -m benchmark tests/benchmarks/bench_bus.py -s``.
"""

from __future__ import annotations

import time
import uuid

import anyio
import pytest

from attune_core.bus import InMemoryBus
from attune_core.ports import Bus
from attune_services.amqp import RabbitMQBus
from tests.conftest import RABBITMQ_URL, require_service

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio, pytest.mark.rabbitmq]

MESSAGES = 2_000
PUBLISHERS = 16
PREFETCH = 100


async def _round(bus: Bus, queue: str, publishers: int) -> float:
    """Messages/s for MESSAGES published by ``publishers`` tasks and consumed by one."""
    consumed = 0
    done = anyio.Event()

    async def consume(task_status: anyio.abc.TaskStatus[None]) -> None:
        nonlocal consumed
        async with bus.consume(queue, prefetch=PREFETCH) as deliveries:
            task_status.started()
            async for delivery in deliveries:
                await delivery.ack()
                consumed += 1
                if consumed == MESSAGES:
                    done.set()
                    return

    async def publish(first: int) -> None:
        for n in range(first, MESSAGES, publishers):
            await bus.publish("bench.message", {"n": n})

    async with anyio.create_task_group() as tg:
        await tg.start(consume)
        started = time.perf_counter()
        for first in range(publishers):
            tg.start_soon(publish, first)
        with anyio.fail_after(120):
            await done.wait()
        elapsed = time.perf_counter() - started
    return MESSAGES / elapsed


async def _measure(bus: Bus) -> dict[str, float]:
    await bus.declare_queue("bench", ["bench.#"])
    await _round(bus, "bench", PUBLISHERS)  # warm-up (connections, queue leader, JIT-less caches)
    return {
        "sequential": await _round(bus, "bench", 1),
        "concurrent": await _round(bus, "bench", PUBLISHERS),
    }


async def test_bus_throughput_in_memory_vs_rabbitmq() -> None:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    memory = await _measure(InMemoryBus())
    rabbit = await RabbitMQBus.connect(
        RABBITMQ_URL, name_prefix=f"attune-bench.{uuid.uuid4().hex[:8]}."
    )
    try:
        amqp = await _measure(rabbit)
    finally:
        await rabbit.delete_topology()
        await rabbit.close()
    print(f"\nbus throughput, {MESSAGES} messages published and consumed (messages/s):")
    for mode in ("sequential", "concurrent"):
        print(
            f"  {mode:<10} publishers={1 if mode == 'sequential' else PUBLISHERS:<3}"
            f" in-memory {memory[mode]:>9,.0f}   rabbitmq {amqp[mode]:>7,.0f}"
            f"   ratio {memory[mode] / amqp[mode]:.1f}x"
        )
    assert all(rate > 0 for rate in (*memory.values(), *amqp.values()))
