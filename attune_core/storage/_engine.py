"""Open SQLAlchemy async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite settings and why:
- ``foreign_keys=ON``: cascades and SET NULL are part of the schema's contract.
- WAL journal: readers never block the writer (the API reads while the executor writes).
- ``BEGIN IMMEDIATE``: SQLite would otherwise start deferred and fail with "database is
  locked" when two transactions both upgrade to writing; taking the write lock up front makes
  writers queue (``busy_timeout``) instead.

The store's units of work on SQLite do not use this async engine but synchronous connections
called inline (``_connections.py``); the async engine serves migrations and tools.

PostgreSQL: an optional ``schema`` becomes the connection's ``search_path``; tests use it to give
every test its own schema (queries never name a schema). A connection taken from the pool is
pinged first (a server restart leaves dead connections in the pool) with one round trip
(``;``): SQLAlchemy's own pre-ping wraps it in BEGIN and ROLLBACK for pgbouncer's transaction
mode, three round trips per unit of work.

JSON columns are encoded with orjson (``json_dumps`` / ``json_loads``): a workflow's state is
rewritten on every event of the workflow and holds every with_items result, so encoding is a
real part of the engine's time; the standard library's json is the fallback for what orjson
does not take (integers beyond 64 bits).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

from attune_core.errors import ConfigError

__all__ = ["create_engine", "json_dumps", "json_loads", "normalise_url"]

SQLITE_BUSY_TIMEOUT_MS = 30_000  # writers queue this long behind another writer


def json_dumps(value: Any) -> str:
    """The JSON text of a column value (orjson; the standard library for what it refuses)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: integers beyond 64 bits, odd types
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """The value of a JSON column's text (see :func:`json_dumps`)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL and pick the async driver Attune uses for its dialect."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise ConfigError(
            f"malformed database URL {str(url)!r}: {exc}; expected e.g. "
            "sqlite+aiosqlite:////var/lib/attune/attune.db or "
            "postgresql+asyncpg://user@host:5432/attune"
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ConfigError(
        f"unsupported database {backend!r} in URL {parsed.render_as_string(hide_password=True)}; "
        "Attune runs on SQLite (embedded) or PostgreSQL 15+"
    )


def create_engine(
    url: str | URL,
    *,
    schema: str | None = None,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    echo: bool = False,
) -> AsyncEngine:
    """Create (but do not connect) an async engine configured for Attune."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Check a pooled PostgreSQL connection in one round trip; a dead one is replaced (the
    pool retries the checkout with a new connection on ``DisconnectionError``)."""
    try:
        await_(dbapi_connection.driver_connection.fetchrow(";"))
    except Exception as exc:
        raise sa.exc.DisconnectionError(f"pooled connection is dead: {exc}") from exc


def _sqlite_engine(url: URL, *, echo: bool) -> AsyncEngine:
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit transactions cannot BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
