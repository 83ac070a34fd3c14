"""Distributed mode: an executor and two workers as separate processes on PostgreSQL and
RabbitMQ run actions and a workflow submitted from a third process, and stop gracefully."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import anyio
import pytest

from attune_core.bus import RoutingKey
from attune_core.config import Settings, load_settings
from attune_core.engine._messages import EXECUTOR_COMPLETIONS, EXECUTOR_REQUESTS, worker_queue
from attune_core.engine._timers import TIMER_QUEUE
from attune_core.model import Execution, ExecutionStatus, WorkerStatus
from attune_core.packs import register_pack
from attune_core.resources import packs_dir
from attune_core.storage import Store, create_engine, migrate
from attune_services.amqp import RabbitMQBus
from tests.conftest import POSTGRES_URL, RABBITMQ_URL, require_service

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]

DEMO_PACK = Path(__file__).resolve().parent.parent / "fixtures" / "engine" / "demo"


async def _sql(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture
async def installation(tmp_path: Path) -> AsyncIterator[tuple[Settings, dict[str, str]]]:
    """A PostgreSQL schema and a RabbitMQ name prefix of our own, migrated, packs registered."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("RabbitMQ", "127.0.0.1", 5672)
    token = secrets.token_hex(4)
    schema = f"attune_dist_{token}"
    packs_base = tmp_path / "packs"
    shutil.copytree(DEMO_PACK, packs_base / "demo")
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ATTUNE_ENV": "test",
        "ATTUNE__DATA_DIR": str(tmp_path / "data"),
        "ATTUNE__PACKS_BASE_DIR": str(packs_base),
        "ATTUNE__DATABASE__URL": POSTGRES_URL,
        "ATTUNE__DATABASE__SCHEMA": schema,
        "ATTUNE__MESSAGE_QUEUE__URL": RABBITMQ_URL,
        "ATTUNE__MESSAGE_QUEUE__NAME_PREFIX": f"test-{token}.",
        "ATTUNE__WORKER__HEARTBEAT_INTERVAL": "1",
        "ATTUNE__WORKER__HEARTBEAT_STALE_AFTER": "3",
    }
    await _sql(f'CREATE SCHEMA "{schema}"')
    settings = load_settings(environ=environ, base_dir=tmp_path)
    store = await Store.from_settings(settings.database)
    try:
        await migrate.upgrade(store.engine)
        await register_pack(store, packs_dir() / "core")
        await register_pack(store, packs_base / "demo")
    finally:
        await store.close()
    try:
        yield settings, environ
    finally:
        await _sql(f'DROP SCHEMA "{schema}" CASCADE')


def start(service: str, environ: dict[str, str], name: str | None = None) -> subprocess.Popen[str]:
    env = dict(environ)
    if name:
        env["ATTUNE__WORKER__NAME"] = name
    return subprocess.Popen(
        [sys.executable, "-m", "attune_cli", "serve", service],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def until_true(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    with anyio.fail_after(timeout):
        while not await check():  # noqa: ASYNC110 - the database is the truth, no event
            await anyio.sleep(0.1)


class Cluster:
    """The service processes of one test, plus a store and a bus to drive and inspect them.

    Leaving the ``async with`` stops every process still running with SIGTERM, deletes the
    queues the services declared and closes the connections; :meth:`stopped_cleanly` then
    says whether each stopped process exited 0 (a graceful stop).
    """

    def __init__(self, settings: Settings, environ: dict[str, str]) -> None:
        self.settings = settings
        self.environ = environ
        self.processes: list[subprocess.Popen[str]] = []
        self.killed: list[subprocess.Popen[str]] = []
        self.outputs: list[str] = []

    async def __aenter__(self) -> Cluster:
        self.store = await Store.from_settings(self.settings.database)
        queue = self.settings.message_queue
        self.bus = await RabbitMQBus.connect(queue.url, name_prefix=queue.name_prefix)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        running = [p for p in self.processes if p not in self.killed]
        for process in running:
            process.send_signal(signal.SIGTERM)
        self.outputs = [process.communicate(timeout=30)[0] for process in running]
        async with self.store.read() as uow:
            worker_ids = [w.id for w in await uow.workers.list() if w.id is not None]
        queues = [EXECUTOR_REQUESTS, EXECUTOR_COMPLETIONS, TIMER_QUEUE]
        queues += [worker_queue(worker_id)[0] for worker_id in worker_ids]
        await self.bus.delete_topology(queues)
        await self.bus.close()
        await self.store.close()

    def start(self, service: str, name: str | None = None) -> subprocess.Popen[str]:
        process = start(service, self.environ, name)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[str]) -> None:
        """SIGKILL: no goodbye, no chance to settle anything."""
        process.kill()
        process.communicate(timeout=30)
        self.killed.append(process)

    async def request(self, *executions: Execution) -> list[int]:
        """Store executions in ``requested`` and tell the executors, as the API does."""
        async with self.store.transaction() as uow:
            ids = []
            for execution in executions:
                stored = await uow.executions.create(execution)
                assert stored.id is not None
                ids.append(stored.id)
        for execution_id in ids:
            await self.bus.publish(RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution_id})
        return ids

    async def active_workers(self) -> list[int]:
        async with self.store.read() as uow:
            return [
                w.id for w in await uow.workers.list(status=WorkerStatus.ACTIVE) if w.id is not None
            ]

    def stopped_cleanly(self) -> bool:
        stopped = [p for p in self.processes if p not in self.killed]
        return all(p.returncode == 0 for p in stopped)


