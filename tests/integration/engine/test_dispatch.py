"""Placing executions on workers from a process that shares the database with others (the
API, a sensor host, an executor in distributed mode): the least loaded worker gets the next
one, by loads no older than ``WORKER_LOADS_TTL``, though this process does not hear of
executions ending."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from attune_core.bus import InMemoryBus
from attune_core.clock import FakeClock
from attune_core.engine._executor import WORKER_LOADS_TTL, Executor
from attune_core.model import Action, Execution, ExecutionStatus, Pack, Worker
from attune_core.storage import Store
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.anyio]


@pytest.fixture
async def shared_store(clock: FakeClock) -> AsyncIterator[Store]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL, now=clock.now) as store:
        assert store.catalogue.shared
        yield store


async def place(executor: Executor, store: Store, count: int) -> list[int | None]:
    """Place and store ``count`` executions of demo.noop; the worker each was placed on."""
    async with store.transaction() as uow:
        placed = await executor.place(
            uow, [Execution(action_ref="demo.noop") for _ in range(count)]
        )
        stored = await uow.executions.create_many(placed)
    return [e.worker for e in stored]


async def test_a_worker_that_drained_gets_work_again(shared_store: Store, clock: FakeClock) -> None:
    store = shared_store
    executor = Executor(store, InMemoryBus(), clock)
    async with store.transaction() as uow:
        pack = await uow.packs.create(Pack(ref="demo", label="Demo", version="1.0.0"))
        await uow.actions.create(
            Action(ref="demo.noop", pack=pack.id, pack_ref="demo", label="noop", entrypoint="x")
        )
        busy = await uow.workers.create(Worker(name="busy"))
        idle = await uow.workers.create(Worker(name="idle"))
        backlog = await uow.executions.create_many(
            [
                Execution(action_ref="demo.noop", status=ExecutionStatus.RUNNING, worker=busy.id)
                for _ in range(6)
            ]
        )
    # Counted now: six on one worker, none on the other.
    assert await place(executor, store, 3) == [idle.id] * 3
    # The busy worker's runs end (recorded by its own process, which this one does not hear).
    async with store.transaction() as uow:
        for execution in backlog:
            assert execution.id is not None
            await uow.executions.transition(
                execution.id, expected=ExecutionStatus.RUNNING, new=ExecutionStatus.COMPLETED
            )
    await anyio.sleep(WORKER_LOADS_TTL)
    # Counted again: 0 and 3, so the drained worker takes the next three, then they alternate.
    placed = await place(executor, store, 5)
    assert placed[:3] == [busy.id] * 3
    assert sorted(placed[3:]) == sorted([busy.id, idle.id])
