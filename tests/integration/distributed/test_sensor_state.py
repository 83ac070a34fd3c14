"""A sensor's status and log, recorded by the sensor host (``attune serve sensor``) in the
database, are served by an API process on another "machine" (real processes, PostgreSQL +
RabbitMQ)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from attune_core.config import Settings
from attune_core.engine._sensors import stored_sensor_state
from attune_core.model import Rule
from attune_core.packs import register_pack
from tests.integration.distributed.cluster import (
    Cluster,
    api_client,
    create_identity,
    free_port,
    until_true,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]

SENSORS_PACK = Path(__file__).resolve().parents[2] / "fixtures" / "engine" / "sensors"


@pytest.mark.timeout(180)
async def test_the_api_serves_the_status_and_log_a_remote_sensor_host_recorded(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    await create_identity(environ)
    port = free_port()
    environ = {
        **environ,
        "ATTUNE__SENSOR__POLL_INTERVAL": "1",
        "ATTUNE__SENSOR__LEASE_TTL": "3",
        "ATTUNE__SERVER__PORT": str(port),
    }
    async with Cluster(settings, environ) as cluster:
        shutil.copytree(SENSORS_PACK, settings.packs_base_dir / "sensors")
        await register_pack(cluster.store, settings.packs_base_dir / "sensors")
        async with cluster.store.transaction() as uow:
            greeting = await uow.triggers.get_by_ref("sensors.greeting")
            noop = await uow.actions.get_by_ref("core.noop")
            await uow.rules.create(
                Rule(
                    ref="demo.on_greeting",
                    pack_ref="demo",
                    label="On greeting",
                    trigger_ref="sensors.greeting",
                    trigger=greeting.id,
                    action_ref="core.noop",
                    action=noop.id,
                )
            )
        cluster.start("sensor")
        cluster.start("api")

        stored: dict[str, Any] = {}

        async def recorded() -> bool:
            async with cluster.store.read() as uow:
                found = await stored_sensor_state(uow, "sensors.greeter")
            stored.update(found or {})
            return bool(found and found["status"]["state"] == "running" and found["log"])

        await until_true(recorded, 90)
        assert stored["status"]["pid"]
        assert any("[host] started" in line for line in stored["log"]), stored["log"]

        async with api_client(f"http://127.0.0.1:{port}") as http:
            response = await http.get("/api/v1/sensors/sensors.greeter/logs")
            assert response.status_code == 200, response.text
            data = response.json()["data"]
        assert data["status"]["state"] == "running"
        assert data["status"]["pid"] == stored["status"]["pid"]
        assert data["logs"] and data["logs"][0] == stored["log"][0]
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
