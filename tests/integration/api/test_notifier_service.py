"""The notifier as its own service: ``/ws`` on its own port, with a real WebSocket client.

1. In process, beside the all-in-one server (sharing its store and bus): an execution started
   over the API's HTTP port is announced on the notifier's port.
2. As a separate process (``python -m attune_services.notifier``) on PostgreSQL and RabbitMQ:
   a token of the installation's identity is accepted, and a notification published on the
   broker reaches the client.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
import pytest
import websockets.asyncio.client
from websockets.exceptions import InvalidStatus

from attune_core.bus import RoutingKey
from attune_core.config import load_settings
from attune_core.security import TokenKind, TokenService
from attune_core.storage import Store, migrate
from attune_services.amqp import RabbitMQBus
from attune_services.api._auth import create_identity
from attune_services.notifier.service import serve_notifier
from attune_services.run import Running
from tests.conftest import POSTGRES_URL, RABBITMQ_URL, require_service
from tests.integration.api.conftest import _sql, make_pack, wait_for_status

pytestmark = pytest.mark.anyio


async def _frames_until(ws: Any, wanted: Any, timeout: float = 30) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if wanted(frame):
                return frame


async def test_notifier_service_announces_an_execution(
    server: Running, admin: httpx.AsyncClient
) -> None:
    settings = attrs.evolve(
        server.ctx.settings, server=attrs.evolve(server.ctx.settings.server, notifier_port=0)
    )
    async with anyio.create_task_group() as tg:
        notifier: Running = await tg.start(
            lambda task_status: serve_notifier(
                settings, store=server.ctx.store, bus=server.ctx.bus, task_status=task_status
            )
        )
        assert notifier.port != server.port
        async with httpx.AsyncClient(base_url=notifier.url) as plain:
            health = await plain.get("/health")
            assert health.json() == {"status": "ok", "service": "notifier"}
            assert (await plain.get("/api/v1/executions")).status_code == 404  # /ws alone
        url = notifier.url.replace("http", "ws", 1) + "/ws"
        with pytest.raises(InvalidStatus):
            async with websockets.asyncio.client.connect(url):
                pass
        token = admin.headers["Authorization"].split()[1]
        async with websockets.asyncio.client.connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(json.dumps({"type": "subscribe", "filter": "entity_type:execution"}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            pack = await make_pack(admin)
            created = await admin.post(
                "/api/v1/actions",
                json={
                    "ref": f"{pack}.hi",
                    "pack_ref": pack,
                    "label": "Hi",
                    "entrypoint": "echo hi",
                    "runtime_ref": "core.shell",
                },
            )
            assert created.status_code == 201, created.text
            started = await admin.post(
                "/api/v1/executions/execute", json={"action_ref": f"{pack}.hi"}
            )
            assert started.status_code == 201, started.text
            execution_id = started.json()["data"]["id"]
            frame = await _frames_until(
                ws,
                lambda f: (
                    f.get("entity_id") == execution_id
                    and f.get("payload", {}).get("status") == "completed"
                ),
            )
            assert frame["type"] == "notification"
            assert frame["entity_type"] == "execution"
            done = await wait_for_status(admin, execution_id)
            assert done["status"] == "completed"
        tg.cancel_scope.cancel()


async def test_notifier_process_on_rabbitmq(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("RabbitMQ", "127.0.0.1", 5672)
    suffix = secrets.token_hex(4)
    schema = f"attune_notifier_{suffix}"
    port = _free_port()
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ATTUNE_ENV": "test",
        "ATTUNE__DATA_DIR": str(tmp_path / "data"),
        "ATTUNE__DATABASE__URL": POSTGRES_URL,
        "ATTUNE__DATABASE__SCHEMA": schema,
        "ATTUNE__MESSAGE_QUEUE__URL": RABBITMQ_URL,
        "ATTUNE__MESSAGE_QUEUE__NAME_PREFIX": f"test-{suffix}.",
        "ATTUNE__SERVER__NOTIFIER_PORT": str(port),
        "ATTUNE__SECURITY__JWT_SECRET": secrets.token_hex(32),
    }
    await _sql(f'CREATE SCHEMA "{schema}"')
    process: subprocess.Popen[str] | None = None
    try:
        settings = load_settings(environ=environ, base_dir=tmp_path)
        store = await Store.from_settings(settings.database)
        try:
            await migrate.upgrade(store.engine)
            identity = await create_identity(store, f"ws{suffix}@test.local", "WsPass123!")
        finally:
            await store.close()
        assert identity.id is not None
        tokens = TokenService(secret=settings.security.jwt_secret)
        access = tokens.issue(identity.id, identity.login, TokenKind.ACCESS)
        process = _start_notifier(environ)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as client:
            with anyio.fail_after(30):
                while True:
                    assert process.poll() is None, process.stdout.read() if process.stdout else ""
                    try:
                        if (await client.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await anyio.sleep(0.1)
        bus = await RabbitMQBus.connect(RABBITMQ_URL, name_prefix=f"test-{suffix}.")
        try:
            async with websockets.asyncio.client.connect(
                f"ws://127.0.0.1:{port}/ws?token={access}"
            ) as ws:
                assert json.loads(await ws.recv())["type"] == "welcome"
                await ws.send(json.dumps({"type": "subscribe", "filter": "entity:execution:99"}))
                assert json.loads(await ws.recv())["type"] == "subscribed"
                frame = {
                    "notification_type": "execution_status_changed",
                    "entity_type": "execution",
                    "entity_id": 99,
                    "user_id": None,
                    "payload": {"status": "completed", "old_status": "running"},
                    "timestamp": "2026-01-01T00:00:00+00:00",
                }
                await bus.publish(RoutingKey.NOTIFICATION_CREATED, {**frame, "entity_id": 98})
                await bus.publish(RoutingKey.NOTIFICATION_CREATED, frame)
                received = await _frames_until(ws, lambda f: f.get("type") == "notification")
                assert received == {"type": "notification", **frame}
        finally:
            await bus.close()
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(15):
            while process.poll() is None:  # noqa: ASYNC110 - waiting for a child process
                await anyio.sleep(0.1)
        assert process.returncode == 0, process.stdout.read() if process.stdout else ""
    finally:
        if process is not None:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        await _sql(f'DROP SCHEMA "{schema}" CASCADE')


def _start_notifier(environ: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "attune_services.notifier"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
