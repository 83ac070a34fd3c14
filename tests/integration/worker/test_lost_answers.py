"""A worker's statement that committed though its answer never arrived (the connection broke
as PostgreSQL committed it: a database restart). The worker tries again; what the first attempt
did must still be heard of."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from attune_core.bus import InMemoryBus, RoutingKey, worker_dispatch_key
from attune_core.clock import FakeClock
from attune_core.config import load_settings
from attune_core.engine._worker_service import WorkerService
from attune_core.model import Execution, ExecutionStatus
from attune_core.packs import register_pack
from attune_core.resources import packs_dir
from attune_core.storage import Store
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.anyio]


@pytest.fixture
async def pg_store(clock: FakeClock) -> AsyncIterator[Store]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL, now=clock.now) as store:
        await register_pack(store, packs_dir() / "core")
        yield store


@contextmanager
def answer_lost_once(store: Store, status: ExecutionStatus) -> Iterator[list[str]]:
    """The first statement setting an execution's status to ``status`` runs (and, outside a
    transaction, commits), then its connection fails as if the server went away before
    answering."""
    lost: list[str] = []

    def after_cursor_execute(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any
    ) -> None:
        # asyncpg's parameters are positional: the new status is one of them.
        if not lost and statement.startswith("UPDATE execution ") and status.value in parameters:
            lost.append(statement)
            raise ConnectionResetError("connection reset by peer (made by the test)")

    engine = store.engine.sync_engine
    sa.event.listen(engine, "after_cursor_execute", after_cursor_execute)
    try:
        yield lost
    finally:
        sa.event.remove(engine, "after_cursor_execute", after_cursor_execute)


async def test_an_outcome_whose_answer_was_lost_is_still_announced(
    pg_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """The outcome's statement committed; the retry finds the execution already completed and
    changes nothing, but publishes its completion (without it, the executors would hear of it
    only when their reconciler looked, a minute later)."""
    store = pg_store
    bus = InMemoryBus()
    settings = load_settings(
        env="test",
        environ={"ATTUNE__DATA_DIR": str(tmp_path), "ATTUNE__PACKS_BASE_DIR": str(packs_dir())},
        base_dir=tmp_path,
    )
    await bus.declare_queue("observer", [RoutingKey.EXECUTION_COMPLETED])
    worker = WorkerService(store, bus, clock, settings, name="w")
    with anyio.fail_after(60), answer_lost_once(store, ExecutionStatus.COMPLETED) as lost:
        async with anyio.create_task_group() as tg:
            await tg.start(worker.run)
            async with store.transaction() as uow:
                execution = await uow.executions.create(
                    Execution(
                        action_ref="core.echo",
                        config={"message": "once"},
                        status=ExecutionStatus.SCHEDULED,
                        worker=worker.worker_id,
                    )
                )
            assert worker.worker_id is not None
            await bus.publish(worker_dispatch_key(worker.worker_id), {"execution_id": execution.id})
            async with bus.consume("observer", prefetch=10) as deliveries:
                async for delivery in deliveries:
                    await delivery.ack()
                    if delivery.envelope.payload["execution_id"] == execution.id:
                        completed = delivery.envelope.payload
                        break
            tg.cancel_scope.cancel()
    assert lost, "the fault was never injected"
    assert completed["status"] == "completed"
    async with store.read() as uow:
        done = await uow.executions.get(execution.id)
        history = await uow.execution_history.query(entity_id=execution.id, changed_field="status")
    assert done.status is ExecutionStatus.COMPLETED
    assert "once" in done.result["stdout"]
    # Recorded once: the retry changed nothing.
    assert [h.new_values["status"] for h in history].count("completed") == 1
