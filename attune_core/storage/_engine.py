"""Open SQLAlchemy async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite settings and why:
- ``foreign_keys=ON``: cascades and SET NULL are part of the schema's contract.
- WAL journal: readers never block the writer (the API reads while the executor writes).
- ``BEGIN IMMEDIATE`` for write transactions: SQLite would otherwise start deferred and fail
  with "database is locked" when two transactions both upgrade to writing; taking the write
  lock up front makes writers queue (``busy_timeout``) instead. Read-only units of work use a
  plain ``BEGIN``.

PostgreSQL: an optional ``schema`` becomes the connection's ``search_path``; tests use it to give
every test its own schema (queries never name a schema).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from attune_core.errors import ConfigError

__all__ = ["READ_ONLY", "create_engine", "normalise_url"]

# Execution option marking a read-only unit of work (SQLite: plain BEGIN, no write lock).
READ_ONLY = "attune_read_only"

SQLITE_BUSY_TIMEOUT_MS = 30_000  # writers queue this long behind another writer


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
    return create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL, *, echo: bool) -> AsyncEngine:
    engine = create_async_engine(
        url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
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
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
