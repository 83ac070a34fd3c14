"""The PostgreSQL LISTEN/NOTIFY notification source: rows inserted into ``notification`` reach
the hub once each, also across a lost LISTEN connection (rows inserted meanwhile are replayed)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from attune_core.config import DatabaseSettings
from attune_core.engine._notifier import notification_row
from attune_core.storage import Store, create_engine
from attune_core.testing import temporary_store
from attune_services.pg_notify import PgNotificationSource
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.anyio]


def frame(n: int) -> dict[str, Any]:
    return {
        "notification_type": "execution_status_changed",
        "entity_type": "execution",
        "entity_id": n,
        "user_id": None,
        "payload": {"status": "completed", "old_status": "running"},
        "timestamp": "2026-01-01T00:00:00+00:00",
    }


async def insert(store: Store, numbers: range) -> None:
    async with store.transaction() as uow:
        await uow.notifications.add_many([notification_row(frame(n)) for n in numbers])


async def test_rows_reach_the_hub_once_also_across_a_lost_connection() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL) as store:
        async with store.read() as uow:
            schema = await uow.connection.scalar(sa.text("SELECT current_schema()"))
        await insert(store, range(3))  # before the source starts: not replayed
        received: list[dict[str, Any]] = []
        source = PgNotificationSource(
            DatabaseSettings(url=POSTGRES_URL, schema=schema), store, received.append
        )

        async def until(count: int) -> None:
            with anyio.fail_after(20):
                while len(received) < count:  # noqa: ASYNC110 - the callback appends
                    await anyio.sleep(0.02)

        async with anyio.create_task_group() as tg:
            await tg.start(source.run)
            await insert(store, range(3, 8))
            await until(5)
            # The server drops the LISTEN connection (as in a PostgreSQL restart); what is
            # inserted before the source is back is read from the table after the reconnect.
            engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
            try:
                async with engine.begin() as conn:
                    await conn.exec_driver_sql(f"SELECT pg_terminate_backend({source.server_pid})")
            finally:
                await engine.dispose()
            await insert(store, range(8, 12))
            await until(9)
            assert source.reconnects == 1
            await insert(store, range(12, 14))
            await until(11)
            await anyio.sleep(0.5)  # nothing else comes: no duplicates
            tg.cancel_scope.cancel()
    assert [f["entity_id"] for f in received] == list(range(3, 14))
    assert all(f["type"] == "notification" for f in received)
    assert received[0] == {"type": "notification", **frame(3)}
