"""Workers starting at the same moment share one system identity (the one execution tokens are
issued for); the loser of the race to create it uses the winner's row instead of crashing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from attune_core.bus import InMemoryBus
from attune_core.clock import FakeClock
from attune_core.config import load_settings
from attune_core.engine._messages import worker_queue
from attune_core.engine._worker_service import WorkerService
from attune_core.model import WorkerStatus
from attune_core.storage import Store

pytestmark = pytest.mark.anyio


async def test_concurrent_workers_share_the_system_identity(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    settings = load_settings(
        env="test", environ={"ATTUNE__DATA_DIR": str(tmp_path)}, base_dir=tmp_path
    )
    workers = [WorkerService(store, InMemoryBus(), clock, settings, name=f"w{n}") for n in range(6)]
    found: list[tuple[int, str]] = []

    async def start(worker: WorkerService) -> None:
        found.append(await worker._ensure_system_identity())

    async with anyio.create_task_group() as tg:
        for worker in workers:
            tg.start_soon(start, worker)
    assert len(found) == 6
    assert len(set(found)) == 1
    async with store.read() as uow:
        identity = await uow.identities.find_by_login(found[0][1])
    assert identity is not None and identity.id == found[0][0]


async def test_a_stopping_worker_takes_no_execution_handed_over(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """While its task group is being cancelled (the process stops), the worker refuses the
    executor's direct hand-over: the execution goes through the bus instead, and no task is
    started in a task group that is on its way out."""
    settings = load_settings(
        env="test", environ={"ATTUNE__DATA_DIR": str(tmp_path)}, base_dir=tmp_path
    )
    worker = WorkerService(store, InMemoryBus(), clock, settings, name="w")
    seen: list[bool] = []

    async def stop_slowly() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):  # like an outcome being recorded
                await anyio.lowlevel.checkpoint()  # the executor asks a moment later
                seen.append(worker.try_reserve())

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            await tg.start(worker.run)
            assert worker.try_reserve()  # running: a slot is free
            worker.abort(None)
            assert worker._task_group is not None
            worker._task_group.start_soon(stop_slowly)
            await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
    assert seen == [False]
    assert not worker.try_reserve()  # stopped


class _WatchingBus(InMemoryBus):
    """An in-memory bus noting, as each queue is declared, the workers then active."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self.active_at_declaration: dict[str, list[str]] = {}

    async def declare_queue(
        self,
        name: str,
        bindings: Sequence[str],
        *,
        transient: bool = False,
        unless: Mapping[str, Any] | None = None,
    ) -> None:
        async with self._store.read() as uow:
            active = await uow.workers.list(status=WorkerStatus.ACTIVE)
        self.active_at_declaration[name] = [w.name for w in active]
        await super().declare_queue(name, bindings, transient=transient, unless=unless)


async def test_a_new_worker_is_active_only_once_its_dispatch_queue_exists(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """Executions are placed on active workers and dispatched to their queues: a worker seen
    active before its queue exists would have its first dispatches dropped by the broker."""
    settings = load_settings(
        env="test", environ={"ATTUNE__DATA_DIR": str(tmp_path)}, base_dir=tmp_path
    )
    bus = _WatchingBus(store)
    worker = WorkerService(store, bus, clock, settings, name="fresh")
    registered = await worker.register()
    assert registered.status is WorkerStatus.ACTIVE
    assert registered.id is not None
    dispatch, _ = worker_queue(registered.id)
    assert bus.active_at_declaration[dispatch] == []
