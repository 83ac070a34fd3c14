"""The connections units of work run on: inline SQLite, or an async driver's, shielded.

SQLite answers a statement in microseconds from this process. Through SQLAlchemy's asyncio
layer every call also costs a greenlet, a coroutine and a driver adapter: measured, a
transaction with one lookup took ~440 us of CPU that way and ~50 us on a synchronous
connection. The embedded engine runs a dozen statements per execution, so the store's units of
work on SQLite use synchronous SQLAlchemy connections (the same dialect, types and compiled
statement cache) behind :class:`InlineConnection`. PostgreSQL's go through asyncpg behind
:class:`DriverConnection`. Both offer the calls units of work make (``execute``, ``scalar``,
``begin`` then ``commit`` / ``rollback``, ``close``, ``dialect``). Migrations and anything
else on ``Store.engine`` use the async engine directly.

Rules of this file:

1. A statement is never interrupted half-way: cancelling a driver mid-call leaves its
   connection unusable (and SQLite's write lock held). A :class:`DriverConnection` shields
   every call; an :class:`InlineConnection`'s calls do not suspend, so a cancellation lands at
   the caller's next await either way, and the transaction then rolls back cleanly.
2. Inline calls run on the event loop while SQLite answers at once. A database locked by
   another process (``SQLITE_BUSY``: a CLI or a second engine writing the same file) is waited
   for in a worker thread, with SQLite's busy timeout, never on the loop.
3. ``BEGIN`` on SQLite (deferred for reads, ``IMMEDIATE`` for writes, so a write transaction
   holds the write lock from its start) is issued here, on the driver connection;
   SQLAlchemy's own ``begin`` is bookkeeping (the pysqlite dialect sends nothing for it), and
   its commit and rollback end the transaction.
4. The inline pool never makes the loop wait: it opens another connection rather than block
   (``max_overflow=-1``); connections come back to it when a unit of work ends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from attune_core.storage._engine import json_dumps, json_loads

__all__ = ["DriverConnection", "InlineConnection", "create_inline_engine"]

T = TypeVar("T")

POOL_SIZE = 8  # connections kept open: the writer and a few concurrent readers


def create_inline_engine(url: URL) -> sa.Engine:
    """A synchronous engine on the SQLite file of ``url`` (any sqlite driver name)."""
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        poolclass=sa.QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=-1,
        # A statement retried after SQLITE_BUSY runs in a worker thread (rule 2).
        connect_args={"check_same_thread": False, "timeout": 0},
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # BEGIN is ours (rule 3)
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA busy_timeout=0")  # fail fast; wait in a thread (rule 2)
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return engine


def _busy(exc: BaseException) -> bool:
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return (
        isinstance(orig, sqlite3.OperationalError)
        and getattr(orig, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
    )


class InlineTransaction:
    """The transaction of an :class:`InlineConnection` (``commit`` / ``rollback``)."""

    def __init__(self, connection: InlineConnection, transaction: sa.RootTransaction) -> None:
        self._connection = connection
        self._transaction = transaction

    async def commit(self) -> None:
        await self._connection._run(self._transaction.commit)

    async def rollback(self) -> None:
        self._transaction.rollback()


class InlineConnection:
    """A synchronous SQLAlchemy connection to SQLite with the async calls units of work use.

    Args:
        engine: An engine of :func:`create_inline_engine`.
        read_only: Transactions are deferred (readers) rather than ``IMMEDIATE`` (writers).
        busy_timeout_ms: How long to wait for another process's write lock (rule 2).
    """

    def __init__(self, engine: sa.Engine, *, read_only: bool, busy_timeout_ms: int) -> None:
        self._busy_timeout_ms = busy_timeout_ms
        self._read_only = read_only
        self.sync_connection = engine.connect()
        driver = self.sync_connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver: sqlite3.Connection = driver

    @property
    def dialect(self) -> sa.Dialect:
        return self.sync_connection.dialect

    async def begin(self) -> InlineTransaction:
        """Start the unit of work's transaction (rule 3)."""
        await self._run(self._driver.execute, "BEGIN" if self._read_only else "BEGIN IMMEDIATE")
        try:
            return InlineTransaction(self, self.sync_connection.begin())
        except BaseException:
            self._driver.rollback()
            raise

    async def execute(
        self, statement: sa.Executable, parameters: Any = None
    ) -> sa.CursorResult[Any]:
        """Run ``statement`` as ``AsyncConnection.execute`` would."""
        return await self._run(self.sync_connection.execute, statement, parameters)

    async def scalar(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        """The first column of the first row of ``statement``'s result."""
        return await self._run(self.sync_connection.scalar, statement, parameters)

    @property
    def reusable(self) -> bool:
        """True when no transaction is open and the connection is sound: it can serve the
        next unit of work as it is."""
        connection = self.sync_connection
        return not (
            connection.closed
            or connection.invalidated
            or connection.in_transaction()
            or self._driver.in_transaction
        )

    async def close(self) -> None:
        """Return the connection to the pool (rolling back what was not committed)."""
        self.sync_connection.close()

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return function(*args)
        except (sa.exc.OperationalError, sqlite3.OperationalError) as exc:
            if not _busy(exc):
                raise
        return await self._wait_and_run(function, *args)

    async def _wait_and_run(self, function: Callable[..., T], *args: Any) -> T:
        # Another process holds the database (rule 2): wait for it off the event loop.
        self._driver.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            with anyio.CancelScope(shield=True):
                result = await anyio.to_thread.run_sync(partial(function, *args))
        finally:
            self._driver.execute("PRAGMA busy_timeout=0")
        return result


class DriverTransaction:
    """The transaction of a :class:`DriverConnection`; ending it is shielded (rule 1)."""

    def __init__(self, transaction: AsyncTransaction) -> None:
        self._transaction = transaction

    async def commit(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._transaction.commit()

    async def rollback(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._transaction.rollback()


class DriverConnection:
    """An async driver's connection (PostgreSQL), every call shielded (rule 1).

    Use :meth:`open`.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, engine: AsyncEngine) -> DriverConnection:
        """A connection of ``engine``'s pool."""
        return cls(await engine.connect())

    @property
    def dialect(self) -> sa.Dialect:
        return self._connection.dialect

    async def begin(self) -> DriverTransaction:
        """Start the unit of work's transaction."""
        with anyio.CancelScope(shield=True):
            transaction = await self._connection.begin()
        return DriverTransaction(transaction)

    async def execute(
        self, statement: sa.Executable, parameters: Any = None
    ) -> sa.CursorResult[Any]:
        """Run ``statement`` (``AsyncConnection.execute``)."""
        with anyio.CancelScope(shield=True):
            result = await self._connection.execute(statement, parameters)
        return result  # noqa: RET504 (returning inside the shield confuses type checkers)

    async def scalar(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        """The first column of the first row of ``statement``'s result."""
        with anyio.CancelScope(shield=True):
            result = await self._connection.scalar(statement, parameters)
        return result  # noqa: RET504 (returning inside the shield confuses type checkers)

    async def close(self) -> None:
        """Return the connection to the pool."""
        with anyio.CancelScope(shield=True):
            await self._connection.close()

    async def invalidate(self) -> None:
        """Discard the connection: the pool opens another instead of reusing it."""
        with anyio.CancelScope(shield=True):
            await self._connection.invalidate()
