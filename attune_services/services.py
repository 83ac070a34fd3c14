"""The engine's services as separate processes (distributed mode): executor and worker.

Rules of this file:

1. One function per service; each opens the database and the RabbitMQ bus from the settings,
   runs until cancelled (SIGTERM/SIGINT in `attune serve`), then closes both. Nothing here
   decides anything: the services are those of `attune_core.engine`, unchanged.
2. Distributed mode needs a broker: an empty ``message_queue.url`` is a configuration error
   here (the in-memory bus cannot reach other processes).
"""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from sqlalchemy import event

from attune_core.clock import SystemClock
from attune_core.config import Settings
from attune_core.engine._analytics import RetentionJob
from attune_core.engine._events import EventIntake
from attune_core.engine._executor import Executor
from attune_core.engine._inquiries import InquiryMonitor
from attune_core.engine._leases import LeaseKeeper
from attune_core.engine._notifier import NotificationRecorder, Notifier
from attune_core.engine._reconcile import Reconciler
from attune_core.engine._sensors import SensorHost
from attune_core.engine._timers import TimerHost
from attune_core.engine._worker_service import WorkerService
from attune_core.engine._workers import WorkerMonitor
from attune_core.errors import ConfigError
from attune_core.security import SecretBox
from attune_core.storage import Store
from attune_services.amqp import RabbitMQBus
from attune_services.health import Readiness, create_health_app, serve_health
from attune_services.notifier import NotificationHub

__all__ = [
    "SERVICES",
    "open_bus",
    "serve",
    "serve_api",
    "serve_executor",
    "serve_notifier",
    "serve_sensor",
    "serve_worker",
]

log = logging.getLogger(__name__)


async def open_bus(settings: Settings) -> RabbitMQBus:
    """Connect to the broker named by ``message_queue.url``."""
    queue = settings.message_queue
    if queue.in_memory:
        raise ConfigError(
            "message_queue.url is empty: separate services need RabbitMQ "
            "(set ATTUNE__MESSAGE_QUEUE__URL, e.g. amqp://guest:guest@127.0.0.1:5672/)"
        )
    return await RabbitMQBus.connect(
        queue.url,
        name_prefix=queue.name_prefix,
        connect_timeout=queue.connect_timeout,
        heartbeat=queue.heartbeat,
    )


