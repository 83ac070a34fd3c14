"""The health probes of the services without HTTP of their own (executor, worker, sensor),
served over real HTTP: live while the process answers, ready only when the database and the
broker are there and the service says so."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy.engine import make_url

from attune_core.config import DatabaseSettings
from attune_core.storage import Store, create_engine
from attune_services.health import create_health_app, serve_health
from tests.conftest import POSTGRES_URL, require_service
from tests.integration.distributed.cluster import free_port

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Hypercorn serves on asyncio


async def _admin(*statements: str) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture
async def own_database() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (a probe is then shown it go away)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"attune_health_{secrets.token_hex(4)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield str(make_url(POSTGRES_URL).set(database=name))
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgresql
async def test_probes_say_live_and_ready_and_name_what_is_missing(own_database: str) -> None:
    broker = {"up": True}
    registered: dict[str, Any] = {"id": None}

    def readiness() -> tuple[str | None, Mapping[str, Any]]:
        problem = None if registered["id"] else "not registered yet"
        return problem, {"worker": {"id": registered["id"], "name": "w-1"}}

    port = free_port()
    store = await Store.from_settings(DatabaseSettings(url=own_database))
    try:
        async with anyio.create_task_group() as tg:
            app = create_health_app("worker", store, lambda: broker["up"], readiness)
            await tg.start(serve_health, f"127.0.0.1:{port}", app)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for path in ("/health", "/health/live"):
                    live = await http.get(path)
                    assert (live.status_code, live.json()) == (
                        200,
                        {"status": "ok", "service": "worker"},
                    )
                waiting = await http.get("/health/ready")
                assert waiting.status_code == 503
                assert waiting.json()["problems"] == ["not registered yet"]
                registered["id"] = 7
                ready = await http.get("/health/ready")
                assert ready.status_code == 200
                assert ready.json() == {
                    "status": "ok",
                    "service": "worker",
                    "database": "connected",
                    "message_queue": "connected",
                    "worker": {"id": 7, "name": "w-1"},
                }
                # The broker connection lost, the database refusing connections.
                broker["up"] = False
                name = make_url(own_database).database
                await _admin(
                    f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false',
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}'",
                )
                down = await http.get("/health/ready")
                assert down.status_code == 503
                body = down.json()
                assert (body["status"], body["database"], body["message_queue"]) == (
                    "unavailable",
                    "disconnected",
                    "disconnected",
                )
                assert body["problems"][1:] == ["message broker unavailable"]
                assert body["problems"][0].startswith("database unavailable: ")
                assert (await http.get("/health/live")).status_code == 200
            tg.cancel_scope.cancel()
    finally:
        await store.close()
