"""PostgreSQL: other processes' catalogue changes reach the cache by LISTEN/NOTIFY, and pooled
connections are pinged only after resting.

Two Stores on one schema stand for two processes. Statements are counted as SQLAlchemy sends
them (``before_cursor_execute``): while the catalogue listener is up, a cached read sends none.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from attune_core.model import Pack
from attune_core.storage import Store, migrate
from attune_core.storage import _catalogue_listener as listener_module
from attune_core.storage._engine import PING_AFTER_IDLE, driver_connect_kwargs
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.anyio]


@asynccontextmanager
async def _two_stores(*, migrate_schema: bool = True) -> AsyncIterator[tuple[Store, Store]]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL, migrate_schema=migrate_schema) as first:
        async with first.engine.connect() as conn:
            schema = (await conn.exec_driver_sql("SELECT current_schema()")).scalar_one()
        second = await Store.open(POSTGRES_URL, schema=schema, pool_size=2, max_overflow=2)
        try:
            yield first, second
        finally:
            await second.close()


@contextmanager
def _statements(store: Store) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _label(store: Store, ref: str = "demo") -> str | None:
    """The pack's label as the engine reads it: through the catalogue cache."""
    async with store.read() as uow:
        pack = await uow.packs.find_by_ref_cached(ref)
    return pack.label if pack is not None else None


async def _counted_label(store: Store) -> tuple[str | None, list[str]]:
    with _statements(store) as sent:
        label = await _label(store)
    return label, sent


async def _rename(store: Store, label: str) -> None:
    async with store.transaction() as uow:
        pack = await uow.packs.get_by_ref("demo")
        await uow.packs.update(pack.id, label=label)  # type: ignore[arg-type]


async def _rename_and_wait_for_announcement(first: Store, second: Store, label: str) -> None:
    """Rename the pack through ``first``; wait for ``second`` to hear of it (a read right
    after the commit may load the new row and then see the announcement clear it)."""
    listener = second.catalogue_listener
    assert listener is not None
    before = listener.announcements

    async def announced() -> bool:
        return listener.announcements > before

    await _rename(first, label)
    await _eventually(announced, timeout=5)


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while not await check():  # noqa: ASYNC110 - polling what another connection does
            await anyio.sleep(0.01)


def _is_stamp(statement: str) -> bool:
    return statement.lstrip().startswith("SELECT (SELECT count(*)")


async def _listening(store: Store) -> bool:
    assert store.catalogue_listener is not None
    return store.catalogue_listener.listening


async def _not_listening(store: Store) -> bool:
    return not await _listening(store)


async def _listener_up(first: Store, second: Store) -> None:
    """Create the pack, read it in ``second`` (which starts its listener), wait for it."""
    async with first.transaction() as uow:
        await uow.packs.create(Pack(ref="demo", label="Demo", version="1.0.0"))
    assert await _label(second) == "Demo"
    await _eventually(lambda: _listening(second))
    assert await _label(second) == "Demo"  # loaded again after the listener's invalidation


_ALIVE = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"


async def _terminate(store: Store, pid: int) -> None:
    """End the backend ``pid`` (one of this test's own) from a connection outside ``store``."""
    kwargs = driver_connect_kwargs(store.engine)
    assert kwargs is not None
    admin = await asyncpg.connect(**kwargs)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        with anyio.fail_after(10):
            while await admin.fetchval(_ALIVE, pid):  # noqa: ASYNC110 - polling the server
                await anyio.sleep(0.01)
    finally:
        await admin.close()


async def test_a_change_committed_elsewhere_reaches_the_cache_without_stamp_reads() -> None:
    async with _two_stores() as (first, second):
        await _listener_up(first, second)
        assert await _counted_label(second) == ("Demo", [])

        await _rename_and_wait_for_announcement(first, second, "Renamed")
        label, sent = await _counted_label(second)
        assert label == "Renamed" and len(sent) == 1  # the announcement cleared the cache
        assert await _counted_label(second) == ("Renamed", [])

        # The first store's own change cleared its cache at commit; it is announced to it too.
        assert await _label(first) == "Renamed"


