"""``attune up --distributed``: the five services as processes on PostgreSQL + RabbitMQ; log in,
run an action, Ctrl-C stops them all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from attune_core.config import Settings
from tests.integration.distributed.cluster import Cluster, free_port, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]


@pytest.mark.timeout(240)
async def test_up_distributed_runs_an_action_and_stops_on_ctrl_c(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    port = free_port()
    environ = {
        **environ,
        "ATTUNE_ENV": "development",  # the development identity, as `attune up` has it
        "ATTUNE__SERVER__NOTIFIER_PORT": str(free_port()),
    }
    async with Cluster(settings, environ):  # cleans the queues up afterwards
        up = _spawn(["up", "--distributed", "--port", str(port)], environ)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

                async def api_up() -> bool:
                    try:
                        return (await http.get("/health")).status_code == 200
                    except httpx.TransportError:
                        return up.poll() is not None  # stop waiting if it died

                await until_true(api_up, 120)
                assert up.poll() is None
                login = await http.post(
                    "/auth/login", json={"login": "test@attune.local", "password": "TestPass123!"}
                )
                assert login.status_code == 200, login.text
                http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
                requested = await http.post(
                    "/api/v1/executions/execute",
                    json={"action_ref": "demo.add", "parameters": {"a": 40, "b": 2}},
                )
                assert requested.status_code == 201, requested.text
                execution_id = requested.json()["data"]["id"]
                body: dict[str, object] = {}

                async def finished() -> bool:
                    nonlocal body
                    body = (await http.get(f"/api/v1/executions/{execution_id}")).json()["data"]
                    return body["status"] in ("completed", "failed")

                await until_true(finished, 90)
                assert body["status"] == "completed", body
                assert body["result"]["data"] == {"sum": 42}  # type: ignore[index]
                # The stand-alone notifier answers on its own port, once it has started
                # (the services start side by side: an action can complete before it is up).
                notifier = f"http://127.0.0.1:{environ['ATTUNE__SERVER__NOTIFIER_PORT']}/health"

                async def notifier_up() -> bool:
                    try:
                        return (await http.get(notifier)).status_code == 200
                    except httpx.TransportError:
                        return False

                await until_true(notifier_up, 60)
        finally:
            up.send_signal(signal.SIGINT)  # Ctrl-C
            output, _ = up.communicate(timeout=90)
    pids = {name: int(pid) for name, pid in re.findall(r"^\s+(\w+)\s+pid (\d+)$", output, re.M)}
    assert set(pids) == {"api", "executor", "worker", "sensor", "notifier"}, output
    assert up.returncode == 0, output
    assert "all services stopped" in output
    for name, pid in pids.items():
        assert not _alive(pid), f"{name} (pid {pid}) is still there"
    # Each service stopped on its own SIGTERM: their graceful-stop lines are in the output.
    for name in pids:
        assert f"[{name}]" in output


async def test_up_distributed_needs_postgresql_and_rabbitmq(tmp_path: Path) -> None:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ATTUNE__DATA_DIR": str(tmp_path / "data"),
    }
    result = await anyio.run_process(
        [sys.executable, "-m", "attune_cli", "up", "--distributed"], env=environ, check=False
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "needs PostgreSQL" in stderr
    assert "ATTUNE__DATABASE__URL" in stderr


def _spawn(args: list[str], environ: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "attune_cli", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()