async def test_executor_and_two_workers_in_separate_processes(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    async with Cluster(*installation) as cluster:
        cluster.start("executor")
        cluster.start("worker", "worker-a")
        cluster.start("worker", "worker-b")
        await until_true(lambda: _count_is(cluster.active_workers(), 2))
        worker_ids = await cluster.active_workers()
        *requested, workflow = await cluster.request(
            *(Execution(action_ref="demo.add", config={"a": n, "b": 1}) for n in range(20)),
            Execution(action_ref="demo.chain", config={"a": 5, "who": "cluster"}),
        )
        await until_true(lambda: _all_terminal(cluster.store, [*requested, workflow]), 120)
        async with cluster.store.read() as uow:
            results = [await uow.executions.get(i) for i in requested]
            chain = await uow.executions.get(workflow)
        assert [r.status for r in results] == [ExecutionStatus.COMPLETED] * 20
        assert [r.result["data"]["sum"] for r in results] == [n + 1 for n in range(20)]
        assert chain.status is ExecutionStatus.COMPLETED, chain.result
        assert chain.result == {"total": 15, "greeting": "Hello, cluster (15)!\n"}
        # Both workers take work: dispatch goes to the least loaded worker with the runtime,
        # which shows once runs overlap (1 s each, all requested at once).
        overlapping = await cluster.request(
            *(Execution(action_ref="demo.wait", config={"seconds": 1}) for _ in range(6))
        )
        await until_true(lambda: _all_terminal(cluster.store, overlapping), 60)
        async with cluster.store.read() as uow:
            spread = {(await uow.executions.get(i)).worker for i in overlapping}
        assert spread == set(worker_ids)
    # SIGTERM is a graceful stop: every service exits 0.
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def _count_is(found: Awaitable[list[int]], expected: int) -> bool:
    return len(await found) == expected


async def _all_terminal(store: Store, ids: list[int]) -> bool:
    async with store.read() as uow:
        pending = await uow.executions.count(
            id=ids, status=[s for s in ExecutionStatus if not s.is_terminal]
        )
    return pending == 0


async def test_a_worker_killed_mid_run_has_its_executions_settled(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    async with Cluster(*installation) as cluster:
        cluster.start("executor")
        victim = cluster.start("worker", "worker-victim")
        await until_true(lambda: _count_is(cluster.active_workers(), 1))
        ids = await cluster.request(
            *(
                Execution(action_ref="demo.wait", config={"seconds": 8, "tag": str(n)})
                for n in range(6)
            )
        )

        async def some_running() -> bool:
            async with cluster.store.read() as uow:
                return await uow.executions.count(status=ExecutionStatus.RUNNING) > 0

        await until_true(some_running)
        cluster.kill(victim)
        cluster.start("worker", "worker-survivor")
        # The runs on the dead worker are abandoned once its heartbeat is stale (3 s); what it
        # had not started goes back to the queue and runs on the survivor (8 s each, 10 at
        # once).
        await until_true(lambda: _all_terminal(cluster.store, ids), 90)
        async with cluster.store.read() as uow:
            finished = [await uow.executions.get(i) for i in ids]
            histories = [
                await uow.execution_history.query(entity_id=i, changed_field="status") for i in ids
            ]
            workers = await uow.workers.list()
        statuses = [e.status for e in finished]
        abandoned = [e for e in finished if e.status is ExecutionStatus.ABANDONED]
        assert set(statuses) <= {ExecutionStatus.ABANDONED, ExecutionStatus.COMPLETED}
        assert abandoned, statuses
        assert all("stopped responding" in e.result["error"] for e in abandoned)
        # None finished twice: exactly one transition into a terminal status each.
        for history in histories:
            terminal = [h for h in history if ExecutionStatus(h.new_values["status"]).is_terminal]
            assert len(terminal) == 1
        by_name = {w.name: w.status for w in workers}
        assert by_name["worker-victim"] is WorkerStatus.INACTIVE
        print(
            f"\nsubmitted {len(ids)}, completed {statuses.count(ExecutionStatus.COMPLETED)}, "
            f"abandoned {len(abandoned)}, duplicates 0, lost 0"
        )
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_api_service_runs_actions_through_the_distributed_engine(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    import httpx

    settings, environ = installation
    port = free_port()
    environ = {**environ, "ATTUNE__SERVER__PORT": str(port)}
    created = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "attune_cli",
            "identity",
            "create",
            "ops@example.com",
            "--password",
            "Sup3r-secret!",
        ],
        env=environ,
        check=False,
    )
    assert created.returncode == 0, created.stderr.decode()
    async with (
        Cluster(settings, environ) as cluster,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        for service in ("api", "executor", "worker"):
            cluster.start(service)

        async def api_up() -> bool:
            try:
                return (await http.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await until_true(api_up)
        login = await http.post(
            "/auth/login", json={"login": "ops@example.com", "password": "Sup3r-secret!"}
        )
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
        requested = await http.post(
            "/api/v1/executions/execute",
            json={"action_ref": "demo.add", "parameters": {"a": 40, "b": 2}},
        )
        assert requested.status_code == 201, requested.text
        execution_id = requested.json()["data"]["id"]
        body: dict[str, Any] = {}

        async def finished() -> bool:
            nonlocal body
            body = (await http.get(f"/api/v1/executions/{execution_id}")).json()["data"]
            return body["status"] in ("completed", "failed")

        await until_true(finished, timeout=60)
        assert body["status"] == "completed", body
        assert body["result"]["data"] == {"sum": 42}
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_timer_rule_fires_through_the_sensor_service(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    from attune_core.model import Rule

    settings, environ = installation
    environ = {**environ, "ATTUNE__SENSOR__POLL_INTERVAL": "1"}
    async with Cluster(settings, environ) as cluster:
        cluster.start("sensor")
        cluster.start("executor")
        cluster.start("worker", "w")
        async with cluster.store.transaction() as uow:
            await uow.rules.create(
                Rule(
                    ref="demo.every_second",
                    pack_ref="demo",
                    label="Every second",
                    trigger_ref="core.intervaltimer",
                    trigger=(await uow.triggers.get_by_ref("core.intervaltimer")).id,
                    action_ref="demo.add",
                    action=(await uow.actions.get_by_ref("demo.add")).id,
                    trigger_params={"unit": "seconds", "interval": 1},
                    action_params={"a": 1, "b": 2},
                )
            )

        async def fired_twice() -> bool:
            async with cluster.store.read() as uow:
                done = await uow.executions.list(
                    rule_ref="demo.every_second", status=ExecutionStatus.COMPLETED
                )
            return len(done) >= 2

        await until_true(fired_twice, timeout=60)
        async with cluster.store.read() as uow:
            events = await uow.events.list(rule_ref="demo.every_second")
            runs = await uow.executions.list(rule_ref="demo.every_second")
        assert events and all(e.trigger_ref == "core.intervaltimer" for e in events)
        assert all(e.trigger_ref == "core.intervaltimer" for e in runs)
        completed = [e for e in runs if e.status is ExecutionStatus.COMPLETED]
        assert all(e.result["data"] == {"sum": 3} for e in completed)
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
