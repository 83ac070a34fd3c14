"""Benchmarks of the event pipeline (issue 6). Run with ``make bench``.

- latency: event -> rule -> shell action -> completed, p50 and p99 over 1,000 events fired at
  10 events/s (targets on a 2-core machine: p50 <= 20 ms, p99 <= 60 ms);
- end to end: sustained events/s with one matching rule running a shell action (>= 150/s);
- ingestion: events stored and rules evaluated (enforcement + execution requested), events/s
  (>= 1,000/s). Measured in a process that only ingests (as an API or sensor host of a
  distributed installation, the executor elsewhere): a real sensor process printing events
  continuously through the sensor host (the configuration the target is about: a sensor's
  events go through the engine's intake, which stores what queued up meanwhile in one
  transaction), ``SOURCES`` concurrent ``fire()`` callers (group commit), batches of ``BATCH``
  with ``fire_many()``, and one ``fire()`` awaited after another (one transaction per event,
  the floor). Each against bare event-row inserts of the same run, with the CPU time of the
  process per event. Then once in the embedded engine that also runs the executions.
"""

from __future__ import annotations

import resource
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
from attune_core.engine._sensors import SensorHost
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
    (pack / "sensors").mkdir()
    (pack / "triggers").mkdir()
    (pack / "pack.yaml").write_text("ref: bench\nlabel: Bench\nversion: 1.0.0\n")
    (pack / "triggers" / "stream.yaml").write_text("name: stream\nlabel: Stream\n")
    (pack / "sensors" / "stream.yaml").write_text(
        "name: stream\nlabel: Stream\nrunner_type: shell\nentry_point: stream.sh\n"
        "trigger_types: [bench.stream]\n"
    )
    sensor = pack / "sensors" / "stream.sh"
    # Prints INGEST_EVENTS events as fast as it can, then waits (a sensor never ends).
    sensor.write_text(
        "#!/usr/bin/env bash\nread -r start\n"
        f"for n in $(seq 1 {INGEST_EVENTS}); do\n"
        '  printf \'{"trigger": "bench.stream", "payload": '
        '{"kind": "bench", "n": %d}}\\n\' "$n"\n'
        "done\nwhile read -r line; do :; done\n"
    )
    sensor.chmod(0o755)
    (pack / "actions" / "true.yaml").write_text(
        "name: 'true'\nrunner_type: shell\nentry_point: true.sh\n"
        "parameters: {n: {type: integer, default: 0}}\n"
    )
    script = pack / "actions" / "true.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return pack


