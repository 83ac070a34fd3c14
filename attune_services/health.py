"""Health probes of the services that serve no HTTP otherwise: ``attune serve executor``,
``worker`` and ``sensor`` (the API and the notifier answer ``/health`` on their own port).

Rules of this file:

1. Served only when ``server.health_address`` (``host:port``) is set, by a small Quart app on
   Hypercorn (:func:`attune_services.run.serve_app`), next to the service in its process.
2. ``GET /health`` and ``GET /health/live``: 200 while the process's event loop answers.
   ``GET /health/ready``: 200 when the database answers a query (within
   :data:`CHECK_TIMEOUT`), the message broker connection is up and the service says it is
   ready (a worker once registered); else 503 with what is wrong. Both bodies name the
   service, and the readiness body adds what the service reports (a worker: its id and name).
3. A probe never changes anything and needs no token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.abc
import sqlalchemy as sa
from quart import Quart, Response, jsonify

from attune_core.storage import Store

__all__ = ["CHECK_TIMEOUT", "Readiness", "create_health_app", "serve_health"]

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # seconds the database may take to answer a readiness probe

# What a service reports for its readiness: a problem (None when ready) and details to show.
Readiness = Callable[[], tuple[str | None, Mapping[str, Any]]]


def create_health_app(
    service: str,
    store: Store,
    broker_connected: Callable[[], bool],
    readiness: Readiness | None = None,
) -> Quart:
    """The probes of ``service`` (rule 2); ``readiness``: what the service itself reports."""
    app = Quart(f"attune-{service}-health")

    async def live() -> Response:
        return jsonify({"status": "ok", "service": service})

    app.add_url_rule("/health", "health", live)
    app.add_url_rule("/health/live", "live", live)

    @app.get("/health/ready")
    async def ready() -> tuple[Response, int]:
        problems: list[str] = []
        database = "connected"
        try:
            with anyio.fail_after(CHECK_TIMEOUT):
                async with store.read() as uow:
                    await uow.connection.execute(sa.text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready", told as is
            database = "disconnected"
            problems.append(f"database unavailable: {exc or type(exc).__name__}")
        broker = "connected" if broker_connected() else "disconnected"
        if broker != "connected":
            problems.append("message broker unavailable")
        problem, details = readiness() if readiness is not None else (None, {})
        if problem:
            problems.append(problem)
        body = {
            "status": "unavailable" if problems else "ok",
            "service": service,
            "database": database,
            "message_queue": broker,
            **details,
        }
        if problems:
            body["problems"] = problems
        return jsonify(body), 503 if problems else 200

    return app


async def serve_health(
    address: str,
    app: Quart,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on ``address`` (``host:port``) until cancelled."""
    from attune_services.run import bind, serve_app

    host, _, port = address.rpartition(":")
    sock = bind(host.strip("[]"), int(port))
    try:
        bound_host, bound_port = sock.getsockname()[:2]
        log.info("health probes on http://%s:%s/health", bound_host, bound_port)
        await serve_app(app, sock, task_status=task_status)
    finally:
        sock.close()
