"""A worker service stopped gracefully (SIGTERM) takes no new work, lets what it runs finish
within ``worker.stop_grace_period``, ends what is still running then ``abandoned``, and hands
back what it had not started: nothing stays ``running`` or ``scheduled`` on it."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import anyio
import pytest

from attune_core.config import Settings
from attune_core.engine._executor import cancel_in
from attune_core.model import Execution, ExecutionStatus, WorkerStatus
from tests.integration.distributed.cluster import Cluster, all_terminal, count_is, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]


async def _running(cluster: Cluster, count: int) -> bool:
    async with cluster.store.read() as uow:
        return await uow.executions.count(status=ExecutionStatus.RUNNING) == count


SECONDS = 61.25  # an action's sleep that nothing else on the machine runs


async def _sleeping() -> bool:
    """Whether the action's ``sleep`` process runs."""
    return await anyio.to_thread.run_sync(_sleeping_now)


def _sleeping_now() -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if (proc / "cmdline").read_bytes() == f"sleep\0{SECONDS}\0".encode():
                return True
        except OSError:  # not a process, or gone meanwhile
            continue
    return False


async def _long_run(cluster: Cluster) -> tuple[subprocess.Popen[str], int]:
    """An executor and a worker, running a long action: the worker and the execution."""
    cluster.start("executor")
    worker = cluster.start("worker", "worker-a")
    await until_true(lambda: count_is(cluster.active_workers(), 1))
    (execution_id,) = await cluster.request(
        Execution(action_ref="demo.wait", config={"seconds": SECONDS, "tag": "long"})
    )
    # Its process started (claimed only, it would end abandoned without having run).
    await until_true(_sleeping)
    return worker, execution_id


async def _stop(process: subprocess.Popen[str]) -> float:
    """SIGTERM, then the seconds until the process exited (it must exit 0)."""
    started = anyio.current_time()
    process.send_signal(signal.SIGTERM)
    code = await anyio.to_thread.run_sync(process.wait)
    assert code == 0
    return anyio.current_time() - started


@pytest.mark.timeout(120)
async def test_a_stopped_worker_finishes_its_runs_and_hands_back_the_rest(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    environ = {
        **environ,
        "ATTUNE__WORKER__STOP_GRACE_PERIOD": "30",
        "ATTUNE__WORKER__MAX_CONCURRENT_EXECUTIONS": "2",
    }
    async with Cluster(settings, environ) as cluster:
        cluster.start("executor")
        leaving = cluster.start("worker", "worker-leaving")
        await until_true(lambda: count_is(cluster.active_workers(), 1))
        (leaving_id,) = await cluster.active_workers()
        # 5 s each: long enough that the two running are not over before the second worker
        # is up on a loaded machine (the third would then start here too).
        ids = await cluster.request(
            *(
                Execution(action_ref="demo.wait", config={"seconds": 5, "tag": str(n)})
                for n in range(3)
            )
        )
        # Two run (its two slots); the third waits for a slot, dispatched to this worker.
        await until_true(lambda: _running(cluster, 2))
        cluster.start("worker", "worker-staying")
        await until_true(lambda: count_is(cluster.active_workers(), 2))
        took = await _stop(leaving)
        await until_true(lambda: all_terminal(cluster.store, ids), 60)
        async with cluster.store.read() as uow:
            done = [await uow.executions.get(i) for i in ids]
            histories = [
                await uow.execution_history.query(entity_id=i, changed_field="status") for i in ids
            ]
            workers = {w.name: w for w in await uow.workers.list()}
    assert [e.status for e in done] == [ExecutionStatus.COMPLETED] * 3, [e.result for e in done]
    ran_on = [e.worker for e in done]
    assert ran_on.count(leaving_id) == 2  # finished where they ran, during the grace period
    assert workers["worker-staying"].id in ran_on  # the one not started ran elsewhere
    assert workers["worker-leaving"].status is WorkerStatus.INACTIVE
    for history in histories:
        assert sum(ExecutionStatus(h.new_values["status"]).is_terminal for h in history) == 1
    assert took < 30  # it left as soon as its runs were over, not at the end of the grace
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


@pytest.mark.timeout(120)
async def test_what_outlives_the_grace_period_ends_abandoned(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    environ = {**environ, "ATTUNE__WORKER__STOP_GRACE_PERIOD": "1"}
    async with Cluster(settings, environ) as cluster:
        worker, execution_id = await _long_run(cluster)
        took = await _stop(worker)
        async with cluster.store.read() as uow:
            stopped = await uow.executions.get(execution_id)
            (row,) = await uow.workers.list()
    assert stopped.status is ExecutionStatus.ABANDONED
    assert "stopped before the action finished" in stopped.result["error"]
    assert "stop_grace_period" in stopped.result["error"]
    assert row.status is WorkerStatus.INACTIVE
    assert took < 30  # 1 s of grace, then SIGTERM ends the action's process at once
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


@pytest.mark.timeout(120)
async def test_a_cancel_is_heard_while_the_worker_lets_its_runs_finish(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    environ = {**environ, "ATTUNE__WORKER__STOP_GRACE_PERIOD": "60"}
    async with Cluster(settings, environ) as cluster:
        worker, execution_id = await _long_run(cluster)
        worker.send_signal(signal.SIGTERM)
        await anyio.sleep(0.5)  # the stop has begun: the worker waits for its run
        assert worker.poll() is None
        async with cluster.store.transaction() as uow:
            messages = await cancel_in(uow, await uow.executions.get(execution_id))
        for routing_key, payload in messages:
            await cluster.bus.publish(routing_key, payload)
        code = await anyio.to_thread.run_sync(worker.wait, 30)
        async with cluster.store.read() as uow:
            cancelled = await uow.executions.get(execution_id)
    assert code == 0
    assert cancelled.status is ExecutionStatus.CANCELLED, cancelled.result
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
