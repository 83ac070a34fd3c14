"""The notifier as its own service (distributed mode): ``/ws`` alone, on ``server.notifier_port``.

Rules of this file:

1. The service serves the same WebSocket endpoint as the API (``install_websocket``), fed by
   the same :class:`NotificationHub` from the bus (``notification.created``) or PostgreSQL
   LISTEN (``server.notification_source``); tokens are
   checked by the API's :func:`authenticate` against the same database, so a token from
   ``POST /auth/login`` works here unchanged.
2. ``GET /health`` answers ``{"status": "ok", "service": "notifier"}``; nothing else is served.
3. :func:`serve_notifier` opens the database and RabbitMQ from the settings unless the caller
   passes a store and a bus (the all-in-one server's, in tests); what it opens it closes.
4. Run it with ``python -m attune_services.notifier`` (SIGTERM/SIGINT stop it gracefully).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from quart import Quart, Response, jsonify

from attune_core.clock import SystemClock
from attune_core.config import Settings
from attune_core.ports import Bus
from attune_core.storage import Store
from attune_services.api._auth import authenticate
from attune_services.api._context import ApiContext
from attune_services.notifier._hub import NotificationHub
from attune_services.notifier._ws import install_websocket
from attune_services.run import Running, bind, serve_app

__all__ = ["create_notifier_app", "main", "serve_notifier"]

log = logging.getLogger(__name__)


def create_notifier_app(ctx: ApiContext) -> Quart:
    """A Quart app with ``/ws`` (fed by ``ctx.hub``) and ``/health``."""
    assert ctx.hub is not None
    app = Quart("attune-notifier")

    async def check(header: str | None, token: str | None) -> None:
        await authenticate(ctx, header, token)

    install_websocket(app, ctx.hub, check)

    @app.get("/health")
    async def health() -> Response:
        return jsonify({"status": "ok", "service": "notifier"})

    return app


@asynccontextmanager
async def _resources(
    settings: Settings, store: Store | None, bus: Bus | None
) -> AsyncIterator[tuple[Store, Bus]]:
    async with AsyncExitStack() as stack:
        if store is None:
            opened = await Store.from_settings(settings.database)
            stack.push_async_callback(opened.close)
            store = opened
        if bus is None:
            from attune_services.services import open_bus

            connected = await open_bus(settings)
            stack.push_async_callback(connected.close)
            bus = connected
        yield store, bus


async def serve_notifier(
    settings: Settings,
    *,
    store: Store | None = None,
    bus: Bus | None = None,
    task_status: anyio.abc.TaskStatus[Running] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the notifier on ``server.host:server.notifier_port`` until cancelled."""
    sock = bind(settings.server.host, settings.server.notifier_port)
    host, port = sock.getsockname()[:2]
    try:
        async with _resources(settings, store, bus) as (store_, bus_):
            hub = NotificationHub(bus_)
            ctx = ApiContext.build(settings, store_, bus_, SystemClock(), hub=hub)
            app = create_notifier_app(ctx)
            async with anyio.create_task_group() as tg:
                from attune_services.services import notification_feed

                await tg.start(notification_feed(settings, store_, hub))
                await tg.start(serve_app, app, sock)
                url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
                log.info("attune notifier listening on %s/ws", url)
                task_status.started(Running(url=url, host=host, port=port, ctx=ctx))
                await anyio.sleep_forever()
    finally:
        sock.close()


async def _serve_until_signal(settings: Settings) -> None:
    async with anyio.create_task_group() as tg:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            running: Running = await tg.start(serve_notifier, settings)
            print(f"attune notifier: {running.url.replace('http', 'ws')}/ws", flush=True)
            async for signum in signals:
                log.info("attune notifier: %s received, stopping", signal.Signals(signum).name)
                tg.cancel_scope.cancel()
                break


def main(argv: Any = None) -> None:
    """``python -m attune_services.notifier``: settings from the environment and config file."""
    from attune_core.config import load_settings
    from attune_services.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log, service="notifier")
    anyio.run(_serve_until_signal, settings)
