"""The test kit's FakeClock drives the timeouts of real action processes (SQLite, PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from attune_core.model import ExecutionStatus
from attune_core.testing import AttuneTestEnvironment

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _sleeping(seconds: str) -> bool:
    """Whether a ``sleep <seconds>`` process exists (the demo.slow action's child)."""
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"sleep", seconds.encode()]:
            return True
    return False


async def _until(check: Callable[[], bool], timeout: float = 20) -> None:
    """Poll a process-table condition (there is no event to wait on)."""
    with anyio.fail_after(timeout):
        while not check():  # noqa: ASYNC110
            await anyio.sleep(0.05)


async def test_moving_the_clock_past_the_timeout_kills_the_process(
    env: AttuneTestEnvironment,
) -> None:
    seconds = "987.25"  # demo.slow sleeps this long; its timeout is 30 s
    started = time.monotonic()
    execution = await env.execute("demo.slow", {"seconds": float(seconds)})
    await env.advance(29, wait_for_actions=False)
    await _until(lambda: _sleeping(seconds))
    assert (await env.attune.get_execution(execution.id)).status is ExecutionStatus.RUNNING
    await env.advance(2, wait_for_actions=False)
    done = await env.wait(execution, timeout=30)
    assert done.status is ExecutionStatus.FAILED
    assert done.result["error"] == "Execution timed out after 30 seconds"
    assert done.result["succeeded"] is False
    await _until(lambda: not _sleeping(seconds), timeout=5)  # the whole process group
    assert time.monotonic() - started < 25  # nowhere near the action's 987 s, nor its 30 s


async def test_an_action_that_ends_in_time_is_unaffected_and_advance_waits_for_it(
    env: AttuneTestEnvironment,
) -> None:
    execution = await env.execute("demo.slow", {"seconds": 0.2, "tag": "t"})
    await env.advance(60)  # waits for the running action first, so its deadline never passes
    done = await env.wait(execution)
    assert done.status is ExecutionStatus.COMPLETED
    assert done.result["stdout"] == "done t\n"
    assert env.runner.running == set()


async def test_a_cancel_while_timing_on_the_clock_is_a_cancel(env: AttuneTestEnvironment) -> None:
    execution = await env.execute("demo.slow", {"seconds": 654.5})
    await env.settle(wait_for_actions=False)
    await _until(lambda: _sleeping("654.5"))
    await env.attune.cancel(execution.id)
    done = await env.wait(execution, timeout=30)
    assert done.status is ExecutionStatus.CANCELLED
