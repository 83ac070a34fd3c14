"""Benchmarks of the embedded engine (issue 5): sequential executions, a 40-task workflow,
a 1,000-item with_items. Run with ``make bench``; figures go to docs/performance.md.

Each figure is reported with a baseline measured in the same run: spawning ``/bin/sh -c true``
from a bare asyncio loop, which is the floor any engine running shell actions sits on.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml

from attune_core.app import Attune
from attune_core.model import ExecutionStatus

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio]

SEQUENTIAL = 1000
CHAIN = 40
ITEMS = 1000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_pack(root: Path) -> Path:
    pack = root / "bench"
    (pack / "actions" / "workflows").mkdir(parents=True)
    (pack / "pack.yaml").write_text("ref: bench\nlabel: Bench\nversion: 1.0.0\n")
    (pack / "actions" / "true.yaml").write_text(
        "name: 'true'\nrunner_type: shell\nentry_point: true.sh\n"
        "parameters: {n: {type: integer, default: 0}}\n"
    )
    script = pack / "actions" / "true.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    tasks = [
        {
            "name": f"t{i}",
            "action": "bench.true",
            "input": {"n": i},
            **(
                {
                    "next": [
                        {"when": "{{ succeeded() }}", "publish": [{"last": i}], "do": f"t{i + 1}"}
                    ]
                }
                if i + 1 < CHAIN
                else {}
            ),
        }
        for i in range(CHAIN)
    ]
    (pack / "actions" / "workflows" / "chain.workflow.yaml").write_text(
        yaml.safe_dump({"version": "1.0.0", "label": "Chain", "tasks": tasks})
    )
    items = {
        "version": "1.0.0",
        "label": "Items",
        "parameters": {"n": {"type": "integer", "required": True}},
        "tasks": [
            {
                "name": "each",
                "action": "bench.true",
                "with_items": "{{ range(parameters.n) }}",
                "concurrency": 10,
                "input": {"n": "{{ item }}"},
            }
        ],
    }
    (pack / "actions" / "workflows" / "items.workflow.yaml").write_text(yaml.safe_dump(items))
    return pack


async def spawn_baseline(count: int) -> float:
    """Seconds to spawn and reap ``/bin/sh -c true`` ``count`` times, one after another."""
    started = time.perf_counter()
    for _ in range(count):
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            "true",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await process.communicate(b"{}\n")
    return time.perf_counter() - started


async def test_engine_benchmarks(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    baseline = await spawn_baseline(SEQUENTIAL)
    async with Attune.embedded(data_dir=tmp_path / "data", packs=[pack]) as attune:
        await attune.run("bench.true")  # warm up (caches, first connection)

        started = time.perf_counter()
        for _ in range(SEQUENTIAL):
            execution = await attune.run("bench.true", timeout=60)
            assert execution.status is ExecutionStatus.COMPLETED
        sequential = time.perf_counter() - started

        started = time.perf_counter()
        chain = await attune.run("bench.chain", timeout=300)
        chain_seconds = time.perf_counter() - started
        assert chain.status is ExecutionStatus.COMPLETED, chain.result
        assert chain.id is not None
        children = await attune.executions(parent=chain.id)
        process_ms = sum(c.result["duration_ms"] for c in children)
        overhead_ms = (chain_seconds * 1000 - process_ms) / CHAIN

        started = time.perf_counter()
        items = await attune.run("bench.items", {"n": ITEMS}, timeout=600)
        items_seconds = time.perf_counter() - started
        assert items.status is ExecutionStatus.COMPLETED, items.result

    rate = SEQUENTIAL / sequential
    floor = SEQUENTIAL / baseline
    print()
    print(
        f"(a) {SEQUENTIAL} sequential shell executions: {rate:.0f} executions/s "
        f"(baseline: bare asyncio spawn of /bin/sh -c true {floor:.0f}/s; "
        f"ratio {rate / floor:.2f})"
    )
    print(
        f"(b) {CHAIN}-task sequential workflow: {chain_seconds * 1000 / CHAIN:.1f} ms per task, "
        f"orchestration overhead beyond the processes {overhead_ms:.1f} ms per task "
        f"(baseline spawn {baseline * 1000 / SEQUENTIAL:.1f} ms)"
    )
    print(
        f"(c) {ITEMS}-item with_items at concurrency 10: {ITEMS / items_seconds:.0f} items/s "
        f"({items_seconds:.1f} s)"
    )
