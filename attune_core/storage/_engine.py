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
every test its own schema (queries never name a schema). A connection taken from the pool after
resting there more than ``PING_AFTER_IDLE`` seconds is pinged first, with one round trip
(``;``; SQLAlchemy's own pre-ping wraps it in BEGIN and ROLLBACK for pgbouncer's transaction
mode: three), and replaced if dead. A connection in continuous use is not pinged: a ping per
checkout was a round trip per unit of work. After a PostgreSQL restart (or a backend
terminated) such a connection fails its next statement instead; that unit of work fails, and
the failure is a disconnect for SQLAlchemy (the asyncpg dialect's ``is_disconnect``: the
driver connection is closed, as it is after ``ConnectionDoesNotExistError`` or the server's
"terminating connection"), which discards the connection and invalidates the whole pool:
every connection opened before the failure is replaced at its next checkout, so the next
units of work succeed. What the engine runs is idempotent and redelivered (the bus rules), so
one failed unit of work per process and restart costs a retry, not data.

JSON columns are encoded with orjson (``json_dumps`` / ``json_loads``): a workflow's state is
rewritten on every event of the workflow and holds every with_items result, so encoding is a
real part of the engine's time; the standard library's json is the fallback for what orjson
does not take (integers beyond 64 bits).
"""

from __future__ import annotations

import json
import time
import weakref
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

from attune_core.errors import ConfigError

__all__ = [
    "create_engine",
    "driver_connect_kwargs",
    "json_dumps",
    "json_loads",
    "normalise_url",
    "pings_sent",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000  # writers queue this long behind another writer
# A pooled PostgreSQL connection idle longer than this is pinged before use. Connections of a
# busy service come back within milliseconds and are not pinged; one left idle for a second may
# have outlived a server restart, and checking it costs one round trip, rarely.
PING_AFTER_IDLE = 1.0
_CHECKED_IN = "attune_checked_in"  # key of the pool record's info: time.monotonic() at checkin


class _PostgresEngine:
    """What Attune keeps about a PostgreSQL engine it created."""

    def __init__(self, connect_args: dict[str, Any]) -> None:
        self.connect_args = connect_args  # given to the driver besides the URL's own
        self.pings = 0  # pings sent (see _ping)


_POSTGRES: weakref.WeakKeyDictionary[sa.Engine, _PostgresEngine] = weakref.WeakKeyDictionary()


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
        # The connection used last is taken first: under a steady load the same few stay
        # busy and are never pinged (PING_AFTER_IDLE); first in, first out rotated through
        # the whole pool, each connection resting long enough to be pinged at every use.
        pool_use_lifo=True,
        connect_args=connect_args,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )
    extras = _POSTGRES[engine.sync_engine] = _PostgresEngine(connect_args)

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        _ping(dbapi_connection, record, extras)

    event.listen(engine.sync_engine, "checkout", ping)
    event.listen(engine.sync_engine, "checkin", _on_checkin)
    return engine


def pings_sent(engine: AsyncEngine) -> int:
    """How many pings the pool of ``engine`` (made by :func:`create_engine`) has sent."""
    extras = _POSTGRES.get(engine.sync_engine)
    return extras.pings if extras is not None else 0


def driver_connect_kwargs(engine: AsyncEngine) -> dict[str, Any] | None:
    """The keyword arguments of ``asyncpg.connect`` that open a connection as the pool of
    ``engine`` does (URL, credentials, ssl, ``search_path``), for a connection kept outside
    the pool; ``None`` for an engine not made by :func:`create_engine` on PostgreSQL."""
    extras = _POSTGRES.get(engine.sync_engine)
    if extras is None:
        return None
    _args, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs.update(extras.connect_args)
    # SQLAlchemy's own options, taken by its asyncpg adapter rather than by asyncpg.
    for name in ("async_creator_fn", "prepared_statement_cache_size"):
        kwargs.pop(name, None)
    kwargs.pop("prepared_statement_name_func", None)
    return dict(kwargs)


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def _ping(dbapi_connection: Any, record: Any, extras: _PostgresEngine) -> None:
    """Check a pooled PostgreSQL connection that rested more than ``PING_AFTER_IDLE`` in one
    round trip; a dead one is replaced (the pool retries the checkout with a new connection on
    ``DisconnectionError``). A connection just opened has no check-in time: not pinged."""
    checked_in = record.info.get(_CHECKED_IN)
    if checked_in is None or time.monotonic() - checked_in <= PING_AFTER_IDLE:
        return
    extras.pings += 1
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
