"""Benchmarks of the event pipeline (issue 6). Run with ``make bench``.

- latency: event -> rule -> shell action -> completed, p50 and p99 over 1,000 events fired at
  10 events/s (targets on a 2-core machine: p50 <= 20 ms, p99 <= 60 ms);
- end to end: sustained events/s with one matching rule running a shell action (>= 150/s);
- ingestion: events stored and rules evaluated (enforcement + execution requested), events/s
  (>= 1,000/s).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import anyio
import pytest

from attune_core.app import Attune
from attune_core.model import ExecutionStatus
from attune_core.testing import MockingRunner

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio]

LATENCY_EVENTS = 1000
RATE = 10.0  # events per second for the latency run
SUSTAINED_EVENTS = 1000
INGEST_EVENTS = 2000


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
            done = await attune.wait(execution.id, timeout=30)
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


async def test_ingestion_events_per_second(tmp_path: Path) -> None:
    runner = MockingRunner()  # executions are requested; what runs them is not measured
    try:
        async with Attune.embedded(
            data_dir=tmp_path, packs=[write_pack(tmp_path)], runner=runner
        ) as attune:
            await _rule(attune)
            start = time.perf_counter()
            for n in range(INGEST_EVENTS):
                await attune.fire("core.webhook", {"kind": "bench", "n": n})
            elapsed = time.perf_counter() - start
            print(
                f"\ningestion: {INGEST_EVENTS} events stored and rules applied in "
                f"{elapsed:.2f} s = {INGEST_EVENTS / elapsed:.0f} events/s"
            )
            assert len(await attune.enforcements(limit=10)) == 10
    finally:
        runner.close()