class Traffic:
    """What this process asked of the database and the broker, for operators and benchmarks.

    Logged (``attune.traffic`` lines) when the service stops and on ``SIGUSR1``. Database round
    trips are counted as the driver makes them on PostgreSQL with asyncpg: one per statement,
    one for ``BEGIN`` and one for ``COMMIT``/``ROLLBACK`` per transaction, and one per ping (a
    pooled connection idle for more than a second is pinged before use, to find dead
    connections after a database restart; one in continuous use is not). A read
    (``Store.read``) runs in autocommit: asyncpg sends it no ``BEGIN`` and no ``ROLLBACK``.
    The catalogue listener's own connection (a keepalive statement every 10 s while quiet) is
    not counted.
    """

    def __init__(self, store: Store, bus: RabbitMQBus) -> None:
        self.bus = bus
        self.statements = 0
        self.transactions = 0
        self._store = store
        self._pings_before = store.pings
        engine = store.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._on_statement)
        event.listen(engine, "begin", self._on_begin)

    def _on_statement(self, *_args: Any) -> None:
        self.statements += 1

    def _on_begin(self, connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.transactions += 1

    @property
    def pings(self) -> int:
        return self._store.pings - self._pings_before

    @property
    def round_trips(self) -> int:
        return self.statements + 2 * self.transactions + self.pings

    def log(self, service: str) -> None:
        published = dict(sorted(self.bus.published.items()))
        log.info(
            "attune.traffic %s: round_trips=%d statements=%d transactions=%d pings=%d "
            "published=%d %s",
            service,
            self.round_trips,
            self.statements,
            self.transactions,
            self.pings,
            sum(published.values()),
            json.dumps(published),
            extra={"service": service},
        )


# The traffic counters of the service(s) running in this process (see serve()).
_traffic: list[Traffic] = []


@asynccontextmanager
async def _resources(
    settings: Settings,
) -> AsyncIterator[tuple[Store, RabbitMQBus, Notifier]]:
    store = await Store.from_settings(settings.database)
    try:
        bus = await open_bus(settings)
        traffic = Traffic(store, bus)
        _traffic.append(traffic)
        # Every change this process commits is announced on the bus (notification.created),
        # whichever service made it: the API's notifier hubs fan them out to WebSocket clients.
        notifier = Notifier(bus, store.now, linger=settings.message_queue.notification_linger)
        store.on_commit(notifier.on_commit)
        try:
            yield store, bus, notifier
        finally:
            _traffic.remove(traffic)
            with anyio.CancelScope(shield=True):
                await bus.close()
    finally:
        with anyio.CancelScope(shield=True):
            await store.close()


async def serve_executor(
    settings: Settings, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Run an executor (any number may run at once) until cancelled."""
    async with _resources(settings) as (store, bus, notifier):
        clock = SystemClock()
        executor = Executor(
            store, bus, clock, secret_box=SecretBox(settings.security.encryption_key)
        )
        monitor = WorkerMonitor(
            store,
            bus,
            clock,
            stale_after=settings.worker.heartbeat_stale_after,
            interval=settings.worker.heartbeat_interval,
        )
        # Inquiry expiry and retention are conditional updates and batched deletes: safe to
        # run in every executor process.
        inquiries = InquiryMonitor(store, bus, clock)
        retention = RetentionJob(store, clock, settings.retention)
        # Every executor stores notifications; they share one queue, so each is stored once.
        recorder = NotificationRecorder(store, bus)
        # Messages lost between a commit and its publish: hints only, safe in every executor.
        reconciler = Reconciler(
            store,
            bus,
            clock,
            stale_after=settings.message_queue.reconcile_after,
            interval=settings.message_queue.reconcile_interval,
        )
        async with anyio.create_task_group() as tg:
            await _start_health(tg, settings, "executor", store, bus)
            await tg.start(notifier.publish_lingering)
            tg.start_soon(monitor.run)
            tg.start_soon(reconciler.run)
            await tg.start(inquiries.run)
            await tg.start(retention.run)
            await tg.start(recorder.run)
            await _run(executor.run, task_status, notifier)


async def serve_worker(
    settings: Settings, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Run a worker (its name from ``worker.name``, else the host name) until cancelled."""
    async with _resources(settings) as (store, bus, notifier):
        worker = WorkerService(
            store, bus, SystemClock(), settings, stop_grace=settings.worker.stop_grace_period
        )

        def readiness() -> tuple[str | None, Mapping[str, Any]]:
            info = {"worker": {"id": worker.worker_id, "name": worker.name}}
            return (None if worker.worker_id is not None else "not registered yet"), info

        async with anyio.create_task_group() as tg:
            await _start_health(tg, settings, "worker", store, bus, readiness)
            await _run(worker.run, task_status, notifier)


async def _start_health(
    tg: anyio.abc.TaskGroup,
    settings: Settings,
    service: str,
    store: Store,
    bus: RabbitMQBus,
    readiness: Readiness | None = None,
) -> None:
    """Serve the health probes of ``service`` on ``server.health_address``, if set."""
    if not settings.server.health_address:
        return
    app = create_health_app(service, store, lambda: bus.connected, readiness)
    await tg.start(serve_health, settings.server.health_address, app)


async def _run(
    service: Callable[..., Awaitable[Any]],
    task_status: anyio.abc.TaskStatus[None],
    notifier: Notifier,
) -> None:
    async with anyio.create_task_group() as tg:
        await tg.start(notifier.publish_lingering)
        await tg.start(service)
        task_status.started()


async def serve_sensor(
    settings: Settings, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Run a sensor host: timers of timer rules and custom sensor processes.

    Any number may run at once: they share the timers and sensors through leases in the
    database (``sensor.lease_ttl``); one that dies has its share taken over.
    """
    async with _resources(settings) as (store, bus, notifier):
        clock = SystemClock()
        leases = LeaseKeeper(store, ttl=settings.sensor.lease_ttl)
        box = SecretBox(settings.security.encryption_key)
        # One intake for the timers and the sensors: their events share transactions, and
        # the executions they request that need only a worker are dispatched from there.
        intake = EventIntake(
            store,
            bus,
            clock,
            secret_box=box,
            place=Executor(store, bus, clock).place,
            announce=settings.message_queue.announce_events,
        )
        timers = TimerHost(
            store,
            bus,
            clock,
            poll_interval=settings.sensor.poll_interval,
            secret_box=box,
            leases=leases,
            intake=intake,
        )
        sensors = SensorHost(store, bus, clock, settings, leases=leases, intake=intake)
        async with anyio.create_task_group() as tg:
            await _start_health(tg, settings, "sensor", store, bus)
            await tg.start(notifier.publish_lingering)
            await tg.start(timers.run)
            await tg.start(sensors.run)
            task_status.started()


async def serve_api(
    settings: Settings, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Run the REST API and its WebSocket notifier (any number behind a load balancer)."""
    from attune_services.api import ApiContext, create_app
    from attune_services.api._auth import ensure_builtin_sets, ensure_dev_identity
    from attune_services.run import bind, serve_app

    async with _resources(settings) as (store, bus, notifier):
        await ensure_builtin_sets(store)
        await ensure_dev_identity(store, settings.env)
        hub = NotificationHub(bus)
        ctx = ApiContext.build(settings, store, bus, SystemClock(), hub=hub)
        sock = bind(settings.server.host, settings.server.port)
        async with anyio.create_task_group() as tg:
            await tg.start(notifier.publish_lingering)
            await tg.start(notification_feed(settings, store, hub))
            await tg.start(serve_app, create_app(ctx), sock)
            task_status.started()


async def serve_notifier(
    settings: Settings, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Run the WebSocket notifier alone on ``server.notifier_port`` (default 8081)."""
    from attune_services.notifier.service import serve_notifier as run_notifier

    async with anyio.create_task_group() as tg:
        await tg.start(run_notifier, settings)
        task_status.started()


def notification_feed(
    settings: Settings, store: Store, hub: NotificationHub
) -> Callable[..., Awaitable[None]]:
    """What feeds ``hub`` (``server.notification_source``): the bus, or PostgreSQL LISTEN."""
    if settings.server.notification_source == "postgresql":
        from attune_services.pg_notify import PgNotificationSource

        return PgNotificationSource(settings.database, store, hub.publish_local).run
    return hub.run


SERVICES: dict[str, Callable[..., Awaitable[None]]] = {
    "api": serve_api,
    "notifier": serve_notifier,
    "executor": serve_executor,
    "sensor": serve_sensor,
    "worker": serve_worker,
}


async def serve(name: str, settings: Settings) -> None:
    """Run service ``name`` until SIGTERM or SIGINT, then shut down gracefully."""
    service = SERVICES[name]
    async with anyio.create_task_group() as tg:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGUSR1) as signals:
            await tg.start(service, settings)
            log.info("attune %s service running", name, extra={"service": name})
            async for signum in signals:
                if signum == signal.SIGUSR1:
                    _log_traffic(name)
                    continue
                log.info("attune %s: %s received, stopping", name, signal.Signals(signum).name)
                _log_traffic(name)
                tg.cancel_scope.cancel()
                break


def _log_traffic(name: str) -> None:
    for traffic in _traffic:
        traffic.log(name)
