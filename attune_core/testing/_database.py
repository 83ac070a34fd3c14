"""Throwaway databases for tests: an isolated, migrated Store that is dropped afterwards.

PostgreSQL isolation is by schema: each temporary store gets ``attune_test_<random>``, set as
its connections' ``search_path``, so tests run in parallel on one server. SQLite isolation is
by file.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from attune_core.clock import utcnow
from attune_core.storage import Store, create_engine, migrate, normalise_url

__all__ = ["temporary_store"]


@asynccontextmanager
async def temporary_store(
    url: str = "sqlite",
    *,
    now: Callable[[], datetime] = utcnow,
    directory: str | Path | None = None,
    migrate_schema: bool = True,
) -> AsyncIterator[Store]:
    """Yield a Store on a fresh, migrated database; drop it when the block ends.

    Args:
        url: ``"sqlite"`` for a temporary SQLite file, or a PostgreSQL URL of a server where
            a throwaway schema may be created.
        now: the clock stamped on rows (pass ``FakeClock().now`` for deterministic times).
        directory: where the SQLite file goes (default: a new temporary directory).
        migrate_schema: run the migrations (``False`` yields an empty database).
    """
    if url == "sqlite":
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            store = await Store.open(f"sqlite+aiosqlite:///{tmp}/attune.db", now=now)
            try:
                if migrate_schema:
                    await migrate.upgrade(store.engine)
                yield store
            finally:
                await store.close()
        return

    schema = f"attune_test_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(url), pool_size=1, max_overflow=0)
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        store = await Store.open(url, schema=schema, now=now, pool_size=5, max_overflow=5)
        try:
            if migrate_schema:
                await migrate.upgrade(store.engine)
            yield store
        finally:
            await store.close()
            async with admin.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.dispose()
