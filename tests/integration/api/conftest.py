"""A real all-in-one server (Hypercorn on a free loopback port) per test module and backend.

The server runs in the test's event loop; tests talk to it over HTTP with httpx (and over a
WebSocket with the ``websockets`` client). Modules share one server per backend (starting one
costs migrations), so tests use unique refs and never assume an empty database.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from attune_core.config import load_settings
from attune_core.storage import create_engine
from attune_services.api._auth import create_identity
from attune_services.run import Running, run_all_in_one
from tests.conftest import POSTGRES_URL, require_service

ADMIN = ("admin@test.local", "AdminPass123!")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        return POSTGRES_URL
    return "sqlite"


async def _sql(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def server(
    api_backend: str, tmp_path_factory: pytest.TempPathFactory, anyio_backend: str
) -> AsyncIterator[Running]:
    tmp = tmp_path_factory.mktemp("api")
    environ = {
        "ATTUNE__DATA_DIR": str(tmp / "data"),
        "HOME": str(tmp),
        "ATTUNE__SERVER__PORT": "0",
        "ATTUNE__SECURITY__ALLOW_SELF_REGISTRATION": "true",
        # small, so a test can exceed it with a body the loopback socket buffers whole
        "ATTUNE__SERVER__REQUEST_BODY_LIMIT": str(256 * 1024),
    }
    schema = None
    if api_backend != "sqlite":
        schema = f"attune_test_{secrets.token_hex(6)}"
        await _sql(f'CREATE SCHEMA "{schema}"')
        environ |= {"ATTUNE__DATABASE__URL": api_backend, "ATTUNE__DATABASE__SCHEMA": schema}
    settings = load_settings(env="test", environ=environ, base_dir=tmp)
    try:
        async with anyio.create_task_group() as tg:
            running: Running = await tg.start(run_all_in_one, settings)
            await create_identity(running.ctx.store, ADMIN[0], ADMIN[1], roles=["core.admin"])
            yield running
            tg.cancel_scope.cancel()
    finally:
        if schema is not None:
            await _sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
async def anon(server: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def login(client: httpx.AsyncClient, user: str, password: str) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"login": user, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.fixture(scope="module")
async def admin(server: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        tokens = await login(client, *ADMIN)
        client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield client


def unique(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


async def make_pack(client: httpx.AsyncClient, ref: str | None = None) -> str:
    ref = ref or unique("pk")
    response = await client.post(
        "/api/v1/packs", json={"ref": ref, "label": ref, "version": "1.0.0"}
    )
    assert response.status_code == 201, response.text
    return ref


async def wait_for_status(
    client: httpx.AsyncClient, execution_id: int, *, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll until the execution reaches a terminal status."""
    terminal = {"completed", "failed", "cancelled", "timeout", "abandoned"}
    with anyio.fail_after(timeout):
        while True:
            response = await client.get(f"/api/v1/executions/{execution_id}")
            data: dict[str, Any] = response.json()["data"]
            if data["status"] in terminal:
                return data
            await anyio.sleep(0.05)


__all__ = ["Path"]
