"""Inserts held back and written together on PostgreSQL (attune_core/storage/_deferred.py):
an event, its enforcement and its execution cost one statement; large batches still land
whole or not at all; a read of a held table sees the held rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from attune_core.bus import InMemoryBus
from attune_core.clock import FakeClock
from attune_core.engine._events import EventIntake, EventSubmission
from attune_core.errors import NotFound
from attune_core.model import Enforcement, EnforcementStatus, Event, ExecutionStatus, Rule
from attune_core.storage import Store
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service
from tests.integration.test_repositories import seed_action, seed_pack, seed_trigger

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pg_store() -> AsyncIterator[Store]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL) as store:
        yield store


@pytest.fixture
def statements(pg_store: Store) -> Iterator[list[str]]:
    """The SQL statements sent while the test runs (not BEGIN/COMMIT: those are the
    driver's own calls, and absent in autocommit)."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(pg_store.engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(pg_store.engine.sync_engine, "before_cursor_execute", record)


async def _rule(store: Store) -> Rule:
    async with store.transaction() as uow:
        pack = await seed_pack(uow)
        trigger = await seed_trigger(uow, pack)
        action = await seed_action(uow, pack)
        return await uow.rules.create(
            Rule(
                ref="demo.on_tick",
                pack_ref="demo",
                label="On tick",
                trigger=trigger.id,
                trigger_ref=trigger.ref,
                action=action.id,
                action_ref=action.ref,
                action_params={"n": "{{ event.payload.n }}", "event": "{{ event.id }}"},
            )
        )


async def test_an_event_its_enforcement_and_its_execution_are_one_statement(
    pg_store: Store, statements: list[str]
) -> None:
    await _rule(pg_store)
    intake = EventIntake(pg_store, InMemoryBus(), FakeClock())
    await intake.fire("demo.tick", {"n": 0})  # reserves the blocks of ids, warms the caches
    statements.clear()

    stored = await intake.fire("demo.tick", {"n": 1})

    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1, statements
    assert "INSERT INTO event" in writes[0] and "INSERT INTO execution" in writes[0]
    async with pg_store.read() as uow:
        [enforcement] = await uow.enforcements.list(event=stored.id)
        [execution] = await uow.executions.list(enforcement=enforcement.id)
        assert await uow.events.get(stored.id) == stored
    assert enforcement.status is EnforcementStatus.PROCESSED
    assert execution.status is ExecutionStatus.REQUESTED
    # The template saw the event's id, reserved before the rows were written.
    assert execution.config == {"n": 1, "event": stored.id}


async def test_a_batch_beyond_one_statement_lands_whole(
    pg_store: Store, statements: list[str]
) -> None:
    await _rule(pg_store)
    intake = EventIntake(pg_store, InMemoryBus(), FakeClock())
    count = 1_000  # ~47 parameters per event's rows: more than one statement may carry

    stored = await intake.fire_each([EventSubmission("demo.tick", {"n": n}) for n in range(count)])

    assert len([s for s in statements if "INSERT INTO" in s]) > 1
    async with pg_store.read() as uow:
        executions = await uow.executions.list(limit=None)
    assert len({e.id for e in stored if isinstance(e, Event)}) == count
    assert sorted(e.config["n"] for e in executions) == list(range(count))


async def test_a_failing_statement_of_a_large_autocommit_unit_writes_nothing(
    pg_store: Store,
) -> None:
    await _rule(pg_store)
    async with pg_store.read() as uow:
        trigger = await uow.triggers.get_by_ref("demo.tick")
    events = [
        Event(trigger=trigger.id, trigger_ref=trigger.ref, payload={"n": n}) for n in range(4_000)
    ]

    async def write() -> None:
        async with pg_store.transaction(autocommit=True) as uow:
            uow.defer_inserts()
            stored = await uow.events.create_many(events)  # > one statement's parameters
            await uow.enforcements.create_resolved_many(
                [
                    Enforcement(
                        rule=10_000,  # no such rule: the last statement fails
                        rule_ref="demo.gone",
                        trigger_ref=trigger.ref,
                        event=stored[-1].id,
                        status=EnforcementStatus.DISABLED,
                        resolved_at=uow.now(),
                    )
                ]
            )

    with pytest.raises(NotFound, match="enforcement"):
        await write()
    async with pg_store.read() as uow:
        assert await uow.events.count() == 0


async def test_a_read_of_a_held_table_sees_the_held_rows(pg_store: Store) -> None:
    await _rule(pg_store)
    async with pg_store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref("demo.tick")
        uow.defer_inserts()
        [held] = await uow.events.create_many(
            [Event(trigger=trigger.id, trigger_ref=trigger.ref, payload={"n": 1})]
        )
        assert held.id is not None
        assert await uow.events.get(held.id) == held
        [other] = await uow.events.create_many(
            [Event(trigger=trigger.id, trigger_ref=trigger.ref, payload={"n": 2})]
        )
    async with pg_store.read() as uow:
        assert [e.id for e in await uow.events.list()] == [other.id, held.id]


async def test_an_autocommit_unit_forced_to_write_early_still_lands_whole_or_not_at_all(
    pg_store: Store,
) -> None:
    """A read of a held table in an autocommit unit writes the held rows before it: in a
    transaction the unit opens, so that a failure later still takes them back."""
    await _rule(pg_store)
    async with pg_store.read() as uow:
        trigger = await uow.triggers.get_by_ref("demo.tick")
    tick = Event(trigger=trigger.id, trigger_ref=trigger.ref, payload={})

    async def unit(fail: bool) -> None:
        async with pg_store.transaction(autocommit=True) as uow:
            uow.defer_inserts()
            await uow.events.create_many([tick])
            assert await uow.events.count() == 1  # forces the held row out
            await uow.events.create_many([tick])
            if fail:
                raise RuntimeError("the unit fails after its rows were written")

    with pytest.raises(RuntimeError):
        await unit(fail=True)
    async with pg_store.read() as uow:
        assert await uow.events.count() == 0
    await unit(fail=False)
    async with pg_store.read() as uow:
        assert await uow.events.count() == 2
