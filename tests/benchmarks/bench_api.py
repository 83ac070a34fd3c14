"""Benchmark of the REST API (issue 7). Run with ``make bench``.

The load comes from a separate process on loopback (``_http_load.py``: h11 over asyncio
streams, N keep-alive connections, N requests in flight). Each figure is printed with a
baseline measured in the same run, ``GET /health`` (no auth, no database), and with the CPU
the server process spent per request (user + system, all its threads): on a machine shared
with other work req/s and latencies move with the load, CPU per request much less.

Two configurations:

- all-in-one (``attune up``): Hypercorn, SQLite, in-memory bus, executor and worker in one
  process; the worker runs the executions ``execute`` requests, meanwhile, in that process;
- API only (distributed mode): ``attune serve api`` on PostgreSQL and RabbitMQ; accepted
  executions wait in the executor's queue (no executor runs), which is the configuration
  the 300 req/s target of ``execute`` is about.

Each configuration runs on the event loop its command uses: asyncio's own for ``attune up``,
uvloop for ``attune serve api``.

Workloads: ``GET /api/v1/executions?page_size=50`` (a full page of 50; target on 2 cores:
>= 500 req/s, p99 <= 50 ms) and ``POST /api/v1/executions/execute`` of an inline shell action
(target >= 300 req/s).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from attune_core.bus import RoutingKey
from attune_core.config import load_settings
from attune_core.engine._messages import EXECUTOR_REQUESTS
from attune_core.packs import register_pack
from attune_core.resources import packs_dir
from attune_core.storage import Store, create_engine, migrate
from attune_services.amqp import RabbitMQBus
from attune_services.api._auth import create_identity
from attune_services.run import Running, event_loop_options, run_all_in_one
from attune_services.services import serve_api
from tests.conftest import POSTGRES_URL, RABBITMQ_URL, require_service

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio]

LOAD = Path(__file__).with_name("_http_load.py")
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
DURATION = 5.0
WARMUP = 1.0
SEED_EXECUTIONS = 60
USER = ("bench@test.local", "BenchPass123!")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # as `attune up` runs (asyncio's own loop: it runs actions)


# `attune serve api` runs on uvloop (attune_services.run.event_loop_options)
API_LOOP = pytest.mark.parametrize("anyio_backend", [("asyncio", event_loop_options("api"))])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Running]:
    environ = {
        "ATTUNE__DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
        "ATTUNE__SERVER__PORT": "0",
    }
    settings = load_settings(env="test", environ=environ, base_dir=tmp_path)
    async with anyio.create_task_group() as tg:
        running: Running = await tg.start(run_all_in_one, settings)
        await create_identity(running.ctx.store, USER[0], USER[1], roles=["core.admin"])
        yield running
        tg.cancel_scope.cancel()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def load(
    url: str,
    token: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    concurrency: int = CONCURRENCY,
) -> dict[str, Any]:
    """Run the load generator; its figures plus ``server_cpu_ms`` per request (this process
    is the server: everything it spent while the load ran, divided by the requests served)."""
    command = [
        sys.executable,
        str(LOAD),
        url,
        method,
        path,
        "--concurrency",
        str(concurrency),
        "--duration",
        str(DURATION),
        "--warmup",
        str(WARMUP),
    ]
    if body is not None:
        command += ["--body", json.dumps(body)]
    before = _cpu_seconds()
    result = await anyio.run_process(command, env={**os.environ, "ATTUNE_BENCH_TOKEN": token})
    spent = _cpu_seconds() - before
    figures: dict[str, Any] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    # Requests during the warm-up are served too (at about the measured rate).
    served = figures["rps"] * (DURATION + WARMUP)
    figures["server_cpu_ms"] = spent * 1000 / served if served else 0.0
    return figures


def line(name: str, figures: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    ratio = f" ({figures['rps'] / baseline['rps']:.2f}x)" if baseline else "        "
    return (
        f"{name:<42} {figures['rps']:6.0f} req/s{ratio}  p50 {figures['p50_ms']:6.1f} ms  "
        f"p99 {figures['p99_ms']:6.1f} ms  server CPU {figures['server_cpu_ms']:5.2f} ms/req  "
        f"({figures['requests']} requests, {figures['errors']} errors, "
        f"{figures['concurrency']} in flight)"
    )


async def _prepare(url: str, pack: str) -> str:
    """Log in, create an inline shell action and ``SEED_EXECUTIONS`` executions of it;
    returns the access token."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        login = await http.post("/auth/login", json={"login": USER[0], "password": USER[1]})
        token: str = login.json()["data"]["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        assert (
            await http.post("/api/v1/packs", json={"ref": pack, "label": pack, "version": "1.0.0"})
        ).status_code == 201
        action = await http.post(
            "/api/v1/actions",
            json={
                "ref": f"{pack}.noop",
                "pack_ref": pack,
                "label": "noop",
                "entrypoint": "true",
                "runtime_ref": "core.shell",
            },
        )
        assert action.status_code == 201, action.text
        for _ in range(SEED_EXECUTIONS):
            started = await http.post(
                "/api/v1/executions/execute", json={"action_ref": f"{pack}.noop"}
            )
            assert started.status_code == 201, started.text
    return token


