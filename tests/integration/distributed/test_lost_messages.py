"""Messages lost between a commit and its publish are sent again by the executors' reconciler.

A service killed right after its commit (or a broker that refused the publish then) leaves work
committed and nobody told. Here the loss is made on purpose, with real processes on PostgreSQL
and RabbitMQ: rows written without their message, and messages drained from their queue while
no executor ran. Every execution still finishes, once.
"""

from __future__ import annotations

import signal

import anyio
import pytest

from attune_core.bus import worker_dispatch_key
from attune_core.config import Settings
from attune_core.engine._messages import EXECUTOR_COMPLETIONS, EXECUTOR_REQUESTS
from attune_core.model import Execution, ExecutionStatus
from tests.integration.distributed.cluster import Cluster, all_terminal, count_is, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]

RECONCILE = {
    "ATTUNE__MESSAGE_QUEUE__RECONCILE_AFTER": "2",
    "ATTUNE__MESSAGE_QUEUE__RECONCILE_INTERVAL": "0.5",
}


async def _drain(cluster: Cluster, queue: str) -> int:
    """Take every message out of ``queue`` and drop it (acknowledged, never handled)."""
    dropped = 0
    async with cluster.bus.consume(queue, prefetch=100) as deliveries:
        with anyio.move_on_after(2):
            async for delivery in deliveries:
                await delivery.ack()
                dropped += 1
    return dropped


async def _finished_once(cluster: Cluster, ids: list[int]) -> list[int]:
    """How many times each execution reached a terminal status (its history says)."""
    async with cluster.store.read() as uow:
        histories = [
            await uow.execution_history.query(entity_id=i, changed_field="status") for i in ids
        ]
    return [
        sum(ExecutionStatus(h.new_values["status"]).is_terminal for h in history)
        for history in histories
    ]


@pytest.mark.timeout(240)
async def test_work_whose_message_was_lost_still_finishes(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    async with Cluster(settings, {**environ, **RECONCILE}) as cluster:
        executor = cluster.start("executor")
        cluster.start("worker", "worker-a")
        await until_true(lambda: count_is(cluster.active_workers(), 1))
        [worker_id] = await cluster.active_workers()

        # 1. Committed in `requested`, execution.requested never published (the API process
        #    died between its commit and its publish). The executor is already running, so
        #    its start-up recovery does not see them.
        async with cluster.store.transaction() as uow:
            requested = [
                (await uow.executions.create(Execution(action_ref="demo.add", config={"a": n})))
                for n in range(3)
            ]
            # 2. Scheduled to the worker, the dispatch never published (the executor died).
            dispatched = await uow.executions.create(
                Execution(action_ref="demo.add", config={"a": 10, "b": 5})
            )
            assert dispatched.id is not None
            await uow.executions.transition(
                dispatched.id,
                expected=ExecutionStatus.REQUESTED,
                new=ExecutionStatus.SCHEDULED,
                worker=worker_id,
            )
        lost = [e.id for e in requested if e.id is not None] + [dispatched.id]
        await until_true(lambda: all_terminal(cluster.store, lost), 60)

        # 3. A workflow's child finishes while no executor runs, and its execution.completed
        #    is lost (drained from the queue): the workflow would wait forever.
        [workflow] = await cluster.request(
            Execution(action_ref="demo.chain", config={"a": 1, "who": "lost"})
        )

        async def child_running() -> bool:
            async with cluster.store.read() as uow:
                children = await uow.executions.list_children(workflow)
            return any(c.status is ExecutionStatus.RUNNING for c in children)

        await until_true(child_running, 60)
        executor.send_signal(signal.SIGTERM)
        await anyio.to_thread.run_sync(executor.wait, 30)

        async def children_done() -> bool:
            async with cluster.store.read() as uow:
                children = await uow.executions.list_children(workflow)
            return all(c.status.is_terminal for c in children)

        await until_true(children_done, 60)
        dropped = await _drain(cluster, EXECUTOR_COMPLETIONS)
        dropped += await _drain(cluster, EXECUTOR_REQUESTS)
        assert dropped >= 1
        async with cluster.store.read() as uow:
            assert not (await uow.executions.get(workflow)).status.is_terminal

        cluster.start("executor")
        await until_true(lambda: all_terminal(cluster.store, [workflow]), 60)
        async with cluster.store.read() as uow:
            chain = await uow.executions.get(workflow)
            children = await uow.executions.list_children(workflow)
            done = [await uow.executions.get(i) for i in lost]
        assert chain.status is ExecutionStatus.COMPLETED, chain.result
        assert chain.result == {"total": 11, "greeting": "Hello, lost (11)!\n"}
        assert [c.workflow_task["task_name"] for c in children] == ["add", "greet"]
        assert [e.status for e in done] == [ExecutionStatus.COMPLETED] * 4
        assert [e.result["data"]["sum"] for e in done] == [0, 1, 2, 15]
        everything = [*lost, workflow, *(c.id for c in children if c.id is not None)]
        assert await _finished_once(cluster, everything) == [1] * len(everything)
        print(
            f"\nlost messages: 3 requested and 1 dispatch never published, {dropped} drained "
            "while no executor ran; all finished once"
        )
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


@pytest.mark.timeout(120)
async def test_a_claim_whose_answer_was_lost_is_run_when_its_dispatch_comes_again(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    """The worker's claim (scheduled -> running) committed, but the connection broke before
    its answer arrived (a database restart): the worker hands the dispatch back, and when it
    comes again the execution is already running on that worker though nothing ran it. It is
    run then, once; one whose cancel was asked for meanwhile ends cancelled."""
    async with Cluster(*installation) as cluster:
        cluster.start("worker", "worker-a")
        await until_true(lambda: count_is(cluster.active_workers(), 1))
        (worker,) = await cluster.active_workers()
        # As the lost claims left them: running (or, cancel asked, canceling) on the worker.
        async with cluster.store.transaction() as uow:
            claimed, cancelled = await uow.executions.create_many(
                [
                    Execution(action_ref="demo.add", config=config, status=status, worker=worker)
                    for config, status in (
                        ({"a": 20, "b": 22}, ExecutionStatus.RUNNING),
                        ({"a": 1, "b": 1}, ExecutionStatus.CANCELING),
                    )
                ]
            )
        ids = [claimed.id, cancelled.id]
        assert None not in ids
        for execution_id in ids:
            await cluster.bus.publish(worker_dispatch_key(worker), {"execution_id": execution_id})
        await until_true(lambda: all_terminal(cluster.store, ids), 60)
        async with cluster.store.read() as uow:
            ran = await uow.executions.get(claimed.id)
            stopped = await uow.executions.get(cancelled.id)
        assert ran.status is ExecutionStatus.COMPLETED, ran.result
        assert ran.result["data"]["sum"] == 42
        assert stopped.status is ExecutionStatus.CANCELLED
        # A dispatch repeated once the run ended changes nothing.
        await cluster.bus.publish(worker_dispatch_key(worker), {"execution_id": claimed.id})
        await anyio.sleep(1)
        assert await _finished_once(cluster, [claimed.id]) == [1]
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
