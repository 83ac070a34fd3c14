"""Worker benchmark (issue 5, the baseline of benchmark (a)): how much the ProcessRunner costs
on top of spawning a process.

- baseline: 1,000 ``/bin/sh -c true`` spawned and awaited one after the other in a bare asyncio
  loop (``asyncio.create_subprocess_exec`` + ``communicate``);
- the same with ``bash`` running the action's script file (the interpreter core.shell uses);
- 1,000 sequential ``ProcessRunner.run`` of a trivial pack shell action (core.shell, JSON
  parameters on stdin, stdout/stderr captured, result built).

Prints runs/s for each and the runner/baseline ratio. Run with
``pytest -p no:xdist -m benchmark tests/benchmarks/bench_worker.py -s``.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import time
from pathlib import Path

import anyio
import pytest

from attune_core.engine.worker import ActionInvocation, ProcessRunner
from attune_core.model import ExecutionStatus

pytestmark = pytest.mark.benchmark

RUNS = 1_000
SHELL = {"interpreter": {"binary": "bash", "args": [], "file_extension": ".sh"}}


async def _spawn_loop(argv: list[str], runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        await process.communicate()
        assert process.returncode == 0
    return runs / (time.perf_counter() - started)


async def _runner_loop(pack: Path, runs: int) -> float:
    runner = ProcessRunner()
    invocations = [
        ActionInvocation(
            execution_id=n,
            action_ref="bench.true",
            pack_ref="bench",
            pack_dir=pack,
            entrypoint="true.sh",
            runtime_ref="core.shell",
            execution_config=SHELL,
            parameters={"n": n},
        )
        for n in range(runs)
    ]
    started = time.perf_counter()
    for invocation in invocations:
        outcome = await runner.run(invocation)
        assert outcome.status is ExecutionStatus.COMPLETED
    rate = runs / (time.perf_counter() - started)
    runner.close()
    return rate


def test_runner_overhead_against_bare_spawn(tmp_path: Path) -> None:
    pack = tmp_path / "bench"
    script = pack / "actions" / "true.sh"
    script.parent.mkdir(parents=True)
    script.write_text("true\n")
    script.chmod(0o755)

    sh_rate = asyncio.run(_spawn_loop(["/bin/sh", "-c", "true"], RUNS))
    bash_rate = asyncio.run(_spawn_loop(["bash", str(script)], RUNS))
    runner_rate = anyio.run(_runner_loop, pack, RUNS)

    print()
    print(f"baseline  /bin/sh -c true (bare asyncio) : {sh_rate:8.1f} runs/s")
    print(f"baseline  bash true.sh (bare asyncio)    : {bash_rate:8.1f} runs/s")
    print(f"ProcessRunner, core.shell action         : {runner_rate:8.1f} runs/s")
    print(f"ratio runner / sh baseline               : {runner_rate / sh_rate:8.2f}")
    print(f"ratio runner / bash baseline             : {runner_rate / bash_rate:8.2f}")
    overhead_ms = 1000 / runner_rate - 1000 / bash_rate
    print(f"runner overhead per run vs bash          : {overhead_ms:8.2f} ms")
    # The target for whole executions through Attune.embedded is 150/s: the runner
    # alone must leave room for the executor, the store and the bus.
    assert runner_rate >= 150


async def _alternating_loop(pack: Path, runs: int) -> dict[bool, tuple[float, float, int]]:
    """``runs`` sequential runs of the trivial action, every other one given an output listener;
    per side: (runs/s, CPU ms per run of this process, listener calls)."""
    runner = ProcessRunner()
    calls = 0

    async def listener(chunks: object) -> None:
        nonlocal calls
        calls += 1

    cpu = {False: 0.0, True: 0.0}
    wall = {False: 0.0, True: 0.0}
    for n in range(runs):
        listen = n % 2 == 1
        invocation = ActionInvocation(
            execution_id=n,
            action_ref="bench.true",
            pack_ref="bench",
            pack_dir=pack,
            entrypoint="true.sh",
            runtime_ref="core.shell",
            execution_config=SHELL,
            parameters={"n": n},
            masked=("a-secret-value",),
        )
        cpu_before, wall_before = _cpu(), time.perf_counter()
        outcome = await runner.run(invocation, on_output=listener if listen else None)
        wall[listen] += time.perf_counter() - wall_before
        cpu[listen] += _cpu() - cpu_before
        assert outcome.status is ExecutionStatus.COMPLETED
    runner.close()
    half = runs / 2
    return {
        listen: (half / wall[listen], cpu[listen] * 1000 / half, calls if listen else 0)
        for listen in (False, True)
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_streaming_output_costs_a_short_action_nothing(tmp_path: Path) -> None:
    """Runs given an output listener (what the worker service always gives since logs stream
    while running) against the same runs without one. The action ends within the streaming
    interval, so the listener is not called and no streaming task is started; what remains is
    a timer. Runs alternate, so load from other processes hits both sides alike."""
    pack = tmp_path / "bench"
    script = pack / "actions" / "true.sh"
    script.parent.mkdir(parents=True)
    script.write_text("echo hello\n")
    script.chmod(0o755)
    figures = anyio.run(_alternating_loop, pack, 2 * RUNS)
    print()
    for listen, name in ((False, "without listener"), (True, "with listener   ")):
        rate, cpu_ms, _ = figures[listen]
        print(f"ProcessRunner {name}: {rate:7.1f} runs/s, {cpu_ms:5.2f} ms CPU per run")
    print(
        f"ratio with / without: {figures[True][0] / figures[False][0]:5.2f} runs/s, "
        f"{figures[True][1] / figures[False][1]:5.2f} CPU per run"
    )
    # an action this short is called back only when the machine stalls it past the interval
    print(f"listener calls: {figures[True][2]} in {RUNS} runs")
