"""Benchmarks of the event pipeline (issue 6). Run with ``make bench``.

- latency: event -> rule -> shell action -> completed, p50 and p99 over 1,000 events fired at
  10 events/s (targets on a 2-core machine: p50 <= 20 ms, p99 <= 60 ms);
- end to end: sustained events/s with one matching rule running a shell action (>= 150/s);
- ingestion: events stored and rules evaluated (enforcement + execution requested), events/s
  (>= 1,000/s), one ``fire()`` at a time and batched with ``fire_many()``: once in a process
  that only ingests (as an API or sensor host of a distributed installation, the executor
  elsewhere), once in the embedded engine that also runs the executions meanwhile.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from attune_core.app import Attune
from attune_core.bus import InMemoryBus
from attune_core.clock import SystemClock
from attune_core.config import load_settings
from attune_core.engine._events import EventIntake, store_events
from attune_core.engine._messages import publish_all
from attune_core.engine._notifier import Notifier
from attune_core.model import Event, ExecutionStatus
from attune_core.storage import Store
from attune_core.testing import MockingRunner

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio]

LATENCY_EVENTS = 1000
RATE = 10.0  # events per second for the latency run
SUSTAINED_EVENTS = 1000
INGEST_EVENTS = 2000
BATCH = 100  # events per fire_many() call in the batched ingestion run
SOURCES = 16  # concurrent fire() callers in the group-commit run


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_pack(root: Path) -> Path:
    pack = root / "bench"
    (pack / "actions").mkdir(parents=True)
    (pack / "pack.yaml").write_text("ref: bench\nlabel: Bench\nversion: 1.0.0\n")
    (pack / "actions" / "true.yaml").write_text(
        "name: 'true'\nrunner_type: shell\nentry_point: true.sh\n"
        "parameters: {n: {type: integer, default: 0}}\n"
    )
    script = pack / "actions" / "true.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return pack


async def _rule(attune: Attune) -> None:
    await attune.create_rule(
        "bench.on_event",
        trigger_ref="core.webhook",
        action_ref="bench.true",
        conditions=[{"field": "payload.kind", "operator": "equals", "value": "bench"}],
        action_params={"n": "{{ event.payload.n }}"},
    )


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def test_event_to_completed_latency(tmp_path: Path) -> None:
    async with Attune.embedded(data_dir=tmp_path, packs=[write_pack(tmp_path)]) as attune:
        await _rule(attune)
        latencies: list[float] = []
        finished = anyio.Event()

        async def one(n: int) -> None:
            start = time.perf_counter()
            event = await attune.fire("core.webhook", {"kind": "bench", "n": n})
            [enforcement] = await attune.enforcements(event=event.id)
            [execution] = [
                e for e in await attune.executions(limit=50) if e.enforcement == enforcement.id
            ]
            assert execution.id is not None
            done = await attune.wait(execution.id, timeout=600)  # report, even if overloaded
            latencies.append(time.perf_counter() - start)
            assert done.status is ExecutionStatus.COMPLETED
            if len(latencies) == LATENCY_EVENTS:
                finished.set()

        async with anyio.create_task_group() as tg:
            for n in range(LATENCY_EVENTS):
                tg.start_soon(one, n)
                await anyio.sleep(1 / RATE)
            await finished.wait()
        p50 = statistics.median(latencies) * 1000
        p99 = _percentile(latencies, 99) * 1000
        print(
            f"\nevent -> completed latency over {LATENCY_EVENTS} events at {RATE}/s: "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )


async def test_sustained_events_per_second(tmp_path: Path) -> None:
    async with Attune.embedded(data_dir=tmp_path, packs=[write_pack(tmp_path)]) as attune:
        await _rule(attune)
        start = time.perf_counter()
        for n in range(SUSTAINED_EVENTS):
            await attune.fire("core.webhook", {"kind": "bench", "n": n})
        with anyio.fail_after(600):
            while True:
                done = await attune.executions(status=ExecutionStatus.COMPLETED, limit=1000)
                if len(done) >= SUSTAINED_EVENTS:
                    break
                await anyio.sleep(0.05)
        elapsed = time.perf_counter() - start
        print(
            f"\nend to end: {SUSTAINED_EVENTS} events -> completed shell actions in "
            f"{elapsed:.2f} s = {SUSTAINED_EVENTS / elapsed:.0f} events/s"
        )


async def test_ingestion_only_events_per_second(tmp_path: Path) -> None:
    """Ingestion in a process that does nothing else: the code paths of ``Attune.fire`` (an
    ``EventIntake``) and ``fire_many`` (``store_events`` in a transaction, then the messages
    published, the notifier announcing every committed change) on the SQLite database of an
    embedded installation, with no executor consuming the requested executions. Three ways:
    one event at a time, ``SOURCES`` concurrent sources (group commit), batches of ``BATCH``."""
    settings = load_settings(
        environ={"ATTUNE__DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}, base_dir=tmp_path
    )
    async with Attune.embedded(settings=settings, packs=[write_pack(tmp_path)]) as attune:
        await _rule(attune)  # the installation, then the engine stops
    store = await Store.from_settings(settings.database)
    bus = InMemoryBus()
    store.on_commit(Notifier(bus, store.now).on_commit)
    clock = SystemClock()
    intake = EventIntake(store, bus, clock)

    async def source(events: range) -> None:
        for n in events:
            await intake.fire("core.webhook", {"kind": "bench", "n": n})

    async def ingest(payloads: list[dict[str, Any]]) -> None:
        async with store.transaction() as uow:
            _, messages = await store_events(uow, "core.webhook", payloads, clock=clock)
        await publish_all(bus, messages)

    async def bare(payloads: list[dict[str, Any]]) -> None:
        """The baseline: the event rows alone (no trigger lookup, no rules, no messages)."""
        async with store.transaction() as uow:
            await uow.events.create_many(
                [Event(trigger=None, trigger_ref="core.webhook", payload=p) for p in payloads]
            )

    try:
        start = time.perf_counter()
        for n in range(INGEST_EVENTS):
            await bare([{"kind": "bench", "n": n}])
        bare_one = time.perf_counter() - start
        start = time.perf_counter()
        for first in range(0, INGEST_EVENTS, BATCH):
            await bare([{"kind": "bench", "n": n} for n in range(first, first + BATCH)])
        bare_batched = time.perf_counter() - start
        start = time.perf_counter()
        await source(range(INGEST_EVENTS))
        one_by_one = time.perf_counter() - start
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for first in range(SOURCES):
                tg.start_soon(source, range(first, INGEST_EVENTS, SOURCES))
        concurrent = time.perf_counter() - start
        start = time.perf_counter()
        for first in range(0, INGEST_EVENTS, BATCH):
            await ingest([{"kind": "bench", "n": n} for n in range(first, first + BATCH)])
        batched = time.perf_counter() - start
        async with store.read() as uow:
            assert await uow.executions.count(rule_ref="bench.on_event") == 3 * INGEST_EVENTS
    finally:
        await store.close()
    print(
        f"\ningestion only, {INGEST_EVENTS} events stored and rules applied (baseline of the "
        f"same run: the event rows alone, one transaction each / per batch):\n"
        f"  one at a time: {INGEST_EVENTS / one_by_one:.0f} events/s "
        f"(baseline {INGEST_EVENTS / bare_one:.0f}/s, {bare_one / one_by_one:.2f}x)\n"
        f"  {SOURCES} concurrent sources: {INGEST_EVENTS / concurrent:.0f} events/s "
        f"({bare_one / concurrent:.2f}x the one-at-a-time baseline; "
        f"{intake.transactions - INGEST_EVENTS} transactions for {INGEST_EVENTS} events)\n"
        f"  in batches of {BATCH}: {INGEST_EVENTS / batched:.0f} events/s "
        f"(baseline {INGEST_EVENTS / bare_batched:.0f}/s, {bare_batched / batched:.2f}x)"
    )


async def test_ingestion_events_per_second(tmp_path: Path) -> None:
    """Events stored and rules applied, one ``fire`` at a time and in batches (``fire_many``).

    The executor and worker of the embedded engine run meanwhile (the worker mocks the action,
    so no process is spawned), as they would in ``attune up``: the figures are those of an
    engine that also handles the executions the events request.
    """
    runner = MockingRunner()  # executions are requested; what runs them is not measured
    try:
        async with Attune.embedded(
            data_dir=tmp_path, packs=[write_pack(tmp_path)], runner=runner
        ) as attune:
            await _rule(attune)
            start = time.perf_counter()
            for n in range(INGEST_EVENTS):
                await attune.fire("core.webhook", {"kind": "bench", "n": n})
            one_by_one = time.perf_counter() - start
            await _drain(attune, INGEST_EVENTS)
            start = time.perf_counter()
            for first in range(0, INGEST_EVENTS, BATCH):
                await attune.fire_many(
                    "core.webhook",
                    [{"kind": "bench", "n": n} for n in range(first, first + BATCH)],
                )
            batched = time.perf_counter() - start
            print(
                f"\ningestion with the engine running the executions: {INGEST_EVENTS} events "
                f"stored and rules applied: one fire() at a "
                f"time {one_by_one:.2f} s = {INGEST_EVENTS / one_by_one:.0f} events/s; "
                f"fire_many() in batches of {BATCH} {batched:.2f} s = "
                f"{INGEST_EVENTS / batched:.0f} events/s"
            )
            assert len(await attune.enforcements(limit=10)) == 10
            await _drain(attune, 2 * INGEST_EVENTS)
    finally:
        runner.close()


async def _drain(attune: Attune, total: int) -> None:
    """Wait until ``total`` executions have finished (the next run starts from an idle engine)."""
    with anyio.fail_after(600):
        while True:
            async with attune.store.read() as uow:
                if await uow.executions.count(status=ExecutionStatus.COMPLETED) >= total:
                    return
            await anyio.sleep(0.2)