async def _measure(url: str, token: str, pack: str, title: str) -> None:
    health = await load(url, token, "GET", "/health")
    listing = await load(url, token, "GET", "/api/v1/executions?page_size=50")
    execute = await load(
        url, token, "POST", "/api/v1/executions/execute", {"action_ref": f"{pack}.noop"}
    )
    print(f"\n{title}")
    print(line("baseline: GET /health", health))
    print(line("GET /api/v1/executions (page of 50)", listing, health))
    print(line("POST /api/v1/executions/execute", execute, health))
    assert health["errors"] == listing["errors"] == execute["errors"] == 0


async def test_api_throughput_all_in_one(server: Running) -> None:
    pack = "benchapi"
    token = await _prepare(server.url, pack)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        with anyio.fail_after(300):  # measure an idle server: the seeds have finished
            while True:
                page = await http.get("/api/v1/executions", params={"page_size": 100})
                statuses = {e["status"] for e in page.json()["items"]}
                if statuses <= {"completed", "failed"}:
                    break
                await anyio.sleep(0.2)
        assert len(page.json()["items"]) == SEED_EXECUTIONS
    await _measure(server.url, token, pack, "all-in-one (SQLite, executor and worker in-process)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _sql(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@API_LOOP
async def test_api_throughput_api_only(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("RabbitMQ", "127.0.0.1", 5672)
    suffix = secrets.token_hex(4)
    schema = f"attune_bench_{suffix}"
    environ = {
        "HOME": str(tmp_path),
        "ATTUNE__DATA_DIR": str(tmp_path / "data"),
        # serve_api does not report the port it bound: take a free one first
        "ATTUNE__SERVER__PORT": str(_free_port()),
        "ATTUNE__DATABASE__URL": POSTGRES_URL,
        "ATTUNE__DATABASE__SCHEMA": schema,
        "ATTUNE__MESSAGE_QUEUE__URL": RABBITMQ_URL,
        "ATTUNE__MESSAGE_QUEUE__NAME_PREFIX": f"bench-{suffix}.",
    }
    settings = load_settings(env="test", environ=environ, base_dir=tmp_path)
    await _sql(f'CREATE SCHEMA "{schema}"')
    store = await Store.from_settings(settings.database)
    bus = await RabbitMQBus.connect(RABBITMQ_URL, name_prefix=f"bench-{suffix}.")
    try:
        await migrate.upgrade(store.engine)
        await register_pack(store, packs_dir() / "core")
        # The executor's queue, so that accepted executions are kept by the broker as they
        # would be with executors running (an unbound message would be dropped).
        await bus.declare_queue(EXECUTOR_REQUESTS, [RoutingKey.EXECUTION_REQUESTED])
        async with anyio.create_task_group() as tg:
            await tg.start(serve_api, settings)
            await create_identity(store, USER[0], USER[1], roles=["core.admin"])
            url = f"http://127.0.0.1:{settings.server.port}"
            pack = "benchapi"
            token = await _prepare(url, pack)
            await _measure(url, token, pack, "API only (PostgreSQL + RabbitMQ, no executor)")
            tg.cancel_scope.cancel()
    finally:
        await bus.delete_topology([EXECUTOR_REQUESTS])
        await bus.close()
        await store.close()
        await _sql(f'DROP SCHEMA "{schema}" CASCADE')
