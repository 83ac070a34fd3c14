"""The buses under test: the same contract suite runs on InMemoryBus and on RabbitMQBus.

A *harness* hands out clients of one broker and looks inside it where the Bus port does not
(queued messages, dead letters, cutting a connection). For the in-memory bus the "broker" is the
``InMemoryBus`` object itself: every client is that object, and there is no connection to cut,
so the reconnect and persistence tests check that nothing is lost without a failure to survive.

RabbitMQ isolation: each test gets a random name prefix for its exchanges and queues (no vhost
needed, safe under pytest-xdist) and deletes everything it declared when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal, Protocol

import anyio
import pytest

from attune_core.bus import Envelope, InMemoryBus
from attune_core.ports import Bus
from attune_services.amqp import RabbitMQBus
from tests.conftest import RABBITMQ_URL, REQUIRE_SERVICES, require_service

# Small, so the poison test needs only three deliveries.
MAX_DELIVERIES = 3
RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672

Cut = Literal["server", "network"]


class Harness(Protocol):
    kind: str
    bus: Bus

    async def client(self, *, breakable: bool = False) -> Bus:
        """Another client of the same broker (``breakable``: its network can be cut)."""
        ...

    async def close_client(self, bus: Bus) -> None:
        """Close a client as a process that stops would."""
        ...

    async def cut(self, bus: Bus, how: Cut) -> None:
        """Lose ``bus``'s connection: closed by the broker, or a network failure."""
        ...

    async def assert_reconnected(self, bus: Bus) -> None:
        """Every cut of ``bus``'s connection was followed by a reconnect."""
        ...

    async def queued(self, queue: str) -> int:
        """Messages ready in ``queue``."""
        ...

    async def dead_letters(self, queue: str) -> list[Envelope]: ...


class MemoryHarness:
    kind = "memory"

    def __init__(self) -> None:
        self.memory = InMemoryBus(max_deliveries=MAX_DELIVERIES)
        self.bus: Bus = self.memory

    async def client(self, *, breakable: bool = False) -> Bus:
        return self.memory

    async def close_client(self, bus: Bus) -> None:
        return None

    async def cut(self, bus: Bus, how: Cut) -> None:
        return None  # in one process there is no connection to lose

    async def assert_reconnected(self, bus: Bus) -> None:
        return None

    async def queued(self, queue: str) -> int:
        return len(self.memory.queued(queue))

    async def dead_letters(self, queue: str) -> list[Envelope]:
        return list(self.memory.dead_letters)


