"""Conductor benchmarks (issue 4): the conductor alone, with instant task results.

- a 1,000-task sequential chain with a publish on every transition: microseconds per task for
  the first and the last 100 tasks (target <= 200 us/task, flat: last 100 <= 1.2x first 100);
- a 10,000-item with_items at concurrency 50: total time, time for 1,000 items (linearity:
  10k <= 12x 1k) and peak memory (target <= 150 MB, measured with tracemalloc).

Run with ``make bench`` or
``pytest -p no:xdist -m benchmark tests/benchmarks/bench_workflow.py -s``.
Timings take the best of a few repetitions so a noisy neighbour does not fail the run.
"""

from __future__ import annotations

import collections
import gc
import time
import tracemalloc
from typing import Any

import pytest

from attune_core.workflow import (
    CompleteWorkflow,
    Conductor,
    DispatchTask,
    TaskFinished,
    WorkflowDefinition,
    parse_workflow,
)

pytestmark = pytest.mark.benchmark

CHAIN_LENGTH = 1_000
REPEATS = 5


def chain_definition(length: int) -> WorkflowDefinition:
    tasks: list[dict[str, Any]] = []
    for i in range(length):
        task: dict[str, Any] = {
            "name": f"t{i}",
            "action": "core.echo",
            "input": {"message": "step {{ workflow.last }}", "n": "{{ workflow.count }}"},
        }
        if i + 1 < length:
            task["next"] = [
                {
                    "when": "{{ succeeded() }}",
                    "publish": [
                        {"last": "{{ result().data.n }}"},
                        {"count": "{{ workflow.count + 1 }}"},
                    ],
                    "do": [f"t{i + 1}"],
                }
            ]
        tasks.append(task)
    return parse_workflow({"vars": {"count": 0, "last": None}, "tasks": tasks})


def run_chain(definition: WorkflowDefinition) -> list[float]:
    """Return the seconds spent in handle() for each finished task."""
    conductor = Conductor(definition)
    commands = conductor.start({}, {"workflow_start": "2025-01-01T00:00:00Z"})
    per_task: list[float] = []
    clock = time.perf_counter
    while True:
        dispatch = next(c for c in commands if isinstance(c, DispatchTask))
        event = TaskFinished(
            dispatch.task,
            "completed",
            {"succeeded": True, "exit_code": 0, "stdout": "", "data": {"n": dispatch.run}},
            run=dispatch.run,
        )
        started = clock()
        commands = conductor.handle(event)
        per_task.append(clock() - started)
        if isinstance(commands[-1], CompleteWorkflow):
            break
    assert conductor.status == "completed"
    assert conductor.variables["count"] == CHAIN_LENGTH - 1
    return per_task


def items_definition() -> WorkflowDefinition:
    return parse_workflow(
        {
            "parameters": {"hosts": {"type": "array"}},
            "tasks": [
                {
                    "name": "fan",
                    "action": "core.echo",
                    "with_items": "{{ parameters.hosts }}",
                    "concurrency": 50,
                    "input": {"host": "{{ item }}", "position": "{{ index }}"},
                    "next": [
                        {"when": "{{ succeeded() }}", "publish": {"n": "{{ length(result()) }}"}}
                    ],
                }
            ],
        }
    )


def run_items(definition: WorkflowDefinition, count: int) -> Conductor:
    conductor = Conductor(definition)
    hosts = [f"host-{i:05d}" for i in range(count)]
    pending: collections.deque[DispatchTask] = collections.deque()
    commands = conductor.start({"hosts": hosts}, {})
    while True:
        pending.extend(c for c in commands if isinstance(c, DispatchTask))
        if not pending:
            break
        d = pending.popleft()
        commands = conductor.handle(
            TaskFinished(
                d.task,
                "completed",
                {"succeeded": True, "exit_code": 0, "stdout": d.input["host"]},
                item_index=d.item_index,
                run=d.run,
            )
        )
    assert conductor.status == "completed", conductor.failures
    assert conductor.variables["n"] == count
    return conductor


def best(fn: Any, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def test_chain_of_1000_tasks_is_fast_and_flat() -> None:
    definition = chain_definition(CHAIN_LENGTH)
    run_chain(definition)  # warm the expression caches
    first: list[float] = []
    last: list[float] = []
    totals: list[float] = []
    for _ in range(REPEATS):
        gc.collect()
        per_task = run_chain(definition)
        first.append(sum(per_task[:100]) / 100)
        last.append(sum(per_task[-100:]) / 100)
        totals.append(sum(per_task))
    first_us, last_us = min(first) * 1e6, min(last) * 1e6
    mean_us = min(totals) / (CHAIN_LENGTH) * 1e6

    tracemalloc.start()
    run_chain(definition)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ratio = last_us / first_us
    print(
        f"\n[workflow] chain of {CHAIN_LENGTH} tasks (publish on every transition): "
        f"first 100 {first_us:.1f} us/task, last 100 {last_us:.1f} us/task "
        f"(ratio {ratio:.2f}), mean {mean_us:.1f} us/task, peak memory {peak / 2**20:.1f} MiB"
    )
    assert first_us <= 200 and last_us <= 200
    assert ratio <= 1.2


def test_10000_items_at_concurrency_50_is_linear_and_small() -> None:
    definition = items_definition()
    run_items(definition, 1_000)  # warm up
    t_1k = best(lambda: run_items(definition, 1_000))
    t_10k = best(lambda: run_items(definition, 10_000), repeats=3)

    gc.collect()
    tracemalloc.start()
    run_items(definition, 10_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ratio = t_10k / t_1k
    print(
        f"\n[workflow] with_items at concurrency 50: 1,000 items {t_1k * 1e3:.1f} ms "
        f"({t_1k / 1_000 * 1e6:.1f} us/item), 10,000 items {t_10k * 1e3:.1f} ms "
        f"({t_10k / 10_000 * 1e6:.1f} us/item), 10k/1k ratio {ratio:.2f}, "
        f"peak memory (10k) {peak / 2**20:.1f} MiB"
    )
    assert peak <= 150 * 2**20
    assert ratio <= 12
