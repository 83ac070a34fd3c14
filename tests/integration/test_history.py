"""Entity history: PostgreSQL's triggers record exactly what the Python path records on SQLite.

The same changes are made on both backends and the history read back is compared; digests of
JSON values are compared with the ones PostgreSQL computes; a tracked transition costs one
statement on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql

from attune_core.clock import FakeClock
from attune_core.model import Execution, ExecutionStatus, Pack, Runtime, Worker, WorkerStatus
from attune_core.storage import Store, digest_summary
from attune_core.storage._history import jsonb_text
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def pg_store() -> AsyncIterator[Store]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL) as store:
        yield store


CORPUS: list[Any] = [
    None,
    True,
    False,
    "",
    "plain",
    0,
    42,
    -7,
    1.5,
    {},
    [],
    {"stdout": "x" * 5000, "exit_code": 0},
    # jsonb orders keys by byte length, then bytes ("é" is two bytes)
    {"b": {"bb": [1, {"z": None, "a": True}], "a": []}, "aaa": {}, "é": "ü", "ab": "日本"},
    ['quote" back\\ \b\f\n\r\t', "\x01\x1f\x7f", "\u2028 / </script>", "emoji 🎉"],
    [0.1, 1.0, 100.0, 1e20, 1e15, 1e16, 1.5e-7, 1e-7, -0.0, -2.5, 3.141592653589793],
    [1.2345678901234568e17, 5e-324, 1.7976931348623157e308, float("nan")],
    [2**63 - 1, -(2**63), 2**64 - 1],
    {"big": 2**70, "negative": -(2**80), "float": 0.5},  # beyond 64 bits: the json fallback
    {"at": datetime(2026, 1, 1, 12, 30, 0, 250000, tzinfo=UTC), 1: "integer key"},
    [[[]], [{}], {"": ""}],
]


async def test_digest_is_the_one_postgresql_computes(pg_store: Store) -> None:
    value = sa.bindparam("value", type_=postgresql.JSONB(none_as_null=True))
    statement = sa.select(
        sa.cast(value, sa.Text),
        sa.func.attune_history_digest(value, type_=postgresql.JSONB),
    )
    async with pg_store.read() as uow:
        for item in CORPUS:
            text, digest = (await uow.connection.execute(statement, {"value": item})).one()
            if item is not None:
                assert jsonb_text(item) == text, item
            assert digest_summary(item) == digest, item


async def _history_after_changes(store: Store, clock: FakeClock) -> list[tuple[Any, ...]]:
    """Make a sequence of tracked and untracked changes; return the history as read back."""
    S, W = ExecutionStatus, WorkerStatus
    async with store.transaction() as uow:
        worker = await uow.workers.create(
            Worker(name="w1", host="h1", port=8000, capabilities={"runtimes": ["shell"]})
        )
        wid = worker.id
        assert wid is not None
        pack = await uow.packs.create(Pack(ref="demo", label="Demo", version="1.0.0"))
        runtime = await uow.runtimes.create(
            Runtime(ref="demo.shell", pack=pack.id, pack_ref="demo", name="Shell")
        )
        await uow.workers.create(Worker(name="w2", runtime=runtime.id))
        execution = await uow.executions.create(
            Execution(
                action_ref="core.echo",
                env_vars={"A": "1"},
                workflow_task={"task": "t", "index": 0},
            )
        )
        eid = execution.id
        assert eid is not None
        batch = await uow.executions.create_many(
            [Execution(action_ref="core.noop"), Execution(action_ref="core.noop", executor=wid)]
        )
        first, second = (e.id for e in batch)
        assert first is not None and second is not None
    await clock.advance(0.25)  # stamps with microseconds from here on
    async with store.transaction() as uow:
        await uow.executions.transition(
            eid, expected=S.REQUESTED, new=S.SCHEDULED, executor=wid, worker=wid
        )
        assert await uow.workers.heartbeat(wid)  # no tracked field: nothing recorded
        await uow.workers.transition(wid, expected=W.ACTIVE, new=W.BUSY)
    await clock.advance(1)
    async with store.transaction() as uow:
        await uow.executions.find_for_update(eid)  # a row already locked by the transaction
        await uow.executions.transition(eid, expected=[S.SCHEDULED, S.SCHEDULING], new=S.RUNNING)
        await uow.executions.update(eid, config={"untracked": True})
    await clock.advance(0.75)
    async with store.transaction() as uow:
        await uow.executions.transition(
            eid,
            expected=S.RUNNING,
            new=S.COMPLETED,
            result={"stdout": "é\n", "numbers": [1.5, 1e20, None]},
        )
        await uow.workers.update(wid, cordoned=True, meta={"k": "v"}, port=None)
        await uow.executions.update(first, status=S.RUNNING)
        await uow.executions.update(first, status=S.FAILED)
        await uow.executions.update(second, status=S.RUNNING, started_at=clock.now())
    await clock.advance(1)
    async with store.transaction() as uow:
        await uow.executions.delete(first)
        # The database sets the executions' executor and worker to NULL, and w2's runtime:
        # not recorded.
        await uow.workers.delete(wid)
        await uow.runtimes.delete(runtime.id)  # type: ignore[arg-type]
    async with store.read() as uow:
        records = [*await uow.execution_history.query(), *await uow.worker_history.query()]
    return [
        (
            type(r).__name__,
            r.operation.value,
            r.entity_id,
            r.entity_ref,
            r.changed_fields,
            r.old_values,
            r.new_values,
            # A DELETE's time is the database's on PostgreSQL (the application never deletes
            # executions or workers; the retention purge records nothing).
            None if r.operation.value == "DELETE" else r.time,
        )
        for r in records
    ]


async def test_postgresql_triggers_record_what_sqlite_records() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    histories = []
    for url in ("sqlite", POSTGRES_URL):
        clock = FakeClock()
        async with temporary_store(url, now=clock.now) as store:
            histories.append(await _history_after_changes(store, clock))
    on_sqlite, on_postgresql = histories
    assert on_postgresql == on_sqlite
    # What a reader of the history sees, on both backends.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    executions = [r for r in on_sqlite if r[0] == "ExecutionHistory"]
    running = next(r for r in executions if r[2] == 1 and r[4] == ["status", "started_at"])
    assert running[5:] == (
        {"status": "scheduled", "started_at": None},
        {"status": "running", "started_at": "2026-01-01T00:00:01.250000+00:00"},
        start + timedelta(seconds=1.25),
    )
    assert [r[4] for r in on_sqlite if r[0] == "WorkerHistory" and r[2] == 2] == [
        [
            "name",
            "worker_type",
            "worker_role",
            "runtime",
            "status",
            "capabilities",
            "meta",
            "cordoned",
        ]
    ]
    assert [r[4] for r in on_sqlite if r[0] == "WorkerHistory" and r[2] == 1] == [
        [],  # DELETE
        ["port", "meta", "cordoned"],
        ["status"],
        [
            "name",
            "worker_type",
            "worker_role",
            "host",
            "port",
            "status",
            "capabilities",
            "meta",
            "cordoned",
        ],
    ]
    completed = next(r for r in on_sqlite if r[4] == ["status", "result"])
    assert completed[6]["result"] == digest_summary({"stdout": "é\n", "numbers": [1.5, 1e20, None]})
    assert completed[6]["result"]["type"] == "object"
    # No UPDATE recorded for the executions whose worker was deleted (ids 1 and 3).
    assert [r[1] for r in on_sqlite if r[0] == "ExecutionHistory" and r[2] == 3] == [
        "UPDATE",
        "INSERT",
    ]


async def test_purge_records_no_history(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        execution = await uow.executions.create(Execution(action_ref="core.echo"))
        await uow.executions.update(execution.id, status=ExecutionStatus.FAILED)  # type: ignore[arg-type]
    await clock.advance(3600)
    async with store.transaction() as uow:
        purged = await uow.executions.purge_batch("created", clock.now(), limit=10)
        later = await uow.executions.create(Execution(action_ref="core.later"))
    async with store.read() as uow:
        records = await uow.execution_history.query()
    assert purged == 1
    # The purge recorded nothing, and the same transaction's later changes still are.
    assert [(r.entity_id, r.operation.value) for r in records] == [
        (later.id, "INSERT"),
        (execution.id, "UPDATE"),
        (execution.id, "INSERT"),
    ]


async def test_a_transition_is_one_statement_on_postgresql(pg_store: Store) -> None:
    async with pg_store.transaction() as uow:
        execution = await uow.executions.create(Execution(action_ref="core.echo"))
        assert execution.id is not None
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(pg_store.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with pg_store.transaction() as uow:
            running = await uow.executions.transition(
                execution.id, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.RUNNING
            )
            assert len(statements) == 1, statements
            late = await uow.executions.transition(
                execution.id, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.RUNNING
            )
            assert len(statements) == 1  # the row is known to be RUNNING: no statement
    finally:
        event.remove(pg_store.engine.sync_engine, "before_cursor_execute", count)
    assert running is not None and running.started_at is not None and late is None
    async with pg_store.read() as uow:
        records = await uow.execution_history.query(entity_id=execution.id)
    assert [r.changed_fields for r in records] == [["status", "started_at"], ["status"]]
