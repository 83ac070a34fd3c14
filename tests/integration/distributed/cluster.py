"""Distributed mode: the services of an installation as separate processes on PostgreSQL and
RabbitMQ (``attune serve ...``), driven and inspected from the test process."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import anyio
import httpx

from attune_core.bus import RoutingKey
from attune_core.config import Settings, load_settings
from attune_core.engine._messages import EXECUTOR_COMPLETIONS, EXECUTOR_REQUESTS, worker_queue
from attune_core.engine._notifier import NOTIFICATION_LOG_QUEUE
from attune_core.engine._timers import TIMER_QUEUE
from attune_core.model import Execution, ExecutionStatus, WorkerStatus
from attune_core.packs import register_pack
from attune_core.resources import packs_dir
from attune_core.storage import Store, create_engine, migrate
from attune_services.amqp import RabbitMQBus
from tests.conftest import POSTGRES_URL, RABBITMQ_URL, require_service

DEMO_PACK = Path(__file__).resolve().parents[2] / "fixtures" / "engine" / "demo"


async def _sql(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@asynccontextmanager
async def new_installation(tmp_path: Path) -> AsyncIterator[tuple[Settings, dict[str, str]]]:
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
        # A test ending with actions still running stops its workers without waiting long.
        "ATTUNE__WORKER__STOP_GRACE_PERIOD": "1",
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


def start(
    service: str,
    environ: dict[str, str],
    output: IO[str],
    name: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start ``attune serve <service>``, its output (stdout and stderr) going to ``output``.

    A file, not a pipe: a pipe that nobody reads while the test runs fills up (64 KiB of
    log lines, quickly reached while a database is down), and the service then blocks in its
    next ``write`` with its whole event loop.
    """
    full = {**environ, **(env or {})}
    if name:
        full["ATTUNE__WORKER__NAME"] = name
    return subprocess.Popen(
        [sys.executable, "-m", "attune_cli", "serve", service],
        env=full,
        stdout=output,
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
        self._output_files: dict[int, IO[str]] = {}
        self._final_outputs: dict[int, str] = {}  # by pid, once the cluster stopped

    async def __aenter__(self) -> Cluster:
        self.store = await Store.from_settings(self.settings.database)
        queue = self.settings.message_queue
        self.bus = await RabbitMQBus.connect(queue.url, name_prefix=queue.name_prefix)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        running = [p for p in self.processes if p not in self.killed]
        # A SIGTERM that reaches a service still starting (importing, before its handler
        # exists) kills it with -15: let each finish starting (or fail) first.
        for process in running:
            with anyio.move_on_after(60):
                while process.poll() is None and "service running" not in self.output(process):  # noqa: ASYNC110 - output in a file
                    await anyio.sleep(0.05)
        for process in running:
            process.send_signal(signal.SIGTERM)
        self.outputs = []
        for process in running:
            process.wait(timeout=30)
            name = " ".join(str(arg) for arg in process.args[3:])  # type: ignore[index]
            output = self._final_outputs[process.pid] = self.output(process)
            self.outputs.append(f"--- {name} (exit code {process.returncode}):\n{output}")
        for file in self._output_files.values():
            file.close()
        async with self.store.read() as uow:
            worker_ids = [w.id for w in await uow.workers.list() if w.id is not None]
        # The recorders' durable queue too: left behind, every test run added a quorum queue
        # (and its dead-letter queue) to the shared broker for good.
        queues = [EXECUTOR_REQUESTS, EXECUTOR_COMPLETIONS, TIMER_QUEUE, NOTIFICATION_LOG_QUEUE]
        queues += [worker_queue(worker_id)[0] for worker_id in worker_ids]
        await self.bus.delete_topology(queues)
        await self.bus.close()
        await self.store.close()

    def start(
        self, service: str, name: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """Start ``attune serve <service>`` (a worker named ``name``), with ``env`` added to
        the cluster's environment."""
        output = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in __aexit__
        process = start(service, self.environ, output, name, env)
        self._output_files[process.pid] = output
        self.processes.append(process)
        return process

    def output(self, process: subprocess.Popen[str]) -> str:
        """What ``process`` printed so far (all of it once the cluster stopped)."""
        if process.pid in self._final_outputs:
            return self._final_outputs[process.pid]
        file = self._output_files[process.pid]
        file.seek(0)
        return file.read()

    def kill(self, process: subprocess.Popen[str]) -> None:
        """SIGKILL: no goodbye, no chance to settle anything."""
        process.kill()
        process.wait(timeout=30)
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

    async def start_workers(self, *names: str) -> list[int]:
        """Start a worker per name and wait until that many workers are active; their ids."""
        for name in names:
            self.start("worker", name)
        await until_true(lambda: count_is(self.active_workers(), len(names)))
        return await self.active_workers()

    async def active_workers(self) -> list[int]:
        async with self.store.read() as uow:
            return [
                w.id for w in await uow.workers.list(status=WorkerStatus.ACTIVE) if w.id is not None
            ]

    def stopped_cleanly(self) -> bool:
        stopped = [p for p in self.processes if p not in self.killed]
        return all(p.returncode == 0 for p in stopped)


async def count_is(found: Awaitable[list[int]], expected: int) -> bool:
    return len(await found) == expected


async def all_terminal(store: Store, ids: list[int]) -> bool:
    async with store.read() as uow:
        pending = await uow.executions.count(
            id=ids, status=[s for s in ExecutionStatus if not s.is_terminal]
        )
    return pending == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LOGIN = "ops@example.com"
PASSWORD = "Sup3r-secret!"


async def create_identity(environ: dict[str, str]) -> None:
    """Create the identity :func:`api_client` logs in with (``attune identity create``)."""
    created = await anyio.run_process(
        [sys.executable, "-m", "attune_cli", "identity", "create", LOGIN, "--password", PASSWORD],
        env=environ,
        check=False,
    )
    assert created.returncode == 0, created.stderr.decode()


async def api_up(http: httpx.AsyncClient, base_url: str, timeout: float = 90) -> None:
    """Wait until the API process at ``base_url`` answers ``/health``."""

    async def up() -> bool:
        try:
            return (await http.get(f"{base_url}/health")).status_code == 200
        except httpx.TransportError:
            return False

    await until_true(up, timeout)


@asynccontextmanager
async def api_client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the API at ``base_url``, once it is up, logged in as :data:`LOGIN`
    (made by :func:`create_identity`). Its ``token`` attribute holds the access token."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        await api_up(http, base_url)
        login = await http.post("/auth/login", json={"login": LOGIN, "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["data"]["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http
