"""Logs while an execution runs, distributed: the worker is its own process with its own data
directory (the API cannot read its files), the API gets notifications through PostgreSQL
LISTEN/NOTIFY. The first line of a running action is served by the API's SSE stream before
the action ends, masked; once it ended, its stderr is served from the database."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa

from attune_core.config import Settings
from attune_core.storage.tables import notification
from tests.integration.api.test_live_logs import MASK, SCRIPT, TOKEN, _follow, _until
from tests.integration.distributed.cluster import Cluster, free_port, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]


@pytest.mark.timeout(180)
async def test_a_running_actions_output_reaches_an_api_on_another_data_dir(
    installation: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, environ = installation
    environ = {**environ, "ATTUNE__SERVER__NOTIFICATION_SOURCE": "postgresql"}
    created = await anyio.run_process(
        [
            *(sys.executable, "-m", "attune_cli", "identity", "create", "ops@example.com"),
            *("--password", "Sup3r-secret!"),
        ],
        env=environ,
        check=False,
    )
    assert created.returncode == 0, created.stderr.decode()
    port = free_port()
    gate = tmp_path / "gate"
    async with Cluster(settings, environ) as cluster:
        cluster.environ = {**environ, "ATTUNE__SERVER__PORT": str(port)}
        cluster.start("api")
        cluster.environ = environ
        cluster.start("executor")
        # the worker keeps its log files elsewhere: what the API shows comes from the database
        cluster.environ = {**environ, "ATTUNE__DATA_DIR": str(tmp_path / "worker-data")}
        cluster.start("worker", "w")
        cluster.environ = environ
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            async def up() -> bool:
                try:
                    return (await http.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await until_true(up, 90)
            login = await http.post(
                "/auth/login", json={"login": "ops@example.com", "password": "Sup3r-secret!"}
            )
            http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
            action = await http.post(
                "/api/v1/actions",
                json={
                    "ref": "demo.gated",
                    "pack_ref": "demo",
                    "label": "Gated",
                    "entrypoint": SCRIPT,
                    "runtime_ref": "core.shell",
                    "param_schema": {
                        "who": {"type": "string", "required": True},
                        "token": {"type": "string", "secret": True},
                        "gate": {"type": "string", "required": True},
                    },
                },
            )
            assert action.status_code == 201, action.text
            requested = await http.post(
                "/api/v1/executions/execute",
                json={
                    "action_ref": "demo.gated",
                    "parameters": {"who": "cluster", "token": TOKEN, "gate": str(gate)},
                },
            )
            assert requested.status_code == 201, requested.text
            execution_id = requested.json()["data"]["id"]
            base = f"/api/v1/executions/{execution_id}"
            events: list[tuple[str, dict[str, Any]]] = []
            async with anyio.create_task_group() as tg:
                tg.start_soon(_follow, http, f"{base}/logs/stdout/stream", events)

                async def whole_secret_streamed() -> bool:
                    text = "".join(d["content"] for n, d in events if n == "chunk")
                    return "first line for cluster" in text and text.count(MASK) == 2

                await _until(whole_secret_streamed, "the first lines in the SSE stream", 60)
                status = (await http.get(base)).json()["data"]["status"]
                assert status == "running"
                so_far = (await http.get(f"{base}/logs/stdout")).json()["data"]
                assert so_far["complete"] is False
                assert so_far["content"].startswith("first line for cluster\n")
                gate.touch()
            final = [d for n, d in events if n == "message"][-1]
            # The worker's stderr.log is on its own data dir, here on the same machine: gone,
            # as for an API on another machine. The API serves the final stderr the worker
            # stored with the outcome (and the streamed rows are gone).
            shutil.rmtree(tmp_path / "worker-data" / "logs")
            stderr = (await http.get(f"{base}/logs/stderr")).json()["data"]
            assert (stderr["content"], stderr["complete"]) == ("warming up\n", True)
            tail = (await http.get(f"{base}/logs/stderr", params={"offset": 8})).json()["data"]
            assert tail["content"] == "up\n"
            async with cluster.store.read() as uow:
                rows = await uow.execution_logs.read(execution_id, "stdout")
            assert rows == []
            # the chunks were announced like every change (the recorder stored the frames
            # that PostgreSQL NOTIFY announced to the API)
            async with cluster.store.read() as uow:
                announced = await uow.connection.scalar(
                    sa.select(sa.func.count())
                    .select_from(notification)
                    .where(
                        notification.c.channel == "execution_log",
                        notification.c.entity == str(execution_id),
                    )
                )
            assert announced >= 1
    assert final["status"] == "completed"
    assert final["content"].endswith("last line\n")
    streamed = "".join(d["content"] for n, d in events if n == "chunk")
    assert TOKEN not in streamed and TOKEN[:7] not in streamed
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