async def _rule(attune: Attune, trigger_ref: str = "core.webhook", name: str = "on_event") -> None:
    await attune.create_rule(
        f"bench.{name}",
        trigger_ref=trigger_ref,
        action_ref="bench.true",
        conditions=[{"field": "payload.kind", "operator": "equals", "value": "bench"}],
        action_params={"n": "{{ event.payload.n }}"},
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
        # Every event made one execution (the rule matches them all); wait for each one still
        # going (woken by the engine when it ends: no polling competing with the engine).
        executions = await attune.executions(limit=SUSTAINED_EVENTS)
        assert len(executions) == SUSTAINED_EVENTS
        with anyio.fail_after(600):
            for execution in executions:
                assert execution.id is not None
                if not execution.status.is_terminal:
                    execution = await attune.wait(execution.id, timeout=600)
                assert execution.status is ExecutionStatus.COMPLETED, execution.result
        elapsed = time.perf_counter() - start
        print(
            f"\nend to end: {SUSTAINED_EVENTS} events -> completed shell actions in "
            f"{elapsed:.2f} s = {SUSTAINED_EVENTS / elapsed:.0f} events/s"
        )


async def test_ingestion_only_events_per_second(tmp_path: Path) -> None:
    """Ingestion in a process that does nothing else, on the SQLite database of an embedded
    installation, with no executor consuming the requested executions; the notifier announces
    every committed change as in the engine. Ways, each timed with the CPU the process spent:

    - a sensor: the sensor host runs ``bench.stream``, a shell sensor printing
      ``INGEST_EVENTS`` events as fast as it can; from its first event stored to its last;
    - ``SOURCES`` concurrent sources, each awaiting ``EventIntake.fire`` one after another;
    - batches of ``BATCH`` (``store_events`` in a transaction: ``Attune.fire_many``);
    - one ``fire()`` awaited after another: one transaction per event.

    Baselines of the same run: the event rows alone (no trigger lookup, no rules, no messages),
    one per transaction and in batches of ``BATCH``.
    """
    settings = load_settings(
        environ={"ATTUNE__DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}, base_dir=tmp_path
    )
    async with Attune.embedded(settings=settings, packs=[write_pack(tmp_path)]) as attune:
        await _rule(attune)  # the installation, then the engine stops
        await _rule(attune, "bench.stream", "on_stream")
        await attune.disable_sensor("bench.stream")  # started below, in the measured host
    store = await Store.from_settings(settings.database)
    bus = InMemoryBus()
    store.on_commit(Notifier(bus, store.now).on_commit)
    clock = SystemClock()
    intake = EventIntake(store, bus, clock)
    results: dict[str, tuple[float, float]] = {}  # way -> (seconds, CPU seconds)

    async def timed(way: str, work: Any) -> None:
        cpu, start = _cpu(), time.perf_counter()
        await work()
        results[way] = (time.perf_counter() - start, _cpu() - cpu)

    async def source(events: range) -> None:
        for n in events:
            await intake.fire("core.webhook", {"kind": "bench", "n": n})

    async def ingest(payloads: list[dict[str, Any]]) -> None:
        async with store.transaction() as uow:
            _, messages = await store_events(uow, "core.webhook", payloads, clock=clock)
        await publish_all(bus, messages)

    async def bare(payloads: list[dict[str, Any]]) -> None:
        async with store.transaction() as uow:
            await uow.events.create_many(
                [Event(trigger=None, trigger_ref="core.webhook", payload=p) for p in payloads]
            )

    async def bare_one() -> None:
        for n in range(INGEST_EVENTS):
            await bare([{"kind": "bench", "n": n}])

    async def bare_batched() -> None:
        for first in range(0, INGEST_EVENTS, BATCH):
            await bare([{"kind": "bench", "n": n} for n in range(first, first + BATCH)])

    async def sensor() -> None:
        host = SensorHost(store, bus, clock, settings, intake=intake)
        async with anyio.create_task_group() as tg:
            async with store.transaction() as uow:
                stream = await uow.sensors.get_by_ref("bench.stream")
                await uow.sensors.update(stream.id, enabled=True)
            await tg.start(host.run)
            with anyio.fail_after(600):
                await _stored(host, 1, 0.001)
                cpu, start = _cpu(), time.perf_counter()
                await _stored(host, INGEST_EVENTS, 0.005)
            results["sensor"] = (time.perf_counter() - start, _cpu() - cpu)
            tg.cancel_scope.cancel()

    async def concurrent() -> None:
        async with anyio.create_task_group() as tg:
            for first in range(SOURCES):
                tg.start_soon(source, range(first, INGEST_EVENTS, SOURCES))

    async def batched() -> None:
        for first in range(0, INGEST_EVENTS, BATCH):
            await ingest([{"kind": "bench", "n": n} for n in range(first, first + BATCH)])

    try:
        await timed("bare one", bare_one)
        await timed("bare batched", bare_batched)
        await sensor()
        transactions = intake.transactions
        await timed("concurrent", concurrent)
        concurrent_transactions = intake.transactions - transactions
        await timed("batched", batched)
        await timed("one", lambda: source(range(INGEST_EVENTS)))
        async with store.read() as uow:
            assert await uow.executions.count(rule_ref="bench.on_event") == 3 * INGEST_EVENTS
            assert await uow.executions.count(rule_ref="bench.on_stream") == INGEST_EVENTS
    finally:
        await store.close()

    def rate(way: str, events: int = INGEST_EVENTS) -> str:
        seconds, cpu = results[way]
        return f"{events / seconds:,.0f} events/s, CPU {cpu / events * 1000:.2f} ms/event"

    def ratio(way: str, baseline: str, events: int = INGEST_EVENTS) -> str:
        return f"{results[baseline][0] / INGEST_EVENTS / (results[way][0] / events):.2f}x"

    streamed = INGEST_EVENTS - 1  # timed from the first event stored
    print(
        f"\ningestion only, {INGEST_EVENTS} events stored with their rule applied (enforcement "
        "+ execution requested), SQLite:\n"
        f"  baseline, event rows alone, one per transaction: {rate('bare one')}\n"
        f"  baseline, event rows alone, batches of {BATCH}: {rate('bare batched')}\n"
        f"  a sensor emitting continuously (sensor host, intake): "
        f"{rate('sensor', streamed)} ({ratio('sensor', 'bare one', streamed)} the one-per-"
        f"transaction baseline, {ratio('sensor', 'bare batched', streamed)} the batched one; "
        f"{transactions} transactions)\n"
        f"  {SOURCES} concurrent fire() callers (group commit): {rate('concurrent')} "
        f"({ratio('concurrent', 'bare one')} the one-per-transaction baseline; "
        f"{concurrent_transactions} transactions)\n"
        f"  batches of {BATCH} (fire_many): {rate('batched')} "
        f"({ratio('batched', 'bare batched')} the batched baseline)\n"
        f"  one fire() awaited after another: {rate('one')} "
        f"({ratio('one', 'bare one')} the one-per-transaction baseline)"
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


async def _stored(host: SensorHost, events: int, poll: float) -> None:
    """Until the sensor host has stored ``events`` events of ``bench.stream`` (no queries)."""
    while True:
        if host.status("bench.stream").events >= events:
            return
        await anyio.sleep(poll)


async def _drain(attune: Attune, total: int) -> None:
    """Wait until ``total`` executions have finished (the next run starts from an idle engine)."""
    with anyio.fail_after(600):
        while True:
            async with attune.store.read() as uow:
                if await uow.executions.count(status=ExecutionStatus.COMPLETED) >= total:
                    return
            await anyio.sleep(0.2)
