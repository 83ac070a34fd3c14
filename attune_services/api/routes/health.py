"""Health probes (no authentication)."""

from __future__ import annotations

import sqlalchemy as sa

from attune_core import __version__
from attune_services.api import _models as m
from attune_services.api._errors import error_response
from attune_services.api._routing import Call
from attune_services.api.routes._registry import api

T = "health"


async def _database_ok(call: Call) -> bool:
    try:
        async with call.ctx.store.read() as uow:
            await uow.connection.execute(sa.text("SELECT 1"))
    except Exception:
        return False
    return True


@api.route(
    "GET", "/health", summary="Liveness summary", tag=T, public=True, response=m.HEALTH, kind="bare"
)
async def health(call: Call) -> object:
    return {"status": "ok", "database": None, "version": None}


@api.route(
    "GET",
    "/health/detailed",
    summary="Status with database",
    tag=T,
    public=True,
    response=m.HEALTH,
    kind="bare",
)
async def health_detailed(call: Call) -> object:
    ok = await _database_ok(call)
    return {
        "status": "ok" if ok else "degraded",
        "database": "connected" if ok else "disconnected",
        "version": __version__,
    }


@api.route(
    "GET", "/health/ready", summary="Readiness", tag=T, public=True, response=m.HEALTH, kind="bare"
)
async def health_ready(call: Call) -> object:
    if not await _database_ok(call):
        return error_response(503, "SERVICE_UNAVAILABLE", "database unavailable")
    return {"status": "ok", "database": "connected"}


@api.route(
    "GET", "/health/live", summary="Liveness", tag=T, public=True, response=m.HEALTH, kind="bare"
)
async def health_live(call: Call) -> object:
    return {"status": "ok", "database": None, "version": None}
