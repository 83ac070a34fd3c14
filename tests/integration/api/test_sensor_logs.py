"""GET /api/v1/sensors/{ref}/logs in the all-in-one server: the sensor host's log and status."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import httpx
import pytest

pytestmark = pytest.mark.anyio

FIXTURE = Path(__file__).parents[3] / "web" / "e2e" / "packs" / "webupload"


async def test_a_running_sensor_log_and_status(admin: httpx.AsyncClient, tmp_path: Path) -> None:
    pack_dir = tmp_path / "webupload"
    shutil.copytree(FIXTURE, pack_dir)
    registered = await admin.post(
        "/api/v1/packs/register", json={"path": str(pack_dir), "force": True, "skip_tests": True}
    )
    assert registered.status_code in (200, 201), registered.text
    idle = (await admin.get("/api/v1/sensors/webupload.greeter/logs")).json()["data"]
    assert idle["status"]["state"] == "stopped"
    rule = await admin.post(
        "/api/v1/rules",
        json={
            "ref": "webupload.on_greeting",
            "pack_ref": "webupload",
            "label": "On greeting",
            "trigger_ref": "webupload.greeting",
            "action_ref": "core.noop",
        },
    )
    assert rule.status_code == 201, rule.text
    data: dict[str, object] = {}
    with anyio.fail_after(30):
        while True:
            data = (await admin.get("/api/v1/sensors/webupload.greeter/logs")).json()["data"]
            if any("greeter is listening" in line for line in data["logs"]):  # type: ignore[attr-defined]
                break
            await anyio.sleep(0.2)
    assert data["status"]["state"] == "running"  # type: ignore[index]
    assert data["status"]["pid"]  # type: ignore[index]
    assert (await admin.delete("/api/v1/rules/webupload.on_greeting")).status_code == 200