async def test_with_the_listener_down_the_stamp_is_read_until_it_reconnects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A longer pause before reconnecting, so that the reads below surely happen while down.
    monkeypatch.setattr(listener_module, "FIRST_RETRY_DELAY", 3.0)
    async with _two_stores() as (first, second):
        await _listener_up(first, second)
        listener = second.catalogue_listener
        assert listener is not None and listener.server_pid is not None
        assert listener.connections == 1

        await _terminate(first, listener.server_pid)
        await _eventually(lambda: _not_listening(second))

        label, sent = await _counted_label(second)
        # The stamp was forgotten with the listener: read, then the pack loaded anew.
        assert label == "Demo"
        assert len(sent) == 2 and _is_stamp(sent[0])

        await _rename(first, "Renamed")  # announced to nobody in `second`
        label, sent = await _counted_label(second)
        assert label == "Renamed"
        assert len(sent) == 2 and _is_stamp(sent[0])
        label, sent = await _counted_label(second)
        assert label == "Renamed"
        assert len(sent) == 1 and _is_stamp(sent[0])  # the stamp is unchanged: cached
        assert not listener.listening

        await _eventually(lambda: _listening(second))
        assert listener.connections == 2
        label, sent = await _counted_label(second)
        assert label == "Renamed" and len(sent) == 1  # cleared on reconnect, loaded once
        assert await _counted_label(second) == ("Renamed", [])


async def test_a_schema_without_the_triggers_keeps_the_stamp_until_migrated() -> None:
    async with _two_stores(migrate_schema=False) as (first, second):
        await migrate.upgrade(first.engine, "0006")
        async with first.transaction() as uow:
            await uow.packs.create(Pack(ref="demo", label="Demo", version="1.0.0"))
        assert await _label(second) == "Demo"  # starts the listener, which finds no trigger
        await anyio.sleep(0.3)
        assert second.catalogue_listener is not None
        assert not second.catalogue_listener.listening
        await _rename(first, "Renamed")
        label, sent = await _counted_label(second)
        assert label == "Renamed"
        assert _is_stamp(sent[0])

        await migrate.upgrade(first.engine)
        await _eventually(lambda: _listening(second))
        await _rename_and_wait_for_announcement(first, second, "Again")
        assert await _label(second) == "Again"
        assert await _counted_label(second) == ("Again", [])


async def test_close_stops_the_listener_and_its_connection() -> None:
    async with _two_stores() as (first, second):
        await _listener_up(first, second)
        assert second.catalogue_listener is not None
        pid = second.catalogue_listener.server_pid
        started = time.monotonic()
        await second.close()
        assert time.monotonic() - started < 2
        assert not second.catalogue_listener.listening
        async with first.read() as uow:
            alive = await uow.connection.scalar(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        assert alive == 0
    # Closed right after its listener started (usually still connecting), as quickly.
    async with _two_stores() as (first, second):
        async with first.transaction() as uow:
            await uow.packs.create(Pack(ref="demo", label="Demo", version="1.0.0"))
        assert await _label(second) == "Demo"  # starts the listener
        started = time.monotonic()
        await second.close()
        assert time.monotonic() - started < 2
        assert second.catalogue_listener is not None
        assert not second.catalogue_listener.listening


async def _backend_pid(store: Store) -> int:
    async with store.read() as uow:
        return int(await uow.connection.scalar(sa.text("SELECT pg_backend_pid()")))


async def test_connections_in_use_are_not_pinged_and_dead_ones_are_replaced() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL) as store:
        async with store.read() as a, store.read() as b:  # two connections in the pool
            pids = {
                int(await uow.connection.scalar(sa.text("SELECT pg_backend_pid()")))
                for uow in (a, b)
            }
        pings = store.pings
        for _ in range(6):
            assert await _backend_pid(store) in pids  # reused within a second: no ping
        assert store.pings == pings

        # Killed while resting in the pool: the ping before their next use finds them dead and
        # the pool opens others; the units of work do not notice.
        for pid in pids:
            await _terminate(store, pid)
        await anyio.sleep(PING_AFTER_IDLE + 0.2)
        fresh = {await _backend_pid(store), await _backend_pid(store)}
        assert not fresh & pids
        assert store.pings > pings

        # Killed while in use: its next statement fails, SQLAlchemy takes it for a disconnect
        # and invalidates the pool, and the next unit of work runs on a new connection.
        async with store.read() as uow:
            pid = int(await uow.connection.scalar(sa.text("SELECT pg_backend_pid()")))
            await _terminate(store, pid)
            with pytest.raises(sa.exc.DBAPIError) as failed:
                await uow.connection.scalar(sa.text("SELECT 1"))
        assert failed.value.connection_invalidated
        assert await _backend_pid(store) != pid
