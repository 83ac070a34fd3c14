"""PostgreSQL-specific guarantees: concurrent transitions, connection errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from attune_core.errors import ConfigError, StorageError
from attune_core.model import Execution, ExecutionStatus, Worker
from attune_core.storage import Change, Store
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.anyio]


@pytest.fixture
async def pg_store() -> AsyncIterator[Store]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL) as store:
        yield store


async def test_two_connections_race_to_transition_and_exactly_one_wins(pg_store: Store) -> None:
    async with pg_store.transaction() as uow:
        created = [
            await uow.executions.create(Execution(action_ref="core.echo")) for _ in range(10)
        ]
    outcomes: dict[int, list[str]] = {e.id: [] for e in created}  # type: ignore[misc]
    first_holds_lock = anyio.Event()

    async def racer(name: str, execution_id: int, hold: bool) -> None:
        async with pg_store.transaction() as uow:
            changed = await uow.executions.transition(
                execution_id,
                expected=ExecutionStatus.REQUESTED,
                new=ExecutionStatus.SCHEDULED,
                executor=None,
            )
            if hold:
                first_holds_lock.set()
                await anyio.sleep(0.2)  # keep the row locked while the other racer arrives
            if changed is not None:
                outcomes[execution_id].append(name)

    # One forced overlap: B starts while A holds the row lock, then finds the status moved on.
    target = created[0].id
    assert target is not None
    async with anyio.create_task_group() as tg:
        tg.start_soon(racer, "A", target, True)
        await first_holds_lock.wait()
        tg.start_soon(racer, "B", target, False)
    # Free-for-all on the others.
    async with anyio.create_task_group() as tg:
        for execution in created[1:]:
            assert execution.id is not None
            for name in ("A", "B"):
                tg.start_soon(racer, name, execution.id, False)

    assert outcomes[target] == ["A"]
    assert all(len(winners) == 1 for winners in outcomes.values()), outcomes
    async with pg_store.read() as uow:
        history = await uow.execution_history.query(operation="UPDATE")
    assert len(history) == 10  # one recorded transition per execution, never two


async def test_a_transition_that_waited_for_the_lock_reports_the_status_it_replaced(
    pg_store: Store,
) -> None:
    async with pg_store.transaction() as uow:
        execution = await uow.executions.create(Execution(action_ref="core.echo"))
    eid = execution.id
    assert eid is not None
    announced: list[tuple[str, str | None, str]] = []

    async def listen(changes: list[Change]) -> None:
        announced.extend(
            (c.kind, c.old_status, c.entity.status.value) for c in changes if c.kind == "status"
        )

    pg_store.on_commit(listen)
    holds_lock = anyio.Event()

    async def schedule() -> None:
        async with pg_store.transaction() as uow:
            await uow.executions.transition(
                eid, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.SCHEDULED
            )
            holds_lock.set()
            await anyio.sleep(0.2)

    async def run() -> None:
        async with pg_store.transaction() as uow:
            # Either status will do; the one replaced is the one the other transaction left.
            await uow.executions.transition(
                eid,
                expected=[ExecutionStatus.REQUESTED, ExecutionStatus.SCHEDULED],
                new=ExecutionStatus.RUNNING,
            )

    async with anyio.create_task_group() as tg:
        tg.start_soon(schedule)
        await holds_lock.wait()
        tg.start_soon(run)
    assert announced == [("status", "requested", "scheduled"), ("status", "scheduled", "running")]
    async with pg_store.read() as uow:
        records = await uow.execution_history.query(entity_id=eid, operation="UPDATE")
    assert [(r.old_values["status"], r.new_values["status"]) for r in records] == [
        ("scheduled", "running"),
        ("requested", "scheduled"),
    ]


async def test_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(StorageError) as info:
        await Store.open("postgresql+asyncpg://attune@127.0.0.1:1/attune")
    message = str(info.value)
    assert (
        "cannot connect to the database at postgresql+asyncpg://attune@127.0.0.1:1/attune"
        in message
    )
    assert "ATTUNE__DATABASE__URL" in message


async def test_malformed_and_unsupported_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="malformed database URL"):
        await Store.open("not a url")
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        await Store.open("mysql://root@localhost/attune")


async def test_a_claim_reads_the_same_few_pages_whatever_the_backlog(pg_store: Store) -> None:
    """A worker's claim (scheduled -> running, on this worker) of one execution among
    thousands scheduled on it, in a table just filled (no statistics yet: autovacuum has not
    analysed it): the statement goes to the row by its key instead of visiting every row of
    the backlog and lock-reading the prior row once per row visited (a quadratic backlog)."""
    async with pg_store.transaction() as uow:
        await uow.connection.execute(
            sa.text("ALTER TABLE execution SET (autovacuum_enabled = false)")
        )
        worker = await uow.workers.create(Worker(name="w"))
        backlog = await uow.executions.create_many(
            [
                Execution(
                    action_ref="core.echo", status=ExecutionStatus.SCHEDULED, worker=worker.id
                )
                for _ in range(3000)
            ]
        )
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.startswith("UPDATE execution "):
            statements.append((statement, parameters))

    engine = pg_store.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        async with pg_store.transaction() as uow:
            claimed = await uow.executions.transition(
                backlog[1500].id,
                expected=ExecutionStatus.SCHEDULED,
                new=ExecutionStatus.RUNNING,
                where={"worker": worker.id},
            )
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert claimed is not None and claimed.status is ExecutionStatus.RUNNING
    (statement, parameters), *_ = statements
    # The same statement on the next execution of the backlog, measured, then rolled back.
    parameters = tuple(backlog[1501].id if p == backlog[1500].id else p for p in parameters)
    async with pg_store.engine.connect() as conn:
        explained = await conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        )
        (plan,) = explained.scalar_one()
        await conn.rollback()
    assert plan["Plan"]["Actual Rows"] == 1
    assert plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"] < 300, plan
