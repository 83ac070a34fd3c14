"""The reconciler picks exactly the work whose message may have been lost (SQLite and
PostgreSQL); the processes and RabbitMQ side is in tests/integration/distributed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attune_core.bus import InMemoryBus, RoutingKey, worker_dispatch_key
from attune_core.clock import FakeClock
from attune_core.engine._reconcile import Reconciler
from attune_core.model import Execution, ExecutionStatus, Worker, WorkflowExecution
from attune_core.storage import Store

pytestmark = pytest.mark.anyio

STALE = 60.0


async def test_only_overdue_work_gets_its_message_again_and_once(
    store: Store, clock: FakeClock
) -> None:
    bus = InMemoryBus()
    reconciler = Reconciler(store, bus, clock, stale_after=STALE, interval=10)
    later = (clock.now() + timedelta(hours=1)).isoformat()
    async with store.transaction() as uow:
        worker = await uow.workers.create(Worker(name="w1"))
        requested = await uow.executions.create(Execution(action_ref="core.noop"))
        held = await uow.executions.create(
            Execution(action_ref="core.noop", workflow_task={"held": True})
        )
        delayed = await uow.executions.create(
            Execution(action_ref="core.noop", workflow_task={"next_retry_at": later})
        )
        scheduled = await uow.executions.create(Execution(action_ref="core.noop"))
        assert scheduled.id is not None and worker.id is not None
        await uow.executions.transition(
            scheduled.id,
            expected=ExecutionStatus.REQUESTED,
            new=ExecutionStatus.SCHEDULED,
            worker=worker.id,
        )
        parent = await uow.executions.create(
            Execution(action_ref="demo.flow", status=ExecutionStatus.RUNNING)
        )
        assert parent.id is not None
        await uow.workflow_executions.create(
            WorkflowExecution(execution=parent.id, status=ExecutionStatus.RUNNING)
        )
        child = await uow.executions.create(
            Execution(action_ref="core.noop", parent=parent.id, workflow_task={"task_name": "t"})
        )
        assert child.id is not None
    await clock.advance(1)  # the child ends after its workflow last changed
    async with store.transaction() as uow:
        await uow.executions.transition(
            child.id, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.COMPLETED
        )

    # Not overdue yet: nothing is sent.
    await clock.advance(STALE / 2)
    assert await reconciler.check() == []

    await clock.advance(STALE)
    sent = await reconciler.check()
    assert sorted(sent, key=lambda m: m[1]["execution_id"]) == [
        (RoutingKey.EXECUTION_REQUESTED, {"execution_id": requested.id}),
        (worker_dispatch_key(worker.id), {"execution_id": scheduled.id}),
        (
            RoutingKey.EXECUTION_COMPLETED,
            {
                "execution_id": child.id,
                "status": "completed",
                "parent": parent.id,
                "action_ref": "core.noop",
            },
        ),
    ]
    assert held.id not in {m[1]["execution_id"] for m in sent}
    assert delayed.id not in {m[1]["execution_id"] for m in sent}
    assert [e.message_type for e in bus.published] == [m[0] for m in sent]

    # Sent once per stale period, not every round.
    await clock.advance(10)
    assert await reconciler.check() == []
    await clock.advance(STALE)
    assert len(await reconciler.check()) == 3

    # A workflow that handled its child (changed since) is left alone.
    async with store.transaction() as uow:
        record = await uow.workflow_executions.find_by_execution(parent.id)
        assert record is not None and record.id is not None
        await uow.workflow_executions.update(record.id, current_tasks=[])
    await clock.advance(STALE * 2)
    assert {m[0] for m in await reconciler.check()} == {
        RoutingKey.EXECUTION_REQUESTED,
        worker_dispatch_key(worker.id),
    }
