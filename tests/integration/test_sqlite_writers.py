"""Two writers of one SQLite file (two processes, e.g. a CLI and the engine): the second waits
for the first's write lock in a worker thread, the event loop keeps running, nothing is lost."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from attune_core.model import Pack
from attune_core.storage import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_writer_waits_for_another_process_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'attune.db'}"
    first = await Store.open(url, migrate_to_head=True)
    second = await Store.open(url)  # its own connections and lock: another process's view
    holding = anyio.Event()
    release = anyio.Event()
    ticks = 0

    async def hold_the_lock() -> None:
        async with first.transaction() as uow:
            await uow.packs.create(Pack(ref="first", label="First", version="1.0.0"))
            holding.set()
            await release.wait()

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.01)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold_the_lock)
            tg.start_soon(tick)
            await holding.wait()
            started = time.monotonic()
            tg.start_soon(_release_after, release, 0.5)
            async with second.transaction() as uow:  # BEGIN IMMEDIATE meets SQLITE_BUSY
                await uow.packs.create(Pack(ref="second", label="Second", version="1.0.0"))
            waited = time.monotonic() - started
            tg.cancel_scope.cancel()
        assert waited >= 0.4  # it did wait for the first writer's commit
        assert ticks >= 10  # and the loop ran meanwhile (a tick every 10 ms, ~50 in 0.5 s)
        async with first.read() as uow:
            assert sorted(p.ref for p in await uow.packs.list()) == ["first", "second"]
    finally:
        await second.close()
        await first.close()


async def _release_after(release: anyio.Event, seconds: float) -> None:
    await anyio.sleep(seconds)
    release.set()