class FlakyProxy:
    """A TCP proxy in front of RabbitMQ whose connections the test can cut (a network failure:
    sockets reset, then new connections refused for a while)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._refuse_until = 0.0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self._refuse_until:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            sink.transport.abort()
            self._writers.discard(sink)

    def cut(self, *, down_for: float) -> None:
        """Reset every proxied connection and refuse new ones for ``down_for`` seconds."""
        self._refuse_until = asyncio.get_running_loop().time() + down_for
        for writer in list(self._writers):
            writer.transport.abort()

    async def aclose(self) -> None:
        self.cut(down_for=0)
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class RabbitMQHarness:
    kind = "rabbitmq"
    # A network failure lasts this long: the client's reconnect attempts fail meanwhile.
    OUTAGE = 1.0

    def __init__(self) -> None:
        self.prefix = f"attune-test.{uuid.uuid4().hex[:12]}."
        self._clients: list[RabbitMQBus] = []
        self._names: dict[RabbitMQBus, str] = {}
        self._proxy: FlakyProxy | None = None
        self._cuts: dict[RabbitMQBus, int] = {}
        self.bus: Bus

    async def start(self) -> None:
        self.bus = await self.client()

    async def client(
        self, *, breakable: bool = False, operation_timeout: float = 20
    ) -> RabbitMQBus:
        url = RABBITMQ_URL
        if breakable:
            if self._proxy is None:
                self._proxy = FlakyProxy(RABBITMQ_HOST, RABBITMQ_PORT)
                await self._proxy.start()
            url = RABBITMQ_URL.replace(f":{RABBITMQ_PORT}/", f":{self._proxy.port}/")
        name = f"{self.prefix}client-{len(self._clients)}"
        bus = await RabbitMQBus.connect(
            url,
            max_deliveries=MAX_DELIVERIES,
            name_prefix=self.prefix,
            connection_name=name,
            operation_timeout=operation_timeout,
            reconnect_interval=0.1,
        )
        self._clients.append(bus)
        self._names[bus] = name
        return bus

    async def close_client(self, bus: Bus) -> None:
        assert isinstance(bus, RabbitMQBus)
        await bus.close()

    async def cut(self, bus: Bus, how: Cut) -> None:
        assert isinstance(bus, RabbitMQBus)
        self._cuts[bus] = self._cuts.get(bus, 0) + 1
        if how == "network":
            assert self._proxy is not None, "cut(network) needs a client(breakable=True)"
            self._proxy.cut(down_for=self.OUTAGE)
            return
        await _close_connection_on_broker(self._names[bus])

    async def assert_reconnected(self, bus: Bus) -> None:
        assert isinstance(bus, RabbitMQBus)
        cuts = self._cuts.get(bus, 0)
        assert cuts > 0

        async def reconnected() -> bool:
            return bus.reconnects >= cuts

        await eventually(reconnected)

    async def queued(self, queue: str) -> int:
        assert isinstance(self.bus, RabbitMQBus)
        return await self.bus.queued_count(queue)

    async def dead_letters(self, queue: str) -> list[Envelope]:
        assert isinstance(self.bus, RabbitMQBus)
        return await self.bus.dead_letters(queue)

    async def aclose(self) -> None:
        """Close the clients, then delete every queue any of them declared and the exchanges.

        Closing first: a client still reconnecting would otherwise restore what was deleted.
        """
        queues = {name for bus in self._clients for name in bus.declared_queues}
        for bus in self._clients:
            with contextlib.suppress(Exception):
                await bus.close()
        if self._proxy is not None:
            await self._proxy.aclose()
        cleaner = await RabbitMQBus.connect(RABBITMQ_URL, name_prefix=self.prefix)
        try:
            await cleaner.delete_topology(sorted(queues))
        finally:
            await cleaner.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    """Wait until ``check()`` is true: the broker settles some things (requeue on a consumer's
    departure, dead-lettering) just after the call that caused them returned."""
    with anyio.fail_after(timeout):
        while True:
            if await check():
                return
            await anyio.sleep(0.02)


async def _close_connection_on_broker(connection_name: str) -> None:
    """``rabbitmqctl close_connection`` on the one connection named ``connection_name``."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        message = "rabbitmqctl is not on PATH: cannot close a connection from the broker side"
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    listing = await anyio.run_process(
        [rabbitmqctl, "list_connections", "-s", "pid", "client_properties"]
    )
    wanted = f'{{"connection_name","{connection_name}"}}'
    pids = [
        line.split("\t", 1)[0] for line in listing.stdout.decode().splitlines() if wanted in line
    ]
    assert len(pids) == 1, f"expected one connection named {connection_name}: {pids}"
    await anyio.run_process([rabbitmqctl, "close_connection", pids[0], "attune contract test"])


@pytest.fixture(params=["memory", "rabbitmq"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """The bus under test and a look inside its broker."""
    if request.param == "memory":
        yield MemoryHarness()
        return
    require_service("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT)
    rabbit = RabbitMQHarness()
    await rabbit.start()
    try:
        yield rabbit
    finally:
        await rabbit.aclose()


@pytest.fixture
async def rabbit() -> AsyncIterator[RabbitMQHarness]:
    """RabbitMQ only: for what the in-memory bus has no equivalent of."""
    require_service("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT)
    harness = RabbitMQHarness()
    await harness.start()
    try:
        yield harness
    finally:
        await harness.aclose()
