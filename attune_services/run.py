"""Running the services: the all-in-one server (``attune up``) and the API on Hypercorn.

Rules of this file:

1. Everything runs in one task group owned by the caller's ``async with``/``await``; leaving it
   (Ctrl-C, cancellation) shuts Hypercorn down gracefully, then the engine, then the database.
2. Sockets are bound before Hypercorn starts, so port 0 works (tests) and the bound address is
   known and reported through ``task_status``.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.abc
import attrs
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app

from attune_core.app import Attune
from attune_core.config import Settings
from attune_services.api import ApiContext, create_app
from attune_services.api._auth import ensure_builtin_sets, ensure_dev_identity
from attune_services.notifier import NotificationHub

log = logging.getLogger(__name__)

GRACEFUL_TIMEOUT = 5.0  # seconds Hypercorn waits for open requests on shutdown

T = TypeVar("T")


# Services that never start child processes. uvloop gives a child's stdin as a socket, not a
# pipe, and actions and sensors may open /dev/stdin by path (packs/core/actions/lib/params.sh
# does), which fails on a socket (ENXIO): the worker, the sensor host and `attune up` (which
# runs both) keep asyncio's own loop.
UVLOOP_SERVICES = frozenset({"api", "executor", "notifier"})


def event_loop_options(service: str) -> dict[str, Any]:
    """anyio's asyncio options for a service process: uvloop for :data:`UVLOOP_SERVICES` where
    it is installed (a dependency on Linux and macOS). It spends ~30% less CPU per HTTP request
    than asyncio's own loop (tests/benchmarks/bench_api.py); the database and broker clients
    run on it too."""
    use = service in UVLOOP_SERVICES and importlib.util.find_spec("uvloop") is not None
    return {"use_uvloop": use}


def run_service(service: str, main: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``main(*args)`` for ``service`` in a new event loop (:func:`event_loop_options`)."""
    return anyio.run(main, *args, backend_options=event_loop_options(service))


@attrs.frozen
class Running:
    """What a started server reports: its base URL and its context."""

    url: str
    host: str
    port: int
    ctx: ApiContext
    dev_identity: str | None = None


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY: Hypercorn writes a response's headers and body
    # separately, and with Nagle the body of every keep-alive request after the first waited
    # for the client's delayed ACK (~40 ms each).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def serve_app(
    app: Any,
    sock: socket.socket,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on the bound ``sock`` until cancelled."""
    # What exists once the server is built (modules, routes, SQLAlchemy's tables and caches,
    # ~200k objects) lives as long as the process: taken out of the cyclic collector's view, a
    # full collection no longer walks it. Without this one took ~150 ms of a loaded machine's
    # CPU every few thousand requests (a pause every client saw in its p99).
    gc.collect()
    gc.freeze()
    config = Config()
    config.graceful_timeout = GRACEFUL_TIMEOUT
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 75
    # Hypercorn serves the socket bound by the caller (port 0 works) and closes it on shutdown.
    sockets = Sockets(secure_sockets=[], insecure_sockets=[sock], quic_sockets=[])
    shutdown = anyio.Event()
    stopped = anyio.Event()
    # Shielded: cancellation must not tear Hypercorn down mid-request; the shutdown trigger
    # below stops it gracefully instead, and only what outlives the grace period is cut.
    serving = anyio.CancelScope(shield=True)

    async def run() -> None:
        with serving:
            try:
                await worker_serve(
                    wrap_app(app, config.wsgi_max_body_size, None),
                    config,
                    sockets=sockets,
                    shutdown_trigger=shutdown.wait,
                )
            finally:
                stopped.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        task_status.started()
        try:
            await anyio.sleep_forever()
        finally:
            shutdown.set()
            with anyio.CancelScope(shield=True), anyio.move_on_after(GRACEFUL_TIMEOUT + 2):
                await stopped.wait()
            if not stopped.is_set():
                log.warning(
                    "the HTTP server did not stop within %.0f s (a request or stream still "
                    "open); cutting it off",
                    GRACEFUL_TIMEOUT + 2,
                )
                serving.cancel()


async def run_all_in_one(
    settings: Settings,
    *,
    packs: Sequence[str | Path] = (),
    task_status: anyio.abc.TaskStatus[Running] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """API + notifier + executor + worker (+ the engine's sensors) in this process."""
    sock = bind(settings.server.host, settings.server.port)
    host, port = sock.getsockname()[:2]
    if not settings.server.public_url or settings.server.port == 0:
        public_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        settings = attrs.evolve(
            settings,
            server=attrs.evolve(
                settings.server, port=port, public_url=f"http://{public_host}:{port}"
            ),
        )
    async with Attune.embedded(settings=settings, packs=list(packs)) as attune:
        await ensure_builtin_sets(attune.store)
        dev = await ensure_dev_identity(attune.store, settings.env)
        hub = NotificationHub(attune.bus)
        ctx = ApiContext.build(
            settings, attune.store, attune.bus, attune.clock, attune=attune, hub=hub
        )
        app = create_app(ctx)
        async with anyio.create_task_group() as tg:
            await tg.start(hub.run)
            await tg.start(serve_app, app, sock)
            task_status.started(
                Running(
                    url=settings.server.public_url,
                    host=host,
                    port=port,
                    ctx=ctx,
                    dev_identity=dev.login if dev is not None else None,
                )
            )
            await anyio.sleep_forever()
