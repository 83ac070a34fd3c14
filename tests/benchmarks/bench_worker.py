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
