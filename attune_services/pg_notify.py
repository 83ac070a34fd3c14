"""PostgreSQL LISTEN/NOTIFY source for the notifier (``server.notification_source: postgresql``).

Every row inserted into ``notification`` (the executors' recorder stores each notification
once) is announced by a trigger (migrations 0001 and 0005):
``pg_notify('attune_notifications', '<schema>:<id>')``.
This source LISTENs on that channel and hands the rows' frames to the process's
:class:`~attune_services.notifier.NotificationHub`, so every API replica and notifier sees
every change whichever process made it, with the database as the only shared part.

Rules of this file:

1. One dedicated asyncpg connection per process does the LISTEN (a pooled connection would be
   returned to the pool and lose it). Ids that arrive together are read in one query.
2. The connection is watched: closed by the server (restart, ``pg_terminate_backend``) or
   silent for ``KEEPALIVE`` seconds without answering, it is replaced, with a growing pause
   (0.5 s doubling to ``MAX_RETRY_DELAY``). After a reconnect, the rows inserted while nobody
   listened (ids above the highest seen) are read from the table and delivered: a restart of
   PostgreSQL loses no notification.
3. A frame is delivered once: the ids delivered recently are remembered, so a row seen both in
   the catch-up and in a late NOTIFY is not delivered again. The channel is shared by every
   schema of the database: announcements of another schema (another installation, whose ids
   collide with ours) are ignored.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import anyio.abc
import asyncpg
import sqlalchemy as sa

from attune_core.config import DatabaseSettings
from attune_core.storage import Store, normalise_url, until_lost
from attune_core.storage.tables import notification

__all__ = ["CHANNEL", "PgNotificationSource"]

log = logging.getLogger(__name__)

CHANNEL = "attune_notifications"
MAX_RETRY_DELAY = 10.0
CATCH_UP_LIMIT = 10_000  # rows read after a reconnect (older gaps are not replayed)
_REMEMBERED = 50_000  # ids kept to deliver each frame once


class PgNotificationSource:
    """Feeds ``deliver`` with the frame of every new ``notification`` row.

    Args:
        database: The ``database`` settings (URL and schema) to LISTEN on.
        store: The same database, to read the rows.
        deliver: Called with each frame (``NotificationHub.publish_local``).
    """

    def __init__(
        self,
        database: DatabaseSettings,
        store: Store,
        deliver: Callable[[dict[str, Any]], None],
    ) -> None:
        url = normalise_url(database.url)
        if url.get_backend_name() != "postgresql":
            from attune_core.errors import ConfigError

            raise ConfigError(
                "server.notification_source is postgresql but database.url is "
                f"{url.get_backend_name()}: LISTEN/NOTIFY needs PostgreSQL (or set "
                "ATTUNE__SERVER__NOTIFICATION_SOURCE=bus)"
            )
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._schema = database.schema or None
        self._store = store
        self._deliver = deliver
        self._seen: collections.deque[int] = collections.deque(maxlen=_REMEMBERED)
        self._seen_set: set[int] = set()
        self._highest = 0
        self._started = False
        self.server_pid: int | None = None  # the backend doing the LISTEN (for operators)
        self.connected = False
        self.reconnects = 0
        self.delivered = 0

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """LISTEN until cancelled, reconnecting as needed (rule 2).

        Raises:
            OSError, asyncpg.PostgresError: the first connection failed (a wrong URL, the
                server down at start): reported to the caller rather than retried.
        """
        delay = 0.5
        while True:
            try:
                connection = await self._connect()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                if not self._started:
                    raise
                log.warning("notification LISTEN: cannot connect (%s); retry in %.1f s", exc, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            try:
                if self._started:
                    self.reconnects += 1
                    log.info("notification LISTEN connection restored")
                else:
                    self._highest = await self._max_id()
                delay = 0.5
                await self._listen(connection, task_status)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if not self._started:
                    raise
                log.warning("notification LISTEN connection lost: %s", exc)
            finally:
                self.connected = False
                with anyio.CancelScope(shield=True):
                    await _close(connection)
            await anyio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def _connect(self) -> asyncpg.Connection:
        settings = {"search_path": self._schema} if self._schema else None
        with anyio.fail_after(10):
            return await asyncpg.connect(self._dsn, server_settings=settings)

    async def _listen(
        self, connection: asyncpg.Connection, task_status: anyio.abc.TaskStatus[None]
    ) -> None:
        send, receive = anyio.create_memory_object_stream[int](100_000)
        lost = anyio.Event()

        schema = self._schema or await connection.fetchval("SELECT current_schema()")

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            origin, _, row_id = payload.rpartition(":")
            if origin and origin != schema:
                return  # another installation sharing the database
            try:
                send.send_nowait(int(row_id))
            except (ValueError, anyio.WouldBlock):
                log.warning("notification LISTEN: payload %r dropped", payload)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass  # this connection is being replaced

        try:
            connection.add_termination_listener(lambda _conn: lost.set())
            self.server_pid = connection.get_server_pid()
            await connection.add_listener(CHANNEL, on_notify)
            self.connected = True
            # Whatever was inserted while nobody listened (after a reconnect; at the first start
            # the highest id is the starting point, so nothing old is replayed).
            await self._catch_up()
            if not self._started:
                self._started = True
                task_status.started()
            async with anyio.create_task_group() as tg:

                async def watch() -> None:
                    await until_lost(connection, lost)
                    tg.cancel_scope.cancel()

                tg.start_soon(watch)
                async for first in receive:
                    ids = [first]
                    while True:
                        try:
                            ids.append(receive.receive_nowait())
                        except anyio.WouldBlock:
                            break
                    await self._deliver_ids(ids)
        finally:
            send.close()
            receive.close()
        raise OSError("the server closed the LISTEN connection")

    async def _max_id(self) -> int:
        async with self._store.read() as uow:
            found = await uow.connection.scalar(sa.select(sa.func.max(notification.c.id)))
        return int(found or 0)

    async def _catch_up(self) -> None:
        async with self._store.read() as uow:
            rows = (
                await uow.connection.execute(
                    sa.select(notification.c.id, notification.c.content)
                    .where(notification.c.id > self._highest)
                    .order_by(notification.c.id)
                    .limit(CATCH_UP_LIMIT)
                )
            ).all()
        self._hand_over((int(row.id), row.content) for row in rows)

    async def _deliver_ids(self, ids: list[int]) -> None:
        wanted = sorted({i for i in ids if i not in self._seen_set})
        if not wanted:
            return
        async with self._store.read() as uow:
            rows = (
                await uow.connection.execute(
                    sa.select(notification.c.id, notification.c.content)
                    .where(notification.c.id.in_(wanted))
                    .order_by(notification.c.id)
                )
            ).all()
        self._hand_over((int(row.id), row.content) for row in rows)

    def _hand_over(self, rows: Iterable[tuple[int, Any]]) -> None:
        for row_id, content in rows:
            if row_id in self._seen_set:
                continue
            if len(self._seen) == self._seen.maxlen:
                self._seen_set.discard(self._seen[0])
            self._seen.append(row_id)
            self._seen_set.add(row_id)
            self._highest = max(self._highest, row_id)
            if not isinstance(content, dict):
                continue
            frame = dict(content)
            frame.setdefault("type", "notification")
            self.delivered += 1
            try:
                self._deliver(frame)
            except Exception:
                log.exception("notification frame not delivered")


async def _close(connection: asyncpg.Connection) -> None:
    try:
        with anyio.move_on_after(2):
            await connection.close()
    except Exception:
        connection.terminate()
