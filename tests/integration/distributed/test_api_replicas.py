"""Two API processes with ``server.notification_source: postgresql``: a WebSocket client of the
second sees, through PostgreSQL LISTEN/NOTIFY, an execution requested through the first."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
import websockets.asyncio.client

from attune_core.config import Settings
from tests.integration.distributed.cluster import (
    Cluster,
    api_client,
    api_up,
    create_identity,
    free_port,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]


@pytest.mark.timeout(180)
async def test_a_client_of_api_2_sees_an_execution_run_through_api_1(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    environ = {**environ, "ATTUNE__SERVER__NOTIFICATION_SOURCE": "postgresql"}
    await create_identity(environ)
    ports = [free_port(), free_port()]
    async with Cluster(settings, environ) as cluster:
        for port in ports:
            cluster.environ = {**environ, "ATTUNE__SERVER__PORT": str(port)}
            cluster.start("api")
        cluster.environ = environ
        cluster.start("executor")
        cluster.start("worker", "w")
        api_1, api_2 = (f"http://127.0.0.1:{port}" for port in ports)
        async with api_client(api_1) as http:
            await api_up(http, api_2)
            token = http.headers["Authorization"].removeprefix("Bearer ")
            ws_url = api_2.replace("http", "ws", 1) + f"/ws?token={token}"
            async with websockets.asyncio.client.connect(ws_url) as ws:
                assert json.loads(await ws.recv())["type"] == "welcome"
                await ws.send(json.dumps({"type": "subscribe", "filter": "entity_type:execution"}))
                assert json.loads(await ws.recv())["type"] == "subscribed"
                requested = await http.post(
                    "/api/v1/executions/execute",
                    json={"action_ref": "demo.add", "parameters": {"a": 1, "b": 2}},
                )
                assert requested.status_code == 201, requested.text
                execution_id = requested.json()["data"]["id"]
                statuses: list[str] = []
                frame: dict[str, Any] = {}
                with anyio.fail_after(60):
                    while frame.get("payload", {}).get("status") != "completed":
                        frame = json.loads(await ws.recv())
                        if frame.get("entity_id") == execution_id:
                            statuses.append(frame["payload"].get("status"))
        assert frame["type"] == "notification"
        assert frame["entity_type"] == "execution"
        assert frame["entity_id"] == execution_id
        # Each change once, in order: requested ... completed.
        assert statuses[-1] == "completed"
        assert len(statuses) == len(set(statuses)), statuses
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
