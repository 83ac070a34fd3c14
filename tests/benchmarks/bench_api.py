"""Benchmark of the REST API (issue 7). Run with ``make bench``.

The all-in-one server (Hypercorn, SQLite, in-memory bus, executor and worker) runs in this
process; the load comes from a separate process on loopback (``_http_load.py``: httpx, N
keep-alive connections, N requests in flight). Each figure is printed with a baseline measured
in the same run: ``GET /health`` (no auth, no database).

- ``GET /api/v1/executions?page_size=50``: a full page of 50 (target on 2 cores: >= 500 req/s,
  p99 <= 50 ms);
- ``POST /api/v1/executions/execute``: an inline shell action (target >= 300 req/s); the worker
  runs the executions meanwhile, in the same process, as it would in ``attune up``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from attune_core.config import load_settings
from attune_services.api._auth import create_identity
from attune_services.run import Running, run_all_in_one

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio]

LOAD = Path(__file__).with_name("_http_load.py")
CONCURRENCY = 4
DURATION = 5.0
SEED_EXECUTIONS = 60
USER = ("bench@test.local", "BenchPass123!")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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


async def load(
    url: str,
    token: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    concurrency: int = CONCURRENCY,
) -> dict[str, Any]:
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
    ]
    if body is not None:
        command += ["--body", json.dumps(body)]
    result = await anyio.run_process(command, env={**os.environ, "ATTUNE_BENCH_TOKEN": token})
    figures: dict[str, Any] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    return figures


def line(name: str, figures: dict[str, Any]) -> str:
    return (
        f"{name:<45} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
        f"p99 {figures['p99_ms']:6.1f} ms  ({figures['requests']} requests, "
        f"{figures['errors']} errors, {figures['concurrency']} in flight)"
    )


async def test_api_throughput(server: Running) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        login = await http.post("/auth/login", json={"login": USER[0], "password": USER[1]})
        token = login.json()["data"]["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        pack = "benchapi"
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
        with anyio.fail_after(300):  # measure an idle server: the seeds have finished
            while True:
                page = await http.get("/api/v1/executions", params={"page_size": 100})
                statuses = {e["status"] for e in page.json()["items"]}
                if statuses <= {"completed", "failed"}:
                    break
                await anyio.sleep(0.2)
        assert len(page.json()["items"]) == SEED_EXECUTIONS

        health = await load(server.url, token, "GET", "/health")
        listing = await load(server.url, token, "GET", "/api/v1/executions?page_size=50")
        execute = await load(
            server.url,
            token,
            "POST",
            "/api/v1/executions/execute",
            {"action_ref": f"{pack}.noop"},
        )
        print()
        print(line("baseline: GET /health", health))
        print(line("GET /api/v1/executions (page of 50)", listing))
        print(line("POST /api/v1/executions/execute", execute))
        assert health["errors"] == listing["errors"] == execute["errors"] == 0
